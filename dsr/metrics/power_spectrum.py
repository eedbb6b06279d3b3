"""Hellinger distance D_H between the smoothed power spectra of two time series.

For each dimension, both series are z-scored, their power spectra |rFFT|²
are smoothed with a Gaussian kernel and normalised to sum 1, giving p and q,
and H = ‖√p − √q‖₂ / √2 = √(1 − Σ_k √(p_k q_k)). D_H is the mean of H over
dimensions; it lies in [0, 1], with 0 for equal spectra and 1 for spectra with
disjoint support. The definition follows the DSR group's reference code
(DurstewitzLab); docs/metrics.md lists how its versions differ.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.ndimage import gaussian_filter1d

from dsr.errors import InputError
from dsr.metrics._validation import as_time_series, check_positive, check_same_dimension

# A free-run dimension whose standard deviation is below this fraction of the
# data's rests on or near a fixed point. The attractor figure applies the same
# 1 % to the norm of the standard deviations of its projection.
RESTING_FRACTION = 0.01

logger = logging.getLogger(__name__)


def power_spectrum(x, smoothing_sigma: float = 20.0, dt: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Compute the smoothed, normalised power spectrum of each dimension of x.

    Each dimension is z-scored, its power |rFFT(x)|² is smoothed by a Gaussian
    of standard deviation `smoothing_sigma` frequency bins with reflecting
    boundaries (scipy.ndimage.gaussian_filter1d, mode="reflect", kernel
    truncated at 4 standard deviations), and divided by its sum.

    Args:
        x: series of shape (T,) or (T, N), at least 2 time steps.
        smoothing_sigma: kernel standard deviation in frequency bins; 0 means
            no smoothing. The default 20 bins is the value fixed in one Python
            version of the reference code (others default to 1 or 0 bins, so
            values are comparable only at equal sigma). It averages out the
            large bin-to-bin scatter of a single periodogram.
        dt: sampling step. The frequencies are in cycles per time unit when it
            is given, and in cycles per sample otherwise.

    Returns:
        frequencies: shape (T // 2 + 1,), from 0 to the Nyquist frequency.
        spectra: shape (T // 2 + 1,) for 1-D x or (T // 2 + 1, N) for 2-D x;
            each column sums to 1.

    Raises:
        InputError: x not of shape (T,) or (T, N), non-finite values, a
            constant dimension, or a negative smoothing_sigma or dt.
    """
    series = as_time_series("x", x, min_length=2, allow_1d=True)
    smoothing_sigma = check_positive("smoothing_sigma", smoothing_sigma, allow_zero=True)
    spacing = 1.0 if dt is None else check_positive("dt", dt)

    spectra = _normalised_spectra("x", series, smoothing_sigma)
    frequencies = np.fft.rfftfreq(series.shape[0], d=spacing)
    return frequencies, (spectra[:, 0] if np.ndim(x) == 1 else spectra)


def hellinger_spectrum_distances(true, generated, smoothing_sigma: float = 20.0) -> np.ndarray:
    """Compute the Hellinger distance H between the power spectra of each dimension, shape (N,).

    The spectra are those of `power_spectrum`. The two series must have equal
    lengths, so that their frequency bins match. If they differ, both are cut
    to the shorter length, keeping the first samples, and a warning is logged.
    H is clipped to [0, 1] against rounding, which can push it past 1 by about
    1e-16 for disjoint spectra.

    Args:
        true: series of shape (T,) or (T, N).
        generated: series of shape (T',) or (T', N), with the same N.
        smoothing_sigma: kernel standard deviation in frequency bins; 0 means
            no smoothing. Default 20, as in `power_spectrum`.

    Raises:
        InputError: arrays of the wrong shape, non-finite values, different N,
            a constant dimension, or a negative smoothing_sigma.
    """
    true = as_time_series("true", true, min_length=2, allow_1d=True)
    generated = as_time_series("generated", generated, min_length=2, allow_1d=True)
    check_same_dimension(true, generated)
    smoothing_sigma = check_positive("smoothing_sigma", smoothing_sigma, allow_zero=True)

    true, generated = _cut_to_common_length(true, generated)

    p = _normalised_spectra("true", true, smoothing_sigma)
    q = _normalised_spectra("generated", generated, smoothing_sigma)
    distances = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0))
    return np.clip(distances, 0.0, 1.0)


