"""MixER run folders: `run.h5` with every expert, context, the gate, the routing history and per-environment curves.

The layout is documented in docs/formats.md under "MixER run". One MixER run
contains many environments. `MixerRun.environment_run` presents one of them
as an ordinary `dsr.runs.Run`, so evaluation, generation and analysis code
written for single runs takes it unchanged. Results that such code stores
(`Run.write_group`) land in that environment's own group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np
import torch

from dsr.atomic import atomic_path
from dsr.data.dataset import Dataset, check_format
from dsr.errors import FormatError, InputError
from dsr.mixer.config import MixerConfig
from dsr.mixer.environments import Environment
from dsr.mixer.experts import ContextExpert, make_experts
from dsr.mixer.gate import LinearGate
from dsr.mixer.training import OUTER_ARRAYS, OUTER_FIELDS, ROUTING_FIELDS, MixerState
from dsr.models import ReconstructionModel
from dsr.provenance import utc_timestamp
from dsr.runs.run import RUN_FILE, Run, open_run_file, prepare_run_folder, write_run_header
from dsr.runs.store import (
    plain_attribute,
    read_json,
    read_tensors,
    read_torch_object,
    rewrite_file,
    write_json,
    write_tensors,
    write_torch_object,
)

logger = logging.getLogger(__name__)

MIXER_RUN_FORMAT = "dsr-mixer-run"
MIXER_RUN_FORMAT_VERSION = 1


def is_mixer_run(folder: str | Path) -> bool:
    """Return whether `folder` contains a MixER run (a run.h5 whose format is "dsr-mixer-run")."""
    run_file = Path(folder) / RUN_FILE
    if not run_file.is_file():
        return False
    try:
        with h5py.File(run_file, "r") as handle:
            return handle.attrs.get("format") == MIXER_RUN_FORMAT
    except OSError:
        return False


# Writing ------------------------------------------------------------------


def write_fingerprint(group: h5py.Group, name: str, path: Path, sha256: str, dataset: Dataset,
                      mean: np.ndarray, std: np.ndarray) -> None:
    """Write an environment's name and its dataset's path, SHA-256, sampling, normalisation and split."""
    group.attrs["name"] = name
    group.attrs["path"] = str(Path(path).resolve())
    group.attrs["sha256"] = sha256
    group.attrs["dataset_name"] = dataset.name
    group.attrs["dt"] = dataset.dt
    group.attrs["time_unit"] = dataset.time_unit
    group.attrs["variables"] = list(dataset.variables)
    group.create_dataset("mean", data=np.asarray(mean, dtype=np.float64))
    group.create_dataset("std", data=np.asarray(std, dtype=np.float64))
    group.create_dataset("split", data=dataset.split)


def create_mixer_run(folder: str | Path, config: MixerConfig, environments: list[Environment],
                     force: bool = False) -> Path:
    """Create a MixER run folder with an initial run.h5 (status "created").

    Raises OutputExistsError if the folder contains a run already and
    `force` is false (see `dsr.runs.run.prepare_run_folder`).
    """
    folder = Path(folder)
    run_file = prepare_run_folder(folder, force)

    obs_dim = environments[0].dataset.n_variables
    with atomic_path(run_file) as temporary, h5py.File(temporary, "w") as handle:
        write_run_header(handle, MIXER_RUN_FORMAT, MIXER_RUN_FORMAT_VERSION)
        config_group = handle.create_group("config")
        write_json(config_group, "mixer", config.to_dict())
        write_json(config_group, "expert", config.expert_model_config(obs_dim))
        group = handle.create_group("environments")
        for index, env in enumerate(environments):
            write_fingerprint(group.create_group(f"{index:04d}"), env.name, env.path, env.sha256, env.dataset,
                               env.mean, env.std)
    logger.info("created MixER run %s with %d environments", folder, len(environments))
    return folder


def save_mixer_state(folder: str | Path, state: MixerState, status: str) -> None:
    """Write the trained quantities and the history of `state` into run.h5 atomically."""
    run_file = Path(folder) / RUN_FILE

    def write_experts(group: h5py.Group, old: h5py.File) -> None:
        for index, values in enumerate(state.experts):
            write_tensors(group.create_group(f"{index:04d}"), values)

    def write_contexts(group: h5py.Group, old: h5py.File) -> None:
        group.create_dataset("final", data=state.contexts.cpu().numpy())

    def write_gate(group: h5py.Group, old: h5py.File) -> None:
        group.create_dataset("weight", data=state.gate.cpu().numpy())
        if state.centroids is not None:
            group.create_dataset("centroids", data=state.centroids)

    def write_routing(group: h5py.Group, old: h5py.File) -> None:
        group.create_dataset("final", data=np.asarray(state.routing, dtype=np.int64))
        for name in ROUTING_FIELDS:
            values = state.routing_history[name]
            group.create_dataset(name, data=np.asarray(values, dtype=np.int64))

    def write_curves(group: h5py.Group, old: h5py.File) -> None:
        for name in OUTER_FIELDS + OUTER_ARRAYS:
            group.create_dataset(name, data=np.asarray(state.history[name], dtype=np.float64))
        group.create_dataset("validation_step", data=np.asarray(state.validation_history["outer_step"], dtype=np.int64))
        group.create_dataset("validation", data=np.asarray(state.validation_history["validation"], dtype=np.float64))

    def write_training_state(group: h5py.Group, old: h5py.File) -> None:
        write_torch_object(group, "state", state.training)

    rewrite_file(run_file, {"experts": write_experts, "contexts": write_contexts, "gate": write_gate,
                            "routing": write_routing, "curves": write_curves,
                            "training_state": write_training_state if state.training is not None else None},
                 {"status": status, "updated_utc": utc_timestamp(), "outer_step": state.outer_step,
                  "rollout": state.implementation})


# Reading ------------------------------------------------------------------


@dataclass
class EnvironmentRecord:
    """One environment of a MixER run: a training environment or one fitted later by `dsr adapt`.

    Attributes:
        name: its name, unique within the run.
        kind: "training" or "adapted".
        group: its group in run.h5 ("environments/0003", "adaptations/0000").
        context: (d,) its context vector.
        expert: the expert it is routed to.
        fingerprint: path, sha256, dataset_name, dt, time_unit, variables,
            and the normalisation (mean, std) and split of its dataset.
    """

    name: str
    kind: str
    group: str
    context: np.ndarray
    expert: int
    fingerprint: dict[str, Any]


@dataclass
class EnvironmentRun(Run):
    """One environment of a MixER run seen as a single run; `write_group` writes into the environment's group."""

    environment: str = ""
    group: str = ""

    def write_group(self, name: str, writer: Callable[[h5py.Group], None]) -> None:
        """Replace the group `name` inside this environment's group of run.h5, atomically."""
        top, _, below = self.group.partition("/")

        def rewrite(new_top: h5py.Group, old: h5py.File) -> None:
            for key, value in old[top].attrs.items():
                new_top.attrs[key] = value
            for key in old[top]:
                old.copy(old[top][key], new_top, name=key)
            target = new_top[below]
            if name in target:
                del target[name]
            writer(target.create_group(name))

        rewrite_file(self.file, {top: rewrite}, {"updated_utc": utc_timestamp()})

    def read_group(self, name: str) -> dict[str, Any] | None:
        """Return the datasets and attributes of the group `name` inside this environment's group, or None."""
        with h5py.File(self.file, "r") as handle:
            path = f"{self.group}/{name}"
            if path not in handle:
                return None
            contents: dict[str, Any] = dict(handle[path].attrs)
            handle[path].visititems(lambda key, item: contents.__setitem__(key, item[()])
                                    if isinstance(item, h5py.Dataset) else None)
            return contents


