"""Fixed points and cycles against closed forms, and the exhaustive search against SCYFI."""

import itertools

import numpy as np
import pytest
import torch

from dsr.analysis.cycles import count_lyndon_words, find_cycles, lyndon_words, primitive_root_length
from dsr.analysis.fixed_points import find_fixed_points
from dsr.analysis.lozi import lozi_alrnn
from dsr.analysis.symbolize import symbolize_free_run
from dsr.errors import InputError
from dsr.models import ALRNN, ShallowPLRNN


def hand_model() -> ALRNN:
    """M = 2, P = 1, units (x, r): x' = 0.5 x + ReLU(r), r' = 1 + 0.4 r − 2.4 ReLU(r).

    r follows a one-dimensional map with slope 0.4 for r < 0 and −2 for r > 0,
    and x is driven by it. By hand:

    - subregion "1" (r > 0): r* = 1/3, x* = 2/3; real; eigenvalues −2 and 0.5, unstable.
    - subregion "0" (r ≤ 0): r* = 1/(1 − 0.4) = 5/3 > 0, x* = 0; virtual;
      eigenvalues 0.5 and 0.4.
    - the 2-cycle with word "0 1": r0 = (1 − 2)/(1 + 0.8) = −5/9 < 0,
      r1 = 1 + 0.4 r0 = 7/9 > 0; x1 = 0.5 x0, x0 = 0.5 x1 + 7/9, so
      x0 = 28/27 and x1 = 14/27; real; multipliers (−2)(0.4) = −0.8 and
      0.5² = 0.25 (the Jacobians are triangular), stable.

    "0 1" is the only primitive binary word of length 2, so there is no other 2-cycle.
    """
    model = ALRNN(obs_dim=1, latent_dim=2, n_relu=1).double()
    with torch.no_grad():
        model.A.copy_(torch.tensor([0.5, 0.4], dtype=torch.float64))
        model.W.copy_(torch.tensor([[0.0, 1.0], [0.0, -2.4]], dtype=torch.float64))
        model.h.copy_(torch.tensor([0.0, 1.0], dtype=torch.float64))
    return model


def _sorted_by_modulus(values):
    values = np.asarray(values)
    return values[np.argsort(-np.abs(values), kind="stable")]


def test_hand_model_fixed_points():
    """One real unstable and one virtual fixed point, at the closed-form positions (tolerance: round-off, 1e-12)."""
    search = find_fixed_points(hand_model())
    assert search.complete
    assert search.n_searched == 2
    assert [point.label for point in search.real] == ["1"]
    assert [point.label for point in search.virtual] == ["0"]

    (real,) = search.real
    np.testing.assert_allclose(real.point, [2 / 3, 1 / 3], atol=1e-12)
    np.testing.assert_allclose(real.eigenvalues, [-2.0, 0.5], atol=1e-12)
    assert not real.stable

    (virtual,) = search.virtual
    np.testing.assert_allclose(virtual.point, [0.0, 5 / 3], atol=1e-12)
    np.testing.assert_allclose(virtual.eigenvalues, [0.5, 0.4], atol=1e-12)
    assert virtual.stable


def test_hand_model_two_cycle():
    """The only 2-cycle is "0 1" at the closed-form points, stable with multipliers −0.8 and 0.25."""
    search = find_cycles(hand_model(), max_order=2, method="exhaustive")
    assert search.complete
    (fixed_point,) = search.of_period(1)
    assert fixed_point.labels == ("1",)
    (cycle,) = search.of_period(2)
    assert cycle.labels == ("0", "1")
    np.testing.assert_allclose(cycle.points, [[28 / 27, -5 / 9], [14 / 27, 7 / 9]], atol=1e-12)
    np.testing.assert_allclose(cycle.multipliers, [-0.8, 0.25], atol=1e-12)
    assert cycle.stable


