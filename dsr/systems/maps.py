"""The catalogued maps: their update rules, Jacobians and catalogue records.

Each `*_map(state, ...)` takes the state with the variables along axis 0 and
returns the next state; each `*_jacobian(state, ...)` returns the (N, N)
Jacobian of one state.
"""

from __future__ import annotations

import numpy as np

from dsr.systems.catalogue import ReferenceSpectrum, System, register
from dsr.systems.flows import QR_COMPUTED, SPROTT_2003


def henon_map(state, a, b):
    x, y = state
    return np.array([1.0 - a * x**2 + y, b * x])


def henon_jacobian(state, a, b):
    x = state[0]
    return np.array([[-2.0 * a * x, 1.0], [b, 0.0]])


def lozi_map(state, a, b):
    x, y = state
    return np.array([1.0 - a * np.abs(x) + y, b * x])


def lozi_jacobian(state, a, b):
    x = state[0]
    return np.array([[-a * np.sign(x), 1.0], [b, 0.0]])


def logistic_map(state, r):
    (x,) = state
    return np.array([r * x * (1.0 - x)])


def logistic_jacobian(state, r):
    (x,) = state
    return np.array([[r * (1.0 - 2.0 * x)]])


register(System(
    name="henon", kind="map", title="Hénon map",
    description="x' = 1 − ax² + y, y' = bx",
    equation=henon_map, jacobian=henon_jacobian,
    parameters={"a": 1.4, "b": 0.3},
    initial_condition=(0.1, 0.1), dt=1.0, transient=1000, initial_spread=0.05,
    lyapunov_step=1.0, lyapunov_time=200_000, variables=("x", "y"),
    reference=ReferenceSpectrum((0.4192, -1.6232), SPROTT_2003),
))

register(System(
    name="lozi", kind="map", title="Lozi map (piecewise linear)",
    description="x' = 1 − a|x| + y, y' = bx",
    equation=lozi_map, jacobian=lozi_jacobian,
    parameters={"a": 1.7, "b": 0.5},
    initial_condition=(0.1, 0.1), dt=1.0, transient=1000, initial_spread=0.05,
    lyapunov_step=1.0, lyapunov_time=200_000, variables=("x", "y"),
    reference=ReferenceSpectrum((0.4709, -1.1640), f"{QR_COMPUTED}, 2·10⁵ iterations"),
))

register(System(
    name="logistic", kind="map", title="Logistic map",
    description="x' = rx(1 − x)",
    equation=logistic_map, jacobian=logistic_jacobian,
    parameters={"r": 4.0},
    initial_condition=(0.3,), dt=1.0, transient=1000, initial_spread=0.05,
    lyapunov_step=1.0, lyapunov_time=200_000, variables=("x",),
    reference=ReferenceSpectrum((float(np.log(2.0)),), "exact: ln 2 at r = 4 (conjugate to the tent map)"),
))
