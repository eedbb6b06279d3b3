"""The free run's attractor coloured by the linear subregion each state lies in.

A piecewise-linear model is affine within each subregion, which is one on/off
pattern of its ReLU units. Colouring the orbit by subregion shows which part
of the attractor each affine map generates. The colours match the nodes of the
transition graph figure (`transition_diagram`), because both rank the
subregions by visits with `subregion_colours`.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from dsr.errors import InputError
from dsr.plotting._style import figure_title, new_figure, padded_limits
from dsr.plotting.attractor import MAX_POINTS
from dsr.plotting.projections import projection_for

OTHER_COLOUR = (0.75, 0.75, 0.75, 1.0)

# Bit strings longer than this are replaced by symbol numbers in legends and graphs.
MAX_LABEL_LENGTH = 12

# A free run whose spread is below this fraction of the data's is drawn with large points.
_COLLAPSED_SPREAD = 0.01

# Distinct colours available; beyond this the least visited subregions share grey.
MAX_COLOURS = 20


def display_labels(labels: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """Return the labels to show and whether they are symbol numbers ("#3") instead of bit strings.

    Bit strings of more than MAX_LABEL_LENGTH units (a shPLRNN with L = 50
    has 50) do not fit a legend or a node, so all labels become numbers.
    """
    if any(len(label) > MAX_LABEL_LENGTH for label in labels):
        return tuple(f"#{symbol}" for symbol in range(len(labels))), True
    return tuple(labels), False


def subregion_colours(visits: np.ndarray, max_colours: int = MAX_COLOURS) -> tuple[np.ndarray, np.ndarray]:
    """Assign colours to subregions by visit rank: the most visited gets the first colour of tab10 or tab20.

    Returns the RGBA colours (K, 4) and a bool mask (K,) of the symbols that
    got a colour of their own. With more than `max_colours` visited
    subregions the most visited `max_colours − 1` get colours and all others
    share grey.
    """
    visits = np.asarray(visits, dtype=np.float64)
    if max_colours < 2:
        raise InputError(f"At least 2 colours are needed, got {max_colours}.")
    visited = np.flatnonzero(visits > 0)
    # Stable sort on −visits: ties keep the symbol order, so equal inputs give equal colours.
    ranked = visited[np.argsort(-visits[visited], kind="stable")]
    own = ranked if len(ranked) <= max_colours else ranked[:max_colours - 1]
    palette = colormaps["tab10" if len(own) <= 10 else "tab20"]
    colours = np.tile(np.asarray(OTHER_COLOUR), (len(visits), 1))
    for rank, symbol in enumerate(own):
        colours[symbol] = palette(rank)
    mask = np.zeros(len(visits), dtype=bool)
    mask[own] = True
    return colours, mask


def _spread(coordinates: np.ndarray) -> float:
    return float(np.linalg.norm(coordinates.std(axis=0)))


def subregion_attractor_figure(points: np.ndarray, symbols: np.ndarray, labels: tuple[str, ...],
                               reference: np.ndarray | None = None, variables: tuple[str, ...] | None = None,
                               units: tuple[str, ...] | None = None, title: str = "Free run coloured by subregion",
                               subtitle: str = "", max_colours: int = MAX_COLOURS,
                               max_points: int = MAX_POINTS) -> Figure:
    """Scatter the states of a free run, coloured by the subregion of each.

    Args:
        points: the free run (T, N) in observation space.
        symbols: (T,) subregion symbol of each state, indices into `labels`.
        labels: (K,) bit-string label of each symbol ("01": first ReLU unit
            off, second on), as `dsr.analysis.symbols.Alphabet.labels`.
        reference: the data (T', N), optional. The projection is then chosen
            on it, as in the attractor figure, so that both figures show the
            same view. The axis limits follow the free run alone, because this
            figure shows how the model's own attractor is pieced together. A
            free run whose spread is below 1 % of the reference's is drawn
            with large points.
        variables, units: names and units for the axis labels.
        max_colours: subregions with a colour of their own; the rest are grey.
        max_points: states drawn, from the first; the visit shares in the
            legend count all states.
    """
    points = np.asarray(points, dtype=np.float64)
    symbols = np.asarray(symbols)
    if points.ndim != 2 or symbols.shape != (len(points),):
        raise InputError(f"Points must be (T, N) with one symbol each, got {points.shape} and {symbols.shape}.")
    if symbols.size and (symbols.min() < 0 or symbols.max() >= len(labels)):
        raise InputError(f"Symbols must lie in 0..{len(labels) - 1} (one per label), got {symbols.min()}..{symbols.max()}.")
    projection = projection_for(points if reference is None else np.asarray(reference, dtype=np.float64),
                                variables, units)
    coordinates = projection.apply(points[:max_points])
    reference_coordinates = coordinates if reference is None else projection.apply(reference)
    collapsed = _spread(coordinates) < _COLLAPSED_SPREAD * _spread(reference_coordinates)
    size = 30.0 if collapsed else 2.0
    visits = np.bincount(symbols, minlength=len(labels))
    symbols = symbols[:len(coordinates)]
    names, numbered = display_labels(labels)
    colours, own = subregion_colours(visits, max_colours)
    three_d = coordinates.shape[1] == 3

    figure = new_figure(11.0, 7.5)
    axes = figure.add_subplot(1, 1, 1, projection="3d" if three_d else None)
    total = max(int(visits.sum()), 1)
    drawn = len(coordinates)
    for symbol in np.flatnonzero(own)[np.argsort(-visits[own], kind="stable")]:
        selected = symbols == symbol
        axes.scatter(*coordinates[selected].T, s=size, color=colours[symbol], linewidths=0, rasterized=True,
                     label=f"{names[symbol]}: {100 * visits[symbol] / total:.1f} % of steps")
    others = ~own[symbols]
    if np.any(others):
        n_others = int(np.count_nonzero((visits > 0) & ~own))
        axes.scatter(*coordinates[others].T, s=size, color=OTHER_COLOUR, linewidths=0, rasterized=True,
                     label=f"{n_others} other subregions: {100 * visits[~own].sum() / total:.1f} % of steps")

    setters = [(axes.set_xlabel, axes.set_xlim), (axes.set_ylabel, axes.set_ylim)]
    if three_d:
        setters.append((axes.set_zlabel, axes.set_zlim))
    for index, ((set_label, set_limits), label) in enumerate(zip(setters, projection.labels)):
        set_label(label)
        set_limits(*padded_limits(coordinates[:, index]))
    legend_title = "subregion (symbol number)" if numbered else "subregion (ReLU units on = 1)"
    legend = axes.legend(title=legend_title, loc="center left", bbox_to_anchor=(1.05, 0.5), fontsize="small",
                         markerscale=1 if collapsed else 5)
    legend.get_title().set_fontsize("small")
    n_visited = int(np.count_nonzero(visits))
    detail = f"{total:,} states in {n_visited} subregion{'s' if n_visited != 1 else ''}"
    if drawn < total:
        detail += f", the first {drawn:,} drawn"
    if collapsed:
        detail += ", spread below 1 % of the data's"
    figure.suptitle(figure_title(title, f"{subtitle}, {detail}" if subtitle else detail))
    return figure
