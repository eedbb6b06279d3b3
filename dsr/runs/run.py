"""Run folders: `run.h5` (config, dataset fingerprint, parameters, checkpoints, history) and a log.

`docs/formats.md` documents every group and attribute written here.
"""

from __future__ import annotations

import logging
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np
import scipy
import torch

from dsr import __version__
from dsr.atomic import atomic_path
from dsr.data.dataset import Dataset, check_format, file_sha256, read_dataset
from dsr.provenance import command_line, utc_timestamp
from dsr.errors import FormatError, InputError, OutputExistsError
from dsr.models import ReconstructionModel, build_model
from dsr.runs.store import (
    plain_attribute, read_json, read_tensors, read_torch_object, rewrite_file, write_json, write_tensors,
    write_torch_object,
)
from dsr.training.config import TrainConfig
from dsr.training.trainer import HISTORY_FIELDS, Snapshot

logger = logging.getLogger(__name__)

RUN_FORMAT = "dsr-run"
RUN_FORMAT_VERSION = 1
RUN_FILE = "run.h5"
LOG_FILE = "train.log"
STATUSES = ("created", "running", "interrupted", "diverged", "completed")


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that determine a run's numbers."""
    return {"dsr": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "h5py": h5py.__version__,
            "platform": platform.platform()}


@dataclass
class Run:
    """A run folder as read from disk.

    Attributes:
        folder: the run folder.
        config: the training configuration.
        model_config: arguments that rebuild the model (`build_model`).
        dataset_info: fingerprint of the training dataset (path, sha256,
            name, dt, variables, and the normalisation mean and std).
        status: one of created, running, interrupted, diverged, completed.
        history: per-epoch training history, arrays by field name.
        model: the trained model (float32, CPU, evaluation mode).
        which: which parameters `model` holds: "best" or "latest".
        best_epoch: epoch of the best validation score (-1 if none yet).
    """

    folder: Path
    config: TrainConfig
    model_config: dict[str, Any]
    dataset_info: dict[str, Any]
    status: str
    history: dict[str, np.ndarray]
    model: ReconstructionModel
    which: str
    best_epoch: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.folder / RUN_FILE

    @property
    def name(self) -> str:
        return self.folder.name

    def load_dataset(self, path: str | Path | None = None) -> Dataset:
        """Read the training dataset (or `path`), checking it against the stored fingerprint.

        A different file with the same content is accepted; a changed file is
        an InputError, because its split and normalisation may differ from
        what the model was trained on.
        """
        stored = Path(self.dataset_info["path"])
        candidate = Path(path) if path is not None else stored
        if not candidate.exists():
            raise InputError(
                f"{candidate}: the training dataset of run {self.folder} was not found. "
                "Pass its new location with --data."
            )
        if path is None and file_sha256(candidate) != self.dataset_info["sha256"]:
            raise InputError(
                f"{candidate}: the dataset has changed since run {self.folder} was trained on it (SHA-256 differs). "
                "Restore the original file, or pass another dataset explicitly with --data."
            )
        return read_dataset(candidate)

    def write_group(self, name: str, writer: Callable[[h5py.Group], None]) -> None:
        """Replace the top-level group `name` of run.h5 atomically (evaluation results, symbolic analysis)."""
        rewrite_file(self.file, {name: lambda group, old: writer(group)}, {"updated_utc": utc_timestamp()})

    def read_group(self, name: str) -> dict[str, Any] | None:
        """Return the datasets and attributes of a top-level group, or None if it is absent."""
        with h5py.File(self.file, "r") as handle:
            if name not in handle:
                return None
            contents: dict[str, Any] = dict(handle[name].attrs)

            def visit(key: str, item: Any) -> None:
                if isinstance(item, h5py.Dataset):
                    contents[key] = item[()]

            handle[name].visititems(visit)
            return contents


def prepare_run_folder(folder: Path, force: bool) -> Path:
    """Make `folder` ready for a new run and return the path of its run.h5.

    Raises OutputExistsError if the folder contains a run already and `force`
    is false. With `force`, the old run file, log and figures are deleted.
    """
    run_file = folder / RUN_FILE
    if run_file.exists() and not force:
        raise OutputExistsError(
            f"{folder}: contains a run already. Continue it with --resume, choose another -o, or pass --force to start over."
        )
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder; a run needs a folder.")
    if force:
        for name in (RUN_FILE, LOG_FILE):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "figures", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return run_file


