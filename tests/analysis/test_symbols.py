"""Subregion patterns to symbols: alphabets, labels, natural codes, free runs and data-inferred states."""

import numpy as np
import pytest
import torch

from dsr.analysis.lozi import lozi_alrnn
from dsr.analysis.symbols import (
    Alphabet,
    SymbolSequence,
    all_patterns,
    natural_codes,
    parse_pattern_label,
    pattern_label,
    shared_alphabet,
)
from dsr.analysis.symbolize import symbolize_free_run, symbolize_observations
from dsr.errors import InputError, NumericalError
from dsr.models import ALRNN, ShallowPLRNN
from dsr.systems.maps import lozi_map


def test_pattern_label_round_trip():
    pattern = np.array([False, True, True, False])
    assert pattern_label(pattern) == "0110"
    np.testing.assert_array_equal(parse_pattern_label("0110"), pattern)


def test_parse_pattern_label_rejects_other_characters():
    with pytest.raises(InputError, match="0s and 1s"):
        parse_pattern_label("01x")


def test_natural_codes_read_first_unit_as_most_significant():
    patterns = np.array([[0, 0, 1], [1, 0, 0], [1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(natural_codes(patterns), [1, 4, 7])


def test_natural_codes_reject_too_many_units():
    with pytest.raises(InputError, match="int64"):
        natural_codes(np.zeros((1, 63), dtype=bool))


def test_all_patterns_follow_natural_code():
    patterns = all_patterns(3)
    assert patterns.shape == (8, 3)
    np.testing.assert_array_equal(natural_codes(patterns), np.arange(8))


def test_complete_alphabet_symbols_equal_natural_codes():
    alphabet = Alphabet.complete(4)
    np.testing.assert_array_equal(alphabet.natural_codes(), np.arange(16))
    patterns = np.random.default_rng(0).random((50, 4)) < 0.5
    np.testing.assert_array_equal(alphabet.encode(patterns), natural_codes(patterns))


def test_alphabet_orders_patterns_by_label():
    patterns = np.array([[1, 0], [0, 1], [1, 0], [1, 1]], dtype=bool)
    alphabet = Alphabet.from_patterns(patterns)
    assert alphabet.labels == ("01", "10", "11")
    np.testing.assert_array_equal(alphabet.encode(patterns), [1, 0, 1, 2])


def test_alphabet_handles_hundred_units():
    """S = 100 does not fit any integer code; the lookup of unique patterns still numbers them."""
    rng = np.random.default_rng(1)
    distinct = rng.random((7, 100)) < 0.5
    patterns = distinct[rng.integers(7, size=1000)]
    alphabet = Alphabet.from_patterns(patterns)
    symbols = alphabet.encode(patterns)
    assert alphabet.size == 7
    assert alphabet.n_switches == 100
    np.testing.assert_array_equal(alphabet.decode(symbols), patterns)
    assert list(alphabet.labels) == sorted(alphabet.labels)


def test_alphabet_encode_rejects_unknown_pattern():
    alphabet = Alphabet.from_patterns(np.array([[0, 1]], dtype=bool))
    with pytest.raises(InputError, match="11 is not in the alphabet"):
        alphabet.encode(np.array([[1, 1]], dtype=bool))


def test_shared_alphabet_keeps_patterns():
    first = SymbolSequence.from_patterns([np.array([[0, 1], [0, 1]], dtype=bool)])
    second = SymbolSequence.from_patterns([np.array([[1, 1], [0, 1]], dtype=bool)])
    first_shared, second_shared = shared_alphabet(first, second)
    assert first_shared.alphabet.labels == ("01", "11")
    np.testing.assert_array_equal(first_shared.sequences[0], [0, 0])
    np.testing.assert_array_equal(second_shared.sequences[0], [1, 0])


def _lozi_start(n_orbits: int, seed: int = 0) -> np.ndarray:
    """Latent states (x, y, x, −x) near the Lozi attractor."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-0.5, 0.5, n_orbits), rng.uniform(-0.2, 0.2, n_orbits)
    return np.stack([x, y, x, -x], axis=1)


def test_free_run_counts_steps_after_transient():
    model = lozi_alrnn()
    symbols = symbolize_free_run(model, _lozi_start(3), n_steps=50, transient=10)
    assert len(symbols.sequences) == 3
    assert [len(sequence) for sequence in symbols.sequences] == [50, 50, 50]


def test_free_run_symbols_match_direct_iteration():
    """The symbol at position t is the pattern of z_{transient+t+1}, checked against model.generate."""
    model = lozi_alrnn()
    start = _lozi_start(1)[0]
    symbols = symbolize_free_run(model, start, n_steps=40, transient=5)
    with torch.no_grad():
        states = model.generate(torch.from_numpy(start), 45)[5:]
        expected = model.subregion(states).numpy()
    np.testing.assert_array_equal(symbols.alphabet.decode(symbols.sequences[0]), expected)


def test_free_run_accepts_float32_model():
    """A float32 model is analysed on a float64 copy and left unchanged."""
    model = ALRNN(2, 4, 2)
    symbols = symbolize_free_run(model, np.zeros(4), n_steps=10)
    assert symbols.n_symbols == 10
    assert model.W.dtype == torch.float32


def test_free_run_raises_on_divergence():
    model = ALRNN(1, 2, 1).double()
    with torch.no_grad():
        model.A.fill_(3.0)
        model.W.zero_()
    with pytest.raises(NumericalError, match="non-finite"):
        symbolize_free_run(model, np.ones(2), n_steps=5000)


def test_free_run_rejects_wrong_state_shape():
    with pytest.raises(InputError, match="shape"):
        symbolize_free_run(lozi_alrnn(), np.zeros(3), n_steps=5)


def _lozi_trajectory(n_steps: int) -> np.ndarray:
    state, trajectory = np.array([0.1, 0.1]), []
    for _ in range(n_steps):
        state = lozi_map(state, 1.7, 0.5)
        trajectory.append(state)
    return np.array(trajectory)


def test_initial_inference_of_lozi_gives_sign_code():
    """initial_state((x, y)) = (x, y, x, −x) for the Lozi AL-RNN: "10" exactly where x > 0, "01" where x < 0."""
    trajectory = _lozi_trajectory(2000)
    symbols = symbolize_observations(lozi_alrnn(), trajectory, inference="initial")
    labels = np.array(symbols.alphabet.labels)[symbols.sequences[0]]
    np.testing.assert_array_equal(labels, np.where(trajectory[:, 0] > 0, "10", "01"))


def test_forced_inference_of_lozi_desynchronises():
    """The Lozi AL-RNN's ReLU units never see the data, so round-off grows by 1.7 per step until the forced run fails."""
    with pytest.raises(NumericalError, match="inference='initial'"):
        symbolize_observations(lozi_alrnn(), _lozi_trajectory(3000))


def test_forced_inference_with_all_units_observed():
    """With N = M and α = 1 every forced state is the data itself, so the code is subregion(x_t) for every t."""
    torch.manual_seed(3)
    model = ShallowPLRNN(3, 3, 5).double()
    observations = np.random.default_rng(4).normal(size=(200, 3))
    symbols = symbolize_observations(model, observations)
    expected = model.subregion(torch.from_numpy(observations)).numpy()
    np.testing.assert_array_equal(symbols.alphabet.decode(symbols.sequences[0]), expected)


def test_partial_forcing_mixes_prediction_and_data():
    """α = 0.5 with N = M: z̃_t = (F(z̃_{t−1}) + x_t) / 2, checked by iterating the formula directly."""
    torch.manual_seed(5)
    model = ShallowPLRNN(2, 2, 4).double()
    observations = np.random.default_rng(6).normal(size=(50, 2))
    symbols = symbolize_observations(model, observations, alpha=0.5)
    state, expected = torch.from_numpy(observations[0]), []
    with torch.no_grad():
        expected.append(model.subregion(state))
        for x in observations[1:]:
            state = 0.5 * model.step(state) + 0.5 * torch.from_numpy(x)
            expected.append(model.subregion(state))
    np.testing.assert_array_equal(symbols.alphabet.decode(symbols.sequences[0]), torch.stack(expected).numpy())


def test_observations_accept_ragged_trajectories():
    model = ShallowPLRNN(2, 3, 4).double()
    rng = np.random.default_rng(2)
    symbols = symbolize_observations(model, [rng.normal(size=(30, 2)), rng.normal(size=(12, 2))], transient=2)
    assert [len(sequence) for sequence in symbols.sequences] == [28, 10]
    assert symbols.alphabet.n_switches == 4


def test_observations_reject_short_trajectory():
    with pytest.raises(InputError, match="transient"):
        symbolize_observations(lozi_alrnn(), np.zeros((3, 2)), transient=3)


def test_observations_reject_unknown_inference():
    with pytest.raises(InputError, match="inference"):
        symbolize_observations(lozi_alrnn(), np.zeros((5, 2)), inference="smoothed")


def test_observations_reject_invalid_alpha():
    with pytest.raises(InputError, match="alpha"):
        symbolize_observations(lozi_alrnn(), np.zeros((5, 2)), alpha=0.0)
