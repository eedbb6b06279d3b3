"""Symbolic analysis of a trained run: the model's code against the data's, fixed points and cycles.

Protocol (every setting is a `SymbolicOptions` field and is stored with the
results):

1. The data is one part of the run's dataset (test by default) or of another
   dataset with the same variables, standardised with the normalisation the
   model was trained with. Its symbol sequences are the subregions of the
   states the model infers along each trajectory (`inference`: a
   teacher-forced run or initial_state per sample), after `data_transient`
   samples. The forced run restarts from initial_state every
   `restart_interval` samples (default: the training sequence length, the
   horizon over which training forced the model from such a start).
2. Free runs start from `starts` evenly spaced points of the longest data
   trajectory, drop `transient` steps and give `steps` symbols each.
3. Both are encoded with one shared alphabet and compared
   (`dsr.analysis.symbolic_comparison`); block entropies go up to words of
   `max_word_length` symbols.
4. Fixed points are computed for all 2^S subregions when S is at most 12,
   otherwise for the subregions that the free run or the data visit.
   Cycles of period 2..`max_period` are searched exhaustively while the
   words fit `max_words`, and by SCYFI beyond that.

`store_symbolic` writes the `symbolic` group of run.h5 (documented in
docs/formats.md) and `write_symbolic_graphml` the transition graphs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from dsr.analysis._models import float64_model
from dsr.analysis.cycles import CYCLE_METHODS, CycleSearch, find_cycles
from dsr.analysis.fixed_points import FixedPointSearch, find_fixed_points
from dsr.analysis.symbolic_comparison import SymbolicComparison, SymbolicSummary, compare_symbolic
from dsr.analysis.symbolize import INFERENCE_METHODS, symbolize_free_run, symbolize_observations
from dsr.analysis.symbols import MAX_NATURAL_CODE_SWITCHES
from dsr.analysis.transition_graph import write_graphml
from dsr.data.dataset import Dataset
from dsr.errors import InputError
from dsr.runs.run import Run

logger = logging.getLogger(__name__)

SYMBOLIC_GROUP = "symbolic"

# Fixed points of all 2^S subregions up to this S (4096 affine maps); beyond it only visited ones.
MAX_ALL_SUBREGIONS_SWITCHES = 12

GRAPHML_FILES = {"model": "transitions_model.graphml", "data": "transitions_data.graphml"}


@dataclass(frozen=True)
class SymbolicOptions:
    """Settings of the symbolic analysis (see the module docstring for the protocol).

    Attributes:
        steps: free-run symbols per start.
        starts: free runs, from evenly spaced data points.
        transient: free-run steps dropped before symbolising.
        inference: how data become latent states: "forced" or "initial".
        alpha: forcing strength for "forced", in (0, 1].
        restart_interval: samples between restarts of the forced run from
            initial_state; None takes the run's training sequence length, 0
            never restarts.
        data_transient: samples of each data trajectory dropped first.
        max_word_length: maximum word length of the block entropies; 0 skips them.
        max_period: longest cycle period searched; 1 skips the cycle search.
        cycle_method: "auto", "exhaustive" or "heuristic".
        max_words: words of the exhaustive cycle search, over all periods.
        restarts: SCYFI restarts without a new cycle before it stops.
        iterations: SCYFI word updates per restart.
        seed: seed of SCYFI's random starting words.
    """

    steps: int = 100_000
    starts: int = 1
    transient: int = 1_000
    inference: str = "forced"
    alpha: float = 1.0
    restart_interval: int | None = None
    data_transient: int = 10
    max_word_length: int = 10
    max_period: int = 4
    cycle_method: str = "auto"
    max_words: int = 200_000
    restarts: int = 100
    iterations: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "starts", "max_period", "max_words", "restarts", "iterations"):
            if getattr(self, name) < 1:
                raise InputError(f"The symbolic option {name} must be at least 1, got {getattr(self, name)}.")
        for name in ("transient", "data_transient", "max_word_length", "restart_interval"):
            if getattr(self, name) is None:
                continue
            if getattr(self, name) < 0:
                raise InputError(f"The symbolic option {name} must be zero or positive, got {getattr(self, name)}.")
        if self.inference not in INFERENCE_METHODS:
            raise InputError(f"Unknown state inference {self.inference!r}; expected one of {', '.join(INFERENCE_METHODS)}.")
        if self.cycle_method not in CYCLE_METHODS:
            raise InputError(f"Unknown cycle search {self.cycle_method!r}; expected one of {', '.join(CYCLE_METHODS)}.")
        if not 0.0 < self.alpha <= 1.0:
            raise InputError(f"The forcing strength alpha must be in (0, 1], got {self.alpha}.")


@dataclass(frozen=True)
class SymbolicRunResult:
    """The symbolic analysis of one run.

    Attributes:
        comparison: model and data summaries over a shared alphabet, with distances.
        fixed_points: the fixed points of the searched subregions.
        cycles: the cycles of period 2..max_period, or None when max_period is 1.
        protocol: the options and the data they were applied to, JSON-serialisable.
    """

    comparison: SymbolicComparison
    fixed_points: FixedPointSearch
    cycles: CycleSearch | None
    protocol: dict[str, Any]


def _standardized_part(run: Run, dataset: Dataset, part: str) -> list[np.ndarray]:
    """Return the trajectories of `part`, standardised with the run's normalisation."""
    pieces = dataset.part(part, standardized=False)
    if not pieces:
        raise InputError(f"The dataset has no {part} part to analyse; choose --part train, valid, test or all.")
    if dataset.n_variables != run.model.obs_dim:
        raise InputError(
            f"The dataset has {dataset.n_variables} variables, but the model of {run.folder} predicts {run.model.obs_dim}."
        )
    mean = np.asarray(run.dataset_info.get("mean", dataset.mean))
    std = np.asarray(run.dataset_info.get("std", dataset.std))
    return [(piece - mean) / std for piece in pieces]


