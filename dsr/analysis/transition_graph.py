"""The transition graph of a symbol sequence: counts, a Markov chain, its stationary distribution and components.

Nodes are subregions (symbols) and a directed edge i -> j carries the number
C_ij of steps from i to j within one sequence. Normalising each row gives the
maximum-likelihood transition matrix of a first-order Markov chain,
P_ij = C_ij / Σ_j C_ij. Without self-transitions the diagonal of C is
dropped before normalising, so P_ij is the probability that the orbit moves
to j when it leaves i. Dwell times then describe how long it stays (see
`symbolic_statistics.mean_dwell_times`).
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve

from dsr.analysis.symbols import Symbols, SymbolSequence, alphabet_size, as_sequences
from dsr.analysis.symbolic_statistics import visit_counts
from dsr.atomic import atomic_path
from dsr.errors import InputError, NumericalError

logger = logging.getLogger(__name__)

GRAPHML_NAMESPACE = "http://graphml.graphdrawing.org/xmlns"

# Row sums within this distance of 1 count as stochastic.
_ROW_SUM_TOLERANCE = 1e-9


def transition_counts(symbols: Symbols, n_symbols: int | None = None) -> np.ndarray:
    """Return C (K, K), int64: C_ij is the number of steps from symbol i to symbol j within one sequence."""
    # NOTE: C is dense, K² × 8 bytes (800 MB at K = 10^4 visited subregions);
    # models that visit that many subregions need a sparse variant.
    n_symbols = alphabet_size(symbols, n_symbols)
    counts = np.zeros(n_symbols * n_symbols, dtype=np.int64)
    for sequence in as_sequences(symbols):
        if len(sequence) > 1:
            counts += np.bincount(sequence[:-1] * n_symbols + sequence[1:], minlength=n_symbols * n_symbols)
    return counts.reshape(n_symbols, n_symbols)


def transition_matrix(counts: np.ndarray, self_transitions: bool = True) -> np.ndarray:
    """Return the row-stochastic transition matrix P_ij = C_ij / Σ_j C_ij, (K, K).

    With `self_transitions=False` the diagonal of C is set to zero first. A
    row without any counted transition (a symbol never left, for example
    one that occurs only at the end of a sequence) stays all zero, so such
    rows sum to 0 instead of 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise InputError(f"Transition counts must be a square matrix, got shape {counts.shape}.")
    if np.any(counts < 0):
        raise InputError("Transition counts must be non-negative.")
    if not self_transitions:
        counts = counts.copy()
        np.fill_diagonal(counts, 0.0)
    row_sums = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)


def strongly_connected_components(matrix: np.ndarray) -> tuple[int, np.ndarray]:
    """Return the number of strongly connected components of the graph with an edge i -> j where matrix[i, j] > 0, and each node's component label.

    Every node is its own component unless it lies on a cycle with others.
    So a node without edges, for example an unvisited symbol, is a component
    of its own.
    """
    adjacency = sparse.csr_matrix(np.asarray(matrix) > 0)
    n_components, labels = csgraph.connected_components(adjacency, directed=True, connection="strong")
    return int(n_components), labels.astype(np.int64)


