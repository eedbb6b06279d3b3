"""The subregion transition graph drawn on a circle: node area for time spent, arrows for where the orbit goes next.

Drawn with matplotlib patches, because the layout is a fixed circle and
networkx is not a dsr dependency.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from dsr.analysis.transition_graph import TransitionGraph
from dsr.errors import InputError
from dsr.plotting._style import figure_title, new_figure
from dsr.plotting.subregions import MAX_COLOURS, display_labels, subregion_colours

# Nodes drawn at most: the most visited subregions. More make the circle unreadable.
MAX_NODES = 16

# Edges whose probability is below this are left out.
MIN_PROBABILITY = 0.01

# Curvature of the arcs, so that i -> j and j -> i do not overlap.
_ARC_RADIUS = 0.18


def transition_graph_figure(graph: TransitionGraph, max_nodes: int = MAX_NODES,
                            min_probability: float = MIN_PROBABILITY, title: str = "Subregion transition graph",
                            subtitle: str = "", max_colours: int = MAX_COLOURS) -> Figure:
    """Draw the transition graph of a symbol sequence on a circle.

    Nodes are the `max_nodes` most visited subregions, with area proportional
    to the share of steps spent in each, the subregion's bit string inside
    and, below, that share and the probability P_ii of staying for another
    step. An arrow i -> j is drawn for P_ij > `min_probability`, where P_ij
    is the probability of moving to j when the orbit leaves i (self-
    transitions dropped, `TransitionGraph.probabilities_without_self`); its
    width and label give P_ij. Node colours match `subregion_attractor_figure`
    for the same visits and `max_colours`.
    """
    if max_nodes < 1:
        raise InputError(f"Draw at least 1 node, got max_nodes = {max_nodes}.")
    if not 0.0 <= min_probability < 1.0:
        raise InputError(f"The minimum edge probability must lie in [0, 1), got {min_probability}.")
    visits = np.asarray(graph.visits, dtype=np.float64)
    visited = np.flatnonzero(visits > 0)
    if not visited.size:
        raise InputError("The transition graph has no visited subregion; symbolise a longer orbit.")
    ranked = visited[np.argsort(-visits[visited], kind="stable")]
    nodes = np.sort(ranked[:max_nodes])
    colours, _ = subregion_colours(visits, max_colours)
    total = visits.sum()
    names, numbered = display_labels(graph.labels)

    figure = new_figure(8.5, 8.5)
    axes = figure.subplots()
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_xlim(-1.5, 1.5)
    axes.set_ylim(-1.5, 1.5)

    positions = _circle_positions(len(nodes))
    largest_radius = 0.22 if len(nodes) < 4 else min(0.22, 0.45 * 2 * math.sin(math.pi / len(nodes)))
    shares = visits[nodes] / total
    radii = largest_radius * np.sqrt(shares / shares.max()).clip(0.25, 1.0)
    circles = {}
    for node, (x, y), radius, share in zip(nodes, positions, radii, shares):
        circle = Circle((x, y), radius, facecolor=colours[node], edgecolor="black", linewidth=0.8, zorder=3)
        axes.add_patch(circle)
        circles[node] = circle
        stay = graph.probabilities[node, node]
        label_x, label_y = _outside(x, y, radius)
        axes.text(label_x, label_y, f"{names[node]}\n{100 * share:.1f} % of steps\nstays: {stay:.2f}",
                  ha="center", va="center", fontsize=8)

    edges = [(i, j) for i in nodes for j in nodes
             if i != j and graph.probabilities_without_self[i, j] > min_probability]
    label_all = len(edges) <= 40
    for i, j in edges:
        probability = graph.probabilities_without_self[i, j]
        arrow = FancyArrowPatch(
            posA=circles[i].center, posB=circles[j].center, patchA=circles[i], patchB=circles[j],
            arrowstyle="-|>", mutation_scale=10 + 8 * probability, linewidth=0.6 + 4.0 * probability,
            connectionstyle=f"arc3,rad={_ARC_RADIUS}", color="#444444", alpha=0.35 + 0.55 * probability, zorder=2,
        )
        axes.add_patch(arrow)
        if label_all or probability >= 0.1:
            x, y = _arc_midpoint(np.asarray(circles[i].center), np.asarray(circles[j].center))
            axes.text(x, y, f"{probability:.2f}", ha="center", va="center", fontsize=8, zorder=5,
                      bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.8, "linewidth": 0})

    hidden = len(visited) - len(nodes)
    caption = [f"{len(visited)} subregion{'s' if len(visited) != 1 else ''} visited"
               + (f"; the {len(nodes)} most visited are shown ({100 * shares.sum():.0f} % of steps)." if hidden else ".")]
    if numbered:
        caption.append(f"Subregions are numbered because their bit strings have {len(graph.labels[0])} units.")
    caption.append(f"Arrow i → j: probability of moving to j when the orbit leaves i, drawn above {min_probability:g}. "
                   "Node area: share of steps; \"stays\": probability of staying one more step.")
    if len(visited) == 1:
        caption.append("The orbit never leaves its subregion, so the model acts on it as one affine map.")
    figure.text(0.5, 0.01, "\n".join(caption), ha="center", va="bottom", fontsize=9, wrap=True)
    figure.suptitle(figure_title(title, subtitle))
    return figure


def _outside(x: float, y: float, radius: float) -> tuple[float, float]:
    """Return a point just outside a node, away from the centre of the circle (below a node at the centre)."""
    distance = math.hypot(x, y)
    if distance == 0.0:
        return x, y - radius - 0.15
    scale = 1.0 + (radius + 0.15) / distance
    return x * scale, y * scale


def _circle_positions(count: int) -> np.ndarray:
    """Return (count, 2) points on the unit circle, the first at the top, clockwise; one node sits at the centre."""
    if count == 1:
        return np.zeros((1, 2))
    angles = math.pi / 2 - 2 * math.pi * np.arange(count) / count
    return np.column_stack([np.cos(angles), np.sin(angles)])


def _arc_midpoint(start: np.ndarray, end: np.ndarray) -> tuple[float, float]:
    """Return the midpoint of matplotlib's "arc3" quadratic Bézier curve from start to end.

    Its control point is the chord's midpoint shifted by rad · (dy, −dx), so
    the curve's midpoint is the chord's midpoint shifted by half that.
    """
    dx, dy = end - start
    middle = (start + end) / 2
    return float(middle[0] + 0.5 * _ARC_RADIUS * dy), float(middle[1] - 0.5 * _ARC_RADIUS * dx)
