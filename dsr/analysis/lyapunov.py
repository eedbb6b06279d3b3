"""Lyapunov spectra by the QR (Benettin) method, shared by catalogued systems and trained models.

The method follows k tangent vectors along a trajectory: each step maps them
with the Jacobian, and every `reorthonormalization_interval` steps a QR
decomposition Q R = (mapped vectors) replaces them by Q and adds log|R_ii| to
the i-th sum. The i-th exponent is that sum divided by the elapsed time.
References: G. Benettin et al., Meccanica 15 (1980) 9-30; K. Geist, U. Parlitz,
W. Lauterborn, Prog. Theor. Phys. 83 (1990) 875-893.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit

from dsr.errors import InputError, NumericalError

logger = logging.getLogger(__name__)

# tangent_step(state, vectors) -> (next state, Jacobian-mapped vectors); vectors is (N, k).
TangentStep = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class LyapunovSpectrum:
    """A Lyapunov spectrum with its convergence record.

    Attributes:
        exponents: the k exponents, largest first, per time unit (per step
            when dt is 1).
        kaplan_yorke_dimension: Kaplan-Yorke dimension of `exponents`.
        running: (n_blocks, k) estimates at the end of each of n_blocks equal
            blocks of the averaging time, for convergence plots.
        spread: (k,) max minus min of the running estimates over the last
            half of the blocks; small values mean a converged estimate.
        n_steps: steps averaged over, after the transient.
        transient: steps dropped first (the tangent vectors align meanwhile).
        reorthonormalization_interval: steps between QR decompositions.
        dt: time per step, used to convert to per time unit.
    """

    exponents: np.ndarray
    kaplan_yorke_dimension: float
    running: np.ndarray
    spread: np.ndarray
    n_steps: int
    transient: int
    reorthonormalization_interval: int
    dt: float


def lyapunov_spectrum(
    tangent_step: TangentStep,
    state: np.ndarray,
    n_steps: int,
    dt: float = 1.0,
    transient: int = 0,
    reorthonormalization_interval: int = 1,
    n_exponents: int | None = None,
    n_blocks: int = 10,
) -> LyapunovSpectrum:
    """Compute the k largest Lyapunov exponents along the orbit of `state` by the QR method.

    Args:
        tangent_step: advances the state by one step and maps the tangent
            vectors with the Jacobian of that step.
        state: initial state, shape (N,).
        n_steps: steps averaged over after the transient.
        dt: time units per step; exponents are divided by it.
        transient: steps iterated first and not averaged.
        reorthonormalization_interval: steps between QR decompositions. 1 is
            safe for any system; larger values save time but overflow when
            the largest exponent times the interval exceeds about 700.
        n_exponents: k, at most N; all N by default.
        n_blocks: number of blocks for the convergence record.

    Raises:
        InputError: invalid step counts.
        NumericalError: the orbit or a tangent vector became non-finite.
    """
    state = np.asarray(state, dtype=np.float64)
    dimension = state.shape[0]
    n_exponents = dimension if n_exponents is None else n_exponents
    if not 1 <= n_exponents <= dimension:
        raise InputError(f"The number of exponents must be between 1 and the dimension {dimension}, got {n_exponents}.")
    if reorthonormalization_interval < 1:
        raise InputError(f"The re-orthonormalisation interval must be at least 1 step, got {reorthonormalization_interval}.")
    if n_steps < n_blocks * reorthonormalization_interval:
        raise InputError(
            f"{n_steps} steps are too few for {n_blocks} blocks of at least one re-orthonormalisation "
            f"every {reorthonormalization_interval} steps; use at least {n_blocks * reorthonormalization_interval}."
        )
    if transient < 0:
        raise InputError(f"The transient must be zero or positive, got {transient} steps.")

    vectors = np.ascontiguousarray(np.eye(dimension)[:, :n_exponents])

    # Transient: the orbit settles on the attractor and the vectors align with
    # the leading directions; nothing is accumulated.
    for step in range(transient):
        state, vectors = tangent_step(state, vectors)
        if (step + 1) % reorthonormalization_interval == 0:
            vectors, _ = orthonormalize(vectors)
    vectors, _ = orthonormalize(vectors)

    n_qr = n_steps // reorthonormalization_interval
    log_growth = np.empty((n_qr, n_exponents))
    for index in range(n_qr):
        for _ in range(reorthonormalization_interval):
            state, vectors = tangent_step(state, vectors)
        vectors, norms = orthonormalize(vectors)
        log_growth[index] = np.log(norms)
        if not np.all(np.isfinite(log_growth[index])) or not np.all(np.isfinite(state)):
            raise NumericalError(
                f"The Lyapunov computation became non-finite after {index * reorthonormalization_interval} steps "
                "(the orbit diverged, or a tangent vector collapsed onto zero). "
                "Check that the orbit is bounded; for a degenerate Jacobian ask for fewer exponents."
            )

    elapsed = dt * reorthonormalization_interval * np.arange(1, n_qr + 1)
    cumulative = np.cumsum(log_growth, axis=0) / elapsed[:, None]
    block_ends = np.linspace(0, n_qr, n_blocks + 1)[1:].astype(int) - 1
    running = cumulative[block_ends]
    spread = np.ptp(running[n_blocks // 2:], axis=0)

    exponents = cumulative[-1]
    order = np.argsort(exponents)[::-1]
    exponents = exponents[order]
    return LyapunovSpectrum(
        exponents=exponents,
        kaplan_yorke_dimension=kaplan_yorke_dimension(exponents),
        running=running[:, order],
        spread=spread[order],
        n_steps=n_qr * reorthonormalization_interval,
        transient=transient,
        reorthonormalization_interval=reorthonormalization_interval,
        dt=dt,
    )


def orthonormalize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return Q and |diag(R)| of the QR decomposition of the columns of `vectors` (N, k).

    Modified Gram-Schmidt, compiled with numba: for the small, nearly
    orthogonal matrices of the QR method it is as accurate as LAPACK's
    Householder QR and about ten times faster than numpy.linalg.qr, whose
    Python overhead dominates at this size. A column that is linearly
    dependent on the earlier ones gets norm 0 (and log 0 = −inf downstream).
    """
    return _modified_gram_schmidt(np.ascontiguousarray(vectors, dtype=np.float64))


