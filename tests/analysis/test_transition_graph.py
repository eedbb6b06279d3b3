"""Transition counts and matrices, stationary distributions, components and GraphML export."""

import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from dsr.analysis.symbols import SymbolSequence
from dsr.analysis.transition_graph import (
    closed_classes,
    stationary_distribution,
    strongly_connected_components,
    transition_counts,
    transition_graph,
    transition_matrix,
    write_graphml,
)
from dsr.errors import InputError

# Pairs 00 01 11 11 10 02 22 20 00.
SEQUENCE = np.array([0, 0, 1, 1, 1, 0, 2, 2, 0, 0])
EXPECTED_COUNTS = np.array([
    [2, 1, 1],
    [1, 2, 0],
    [1, 0, 1],
])
NAMESPACE = "{http://graphml.graphdrawing.org/xmlns}"


def test_transition_counts_by_hand():
    np.testing.assert_array_equal(transition_counts(SEQUENCE), EXPECTED_COUNTS)


def test_transition_counts_skip_sequence_boundaries():
    """[0 1] and [1 0] as two sequences: no 1 -> 1 step is counted where they meet."""
    counts = transition_counts([np.array([0, 1]), np.array([1, 0])])
    np.testing.assert_array_equal(counts, [[0, 1], [1, 0]])


def test_transition_matrix_with_self_transitions():
    expected = [[2 / 4, 1 / 4, 1 / 4], [1 / 3, 2 / 3, 0], [1 / 2, 0, 1 / 2]]
    np.testing.assert_allclose(transition_matrix(EXPECTED_COUNTS), expected)


def test_transition_matrix_without_self_transitions():
    expected = [[0, 1 / 2, 1 / 2], [1, 0, 0], [1, 0, 0]]
    np.testing.assert_allclose(transition_matrix(EXPECTED_COUNTS, self_transitions=False), expected)


def test_transition_matrix_keeps_empty_rows_zero():
    matrix = transition_matrix(np.array([[0, 3], [0, 0]]))
    np.testing.assert_allclose(matrix, [[0, 1], [0, 0]])


def test_stationary_distribution_two_state_closed_form():
    """P = [[1 − p, p], [q, 1 − q]] has π = (q, p) / (p + q)."""
    p, q = 0.3, 0.1
    matrix = np.array([[1 - p, p], [q, 1 - q]])
    np.testing.assert_allclose(stationary_distribution(matrix), [q / (p + q), p / (p + q)], rtol=1e-12)


def test_stationary_distribution_of_hand_sequence():
    """π P = π for the matrix of the hand-written sequence (checked by the defining equation)."""
    matrix = transition_matrix(EXPECTED_COUNTS)
    distribution = stationary_distribution(matrix)
    np.testing.assert_allclose(distribution @ matrix, distribution, atol=1e-12)
    assert distribution.sum() == pytest.approx(1.0)


def test_stationary_distribution_ignores_transient_states():
    """State 0 leads into the closed class {1, 2} and is never revisited, so π_0 = 0."""
    matrix = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(stationary_distribution(matrix), [0.0, 0.5, 0.5], atol=1e-12)


def test_stationary_distribution_rejects_two_closed_classes():
    with pytest.raises(InputError, match="2 closed classes"):
        stationary_distribution(np.eye(2))


def test_stationary_distribution_rejects_leaking_chain():
    """A chain that ends in a symbol it never leaves (a zero row) has no closed class."""
    with pytest.raises(InputError, match="no closed class"):
        stationary_distribution(transition_matrix(transition_counts(np.array([0, 1, 0, 1, 2]))))


def test_closed_classes_by_hand():
    matrix = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    classes = closed_classes(matrix)
    assert len(classes) == 1
    np.testing.assert_array_equal(classes[0], [1, 2])


def test_strongly_connected_components_by_hand():
    """0 <-> 1 form one component, 2 -> 3 two more."""
    adjacency = np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    n_components, labels = strongly_connected_components(adjacency)
    assert n_components == 3
    assert labels[0] == labels[1]
    assert len({labels[0], labels[2], labels[3]}) == 3


def test_transition_graph_components_skip_unvisited():
    graph = transition_graph(SEQUENCE, n_symbols=5)
    assert graph.n_components == 1
    np.testing.assert_array_equal(graph.components, [0, 0, 0, -1, -1])
    np.testing.assert_array_equal(graph.visits, [5, 3, 2, 0, 0])


def test_graphml_nodes_and_edges(tmp_path):
    """The file parses with xml.etree and contains one node per visited subregion and one edge per observed transition."""
    patterns = np.array([[0, 0], [0, 1], [1, 0]], dtype=bool)[SEQUENCE]
    symbols = SymbolSequence.from_patterns([patterns])
    graph = transition_graph(symbols)
    path = tmp_path / "graph.graphml"
    write_graphml(graph, path, node_attributes={"real_fixed_point": np.array([True, False, False])})

    root = ElementTree.parse(path).getroot()
    keys = {key.get("id"): key for key in root.iter(f"{NAMESPACE}key")}
    graph_element = root.find(f"{NAMESPACE}graph")
    assert graph_element.get("edgedefault") == "directed"

    nodes = {node.get("id"): {data.get("key"): data.text for data in node} for node in graph_element.iter(f"{NAMESPACE}node")}
    assert set(nodes) == {"00", "01", "10"}
    assert nodes["00"]["node_visits"] == "5"
    assert nodes["00"]["node_real_fixed_point"] == "true"
    assert float(nodes["01"]["node_share"]) == pytest.approx(0.3)
    assert keys["node_visits"].get("attr.type") == "long"

    edges = {(edge.get("source"), edge.get("target")): {data.get("key"): data.text for data in edge}
             for edge in graph_element.iter(f"{NAMESPACE}edge")}
    assert set(edges) == {("00", "00"), ("00", "01"), ("00", "10"), ("01", "00"), ("01", "01"), ("10", "00"), ("10", "10")}
    assert edges["00", "01"]["edge_count"] == "1"
    assert float(edges["00", "01"]["edge_probability"]) == pytest.approx(0.25)
    assert float(edges["00", "01"]["edge_probability_without_self"]) == pytest.approx(0.5)
    assert float(edges["00", "00"]["edge_probability_without_self"]) == 0.0


def test_graphml_rejects_attribute_of_wrong_length(tmp_path):
    graph = transition_graph(SEQUENCE)
    with pytest.raises(InputError, match="3 symbols"):
        write_graphml(graph, tmp_path / "graph.graphml", node_attributes={"stable": np.array([True])})
