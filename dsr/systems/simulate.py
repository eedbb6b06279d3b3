"""Simulation of catalogued systems: flows with scipy's DOP853, maps by iteration."""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
from scipy.integrate import solve_ivp

from dsr.errors import InputError, NumericalError
from dsr.systems.catalogue import System, get_system

logger = logging.getLogger(__name__)

# DOP853 (8th-order Dormand-Prince) at these tolerances keeps the sampled
# trajectory within about 1e-8 of the true one over one sampling step, far
# below any observation noise that a reconstruction is tested with.
RELATIVE_TOLERANCE = 1e-10
ABSOLUTE_TOLERANCE = 1e-10

# A map whose state exceeds this has left its attractor for infinity.
MAP_ESCAPE_RADIUS = 1e8


def initial_conditions(
    system: System,
    parameters: Mapping[str, float],
    n_trajectories: int = 1,
    seed: int = 0,
    initial_condition: np.ndarray | None = None,
) -> np.ndarray:
    """Return K initial states, shape (K, N).

    The first is `initial_condition` (or the system's default); each further
    one adds Gaussian noise of standard deviation `system.initial_spread`,
    drawn from a generator seeded with `seed`.
    """
    if n_trajectories < 1:
        raise InputError(f"The number of trajectories must be at least 1, got {n_trajectories}.")
    base = system.default_state(parameters) if initial_condition is None else np.asarray(initial_condition, dtype=np.float64)
    dimension = system.dimension(parameters)
    if base.shape != (dimension,):
        raise InputError(
            f"The initial condition of {system.name} needs {dimension} values, got {base.size}: {base.tolist()}."
        )
    rng = np.random.default_rng(seed)
    states = np.repeat(base[None, :], n_trajectories, axis=0)
    states[1:] += system.initial_spread * rng.standard_normal((n_trajectories - 1, dimension))
    return states