@dataclass
class MixerRun:
    """A MixER run folder as read from disk.

    Attributes:
        folder: the run folder.
        config: the MixER configuration.
        expert_config: arguments that rebuild one expert's model (`build_model`).
        status: created, running, interrupted, diverged or completed.
        experts: the K experts (float32, CPU).
        gate: the gate with its matrix G.
        environments: training environments first, then adapted ones.
        routing_history: per gate update, the datasets of the routing group.
        curves: per outer step, the datasets of the curves group.
        attributes: the root attributes of run.h5.
    """

    folder: Path
    config: MixerConfig
    expert_config: dict[str, Any]
    status: str
    experts: list[ContextExpert]
    gate: LinearGate
    environments: list[EnvironmentRecord]
    routing_history: dict[str, np.ndarray] = field(default_factory=dict)
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.folder / RUN_FILE

    @property
    def names(self) -> list[str]:
        return [record.name for record in self.environments]

    @property
    def training_environments(self) -> list[EnvironmentRecord]:
        return [record for record in self.environments if record.kind == "training"]

    def environment(self, name: str) -> EnvironmentRecord:
        """Return the environment called `name`; InputError listing the names if there is none."""
        for record in self.environments:
            if record.name == name:
                return record
        raise InputError(f"{self.folder}: no environment called {name!r}; the run has: {', '.join(self.names)}.")

    def environment_model(self, name: str) -> ReconstructionModel:
        """Return the ordinary model (AL-RNN or shPLRNN, evaluation mode) of one environment."""
        record = self.environment(name)
        return self.experts[record.expert].environment_model(torch.as_tensor(record.context, dtype=torch.float32))

    def environment_run(self, name: str) -> EnvironmentRun:
        """Return one environment as a `dsr.runs.Run` whose model is that environment's model."""
        record = self.environment(name)
        return EnvironmentRun(
            folder=self.folder, config=self.config.expert_train_config(), model_config=dict(self.expert_config),
            dataset_info=dict(record.fingerprint), status=self.status, history={},
            model=self.environment_model(name), which="latest", best_epoch=-1,
            attributes={**self.attributes, "environment": name, "expert": record.expert},
            environment=name, group=record.group,
        )