def analyze_run_symbolic(run: Run, dataset: Dataset, part: str, options: SymbolicOptions) -> SymbolicRunResult:
    """Run the symbolic protocol for `run` on one part of `dataset` (see the module docstring).

    Raises:
        InputError: a model without ReLU units, a dataset that does not fit
            the model, or data too short for the transient.
        NumericalError: a free run or a forced run diverged.
    """
    model = float64_model(run.model)
    if model.n_switches == 0:
        raise InputError(
            f"The model of {run.folder} has no ReLU units, so it is linear with a single subregion and has no symbolic code."
        )
    trajectories = _standardized_part(run, dataset, part)

    logger.info("Symbolising the data: trajectories %d, %s inference.", len(trajectories), options.inference)
    restart = run.config.sequence_length if options.restart_interval is None else options.restart_interval
    if restart == 0:
        restart = None
    data_symbols = symbolize_observations(model, trajectories, inference=options.inference, alpha=options.alpha,
                                          transient=options.data_transient, restart_interval=restart)

    reference = max(trajectories, key=len)
    start_indices = np.linspace(0, len(reference) - 1, options.starts, endpoint=False).astype(int)
    with torch.no_grad():
        initial_states = model.initial_state(torch.from_numpy(reference[start_indices])).numpy()
    logger.info("Symbolising %d free run(s) of %d steps after a %d-step transient.", options.starts, options.steps,
                options.transient)
    model_symbols = symbolize_free_run(model, initial_states, options.steps, transient=options.transient)

    comparison = compare_symbolic(model_symbols, data_symbols, max_word_length=options.max_word_length, dt=dataset.dt)

    enumerate_all = model.n_switches <= MAX_ALL_SUBREGIONS_SWITCHES
    candidates = None if enumerate_all else comparison.alphabet.patterns
    fixed_points = find_fixed_points(model, candidates)
    cycles = None
    if options.max_period >= 2:
        cycles = find_cycles(model, options.max_period, min_order=2, method=options.cycle_method, patterns=candidates,
                             max_words=options.max_words, n_restarts=options.restarts,
                             max_iterations=options.iterations, seed=options.seed)

    protocol = {
        **dataclasses.asdict(options), "restart_interval": restart or 0, "part": part, "dataset": dataset.name, "dt": dataset.dt,
        "time_unit": dataset.time_unit, "data_trajectories": len(trajectories),
        "data_symbols": data_symbols.n_symbols, "start_indices": start_indices.tolist(),
        "parameters_used": run.which, "candidate_subregions": "all" if enumerate_all else "visited",
    }
    return SymbolicRunResult(comparison, fixed_points, cycles, protocol)


def _write_summary(group: h5py.Group, summary: SymbolicSummary) -> None:
    graph = summary.graph
    sources, targets = np.nonzero(graph.counts)
    group.attrs["entropy_rate"] = summary.entropy_rate
    group.attrs["topological_entropy"] = summary.topological_entropy
    group.attrs["distribution_source"] = summary.distribution_source
    group.attrs["n_symbols"] = summary.symbols.n_symbols
    group.attrs["n_visited"] = summary.visits.n_visited
    group.attrs["n_components"] = graph.n_components
    group.create_dataset("visits", data=graph.visits)
    group.create_dataset("mean_dwell_times", data=_dwell_times_over_alphabet(summary))
    group.create_dataset("distribution", data=summary.distribution)
    group.create_dataset("components", data=graph.components)
    group.create_dataset("transitions", data=np.stack([sources, targets, graph.counts[sources, targets]], axis=1).astype(np.int64))
    if summary.blocks is not None:
        group.create_dataset("block_entropies", data=summary.blocks.entropies)
        group.create_dataset("conditional_block_entropies", data=summary.blocks.conditional_entropies)
        group.create_dataset("word_counts", data=summary.blocks.word_counts)


def _dwell_times_over_alphabet(summary: SymbolicSummary) -> np.ndarray:
    dwell = np.full(summary.graph.n_symbols, np.nan)
    dwell[summary.visits.symbols] = summary.visits.mean_dwell_times
    return dwell