@njit(cache=True)
def _modified_gram_schmidt(vectors):
    rows, columns = vectors.shape
    q = vectors.copy()
    norms = np.zeros(columns)
    for j in range(columns):
        for i in range(j):
            projection = 0.0
            for r in range(rows):
                projection += q[r, i] * q[r, j]
            for r in range(rows):
                q[r, j] -= projection * q[r, i]
        norm = 0.0
        for r in range(rows):
            norm += q[r, j] * q[r, j]
        norm = np.sqrt(norm)
        norms[j] = norm
        if norm > 0.0:
            for r in range(rows):
                q[r, j] /= norm
    return q, norms


def kaplan_yorke_dimension(exponents: np.ndarray) -> float:
    """Return the Kaplan-Yorke (Lyapunov) dimension D = j + (λ_1 + ... + λ_j) / |λ_{j+1}|.

    j is the largest index whose partial sum of the descending exponents is
    still non-negative. D is 0 when λ_1 < 0, and N when the full sum is
    non-negative (the formula needs a λ_{j+1}). Reference: J. L. Kaplan and
    J. A. Yorke, Lecture Notes in Mathematics 730 (1979) 204-227.
    """
    ordered = np.sort(np.asarray(exponents, dtype=np.float64))[::-1]
    partial_sums = np.cumsum(ordered)
    if ordered[0] < 0.0:
        return 0.0
    non_negative = np.nonzero(partial_sums >= 0.0)[0]
    j = int(non_negative[-1]) + 1
    if j == len(ordered):
        return float(len(ordered))
    return float(j + partial_sums[j - 1] / abs(ordered[j]))
