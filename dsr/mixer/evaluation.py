"""Evaluation of a MixER run, environment by environment, with dsr's single-run evaluation protocol.

Each environment's model is an ordinary model (`MixerRun.environment_run`),
so `dsr.runs.evaluation.evaluate_run` scores it against the test part of
that environment's own dataset, standardised as in training, and stores the
result in the environment's group of run.h5. `free_run_scores` runs only the
free-run part of the protocol (D_stsp and D_H against the data, with their
floors), which the family benchmark uses. In both, a free run that ends on
a fixed point scores D_H = 1 in its constant dimensions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsr.data.dataset import Dataset
from dsr.errors import InputError, NumericalError
from dsr.mixer.storage import MixerRun
from dsr.runs.evaluation import (
    EvaluationOptions, EvaluationResult, TrajectoryScores, evaluate_run, score_trajectories, store_evaluation,
)
from dsr.runs.generate import generate_from_data
from dsr.runs.run import Run

logger = logging.getLogger(__name__)


@dataclass
class EnvironmentEvaluation:
    """The evaluation of one environment: its name, kind ("training" or "adapted"), expert and result.

    `result` is None and `error` contains the message when the protocol failed
    for this environment (a diverged free run, a missing dataset).
    """

    name: str
    kind: str
    expert: int
    result: EvaluationResult | None
    error: str | None = None


def evaluate_environments(run: MixerRun, names: list[str] | None, options: EvaluationOptions, part: str | None = None,
                          data: Path | None = None, store: bool = True) -> list[EnvironmentEvaluation]:
    """Evaluate the named environments (all, training and adapted, if None) and store each result.

    `data` replaces the datasets of the environments (then evaluated on its
    part "all" unless `part` is given), so it needs exactly one name. When
    several environments are evaluated, one whose evaluation raises
    InputError or NumericalError is logged and reported with its message,
    and the others go on; the error is raised only when every one failed.
    """
    names = run.names if names is None else names
    if data is not None and len(names) != 1:
        raise InputError("--data replaces one environment's dataset, so it needs --environment NAME.")
    evaluations, errors = [], []
    for name in names:
        record = run.environment(name)
        environment_run = run.environment_run(name)
        logger.info("evaluating environment %s (expert %d)", name, record.expert)
        try:
            dataset = environment_run.load_dataset(data)
            result = evaluate_run(environment_run, dataset, part or ("all" if data else "test"), options)
        except (InputError, NumericalError) as error:
            if len(names) == 1:
                raise
            logger.warning("evaluation of environment %s failed: %s", name, error)
            errors.append(error)
            evaluations.append(EnvironmentEvaluation(name=name, kind=record.kind, expert=record.expert, result=None,
                                                     error=str(error)))
            continue
        if store:
            store_evaluation(environment_run, result)
        evaluations.append(EnvironmentEvaluation(name=name, kind=record.kind, expert=record.expert, result=result))
    if len(errors) == len(names):
        raise errors[0]
    return evaluations


def free_run_scores(run: Run, dataset: Dataset, part: str, options: EvaluationOptions) -> TrajectoryScores:
    """Return D_stsp and D_H (with their floors) of free runs against one part of `dataset`.

    The same steps as the first half of `evaluate_run`: the longest piece of
    the part, standardised with the run's normalisation, free runs from
    `options.n_starts` evenly spaced points after `options.transient` steps.
    """
    pieces = dataset.part(part, standardized=False)
    if not pieces:
        raise InputError(f"The dataset has no {part} part to evaluate on; choose train, valid, test or all.")
    mean, std = np.asarray(run.dataset_info["mean"]), np.asarray(run.dataset_info["std"])
    reference = (max(pieces, key=len) - mean) / std
    starts = np.linspace(0, len(reference) - 1, options.n_starts, endpoint=False).astype(int)
    trajectories = generate_from_data(run, reference[starts], options.transient + len(reference) - 1)
    generated = [trajectory[options.transient:] for trajectory in trajectories]
    if not all(np.all(np.isfinite(g)) for g in generated):
        raise NumericalError(f"A free run of {run.folder} diverged; the model cannot be scored.")
    # A free run that reached a fixed point scores D_H = 1 there (see
    # free_run_spectrum_distance); score_trajectories notes it.
    return score_trajectories(reference, generated, dataset.dt, options)
