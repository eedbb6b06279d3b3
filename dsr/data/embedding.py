"""Delay embedding of scalar or low-dimensional series, and the choice of the delay.

Takens' theorem: for a generic observable of a system on an attractor of box
dimension d, delay vectors of dimension greater than 2d reconstruct the
attractor up to a smooth change of coordinates. In practice much smaller
dimensions often suffice (3 for the Lorenz attractor). References: F. Takens,
Lecture Notes in Mathematics 898 (1981) 366-381; H. Kantz and T. Schreiber,
Nonlinear Time Series Analysis, 2nd ed., Cambridge University Press (2004).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsr.errors import InputError

# Bins per axis of the joint histogram behind the mutual information. With
# 10^4 samples, 16 x 16 = 256 cells hold about 40 samples each on average,
# enough for a stable estimate of the curve's first minimum.
MUTUAL_INFORMATION_BINS = 16


@dataclass(frozen=True)
class LagChoice:
    """A delay chosen from the data, with the rule that chose it."""

    lag: int
    method: str
    curve: np.ndarray


def delay_embed(values: np.ndarray, dimension: int, lag: int, columns: list[str]) -> tuple[np.ndarray, list[str]]:
    """Return the delay vectors of each column and their names.

    Row t of the result is (x(t), x(t − L), ..., x(t − (d − 1)L)) for each
    column x in turn, for t from (d − 1)L on, so the result has
    T − (d − 1)L rows and N·d columns.
    """
    n_samples = values.shape[0]
    if dimension < 1 or lag < 1:
        raise InputError(f"The embedding dimension and lag must be at least 1, got --embed {dimension} --lag {lag}.")
    span = (dimension - 1) * lag
    if n_samples - span < 2:
        raise InputError(
            f"A series of {n_samples} samples is too short for --embed {dimension} --lag {lag}, "
            f"which needs more than {span + 1} samples. Use a smaller dimension or lag."
        )
    blocks, names = [], []
    for column, name in enumerate(columns):
        for delay in range(dimension):
            start = span - delay * lag
            blocks.append(values[start:n_samples - delay * lag, column])
            names.append(name if delay == 0 else f"{name}(t-{delay * lag})")
    return np.stack(blocks, axis=1), names


def mutual_information_curve(x: np.ndarray, max_lag: int, n_bins: int = MUTUAL_INFORMATION_BINS) -> np.ndarray:
    """Return the average mutual information I(x(t); x(t + τ)) in nats for τ = 0..max_lag.

    The joint distribution is a histogram with `n_bins` equal-width bins per
    axis over the range of x (A. M. Fraser and H. L. Swinney, Phys. Rev. A 33
    (1986) 1134).
    """
    edges = np.linspace(x.min(), x.max(), n_bins + 1)
    symbols = np.clip(np.digitize(x, edges[1:-1]), 0, n_bins - 1)
    curve = np.empty(max_lag + 1)
    for lag in range(max_lag + 1):
        first, second = symbols[:len(x) - lag], symbols[lag:]
        joint = np.bincount(first * n_bins + second, minlength=n_bins * n_bins).reshape(n_bins, n_bins)
        joint = joint / joint.sum()
        outer = joint.sum(axis=1)[:, None] * joint.sum(axis=0)[None, :]
        occupied = joint > 0
        curve[lag] = float(np.sum(joint[occupied] * np.log(joint[occupied] / outer[occupied])))
    return curve


def choose_lag(x: np.ndarray, max_lag: int | None = None) -> LagChoice:
    """Choose a delay for a scalar series.

    Rule: the first local minimum of the average mutual information (Fraser
    and Swinney 1986). If the curve has no minimum up to `max_lag` (default
    min(T / 10, 500)), the first lag at which the autocorrelation falls below
    1/e is used instead.
    """
    x = np.asarray(x, dtype=np.float64)
    max_lag = min(len(x) // 10, 500) if max_lag is None else max_lag
    if max_lag < 2:
        raise InputError(f"A series of {len(x)} samples is too short to choose a lag automatically; pass --lag explicitly.")

    information = mutual_information_curve(x, max_lag)
    for lag in range(1, max_lag):
        if information[lag] < information[lag - 1] and information[lag] <= information[lag + 1]:
            return LagChoice(lag, "first minimum of the mutual information", information)

    centred = x - x.mean()
    autocorrelation = np.array([np.dot(centred[:len(x) - lag], centred[lag:]) for lag in range(max_lag + 1)])
    autocorrelation /= autocorrelation[0]
    below = np.nonzero(autocorrelation < np.exp(-1.0))[0]
    if below.size:
        return LagChoice(int(below[0]), "autocorrelation below 1/e (the mutual information had no minimum)", autocorrelation)
    raise InputError(
        f"Neither the mutual information nor the autocorrelation of the series decays within {max_lag} samples, "
        "so no lag can be chosen automatically. Pass --lag, or downsample the series first."
    )
