"""Topological entropy, Markov entropy rate and block entropies against closed forms."""

from collections import Counter

import numpy as np
import pytest

from dsr.analysis.entropy import block_entropies, markov_entropy_rate, spectral_radius, topological_entropy, word_counts
from dsr.analysis.transition_graph import transition_counts, transition_matrix
from dsr.errors import InputError

GOLDEN_MEAN = (1 + np.sqrt(5)) / 2


def _markov_chain(matrix: np.ndarray, n_steps: int, seed: int) -> np.ndarray:
    """Sample a Markov chain from state 0 by inverting the cumulative rows."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(matrix, axis=1)
    draws = rng.random(n_steps)
    states = np.empty(n_steps, dtype=np.int64)
    state = 0
    for t in range(n_steps):
        state = int(np.searchsorted(cumulative[state], draws[t], side="right"))
        states[t] = state
    return states


def _golden_mean_sequence(n_steps: int, seed: int) -> np.ndarray:
    """The golden-mean shift (no two 1s in a row) under its measure of maximal entropy (the Parry measure).

    P(0 -> 1) = 1/φ², P(0 -> 0) = 1/φ, P(1 -> 0) = 1; its entropy rate is ln φ.
    """
    matrix = np.array([[1 / GOLDEN_MEAN, 1 / GOLDEN_MEAN**2], [1.0, 0.0]])
    return _markov_chain(matrix, n_steps, seed)


def test_full_shift_topological_entropy():
    """Two symbols, every transition allowed: h_top = ln 2 (closed form)."""
    assert topological_entropy(np.ones((2, 2))) == pytest.approx(np.log(2), abs=1e-12)


def test_golden_mean_topological_entropy():
    """Adjacency [[1, 1], [1, 0]] has spectral radius φ, so h_top = ln φ (closed form)."""
    assert topological_entropy(np.array([[1, 1], [1, 0]])) == pytest.approx(np.log(GOLDEN_MEAN), abs=1e-12)


def test_topological_entropy_uses_only_positive_entries():
    """Counts give the same entropy as the 0/1 matrix they define."""
    assert topological_entropy(np.array([[7, 2], [5, 0]])) == pytest.approx(np.log(GOLDEN_MEAN), abs=1e-12)


def test_topological_entropy_per_time_unit():
    assert topological_entropy(np.ones((2, 2)), dt=0.5) == pytest.approx(2 * np.log(2), abs=1e-12)


def test_topological_entropy_of_acyclic_graph_is_zero():
    assert topological_entropy(np.array([[0, 1], [0, 0]])) == 0.0


def test_topological_entropy_of_single_cycle_is_zero():
    """A 3-cycle has one path of each length: ρ = 1, h_top = 0."""
    cycle = np.roll(np.eye(3), 1, axis=1)
    assert topological_entropy(cycle) == pytest.approx(0.0, abs=1e-12)


def test_sparse_spectral_radius_matches_dense():
    """Above 500 nodes ARPACK is used; the full shift on k symbols has ρ = k, here as a block of a large sparse graph."""
    adjacency = np.zeros((600, 600))
    adjacency[:3, :3] = 1.0
    adjacency[np.arange(3, 599), np.arange(4, 600)] = 1.0
    assert spectral_radius(adjacency) == pytest.approx(3.0, rel=1e-9)


def test_full_shift_from_random_sequence():
    """Fair coin flips: every transition occurs, so the graph entropy is ln 2; all 2^k words of length k ≤ 10 occur."""
    symbols = np.random.default_rng(0).integers(2, size=200_000)
    assert topological_entropy(transition_counts(symbols)) == pytest.approx(np.log(2), abs=1e-12)
    blocks = block_entropies(symbols, 10)
    np.testing.assert_array_equal(blocks.word_counts, 2 ** np.arange(1, 11))
    np.testing.assert_allclose(blocks.word_count_entropies, np.log(2), atol=1e-12)


def test_full_shift_block_entropy_rate():
    """Fair coin flips: H(k+1) − H(k) = ln 2 up to sampling bias.

    Bias of the plug-in estimate is about −(2^k − 1) / (2 n) per word: at
    k = 8 and n = 2·10^5 about 6e-4, so 2e-3 is the tolerance.
    """
    symbols = np.random.default_rng(1).integers(2, size=200_000)
    blocks = block_entropies(symbols, 8)
    np.testing.assert_allclose(blocks.conditional_entropies, np.log(2), atol=2e-3)


def test_golden_mean_from_generated_sequence():
    """Sequences of the golden-mean shift: graph entropy ln φ, N_k = Fibonacci(k + 2), block entropy rate ln φ.

    The number of binary words of length k without "11" is the Fibonacci
    number F(k+2); with 2·10^5 symbols under the Parry measure all of them
    occur up to k = 12 (the rarest has probability above 1e-3). The
    conditional block entropy converges to ln φ ≈ 0.4812 at once for a
    first-order chain; its sampling bias at k = 6 is below 1e-3, so the
    tolerance is 3e-3.
    """
    symbols = _golden_mean_sequence(200_000, seed=2)
    assert topological_entropy(transition_counts(symbols)) == pytest.approx(np.log(GOLDEN_MEAN), abs=1e-12)

    fibonacci = [1, 2]
    while len(fibonacci) < 15:
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    blocks = block_entropies(symbols, 12)
    np.testing.assert_array_equal(blocks.word_counts, fibonacci[1:13])
    np.testing.assert_allclose(blocks.conditional_entropies[1:6], np.log(GOLDEN_MEAN), atol=3e-3)


def test_golden_mean_markov_entropy_rate():
    """The Parry measure attains the topological entropy: h = ln φ (closed form)."""
    matrix = np.array([[1 / GOLDEN_MEAN, 1 / GOLDEN_MEAN**2], [1.0, 0.0]])
    assert markov_entropy_rate(matrix) == pytest.approx(np.log(GOLDEN_MEAN), abs=1e-12)


def test_two_state_markov_entropy_rate_closed_form():
    """h = π_0 H(p) + π_1 H(q) with the binary entropy H and π = (q, p) / (p + q)."""
    p, q = 0.2, 0.7

    def binary_entropy(x):
        return -x * np.log(x) - (1 - x) * np.log(1 - x)

    expected = (q * binary_entropy(p) + p * binary_entropy(q)) / (p + q)
    matrix = np.array([[1 - p, p], [q, 1 - q]])
    assert markov_entropy_rate(matrix) == pytest.approx(expected, abs=1e-12)
    assert markov_entropy_rate(matrix, dt=0.1) == pytest.approx(10 * expected, abs=1e-11)


def test_markov_entropy_rate_from_sampled_chain():
    """The rate of the chain fitted to 10^5 samples is within 0.01 nats of the true one (standard error about 2e-3)."""
    p, q = 0.2, 0.7
    true_matrix = np.array([[1 - p, p], [q, 1 - q]])
    symbols = _markov_chain(true_matrix, 100_000, seed=3)
    fitted = transition_matrix(transition_counts(symbols))
    assert markov_entropy_rate(fitted) == pytest.approx(markov_entropy_rate(true_matrix), abs=0.01)


def test_block_entropy_of_hand_sequence():
    """Words of 0 1 0 1 1: length 1 has counts {0: 2, 1: 3}, length 2 has {01: 2, 10: 1, 11: 1}."""
    blocks = block_entropies(np.array([0, 1, 0, 1, 1]), 2)
    h1 = -(0.4 * np.log(0.4) + 0.6 * np.log(0.6))
    h2 = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25))
    np.testing.assert_allclose(blocks.entropies, [h1, h2])
    np.testing.assert_allclose(blocks.conditional_entropies, [h1, h2 - h1])
    np.testing.assert_array_equal(blocks.word_counts, [2, 3])
    np.testing.assert_array_equal(blocks.n_words, [5, 4])


def test_words_do_not_cross_sequences():
    """[0 0] and [1 1] as two sequences have the words 00 and 11 only, never 01."""
    np.testing.assert_array_equal(np.sort(word_counts([np.array([0, 0]), np.array([1, 1])], 2)), [1, 1])


def test_word_codes_survive_large_alphabets():
    """1000 symbols and words of length 8 overflow int64 codes (1000^8 > 2^62) and are renumbered on the way.

    Reference: the words counted as Python tuples. A sequence that repeats a
    random block of 500 symbols has 500 distinct words of length 8.
    """
    block = np.random.default_rng(4).integers(1000, size=500)
    symbols = np.tile(block, 20)
    words = Counter(tuple(symbols[t:t + 8]) for t in range(len(symbols) - 7))
    probabilities = np.array(list(words.values())) / sum(words.values())
    blocks = block_entropies(symbols, 8)
    assert blocks.word_counts[-1] == len(words) == 500
    assert blocks.entropies[-1] == pytest.approx(-np.sum(probabilities * np.log(probabilities)), abs=1e-12)
    np.testing.assert_array_equal(np.sort(word_counts(symbols, 8)), np.sort(list(words.values())))


def test_block_entropies_reject_short_sequences():
    with pytest.raises(InputError, match="at least 5 symbols"):
        block_entropies(np.array([0, 1, 0]), 5)


def test_spectral_radius_of_large_graphs():
    """Above the dense limit each strongly connected component is solved on its own.

    A nilpotent 800-node graph (ARPACK does not converge on it) has radius 0;
    one 800-node cycle has radius 1; 400 disjoint full shifts on two symbols
    have radius 2, so ln 2 of topological entropy.
    """
    from dsr.analysis.entropy import spectral_radius

    nilpotent = np.triu(np.ones((800, 800)), 1)
    assert spectral_radius(nilpotent) == 0.0
    cycle = np.roll(np.eye(800), 1, axis=1)
    assert spectral_radius(cycle) == pytest.approx(1.0, abs=1e-9)
    shifts = np.kron(np.eye(400), np.ones((2, 2)))
    assert spectral_radius(shifts) == pytest.approx(2.0, abs=1e-9)
