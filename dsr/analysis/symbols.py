"""Symbolic codes of piecewise-linear models: each latent state becomes the symbol of its subregion.

A model with S ReLU units splits the latent space into subregions, one per
on/off pattern d ∈ {0, 1}^S of those units, and is affine in each. Replacing
every state z_t of an orbit by its pattern turns the orbit into a sequence of
symbols, the symbolic code that Brenner et al. (NeurIPS 2024, "Almost-Linear
RNNs Yield Highly Interpretable Symbolic Codes in Dynamical Systems
Reconstruction") use to read a trained AL-RNN.

An `Alphabet` numbers the distinct patterns that occur: symbol i is the i-th
pattern in lexicographic order of its bit string, which works for any S
(S = 100 included). The label of a pattern is its bit string with the first
unit first ("01": unit 1 off, unit 2 on). For small S there is also the
natural code int(label, 2).

`dsr.analysis.symbolize` turns free runs and observed data into symbol
sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

from dsr.errors import InputError

# Largest S for which all 2^S patterns are enumerated (about 10^6 subregions).
MAX_ENUMERATED_SWITCHES = 20

# Largest S whose natural code int(bits) fits in an int64.
MAX_NATURAL_CODE_SWITCHES = 62


def _pattern_keys(patterns: np.ndarray) -> np.ndarray:
    """Pack bool patterns (..., S) into one opaque bytes key per pattern, ordered like the bit strings."""
    patterns = np.asarray(patterns, dtype=bool)
    packed = np.ascontiguousarray(np.packbits(patterns, axis=-1))
    return packed.view(np.dtype((np.void, packed.shape[-1])))[..., 0]


def pattern_label(pattern: np.ndarray) -> str:
    """Return the bit string of one on/off pattern, first unit first: [False, True] -> "01"."""
    return "".join("1" if bit else "0" for bit in np.asarray(pattern, dtype=bool).ravel())


def parse_pattern_label(label: str) -> np.ndarray:
    """Return the bool pattern of a bit string such as "0110"."""
    if not label or set(label) - {"0", "1"}:
        raise InputError(f"Invalid subregion label {label!r}: expected a string of 0s and 1s such as '0110'.")
    return np.array([character == "1" for character in label], dtype=bool)


def natural_codes(patterns: np.ndarray) -> np.ndarray:
    """Return int(label, 2) for patterns (..., S): the first unit is the most significant bit.

    Raises InputError for S > 62, where the code no longer fits an int64; use
    the symbols of an `Alphabet` instead.
    """
    patterns = np.asarray(patterns, dtype=bool)
    n_switches = patterns.shape[-1]
    if n_switches > MAX_NATURAL_CODE_SWITCHES:
        raise InputError(
            f"The natural code int(bits) needs at most {MAX_NATURAL_CODE_SWITCHES} switching units to fit an int64, "
            f"got {n_switches}; use the alphabet's symbol numbers instead."
        )
    weights = np.left_shift(np.int64(1), np.arange(n_switches - 1, -1, -1, dtype=np.int64))
    return patterns.astype(np.int64) @ weights


def all_patterns(n_switches: int) -> np.ndarray:
    """Return all 2^S patterns (2^S, S) in the order of their natural code 0, 1, ..., 2^S − 1."""
    if not 0 <= n_switches <= MAX_ENUMERATED_SWITCHES:
        raise InputError(
            f"Enumerating all 2^S subregions needs S between 0 and {MAX_ENUMERATED_SWITCHES}, got S = {n_switches}; "
            "pass the visited subregions instead."
        )
    codes = np.arange(2**n_switches, dtype=np.int64)
    shifts = np.arange(n_switches - 1, -1, -1, dtype=np.int64)
    return ((codes[:, None] >> shifts) & 1).astype(bool)


@dataclass(frozen=True)
class Alphabet:
    """The distinct subregion patterns that symbols stand for.

    Attributes:
        patterns: (K, S) bool, distinct rows in lexicographic order of their
            bit strings, so symbol i stands for patterns[i].
    """

    patterns: np.ndarray

    def __post_init__(self) -> None:
        patterns = np.asarray(self.patterns, dtype=bool)
        if patterns.ndim != 2:
            raise InputError(f"Alphabet patterns must have shape (K, S), got {patterns.shape}.")
        keys = _pattern_keys(patterns)
        # np.unique returns distinct keys in sorted order, so equality checks both properties.
        if not np.array_equal(np.unique(keys), keys):
            raise InputError("Alphabet patterns must be distinct and sorted; build the alphabet with Alphabet.from_patterns.")
        object.__setattr__(self, "patterns", patterns)

    @classmethod
    def from_patterns(cls, *pattern_arrays: np.ndarray) -> "Alphabet":
        """Build the alphabet of every pattern that occurs in the arrays (..., S), all with the same S."""
        widths = {np.shape(array)[-1] for array in pattern_arrays}
        if len(widths) != 1:
            raise InputError(f"All pattern arrays must have the same number of switching units S, got {sorted(widths)}.")
        (width,) = widths
        keys = np.concatenate([_pattern_keys(array).ravel() for array in pattern_arrays])
        unique_keys = np.unique(keys)
        packed = unique_keys.view(np.uint8).reshape(len(unique_keys), -1)
        return cls(np.unpackbits(packed, axis=-1, count=width).astype(bool))

    @classmethod
    def complete(cls, n_switches: int) -> "Alphabet":
        """Build the alphabet of all 2^S patterns, where symbol i is the pattern with natural code i."""
        return cls(all_patterns(n_switches))

    @property
    def size(self) -> int:
        """Number of symbols K."""
        return int(self.patterns.shape[0])

    @property
    def n_switches(self) -> int:
        """Number of switching units S per pattern."""
        return int(self.patterns.shape[1])

    @property
    def labels(self) -> tuple[str, ...]:
        """Bit strings of the patterns, first unit first."""
        return tuple(pattern_label(pattern) for pattern in self.patterns)

    def natural_codes(self) -> np.ndarray:
        """Return int(label, 2) of every symbol (S ≤ 62)."""
        return natural_codes(self.patterns)

    def encode(self, patterns: np.ndarray) -> np.ndarray:
        """Return the int64 symbols (...,) of patterns (..., S); every pattern must be in the alphabet."""
        patterns = np.asarray(patterns, dtype=bool)
        if patterns.shape[-1] != self.n_switches:
            raise InputError(f"Patterns have {patterns.shape[-1]} switching units, but the alphabet has {self.n_switches}.")
        alphabet_keys = _pattern_keys(self.patterns)
        keys = _pattern_keys(patterns)
        symbols = np.searchsorted(alphabet_keys, keys)
        clipped = np.minimum(symbols, self.size - 1)
        unknown = (symbols >= self.size) | (alphabet_keys[clipped] != keys) if self.size else np.ones(keys.shape, bool)
        if np.any(unknown):
            example = pattern_label(patterns.reshape(-1, self.n_switches)[np.flatnonzero(unknown.ravel())[0]])
            raise InputError(
                f"Pattern {example} is not in the alphabet of {self.size} subregions; "
                "build the alphabet from all pattern arrays that will be encoded (Alphabet.from_patterns)."
            )
        return symbols.astype(np.int64)

    def decode(self, symbols: np.ndarray) -> np.ndarray:
        """Return the patterns (..., S) of symbols (...)."""
        return self.patterns[np.asarray(symbols, dtype=np.int64)]


@dataclass(frozen=True)
class SymbolSequence:
    """One or more symbol sequences over one alphabet.

    Attributes:
        sequences: independent 1-D int64 sequences, for example one per
            trajectory or per free-run orbit. Statistics never count a
            transition or word across two sequences.
        alphabet: what each symbol stands for.
    """

    sequences: tuple[np.ndarray, ...]
    alphabet: Alphabet

    @classmethod
    def from_patterns(cls, pattern_sequences: Sequence[np.ndarray], alphabet: Alphabet | None = None) -> "SymbolSequence":
        """Encode pattern sequences (T_i, S) with `alphabet`, or with the alphabet of their own patterns."""
        pattern_sequences = [np.asarray(patterns, dtype=bool) for patterns in pattern_sequences]
        if alphabet is None:
            alphabet = Alphabet.from_patterns(*pattern_sequences)
        return cls(tuple(alphabet.encode(patterns) for patterns in pattern_sequences), alphabet)

    def with_alphabet(self, alphabet: Alphabet) -> "SymbolSequence":
        """Return the same sequences re-encoded with a larger alphabet, for example one shared with another sequence."""
        return SymbolSequence.from_patterns([self.alphabet.decode(symbols) for symbols in self.sequences], alphabet)

    @property
    def n_symbols(self) -> int:
        """Total number of symbols over all sequences."""
        return int(sum(len(symbols) for symbols in self.sequences))

    def concatenated(self) -> np.ndarray:
        """Return all sequences joined into one array (for counting visits, not transitions)."""
        return np.concatenate(self.sequences) if self.sequences else np.zeros(0, dtype=np.int64)


# Symbol input of the statistics: one 1-D integer array, a 2-D array whose
# rows are independent sequences, a list of 1-D arrays of any lengths, or a
# SymbolSequence.
Symbols = Union[np.ndarray, Sequence[np.ndarray], SymbolSequence]


def as_sequences(symbols: Symbols) -> list[np.ndarray]:
    """Return the symbols as a list of 1-D int64 arrays, one per independent sequence."""
    if isinstance(symbols, SymbolSequence):
        return list(symbols.sequences)
    if isinstance(symbols, np.ndarray):
        if symbols.ndim == 1:
            sequences = [symbols]
        elif symbols.ndim == 2:
            sequences = list(symbols)
        else:
            raise InputError(f"Symbols must be a 1-D sequence or a 2-D array of sequences, got shape {symbols.shape}.")
    else:
        sequences = [np.asarray(sequence) for sequence in symbols]
    result = []
    for sequence in sequences:
        sequence = np.asarray(sequence)
        if sequence.ndim != 1:
            raise InputError(f"Each symbol sequence must be 1-D, got shape {sequence.shape}.")
        if sequence.size and not np.issubdtype(sequence.dtype, np.integer):
            raise InputError(f"Symbols must be integers, got dtype {sequence.dtype}.")
        if sequence.size and sequence.min() < 0:
            raise InputError(f"Symbols must be non-negative integers, got {sequence.min()}.")
        result.append(sequence.astype(np.int64))
    return result


def alphabet_size(symbols: Symbols, n_symbols: int | None = None) -> int:
    """Return K: `n_symbols` if given (checked against the data), the alphabet's size, or the largest symbol plus 1."""
    sequences = as_sequences(symbols)
    largest = max((int(sequence.max()) for sequence in sequences if sequence.size), default=-1)
    if n_symbols is None:
        n_symbols = symbols.alphabet.size if isinstance(symbols, SymbolSequence) else largest + 1
    if largest >= n_symbols:
        raise InputError(f"Symbol {largest} does not fit an alphabet of {n_symbols} symbols; pass a larger n_symbols.")
    return int(n_symbols)


def shared_alphabet(*sequences: SymbolSequence) -> tuple[SymbolSequence, ...]:
    """Re-encode several symbol sequences with the union of their alphabets, so that equal symbols mean equal patterns."""
    alphabet = Alphabet.from_patterns(*(sequence.alphabet.patterns for sequence in sequences))
    return tuple(sequence.with_alphabet(alphabet) for sequence in sequences)
