"""Summaries of symbol sequences and the distances between a model's and the data's."""

import numpy as np
import pytest

from dsr.analysis.lozi import lozi_alrnn
from dsr.analysis.symbolic_comparison import compare_symbolic, summarize_symbols, total_variation
from dsr.analysis.symbolize import symbolize_free_run, symbolize_observations
from dsr.analysis.symbols import SymbolSequence
from dsr.errors import InputError
from dsr.systems.maps import lozi_map

LABEL_PATTERNS = {"00": [0, 0], "01": [0, 1], "10": [1, 0], "11": [1, 1]}


def _sequence(*labels_per_sequence: str) -> SymbolSequence:
    """Build a SymbolSequence from space-separated labels, one string per sequence."""
    return SymbolSequence.from_patterns([
        np.array([LABEL_PATTERNS[label] for label in labels.split()], dtype=bool) for labels in labels_per_sequence
    ])


def test_total_variation_by_hand():
    assert total_variation([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(0.5)


def test_identical_sequences_have_zero_distance():
    symbols = _sequence("01 01 10 11 01 10")
    comparison = compare_symbolic(symbols, symbols)
    assert comparison.visit_total_variation == 0.0
    assert comparison.transition_total_variation == 0.0
    assert comparison.entropy_rate_difference == 0.0


def test_disjoint_sequences_have_distance_one():
    """No shared subregion: visits and transitions disagree completely."""
    comparison = compare_symbolic(_sequence("00 01 00 01"), _sequence("10 11 10 11"))
    assert comparison.alphabet.labels == ("00", "01", "10", "11")
    assert comparison.n_shared == 0
    assert comparison.visit_total_variation == pytest.approx(1.0)
    assert comparison.transition_total_variation == pytest.approx(1.0)


def test_transition_distance_by_hand():
    """Model 01 01 10 10 and data 01 10 01 10 have equal visits but differ in transitions.

    Model: P(01 -> 01) = P(01 -> 10) = 1/2, P(10 -> 10) = 1. Data: P(01 -> 10) = 1,
    P(10 -> 01) = 1. Row distances 1/2 and 1, weighted by the data's visits
    (1/2 each): 3/4.
    """
    comparison = compare_symbolic(_sequence("01 01 10 10"), _sequence("01 10 01 10"))
    assert comparison.visit_total_variation == pytest.approx(0.0)
    assert comparison.transition_total_variation == pytest.approx(0.75)


def test_transition_distance_weights_only_rows_the_data_leaves():
    """Data 01 01 10 never leaves 10, so only the row of 01 counts; it matches the model's exactly."""
    comparison = compare_symbolic(_sequence("01 01 10 01 01 10 10"), _sequence("01 01 10"))
    model_row = comparison.model.graph.probabilities[0]
    np.testing.assert_allclose(model_row, [2 / 4, 2 / 4])
    np.testing.assert_allclose(comparison.data.graph.probabilities[0], [1 / 2, 1 / 2])
    assert comparison.transition_total_variation == pytest.approx(0.0)


def test_summary_uses_stationary_distribution_when_unique():
    """01 10 01 10 01: the chain alternates, π = (1/2, 1/2), entropy rate 0, topological entropy 0."""
    summary = summarize_symbols(_sequence("01 10 01 10 01"))
    assert summary.distribution_source == "stationary"
    np.testing.assert_allclose(summary.distribution, [0.5, 0.5])
    assert summary.entropy_rate == pytest.approx(0.0)
    assert summary.topological_entropy == pytest.approx(0.0, abs=1e-12)


def test_summary_falls_back_to_visit_shares():
    """01 01 10 ends in a subregion it never leaves, so π is the share of visits (2/3, 1/3).

    Rows: 01 -> (1/2, 1/2) with entropy ln 2, 10 -> nothing, so h = (2/3) ln 2.
    """
    summary = summarize_symbols(_sequence("01 01 10"))
    assert summary.distribution_source == "empirical"
    np.testing.assert_allclose(summary.distribution, [2 / 3, 1 / 3])
    assert summary.entropy_rate == pytest.approx(2 / 3 * np.log(2))


def test_summary_per_time_unit():
    summary = summarize_symbols(_sequence("01 10 10 01 01 10 01 10"), dt=0.01)
    assert summary.entropy_rate_per_time == pytest.approx(100 * summary.entropy_rate)
    assert summary.topological_entropy_per_time == pytest.approx(100 * summary.topological_entropy)


def test_summary_block_entropies_optional():
    symbols = _sequence("01 10 10 01 01 10 01 10")
    assert summarize_symbols(symbols).blocks is None
    assert len(summarize_symbols(symbols, max_word_length=3).blocks.lengths) == 3


def test_summary_rejects_invalid_dt():
    with pytest.raises(InputError, match="dt"):
        summarize_symbols(_sequence("01 10"), dt=0.0)


def test_lozi_model_matches_lozi_data():
    """The exact Lozi AL-RNN against Lozi data: distances near 0, entropy rates equal within sampling error.

    Both runs have 2·10^4 samples of the same chaotic system, so visit shares
    differ by sampling error only: the sign share has a standard error of
    about 0.005 (correlated samples), so TV < 0.03. The Markov entropy rates
    (about 0.62 nats) differ by a few 10^-3; 0.03 is the tolerance.
    """
    state, trajectory = np.array([0.1, 0.1]), []
    for _ in range(20_200):
        state = lozi_map(state, 1.7, 0.5)
        trajectory.append(state)
    data = np.array(trajectory[200:])

    model = lozi_alrnn()
    free_run = symbolize_free_run(model, np.array([0.3, 0.1, 0.3, -0.3]), n_steps=20_000, transient=200)
    inferred = symbolize_observations(model, data, inference="initial")
    comparison = compare_symbolic(free_run, inferred, max_word_length=4)

    assert comparison.alphabet.labels == ("01", "10")
    assert comparison.visit_total_variation < 0.03
    assert comparison.transition_total_variation < 0.03
    assert abs(comparison.entropy_rate_difference) < 0.03
    assert comparison.topological_entropy_difference == pytest.approx(0.0, abs=1e-12)
