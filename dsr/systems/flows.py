"""Vector fields and Jacobians of the catalogued flows, and their catalogue records.

Each `*_field(state, ...)` takes the state with the variables along axis 0
(shape (N,) or (N, K) for K stacked states) and returns dx/dt of the same
shape. Each `*_jacobian(state, ...)` takes one state of shape (N,) and returns
the (N, N) matrix d(dx/dt)/dx.
"""

from __future__ import annotations

import numpy as np

from dsr.systems.catalogue import ReferenceSpectrum, System, register

SPROTT_2003 = "J. C. Sprott, Chaos and Time-Series Analysis, Oxford University Press (2003), appendix table"
QR_COMPUTED = "computed with an independent Benettin/QR implementation (RK4 on the variational equations)"


def lorenz63_field(state, sigma, rho, beta):
    x, y, z = state
    return np.array([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])


def lorenz63_jacobian(state, sigma, rho, beta):
    x, y, z = state
    return np.array([[-sigma, sigma, 0.0], [rho - z, -1.0, -x], [y, x, -beta]])


def rossler_field(state, a, b, c):
    x, y, z = state
    return np.array([-y - z, x + a * y, b + z * (x - c)])


def rossler_jacobian(state, a, b, c):
    x, y, z = state
    return np.array([[0.0, -1.0, -1.0], [1.0, a, 0.0], [z, 0.0, x - c]])


def lorenz96_field(state, N, F):
    # dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F with cyclic indices.
    return (np.roll(state, -1, axis=0) - np.roll(state, 2, axis=0)) * np.roll(state, 1, axis=0) - state + F


def lorenz96_jacobian(state, N, F):
    n = len(state)
    jacobian = -np.eye(n)
    for i in range(n):
        jacobian[i, (i + 1) % n] += state[(i - 1) % n]
        jacobian[i, (i - 2) % n] -= state[(i - 1) % n]
        jacobian[i, (i - 1) % n] += state[(i + 1) % n] - state[(i - 2) % n]
    return jacobian


def _chua_diode(x, m0, m1):
    # Piecewise-linear characteristic: slope m0 for |x| < 1, m1 outside.
    return m1 * x + 0.5 * (m0 - m1) * (np.abs(x + 1.0) - np.abs(x - 1.0))


def chua_field(state, alpha, beta, m0, m1):
    x, y, z = state
    return np.array([alpha * (y - x - _chua_diode(x, m0, m1)), x - y + z, -beta * y])


def chua_jacobian(state, alpha, beta, m0, m1):
    x = state[0]
    slope = m0 if abs(x) < 1.0 else m1
    return np.array([[-alpha * (1.0 + slope), alpha, 0.0], [1.0, -1.0, 1.0], [0.0, -beta, 0.0]])


def hindmarsh_rose_field(state, a, b, c, d, r, s, x_rest, current):
    x, y, z = state
    return np.array([
        y - a * x**3 + b * x**2 - z + current,
        c - d * x**2 - y,
        r * (s * (x - x_rest) - z),
    ])


def hindmarsh_rose_jacobian(state, a, b, c, d, r, s, x_rest, current):
    x = state[0]
    return np.array([
        [-3.0 * a * x**2 + 2.0 * b * x, 1.0, -1.0],
        [-2.0 * d * x, -1.0, 0.0],
        [r * s, 0.0, -r],
    ])


def duffing_field(state, delta, alpha, beta, gamma, omega):
    # x'' + delta x' + alpha x + beta x^3 = gamma cos(phi), with phi' = omega,
    # so the forced oscillator is an autonomous flow in (x, v, phi).
    x, v, phi = state
    return np.array([v, -delta * v - alpha * x - beta * x**3 + gamma * np.cos(phi), omega + 0.0 * phi])


def duffing_jacobian(state, delta, alpha, beta, gamma, omega):
    x, v, phi = state
    return np.array([
        [0.0, 1.0, 0.0],
        [-alpha - 3.0 * beta * x**2, -delta, -gamma * np.sin(phi)],
        [0.0, 0.0, 0.0],
    ])


def van_der_pol_field(state, mu):
    x, y = state
    return np.array([y, mu * (1.0 - x**2) * y - x])


def van_der_pol_jacobian(state, mu):
    x, y = state
    return np.array([[0.0, 1.0], [-2.0 * mu * x * y - 1.0, mu * (1.0 - x**2)]])


def thomas_field(state, b):
    x, y, z = state
    return np.array([np.sin(y) - b * x, np.sin(z) - b * y, np.sin(x) - b * z])


def thomas_jacobian(state, b):
    x, y, z = state
    return np.array([[-b, np.cos(y), 0.0], [0.0, -b, np.cos(z)], [np.cos(x), 0.0, -b]])


