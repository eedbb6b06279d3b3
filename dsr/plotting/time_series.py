"""Time series overlay: the data and a free run started from its first sample, one panel per variable."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from dsr.errors import InputError
from dsr.plotting._style import (
    DATA_COLOUR, MODEL_COLOUR, figure_title, new_figure, time_axis_label, variable_label, view_limits,
)

# Defaults: the first three variables over 2,000 steps (20 time units, about 25 Lorenz-63 loops, at dt = 0.01).
DEFAULT_VARIABLES = 3
DEFAULT_WINDOW = 2_000


def time_series_figure(data: np.ndarray, free_run: np.ndarray, dt: float, time_unit: str = "",
                       variables: tuple[str, ...] | None = None, units: tuple[str, ...] | None = None,
                       n_variables: int = DEFAULT_VARIABLES, window: int = DEFAULT_WINDOW,
                       title: str = "Time series: data and free run", subtitle: str = "") -> Figure:
    """Overlay the data and a free run over the first `window` steps, one panel for each of the first variables.

    Args:
        data: observed trajectory (T, N).
        free_run: the model's free run (T', N) started from data[0], in the
            same units; sample t of both is at time t * dt.
        dt: sampling step, in `time_unit`; the x axis is in time units.
        time_unit: unit of dt ("" for steps or unknown).
        variables, units: N names and units for the y labels.
        n_variables: panels, one per variable from the first (at most N).
        window: steps shown (at most the shorter trajectory).

    A free run from the data's first sample follows it for a few Lyapunov
    times and then separates. After that, a good model still keeps the
    data's amplitudes and time scales. The y axes span at most three times
    the data's range, so a growing free run does not flatten the data. A
    note gives the share of steps where the free run leaves the axes.
    """
    data = np.asarray(data, dtype=np.float64)
    free_run = np.asarray(free_run, dtype=np.float64)
    if data.ndim != 2 or free_run.ndim != 2 or data.shape[1] != free_run.shape[1]:
        raise InputError(f"Data and free run must have shapes (T, N) with the same N, got {data.shape} and {free_run.shape}.")
    if n_variables < 1 or window < 2:
        raise InputError(f"Show at least 1 variable and a window of 2 steps, got {n_variables} variables and {window} steps.")
    if not dt > 0:
        raise InputError(f"The sampling step dt must be positive, got {dt}.")
    count = min(n_variables, data.shape[1])
    length = min(window, len(data), len(free_run))
    names = tuple(variables) if variables else tuple(f"x{i + 1}" for i in range(data.shape[1]))
    unit_names = tuple(units) if units else ("",) * data.shape[1]
    time = dt * np.arange(length)

    figure = new_figure(12.0, 1.0 + 2.0 * count)
    axes_list = figure.subplots(count, 1, sharex=True, squeeze=False)[:, 0]
    for index, axes in enumerate(axes_list):
        axes.plot(time, data[:length, index], color=DATA_COLOUR, linewidth=0.9, label="data")
        axes.plot(time, free_run[:length, index], color=MODEL_COLOUR, linewidth=0.9, alpha=0.85,
                  label="free run from the first data sample")
        axes.set_ylabel(variable_label(names[index], unit_names[index]))
        axes.set_xlim(time[0], time[-1])
        (limits,), outside = view_limits(data[:length, index:index + 1], free_run[:length, index:index + 1])
        axes.set_ylim(*limits)
        if outside > 0:
            axes.text(0.01, 0.03, f"the free run leaves the axes in {100 * outside:.0f} % of the steps",
                      transform=axes.transAxes, color=MODEL_COLOUR, fontsize="small")
        axes.grid(alpha=0.3)
    axes_list[0].legend(loc="upper right", fontsize="small", ncols=2)
    axes_list[-1].set_xlabel(time_axis_label(time_unit, dt))
    hidden = data.shape[1] - count
    more = f"; {hidden} more variable{'s' if hidden != 1 else ''} not shown" if hidden else ""
    detail = f"first {length:,} steps{more}"
    figure.suptitle(figure_title(title, f"{subtitle}, {detail}" if subtitle else detail))
    return figure
