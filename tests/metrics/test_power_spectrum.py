"""Hellinger distance D_H between smoothed power spectra, and the spectrum itself."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from dsr.errors import InputError
from dsr.metrics import (
    free_run_spectrum_distance,
    hellinger_spectrum_distance,
    hellinger_spectrum_distances,
    power_spectrum,
    resting_dimensions,
)

# 4,096 samples give 2,049 frequency bins. The sines below sit on exact bins k, so the periodogram has all
# power in bin k and none leaks into the others.
N_SAMPLES = 4_096


def sine_at_bin(k: int, n_samples: int = N_SAMPLES) -> np.ndarray:
    """Return sin(2π k t / T), t = 0 .. T − 1: exactly k periods, all power in frequency bin k."""
    return np.sin(2.0 * np.pi * k * np.arange(n_samples) / n_samples)


def test_identical_is_exactly_zero(lorenz):
    """Equal spectra give √p − √q = 0 in every bin, so D_H is exactly 0 for each dimension."""
    assert hellinger_spectrum_distance(lorenz, lorenz.copy()) == 0.0
    assert np.all(hellinger_spectrum_distances(lorenz, lorenz) == 0.0)


def test_symmetric(lorenz, rossler):
    """(√p − √q)² equals (√q − √p)² in floating point too, so swapping the inputs changes nothing."""
    first, second = lorenz[:5_000], rossler[:5_000]

    assert hellinger_spectrum_distance(first, second) == hellinger_spectrum_distance(second, first)


def test_within_unit_interval(lorenz, rossler):
    """H lies in [0, 1] for any pair of spectra, from similar to disjoint."""
    rng = np.random.default_rng(0)
    pairs = [
        (lorenz[:5_000], rossler[:5_000]),
        (rng.standard_normal(3_000), sine_at_bin(40, 3_000)),
        (sine_at_bin(10), sine_at_bin(900)),
    ]

    for first, second in pairs:
        for sigma in (0.0, 2.0, 20.0):
            distances = hellinger_spectrum_distances(first, second, smoothing_sigma=sigma)
            assert np.all(distances >= 0.0)
            assert np.all(distances <= 1.0)


def test_unsmoothed_sines_at_different_bins_are_one():
    """Hypothesis: without smoothing, sines at bins 300 and 301 have disjoint one-bin spectra, so H = 1.

    Σp = Σq = 1 up to rounding, so H = 1 to about 1e-15; 1e-12 allows for that.
    """
    distance = hellinger_spectrum_distance(sine_at_bin(300), sine_at_bin(301), smoothing_sigma=0.0)

    assert distance == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("sigma", "separation"), [(20.0, 10), (20.0, 40), (20.0, 80), (5.0, 6)])
def test_smoothed_sines_match_gaussian_overlap(sigma, separation):
    """Hypothesis: smoothing one-bin spectra at k1, k2 gives Gaussians of width σ, so H² = 1 − exp(−d²/(8σ²)).

    That is the Bhattacharyya coefficient of two equal-width Gaussians d = k2 − k1 apart. scipy truncates
    the kernel at R = round(4σ) bins, so the two kernels overlap only within R − d/2 of the midpoint,
    and the overlap loses at most exp(−d²/(8σ²)) · erfc((R − d/2) / (σ√2)) of its mass. That bound is
    the tolerance. The kernel is normalised in the discrete sum, and summing a Gaussian of width σ ≥ 5
    over integers differs from its integral by less than 1e-100, so discretisation adds nothing.
    Both peaks are more than R bins from either end of the spectrum, so the reflecting boundary plays
    no part.
    """
    first_bin = 700
    radius = int(4.0 * sigma + 0.5)
    overlap = math.exp(-separation**2 / (8.0 * sigma**2))
    tolerance = overlap * math.erfc((radius - separation / 2) / (sigma * math.sqrt(2.0))) + 1e-12

    distance = hellinger_spectrum_distance(sine_at_bin(first_bin), sine_at_bin(first_bin + separation), sigma)

    assert distance**2 == pytest.approx(1.0 - overlap, abs=tolerance)


def test_unequal_lengths_are_cut_to_shorter(lorenz, rossler, caplog):
    """Series of 3,000 and 4,000 steps are compared over their first 3,000, and a warning reports the cut."""
    with caplog.at_level(logging.WARNING, logger="dsr.metrics.power_spectrum"):
        result = hellinger_spectrum_distance(lorenz[:3_000], rossler[:4_000])

    assert result == hellinger_spectrum_distance(lorenz[:3_000], rossler[:3_000])
    assert "cut to the first 3000" in caplog.text


def test_distances_per_dimension(lorenz, rossler):
    """The per-dimension array has one entry per column, and D_H is their mean."""
    distances = hellinger_spectrum_distances(lorenz[:5_000], rossler[:5_000])

    assert distances.shape == (3,)
    assert hellinger_spectrum_distance(lorenz[:5_000], rossler[:5_000]) == pytest.approx(distances.mean(), rel=1e-15)


def test_accepts_one_dimensional_series():
    """A (T,) series is treated as one column, equal to its (T, 1) form."""
    first, second = sine_at_bin(100), sine_at_bin(120)

    assert hellinger_spectrum_distance(first, second) == hellinger_spectrum_distance(first[:, None], second[:, None])


def test_power_spectrum_frequencies_and_normalisation():
    """The unsmoothed spectrum of a sine at bin 64 of 4,096 samples is one-hot at 64 / (4096 dt)."""
    frequencies, spectrum = power_spectrum(sine_at_bin(64), smoothing_sigma=0.0, dt=0.5)

    assert frequencies.shape == (N_SAMPLES // 2 + 1,)
    assert spectrum.shape == (N_SAMPLES // 2 + 1,)
    assert frequencies[-1] == pytest.approx(1.0)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(64 / (N_SAMPLES * 0.5))
    assert spectrum.max() == pytest.approx(1.0, abs=1e-12)


def test_power_spectrum_columns_sum_to_one(lorenz):
    """Each smoothed column is a distribution over frequencies in cycles per sample when dt is absent."""
    frequencies, spectra = power_spectrum(lorenz)

    assert spectra.shape == (lorenz.shape[0] // 2 + 1, 3)
    assert frequencies[-1] == pytest.approx(0.5)
    assert np.all(spectra >= 0.0)
    assert spectra.sum(axis=0) == pytest.approx(np.ones(3), abs=1e-12)


def test_rejects_nan():
    series = sine_at_bin(50)
    broken = series.copy()
    broken[10] = np.nan

    with pytest.raises(InputError, match="non-finite"):
        hellinger_spectrum_distance(series, broken)
    with pytest.raises(InputError, match="non-finite"):
        power_spectrum(broken)


def test_rejects_wrong_dimensions():
    series = sine_at_bin(50)

    with pytest.raises(InputError, match="shape"):
        hellinger_spectrum_distance(series.reshape(1, -1, 1), series)
    with pytest.raises(InputError, match="shape"):
        power_spectrum(np.zeros((2, 10, 3)))


def test_rejects_mismatched_dimension():
    rng = np.random.default_rng(1)

    with pytest.raises(InputError, match="3 dimensions and generated has 2"):
        hellinger_spectrum_distance(rng.standard_normal((200, 3)), rng.standard_normal((200, 2)))


def test_rejects_constant_series():
    with pytest.raises(InputError, match="constant"):
        hellinger_spectrum_distance(np.ones(100), sine_at_bin(5, 100))


def test_free_run_resting_dimension_scores_one(lorenz):
    """A dimension resting on a fixed point has no spectrum to compare, so its H is the maximum, 1."""
    resting = lorenz.copy()
    resting[:, 1] = 0.5
    others = hellinger_spectrum_distances(lorenz[:, [0, 2]], lorenz[:, [0, 2]])

    assert free_run_spectrum_distance(lorenz, resting) == pytest.approx((others.sum() + 1.0) / 3)


def test_free_run_near_fixed_point_scores_one(lorenz):
    """A free run decaying onto a fixed point, with spread below 1 % of the data's, scores 1 in every dimension."""
    decay = np.exp(-np.arange(len(lorenz)) / 50.0)[:, None]
    settling = 0.3 + 1e-3 * lorenz.std(axis=0) * decay * np.sin(np.arange(len(lorenz)) / 3.0)[:, None]

    assert resting_dimensions(lorenz, settling).all()
    assert free_run_spectrum_distance(lorenz, settling) == 1.0