def halvorsen_field(state, a):
    x, y, z = state
    return np.array([
        -a * x - 4.0 * y - 4.0 * z - y**2,
        -a * y - 4.0 * z - 4.0 * x - z**2,
        -a * z - 4.0 * x - 4.0 * y - x**2,
    ])


def halvorsen_jacobian(state, a):
    x, y, z = state
    return np.array([
        [-a, -4.0 - 2.0 * y, -4.0],
        [-4.0, -a, -4.0 - 2.0 * z],
        [-4.0 - 2.0 * x, -4.0, -a],
    ])


def sprott_a_field(state):
    x, y, z = state
    return np.array([y, -x + y * z, 1.0 - y**2])


def sprott_a_jacobian(state):
    x, y, z = state
    return np.array([[0.0, 1.0, 0.0], [-1.0, z, y], [0.0, -2.0 * y, 0.0]])


def sprott_b_field(state):
    x, y, z = state
    return np.array([y * z, x - y, 1.0 - x * y])


def sprott_b_jacobian(state):
    x, y, z = state
    return np.array([[0.0, z, y], [1.0, -1.0, 0.0], [-y, -x, 0.0]])


def sprott_c_field(state):
    x, y, z = state
    return np.array([y * z, x - y, 1.0 - x**2])


def sprott_c_jacobian(state):
    x, y, z = state
    return np.array([[0.0, z, y], [1.0, -1.0, 0.0], [-2.0 * x, 0.0, 0.0]])


def sprott_d_field(state):
    x, y, z = state
    return np.array([-y, x + z, x * z + 3.0 * y**2])


def sprott_d_jacobian(state):
    x, y, z = state
    return np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 1.0], [z, 6.0 * y, x]])


def sprott_e_field(state):
    x, y, z = state
    return np.array([y * z, x**2 - y, 1.0 - 4.0 * x])


def sprott_e_jacobian(state):
    x, y, z = state
    return np.array([[0.0, z, y], [2.0 * x, -1.0, 0.0], [-4.0, 0.0, 0.0]])


XYZ = ("x", "y", "z")