def _write_fixed_points(group: h5py.Group, search: FixedPointSearch, latent_dim: int) -> None:
    points = search.fixed_points
    group.attrs["complete"] = search.complete
    group.attrs["n_searched"] = search.n_searched
    group.attrs["singular_labels"] = json.dumps(list(search.singular_labels))
    group.create_dataset("labels", data=np.array([point.label for point in points], dtype=h5py.string_dtype()))
    group.create_dataset("points", data=np.array([point.point for point in points]).reshape(len(points), latent_dim))
    group.create_dataset("eigenvalues", data=np.array([point.eigenvalues for point in points],
                                                      dtype=np.complex128).reshape(len(points), latent_dim))
    group.create_dataset("spectral_radius", data=np.array([point.spectral_radius for point in points], dtype=np.float64))
    group.create_dataset("stable", data=np.array([point.stable for point in points], dtype=bool))
    group.create_dataset("real", data=np.array([point.real for point in points], dtype=bool))


def _write_cycles(group: h5py.Group, search: CycleSearch, latent_dim: int) -> None:
    cycles = search.cycles
    group.attrs["orders"] = np.array(search.orders, dtype=np.int64)
    group.attrs["methods"] = json.dumps(list(search.methods))
    group.attrs["complete_orders"] = np.array(search.complete_orders, dtype=np.int64)
    group.attrs["n_words"] = search.n_words
    group.attrs["n_singular_words"] = search.n_singular_words
    periods = np.array([cycle.period for cycle in cycles], dtype=np.int64)
    group.create_dataset("periods", data=periods)
    group.create_dataset("words", data=np.array([cycle.word for cycle in cycles], dtype=h5py.string_dtype()))
    group.create_dataset("offsets", data=np.concatenate([[0], np.cumsum(periods)]).astype(np.int64))
    points = np.concatenate([cycle.points for cycle in cycles]) if cycles else np.zeros((0, latent_dim))
    group.create_dataset("points", data=points)
    group.create_dataset("multipliers", data=np.array([cycle.multipliers for cycle in cycles],
                                                      dtype=np.complex128).reshape(len(cycles), latent_dim))
    group.create_dataset("spectral_radius", data=np.array([cycle.spectral_radius for cycle in cycles], dtype=np.float64))
    group.create_dataset("stable", data=np.array([cycle.stable for cycle in cycles], dtype=bool))


def store_symbolic(run: Run, result: SymbolicRunResult) -> None:
    """Replace the `symbolic` group of run.h5 with the results and the protocol."""
    comparison = result.comparison
    alphabet = comparison.alphabet
    latent_dim = run.model.latent_dim

    def write(group: h5py.Group) -> None:
        group.attrs["protocol"] = json.dumps(result.protocol)
        group.attrs["n_switches"] = alphabet.n_switches
        group.attrs["visit_total_variation"] = comparison.visit_total_variation
        group.attrs["transition_total_variation"] = comparison.transition_total_variation
        group.attrs["entropy_rate_difference"] = comparison.entropy_rate_difference
        group.attrs["topological_entropy_difference"] = comparison.topological_entropy_difference
        group.attrs["n_shared"] = comparison.n_shared
        group.create_dataset("patterns", data=alphabet.patterns)
        group.create_dataset("labels", data=np.array(alphabet.labels, dtype=h5py.string_dtype()))
        if alphabet.n_switches <= MAX_NATURAL_CODE_SWITCHES:
            group.create_dataset("natural_codes", data=alphabet.natural_codes())
        if comparison.model.blocks is not None:
            group.create_dataset("word_lengths", data=comparison.model.blocks.lengths)
        _write_summary(group.create_group("model"), comparison.model)
        _write_summary(group.create_group("data"), comparison.data)
        _write_fixed_points(group.create_group("fixed_points"), result.fixed_points, latent_dim)
        if result.cycles is not None:
            _write_cycles(group.create_group("cycles"), result.cycles, latent_dim)

    run.write_group(SYMBOLIC_GROUP, write)


def fixed_point_attributes(result: SymbolicRunResult) -> dict[str, np.ndarray]:
    """Return per-symbol GraphML node attributes: whether the subregion has a real fixed point, and whether it is stable."""
    labels = result.comparison.alphabet.labels
    index = {label: symbol for symbol, label in enumerate(labels)}
    real = np.zeros(len(labels), dtype=bool)
    stable = np.zeros(len(labels), dtype=bool)
    for point in result.fixed_points.real:
        if point.label in index:
            real[index[point.label]] = True
            stable[index[point.label]] = point.stable
    return {"real_fixed_point": real, "stable_fixed_point": stable}


def write_symbolic_graphml(result: SymbolicRunResult, folder: str | Path) -> dict[str, Path]:
    """Write the model's and the data's transition graphs as GraphML into `folder`; return the paths by source."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: the folder for the GraphML files does not exist. Create it or choose another.")
    attributes = fixed_point_attributes(result)
    paths = {}
    for source, summary in (("model", result.comparison.model), ("data", result.comparison.data)):
        path = folder / GRAPHML_FILES[source]
        write_graphml(summary.graph, path, node_attributes=attributes)
        paths[source] = path
    return paths