def hellinger_spectrum_distance(true, generated, smoothing_sigma: float = 20.0) -> float:
    """Compute D_H, the mean over dimensions of `hellinger_spectrum_distances`, in [0, 1]."""
    return float(np.mean(hellinger_spectrum_distances(true, generated, smoothing_sigma)))


def resting_dimensions(true, generated) -> np.ndarray:
    """Return a boolean mask (N,) of the dimensions in which a free run rests on or near a fixed point.

    A dimension rests when the free run's standard deviation there is below
    `RESTING_FRACTION` (1 %) of the data's. Z-scoring such a dimension would
    blow up the decay of its transient, or rounding noise, into a spectrum.
    """
    true = as_time_series("true", true, min_length=2, allow_1d=True)
    generated = as_time_series("generated", generated, min_length=2, allow_1d=True)
    check_same_dimension(true, generated)
    return generated.std(axis=0) < RESTING_FRACTION * true.std(axis=0)


def free_run_spectrum_distance(true, generated, smoothing_sigma: float = 20.0) -> float:
    """Compute D_H between data and a model's free run, scoring resting dimensions of the run as 1.

    A free run that settles on a fixed point has no spectrum to compare in
    the dimensions where it rests (`resting_dimensions`). No spectrum is
    further from the data's than that, so those dimensions get the maximum
    H = 1 and the others their Hellinger distance; D_H is the mean. A
    constant dimension of `true` is still an input error. Series of unequal
    lengths are cut to the shorter one first, as in
    `hellinger_spectrum_distances`, so that the resting test checks the
    samples that are compared.
    """
    true = as_time_series("true", true, min_length=2, allow_1d=True)
    generated = as_time_series("generated", generated, min_length=2, allow_1d=True)
    check_positive("smoothing_sigma", smoothing_sigma, allow_zero=True)
    true, generated = _cut_to_common_length(true, generated)
    resting = resting_dimensions(true, generated)
    distances = np.ones(true.shape[1])
    if not resting.all():
        distances[~resting] = hellinger_spectrum_distances(true[:, ~resting], generated[:, ~resting], smoothing_sigma)
    return float(np.mean(distances))


def _cut_to_common_length(true: np.ndarray, generated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut both series to the first min(T, T') samples, with a warning if they differ, so that frequency bins match."""
    length = min(true.shape[0], generated.shape[0])
    if true.shape[0] != generated.shape[0]:
        logger.warning(
            "The power spectra need equal lengths, but true has %d time steps and generated has %d; "
            "both are cut to the first %d.",
            true.shape[0], generated.shape[0], length,
        )
    return true[:length], generated[:length]


def _normalised_spectra(name: str, series: np.ndarray, smoothing_sigma: float) -> np.ndarray:
    """Return the z-scored, smoothed power spectra of the columns of a (T, N) array, each summing to 1."""
    standard_deviation = series.std(axis=0)
    constant = np.nonzero(standard_deviation == 0.0)[0]
    if constant.size:
        raise InputError(
            f"Dimension {int(constant[0])} of {name} is constant ({series[0, constant[0]]}), "
            "so it has no power spectrum to compare. Drop constant dimensions first."
        )
    standardised = (series - series.mean(axis=0)) / standard_deviation

    power = np.abs(np.fft.rfft(standardised, axis=0)) ** 2
    if smoothing_sigma > 0.0:
        power = gaussian_filter1d(power, smoothing_sigma, axis=0, mode="reflect")
    return power / power.sum(axis=0)
