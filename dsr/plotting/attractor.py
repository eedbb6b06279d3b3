"""Data and free run side by side, in the same 2-D or 3-D projection and on the same axis limits."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dsr.errors import InputError
from dsr.plotting._style import DATA_COLOUR, MODEL_COLOUR, clip_to_limits, figure_title, new_figure, view_limits
from dsr.plotting.projections import Projection, draws_points, projection_for

# Samples drawn per panel; longer trajectories are cut to their first samples.
MAX_POINTS = 20_000

# A free run whose spread is below this fraction of the data's is drawn as large points.
_COLLAPSED_SPREAD = 0.01


def attractor_figure(data: np.ndarray, free_run: np.ndarray, variables: tuple[str, ...] | None = None,
                     units: tuple[str, ...] | None = None, title: str = "Attractor: data and free run",
                     subtitle: str = "", style: str = "auto", max_points: int = MAX_POINTS,
                     data_label: str = "data", model_label: str = "free run") -> Figure:
    """Draw the data (left) and the model's free run (right) in the same projection.

    Args:
        data, free_run: trajectories (T, N) and (T', N) in the same units.
        variables, units: N names and units for the axis labels.
        title, subtitle: figure title and a second line (run, model).
        style: "line" (flows), "points" (maps) or "auto", which draws points
            when successive samples jump by more than a fifth of the spread.
        max_points: samples drawn per panel, from the start of each trajectory.
        data_label, model_label: panel titles.

    The projection (`projections.projection_for`) is chosen on the data; with
    more than three variables it is the data's first three principal
    components. Both panels share axis limits, so a shrunken or inflated free
    run shows as such. The limits span at most three times the data's range,
    and a note gives the share of a free run that reaches beyond them. A free run whose spread is below 1 % of the data's
    (a fixed point, or a tiny cycle) is drawn as large points with a note,
    because a line that short would be invisible.
    """
    data = _check_trajectory("data", data)
    free_run = _check_trajectory("free_run", free_run)
    if data.shape[1] != free_run.shape[1]:
        raise InputError(f"Data has {data.shape[1]} variables but the free run has {free_run.shape[1]}.")
    if style not in ("auto", "line", "points"):
        raise InputError(f"Unknown style {style!r}; expected auto, line or points.")

    projection = projection_for(data, variables, units)
    data_coordinates = projection.apply(data[:max_points])
    model_coordinates = projection.apply(free_run[:max_points])
    as_points = draws_points(data_coordinates) if style == "auto" else style == "points"
    limits, outside = view_limits(data_coordinates, model_coordinates)

    three_d = data_coordinates.shape[1] == 3
    figure = new_figure(12.0, 6.0 if three_d else 5.5)
    collapsed = _spread(model_coordinates) < _COLLAPSED_SPREAD * _spread(data_coordinates)
    panels = [(data_label, data_coordinates, DATA_COLOUR, len(data)),
              (model_label, model_coordinates, MODEL_COLOUR, len(free_run))]
    for index, (label, coordinates, colour, length) in enumerate(panels):
        is_model = index == 1
        axes = figure.add_subplot(1, 2, index + 1, projection="3d" if three_d else None)
        count = f"{min(length, max_points):,} of {length:,} samples" if length > max_points else f"{length:,} samples"
        _draw(axes, coordinates, colour, count, as_points or (is_model and collapsed), large=is_model and collapsed)
        _label_axes(axes, projection, limits)
        axes.set_title(label)
        axes.legend(loc="upper left", fontsize="small")
        if is_model and collapsed:
            _note(axes, "spread below 1 % of the data's", three_d)
        if is_model and outside > 0:
            _note(axes, f"{100 * outside:.0f} % of the free run lies outside these axes", three_d)
    figure.suptitle(figure_title(title, subtitle))
    return figure


def _check_trajectory(name: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or len(values) < 3:
        raise InputError(f"{name} must have shape (T, N) with T >= 3, got {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise InputError(f"{name} contains NaN or infinite values; a diverged free run cannot be drawn.")
    return values


def _spread(coordinates: np.ndarray) -> float:
    return float(np.linalg.norm(coordinates.std(axis=0)))


def _draw(axes: Axes, coordinates: np.ndarray, colour: str, label: str, as_points: bool, large: bool = False) -> None:
    columns = [coordinates[:, i] for i in range(coordinates.shape[1])]
    clip = clip_to_limits(axes)
    if as_points:
        axes.scatter(*columns, s=30.0 if large else 1.0, color=colour, alpha=0.6, linewidths=0, label=label,
                     rasterized=True, **clip)
    else:
        axes.plot(*columns, color=colour, linewidth=0.4, alpha=0.8, label=label, **clip)


def _note(axes: Axes, text: str, three_d: bool) -> None:
    place = axes.text2D if three_d else axes.text
    place(0.98, 0.97, text, transform=axes.transAxes, ha="right", va="top", color=MODEL_COLOUR)


def _label_axes(axes: Axes, projection: Projection, limits: list[tuple[float, float]]) -> None:
    setters = [(axes.set_xlabel, axes.set_xlim), (axes.set_ylabel, axes.set_ylim)]
    if len(limits) == 3:
        setters.append((axes.set_zlabel, axes.set_zlim))
    for (set_label, set_limits), label, limit in zip(setters, projection.labels, limits):
        set_label(label)
        set_limits(*limit)
