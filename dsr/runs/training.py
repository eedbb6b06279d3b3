"""Training into a run folder: create or resume a run, train, and save snapshots as they come."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from dsr.data.dataset import file_sha256, read_dataset
from dsr.errors import InputError
from dsr.models import build_model
from dsr.runs.log import training_logs
from dsr.runs.run import LOG_FILE, RUN_FILE, create_run, load_checkpoint, load_run, run_status, save_snapshot
from dsr.training.config import TrainConfig
from dsr.training.trainer import Callbacks, Snapshot, Trainer, resolve_device

logger = logging.getLogger(__name__)


@dataclass
class TrainingSummary:
    """Outcome of `train_run`, for the caller to report."""

    folder: Path
    status: str
    epochs: int
    final_loss: float
    best_validation: float
    best_epoch: int
    seconds: float
    resumed_from: int | None
    fast_path: bool


def train_run(
    dataset_path: str | Path,
    folder: str | Path,
    config: TrainConfig | None = None,
    resume: bool = False,
    force: bool = False,
    on_epoch: Callable[[Trainer, dict[str, float]], None] | None = None,
) -> TrainingSummary:
    """Train a model on a dataset file into a run folder.

    A new run (the default) refuses an existing run folder unless `force`.
    With `resume`, the stored configuration and the newest checkpoint are
    loaded and training continues exactly where it stopped; `config` must
    then be None or equal to the stored one. Resuming a completed run does
    nothing and returns its summary.

    Raises InputError for bad input, NumericalError when training diverges
    and TrainingInterrupted on Ctrl-C; in the last two cases the run folder
    keeps its last good checkpoint.
    """
    folder = Path(folder)
    dataset_path = Path(dataset_path)
    dataset = read_dataset(dataset_path)

    start: Snapshot | None = None
    if resume:
        config, start = _prepare_resume(folder, dataset_path, config)
        if start is None:
            return _summary_of_completed(folder)
    else:
        config = config or TrainConfig()
        create_run(folder, config, dataset, dataset_path, force=force)

    train_parts, valid_parts = dataset.part("train"), dataset.part("valid")
    if not valid_parts:
        logger.warning("the dataset has no validation part, so the best checkpoint is the last one")

    # The model's initial parameters depend only on the seed.
    generator = torch.Generator().manual_seed(config.seed)
    model = build_model(config.model_config(dataset.n_variables), generator)
    device = resolve_device(config.device)
    rollout, fast = _choose_rollout(config, device)
    trainer = Trainer(model, config, train_parts, valid_parts, device=device, rollout=rollout)
    if start is not None:
        trainer.restore(start)
        logger.info("resuming %s from epoch %d", folder, start.epoch)

    def on_snapshot(_, snapshot: Snapshot, reason: str) -> None:
        status = {"checkpoint": "running", "final": "completed", "interrupted": "interrupted",
                  "diverged": "diverged"}[reason]
        save_snapshot(folder, snapshot, status, config.keep_checkpoints, checkpoint=True)
        logger.info("saved %s snapshot at epoch %d to %s", reason, snapshot.epoch, folder / RUN_FILE)

    with training_logs([folder / LOG_FILE]):
        final = trainer.run(Callbacks(on_epoch=on_epoch, on_snapshot=on_snapshot))

    history = final.history
    return TrainingSummary(
        folder=folder, status="completed", epochs=final.epoch,
        final_loss=history["loss"][-1] if history["loss"] else float("nan"),
        best_validation=final.best_score, best_epoch=final.best_epoch,
        seconds=float(sum(history["seconds"])), resumed_from=start.epoch if start is not None else None,
        fast_path=fast,
    )


def check_resume_options(folder: Path, stored: Any, requested: Any) -> None:
    """Raise InputError, naming each difference, if `requested` is a configuration other than the `stored` one.

    `stored` and `requested` are configuration dataclasses with `to_dict`
    (TrainConfig or MixerConfig); `requested` None means no options were given.
    """
    if requested is None or requested == stored:
        return
    differences = [f"{key}: stored {value!r}, given {getattr(requested, key)!r}"
                   for key, value in stored.to_dict().items() if getattr(requested, key) != value]
    raise InputError(
        f"{folder}: --resume continues a run with its stored options, but these differ: {'; '.join(differences)}. "
        "Leave the options out, or start a new run with --force or another -o."
    )


def _prepare_resume(folder: Path, dataset_path: Path, config: TrainConfig | None) -> tuple[TrainConfig, Snapshot | None]:
    status = run_status(folder)
    if status is None:
        raise InputError(f"{folder}: no run to resume. Start one without --resume.")
    run = load_run(folder, which="latest") if status != "created" else None
    stored = run.config if run is not None else _stored_config(folder)
    check_resume_options(folder, stored, config)
    _, fingerprint = stored_dataset(folder)
    if file_sha256(dataset_path) != fingerprint:
        raise InputError(
            f"{dataset_path}: not the dataset this run was trained on (SHA-256 differs). Resume with the original dataset file."
        )
    if status == "completed":
        logger.info("%s is complete already; nothing to resume", folder)
        return stored, None
    return stored, load_checkpoint(folder)


def _stored_config(folder: Path) -> TrainConfig:
    import h5py

    from dsr.runs.store import read_json

    with h5py.File(folder / RUN_FILE, "r") as handle:
        return TrainConfig.from_dict(read_json(handle["config"], "train"))


def stored_dataset(folder: Path) -> tuple[Path, str]:
    """Return the path and SHA-256 of the dataset a run was trained on, as stored in its run.h5."""
    import h5py

    with h5py.File(folder / RUN_FILE, "r") as handle:
        return Path(str(handle["dataset"].attrs["path"])), str(handle["dataset"].attrs["sha256"])


def _summary_of_completed(folder: Path) -> TrainingSummary:
    run = load_run(folder)
    history = run.history
    validation = np.asarray(history.get("validation", []), dtype=np.float64)
    scored = validation[np.isfinite(validation)]
    return TrainingSummary(
        folder=folder, status="completed", epochs=int(history["epoch"][-1]) if len(history.get("epoch", [])) else 0,
        final_loss=float(history["loss"][-1]) if len(history.get("loss", [])) else float("nan"),
        best_validation=float(scored.min()) if len(scored) else float("nan"),
        best_epoch=run.best_epoch, seconds=float(np.sum(history.get("seconds", []))), resumed_from=None, fast_path=False,
    )


def _choose_rollout(config: TrainConfig, device: torch.device) -> tuple[Callable[..., Any], bool]:
    """Return the rollout function for `config.fast_path` and whether it is the fused one.

    "auto" takes the fused numba kernels when they can train this model on
    `device`, and otherwise falls back to the PyTorch rollout with an INFO
    log record. "on" raises InputError instead of falling back. "off" always
    takes the PyTorch rollout.
    """
    from dsr.training.forcing import forced_rollout

    if config.fast_path == "off":
        return forced_rollout, False

    from dsr.training.fused import fused_available, fused_rollout

    # Availability depends on the architecture and dtype, not on the values
    # or the data dimension, so a throwaway model with N = 1 will do; its own
    # generator leaves the global random state alone.
    probe = build_model(config.model_config(1), torch.Generator().manual_seed(0))
    available, reason = fused_available(probe, device)
    if available:
        logger.info("training with the fused CPU kernels (--fast-path %s)", config.fast_path)
        return fused_rollout, True
    if config.fast_path == "on":
        raise InputError(f"--fast-path on was requested, but the fused kernels are unavailable: {reason}. "
                         "Use --fast-path auto or off.")
    logger.info("the fused kernels are unavailable (%s); training with the PyTorch rollout", reason)
    return forced_rollout, False