def write_run_header(handle: h5py.File, run_format: str, version: int) -> None:
    """Write the root attributes every run file starts with: format, times, status "created", command line, versions."""
    handle.attrs["format"] = run_format
    handle.attrs["format_version"] = version
    handle.attrs["created_utc"] = handle.attrs["updated_utc"] = utc_timestamp()
    handle.attrs["status"] = "created"
    handle.attrs["command_line"] = command_line()
    write_json(handle, "versions", library_versions())


def create_run(folder: str | Path, config: TrainConfig, dataset: Dataset, dataset_path: str | Path,
               force: bool = False) -> Path:
    """Create a run folder with an initial run.h5 (status "created").

    Raises OutputExistsError if the folder contains a run already and `force`
    is false (see `prepare_run_folder`).
    """
    folder = Path(folder)
    run_file = prepare_run_folder(folder, force)

    dataset_path = Path(dataset_path)
    with atomic_path(run_file) as temporary, h5py.File(temporary, "w") as handle:
        write_run_header(handle, RUN_FORMAT, RUN_FORMAT_VERSION)

        config_group = handle.create_group("config")
        write_json(config_group, "train", config.to_dict())
        write_json(config_group, "model", config.model_config(dataset.n_variables))

        fingerprint = handle.create_group("dataset")
        fingerprint.attrs["path"] = str(dataset_path.resolve())
        fingerprint.attrs["sha256"] = file_sha256(dataset_path)
        fingerprint.attrs["name"] = dataset.name
        fingerprint.attrs["dt"] = dataset.dt
        fingerprint.attrs["time_unit"] = dataset.time_unit
        fingerprint.attrs["variables"] = list(dataset.variables)
        fingerprint.create_dataset("mean", data=dataset.mean)
        fingerprint.create_dataset("std", data=dataset.std)
        fingerprint.create_dataset("split", data=dataset.split)
    logger.info("created run %s", folder)
    return folder


def save_snapshot(folder: str | Path, snapshot: Snapshot, status: str, keep: int, checkpoint: bool = True) -> None:
    """Write a training snapshot into run.h5 atomically.

    Updates the latest and best parameters, the history and the status, and,
    if `checkpoint`, adds a numbered checkpoint and drops all but the `keep`
    newest numbered ones.
    """
    run_file = Path(folder) / RUN_FILE

    def write_model(group: h5py.Group, old: h5py.File) -> None:
        write_tensors(group.create_group("latest"), snapshot.model)
        group["latest"].attrs["epoch"] = snapshot.epoch
        best = snapshot.best_model if snapshot.best_model is not None else snapshot.model
        write_tensors(group.create_group("best"), best)
        group["best"].attrs["epoch"] = snapshot.best_epoch if snapshot.best_model is not None else snapshot.epoch
        group["best"].attrs["validation_score"] = snapshot.best_score

    def write_history(group: h5py.Group, old: h5py.File) -> None:
        for name in HISTORY_FIELDS:
            group.create_dataset(name, data=np.asarray(snapshot.history[name], dtype=np.float64))

    def write_checkpoints(group: h5py.Group, old: h5py.File) -> None:
        names = sorted(old["checkpoints"]) if "checkpoints" in old else []
        name = f"epoch_{snapshot.epoch:06d}"
        if checkpoint and name not in names:
            names.append(name)
        kept = names[-keep:]
        for kept_name in kept:
            if kept_name == name and checkpoint:
                _write_checkpoint(group.create_group(name), snapshot)
            else:
                old.copy(old["checkpoints"][kept_name], group, name=kept_name)

    rewrite_file(run_file, {"model": write_model, "history": write_history, "checkpoints": write_checkpoints},
                 {"status": status, "updated_utc": utc_timestamp()})


def _write_checkpoint(group: h5py.Group, snapshot: Snapshot) -> None:
    group.attrs["epoch"] = snapshot.epoch
    group.attrs["best_score"] = snapshot.best_score
    group.attrs["best_epoch"] = snapshot.best_epoch
    write_tensors(group.create_group("model"), snapshot.model)
    if snapshot.best_model is not None:
        write_tensors(group.create_group("best_model"), snapshot.best_model)
    write_torch_object(group, "optimizer", snapshot.optimizer)
    write_json(group, "alpha_state", snapshot.alpha)
    write_json(group, "sampler_state", snapshot.sampler)
    group.create_dataset("noise_generator_state", data=snapshot.noise_generator.numpy())
    history = group.create_group("history")
    for name, values in snapshot.history.items():
        history.create_dataset(name, data=np.asarray(values, dtype=np.float64))


