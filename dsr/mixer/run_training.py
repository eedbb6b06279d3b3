"""Training MixER into a run folder: create the run, train, and save the state as it comes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from dsr.errors import InputError
from dsr.mixer.config import MixerConfig
from dsr.mixer.environments import load_environments
from dsr.mixer.storage import (
    create_mixer_run,
    is_mixer_run,
    load_mixer_config,
    load_mixer_state,
    save_mixer_state,
    stored_fingerprints,
)
from dsr.mixer.training import MixerCallbacks, MixerState, MixerTrainer
from dsr.runs.log import training_logs
from dsr.runs.run import LOG_FILE, RUN_FILE
from dsr.runs.training import check_resume_options

logger = logging.getLogger(__name__)

STATUS_OF_REASON = {"checkpoint": "running", "final": "completed", "interrupted": "interrupted",
                    "diverged": "diverged"}


@dataclass
class MixerSummary:
    """The outcome of `train_mixer_run`, for the caller to report.

    Attributes:
        folder: the run folder.
        environments: the environment names, in run order.
        routing: the expert of each environment at the end.
        outer_steps: outer steps trained.
        final_loss: (E,) each environment's GTF loss under its expert at the end.
        seconds: wall time of the training loop.
        rollout: "fused" or "vmap".
    """

    folder: Path
    environments: list[str]
    routing: list[int]
    outer_steps: int
    final_loss: list[float]
    seconds: float
    rollout: str


def train_mixer_run(dataset_paths: list[Path], folder: str | Path, config: MixerConfig | None = None,
                    force: bool = False, resume: bool = False,
                    on_outer_step: Callable[[MixerTrainer, dict], None] | None = None) -> MixerSummary:
    """Train MixER on datasets (one per environment, or folders of them) into a run folder.

    With `resume`, training continues exactly where it stopped, from the
    stored configuration and the last saved state. `config` must then be
    None or equal to the stored one, and `dataset_paths` must give the same
    datasets in the same order. Resuming a completed run trains nothing and
    returns its summary.

    Raises InputError for bad input (OutputExistsError for an existing run
    without `force`), NumericalError when training diverges and
    TrainingInterrupted on Ctrl-C; in the last two cases run.h5 keeps the
    state of the last finished outer step.
    """
    folder = Path(folder)
    if resume:
        config, start = _prepare_resume(folder, dataset_paths, config)
    else:
        config, start = config or MixerConfig(), None
    environments = load_environments(dataset_paths, config.normalization)
    if resume:
        _check_environments(folder, environments)
    trainer = MixerTrainer(config, environments)
    if start is not None:
        trainer.restore(start)
        if start.implementation != trainer.implementation:
            # The two rollouts agree to rounding, not bit for bit.
            logger.warning("%s was trained with the %s rollout and continues with the %s rollout, so the result "
                           "will differ from an uninterrupted run by rounding", folder, start.implementation,
                           trainer.implementation)
    if not resume:
        create_mixer_run(folder, config, environments, force=force)

    def on_state(state: MixerState, reason: str) -> None:
        save_mixer_state(folder, state, STATUS_OF_REASON[reason])
        logger.info("saved the %s state after outer step %d to %s", reason, state.outer_step, folder / RUN_FILE)

    started = time.perf_counter()
    with training_logs([folder / LOG_FILE]):
        if start is not None:
            logger.info("resuming %s from outer step %d", folder, start.outer_step)
        final = trainer.run(MixerCallbacks(on_outer_step=on_outer_step, on_state=on_state))

    losses = final.history["loss"][-1] if final.history["loss"] else np.full(len(environments), np.nan)
    return MixerSummary(folder=folder, environments=[env.name for env in environments],
                        routing=[int(k) for k in final.routing], outer_steps=final.outer_step,
                        final_loss=[float(v) for v in losses], seconds=time.perf_counter() - started,
                        rollout=final.implementation)


def _prepare_resume(folder: Path, dataset_paths: list[Path],
                    config: MixerConfig | None) -> tuple[MixerConfig, MixerState | None]:
    """Return the stored configuration and the state to resume from (None if training has not started)."""
    if not is_mixer_run(folder):
        raise InputError(f"{folder}: no MixER run to resume. Start one without --resume.")
    stored = load_mixer_config(folder)
    check_resume_options(folder, stored, config)
    return stored, load_mixer_state(folder)


def _check_environments(folder: Path, environments: list) -> None:
    """Raise InputError unless the datasets are the run's, by SHA-256 and in order."""
    stored = stored_fingerprints(folder)
    requested = [environment.sha256 for environment in environments]
    if requested != [sha256 for _, _, sha256 in stored]:
        names = ", ".join(name for name, _, _ in stored)
        raise InputError(
            f"{folder}: the datasets given are not the ones this run was trained on (SHA-256 or order differs). "
            f"Resume with the original dataset files, in the order of its environments: {names}."
        )
