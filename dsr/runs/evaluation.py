"""The evaluation protocol: free runs of a trained model scored against held-out data.

Protocol (every parameter is an `EvaluationOptions` field and is stored with
the results):

1. The reference data is the test part of the run's dataset (or another
   dataset of the same dimension), standardised with the normalisation the
   model was trained with, so that all scores are in the model's units.
2. Free runs start from `n_starts` evenly spaced test points (default 1: the
   first). Each infers its latent state from that one observation, drops
   `transient` steps, and then generates as many steps as the test data has.
3. D_stsp compares each free run with the whole test data; D_H compares the
   first min(`dh_length`, T/2) samples of both, so that its floor compares
   halves of the same length; the largest Lyapunov exponent of the
   data and of the free run are estimated by the same estimator (Rosenstein)
   on `data_lyapunov_points` samples of the first variable; the model's
   spectrum comes from its Jacobians along an orbit from each start and is
   averaged over the starts; PE(k) uses every test point as a start.
4. The floor of each geometric and spectral metric is its value between the
   first and the second half of the test data: what a perfect model could
   reach with this much data.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsr.analysis.lyapunov import kaplan_yorke_dimension
from dsr.analysis.model_lyapunov import model_lyapunov_spectrum
from dsr.data.dataset import Dataset
from dsr.errors import InputError, NumericalError
from dsr.metrics import (
    free_run_spectrum_distance,
    hellinger_spectrum_distance,
    largest_lyapunov_rosenstein,
    resting_dimensions,
    state_space_divergence,
)
from dsr.metrics.prediction import prediction_error_curve
from dsr.runs.generate import generate_from_data
from dsr.runs.run import Run

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationOptions:
    """Parameters of the evaluation protocol; see the module docstring.

    Attributes:
        transient: free-run steps dropped before scoring.
        n_starts: number of free runs, from evenly spaced test points.
        dstsp_method: "auto" (histogram for N ≤ 3, Gaussian mixture above),
            "histogram" or "mixture".
        dstsp_bins: histogram bins per dimension.
        dstsp_sigma: standard deviation of the mixture form's Gaussians, in
            standardised units.
        dh_sigma: Gaussian smoothing of the power spectra, in frequency bins.
        dh_length: samples of data and free run compared by D_H, at most
            half the test data (the floor's halves must be as long).
        prediction_steps: horizon n of PE(n).
        lyapunov_steps: steps of the model's QR Lyapunov computation.
        lyapunov_transient: steps before that computation averages.
        data_lyapunov_points: samples for the Rosenstein estimates (0 skips them).
        seed: seed of the mixture form's Monte Carlo samples.
    """

    transient: int = 1_000
    n_starts: int = 1
    dstsp_method: str = "auto"
    dstsp_bins: int = 30
    dstsp_sigma: float = 1.0
    dh_sigma: float = 20.0
    dh_length: int = 10_000
    prediction_steps: int = 20
    lyapunov_steps: int = 100_000
    lyapunov_transient: int = 1_000
    data_lyapunov_points: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_starts", "dstsp_bins", "dh_length", "prediction_steps", "lyapunov_steps"):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}.")
        for name in ("transient", "lyapunov_transient", "data_lyapunov_points"):
            if getattr(self, name) < 0:
                raise InputError(f"{name.replace('_', ' ')} must be zero or positive, got {getattr(self, name)}.")


@dataclass
class TrajectoryScores:
    """Scores of generated trajectories against reference data, with the data-vs-itself floor.

    dh_samples and lyapunov_samples are the samples of each series that D_H
    and the Rosenstein estimates used.
    """

    dstsp: float
    dstsp_floor: float
    dh: float
    dh_floor: float
    dstsp_per_start: list[float] = field(default_factory=list)
    dh_per_start: list[float] = field(default_factory=list)
    dh_samples: int = 0
    lyapunov_data: float = math.nan
    lyapunov_generated: float = math.nan
    lyapunov_samples: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class EvaluationResult:
    """Everything `dsr evaluate` reports and stores for one run.

    The model's spectrum is computed from every start: lyapunov_per_start
    has shape (K, M), lyapunov_exponents is its mean, lyapunov_spread the
    largest convergence spread of the K computations and lyapunov_running
    the running estimates of the first.
    """

    scores: TrajectoryScores
    prediction_error: np.ndarray
    lyapunov_exponents: np.ndarray
    lyapunov_spread: np.ndarray
    lyapunov_running: np.ndarray
    lyapunov_per_start: np.ndarray
    kaplan_yorke_dimension: float
    protocol: dict[str, Any]


def score_trajectories(reference: np.ndarray, generated: list[np.ndarray], dt: float,
                       options: EvaluationOptions) -> TrajectoryScores:
    """Score free runs against reference data (both standardised), with floors from the reference's halves."""
    notes = []
    dstsp = [_dstsp(reference, run, options) for run in generated]
    half = len(reference) // 2
    first, second = reference[:half], reference[half:2 * half]
    dh_length = min(options.dh_length, half, *(len(run) for run in generated))
    dh = [free_run_spectrum_distance(reference[:dh_length], run[:dh_length], options.dh_sigma) for run in generated]
    resting = max(int(resting_dimensions(reference[:dh_length], run[:dh_length]).sum()) for run in generated)
    if resting:
        notes.append(f"a free run rests on or near a fixed point in {resting} of {reference.shape[1]} dimensions "
                     "(its spread there is below 1 % of the data's), so D_H counts 1 for each of them. "
                     "Train longer or check the training curves.")
        logger.info("a free run rests on or near a fixed point in %d dimensions; D_H counts 1 there", resting)

    scores = TrajectoryScores(
        dstsp=float(np.mean(dstsp)), dstsp_floor=_dstsp(first, second, options),
        dh=float(np.mean(dh)), dh_floor=hellinger_spectrum_distance(first[:dh_length], second[:dh_length], options.dh_sigma),
        dstsp_per_start=[float(v) for v in dstsp], dh_per_start=[float(v) for v in dh], dh_samples=dh_length,
        notes=notes,
    )

    points = options.data_lyapunov_points
    if points:
        scores.lyapunov_samples = min(points, len(reference))
        if len(reference) < points:
            notes.append(f"the data has {len(reference):,} samples, fewer than the {points:,} requested for the "
                         f"Rosenstein estimates, so both use {len(reference):,} samples and scatter more. "
                         "Evaluate against a longer recording with --data where one exists.")
        scores.lyapunov_data = _rosenstein(reference[:points, 0], dt, "test data", notes)
        scores.lyapunov_generated = _rosenstein(generated[0][:scores.lyapunov_samples, 0], dt, "free run", notes)
    return scores


def _dstsp(reference: np.ndarray, generated: np.ndarray, options: EvaluationOptions) -> float:
    return float(state_space_divergence(reference, generated, method=options.dstsp_method, n_bins=options.dstsp_bins,
                                        sigma=options.dstsp_sigma, seed=options.seed))


def _rosenstein(series: np.ndarray, dt: float, what: str, notes: list[str]) -> float:
    try:
        return float(largest_lyapunov_rosenstein(series, dt))
    except (InputError, NumericalError) as error:
        # A failed estimate is reported in the table, not fatal to the evaluation.
        logger.warning("no Rosenstein estimate for the %s: %s", what, error)
        notes.append(f"no Rosenstein estimate for the {what}: {error}")
        return math.nan


def evaluate_run(run: Run, dataset: Dataset, part: str, options: EvaluationOptions) -> EvaluationResult:
    """Run the evaluation protocol for `run` on one part of `dataset` (see the module docstring)."""
    pieces = dataset.part(part, standardized=False)
    if not pieces:
        raise InputError(f"The dataset has no {part} part to evaluate on; choose --part train, valid, test or all.")
    if dataset.n_variables != run.model.obs_dim:
        raise InputError(
            f"The dataset has {dataset.n_variables} variables, but the model of {run.folder} predicts {run.model.obs_dim}."
        )
    mean, std = np.asarray(run.dataset_info.get("mean", dataset.mean)), np.asarray(run.dataset_info.get("std", dataset.std))
    reference = (max(pieces, key=len) - mean) / std
    if len(reference) < 4 * options.prediction_steps:
        raise InputError(f"The {part} part has {len(reference)} samples, too few to evaluate; use a longer part or --data.")

    starts = np.linspace(0, len(reference) - 1, options.n_starts, endpoint=False).astype(int)
    logger.info("generating %d free run(s) of %d steps after a %d-step transient", len(starts), len(reference),
                options.transient)
    trajectories = generate_from_data(run, reference[starts], options.transient + len(reference) - 1)
    generated = [trajectory[options.transient:] for trajectory in trajectories]
    if not all(np.all(np.isfinite(g)) for g in generated):
        raise NumericalError(f"A free run of {run.folder} diverged; the model cannot be scored.")

    scores = score_trajectories(reference, generated, dataset.dt, options)
    prediction = prediction_error_curve(run.model, reference, options.prediction_steps)

    import torch

    # A finite-time QR estimate varies from orbit to orbit (λ1 by up to 8 %
    # between six orbits of 10^5 steps of one Lorenz-63 AL-RNN), so it is
    # averaged over the same starts as the other scores.
    with torch.no_grad():
        latent_starts = run.model.double().initial_state(torch.as_tensor(reference[starts])).numpy()
    logger.info("computing the model's Lyapunov spectrum along %d orbit(s) of %d steps", len(starts),
                options.lyapunov_steps)
    spectra = [model_lyapunov_spectrum(run.model, z0, n_steps=options.lyapunov_steps,
                                       transient=options.lyapunov_transient, dt=dataset.dt)
               for z0 in latent_starts]
    per_start = np.stack([spectrum.exponents for spectrum in spectra])
    exponents = per_start.mean(axis=0)
    protocol = {**dataclasses.asdict(options), "part": part, "reference_samples": int(len(reference)),
                "dh_samples": scores.dh_samples, "rosenstein_samples": scores.lyapunov_samples,
                "best_epoch": run.best_epoch,
                "dt": dataset.dt, "starts": starts.tolist(), "parameters_used": run.which,
                "dataset": dataset.name, "notes": scores.notes}
    return EvaluationResult(scores=scores, prediction_error=prediction, lyapunov_exponents=exponents,
                            lyapunov_spread=np.max([spectrum.spread for spectrum in spectra], axis=0),
                            lyapunov_running=spectra[0].running,
                            lyapunov_per_start=per_start,
                            kaplan_yorke_dimension=kaplan_yorke_dimension(exponents), protocol=protocol)


def store_evaluation(run: Run, result: EvaluationResult) -> None:
    """Write the results and the protocol into the `metrics` group of run.h5."""
    import json

    def write(group) -> None:
        group.attrs["protocol"] = json.dumps(result.protocol)
        scores = result.scores
        for name in ("dstsp", "dstsp_floor", "dh", "dh_floor", "lyapunov_data", "lyapunov_generated"):
            group.attrs[name] = getattr(scores, name)
        group.attrs["kaplan_yorke_dimension"] = result.kaplan_yorke_dimension
        group.create_dataset("dstsp_per_start", data=np.asarray(scores.dstsp_per_start))
        group.create_dataset("dh_per_start", data=np.asarray(scores.dh_per_start))
        group.create_dataset("prediction_error", data=result.prediction_error)
        group.create_dataset("lyapunov_exponents", data=result.lyapunov_exponents)
        group.create_dataset("lyapunov_spread", data=result.lyapunov_spread)
        group.create_dataset("lyapunov_running", data=result.lyapunov_running)
        group.create_dataset("lyapunov_per_start", data=result.lyapunov_per_start)

    run.write_group("metrics", write)
