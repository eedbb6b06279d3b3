"""Projections of a trajectory to at most three plotting coordinates, shared by the attractor figures.

Up to three variables are plotted as they are. More than three are projected
on the first three principal components of the data, and the free run on the
same components, so that both panels show the same view. A single variable
is shown in delay coordinates (x(t), x(t + τ)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsr.errors import InputError
from dsr.plotting._style import variable_label

# Steps per point above which successive points are drawn unconnected: a map, or a coarsely sampled flow.
_POINT_STYLE_STEP_FRACTION = 0.2


@dataclass(frozen=True)
class Projection:
    """A linear map from N variables to the 1 to 3 coordinates of a figure.

    Attributes:
        mean: (N,) subtracted before projecting (zero for plain variables).
        components: (k, N) rows that span the plotting coordinates.
        labels: k axis labels.
        delay: τ in steps for a single variable shown in delay coordinates, else 0.
    """

    mean: np.ndarray
    components: np.ndarray
    labels: tuple[str, ...]
    delay: int = 0

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Return the coordinates (T, k) of points (T, N); delay coordinates have T − τ rows."""
        points = np.asarray(points, dtype=np.float64)
        if self.delay:
            series = points[:, 0]
            return np.column_stack([series[:-self.delay], series[self.delay:]])
        return (points - self.mean) @ self.components.T


def principal_components(data: np.ndarray, n_components: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the mean (N,), the first principal axes (k, N) and the fraction of variance each explains (k,).

    Computed by SVD of the centred data. The sign of each axis is fixed so
    that its largest entry is positive, which makes repeated calls agree.
    """
    data = np.asarray(data, dtype=np.float64)
    mean = data.mean(axis=0)
    _, singular_values, axes = np.linalg.svd(data - mean, full_matrices=False)
    n_components = min(n_components, axes.shape[0])
    axes = axes[:n_components]
    signs = np.sign(axes[np.arange(n_components), np.argmax(np.abs(axes), axis=1)])
    axes = axes * signs[:, None]
    variance = singular_values**2
    explained = variance[:n_components] / variance.sum() if variance.sum() > 0 else np.zeros(n_components)
    return mean, axes, explained


def decorrelation_delay(series: np.ndarray, max_delay: int | None = None) -> int:
    """Return the first delay in steps at which the autocorrelation of `series` falls below 1/e (at least 1).

    A common rule for the delay of a two-dimensional delay plot: successive
    coordinates are then neither near copies of each other nor unrelated.
    """
    series = np.asarray(series, dtype=np.float64)
    series = series - series.mean()
    max_delay = min(max_delay or max(1, len(series) // 10), len(series) - 1)
    # Autocovariance at all lags by FFT (zero-padded to avoid circular wrap-around).
    spectrum = np.fft.rfft(series, 2 * len(series))
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum))[:max_delay + 1]
    if autocovariance[0] <= 0.0:
        return 1
    below = np.flatnonzero(autocovariance[1:] / autocovariance[0] < np.exp(-1.0))
    return int(below[0]) + 1 if below.size else max(max_delay, 1)


def projection_for(data: np.ndarray, variables: tuple[str, ...] | None = None,
                   units: tuple[str, ...] | None = None) -> Projection:
    """Choose the plotting coordinates for data (T, N): the variables, principal components or delay coordinates."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 3:
        raise InputError(f"Data to project must have shape (T, N) with T >= 3, got {data.shape}.")
    n_variables = data.shape[1]
    variables = tuple(variables) if variables else tuple(f"x{i + 1}" for i in range(n_variables))
    units = tuple(units) if units else ("",) * n_variables
    if len(variables) != n_variables or len(units) != n_variables:
        raise InputError(f"Got {len(variables)} variable names and {len(units)} units for {n_variables} variables.")

    if n_variables == 1:
        delay = decorrelation_delay(data[:, 0])
        name = variables[0]
        labels = (variable_label(f"{name}(t)", units[0]), variable_label(f"{name}(t + {delay} steps)", units[0]))
        return Projection(np.zeros(1), np.eye(1), labels, delay=delay)
    if n_variables <= 3:
        labels = tuple(variable_label(name, unit) for name, unit in zip(variables, units))
        return Projection(np.zeros(n_variables), np.eye(n_variables), labels)

    mean, axes, explained = principal_components(data, 3)
    labels = tuple(f"PC{i + 1} ({100 * share:.0f} % of variance)" for i, share in enumerate(explained))
    return Projection(mean, axes, labels)


def draws_points(coordinates: np.ndarray) -> bool:
    """Return True when successive samples jump by more than a fifth of the spread, so lines would scribble."""
    coordinates = np.asarray(coordinates, dtype=np.float64)
    if len(coordinates) < 2:
        return True
    spread = float(np.linalg.norm(coordinates.std(axis=0)))
    if spread == 0.0:
        return True
    steps = np.linalg.norm(np.diff(coordinates, axis=0), axis=1)
    return float(np.median(steps)) > _POINT_STYLE_STEP_FRACTION * spread
