"""Periodic orbits (k-cycles) of piecewise-linear models: exhaustive search over subregion words and SCYFI.

A k-cycle visits the subregions d_0, ..., d_{k−1} (its word) and returns:
z_{i+1} = J_{d_i} z_i + c_{d_i} for i = 0..k−1 with z_k = z_0. For a given
word, z_0 solves the linear system

    (I − G) z_0 = g,    G = J_{d_{k−1}} ··· J_{d_0},
    g = c_{d_{k−1}} + J_{d_{k−1}} c_{d_{k−2}} + ... + J_{d_{k−1}} ··· J_{d_1} c_{d_0},

and the cycle is real only if every z_i lies in subregion d_i. Its Floquet
multipliers are the eigenvalues of G; it is stable when their largest modulus
is below 1. Rotating the word gives the same cycle from another starting
point. A word that repeats a shorter one (d d, abab) describes an orbit of
lower period. So only primitive words are searched, and each cycle is
reported once, starting at the rotation of its word that comes first in
lexicographic order of the labels.

Two searches:

- exhaustive: every primitive word of length k up to rotation (the Lyndon
  words) over the candidate subregions, which finds every isolated k-cycle
  when the candidates are all 2^S subregions. There are about n^k / k words
  for n candidates, so this suits small S (the AL-RNN with few ReLU units).
- heuristic (SCYFI; L. Eisenmann, Z. Monfared, N. Göring, D. Durstewitz,
  "Bifurcations and loss jumps in RNN training", NeurIPS 2023): start from a
  random word, solve for the candidate cycle, iterate the true map F from its
  first point, and replace the word by the subregions actually visited until
  they agree (a real cycle) or an iteration cap is reached; then restart from
  a new random word. As in the published algorithm, finding a new cycle resets
  the restart count. It finds cycles in large models but gives no guarantee of
  completeness.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from dsr.analysis._models import affine_maps, float64_model, subregions
from dsr.analysis.fixed_points import SINGULAR_CONDITION, candidate_patterns
from dsr.analysis.symbols import pattern_label
from dsr.errors import InputError
from dsr.models.base import ReconstructionModel

logger = logging.getLogger(__name__)

CYCLE_METHODS = ("auto", "exhaustive", "heuristic")

# Words solved per batch in the exhaustive search.
_BATCH_WORDS = 4096

# A cycle point must satisfy |F(z_i) − z_{i+1}| ≤ tolerance · (1 + |z_{i+1}|).
_RESIDUAL_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Cycle:
    """A real periodic orbit of minimal period k.

    Attributes:
        labels: (k,) bit-string labels of the subregions visited, in order,
            starting at the rotation that comes first lexicographically.
        patterns: (k, S) the same subregions as bool patterns.
        points: (k, M) z_0, ..., z_{k−1}; z_i lies in subregion labels[i].
        multipliers: (M,) Floquet multipliers, the eigenvalues of
            G = J_{k−1} ··· J_0, largest modulus first.
        spectral_radius: max |multiplier|.
        stable: spectral_radius < 1.
    """

    labels: tuple[str, ...]
    patterns: np.ndarray
    points: np.ndarray
    multipliers: np.ndarray
    spectral_radius: float
    stable: bool

    @property
    def period(self) -> int:
        """Minimal period k in steps."""
        return len(self.labels)

    @property
    def word(self) -> str:
        """The labels joined by spaces, e.g. "01 10"."""
        return " ".join(self.labels)


@dataclass(frozen=True)
class CycleSearch:
    """The cycles found up to some order, and how they were searched.

    Attributes:
        cycles: real cycles, by period, then by word.
        orders: the periods k searched.
        methods: per period, "exhaustive" or "heuristic".
        complete: every isolated cycle of every searched period is listed,
            because each period was searched exhaustively over all 2^S
            subregions. Words whose I − G is singular (no isolated cycle)
            are counted in n_singular_words and left out.
        complete_orders: the periods whose search was complete.
        n_words: words solved.
        n_singular_words: words with a singular I − G.
    """

    cycles: tuple[Cycle, ...]
    orders: tuple[int, ...]
    methods: tuple[str, ...]
    complete_orders: tuple[int, ...]
    n_words: int
    n_singular_words: int

    @property
    def complete(self) -> bool:
        """Whether every searched period was searched completely."""
        return set(self.orders) == set(self.complete_orders)

    def of_period(self, period: int) -> tuple[Cycle, ...]:
        """Return the cycles with minimal period `period`."""
        return tuple(cycle for cycle in self.cycles if cycle.period == period)


def lyndon_words(n_letters: int, length: int) -> Iterator[tuple[int, ...]]:
    """Yield the Lyndon words of `length` over letters 0..n−1 in lexicographic order.

    A Lyndon word is strictly smaller than all its proper rotations, so there
    is exactly one per primitive word up to rotation. Duval's algorithm
    visits all Lyndon words of length ≤ `length`; those of the requested length are yielded.
    """
    if n_letters < 1 or length < 1:
        return
    word = [-1]
    while word:
        word[-1] += 1
        period = len(word)
        if period == length:
            yield tuple(word)
        while len(word) < length:
            word.append(word[len(word) - period])
        while word and word[-1] == n_letters - 1:
            word.pop()


def count_lyndon_words(n_letters: int, length: int) -> int:
    """Return the number of Lyndon words, (1/k) Σ_{d | k} μ(d) n^{k/d} (Witt's necklace formula)."""
    total = 0
    for divisor in range(1, length + 1):
        if length % divisor == 0:
            total += _moebius(divisor) * n_letters ** (length // divisor)
    return total // length


def _moebius(n: int) -> int:
    result, factor = 1, 2
    while factor * factor <= n:
        if n % factor == 0:
            n //= factor
            if n % factor == 0:
                return 0
            result = -result
        factor += 1
    return -result if n > 1 else result


def primitive_root_length(word: tuple) -> int:
    """Return the length d of the shortest word u with word = u^(k/d); d = k when the word is primitive."""
    length = len(word)
    for divisor in range(1, length):
        if length % divisor == 0 and word == word[divisor:] + word[:divisor]:
            return divisor
    return length


def _least_rotation(labels: tuple[str, ...]) -> int:
    """Return the shift r such that labels[r:] + labels[:r] is the lexicographically smallest rotation."""
    rotations = [labels[shift:] + labels[:shift] for shift in range(len(labels))]
    return min(range(len(labels)), key=rotations.__getitem__)


def _compose(jacobians: np.ndarray, offsets: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return G (B, M, M) and g (B, M) of the composed affine maps for words (B, k) of subregion indices."""
    n_words, dimension = len(words), jacobians.shape[1]
    product = np.broadcast_to(np.eye(dimension), (n_words, dimension, dimension)).copy()
    offset = np.zeros((n_words, dimension))
    for position in range(words.shape[1]):
        step_jacobians = jacobians[words[:, position]]
        product = step_jacobians @ product
        offset = np.einsum("bij,bj->bi", step_jacobians, offset) + offsets[words[:, position]]
    return product, offset


def _cycle_points(jacobians: np.ndarray, offsets: np.ndarray, words: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Return the points (B, k, M) of the cycles of words (B, k) that start at start (B, M), by the affine maps."""
    points = [start]
    for position in range(words.shape[1] - 1):
        points.append(np.einsum("bij,bj->bi", jacobians[words[:, position]], points[-1]) + offsets[words[:, position]])
    return np.stack(points, axis=1)


def _make_cycle(model: ReconstructionModel, patterns: np.ndarray, points: np.ndarray, product: np.ndarray) -> Cycle | None:
    """Check a candidate cycle against the true map and return it in canonical rotation, or None if it fails."""
    with torch.no_grad():
        mapped = model.step(torch.from_numpy(points)).numpy()
    following = np.roll(points, -1, axis=0)
    residual = np.linalg.norm(mapped - following, axis=1) / (1.0 + np.linalg.norm(following, axis=1))
    if not np.all(residual <= _RESIDUAL_TOLERANCE):
        logger.debug("Dropped a cycle candidate whose points do not map onto each other (residual %.2e).", residual.max())
        return None

    # Guard against an orbit of lower period that passes a primitive word test
    # only through points on a subregion boundary.
    period = len(points)
    for divisor in range(1, period):
        if period % divisor == 0 and np.allclose(points, np.roll(points, -divisor, axis=0), rtol=1e-9, atol=1e-12):
            return None

    labels = tuple(pattern_label(pattern) for pattern in patterns)
    shift = _least_rotation(labels)
    multipliers = np.linalg.eigvals(product)
    multipliers = multipliers[np.argsort(-np.abs(multipliers), kind="stable")]
    radius = float(np.abs(multipliers[0])) if len(multipliers) else 0.0
    return Cycle(
        labels=labels[shift:] + labels[:shift],
        patterns=np.roll(patterns, -shift, axis=0),
        points=np.roll(points, -shift, axis=0),
        multipliers=multipliers,
        spectral_radius=radius,
        stable=radius < 1.0,
    )


def _exhaustive_order(model, patterns, jacobians, offsets, order) -> tuple[list[Cycle], int, int]:
    """Solve every Lyndon word of length `order` over the candidate subregions; return (cycles, words, singular words)."""
    identity = np.eye(model.latent_dim)
    cycles: list[Cycle] = []
    n_words = n_singular = 0
    generator = lyndon_words(len(patterns), order)
    while True:
        batch = [word for _, word in zip(range(_BATCH_WORDS), generator)]
        if not batch:
            break
        words = np.asarray(batch, dtype=np.int64).reshape(len(batch), order)
        n_words += len(words)
        product, offset = _compose(jacobians, offsets, words)
        systems = identity - product
        singular = np.linalg.cond(systems) > SINGULAR_CONDITION
        n_singular += int(singular.sum())
        # Replace singular systems by I so that the batched solve succeeds; their solutions are discarded.
        systems[singular] = identity
        starts = np.linalg.solve(systems, offset[..., None])[..., 0]
        points = _cycle_points(jacobians, offsets, words, starts)
        consistent = np.all(subregions(model, points) == patterns[words], axis=(1, 2)) & ~singular
        for index in np.flatnonzero(consistent):
            cycle = _make_cycle(model, patterns[words[index]], points[index], product[index])
            if cycle is not None:
                cycles.append(cycle)
    return cycles, n_words, n_singular


class _AffineMapCache:
    """The affine maps of the subregions the heuristic search meets, computed once each."""

    def __init__(self, model: ReconstructionModel) -> None:
        self.model = model
        self.maps: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, pattern: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = np.packbits(pattern).tobytes()
        if key not in self.maps:
            jacobians, offsets = affine_maps(self.model, pattern[None])
            self.maps[key] = (jacobians[0], offsets[0])
        return self.maps[key]


def _heuristic_order(model, pool, order, rng, n_restarts, max_iterations) -> tuple[list[Cycle], int, int]:
    """Run SCYFI for one period; return (cycles, words solved, singular words)."""
    cache = _AffineMapCache(model)
    identity = np.eye(model.latent_dim)
    found: dict[tuple[str, ...], Cycle] = {}
    n_words = n_singular = 0

    def random_word() -> np.ndarray:
        if pool is not None:
            return pool[rng.integers(len(pool), size=order)]
        # Uniformly random patterns, as in the published algorithm. Some may be
        # empty subregions (in the clipped shPLRNN); the first update replaces
        # them by subregions that the true map visits.
        return rng.random((order, model.n_switches)) < 0.5

    # Finding a new cycle resets the count of fruitless restarts, as in the
    # published algorithm; the hard cap only guards against endless runs.
    fruitless, total_restarts, max_total_restarts = 0, 0, 100 * n_restarts
    while fruitless < n_restarts and total_restarts < max_total_restarts:
        fruitless += 1
        total_restarts += 1
        word = random_word()
        tried: set[bytes] = set()
        for _ in range(max_iterations):
            # A word met before in this restart means the updates go round in a loop without converging.
            key = np.packbits(word).tobytes()
            if key in tried:
                break
            tried.add(key)
            maps = [cache.get(pattern) for pattern in word]
            jacobians = np.stack([jacobian for jacobian, _ in maps])
            offsets = np.stack([offset for _, offset in maps])
            indices = np.arange(order)[None]
            product, offset = _compose(jacobians, offsets, indices)
            n_words += 1
            if np.linalg.cond(identity - product[0]) > SINGULAR_CONDITION:
                n_singular += 1
                break
            start = np.linalg.solve(identity - product[0], offset[0])

            # Iterate the true map from the candidate and read off the subregions it visits.
            orbit = [torch.from_numpy(start)]
            with torch.no_grad():
                for _ in range(order - 1):
                    orbit.append(model.step(orbit[-1]))
                visited = model.subregion(torch.stack(orbit)).numpy()
            if not np.array_equal(visited, word):
                word = visited
                continue

            if primitive_root_length(tuple(pattern_label(pattern) for pattern in word)) == order:
                points = _cycle_points(jacobians, offsets, indices, start[None])[0]
                cycle = _make_cycle(model, word, points, product[0])
                if cycle is not None and cycle.labels not in found:
                    found[cycle.labels] = cycle
                    fruitless = 0
            break
    return list(found.values()), n_words, n_singular


def find_cycles(
    model: ReconstructionModel,
    max_order: int,
    min_order: int = 1,
    method: str = "auto",
    patterns: np.ndarray | None = None,
    max_words: int = 200_000,
    n_restarts: int = 100,
    max_iterations: int = 50,
    seed: int = 0,
) -> CycleSearch:
    """Find the real cycles of minimal period min_order..max_order (period 1 = real fixed points).

    Args:
        model: any `ReconstructionModel`; a float32 model is copied to float64.
        max_order, min_order: range of periods k to search.
        method: "exhaustive", "heuristic", or "auto": exhaustive for the
            periods, from the shortest up, whose words together number at
            most `max_words`, heuristic for the longer ones.
        patterns: (K, S) candidate subregions: the letters of the exhaustive
            search and the pool of random starting words of the heuristic.
            Default: all 2^S subregions (S ≤ 20) for the exhaustive search,
            uniformly random patterns for the heuristic one.
        max_words: limit of the exhaustive search over all its periods
            (raises beyond it when method is "exhaustive").
        n_restarts: heuristic: restarts without a new cycle before giving up
            on a period.
        max_iterations: heuristic: word updates per restart.
        seed: heuristic: seed of the random starting words.

    Raises:
        InputError: invalid orders, method or limits, or an exhaustive search
            larger than `max_words`.
    """
    if not 1 <= min_order <= max_order:
        raise InputError(f"The cycle orders must satisfy 1 <= min_order <= max_order, got {min_order} and {max_order}.")
    if method not in CYCLE_METHODS:
        raise InputError(f"Unknown cycle search method {method!r}; expected one of {', '.join(CYCLE_METHODS)}.")
    if n_restarts < 1 or max_iterations < 1:
        raise InputError(f"n_restarts and max_iterations must be at least 1, got {n_restarts} and {max_iterations}.")
    model = float64_model(model)
    orders = tuple(range(min_order, max_order + 1))
    methods = _choose_methods(model, orders, method, patterns, max_words)

    exhaustive_orders = [order for order, chosen in zip(orders, methods) if chosen == "exhaustive"]
    if exhaustive_orders:
        candidates, all_subregions = candidate_patterns(model, patterns)
        jacobians, offsets = affine_maps(model, candidates)
    else:
        all_subregions = False
    pool = None if patterns is None else candidate_patterns(model, patterns)[0]
    rng = np.random.default_rng(seed)

    cycles: list[Cycle] = []
    n_words = n_singular = 0
    for order, chosen in zip(orders, methods):
        if chosen == "exhaustive":
            found, words, singular = _exhaustive_order(model, candidates, jacobians, offsets, order)
        else:
            found, words, singular = _heuristic_order(model, pool, order, rng, n_restarts, max_iterations)
        cycles += found
        n_words += words
        n_singular += singular

    cycles.sort(key=lambda cycle: (cycle.period, cycle.labels))
    complete_orders = tuple(exhaustive_orders) if all_subregions else ()
    return CycleSearch(tuple(cycles), orders, methods, complete_orders, n_words, n_singular)


def _choose_methods(model: ReconstructionModel, orders: tuple[int, ...], method: str, patterns: np.ndarray | None,
                    max_words: int) -> tuple[str, ...]:
    """Return the search method of each period, checking the exhaustive search against `max_words`."""
    if method == "heuristic":
        return ("heuristic",) * len(orders)
    if patterns is not None:
        n_letters = len(patterns)
    elif model.n_switches <= 20:
        n_letters = 2**model.n_switches
    elif method == "auto":
        logger.info("Cycle search: S = %d is too many to enumerate all subregions, so SCYFI searches every period.",
                    model.n_switches)
        return ("heuristic",) * len(orders)
    else:
        raise InputError(
            f"The exhaustive cycle search over all 2^S subregions needs S <= 20, got S = {model.n_switches}; "
            "pass the visited subregions as candidates or use the heuristic."
        )

    word_counts = [count_lyndon_words(n_letters, order) for order in orders]
    if method == "exhaustive":
        if sum(word_counts) > max_words:
            raise InputError(
                f"The exhaustive cycle search needs {sum(word_counts)} words for periods {orders[0]}..{orders[-1]}, "
                f"more than max_words = {max_words}; lower the maximum period, pass fewer candidate subregions, "
                "or use the heuristic."
            )
        return ("exhaustive",) * len(orders)

    # auto: exhaustive for the shortest periods as long as the words fit.
    methods, total = [], 0
    for count in word_counts:
        total += count
        methods.append("exhaustive" if total <= max_words and "heuristic" not in methods else "heuristic")
    logger.info("Cycle search, periods %d..%d: %s.", orders[0], orders[-1], ", ".join(methods))
    return tuple(methods)