def simulate(
    system: str | System,
    n_steps: int,
    dt: float | None = None,
    parameters: Mapping[str, float] | None = None,
    n_trajectories: int = 1,
    initial_condition: np.ndarray | None = None,
    transient: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Simulate a catalogued system and return its trajectories, shape (K, n_steps, N).

    Flows are integrated with scipy's DOP853 (rtol = atol = 1e-10) and sampled
    every `dt` time units after `transient` time units are dropped; maps are
    iterated, dropping `transient` iterations. All K trajectories share one
    integration (stacked states), so their samples lie on the same time grid.

    Args:
        system: catalogue name or `System` record.
        n_steps: number of samples per trajectory.
        dt: sampling step in time units; the system's default if None. Maps
            accept only 1.
        parameters: overrides of the default parameters, by name.
        n_trajectories: K; the initial conditions are described in
            `initial_conditions`.
        initial_condition: first initial state; the system's default if None.
        transient: time (flows) or iterations (maps) to drop; default from the
            catalogue.
        noise: standard deviation of additive Gaussian observation noise as a
            fraction of each variable's standard deviation (per trajectory).
        seed: seeds the initial-condition perturbations and the noise.

    Raises:
        InputError: invalid parameters, step counts or noise level.
        NumericalError: the integration failed or the state escaped to infinity.
    """
    system = get_system(system) if isinstance(system, str) else system
    resolved = system.resolve_parameters(parameters)
    dt = system.dt if dt is None else float(dt)
    transient = system.transient if transient is None else float(transient)
    _check_simulation_arguments(system, n_steps, dt, transient, noise)
    starts = initial_conditions(system, resolved, n_trajectories, seed, initial_condition)

    logger.info("simulating %s (%s), %d x %d steps, dt %g", system.name, resolved, n_trajectories, n_steps, dt)
    if system.kind == "flow":
        trajectories = _integrate_flow(system, resolved, starts, n_steps, dt, transient)
    else:
        trajectories = _iterate_map(system, resolved, starts, n_steps, int(transient))

    if system.wrap_phase is not None:
        trajectories[..., system.wrap_phase] = np.mod(trajectories[..., system.wrap_phase], 2.0 * np.pi)

    if noise > 0.0:
        # A separate stream, so that adding noise leaves the initial conditions unchanged.
        rng = np.random.default_rng([seed, 1])
        scale = noise * trajectories.std(axis=1, keepdims=True)
        trajectories = trajectories + scale * rng.standard_normal(trajectories.shape)
    return trajectories


def _check_simulation_arguments(system: System, n_steps: int, dt: float, transient: float, noise: float) -> None:
    if n_steps < 1:
        raise InputError(f"The number of steps must be at least 1, got {n_steps}.")
    if not (np.isfinite(dt) and dt > 0.0):
        raise InputError(f"The sampling step dt must be positive, got {dt}.")
    if system.kind == "map" and dt != 1.0:
        raise InputError(f"{system.name} is a map, so its sampling step is one iteration; got dt = {dt}. Leave --dt out.")
    if not (np.isfinite(transient) and transient >= 0.0):
        raise InputError(f"The transient must be zero or positive, got {transient}.")
    if not (np.isfinite(noise) and noise >= 0.0):
        raise InputError(f"The noise level is a fraction of each variable's standard deviation and must be >= 0, got {noise}.")


def _integrate_flow(system: System, parameters: dict, starts: np.ndarray, n_steps: int, dt: float, transient: float) -> np.ndarray:
    n_trajectories, dimension = starts.shape

    def field(t, stacked):
        return system.equation(stacked.reshape(dimension, n_trajectories), **parameters).reshape(-1)

    state = starts.T.reshape(-1).copy()
    if transient > 0.0:
        solution = solve_ivp(field, (0.0, transient), state, method="DOP853",
                             rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
        _check_solution(system, parameters, solution)
        state = solution.y[:, -1]

    times = dt * np.arange(n_steps)
    solution = solve_ivp(field, (0.0, times[-1]), state, method="DOP853", t_eval=times,
                         rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    _check_solution(system, parameters, solution)
    # solution.y is (N * K, T) with variables major; reorder to (K, T, N).
    return solution.y.reshape(dimension, n_trajectories, n_steps).transpose(1, 2, 0).copy()


def _check_solution(system: System, parameters: dict, solution) -> None:
    if not solution.success or not np.all(np.isfinite(solution.y)):
        raise NumericalError(
            f"Integrating {system.name} with parameters {parameters} failed: {solution.message}. "
            "The parameters may make the system diverge; try the defaults or a smaller change."
        )


def _iterate_map(system: System, parameters: dict, starts: np.ndarray, n_steps: int, transient: int) -> np.ndarray:
    state = starts.T.copy()
    trajectories = np.empty((n_steps, *state.shape))
    for step in range(transient + n_steps):
        state = system.equation(state, **parameters)
        if step >= transient:
            trajectories[step - transient] = state
        if not np.all(np.abs(state) < MAP_ESCAPE_RADIUS):
            raise NumericalError(
                f"The {system.name} map with parameters {parameters} escaped to infinity after {step + 1} iterations. "
                "Its attractor may not exist for these parameters, or the initial condition lies outside its basin."
            )
    return trajectories.transpose(2, 0, 1).copy()


def parse_sweep(specification: str) -> tuple[str, np.ndarray]:
    """Parse ``"name=start:stop:count"`` into the parameter name and `count` evenly spaced values.

    Both ends are included, as in numpy.linspace: ``"rho=24:32:5"`` gives 24, 26, 28, 30, 32.
    """
    name, separator, values = specification.partition("=")
    parts = values.split(":")
    if not separator or len(parts) != 3 or not name.strip():
        raise InputError(f"Invalid sweep {specification!r}: expected NAME=START:STOP:COUNT, for example rho=24:32:5.")
    try:
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise InputError(f"Invalid sweep {specification!r}: START and STOP must be numbers and COUNT a whole number.") from None
    if count < 1:
        raise InputError(f"Invalid sweep {specification!r}: COUNT must be at least 1.")
    return name.strip(), np.linspace(start, stop, count)


def parse_parameter_overrides(assignments: list[str]) -> dict[str, float]:
    """Parse ``["rho=30", "beta=2.5"]`` into a dict; names are checked later against the system."""
    overrides: dict[str, float] = {}
    for assignment in assignments:
        name, separator, value = assignment.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            separator = ""
        if not separator or not name.strip():
            raise InputError(f"Invalid parameter {assignment!r}: expected NAME=VALUE, for example rho=28.")
    return overrides
