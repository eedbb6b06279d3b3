"""Convergence of a model's Lyapunov spectrum: the running QR estimates against the averaging time."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from dsr.errors import InputError
from dsr.plotting._style import DATA_COLOUR, REFERENCE_LINE_COLOUR, figure_title, new_figure, time_axis_label, time_unit_singular

DEFAULT_EXPONENTS = 3


def lyapunov_convergence_figure(running: np.ndarray, times: np.ndarray, time_unit: str = "", dt: float = 1.0,
                                n_exponents: int = DEFAULT_EXPONENTS, data_lambda1: float | None = None,
                                title: str = "Lyapunov spectrum convergence", subtitle: str = "") -> Figure:
    """Plot the running estimates of the largest exponents, each against the time averaged over so far.

    Args:
        running: (n_blocks, M) estimates at the end of each block, largest
            exponent first, per time unit (`LyapunovSpectrum.running` or the
            `lyapunov_running` dataset of the metrics group).
        times: (n_blocks,) averaging time at the end of each block, in time units.
        time_unit, dt: for the axis labels ("" and dt = 1 mean steps).
        n_exponents: how many of the largest exponents to draw in the left
            panel (at most M). Strongly negative exponents of a large M would
            compress the leading ones, which decide chaos, into a flat line.
        data_lambda1: λ1 of the data (Rosenstein estimate), drawn as a dashed
            reference line in the right panel, which shows λ1 alone. None or
            NaN leaves it out.

    Converged estimates end flat; the last value of each line is the reported exponent.
    """
    running = np.asarray(running, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if running.ndim != 2 or running.shape[0] < 1 or times.shape != (running.shape[0],):
        raise InputError(f"Running estimates must be (n_blocks, M) with one time per block, got {running.shape} and {times.shape}.")
    if n_exponents < 1:
        raise InputError(f"Draw at least 1 exponent, got {n_exponents}.")
    count = min(n_exponents, running.shape[1])
    unit = time_unit_singular(time_unit, dt)

    figure = new_figure(12.0, 5.5)
    spectrum_axes, leading_axes = figure.subplots(1, 2)
    colours = [f"C{index % 10}" for index in range(count)]
    for index in range(count):
        final = running[-1, index]
        spectrum_axes.plot(times, running[:, index], color=colours[index], marker="o", markersize=3, linewidth=1.4,
                           label=f"λ{index + 1} → {final:.3g} per {unit}")
    spectrum_axes.set_title(f"largest {count} exponent{'s' if count != 1 else ''}")

    # λ1 alone on its own scale: its sign decides chaos, and strongly negative
    # exponents in the left panel compress it into a flat line.
    leading_axes.plot(times, running[:, 0], color=colours[0], marker="o", markersize=3, linewidth=1.4,
                      label=f"λ1 → {running[-1, 0]:.3g} per {unit}")
    if data_lambda1 is not None and math.isfinite(data_lambda1):
        leading_axes.axhline(data_lambda1, color=DATA_COLOUR, linestyle="--", linewidth=1.0,
                             label=f"λ1 of the data (Rosenstein) = {data_lambda1:.3g}")
    leading_axes.set_title("λ1 enlarged")

    for axes in (spectrum_axes, leading_axes):
        axes.axhline(0.0, color=REFERENCE_LINE_COLOUR, linewidth=0.8)
        axes.set_xlabel(f"averaging {time_axis_label(time_unit, dt)}")
        axes.set_ylabel(f"exponent (per {unit})")
        axes.set_xlim(0.0, float(times[-1]) * 1.02)
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="small")
    hidden = running.shape[1] - count
    detail = f"largest {count} of {running.shape[1]} exponents" if hidden else f"all {count} exponents"
    figure.suptitle(figure_title(title, f"{subtitle}, {detail}" if subtitle else detail))
    return figure