def test_free_run_small_oscillation_is_not_resting(lorenz):
    scaled = 0.05 * lorenz

    assert not resting_dimensions(lorenz, scaled).any()
    assert free_run_spectrum_distance(lorenz, scaled) == pytest.approx(0.0, abs=1e-12)


def test_free_run_distance_equals_hellinger(lorenz, rossler):
    assert free_run_spectrum_distance(lorenz, rossler) == hellinger_spectrum_distance(lorenz, rossler)


def test_free_run_distance_rejects_constant_data(lorenz):
    constant = lorenz.copy()
    constant[:, 0] = 1.0

    with pytest.raises(InputError, match="constant"):
        free_run_spectrum_distance(constant, lorenz)


@pytest.mark.parametrize("sigma", [-1.0, float("nan")])
def test_rejects_invalid_smoothing(sigma):
    with pytest.raises(InputError, match="smoothing_sigma"):
        hellinger_spectrum_distance(sine_at_bin(5), sine_at_bin(6), smoothing_sigma=sigma)


def test_free_run_resting_test_uses_compared_window(lorenz):
    """A run constant over the compared samples rests there, even if it moves after them."""
    longer = np.concatenate([lorenz, lorenz])
    longer[:len(lorenz), 2] = 0.3

    distance = free_run_spectrum_distance(lorenz, longer)
    others = hellinger_spectrum_distances(lorenz[:, :2], lorenz[:, :2])

    assert distance == pytest.approx((others.sum() + 1.0) / 3)


def test_free_run_distance_rejects_invalid_smoothing(lorenz):
    with pytest.raises(InputError, match="smoothing_sigma"):
        free_run_spectrum_distance(lorenz, np.zeros_like(lorenz), smoothing_sigma=-5.0)