def load_checkpoint(folder: str | Path, epoch: int | None = None) -> Snapshot:
    """Read a numbered checkpoint (the newest if `epoch` is None) as a Snapshot."""
    run_file = Path(folder) / RUN_FILE
    with h5py.File(run_file, "r") as handle:
        names = sorted(handle["checkpoints"]) if "checkpoints" in handle else []
        if not names:
            raise InputError(f"{folder}: the run has no checkpoint yet, so it cannot be resumed. Start it again with --force.")
        name = names[-1] if epoch is None else f"epoch_{epoch:06d}"
        if name not in names:
            raise InputError(f"{folder}: no checkpoint at epoch {epoch}; available: {', '.join(names)}.")
        group = handle["checkpoints"][name]
        return Snapshot(
            epoch=int(group.attrs["epoch"]),
            model=read_tensors(group["model"]),
            optimizer=read_torch_object(group, "optimizer"),
            alpha=read_json(group, "alpha_state"),
            sampler=read_json(group, "sampler_state"),
            noise_generator=torch.as_tensor(group["noise_generator_state"][()]),
            history={name: group["history"][name][()].tolist() for name in group["history"]},
            best_score=float(group.attrs["best_score"]),
            best_epoch=int(group.attrs["best_epoch"]),
            best_model=read_tensors(group["best_model"]) if "best_model" in group else None,
        )


def open_run_file(folder: Path, train_command: str) -> h5py.File:
    """Open a run folder's run.h5 for reading.

    Raises InputError if the folder or its run.h5 is missing, naming
    `train_command` as the way to make one, and FormatError if the file is
    not HDF5.
    """
    run_file = folder / RUN_FILE
    if not run_file.exists():
        what = "does not exist" if not folder.exists() else f"has no {RUN_FILE}"
        raise InputError(f"{folder}: {what}; it is not a dsr run folder. Train one with `{train_command}`.")
    try:
        return h5py.File(run_file, "r")
    except OSError:
        raise FormatError(f"{run_file}: not a readable HDF5 file.") from None


def load_run(folder: str | Path, which: str = "best") -> Run:
    """Read a run folder; `which` selects the "best" (by validation) or "latest" parameters."""
    folder = Path(folder)
    run_file = folder / RUN_FILE
    if which not in ("best", "latest"):
        raise InputError(f"Unknown parameter choice {which!r}; expected 'best' or 'latest'.")
    with open_run_file(folder, "dsr train") as handle:
        # The format name of dsr.mixer.storage, spelled out to keep this module free of the mixer package.
        if handle.attrs.get("format") == "dsr-mixer-run":
            raise InputError(
                f"{folder}: this is a MixER run, which contains one model per environment; use "
                "dsr.mixer.load_mixer_run(folder).environment_run(NAME), or --environment NAME on the command line."
            )
        check_format(run_file, handle, RUN_FORMAT, RUN_FORMAT_VERSION)
        config = TrainConfig.from_dict(read_json(handle["config"], "train"))
        model_config = read_json(handle["config"], "model")
        dataset_info = {key: plain_attribute(value) for key, value in handle["dataset"].attrs.items()}
        dataset_info["mean"] = handle["dataset/mean"][()]
        dataset_info["std"] = handle["dataset/std"][()]
        history = {name: handle["history"][name][()] for name in handle["history"]} if "history" in handle else {}
        if "model" not in handle:
            raise InputError(f"{folder}: the run has no trained parameters yet (status {handle.attrs['status']}).")
        parameters = read_tensors(handle["model"][which])
        best_epoch = int(handle["model"]["best"].attrs["epoch"])
        attributes = {key: plain_attribute(value) for key, value in handle.attrs.items()}
        status = str(handle.attrs["status"])

    model = build_model(model_config)
    model.load_state_dict(parameters)
    model.eval()
    return Run(folder=folder, config=config, model_config=model_config, dataset_info=dataset_info, status=status,
               history=history, model=model, which=which, best_epoch=best_epoch, attributes=attributes)


def run_status(folder: str | Path) -> str | None:
    """Return the status attribute of a run, or None if the folder contains no run."""
    run_file = Path(folder) / RUN_FILE
    if not run_file.exists():
        return None
    with h5py.File(run_file, "r") as handle:
        return str(handle.attrs.get("status", ""))