def closed_classes(matrix: np.ndarray) -> list[np.ndarray]:
    """Return the closed communicating classes of a transition matrix: components that the chain cannot leave.

    A class qualifies when no edge leaves it and every one of its rows sums
    to 1, so a symbol whose row is all zero (never left) is not a class.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    n_components, labels = strongly_connected_components(matrix)
    row_sums = matrix.sum(axis=1)
    sources, targets = np.nonzero(matrix > 0)
    leaving = np.zeros(n_components, dtype=bool)
    leaving[labels[sources][labels[sources] != labels[targets]]] = True
    classes = []
    for component in range(n_components):
        members = np.flatnonzero(labels == component)
        if leaving[component] or np.any(np.abs(row_sums[members] - 1.0) > _ROW_SUM_TOLERANCE):
            continue
        classes.append(members)
    return classes


def stationary_distribution(matrix: np.ndarray) -> np.ndarray:
    """Return the stationary distribution π = π P of a transition matrix with exactly one closed class.

    π is zero outside the closed class C and solves π_C (P_CC − I) = 0 with
    Σ π = 1 on it; for an irreducible P this is the unique stationary
    distribution (any finite chain with one closed class has a unique one).

    Raises:
        InputError: the chain has no closed class (probability leaks into
            rows that are all zero) or several, so π does not exist or is not
            unique. Restrict the matrix to one strongly connected component,
            or use the empirical visit distribution instead.
        NumericalError: the linear system could not be solved.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InputError(f"A transition matrix must be square, got shape {matrix.shape}.")
    classes = closed_classes(matrix)
    if len(classes) != 1:
        found = "no closed class" if not classes else f"{len(classes)} closed classes"
        raise InputError(
            f"The chain has {found}, so its stationary distribution is not unique or does not exist. Restrict the "
            "matrix to one strongly connected component, or use the empirical visit distribution instead."
        )
    members = classes[0]
    restricted = sparse.csr_matrix(matrix[np.ix_(members, members)])

    # π (Q − I) = 0 has rank n − 1 on an irreducible class, so one equation
    # can be replaced by the normalisation Σ π = 1.
    system = (restricted.T - sparse.identity(len(members), format="csr")).tolil()
    system[len(members) - 1, :] = 1.0
    right = np.zeros(len(members))
    right[-1] = 1.0
    solution = np.atleast_1d(spsolve(system.tocsc(), right))
    if not np.all(np.isfinite(solution)):
        raise NumericalError("Solving for the stationary distribution failed (singular system).")

    distribution = np.zeros(len(matrix))
    # Clip round-off below zero and renormalise.
    distribution[members] = np.clip(solution, 0.0, None)
    return distribution / distribution.sum()


@dataclass(frozen=True)
class TransitionGraph:
    """Transition statistics of one set of symbol sequences over an alphabet of K symbols.

    Attributes:
        counts: (K, K) transition counts C_ij.
        probabilities: (K, K) row-stochastic P with self-transitions.
        probabilities_without_self: (K, K) P after dropping the diagonal of C.
        visits: (K,) occurrences of each symbol.
        labels: (K,) bit-string labels, or the symbol numbers as strings.
        n_components: number of strongly connected components among the
            visited symbols.
        components: (K,) component label of each symbol, numbered 0..n−1
            over visited symbols and −1 for unvisited ones.
    """

    counts: np.ndarray
    probabilities: np.ndarray
    probabilities_without_self: np.ndarray
    visits: np.ndarray
    labels: tuple[str, ...]
    n_components: int
    components: np.ndarray

    @property
    def n_symbols(self) -> int:
        """Size K of the alphabet."""
        return int(len(self.visits))


def transition_graph(symbols: Symbols, n_symbols: int | None = None) -> TransitionGraph:
    """Count the transitions between symbols and build the transition matrices and strongly connected components."""
    n_symbols = alphabet_size(symbols, n_symbols)
    counts = transition_counts(symbols, n_symbols)
    visits = visit_counts(symbols, n_symbols)
    if isinstance(symbols, SymbolSequence):
        labels = symbols.alphabet.labels
    else:
        labels = tuple(str(symbol) for symbol in range(n_symbols))

    # Components among visited symbols only: unvisited symbols would each
    # add a trivial component.
    visited = np.flatnonzero(visits)
    components = np.full(n_symbols, -1, dtype=np.int64)
    n_components, visited_components = strongly_connected_components(counts[np.ix_(visited, visited)])
    components[visited] = visited_components
    return TransitionGraph(
        counts=counts,
        probabilities=transition_matrix(counts),
        probabilities_without_self=transition_matrix(counts, self_transitions=False),
        visits=visits,
        labels=labels,
        n_components=n_components,
        components=components,
    )


