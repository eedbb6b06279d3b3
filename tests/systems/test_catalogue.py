"""Catalogue records: analytic Jacobians, parameter checks and simulation basics."""

import numpy as np
import pytest

from dsr.errors import InputError, NumericalError
from dsr.systems import get_system, list_systems, parse_sweep, simulate


def finite_difference_jacobian(function, state, epsilon=1e-6):
    columns = []
    for index in range(len(state)):
        step = np.zeros_like(state)
        step[index] = epsilon
        columns.append((function(state + step) - function(state - step)) / (2 * epsilon))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("system", list_systems(), ids=lambda s: s.name)
def test_jacobian_matches_finite_differences(system):
    """Central differences with step 1e-6 are accurate to about 1e-8 for these smooth fields.

    Chua and Lozi are piecewise linear: the random states below stay away
    from their kinks with probability one, so the comparison holds there too.
    """
    parameters = system.resolve_parameters()
    rng = np.random.default_rng(1)
    for _ in range(3):
        state = system.default_state(parameters) + rng.normal(0, 0.3, system.dimension(parameters))
        analytic = system.jacobian(state, **parameters)
        numeric = finite_difference_jacobian(lambda s: system.equation(s, **parameters), state)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6)


def test_unknown_parameter_rejected():
    with pytest.raises(InputError, match="no parameter 'gamma'.*beta, rho, sigma"):
        get_system("lorenz63").resolve_parameters({"gamma": 1.0})


def test_lorenz96_dimension_must_be_whole():
    with pytest.raises(InputError, match="positive whole number"):
        get_system("lorenz96").resolve_parameters({"N": 4.5})


def test_unknown_system_lists_catalogue():
    with pytest.raises(InputError, match="Unknown system 'lorenz'.*lorenz63"):
        get_system("lorenz")


def test_simulate_shape_and_reproducibility():
    first = simulate("lorenz63", 200, n_trajectories=3, seed=4)
    second = simulate("lorenz63", 200, n_trajectories=3, seed=4)
    assert first.shape == (3, 200, 3)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first[0], first[1])


def test_lorenz96_any_dimension():
    trajectories = simulate("lorenz96", 50, parameters={"N": 6, "F": 10.0})
    assert trajectories.shape == (1, 50, 6)


def test_observation_noise_fraction():
    """Noise of 10 % of each variable's standard deviation: the residual's std is 0.1 std within 5 %."""
    clean = simulate("lorenz63", 5000)
    noisy = simulate("lorenz63", 5000, noise=0.1)
    ratio = (noisy - clean).std(axis=1) / clean.std(axis=1)
    np.testing.assert_allclose(ratio, 0.1, rtol=0.05)


def test_map_rejects_time_step():
    with pytest.raises(InputError, match="is a map"):
        simulate("henon", 10, dt=0.5)


def test_escaping_map_raises():
    with pytest.raises(NumericalError, match="escaped to infinity"):
        simulate("henon", 100, parameters={"a": 3.0})


def test_phase_is_wrapped():
    trajectories = simulate("duffing", 2000)
    assert trajectories[..., 2].min() >= 0.0
    assert trajectories[..., 2].max() < 2 * np.pi


def test_parse_sweep_includes_both_ends():
    name, values = parse_sweep("rho=24:32:5")
    assert name == "rho"
    np.testing.assert_allclose(values, [24, 26, 28, 30, 32])


@pytest.mark.parametrize("specification", ["rho", "rho=24:32", "rho=a:b:3", "=1:2:3", "rho=1:2:0"])
def test_parse_sweep_rejects_malformed(specification):
    with pytest.raises(InputError, match="sweep"):
        parse_sweep(specification)