def load_mixer_run(folder: str | Path) -> MixerRun:
    """Read a MixER run folder; InputError if it is missing, FormatError if it is no MixER run."""
    folder = Path(folder)
    run_file = folder / RUN_FILE
    with open_run_file(folder, "dsr train --model mixer") as handle:
        if handle.attrs.get("format") == "dsr-run":
            raise InputError(f"{folder}: this is a single-model run, not a MixER run; load it with dsr.runs.load_run.")
        check_format(run_file, handle, MIXER_RUN_FORMAT, MIXER_RUN_FORMAT_VERSION)
        config = MixerConfig.from_dict(read_json(handle["config"], "mixer"))
        expert_config = read_json(handle["config"], "expert")
        status = str(handle.attrs["status"])
        if "experts" not in handle:
            raise InputError(f"{folder}: the MixER run has no trained parameters yet (status {status}).")

        experts = list(make_experts(expert_config, config.experts, config.context_dim, config.conditioning,
                                    config.hypernetwork_std, torch.Generator().manual_seed(0)))
        for index, expert in enumerate(experts):
            expert.load_state_dict(read_tensors(handle["experts"][f"{index:04d}"]))
            expert.eval()
        gate = LinearGate(config.context_dim, config.experts)
        with torch.no_grad():
            gate.weight.copy_(torch.as_tensor(handle["gate/weight"][()]))

        contexts = handle["contexts/final"][()]
        routing = handle["routing/final"][()]
        environments = [_record(handle["environments"][key], "training", f"environments/{key}", contexts[i],
                                int(routing[i]))
                        for i, key in enumerate(sorted(handle["environments"]))]
        if "adaptations" in handle:
            for key in sorted(handle["adaptations"]):
                group = handle["adaptations"][key]
                environments.append(_record(group["dataset"], "adapted", f"adaptations/{key}", group["context"][()],
                                            int(group.attrs["expert"])))
        routing_history = {name: handle["routing"][name][()] for name in handle["routing"]}
        curves = {name: handle["curves"][name][()] for name in handle["curves"]}
        attributes = {key: plain_attribute(value) for key, value in handle.attrs.items()}

    return MixerRun(folder=folder, config=config, expert_config=expert_config, status=status, experts=experts,
                    gate=gate, environments=environments, routing_history=routing_history, curves=curves,
                    attributes=attributes)


def load_mixer_config(folder: str | Path) -> MixerConfig:
    """Read the MixerConfig stored in a MixER run's run.h5."""
    with h5py.File(Path(folder) / RUN_FILE, "r") as handle:
        return MixerConfig.from_dict(read_json(handle["config"], "mixer"))


def stored_fingerprints(folder: str | Path) -> list[tuple[str, Path, str]]:
    """Return (name, dataset path, SHA-256) of each training environment, in run order."""
    with h5py.File(Path(folder) / RUN_FILE, "r") as handle:
        group = handle["environments"]
        return [(str(group[key].attrs["name"]), Path(str(group[key].attrs["path"])), str(group[key].attrs["sha256"]))
                for key in sorted(group)]


def load_mixer_state(folder: str | Path) -> MixerState | None:
    """Read the state that training saved last into run.h5, to resume from it.

    Returns None when the run has no trained parameters yet (status
    "created"). Raises FormatError for a run saved without a training state,
    which cannot be resumed.
    """
    run_file = Path(folder) / RUN_FILE
    with h5py.File(run_file, "r") as handle:
        if "experts" not in handle:
            return None
        if "training_state" not in handle:
            raise FormatError(f"{run_file}: the run contains no training state, so it cannot be resumed. "
                              "Train it again with --force.")
        curves = handle["curves"]
        return MixerState(
            outer_step=int(handle.attrs["outer_step"]),
            experts=[read_tensors(handle["experts"][key]) for key in sorted(handle["experts"])],
            contexts=torch.as_tensor(handle["contexts/final"][()]),
            gate=torch.as_tensor(handle["gate/weight"][()]),
            centroids=handle["gate/centroids"][()] if "centroids" in handle["gate"] else None,
            routing=handle["routing/final"][()],
            history={name: list(curves[name][()]) for name in OUTER_FIELDS + OUTER_ARRAYS},
            routing_history={name: list(handle["routing"][name][()]) for name in ROUTING_FIELDS},
            validation_history={"outer_step": list(curves["validation_step"][()]),
                                "validation": list(curves["validation"][()])},
            implementation=str(handle.attrs["rollout"]),
            training=read_torch_object(handle["training_state"], "state"),
        )


def _record(group: h5py.Group, kind: str, path: str, context: np.ndarray, expert: int) -> EnvironmentRecord:
    fingerprint = {key: plain_attribute(value) for key, value in group.attrs.items()}
    fingerprint["name"] = fingerprint.get("dataset_name", fingerprint["name"])
    for name in ("mean", "std", "split"):
        fingerprint[name] = group[name][()]
    name = str(group.attrs["name"])
    return EnvironmentRecord(name=name, kind=kind, group=path, context=np.asarray(context, dtype=np.float64),
                             expert=expert, fingerprint=fingerprint)
