"""Power spectra of data and free run on a log scale, one panel per variable: the spectra that D_H compares."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from dsr.errors import InputError
from dsr.metrics.power_spectrum import power_spectrum
from dsr.plotting._style import (
    DATA_COLOUR, MODEL_COLOUR, figure_title, new_figure, time_unit_singular, variable_label,
)

DEFAULT_VARIABLES = 3

# The automatic frequency axis ends at twice the frequency below which the
# data's spectrum contains this share of its power (in every shown variable),
# so the decay of the spectrum stays in view. Spectra of finely sampled flows
# would otherwise crowd into the first few percent of the axis.
_POWER_SHARE = 0.99
_AXIS_MARGIN = 2.0


def power_spectrum_figure(data: np.ndarray, free_run: np.ndarray, dt: float, time_unit: str = "",
                          variables: tuple[str, ...] | None = None, smoothing_sigma: float = 20.0,
                          n_variables: int = DEFAULT_VARIABLES, max_frequency: float | None = None,
                          title: str = "Power spectra: data and free run", subtitle: str = "") -> Figure:
    """Plot the smoothed, normalised power spectra of data and free run for the first variables.

    Args:
        data, free_run: trajectories (T, N) and (T', N); both are cut to the
            shorter length so that their frequency bins match.
        dt: sampling step in `time_unit`; frequencies are in cycles per time unit.
        time_unit: unit of dt ("" for steps or unknown).
        variables: N names for the panel titles.
        smoothing_sigma: Gaussian smoothing in frequency bins, as in
            `dsr.metrics.power_spectrum.power_spectrum` and D_H (default 20).
        n_variables: panels, one per variable from the first (at most N).
        max_frequency: end of the frequency axis; by default twice the
            frequency below which the data contains 99 % of its power.

    Each spectrum is z-scored and sums to 1, so the curves compare shapes,
    not amplitudes, exactly as D_H does. A constant variable (a free run on
    a fixed point) has no spectrum, and its panel shows a note instead.
    """
    data = np.asarray(data, dtype=np.float64)
    free_run = np.asarray(free_run, dtype=np.float64)
    if data.ndim != 2 or free_run.ndim != 2 or data.shape[1] != free_run.shape[1]:
        raise InputError(f"Data and free run must have shapes (T, N) with the same N, got {data.shape} and {free_run.shape}.")
    if n_variables < 1:
        raise InputError(f"Show at least 1 variable, got {n_variables}.")
    if not (np.all(np.isfinite(data)) and np.all(np.isfinite(free_run))):
        raise InputError("Data and free run must be finite; a diverged free run has no spectrum.")
    if max_frequency is not None and not max_frequency > 0:
        raise InputError(f"The maximum frequency must be positive, got {max_frequency}.")
    length = min(len(data), len(free_run))
    count = min(n_variables, data.shape[1])
    frequencies, data_spectra = _spectra(data[:length, :count], smoothing_sigma, dt)
    _, model_spectra = _spectra(free_run[:length, :count], smoothing_sigma, dt)
    upper = max_frequency if max_frequency is not None else _automatic_max_frequency(frequencies, data_spectra)
    in_range = (frequencies > 0) & (frequencies <= upper)
    names = tuple(variables) if variables else tuple(f"x{i + 1}" for i in range(data.shape[1]))
    unit = time_unit_singular(time_unit, dt)

    figure = new_figure(12.0, 4.5)
    axes_list = figure.subplots(1, count, sharey=True, squeeze=False)[0]
    for index, axes in enumerate(axes_list):
        axes.semilogy(frequencies[in_range], data_spectra[in_range, index], color=DATA_COLOUR, linewidth=1.2, label="data")
        axes.semilogy(frequencies[in_range], model_spectra[in_range, index], color=MODEL_COLOUR, linewidth=1.2,
                      alpha=0.85, label="free run")
        for what, spectra in (("data", data_spectra), ("free run", model_spectra)):
            if np.all(np.isnan(spectra[:, index])):
                axes.text(0.5, 0.5 if what == "data" else 0.4, f"{what} constant: no spectrum", ha="center",
                          transform=axes.transAxes, color=DATA_COLOUR if what == "data" else MODEL_COLOUR)
        axes.set_title(variable_label(names[index]))
        axes.set_xlabel(f"frequency (cycles per {unit})")
        axes.set_xlim(0.0, upper)
        axes.grid(alpha=0.3)
    axes_list[0].set_ylabel("normalised power (each spectrum sums to 1)")
    axes_list[0].set_ylim(*_log_limits(data_spectra[in_range], model_spectra[in_range]))
    axes_list[0].legend(loc="upper right", fontsize="small")
    detail = f"{length:,} samples each, Gaussian smoothing σ = {smoothing_sigma:g} bins (as in D_H)"
    figure.suptitle(figure_title(title, f"{subtitle}, {detail}" if subtitle else detail))
    return figure


def _spectra(series: np.ndarray, smoothing_sigma: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Return `power_spectrum` of each column, with NaN columns for constant ones (a free run on a fixed point)."""
    spectra = np.full((series.shape[0] // 2 + 1, series.shape[1]), np.nan)
    frequencies = np.fft.rfftfreq(series.shape[0], d=dt)
    for column in range(series.shape[1]):
        # power_spectrum rejects a constant column, also one whose values differ
        # only by round-off, so each column is tried on its own.
        try:
            frequencies, spectra[:, column] = power_spectrum(series[:, column], smoothing_sigma, dt)
        except InputError:
            continue
    return frequencies, spectra


def _automatic_max_frequency(frequencies: np.ndarray, spectra: np.ndarray) -> float:
    cumulative = np.cumsum(spectra, axis=0)
    ends = [frequencies[min(np.searchsorted(cumulative[:, i], _POWER_SHARE), len(frequencies) - 1)]
            for i in range(spectra.shape[1]) if not np.isnan(cumulative[-1, i])]
    if not ends or max(ends) <= 0:
        return float(frequencies[-1])
    return float(min(_AXIS_MARGIN * max(ends), frequencies[-1]))


def _log_limits(data_spectra: np.ndarray, model_spectra: np.ndarray) -> tuple[float, float]:
    """Return y limits: up to twice the highest value of either spectrum, down to a decade below the data's lowest.

    The bottom follows the data alone, at most eight decades below the top.
    The free run's spectrum may drop far lower, for example a fixed point's,
    which has almost no power at high frequencies. Its curve then leaves the
    axes at the bottom, and the data's curve keeps its height.
    """
    data_values = np.ravel(data_spectra)
    data_values = data_values[np.isfinite(data_values) & (data_values > 0)]
    model_values = np.ravel(model_spectra)
    model_values = model_values[np.isfinite(model_values) & (model_values > 0)]
    if not data_values.size:
        return 1e-12, 1.0
    high = max(float(data_values.max()), float(model_values.max()) if model_values.size else 0.0)
    low = max(float(data_values.min()) / 10.0, high * 1e-8)
    return low, high * 2.0
