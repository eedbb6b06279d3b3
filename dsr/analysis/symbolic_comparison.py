"""Symbolic summaries of one symbol sequence, and the model's free run against the data side by side.

A summary collects the visit statistics, the transition graph, the entropy
rate of the fitted Markov chain, the topological entropy of the graph and
optionally block entropies. A comparison encodes both sequences with one
shared alphabet, so that a symbol means the same subregion in both, and
measures:

- visit_total_variation: TV(p, q) = ½ Σ_i |p_i − q_i| between the visit
  distributions of the model (p) and the data (q); 0 for equal and 1 for
  disjoint distributions.
- transition_total_variation: Σ_i w_i · ½ Σ_j |P^model_ij − P^data_ij|, the
  row-wise total variation between the transition matrices (self-transitions
  included), averaged with weights w_i = the data's visits of i, normalised
  over the symbols the data leaves at least once. A row the model never
  leaves (a subregion the free run never visits) counts as 1, the largest
  value, because the model has no transition there to compare.
- entropy_rate_difference: h_model − h_data of the Markov entropy rates, in
  nats per step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from dsr.analysis.entropy import BlockEntropies, block_entropies, markov_entropy_rate, topological_entropy
from dsr.analysis.symbolic_statistics import VisitStatistics, visit_statistics
from dsr.analysis.symbols import Alphabet, SymbolSequence, shared_alphabet
from dsr.analysis.transition_graph import TransitionGraph, stationary_distribution, transition_graph
from dsr.errors import InputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SymbolicSummary:
    """Symbolic statistics of one set of symbol sequences.

    Attributes:
        symbols: the sequences summarised.
        visits: visited subregions, most visited first.
        graph: transition counts and matrices over the whole alphabet.
        distribution: (K,) π used for the entropy rate.
        distribution_source: "stationary" when π is the unique stationary
            distribution of the fitted chain, "empirical" when that does not
            exist or is not unique and π is the share of visits instead.
        entropy_rate: Markov entropy rate −Σ π_i P_ij ln P_ij, nats per step.
        topological_entropy: ln ρ of the observed transition graph, nats per step.
        blocks: block entropies up to the requested word length, or None.
        dt: time units per step.
    """

    symbols: SymbolSequence
    visits: VisitStatistics
    graph: TransitionGraph
    distribution: np.ndarray
    distribution_source: str
    entropy_rate: float
    topological_entropy: float
    blocks: BlockEntropies | None
    dt: float

    @property
    def entropy_rate_per_time(self) -> float:
        """Entropy rate in nats per time unit."""
        return self.entropy_rate / self.dt

    @property
    def topological_entropy_per_time(self) -> float:
        """Topological entropy in nats per time unit."""
        return self.topological_entropy / self.dt


def summarize_symbols(symbols: SymbolSequence, max_word_length: int = 0, dt: float = 1.0) -> SymbolicSummary:
    """Compute the visit statistics, transition graph and entropies of symbol sequences.

    Args:
        symbols: the sequences, with their alphabet.
        max_word_length: maximum word length for block entropies; 0 skips them.
        dt: time units per step, for the per-time-unit values.
    """
    if max_word_length < 0:
        raise InputError(f"The word length for block entropies must be 0 (none) or positive, got {max_word_length}.")
    if not np.isfinite(dt) or dt <= 0:
        raise InputError(f"The sampling step dt must be a positive number of time units per step, got {dt}.")
    visits = visit_statistics(symbols)
    graph = transition_graph(symbols)

    try:
        distribution, source = stationary_distribution(graph.probabilities), "stationary"
    except InputError as error:
        # A chain fitted to a finite sequence often ends in a symbol it never
        # leaves. The share of visits is then the natural estimate of π.
        logger.info("Using the share of visits for the entropy rate: %s", error)
        distribution, source = graph.visits / graph.visits.sum(), "empirical"

    blocks = block_entropies(symbols, max_word_length, dt) if max_word_length else None
    return SymbolicSummary(
        symbols=symbols,
        visits=visits,
        graph=graph,
        distribution=distribution,
        distribution_source=source,
        entropy_rate=markov_entropy_rate(graph.probabilities, distribution),
        topological_entropy=topological_entropy(graph.counts),
        blocks=blocks,
        dt=float(dt),
    )


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Return ½ Σ |p − q| for two probability vectors of the same length."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise InputError(f"Distributions must have the same shape, got {p.shape} and {q.shape}.")
    return float(0.5 * np.abs(p - q).sum())


def transition_total_variation(model_graph: TransitionGraph, data_graph: TransitionGraph) -> float:
    """Return the row-wise total variation between two transition matrices, weighted by the data's visits.

    See the module docstring for the definition; both graphs must use the
    same alphabet.
    """
    if model_graph.n_symbols != data_graph.n_symbols:
        raise InputError(
            f"The transition graphs have {model_graph.n_symbols} and {data_graph.n_symbols} symbols; "
            "encode both sequences with a shared alphabet first."
        )
    data_rows = data_graph.counts.sum(axis=1) > 0
    if not np.any(data_rows):
        raise InputError("The data has no transitions, so transition matrices cannot be compared.")
    weights = np.where(data_rows, data_graph.visits, 0).astype(np.float64)
    weights /= weights.sum()

    row_distances = 0.5 * np.abs(model_graph.probabilities - data_graph.probabilities).sum(axis=1)
    model_rows = model_graph.counts.sum(axis=1) > 0
    row_distances = np.where(model_rows, row_distances, 1.0)
    return float(weights @ row_distances)


@dataclass(frozen=True)
class SymbolicComparison:
    """The model's free run and the data, summarised over one shared alphabet, with distances.

    Attributes:
        alphabet: the union of the subregions visited by either.
        model: summary of the model's free run.
        data: summary of the states inferred along the data.
        visit_total_variation: TV between the visit distributions.
        transition_total_variation: weighted row-wise TV between the
            transition matrices.
        entropy_rate_difference: h_model − h_data, nats per step.
        topological_entropy_difference: h_top,model − h_top,data, nats per step.
        n_shared: subregions visited by both.
    """

    alphabet: Alphabet
    model: SymbolicSummary
    data: SymbolicSummary
    visit_total_variation: float
    transition_total_variation: float
    entropy_rate_difference: float
    topological_entropy_difference: float
    n_shared: int


def compare_symbolic(model_symbols: SymbolSequence, data_symbols: SymbolSequence, max_word_length: int = 0,
                     dt: float = 1.0) -> SymbolicComparison:
    """Summarise the model's and the data's symbol sequences over a shared alphabet and measure their distances."""
    model_symbols, data_symbols = shared_alphabet(model_symbols, data_symbols)
    model_summary = summarize_symbols(model_symbols, max_word_length, dt)
    data_summary = summarize_symbols(data_symbols, max_word_length, dt)
    model_share = model_summary.graph.visits / model_summary.graph.visits.sum()
    data_share = data_summary.graph.visits / data_summary.graph.visits.sum()
    return SymbolicComparison(
        alphabet=model_symbols.alphabet,
        model=model_summary,
        data=data_summary,
        visit_total_variation=total_variation(model_share, data_share),
        transition_total_variation=transition_total_variation(model_summary.graph, data_summary.graph),
        entropy_rate_difference=model_summary.entropy_rate - data_summary.entropy_rate,
        topological_entropy_difference=model_summary.topological_entropy - data_summary.topological_entropy,
        n_shared=int(np.sum((model_summary.graph.visits > 0) & (data_summary.graph.visits > 0))),
    )
