"""State-space divergence D_stsp: histogram and Gaussian-mixture forms."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from dsr.errors import InputError
from dsr.metrics import (
    state_space_divergence,
    state_space_divergence_histogram,
    state_space_divergence_mixture,
)
from tests.metrics.conftest import z_score


def dense_histogram_divergence(true, generated, n_bins=30, smoothing=1e-5, drop_lowest_bin=False):
    """D_stsp computed the direct way: dense numpy histograms, smoothed counts, KL summed over every cell."""
    spread = true.std(axis=0)
    edges = [np.linspace(low, high, n_bins + 1)
             for low, high in zip(true.min(axis=0) - 0.1 * spread, true.max(axis=0) + 0.1 * spread)]

    def smoothed(points):
        counts, _ = np.histogramdd(points, bins=edges)
        if drop_lowest_bin:
            for axis in range(counts.ndim):
                np.moveaxis(counts, axis, 0)[0] = 0.0
        return (counts + smoothing) / (counts.sum() + smoothing * counts.size)

    p, q = smoothed(true), smoothed(generated)
    return float(np.sum(p * np.log(p / q)))


# Histogram form

def test_histogram_identical_is_exactly_zero(lorenz):
    """Hypothesis: equal inputs give equal smoothed histograms, so every log ratio is log 1 = 0 exactly."""
    trajectory = z_score(lorenz)

    assert state_space_divergence_histogram(trajectory, trajectory) == 0.0
    assert state_space_divergence_histogram(trajectory, trajectory.copy()) == 0.0


@pytest.mark.parametrize("drop_lowest_bin", [False, True])
def test_histogram_matches_dense_computation(drop_lowest_bin):
    """Hypothesis: the sparse sum over visited cells plus one term for all empty cells equals the dense KL sum.

    Both sides evaluate the same formula in float64 over 4,096 cells, so they agree to rounding (1e-10
    relative). The generated cloud is shifted so that part of it falls outside the box and is dropped.
    """
    rng = np.random.default_rng(1)
    true = rng.standard_normal((2_000, 2))
    generated = 0.8 * rng.standard_normal((3_000, 2)) + np.array([0.7, -0.3])

    expected = dense_histogram_divergence(true, generated, n_bins=64, drop_lowest_bin=drop_lowest_bin)
    result = state_space_divergence_histogram(true, generated, n_bins=64, drop_lowest_bin=drop_lowest_bin)

    assert result == pytest.approx(expected, rel=1e-10)


def test_histogram_drop_lowest_bin_changes_result():
    """Hypothesis: a cloud with many points in the lowest bins scores differently once those points are dropped."""
    rng = np.random.default_rng(2)
    true = rng.standard_normal((2_000, 2))
    generated = rng.standard_normal((2_000, 2)) - 1.0

    assert state_space_divergence_histogram(true, generated, drop_lowest_bin=True) != pytest.approx(
        state_space_divergence_histogram(true, generated)
    )


def test_histogram_same_system_near_zero(lorenz, lorenz_long):
    """Hypothesis: two Lorenz-63 runs sample the same invariant measure, so D_stsp only reflects sampling noise.

    With 10,000 true points in 27,000 cells the sampling noise alone gives about 0.16 (measured against a
    30,000-step run from another initial condition); 0.3 leaves a margin of almost 2.
    """
    divergence = state_space_divergence_histogram(z_score(lorenz), z_score(lorenz_long))

    assert 0.0 <= divergence < 0.3


def test_histogram_other_system_far_larger(lorenz, lorenz_long, rossler):
    """Hypothesis: the Rössler attractor covers other cells than Lorenz-63, even after both are z-scored.

    Measured: 13.5 for Lorenz against Rössler, 0.16 for two Lorenz runs. The checks ask for more than 5
    and for at least 10 times the same-system value, far from either measurement.
    """
    same_system = state_space_divergence_histogram(z_score(lorenz), z_score(lorenz_long))
    other_system = state_space_divergence_histogram(z_score(lorenz), z_score(rossler))

    assert other_system > 5.0
    assert other_system > 10.0 * same_system


def test_histogram_generated_outside_box(caplog):
    """Hypothesis: with no generated point in the box, q is uniform 1/C, so D_stsp = Σ p log(p C).

    The expected value is computed directly from the dense true histogram; both sides agree to rounding.
    """
    rng = np.random.default_rng(3)
    true = rng.standard_normal((1_000, 2))
    generated = true + 100.0
    n_bins = 10

    counts, _, _ = np.histogram2d(true[:, 0], true[:, 1], bins=n_bins, range=_box(true))
    p = (counts + 1e-5) / (counts.sum() + 1e-5 * counts.size)
    expected = float(np.sum(p * np.log(p * counts.size)))

    with caplog.at_level(logging.WARNING, logger="dsr.metrics.state_space"):
        result = state_space_divergence_histogram(true, generated, n_bins=n_bins)

    assert result == pytest.approx(expected, rel=1e-10)
    assert "No point of the generated trajectory" in caplog.text


def test_histogram_rejects_too_many_cells():
    """30 bins in 7 dimensions are 2.2e10 cells, above the 2**27 limit; the error points to the mixture form."""
    rng = np.random.default_rng(4)
    trajectory = rng.standard_normal((100, 7))

    with pytest.raises(InputError, match="Gaussian-mixture"):
        state_space_divergence_histogram(trajectory, trajectory)


def test_histogram_two_sigma_range_needs_true_points():
    """Data far from zero has no point in [-2 s, 2 s], so its histogram would be empty."""
    rng = np.random.default_rng(5)
    trajectory = rng.standard_normal((500, 2)) + 50.0

    with pytest.raises(InputError, match="z-score"):
        state_space_divergence_histogram(trajectory, trajectory, bin_range="two_sigma")


# Gaussian-mixture form

def test_mixture_identical_is_exactly_zero(lorenz):
    """Hypothesis: equal mixtures give equal log densities at every sample, so each difference is exactly 0."""
    trajectory = z_score(lorenz)

    assert state_space_divergence_mixture(trajectory, trajectory.copy()) == 0.0


@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_mixture_single_gaussians_closed_form(sigma):
    """Hypothesis: one point per trajectory makes both mixtures single Gaussians, so KL = ‖μ‖² / (2σ²).

    Each Monte Carlo term is (‖μ‖² − 2 s·μ) / (2σ²) with s ~ N(0, σ² I), whose standard deviation is
    ‖μ‖ / σ. With 100,000 samples the standard error is ‖μ‖ / (σ √100000); the tolerance is 4 of them.
    """
    shift = np.array([[1.0, -0.5, 1.0]])
    n_samples = 100_000
    expected = float(np.sum(shift**2)) / (2.0 * sigma**2)
    standard_error = float(np.linalg.norm(shift)) / sigma / np.sqrt(n_samples)

    result = state_space_divergence_mixture(np.zeros((1, 3)), shift, sigma=sigma, n_samples=n_samples, seed=6)

    assert result == pytest.approx(expected, abs=4.0 * standard_error)


def test_mixture_same_system_near_zero(lorenz, lorenz_long):
    """Hypothesis: two Lorenz-63 runs give nearly the same smoothed density.

    Measured: below 0.001 in absolute value for five seeds at 1,000 samples, so 0.02 leaves a factor 20.
    """
    divergence = state_space_divergence_mixture(z_score(lorenz), z_score(lorenz_long))

    assert abs(divergence) < 0.02


def test_mixture_other_system_far_larger(lorenz, lorenz_long, rossler):
    """Hypothesis: Lorenz-63 and Rössler differ clearly at the scale σ = 1 of the Gaussians.

    Measured: 0.29 to 0.34 over five seeds for Lorenz against Rössler and below 0.001 for two Lorenz
    runs. The checks ask for more than 0.15 and for 10 times the same-system value plus 0.01.
    """
    same_system = state_space_divergence_mixture(z_score(lorenz), z_score(lorenz_long))
    other_system = state_space_divergence_mixture(z_score(lorenz), z_score(rossler))

    assert other_system > 0.15
    assert other_system > 10.0 * abs(same_system) + 0.01


def test_mixture_seed_reproducible(lorenz, rossler):
    """Equal seeds give equal estimates, another seed another estimate, and a Generator is accepted."""
    true, generated = z_score(lorenz)[:2_000], z_score(rossler)[:2_000]

    first = state_space_divergence_mixture(true, generated, seed=11)
    second = state_space_divergence_mixture(true, generated, seed=11)
    other = state_space_divergence_mixture(true, generated, seed=12)
    from_generator = state_space_divergence_mixture(true, generated, seed=np.random.default_rng(11))

    assert first == second
    assert first != other
    assert from_generator == first


def test_mixture_subsamples_evenly_in_time():
    """Hypothesis: thinning 1,000 steps to 500 evenly spaced ones picks one of steps 2k and 2k + 1 for each k.

    Each point repeated twice in time therefore thins back to the original points, and the divergence to
    them is exactly 0.
    """
    rng = np.random.default_rng(7)
    points = rng.standard_normal((500, 2))
    repeated = np.repeat(points, 2, axis=0)

    assert state_space_divergence_mixture(points, repeated, max_points=500) == 0.0


# The dispatcher

def test_auto_picks_histogram_up_to_three_dimensions(lorenz, rossler):
    """Three dimensions go to the histogram form, four to the mixture form with the same seed."""
    true, generated = z_score(lorenz), z_score(rossler)
    wide_true = np.hstack([true, true[:, :1]])
    wide_generated = np.hstack([generated, generated[:, :1]])

    assert state_space_divergence(true, generated) == state_space_divergence_histogram(true, generated)
    assert state_space_divergence(wide_true, wide_generated, seed=3) == state_space_divergence_mixture(
        wide_true, wide_generated, seed=3
    )


def test_explicit_method_overrides_auto(lorenz, rossler):
    true, generated = z_score(lorenz), z_score(rossler)

    assert state_space_divergence(true, generated, method="mixture") == state_space_divergence_mixture(true, generated)


# Invalid input

@pytest.mark.parametrize("function", [state_space_divergence_histogram, state_space_divergence_mixture])
def test_rejects_nan(function):
    trajectory = np.random.default_rng(8).standard_normal((100, 3))
    broken = trajectory.copy()
    broken[17, 1] = np.nan

    with pytest.raises(InputError, match="non-finite"):
        function(trajectory, broken)
    with pytest.raises(InputError, match="non-finite"):
        function(broken, trajectory)


@pytest.mark.parametrize("function", [state_space_divergence_histogram, state_space_divergence_mixture])
@pytest.mark.parametrize("shape", [(100,), (2, 100, 3)])
def test_rejects_wrong_dimensions(function, shape):
    array = np.zeros(shape)
    valid = np.random.default_rng(9).standard_normal((100, 3))

    with pytest.raises(InputError, match="shape"):
        function(array, valid)
    with pytest.raises(InputError, match="shape"):
        function(valid, array)


@pytest.mark.parametrize("function", [state_space_divergence_histogram, state_space_divergence_mixture])
def test_rejects_mismatched_dimension(function):
    rng = np.random.default_rng(10)

    with pytest.raises(InputError, match="3 dimensions and generated has 2"):
        function(rng.standard_normal((100, 3)), rng.standard_normal((100, 2)))


def test_histogram_rejects_constant_dimension():
    trajectory = np.random.default_rng(11).standard_normal((100, 2))
    trajectory[:, 1] = 4.0

    with pytest.raises(InputError, match="Dimension 1 of true is constant"):
        state_space_divergence_histogram(trajectory, trajectory)


@pytest.mark.parametrize(
    "arguments",
    [{"n_bins": 0}, {"smoothing": 0.0}, {"smoothing": -1e-5}, {"bin_range": "full"}],
)
def test_histogram_rejects_invalid_arguments(arguments):
    trajectory = np.random.default_rng(12).standard_normal((100, 2))

    with pytest.raises(InputError):
        state_space_divergence_histogram(trajectory, trajectory, **arguments)


@pytest.mark.parametrize("arguments", [{"sigma": 0.0}, {"max_points": 0}, {"n_samples": 0}, {"n_samples": 1.5}])
def test_mixture_rejects_invalid_arguments(arguments):
    trajectory = np.random.default_rng(13).standard_normal((100, 2))

    with pytest.raises(InputError):
        state_space_divergence_mixture(trajectory, trajectory, **arguments)


def test_rejects_unknown_method():
    trajectory = np.random.default_rng(14).standard_normal((100, 2))

    with pytest.raises(InputError, match="'kde'"):
        state_space_divergence(trajectory, trajectory, method="kde")


def _box(points: np.ndarray) -> list[tuple[float, float]]:
    spread = points.std(axis=0)
    return [(low, high) for low, high in zip(points.min(axis=0) - 0.1 * spread, points.max(axis=0) + 0.1 * spread)]
