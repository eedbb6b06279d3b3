"""Largest Lyapunov exponent (Rosenstein) and correlation dimension (Grassberger-Procaccia) from data."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.errors import InputError
from dsr.metrics import correlation_dimension, largest_lyapunov_rosenstein
from tests.metrics.conftest import LORENZ_DT

# Lorenz-63 (σ 10, ρ 28, β 8/3): λ₁ = 0.9056 per time unit (J. C. Sprott, Chaos and Time-Series
# Analysis, 2003, appendix) and D₂ = 2.05 (P. Grassberger and I. Procaccia, Physica D 9 (1983) 189).
LORENZ_LARGEST_EXPONENT = 0.906
LORENZ_CORRELATION_DIMENSION = 2.05


def test_rosenstein_lorenz_x(lorenz):
    """Hypothesis: Rosenstein's method on 10,000 samples of Lorenz-63 x at dt 0.01 recovers λ₁ = 0.906.

    Tolerance 15 %: over 14 such runs the default parameters gave 0.80 to 0.98 (at most 12 % off),
    because 100 time units are short for a finite-time exponent (benchmarks/metrics_estimators.py).
    """
    estimate = largest_lyapunov_rosenstein(lorenz[:, 0], LORENZ_DT)

    assert isinstance(estimate, float)
    assert estimate == pytest.approx(LORENZ_LARGEST_EXPONENT, rel=0.15)


def test_correlation_dimension_lorenz_x(lorenz):
    """Hypothesis: Grassberger-Procaccia on Lorenz-63 x (10,000 samples thinned to 5,000) recovers D₂ = 2.05.

    Tolerance 10 %: the short series biases the estimate low, and 14 runs gave 1.88 to 1.99 (at most
    8.3 % low) with the defaults.
    """
    estimate = correlation_dimension(lorenz[:, 0])

    assert isinstance(estimate, float)
    assert estimate == pytest.approx(LORENZ_CORRELATION_DIMENSION, rel=0.10)


def test_correlation_dimension_of_torus():
    """Hypothesis: two incommensurate frequencies fill a 2-torus, whose correlation dimension is exactly 2.

    Tolerance 10 %, as for Lorenz-63: 5,000 points and the same radius range bias the slope by a few
    percent (2.03 measured).
    """
    time = np.arange(10_000) * 0.01
    series = np.sin(2.0 * np.pi * time / 1.37) + np.sin(2.0 * np.pi * time * np.sqrt(2.0) / 1.37)

    assert correlation_dimension(series) == pytest.approx(2.0, rel=0.10)


def test_columns_estimated_separately(lorenz):
    """A (T, N) input gives one estimate per column, each equal to the estimate on that column alone."""
    segment = lorenz[:3_000, :2]

    exponents = largest_lyapunov_rosenstein(segment, LORENZ_DT)
    dimensions = correlation_dimension(segment, max_points=1_500)

    assert exponents.shape == (2,)
    assert dimensions.shape == (2,)
    assert exponents[1] == largest_lyapunov_rosenstein(segment[:, 1], LORENZ_DT)
    assert dimensions[1] == correlation_dimension(segment[:, 1], max_points=1_500)


def test_rosenstein_minimum_length(lorenz):
    """With emb_dim 5, lag 10, min_tsep 100 and trajectory_len 50, nolds needs 4·10 + 50 + 2·100 + 1 = 291
    samples: 290 are rejected with that number, and 291 are enough."""
    parameters = {"emb_dim": 5, "lag": 10, "min_tsep": 100, "fit_offset": 10, "trajectory_len": 50}

    with pytest.raises(InputError, match="needs at least 291 samples"):
        largest_lyapunov_rosenstein(lorenz[:290, 0], LORENZ_DT, **parameters)
    assert np.isfinite(largest_lyapunov_rosenstein(lorenz[:291, 0], LORENZ_DT, **parameters))


def test_rosenstein_rejects_too_long_series():
    series = np.sin(np.arange(20_001) * 0.1)

    with pytest.raises(InputError, match="20000"):
        largest_lyapunov_rosenstein(series, 0.1)


def test_correlation_dimension_minimum_length():
    """Embedding dimension 4 at lag 5 spans 16 samples, and two delay vectors need 17."""
    series = np.sin(np.arange(16) * 0.7)

    with pytest.raises(InputError, match="needs at least 17 samples"):
        correlation_dimension(series, lag=5)


@pytest.mark.parametrize("estimator", [largest_lyapunov_rosenstein, correlation_dimension])
def test_rejects_nan(estimator, lorenz):
    series = lorenz[:2_000, 0].copy()
    series[100] = np.nan
    arguments = (LORENZ_DT,) if estimator is largest_lyapunov_rosenstein else ()

    with pytest.raises(InputError, match="non-finite"):
        estimator(series, *arguments)


@pytest.mark.parametrize("estimator", [largest_lyapunov_rosenstein, correlation_dimension])
def test_rejects_wrong_dimensions(estimator):
    arguments = (LORENZ_DT,) if estimator is largest_lyapunov_rosenstein else ()

    with pytest.raises(InputError, match="shape"):
        estimator(np.zeros((2, 1_000, 3)), *arguments)


@pytest.mark.parametrize("estimator", [largest_lyapunov_rosenstein, correlation_dimension])
def test_rejects_constant_series(estimator):
    arguments = (LORENZ_DT,) if estimator is largest_lyapunov_rosenstein else ()

    with pytest.raises(InputError, match="constant"):
        estimator(np.full(1_000, 3.0), *arguments)


@pytest.mark.parametrize("dt", [0.0, -0.01, float("inf")])
def test_rosenstein_rejects_invalid_dt(dt, lorenz):
    with pytest.raises(InputError, match="dt"):
        largest_lyapunov_rosenstein(lorenz[:2_000, 0], dt)


def test_rosenstein_rejects_fit_offset_past_trajectory(lorenz):
    with pytest.raises(InputError, match="fit_offset"):
        largest_lyapunov_rosenstein(lorenz[:2_000, 0], LORENZ_DT, fit_offset=30, trajectory_len=31)


def test_correlation_dimension_rejects_reversed_radius_range(lorenz):
    with pytest.raises(InputError, match="radius_range"):
        correlation_dimension(lorenz[:2_000, 0], radius_range=(0.5, 0.1))