def test_hand_model_cycle_attracts_orbits():
    """A second method: a free run from the origin converges onto the stable 2-cycle (contraction 0.8 per period)."""
    model = hand_model()
    with torch.no_grad():
        orbit = model.generate(torch.zeros(2, dtype=torch.float64), 400).numpy()
    cycle = find_cycles(model, max_order=2).of_period(2)[0]
    last_two = orbit[-2:] if orbit[-2, 1] < 0 else orbit[-3:-1]
    np.testing.assert_allclose(last_two, cycle.points, atol=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_hand_model_heuristic_agrees(order):
    """SCYFI finds exactly the cycles of the exhaustive search, with the same points."""
    model = hand_model()
    exhaustive = find_cycles(model, max_order=order, min_order=order, method="exhaustive")
    heuristic = find_cycles(model, max_order=order, min_order=order, method="heuristic", n_restarts=30, seed=order)
    assert not heuristic.complete
    assert [cycle.labels for cycle in heuristic.cycles] == [cycle.labels for cycle in exhaustive.cycles]
    for found, expected in zip(heuristic.cycles, exhaustive.cycles):
        np.testing.assert_allclose(found.points, expected.points, atol=1e-10)


def test_lozi_fixed_points_closed_form():
    """Lozi: x* = 1/(1 + a − b) for x > 0 and 1/(1 − a − b) for x < 0, both real saddles; "00" and "11" virtual at x = 2.

    Eigenvalues of the Lozi pieces: λ² ± aλ − b = 0; the two extra
    eigenvalues are 0. In "00" and "11" the map restricted to u + v = 0 is
    x' = 1 + y, y' = b x with fixed point (2, 1) and eigenvalues ±√b; the point
    (2, 1, 2, −2) lies in "10", so both are virtual.
    """
    a, b = 1.7, 0.5
    search = find_fixed_points(lozi_alrnn(a, b))
    points = {point.label: point for point in search.fixed_points}
    assert set(points) == {"00", "01", "10", "11"}

    positive = 1 / (1 + a - b)
    negative = 1 / (1 - a - b)
    np.testing.assert_allclose(points["10"].point, [positive, b * positive, positive, -positive], atol=1e-12)
    np.testing.assert_allclose(points["01"].point, [negative, b * negative, negative, -negative], atol=1e-12)
    discriminant = np.sqrt(a**2 + 4 * b)
    np.testing.assert_allclose(points["10"].eigenvalues, _sorted_by_modulus([(-a - discriminant) / 2, (-a + discriminant) / 2, 0, 0]), atol=1e-12)
    np.testing.assert_allclose(points["01"].eigenvalues, _sorted_by_modulus([(a + discriminant) / 2, (a - discriminant) / 2, 0, 0]), atol=1e-12)
    assert points["10"].real
    assert points["01"].real
    assert not points["10"].stable
    assert not points["01"].stable

    for label in ("00", "11"):
        assert not points[label].real
        np.testing.assert_allclose(points[label].point, [2.0, 1.0, 2.0, -2.0], atol=1e-12)
        np.testing.assert_allclose(np.abs(points[label].eigenvalues), [np.sqrt(b), np.sqrt(b), 0, 0], atol=1e-12)
        assert points[label].stable


def test_lozi_two_cycle_closed_form():
    """Lozi 2-cycle "01 10": x0 = (c − a)/(c² + a²) with c = 1 − b, x1 = (1 + a x0)/c, y_i = b x_{i−1}.

    Multipliers: eigenvalues of J₊J₋ = [[b − a², −a], [ab, b]], the roots of
    μ² − (2b − a²) μ + b² = 0, plus two zeros.
    """
    a, b = 1.7, 0.5
    c = 1 - b
    x0 = (c - a) / (c**2 + a**2)
    x1 = (1 + a * x0) / c
    expected_points = [[x0, b * x1, x0, -x0], [x1, b * x0, x1, -x1]]
    roots = np.roots([1.0, -(2 * b - a**2), b**2])

    (cycle,) = find_cycles(lozi_alrnn(a, b), max_order=2, min_order=2).of_period(2)
    assert cycle.labels == ("01", "10")
    np.testing.assert_allclose(cycle.points, expected_points, atol=1e-12)
    np.testing.assert_allclose(cycle.multipliers, _sorted_by_modulus(np.concatenate([roots, [0, 0]])), atol=1e-12)
    assert not cycle.stable


def test_lozi_heuristic_agrees_up_to_period_five():
    """SCYFI with 40 restarts per period finds the exhaustive search's Lozi cycles of periods 1 to 5."""
    model = lozi_alrnn()
    exhaustive = find_cycles(model, max_order=5, method="exhaustive")
    heuristic = find_cycles(model, max_order=5, method="heuristic", n_restarts=40, seed=1)
    assert [cycle.labels for cycle in heuristic.cycles] == [cycle.labels for cycle in exhaustive.cycles]


def _random_model(kind: str):
    """A small model with large random weights; seed 3 gives each kind several cycles of period 2 to 4."""
    torch.manual_seed(3)
    model = {
        "alrnn": lambda: ALRNN(2, 4, 3),
        "shplrnn": lambda: ShallowPLRNN(2, 3, 3),
        "shplrnn_clipped": lambda: ShallowPLRNN(2, 3, 3, clipped=True),
    }[kind]().double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(2.5 * torch.randn_like(parameter))
    return model


# Maximum period per model: the clipped model has 2^6 subregions, so period 3 would mean 87,000 words.
MAX_ORDERS = {"alrnn": 4, "shplrnn": 4, "shplrnn_clipped": 2}


@pytest.mark.parametrize("kind", sorted(MAX_ORDERS))
def test_cycles_return_under_true_map(kind):
    """Every reported cycle, iterated k times with model.step, returns to its first point and visits its word."""
    model = _random_model(kind)
    search = find_cycles(model, max_order=MAX_ORDERS[kind], method="exhaustive")
    assert sum(cycle.period > 1 for cycle in search.cycles) >= 2
    for cycle in search.cycles:
        state = torch.from_numpy(cycle.points[0])
        with torch.no_grad():
            for index in range(cycle.period):
                np.testing.assert_array_equal(model.subregion(state).numpy(), cycle.patterns[index])
                np.testing.assert_allclose(state.numpy(), cycle.points[index], rtol=1e-9, atol=1e-9)
                state = model.step(state)
        np.testing.assert_allclose(state.numpy(), cycle.points[0], rtol=1e-9, atol=1e-9)
        assert primitive_root_length(cycle.labels) == cycle.period


@pytest.mark.parametrize("kind", sorted(MAX_ORDERS))
def test_heuristic_finds_subset_of_exhaustive(kind):
    """SCYFI reports no cycle that the complete search lacks (no spurious cycles)."""
    model = _random_model(kind)
    order = min(MAX_ORDERS[kind], 3)
    exhaustive = {cycle.labels for cycle in find_cycles(model, max_order=order, method="exhaustive").cycles}
    heuristic = {cycle.labels for cycle in find_cycles(model, max_order=order, method="heuristic", n_restarts=20).cycles}
    assert heuristic
    assert heuristic <= exhaustive


def test_cycles_are_not_reported_twice():
    """Rotations of a word are one cycle: labels are distinct and each starts at its least rotation."""
    search = find_cycles(lozi_alrnn(), max_order=6)
    labels = [cycle.labels for cycle in search.cycles]
    assert len(labels) == len(set(labels))
    for word in labels:
        assert word == min(word[shift:] + word[:shift] for shift in range(len(word)))


def test_lyndon_words_count_and_primitivity():
    """Duval's algorithm yields Witt's count of binary and ternary Lyndon words, each primitive and least in its rotation class."""
    assert [count_lyndon_words(2, k) for k in range(1, 9)] == [2, 1, 2, 3, 6, 9, 18, 30]
    for n_letters, length in [(2, 6), (3, 4), (4, 3)]:
        words = list(lyndon_words(n_letters, length))
        assert len(words) == count_lyndon_words(n_letters, length)
        classes = {min(word[s:] + word[:s] for s in range(length))
                   for word in itertools.product(range(n_letters), repeat=length) if primitive_root_length(word) == length}
        assert set(words) == classes


def test_primitive_root_length():
    assert primitive_root_length(("a", "a")) == 1
    assert primitive_root_length(("a", "b", "a", "b")) == 2
    assert primitive_root_length(("a", "a", "b")) == 3


def test_fixed_points_need_patterns_for_large_models():
    """S = 25 is too many to enumerate; the visited subregions of a free run can be searched instead."""
    torch.manual_seed(13)
    model = ShallowPLRNN(2, 3, 25).double()
    with pytest.raises(InputError, match="visited"):
        find_fixed_points(model)
    symbols = symbolize_free_run(model, np.zeros(3), n_steps=200)
    search = find_fixed_points(model, patterns=symbols.alphabet.patterns)
    assert not search.complete
    for point in search.real:
        with torch.no_grad():
            np.testing.assert_allclose(model.step(torch.from_numpy(point.point)).numpy(), point.point, atol=1e-10)


def test_exhaustive_search_limit():
    with pytest.raises(InputError, match="max_words"):
        find_cycles(lozi_alrnn(), max_order=8, method="exhaustive", max_words=100)


def test_auto_method_switches_per_period():
    """Lozi has 4 subregions: 4 words of period 1 fit max_words = 5, the 6 more of period 2 do not."""
    search = find_cycles(lozi_alrnn(), max_order=3, method="auto", max_words=5, n_restarts=5)
    assert search.methods == ("exhaustive", "heuristic", "heuristic")
    assert search.complete_orders == (1,)
    assert not search.complete


def test_exhaustive_search_needs_enumerable_subregions():
    torch.manual_seed(14)
    with pytest.raises(InputError, match="S <= 20"):
        find_cycles(ShallowPLRNN(2, 3, 25).double(), max_order=1, method="exhaustive")


def test_float32_model_is_analysed_in_float64():
    model = hand_model().float()
    search = find_fixed_points(model)
    np.testing.assert_allclose(search.real[0].point, [2 / 3, 1 / 3], atol=1e-6)
    assert model.W.dtype == torch.float32