def _graphml_type(values: np.ndarray) -> tuple[str, Any]:
    """Return the GraphML attr.type of an array and the Python type to convert its items to."""
    values = np.asarray(values)
    if values.dtype == bool:
        return "boolean", bool
    if np.issubdtype(values.dtype, np.integer):
        return "long", int
    if np.issubdtype(values.dtype, np.floating):
        return "double", float
    return "string", str


def _graphml_text(value: Any, kind: Any) -> str:
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return repr(float(value))
    return str(kind(value))


def write_graphml(graph: TransitionGraph, path: str | os.PathLike, node_attributes: Mapping[str, np.ndarray] | None = None) -> None:
    """Write the transition graph as GraphML (a directed graph), atomically.

    Nodes are the visited symbols, with the bit-string label as node id and
    the attributes symbol, label, visits, share, component, plus one per entry
    of `node_attributes` (name -> (K,) array, bool, int, float or str). Edges
    are the observed transitions, with attributes count, probability and
    probability_without_self (0 on self-loops). The GraphML format is
    specified at http://graphml.graphdrawing.org/specification.html.
    """
    node_attributes = dict(node_attributes or {})
    for name, values in node_attributes.items():
        if len(values) != graph.n_symbols:
            raise InputError(f"Node attribute {name!r} has {len(values)} values, but the graph has {graph.n_symbols} symbols.")

    total = max(int(graph.visits.sum()), 1)
    node_columns: dict[str, np.ndarray] = {
        "symbol": np.arange(graph.n_symbols),
        "label": np.asarray(graph.labels, dtype=object),
        "visits": graph.visits,
        "share": graph.visits / total,
        "component": graph.components,
        **{name: np.asarray(values) for name, values in node_attributes.items()},
    }
    sources, targets = np.nonzero(graph.counts)
    edge_columns: dict[str, np.ndarray] = {
        "count": graph.counts[sources, targets],
        "probability": graph.probabilities[sources, targets],
        "probability_without_self": graph.probabilities_without_self[sources, targets],
    }

    ElementTree.register_namespace("", GRAPHML_NAMESPACE)
    root = ElementTree.Element(f"{{{GRAPHML_NAMESPACE}}}graphml")
    types: dict[tuple[str, str], Any] = {}
    for scope, columns in (("node", node_columns), ("edge", edge_columns)):
        for name, values in columns.items():
            type_name, kind = _graphml_type(values) if name != "label" else ("string", str)
            types[scope, name] = kind
            ElementTree.SubElement(root, f"{{{GRAPHML_NAMESPACE}}}key", {
                "id": f"{scope}_{name}", "for": scope, "attr.name": name, "attr.type": type_name,
            })
    graph_element = ElementTree.SubElement(root, f"{{{GRAPHML_NAMESPACE}}}graph", {"id": "transitions", "edgedefault": "directed"})

    # Every edge joins two visited symbols, so the visited symbols are all the nodes.
    nodes = np.flatnonzero(graph.visits)
    for node in nodes:
        element = ElementTree.SubElement(graph_element, f"{{{GRAPHML_NAMESPACE}}}node", {"id": graph.labels[node]})
        for name, values in node_columns.items():
            data = ElementTree.SubElement(element, f"{{{GRAPHML_NAMESPACE}}}data", {"key": f"node_{name}"})
            data.text = _graphml_text(values[node], types["node", name])
    for index, (source, target) in enumerate(zip(sources, targets)):
        element = ElementTree.SubElement(graph_element, f"{{{GRAPHML_NAMESPACE}}}edge", {
            "id": f"e{index}", "source": graph.labels[source], "target": graph.labels[target],
        })
        for name, values in edge_columns.items():
            data = ElementTree.SubElement(element, f"{{{GRAPHML_NAMESPACE}}}data", {"key": f"edge_{name}"})
            data.text = _graphml_text(values[index], types["edge", name])

    tree = ElementTree.ElementTree(root)
    ElementTree.indent(tree)
    with atomic_path(path) as temporary:
        tree.write(temporary, encoding="utf-8", xml_declaration=True)
    logger.info("Wrote the transition graph (nodes %d, edges %d) to %s.", len(nodes), len(sources), path)
