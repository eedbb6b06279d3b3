"""Visit counts, shares, coverage and dwell times on hand-written symbol sequences."""

import numpy as np
import pytest

from dsr.analysis.symbolic_statistics import mean_dwell_times, runs, visit_counts, visit_statistics
from dsr.analysis.symbols import SymbolSequence
from dsr.errors import InputError

# Runs: 0 0 | 1 1 1 | 0 | 2 2 | 0 0, so symbol 0 has 5 visits in runs of 2, 1, 2.
SEQUENCE = np.array([0, 0, 1, 1, 1, 0, 2, 2, 0, 0])


def test_visit_counts_by_hand():
    np.testing.assert_array_equal(visit_counts(SEQUENCE), [5, 3, 2])


def test_visit_counts_include_unvisited_symbols():
    np.testing.assert_array_equal(visit_counts(SEQUENCE, n_symbols=5), [5, 3, 2, 0, 0])


def test_visit_counts_reject_small_alphabet():
    with pytest.raises(InputError, match="does not fit"):
        visit_counts(SEQUENCE, n_symbols=2)


def test_runs_by_hand():
    symbols, lengths = runs(SEQUENCE)
    np.testing.assert_array_equal(symbols, [0, 1, 0, 2, 0])
    np.testing.assert_array_equal(lengths, [2, 3, 1, 2, 2])


def test_runs_stop_at_sequence_ends():
    """Two sequences [0 0] and [0 1]: the run of 0 does not continue across them."""
    symbols, lengths = runs([np.array([0, 0]), np.array([0, 1])])
    np.testing.assert_array_equal(symbols, [0, 0, 1])
    np.testing.assert_array_equal(lengths, [2, 1, 1])


def test_mean_dwell_times_by_hand():
    np.testing.assert_allclose(mean_dwell_times(SEQUENCE, n_symbols=4), [5 / 3, 3.0, 2.0, np.nan])


def test_visit_statistics_sorted_by_count():
    statistics = visit_statistics(SEQUENCE)
    np.testing.assert_array_equal(statistics.symbols, [0, 1, 2])
    np.testing.assert_array_equal(statistics.counts, [5, 3, 2])
    np.testing.assert_allclose(statistics.shares, [0.5, 0.3, 0.2])
    np.testing.assert_allclose(statistics.cumulative_shares, [0.5, 0.8, 1.0])
    np.testing.assert_allclose(statistics.mean_dwell_times, [5 / 3, 3.0, 2.0])
    assert statistics.n_steps == 10
    assert statistics.n_visited == 3


def test_visit_statistics_ties_by_symbol():
    statistics = visit_statistics(np.array([2, 1, 2, 1, 0]))
    np.testing.assert_array_equal(statistics.symbols, [1, 2, 0])


def test_coverage_of_most_visited():
    statistics = visit_statistics(SEQUENCE)
    assert statistics.coverage(1) == pytest.approx(0.5)
    assert statistics.coverage(2) == pytest.approx(0.8)
    assert statistics.coverage(10) == pytest.approx(1.0)
    assert statistics.subregions_for_coverage(0.8) == 2
    assert statistics.subregions_for_coverage(0.81) == 3


def test_visit_statistics_carry_labels():
    patterns = np.array([[0, 1], [1, 0], [1, 0]], dtype=bool)
    statistics = visit_statistics(SymbolSequence.from_patterns([patterns]))
    assert statistics.labels == ("10", "01")


def test_visit_statistics_reject_empty():
    with pytest.raises(InputError, match="empty"):
        visit_statistics([np.zeros(0, dtype=np.int64)], n_symbols=2)


def test_symbols_must_be_integers():
    with pytest.raises(InputError, match="integers"):
        visit_counts(np.array([0.0, 1.0]))
