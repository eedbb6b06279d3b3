"""Training an ensemble of seeds into run folders: OUTPUT/seed-<seed>, one normal run folder per member.

`dsr train --seeds K --seed S -o OUTPUT` trains the K models with seeds
S, S + 1, ..., S + K − 1 in one batched computation
(`dsr.training.ensemble.EnsembleTrainer`). Member k is written to
OUTPUT/seed-<S + k> exactly as `train_run` would write the single run with
that seed, so `load_run` reads it and `dsr train --resume -o
OUTPUT/seed-<S + k>` continues it alone. OUTPUT itself holds only the
member folders.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable, Sequence

import torch

from dsr.data.dataset import read_dataset
from dsr.errors import InputError
from dsr.models import build_model
from dsr.runs.log import training_logs
from dsr.runs.run import LOG_FILE, RUN_FILE, create_run, save_snapshot
from dsr.runs.training import (
    TrainingSummary, _choose_rollout, _prepare_resume, _summary_of_completed,
)
from dsr.training.config import TrainConfig
from dsr.training.ensemble import EnsembleCallbacks, EnsembleTrainer
from dsr.training.trainer import Snapshot, Trainer, resolve_device

logger = logging.getLogger(__name__)

SNAPSHOT_STATUS = {"checkpoint": "running", "final": "completed", "interrupted": "interrupted", "diverged": "diverged"}


def member_folder(output: str | Path, seed: int) -> Path:
    """Return the run folder of the ensemble member with `seed`: OUTPUT/seed-<seed>."""
    return Path(output) / f"seed-{seed}"


def ensemble_seeds(first_seed: int, count: int) -> list[int]:
    """Return the member seeds first_seed, ..., first_seed + count − 1."""
    if count < 1:
        raise InputError(f"--seeds must be at least 1, got {count}.")
    return [first_seed + offset for offset in range(count)]


def train_ensemble(
    dataset_path: str | Path,
    output: str | Path,
    seeds: Sequence[int],
    config: TrainConfig | None = None,
    resume: bool = False,
    force: bool = False,
    on_epoch: Callable[[Trainer, dict[str, float]], None] | None = None,
) -> list[TrainingSummary]:
    """Train one model per seed on a dataset file, batched together, into OUTPUT/seed-<seed>.

    `config` gives the shared options; its seed is replaced by each member's.
    A new ensemble raises for existing member runs unless `force`. With
    `resume`, each member's stored options and newest checkpoint are loaded
    (a given `config` must match them, seed aside): completed members are
    skipped, and the others continue batched together, one batch per
    checkpoint epoch. Returns one summary per seed, in order; a member that
    diverged has status "diverged" and keeps its last good checkpoint.
    Raises InputError for bad input and TrainingInterrupted on Ctrl-C, after
    every member saved a checkpoint.
    """
    output, dataset_path = Path(output), Path(dataset_path)
    seeds = list(seeds)
    if len(set(seeds)) != len(seeds):
        raise InputError(f"Ensemble seeds must be distinct, got {seeds}.")
    if (output / RUN_FILE).exists():
        raise InputError(f"{output}: contains a single run, but an ensemble writes its members into subfolders "
                         "seed-<seed> of a folder of its own. Choose another -o.")
    dataset = read_dataset(dataset_path)
    folders = [member_folder(output, seed) for seed in seeds]

    summaries: dict[int, TrainingSummary] = {}
    groups: dict[int | None, list[tuple[int, TrainConfig, Snapshot | None]]] = {}
    for position, (seed, folder) in enumerate(zip(seeds, folders)):
        member_config = dataclasses.replace(config, seed=seed) if config is not None else None
        if resume:
            stored, start = _prepare_resume(folder, dataset_path, member_config)
            if stored.seed != seed:
                raise InputError(f"{folder}: stores seed {stored.seed}, not {seed}. Resume with the --seed of the "
                                 "first call.")
            if start is None:
                summaries[position] = _summary_of_completed(folder)
                continue
            groups.setdefault(start.epoch, []).append((position, stored, start))
        else:
            member_config = member_config or dataclasses.replace(TrainConfig(), seed=seed)
            create_run(folder, member_config, dataset, dataset_path, force=force)
            groups.setdefault(None, []).append((position, member_config, None))

    for epoch, members in sorted(groups.items(), key=lambda item: -1 if item[0] is None else item[0]):
        if epoch is not None:
            logger.info("resuming %d ensemble members from epoch %d", len(members), epoch)
        summaries.update(_train_group(dataset, [folders[position] for position, _, _ in members], members, on_epoch))
    return [summaries[position] for position in range(len(seeds))]


def _train_group(dataset, folders: list[Path], members: list[tuple[int, TrainConfig, Snapshot | None]],
                 on_epoch: Callable[[Trainer, dict[str, float]], None] | None) -> dict[int, TrainingSummary]:
    """Train members that start from the same epoch as one EnsembleTrainer; return their summaries by position."""
    configs = [config for _, config, _ in members]
    config = configs[0]
    train_parts, valid_parts = dataset.part("train"), dataset.part("valid")
    if not valid_parts:
        logger.warning("the dataset has no validation part, so the best checkpoint is the last one")

    # Each member's initial parameters depend only on its seed, as in train_run.
    models = [build_model(member.model_config(dataset.n_variables), torch.Generator().manual_seed(member.seed))
              for member in configs]
    device = resolve_device(config.device)
    _, fast = _choose_rollout(config, device)
    trainer = EnsembleTrainer(models, configs, train_parts, valid_parts, device=device, fast=fast)
    starts = [start for _, _, start in members]
    if starts[0] is not None:
        trainer.restore(starts)

    def on_snapshot(member: int, snapshot: Snapshot, reason: str) -> None:
        folder = folders[member]
        save_snapshot(folder, snapshot, SNAPSHOT_STATUS[reason], config.keep_checkpoints, checkpoint=True)
        logger.info("saved %s snapshot at epoch %d to %s", reason, snapshot.epoch, folder / RUN_FILE)

    def on_member_epoch(member: int, member_trainer: Trainer, record: dict[str, float]) -> None:
        if on_epoch:
            on_epoch(member_trainer, record)

    # Every member's log gets the records of the whole ensemble.
    with training_logs([folder / LOG_FILE for folder in folders]):
        finals = trainer.run(EnsembleCallbacks(on_epoch=on_member_epoch, on_snapshot=on_snapshot))

    summaries = {}
    completed = dict(zip(trainer.indices, finals))
    for member, (position, _, start) in enumerate(members):
        resumed_from = start.epoch if start is not None else None
        if member in completed:
            history = completed[member].history
            summaries[position] = TrainingSummary(
                folder=folders[member], status="completed", epochs=completed[member].epoch,
                final_loss=history["loss"][-1] if history["loss"] else float("nan"),
                best_validation=completed[member].best_score, best_epoch=completed[member].best_epoch,
                seconds=float(sum(history["seconds"])), resumed_from=resumed_from, fast_path=fast,
            )
        else:
            summary = _summary_of_completed(folders[member])
            summaries[position] = dataclasses.replace(summary, status="diverged", resumed_from=resumed_from,
                                                      fast_path=fast)
    return summaries
