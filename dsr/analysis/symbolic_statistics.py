"""Visit statistics of symbol sequences: how often and how long each subregion is visited.

All functions take the symbols as one 1-D integer array, a 2-D array whose
rows are independent sequences, a list of 1-D arrays of any lengths, or a
`SymbolSequence`. Dwell times never run across two sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsr.analysis.symbols import Symbols, SymbolSequence, alphabet_size, as_sequences
from dsr.errors import InputError

def visit_counts(symbols: Symbols, n_symbols: int | None = None) -> np.ndarray:
    """Return how often each of the K symbols occurs, int64 (K,)."""
    n_symbols = alphabet_size(symbols, n_symbols)
    counts = np.zeros(n_symbols, dtype=np.int64)
    for sequence in as_sequences(symbols):
        counts += np.bincount(sequence, minlength=n_symbols)
    return counts


def runs(symbols: Symbols) -> tuple[np.ndarray, np.ndarray]:
    """Return the run-length encoding (symbol of each run, length of each run) over all sequences.

    A run is a maximal block of equal consecutive symbols within one sequence.
    """
    run_symbols, run_lengths = [], []
    for sequence in as_sequences(symbols):
        if not sequence.size:
            continue
        starts = np.flatnonzero(np.concatenate([[True], sequence[1:] != sequence[:-1]]))
        run_symbols.append(sequence[starts])
        run_lengths.append(np.diff(np.append(starts, len(sequence))))
    if not run_symbols:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(run_symbols), np.concatenate(run_lengths)


def mean_dwell_times(symbols: Symbols, n_symbols: int | None = None) -> np.ndarray:
    """Return the mean run length of each symbol in steps, (K,); NaN for symbols that never occur.

    The dwell time in a subregion is the number of consecutive steps an orbit
    stays in it. Runs cut by the start or end of a sequence count with their
    observed length, so the mean is biased low. At most two runs per sequence
    are cut, which is negligible for long sequences.
    """
    n_symbols = alphabet_size(symbols, n_symbols)
    run_symbols, run_lengths = runs(symbols)
    total_steps = np.bincount(run_symbols, weights=run_lengths, minlength=n_symbols)
    n_runs = np.bincount(run_symbols, minlength=n_symbols)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_runs > 0, total_steps / np.maximum(n_runs, 1), np.nan)


@dataclass(frozen=True)
class VisitStatistics:
    """Visited subregions, most visited first.

    Attributes:
        symbols: (V,) the V visited symbols, sorted by decreasing visit count
            (ties by symbol number).
        labels: (V,) bit-string labels of those symbols ("" when the input
            carried no alphabet).
        counts: (V,) visits, in steps.
        shares: (V,) share of time, counts / total.
        cumulative_shares: (V,) share covered by the k most visited, k = 1..V.
        mean_dwell_times: (V,) mean run length in steps.
        n_steps: total number of symbols.
        n_symbols: size K of the alphabet, visited or not.
    """

    symbols: np.ndarray
    labels: tuple[str, ...]
    counts: np.ndarray
    shares: np.ndarray
    cumulative_shares: np.ndarray
    mean_dwell_times: np.ndarray
    n_steps: int
    n_symbols: int

    @property
    def n_visited(self) -> int:
        """Number of distinct subregions visited."""
        return int(len(self.symbols))

    def coverage(self, k: int) -> float:
        """Return the share of time spent in the k most visited subregions."""
        if k < 1:
            raise InputError(f"The number of subregions k must be at least 1, got {k}.")
        if not self.n_visited:
            return 0.0
        return float(self.cumulative_shares[min(k, self.n_visited) - 1])

    def subregions_for_coverage(self, share: float) -> int:
        """Return the smallest k such that the k most visited subregions cover at least `share` of the time."""
        if not 0.0 < share <= 1.0:
            raise InputError(f"The share must be in (0, 1], got {share}.")
        # Compare with a tolerance, because cumulative sums of shares end at 1 only to round-off.
        return int(np.searchsorted(self.cumulative_shares, share - 1e-12) + 1)


def visit_statistics(symbols: Symbols, n_symbols: int | None = None) -> VisitStatistics:
    """Count visits, shares of time and mean dwell times of every visited subregion, most visited first.

    Raises InputError when there are no symbols at all.
    """
    n_symbols = alphabet_size(symbols, n_symbols)
    counts = visit_counts(symbols, n_symbols)
    total = int(counts.sum())
    if total == 0:
        raise InputError("There are no symbols to count; the symbol sequences are empty.")

    visited = np.flatnonzero(counts)
    # Sort by decreasing count, then by increasing symbol, so that the order is reproducible.
    order = np.lexsort((visited, -counts[visited]))
    visited = visited[order]
    shares = counts[visited] / total
    labels = symbols.alphabet.labels if isinstance(symbols, SymbolSequence) else ("",) * n_symbols
    return VisitStatistics(
        symbols=visited,
        labels=tuple(labels[symbol] for symbol in visited),
        counts=counts[visited],
        shares=shares,
        cumulative_shares=np.cumsum(shares),
        mean_dwell_times=mean_dwell_times(symbols, n_symbols)[visited],
        n_steps=total,
        n_symbols=n_symbols,
    )
