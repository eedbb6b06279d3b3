"""State-space divergence D_stsp: how well a generated trajectory fills the true attractor.

D_stsp = KL(p_true ‖ p_gen) = Σ_x p_true(x) log(p_true(x) / p_gen(x)), natural
log, between the distributions of visited states of a true and a generated
trajectory. Two estimates of the densities are provided: an N-dimensional
histogram (few dimensions) and a mixture of isotropic Gaussians centred on the
trajectory points (any dimension). The definitions follow the DSR group's
reference code (DurstewitzLab, PyTorch and Julia versions). docs/metrics.md
lists where those versions differ from each other and from this module. The
Monte Carlo estimate of the KL divergence between Gaussian mixtures is that of
J. R. Hershey and P. A. Olsen, ICASSP 2007.

Both inputs are arrays of shape (T, N) that the caller has already normalised,
usually z-scored with the true data's mean and standard deviation, so that
the defaults (bin widths, sigma) are in units of one standard deviation.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from scipy.special import logsumexp

from dsr.errors import InputError
from dsr.metrics._validation import as_time_series, check_count, check_positive, check_same_dimension

logger = logging.getLogger(__name__)

# Largest number of histogram cells, n_bins ** N, that the histogram form
# accepts. The count below is sparse, so memory grows with T and not with the
# cell count. The limit is statistical: 2**27 ≈ 1.3e8 cells against the
# usual 1e4 to 1e6 points leaves more than 99 % of cells empty, so the
# Laplace smoothing, not the data, sets most of the divergence. The dense
# reference implementations also cannot allocate histograms that large.
MAX_HISTOGRAM_CELLS = 2**27

# Widening of the histogram box beyond the true data's range on each side, in
# standard deviations of the true data, so that a generated trajectory that
# slightly overshoots the true attractor is still counted.
BOX_MARGIN = 0.1

# Up to this many dimensions, method="auto" uses the histogram form. 30**3 =
# 27,000 cells are well filled by 1e5 points (about 4 per cell), whereas
# 30**5 ≈ 2.4e7 cells would hold fewer than one point per hundred cells.
MAX_HISTOGRAM_DIMENSION_AUTO = 3


def state_space_divergence(
    true,
    generated,
    method: Literal["auto", "histogram", "mixture"] = "auto",
    n_bins: int = 30,
    smoothing: float = 1e-5,
    sigma: float = 1.0,
    max_points: int = 10_000,
    n_samples: int = 1_000,
    seed: int | np.random.Generator | None = 0,
) -> float:
    """Compute the state-space divergence D_stsp = KL(p_true ‖ p_gen) in nats.

    method="auto" uses `state_space_divergence_histogram` when N ≤ 3 and
    `state_space_divergence_mixture` otherwise: 30**3 = 27,000 cells are well
    filled by 1e5 points, 30**5 ≈ 2.4e7 cells are not. The other arguments
    are passed to the form that is used, and the other form's are ignored;
    see those functions for their meaning and defaults.

    Raises:
        InputError: invalid arrays or arguments, as described in the two forms.
    """
    if method not in ("auto", "histogram", "mixture"):
        raise InputError(f"method must be 'auto', 'histogram' or 'mixture', got {method!r}.")

    if method == "auto":
        dimension = as_time_series("true", true, min_length=2).shape[1]
        method = "histogram" if dimension <= MAX_HISTOGRAM_DIMENSION_AUTO else "mixture"

    if method == "histogram":
        return state_space_divergence_histogram(true, generated, n_bins=n_bins, smoothing=smoothing)
    return state_space_divergence_mixture(
        true, generated, sigma=sigma, max_points=max_points, n_samples=n_samples, seed=seed
    )


def state_space_divergence_histogram(
    true,
    generated,
    n_bins: int = 30,
    smoothing: float = 1e-5,
    *,
    bin_range: Literal["data", "two_sigma"] = "data",
    drop_lowest_bin: bool = False,
    max_cells: int = MAX_HISTOGRAM_CELLS,
) -> float:
    """Compute D_stsp = Σ_k p_k log(p_k / q_k) on N-dimensional histograms.

    Each dimension is cut into `n_bins` equal bins, so the histogram has
    C = n_bins ** N cells. Points of either trajectory outside the box are
    dropped. With counts c_k and S = Σ_k c_k inside the box, Laplace smoothing
    gives p_k = (c_k + α) / (S + α C) for each trajectory, with α =
    `smoothing`. The smoothing is added to counts, not to probabilities, as in
    the reference implementations. Identical inputs give exactly 0.0.

    Args:
        true: reference trajectory, shape (T, N), at least 2 time steps.
        generated: generated trajectory, shape (T', N); T' may differ from T.
        n_bins: bins per dimension. 30 is the reference code's default, which
            resolves a z-scored attractor at about 0.2 standard deviations.
        smoothing: α, a pseudo-count added to every cell. The default 1e-5 is
            the reference implementations' value. It keeps the logarithm
            finite where the generated trajectory never goes, while adding
            only α·C = 0.27 counts in total at 30 bins in 3 dimensions.
        bin_range: "data" (default) spans each dimension of the true data
            from its minimum to its maximum, widened by 0.1 of its standard
            deviation on each side. "two_sigma" spans [-2 s, 2 s], with s the
            true data's standard deviation, about zero, as the published
            PyTorch reference code does. That range assumes z-scored data
            and drops the tails of the attractor.
        drop_lowest_bin: if true, drop every point that falls into the lowest
            bin of any dimension, as the published PyTorch reference code
            does through an off-by-one test (index > 0 instead of index ≥ 0).
            Only for comparison with published tables.
        max_cells: largest accepted C. The default MAX_HISTOGRAM_CELLS = 2**27
            exceeds 30**5, so up to 5 dimensions pass at 30 bins. Above it the
            histogram is too sparse for a density estimate.

    Raises:
        InputError: arrays not of shape (T, N), non-finite values, different
            N, a constant dimension in the true data, invalid arguments, no
            true point inside the box, or n_bins ** N above `max_cells`.
    """
    true = as_time_series("true", true, min_length=2)
    generated = as_time_series("generated", generated, min_length=1)
    check_same_dimension(true, generated)
    n_bins = check_count("n_bins", n_bins, minimum=1)
    smoothing = check_positive("smoothing", smoothing)
    if bin_range not in ("data", "two_sigma"):
        raise InputError(f"bin_range must be 'data' or 'two_sigma', got {bin_range!r}.")

    # Refuse before binning, because the cell count grows as n_bins ** N.
    dimension = true.shape[1]
    n_cells = n_bins**dimension
    if n_cells > max_cells:
        raise InputError(
            f"A histogram with {n_bins} bins in each of {dimension} dimensions has {n_cells:.3g} cells, "
            f"more than the limit of {max_cells:.3g}, so it cannot estimate the density. Use the Gaussian-mixture "
            "form (method='mixture' or state_space_divergence_mixture), or fewer bins."
        )

    lower, upper = _histogram_box(true, bin_range)
    true_cells = _occupied_cells(true, lower, upper, n_bins, drop_lowest_bin)
    generated_cells = _occupied_cells(generated, lower, upper, n_bins, drop_lowest_bin)

    if true_cells.size == 0:
        raise InputError(
            f"No point of true lies inside the histogram box (bin_range={bin_range!r}), so its histogram is empty. "
            "Use bin_range='data', or z-score the data first when using 'two_sigma'."
        )
    if generated_cells.size == 0:
        logger.warning(
            "No point of the generated trajectory (%d steps) lies inside the histogram box of the true data; "
            "its smoothed histogram is uniform, so D_stsp is log(C) minus the entropy of the true histogram.",
            generated.shape[0],
        )
    elif generated_cells.size < generated.shape[0]:
        logger.debug("%d of %d generated points lie outside the histogram box and are dropped.",
                     generated.shape[0] - generated_cells.size, generated.shape[0])

    return _smoothed_kl_divergence(true_cells, generated_cells, n_cells, smoothing)


def state_space_divergence_mixture(
    true,
    generated,
    sigma: float = 1.0,
    max_points: int = 10_000,
    n_samples: int = 1_000,
    seed: int | np.random.Generator | None = 0,
) -> float:
    """Estimate D_stsp = KL(p_true ‖ p_gen) between Gaussian mixtures by Monte Carlo.

    p_true(x) = (1/M) Σ_t 𝒩(x; x_t, σ² I) over M points x_t of the true
    trajectory, and p_gen likewise over the generated points. The estimate is
    the mean of log p_true(s) − log p_gen(s) over `n_samples` samples s drawn
    from p_true: a point x_t chosen uniformly, plus Gaussian noise of standard
    deviation σ. The log densities use logsumexp, so no sample underflows.

    The estimator is noisy, with a standard error of roughly std(log p_true −
    log p_gen) / √n_samples. It can be slightly negative, although the KL
    divergence itself is not, when the two mixtures are close.

    Args:
        true: reference trajectory, shape (T, N).
        generated: generated trajectory, shape (T', N); T' may differ from T.
        sigma: σ, the standard deviation of each Gaussian in data units. The
            default 1.0 suits z-scored data, because it smooths the point cloud
            on the scale of the attractor's width.
        max_points: M, the most points per trajectory. A longer trajectory is
            subsampled evenly in time. The default 10,000 keeps the cost at
            n_samples × M distance evaluations per mixture, about 1e7.
        n_samples: Monte Carlo samples. The default 1,000 gave a spread of
            about 6 % over seeds for Lorenz-63 against Rössler (0.29 to 0.34).
        seed: seed or numpy Generator for the samples. The default 0 makes
            repeated calls on the same inputs return the same value.

    Raises:
        InputError: arrays not of shape (T, N), non-finite values, different N,
            or invalid sigma, max_points or n_samples.
    """
    true = as_time_series("true", true, min_length=1)
    generated = as_time_series("generated", generated, min_length=1)
    check_same_dimension(true, generated)
    sigma = check_positive("sigma", sigma)
    max_points = check_count("max_points", max_points, minimum=1)
    n_samples = check_count("n_samples", n_samples, minimum=1)

    true_centres = _subsample_evenly(true, max_points)
    generated_centres = _subsample_evenly(generated, max_points)

    rng = np.random.default_rng(seed)
    components = rng.integers(0, true_centres.shape[0], size=n_samples)
    samples = true_centres[components] + sigma * rng.standard_normal((n_samples, true.shape[1]))

    log_ratio = _log_mixture_density(samples, true_centres, sigma) - _log_mixture_density(samples, generated_centres, sigma)
    return float(np.mean(log_ratio))


def _histogram_box(true: np.ndarray, bin_range: str) -> tuple[np.ndarray, np.ndarray]:
    standard_deviation = true.std(axis=0)
    constant = np.nonzero(standard_deviation == 0.0)[0]
    if constant.size:
        raise InputError(
            f"Dimension {int(constant[0])} of true is constant ({true[0, constant[0]]}), so it has no range to bin. "
            "Drop constant dimensions before computing D_stsp."
        )

    if bin_range == "two_sigma":
        return -2.0 * standard_deviation, 2.0 * standard_deviation
    return true.min(axis=0) - BOX_MARGIN * standard_deviation, true.max(axis=0) + BOX_MARGIN * standard_deviation


def _occupied_cells(points: np.ndarray, lower: np.ndarray, upper: np.ndarray, n_bins: int, drop_lowest_bin: bool) -> np.ndarray:
    """Return the flat cell index of every point inside the box, one entry per point."""
    indices = np.floor((points - lower) / (upper - lower) * n_bins)
    lowest_kept = 1 if drop_lowest_bin else 0
    inside = np.all((indices >= lowest_kept) & (indices < n_bins), axis=1)
    indices = indices[inside].astype(np.int64)
    return np.ravel_multi_index(tuple(indices.T), (n_bins,) * points.shape[1])


def _smoothed_kl_divergence(true_cells: np.ndarray, generated_cells: np.ndarray, n_cells: int, smoothing: float) -> float:
    """Return KL(p ‖ q) of the Laplace-smoothed histograms, from the occupied cells only.

    Cells that neither trajectory visits all have p = α / (S_p + α C) and
    q = α / (S_q + α C), so they add (C − visited) · p log(p / q) in one term
    and the dense histogram is never built.
    """
    visited, inverse = np.unique(np.concatenate([true_cells, generated_cells]), return_inverse=True)
    true_counts = np.bincount(inverse[:true_cells.size], minlength=visited.size)
    generated_counts = np.bincount(inverse[true_cells.size:], minlength=visited.size)

    true_total = true_cells.size + smoothing * n_cells
    generated_total = generated_cells.size + smoothing * n_cells
    p = (true_counts + smoothing) / true_total
    q = (generated_counts + smoothing) / generated_total
    visited_term = np.sum(p * np.log(p / q))

    p_empty = smoothing / true_total
    q_empty = smoothing / generated_total
    empty_term = (n_cells - visited.size) * p_empty * np.log(p_empty / q_empty)
    return float(visited_term + empty_term)


def _subsample_evenly(points: np.ndarray, max_points: int) -> np.ndarray:
    if points.shape[0] <= max_points:
        return points
    steps = np.round(np.linspace(0, points.shape[0] - 1, max_points)).astype(np.int64)
    return points[steps]


def _log_mixture_density(samples: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """Return log (1/M) Σ_t 𝒩(s; c_t, σ² I) for each sample s, shape (n_samples,)."""
    dimension = centres.shape[1]
    normalisation = -np.log(centres.shape[0]) - 0.5 * dimension * np.log(2.0 * np.pi * sigma**2)
    centre_norms = np.sum(centres**2, axis=1)

    # Chunks bound the (chunk, M) distance matrix at about 20 MB for M = 10,000.
    log_density = np.empty(samples.shape[0])
    chunk = 256
    for start in range(0, samples.shape[0], chunk):
        block = samples[start:start + chunk]
        squared_distances = np.sum(block**2, axis=1)[:, None] + centre_norms[None, :] - 2.0 * block @ centres.T
        np.maximum(squared_distances, 0.0, out=squared_distances)
        log_density[start:start + chunk] = logsumexp(-0.5 * squared_distances / sigma**2, axis=1)
    return log_density + normalisation
