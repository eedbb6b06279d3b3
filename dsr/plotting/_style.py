"""Figure creation, colours and axis labels shared by every figure kind.

Figures are built as `matplotlib.figure.Figure` objects without pyplot, so no
GUI backend is ever loaded and nothing stays registered after a figure is
saved: PNG output is rendered by Agg and PDF output by matplotlib's PDF
backend, both headless.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# Data in near-black, the model's free run in red: readable in greyscale prints too.
DATA_COLOUR = "#222222"
MODEL_COLOUR = "#d62728"
REFERENCE_LINE_COLOUR = "#888888"

# Resolution of written PNG files. A 12 x 5 inch figure becomes 1800 x 750 pixels.
DEFAULT_DPI = 150


def clip_to_limits(axes: Axes) -> dict[str, bool]:
    """Return the keyword that makes a 3-D plot call clip at the axis limits, or none where it is not needed or not available.

    2-D axes clip anyway. 3-D axes draw points outside their limits unless
    called with axlim_clip=True, which matplotlib has since version 3.10.
    """
    # NOTE: with matplotlib 3.8 or 3.9, a free run far outside the data's range is drawn outside the 3-D box.
    version = tuple(int(part) for part in matplotlib.__version__.split(".")[:2] if part.isdigit())
    return {"axlim_clip": True} if axes.name == "3d" and version >= (3, 10) else {}


def new_figure(width: float, height: float) -> Figure:
    """Return an empty figure of `width` x `height` inches with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def variable_label(name: str, unit: str = "") -> str:
    """Return an axis label such as "x (mV)", or the bare name when the unit is unknown."""
    return f"{name} ({unit})" if unit else name


def time_unit_singular(time_unit: str, dt: float) -> str:
    """Return the singular time unit for rates and frequencies: "time unit", "s" or "step".

    Simulated flows store "time units"; maps and data of unknown unit store
    "", which means steps when dt is 1.
    """
    unit = time_unit.strip()
    if unit == "time units":
        return "time unit"
    if unit:
        return unit
    return "step" if dt == 1.0 else "time unit"


def time_axis_label(time_unit: str, dt: float) -> str:
    """Return the label of a time axis, for example "time (time units)" or "time (steps)"."""
    unit = time_unit.strip()
    if unit:
        return f"time ({unit})"
    return "time (steps)" if dt == 1.0 else "time (time units)"


def figure_title(title: str, subtitle: str = "") -> str:
    """Join a figure title and an optional second line (run name, model, parameters)."""
    return f"{title}\n{subtitle}" if subtitle else title


# Axis limits cover a free run that overshoots the data up to this many times
# the data's range. Wider axes would shrink the data to a dot.
MAX_RANGE_FACTOR = 3.0


def view_limits(data: np.ndarray, free_run: np.ndarray) -> tuple[list[tuple[float, float]], float]:
    """Return shared axis limits (low, high) per coordinate of data and free run (T, k), and the share of the free run outside them.

    The limits cover both trajectories, but each axis spans at most
    MAX_RANGE_FACTOR times the data's padded range around its centre.
    """
    limits = []
    for column in range(data.shape[1]):
        data_low, data_high = padded_limits(data[:, column])
        union_low, union_high = padded_limits(data[:, column], free_run[:, column])
        centre, half_span = (data_low + data_high) / 2, MAX_RANGE_FACTOR * (data_high - data_low) / 2
        limits.append((max(union_low, centre - half_span), min(union_high, centre + half_span)))
    lows = np.array([low for low, _ in limits])
    highs = np.array([high for _, high in limits])
    outside = np.any((free_run < lows) | (free_run > highs), axis=1)
    return limits, float(outside.mean()) if len(outside) else 0.0


def padded_limits(*arrays: Sequence[float], margin: float = 0.05) -> tuple[float, float]:
    """Return (low, high) covering every value of the arrays, widened by `margin` of the range on each side."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values)]
    if not values.size:
        return -1.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high == low:
        return low - 1.0, high + 1.0
    pad = margin * (high - low)
    return low - pad, high + pad
