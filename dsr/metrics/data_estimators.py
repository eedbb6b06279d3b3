"""Invariants estimated from a time series alone: largest Lyapunov exponent and correlation dimension.

These estimators need no model and no equations, so a model's free run and
the recording can be scored by the same estimator with the same parameters,
and the two numbers compared. Both wrap nolds 0.6.2 (C. Schölzel,
https://github.com/CSchoel/nolds) and choose its parameters from the data by
the rules given below. Both delay-embed a scalar series, so a (T, N) input is
estimated column by column.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np

from dsr.errors import InputError, NumericalError
from dsr.metrics._validation import as_time_series, check_count, check_positive

logger = logging.getLogger(__name__)

# nolds' lyap_r and corr_dim build the full matrix of pairwise distances
# between delay vectors in float64, 8·n² bytes: 0.8 GB at 10,000 vectors and
# 3.2 GB at 20,000. Longer series are rejected (Rosenstein) or thinned
# (correlation dimension) so that a call cannot exhaust memory.
MAX_ROSENSTEIN_POINTS = 20_000
CORRELATION_DIMENSION_MAX_POINTS = 5_000


def largest_lyapunov_rosenstein(
    x,
    dt: float,
    emb_dim: int = 5,
    lag: int | None = None,
    min_tsep: int | None = None,
    fit_offset: int | None = None,
    trajectory_len: int | None = None,
) -> float | np.ndarray:
    """Estimate the largest Lyapunov exponent λ₁ per time unit by Rosenstein's method.

    The series is delay-embedded, X_i = (x_i, x_{i+L}, ..., x_{i+(m−1)L}).
    Each X_i gets its nearest neighbour X_j with |i − j| > min_tsep, and
    d(k) = ⟨log ‖X_{i+k} − X_{j+k}‖⟩ is averaged over all pairs for k = 0 ..
    trajectory_len − 1. Where d(k) grows linearly, its slope is λ₁ per sample.
    A least-squares line is fitted for k from fit_offset to trajectory_len − 1,
    and its slope is divided by dt. Reference: M. T. Rosenstein, J. J. Collins
    and C. J. De Luca, Physica D 65 (1993) 117-134; computed by nolds.lyap_r.

    Parameters left at None are chosen from each column of the data, in samples:

    - lag L: the first lag at which the autocorrelation falls below 1 − 1/e,
      Rosenstein's rule. 20 samples for Lorenz-63 x at dt 0.01.
    - min_tsep (Theiler window): the mean period 1 / f̄, with f̄ the
      power-weighted mean frequency of the series. This keeps neighbours from
      the same stretch of trajectory, whose separation does not grow. 163
      samples for Lorenz-63 x at dt 0.01.
    - fit_offset: the embedding window (m − 1)·L. Neighbouring delay vectors
      mix m samples across that window, and d(k) rises steeply and nonlinearly
      over about that many steps before the growth becomes exponential.
    - trajectory_len: fit_offset + min_tsep, so the line is fitted over one
      mean period. That period is well before d(k) saturates at the
      attractor's size.

    On the Lorenz-63 x variable (σ 10, ρ 28, β 8/3; λ₁ = 0.906) these
    defaults gave 0.902 on average over 14 runs of 10,000 samples at dt 0.01,
    but single runs ranged from 0.80 to 0.98, so one such estimate is uncertain
    by about ±12 %. nolds' own defaults (m 10, trajectory_len 20, no fit
    offset) gave about 0.7 on such input. benchmarks/metrics_estimators.py
    reproduces these numbers.

    Args:
        x: series of shape (T,), or (T, N) to estimate each column separately.
            At most 20,000 samples, because nolds builds a T × T distance
            matrix.
        dt: sampling step in time units, so the result is per time unit.
        emb_dim: embedding dimension m. The default 5 is above 2·D₂ ≈ 4.1
            for Lorenz-63, Takens' condition for an embedding. On Lorenz-63 x,
            m = 4 gave estimates 0.03 higher on average (mean 0.933).
        lag: delay L in samples; None chooses it as above.
        min_tsep: Theiler window in samples; None chooses it as above.
        fit_offset: first fitted step k; None chooses it as above.
        trajectory_len: number of steps k followed; None chooses it as above.

    Returns:
        λ₁ per time unit: a float for 1-D x, an array of shape (N,) for 2-D x.

    Raises:
        InputError: x not of shape (T,) or (T, N), non-finite or constant,
            more than 20,000 samples, invalid parameters, fewer samples than
            the parameters need (the message gives the number), or no lag at
            which the autocorrelation falls below 1 − 1/e.
        NumericalError: nolds returned a non-finite slope, for example when
            all neighbour distances are zero on a periodic series.
    """
    series = as_time_series("x", x, min_length=3, allow_1d=True)
    dt = check_positive("dt", dt)
    emb_dim = check_count("emb_dim", emb_dim, minimum=1)
    if series.shape[0] > MAX_ROSENSTEIN_POINTS:
        raise InputError(
            f"x has {series.shape[0]} samples, more than the {MAX_ROSENSTEIN_POINTS} that Rosenstein's method "
            f"accepts here, because nolds builds a T x T distance matrix ({8 * series.shape[0] ** 2 / 1e9:.1f} GB). "
            "Pass a segment of the series, or downsample it and scale dt to match."
        )

    estimates = []
    for column in range(series.shape[1]):
        values = series[:, column]
        _check_not_constant(values, column)
        column_lag = _autocorrelation_lag(values) if lag is None else check_count("lag", lag, minimum=1)
        column_tsep = _mean_period(values) if min_tsep is None else check_count("min_tsep", min_tsep, minimum=0)
        offset = (emb_dim - 1) * column_lag if fit_offset is None else check_count("fit_offset", fit_offset, minimum=0)
        length = offset + column_tsep if trajectory_len is None else check_count("trajectory_len", trajectory_len, minimum=2)
        if length - offset < 2:
            raise InputError(
                f"trajectory_len ({length}) must exceed fit_offset ({offset}) by at least 2, "
                "so that a line can be fitted."
            )

        # nolds' own requirement (lyap_r_len): one delay vector, a trajectory of
        # trajectory_len steps, and min_tsep vectors on either side of each.
        needed = (emb_dim - 1) * column_lag + length + 2 * column_tsep + 1
        if values.size < needed:
            raise InputError(
                f"Rosenstein's method with emb_dim={emb_dim}, lag={column_lag}, min_tsep={column_tsep} and "
                f"trajectory_len={length} needs at least {needed} samples, but column {column} of x has {values.size}. "
                "Pass a longer series or smaller parameters."
            )

        logger.info(
            "Rosenstein estimate of column %d: emb_dim %d, lag %d, min_tsep %d, fit over steps %d to %d, dt %g",
            column, emb_dim, column_lag, column_tsep, offset, length - 1, dt,
        )
        slope = _import_nolds().lyap_r(
            values, emb_dim=emb_dim, lag=column_lag, min_tsep=column_tsep,
            trajectory_len=length, fit_offset=offset, fit="poly",
        )
        if not np.isfinite(slope):
            raise NumericalError(
                f"Rosenstein's method returned a non-finite slope ({slope}) for column {column}, which happens when "
                "neighbouring trajectories stay at distance zero (a periodic or quantised series). "
                "Check the series, or use a larger min_tsep."
            )
        estimates.append(slope / dt)
    return _shape_like_input(x, estimates)


def correlation_dimension(
    x,
    emb_dim: int = 4,
    lag: int | None = None,
    radius_range: tuple[float, float] = (0.1, 0.5),
    max_points: int = CORRELATION_DIMENSION_MAX_POINTS,
) -> float | np.ndarray:
    """Estimate the correlation dimension D₂ by the Grassberger-Procaccia algorithm.

    The correlation sum C(r) = (2 / (n(n − 1))) Σ_{i<j} Θ(r − ‖X_i − X_j‖)
    over the delay vectors X_i scales as r^D₂ for small r. D₂ is the slope of
    a least-squares line through log C(r) against log r, for r from
    radius_range[0] to radius_range[1] times the standard deviation of the
    series in steps of 3 %. References: P. Grassberger and I. Procaccia,
    Physica D 9 (1983) 189-208; computed by nolds.corr_dim. nolds applies no
    Theiler window, so pairs of points close in time are counted too.

    A series longer than `max_points` is thinned to every s-th sample, with s
    = ⌈T / max_points⌉, and the lag becomes round(L / s), at least 1. On the
    Lorenz-63 x variable (D₂ = 2.05) the defaults gave 1.94 on average and
    1.88 to 1.99 on 14 runs of 10,000 samples at dt 0.01 (thinned to 5,000), see
    benchmarks/metrics_estimators.py. The estimate is biased low by the short
    series, and no estimate from n points can exceed 2 log₁₀ n (Eckmann-Ruelle
    bound, 7.4 for n = 5,000).

    Args:
        x: series of shape (T,), or (T, N) to estimate each column separately.
        emb_dim: embedding dimension m. The default 4 exceeds D₂ for attractors
            up to D₂ ≈ 3, which is enough to preserve D₂ (T. Sauer, J. A. Yorke
            and M. Casdagli, J. Stat. Phys. 65 (1991) 579-616). On Lorenz-63 x,
            m = 3 gave 1.85 on average and m = 5 the same as m = 4.
        lag: delay L in samples of x, before thinning. None chooses the first
            lag at which the autocorrelation falls below 1 − 1/e.
        radius_range: (low, high) radii in standard deviations of the series.
            The default (0.1, 0.5) is nolds' default. Smaller radii hold too few
            pairs at 5,000 points, and larger ones reach the attractor's size.
        max_points: most samples used, because nolds builds an n × n distance
            matrix (0.2 GB at the default 5,000).

    Returns:
        D₂: a float for 1-D x, an array of shape (N,) for 2-D x.

    Raises:
        InputError: x not of shape (T,) or (T, N), non-finite or constant,
            invalid parameters, fewer samples than the embedding needs (the
            message gives the number), or no lag found.
        NumericalError: no pair of points lies within the largest radius.
    """
    series = as_time_series("x", x, min_length=3, allow_1d=True)
    emb_dim = check_count("emb_dim", emb_dim, minimum=1)
    max_points = check_count("max_points", max_points, minimum=3)
    low, high = (check_positive("radius_range", value) for value in radius_range)
    if low >= high:
        raise InputError(f"radius_range must be (low, high) with low < high, got {radius_range}.")

    stride = math.ceil(series.shape[0] / max_points)
    estimates = []
    for column in range(series.shape[1]):
        values = series[:, column]
        _check_not_constant(values, column)
        column_lag = _autocorrelation_lag(values) if lag is None else check_count("lag", lag, minimum=1)

        thinned = values[::stride]
        thinned_lag = max(1, round(column_lag / stride))
        needed = (emb_dim - 1) * thinned_lag + 2
        if thinned.size < needed:
            raise InputError(
                f"The correlation dimension with emb_dim={emb_dim} and lag={thinned_lag} (after thinning by {stride}) "
                f"needs at least {needed} samples, but column {column} of x has {thinned.size}. "
                "Pass a longer series or a smaller emb_dim or lag."
            )

        standard_deviation = np.std(thinned, ddof=1)
        nolds = _import_nolds()
        radii = nolds.logarithmic_r(low * standard_deviation, high * standard_deviation, 1.03)
        logger.info(
            "correlation dimension of column %d: emb_dim %d, lag %d samples, every %d-th of %d samples, r %g to %g",
            column, emb_dim, column_lag, stride, values.size, radii[0], radii[-1],
        )
        dimension = nolds.corr_dim(thinned, emb_dim=emb_dim, lag=thinned_lag, rvals=radii, fit="poly")
        if not np.isfinite(dimension):
            raise NumericalError(
                f"The correlation sum of column {column} is zero at every radius up to {radii[-1]:.3g}, so no "
                "dimension can be fitted. Use a larger radius_range or a longer series."
            )
        estimates.append(float(dimension))
    return _shape_like_input(x, estimates)


def _import_nolds():
    # nolds 0.6.2 imports pkg_resources, which warns that it is deprecated.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import nolds
    return nolds


def _check_not_constant(values: np.ndarray, column: int) -> None:
    if np.ptp(values) == 0.0:
        raise InputError(f"Column {column} of x is constant ({values[0]}), so it has no dynamics to estimate from.")


def _autocorrelation_lag(values: np.ndarray) -> int:
    """Return the first lag at which the autocorrelation falls below 1 − 1/e (Rosenstein et al. 1993)."""
    centred = values - values.mean()

    # Zero-padding to 2T makes the FFT product the linear, not circular, autocorrelation.
    spectrum = np.fft.rfft(centred, 2 * centred.size)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[:centred.size]
    autocorrelation /= autocorrelation[0]

    below = np.nonzero(autocorrelation < 1.0 - 1.0 / np.e)[0]
    if below.size == 0:
        raise InputError(
            f"The autocorrelation of the series ({values.size} samples) never falls below 1 - 1/e, so no lag can be "
            "chosen from it. Pass lag explicitly, or remove a trend from the series."
        )
    return int(below[0])


def _mean_period(values: np.ndarray) -> int:
    """Return 1 / (power-weighted mean frequency), in samples, rounded up; the DC bin is left out."""
    power = np.abs(np.fft.rfft(values - values.mean())) ** 2
    frequencies = np.fft.rfftfreq(values.size)
    mean_frequency = np.sum(frequencies[1:] * power[1:]) / np.sum(power[1:])
    return int(math.ceil(1.0 / mean_frequency))


def _shape_like_input(x, estimates: list[float]) -> float | np.ndarray:
    return float(estimates[0]) if np.ndim(x) == 1 else np.asarray(estimates)
