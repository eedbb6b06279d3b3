"""The catalogue of known dynamical systems: one `System` record per system.

A record holds everything a user needs to simulate the system and to check a
reconstruction against it: the equations (as functions), default parameters,
initial condition, sampling step, transient and, where one is known, a
reference Lyapunov spectrum with its source. The equations themselves live in
`dsr.systems.flows` and `dsr.systems.maps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from dsr.errors import InputError

# vector_field(state, **params) -> derivative (flows) or next state (maps);
# state has the variables along axis 0, so several states can be stacked on
# further axes. jacobian(state, **params) -> (N, N) for a single state.
Equation = Callable[..., np.ndarray]


@dataclass(frozen=True)
class ReferenceSpectrum:
    """A published or independently computed Lyapunov spectrum and where it comes from."""

    exponents: tuple[float, ...]
    source: str


@dataclass(frozen=True)
class System:
    """A catalogued flow (ODE) or map with its defaults.

    Attributes:
        name: catalogue key, e.g. ``"lorenz63"``.
        kind: ``"flow"`` (exponents per time unit) or ``"map"`` (per iteration).
        title: human-readable name.
        description: the equations in plain text.
        equation: right-hand side of the ODE, or the map itself.
        jacobian: analytic Jacobian of `equation` with respect to the state.
        parameters: default parameter values by name.
        initial_condition: default initial state, or a function of the
            parameters for systems whose dimension is a parameter.
        dt: default sampling step (time units for flows, 1 for maps).
        transient: time (flows) or iterations (maps) dropped before sampling.
        initial_spread: standard deviation of the Gaussian perturbation added
            to the default initial condition for the second and later
            trajectories; small enough to stay in the basin of the attractor.
        lyapunov_step: integration step (time units) of the variational
            equations in `dsr lyapunov`; unused for maps.
        lyapunov_time: default averaging time (or iterations) for `dsr lyapunov`.
        reference: reference Lyapunov spectrum at the default parameters, if known.
        variables: names of the state variables, or a function of the parameters.
        integer_parameters: names of parameters that must be whole numbers
            (the dimension of Lorenz-96, for example).
        wrap_phase: index of a phase variable that is wrapped into [0, 2π)
            in simulated output, or None.
    """

    name: str
    kind: str
    title: str
    description: str
    equation: Equation
    jacobian: Equation
    parameters: Mapping[str, float]
    initial_condition: tuple[float, ...] | Callable[[Mapping[str, float]], np.ndarray]
    dt: float
    transient: float
    initial_spread: float
    lyapunov_step: float
    lyapunov_time: float
    variables: tuple[str, ...] | Callable[[Mapping[str, float]], tuple[str, ...]]
    reference: ReferenceSpectrum | None = None
    integer_parameters: frozenset[str] = field(default_factory=frozenset)
    wrap_phase: int | None = None

    def resolve_parameters(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """Return the default parameters updated by `overrides`, after checking the names and values."""
        parameters = dict(self.parameters)
        for name, value in (overrides or {}).items():
            if name not in parameters:
                known = ", ".join(sorted(parameters))
                raise InputError(f"{self.name} has no parameter {name!r}. Its parameters are: {known}.")
            value = float(value)
            if not np.isfinite(value):
                raise InputError(f"Parameter {name} of {self.name} must be finite, got {value}.")
            if name in self.integer_parameters:
                if value != int(value) or value < 1:
                    raise InputError(f"Parameter {name} of {self.name} must be a positive whole number, got {value}.")
                value = int(value)
            parameters[name] = value
        return parameters

    def default_state(self, parameters: Mapping[str, float]) -> np.ndarray:
        """Return the default initial condition for the given parameters as a float64 array."""
        if callable(self.initial_condition):
            return np.asarray(self.initial_condition(parameters), dtype=np.float64)
        return np.asarray(self.initial_condition, dtype=np.float64)

    def variable_names(self, parameters: Mapping[str, float]) -> tuple[str, ...]:
        """Return the names of the state variables for the given parameters."""
        if callable(self.variables):
            return self.variables(parameters)
        return self.variables

    def dimension(self, parameters: Mapping[str, float]) -> int:
        """Return the number of state variables for the given parameters."""
        return len(self.variable_names(parameters))


_CATALOGUE: dict[str, System] = {}


def register(system: System) -> System:
    """Add `system` to the catalogue under its name and return it."""
    if system.name in _CATALOGUE:
        raise ValueError(f"a system named {system.name!r} is registered already")
    _CATALOGUE[system.name] = system
    return system


def get_system(name: str) -> System:
    """Return the catalogued system called `name` (case and '-' are ignored)."""
    key = name.strip().lower().replace("-", "_")
    if key not in _CATALOGUE:
        known = ", ".join(sorted(_CATALOGUE))
        raise InputError(f"Unknown system {name!r}. Known systems: {known}. `dsr simulate --list` describes them.")
    return _CATALOGUE[key]


def list_systems() -> list[System]:
    """Return every catalogued system, sorted by name."""
    return [_CATALOGUE[name] for name in sorted(_CATALOGUE)]