register(System(
    name="lorenz63", kind="flow", title="Lorenz-63",
    description="x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz",
    equation=lorenz63_field, jacobian=lorenz63_jacobian,
    parameters={"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0},
    initial_condition=(1.0, 1.0, 1.0), dt=0.01, transient=50.0, initial_spread=1.0,
    lyapunov_step=0.01, lyapunov_time=1000.0, variables=XYZ,
    reference=ReferenceSpectrum((0.9056, 0.0, -14.5723), SPROTT_2003),
))

register(System(
    name="rossler", kind="flow", title="Rössler",
    description="x' = −y − z, y' = x + ay, z' = b + z(x − c)",
    equation=rossler_field, jacobian=rossler_jacobian,
    parameters={"a": 0.2, "b": 0.2, "c": 5.7},
    initial_condition=(1.0, 1.0, 0.0), dt=0.05, transient=200.0, initial_spread=0.5,
    lyapunov_step=0.01, lyapunov_time=3000.0, variables=XYZ,
    reference=ReferenceSpectrum((0.0714, 0.0, -5.3943), SPROTT_2003),
))

register(System(
    name="lorenz96", kind="flow", title="Lorenz-96",
    description="x_i' = (x_{i+1} − x_{i−2}) x_{i−1} − x_i + F, i = 1..N, cyclic",
    equation=lorenz96_field, jacobian=lorenz96_jacobian,
    parameters={"N": 10, "F": 8.0},
    # F plus a small kick on the first variable leaves the unstable equilibrium x_i = F.
    initial_condition=lambda p: np.r_[p["F"] + 0.01, np.full(int(p["N"]) - 1, p["F"])],
    dt=0.02, transient=50.0, initial_spread=0.5, lyapunov_step=0.01, lyapunov_time=800.0,
    variables=lambda p: tuple(f"x{i + 1}" for i in range(int(p["N"]))),
    reference=ReferenceSpectrum(
        (1.192, 0.676, 0.150, -0.005, -0.406, -0.856, -1.356, -1.944, -2.772, -4.679),
        f"N = 10, F = 8 only; {QR_COMPUTED}, T = 800",
    ),
    integer_parameters=frozenset({"N"}),
))

register(System(
    name="chua", kind="flow", title="Chua's circuit (double scroll)",
    description="x' = α(y − x − f(x)), y' = x − y + z, z' = −βy, f piecewise linear with slopes m0 (|x| < 1) and m1",
    equation=chua_field, jacobian=chua_jacobian,
    parameters={"alpha": 15.6, "beta": 28.0, "m0": -8.0 / 7.0, "m1": -5.0 / 7.0},
    initial_condition=(0.7, 0.0, 0.0), dt=0.02, transient=100.0, initial_spread=0.1,
    lyapunov_step=0.005, lyapunov_time=1500.0, variables=XYZ,
    reference=ReferenceSpectrum((0.4137, -0.0006, -4.2488), f"{QR_COMPUTED}, h = 0.005, T = 1500"),
))

register(System(
    name="hindmarsh_rose", kind="flow", title="Hindmarsh-Rose bursting neuron",
    description="x' = y − ax³ + bx² − z + I, y' = c − dx² − y, z' = r(s(x − x_R) − z)",
    equation=hindmarsh_rose_field, jacobian=hindmarsh_rose_jacobian,
    parameters={"a": 1.0, "b": 3.0, "c": 1.0, "d": 5.0, "r": 0.006, "s": 4.0, "x_rest": -1.6, "current": 3.25},
    initial_condition=(-1.0, 0.0, 3.0), dt=0.05, transient=1000.0, initial_spread=0.1,
    lyapunov_step=0.02, lyapunov_time=8000.0, variables=("x", "y", "z"),
    reference=ReferenceSpectrum((0.0126, -0.0011, -8.4083), f"{QR_COMPUTED}, h = 0.02, T = 8000"),
))

register(System(
    name="duffing", kind="flow", title="Forced Duffing oscillator",
    description="x'' + δx' + αx + βx³ = γ cos φ with φ' = ω; state (x, v, φ), φ wrapped into [0, 2π) in output",
    equation=duffing_field, jacobian=duffing_jacobian,
    parameters={"delta": 0.1, "alpha": -1.0, "beta": 1.0, "gamma": 0.35, "omega": 1.4},
    initial_condition=(1.0, 0.0, 0.0), dt=0.05, transient=200.0, initial_spread=0.1,
    lyapunov_step=0.01, lyapunov_time=4000.0, variables=("x", "v", "phi"),
    reference=ReferenceSpectrum((0.138, 0.0, -0.238), f"{QR_COMPUTED}, h = 0.01, T = 4000"),
    wrap_phase=2,
))

register(System(
    name="van_der_pol", kind="flow", title="Van der Pol oscillator (limit cycle)",
    description="x' = y, y' = μ(1 − x²)y − x",
    equation=van_der_pol_field, jacobian=van_der_pol_jacobian,
    parameters={"mu": 1.0},
    initial_condition=(1.0, 0.0), dt=0.05, transient=100.0, initial_spread=0.5,
    lyapunov_step=0.01, lyapunov_time=500.0, variables=("x", "y"),
))

register(System(
    name="thomas", kind="flow", title="Thomas' cyclically symmetric attractor",
    description="x' = sin y − bx, y' = sin z − by, z' = sin x − bz",
    equation=thomas_field, jacobian=thomas_jacobian,
    parameters={"b": 0.208186},
    initial_condition=(0.1, 0.0, 0.0), dt=0.1, transient=500.0, initial_spread=0.1,
    lyapunov_step=0.02, lyapunov_time=5000.0, variables=XYZ,
))

register(System(
    name="halvorsen", kind="flow", title="Halvorsen's cyclically symmetric attractor",
    description="x' = −ax − 4y − 4z − y², and cyclic permutations",
    equation=halvorsen_field, jacobian=halvorsen_jacobian,
    parameters={"a": 1.4},
    initial_condition=(-5.0, 0.0, 0.0), dt=0.01, transient=50.0, initial_spread=0.1,
    lyapunov_step=0.005, lyapunov_time=1000.0, variables=XYZ,
))

_SPROTT = {
    "a": ("x' = y, y' = −x + yz, z' = 1 − y² (Nosé-Hoover; conservative)", sprott_a_field, sprott_a_jacobian, (0.0, 5.0, 0.0)),
    "b": ("x' = yz, y' = x − y, z' = 1 − xy", sprott_b_field, sprott_b_jacobian, (0.05, 0.05, 0.05)),
    "c": ("x' = yz, y' = x − y, z' = 1 − x²", sprott_c_field, sprott_c_jacobian, (0.05, 0.05, 0.05)),
    "d": ("x' = −y, y' = x + z, z' = xz + 3y²", sprott_d_field, sprott_d_jacobian, (0.05, 0.05, 0.05)),
    "e": ("x' = yz, y' = x² − y, z' = 1 − 4x", sprott_e_field, sprott_e_jacobian, (0.05, 0.05, 0.05)),
}

for _letter, (_description, _field, _jacobian, _initial) in _SPROTT.items():
    register(System(
        name=f"sprott_{_letter}", kind="flow", title=f"Sprott case {_letter.upper()}",
        description=_description, equation=_field, jacobian=_jacobian, parameters={},
        initial_condition=_initial, dt=0.05, transient=200.0, initial_spread=0.01,
        lyapunov_step=0.01, lyapunov_time=2000.0, variables=XYZ,
    ))
