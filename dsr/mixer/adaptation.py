"""Adaptation: fit a context vector for a new environment with the experts and the gate frozen.

Only the new context ξ is trained, by Adam on the GTF loss of the expert that
the gate routes ξ to. The top-1 routing is recomputed after every step, and
the gate gets no gradient, as in training. Because the gate is linear in ξ and a context
moves only gradually, the start decides which expert's region ξ explores.
The search therefore starts from the best of a few candidates: the zero
context and every training context, each scored by the GTF loss of its
routed expert on a fixed set of windows of the new data. Starting from the
training context that already predicts the new data best is the warm start a
meta-learned family model makes possible; starting at zero alone can leave ξ
in the region of the wrong expert.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch

from dsr.data.dataset import file_sha256, read_dataset
from dsr.errors import InputError, OutputExistsError
from dsr.mixer.environments import Environment
from dsr.mixer.rollout import BatchedRollout, choose_implementation
from dsr.mixer.storage import MixerRun, write_fingerprint
from dsr.provenance import utc_timestamp
from dsr.runs.store import rewrite_file
from dsr.training.batches import SubsequenceSampler

logger = logging.getLogger(__name__)

# Windows of the new data on which the candidate starts and the final context are scored.
SCORING_WINDOWS = 32


@dataclass
class Adaptation:
    """The result of `adapt_context`.

    Attributes:
        name: the new environment's name.
        context: (d,) the fitted context.
        expert: the expert the gate routes it to.
        start: the candidate the search started from (a training
            environment's name, or "zero").
        start_loss: that candidate's loss on the scoring windows.
        final_loss: the fitted context's loss on the same windows.
        loss_curve: (S,) the training loss of every step.
        routing_curve: (S,) the expert used in every step.
        alpha: the constant forcing strength used.
        environment: the new environment (dataset and normalisation).
    """

    name: str
    context: np.ndarray
    expert: int
    start: str
    start_loss: float
    final_loss: float
    loss_curve: np.ndarray
    routing_curve: np.ndarray
    alpha: float
    environment: Environment


def new_environment(run: MixerRun, path: str | Path, name: str | None = None, replace: bool = False) -> Environment:
    """Read a new environment's dataset and standardise it as the run's training environments were.

    The name defaults to the dataset's name. Raises OutputExistsError when
    the run has an environment of that name already, unless it is an
    adapted one and `replace` is true.
    """
    path = Path(path)
    dataset = read_dataset(path)
    obs_dim = run.expert_config["obs_dim"]
    if dataset.n_variables != obs_dim:
        raise InputError(f"{path} has {dataset.n_variables} variables, but the run's experts model {obs_dim}.")
    name = name or dataset.name or path.stem
    existing = {record.name: record.kind for record in run.environments}
    if existing.get(name) == "training":
        raise OutputExistsError(f"{name!r} is a training environment of the run; pick another name with --name.")
    if name in existing and not replace:
        raise OutputExistsError(f"The run has an adapted environment called {name!r} already; pass --force to "
                                "replace it or pick another name with --name.")
    if run.config.normalization == "pooled":
        # Every training environment carries the same pooled statistics.
        fingerprint = run.training_environments[0].fingerprint
        mean, std = np.asarray(fingerprint["mean"]), np.asarray(fingerprint["std"])
    else:
        mean, std = dataset.mean, dataset.std
    environment = Environment(name=name, path=path, sha256=file_sha256(path), dataset=dataset, mean=mean, std=std)
    environment.train, environment.valid, environment.test = (environment.part(p) for p in ("train", "valid", "test"))
    return environment


def adapt_context(run: MixerRun, environment: Environment, steps: int = 300, learning_rate: float = 1e-2,
                  alpha: float | None = None, seed: int = 0) -> Adaptation:
    """Fit a context for `environment` (experts and gate frozen) and route it; see the module docstring.

    Args:
        steps: Adam steps on the context.
        learning_rate: Adam learning rate.
        alpha: constant GTF strength; default the median over the training
            environments of their final α.
        seed: seeds the windows drawn from the new data.
    """
    if steps < 1:
        raise InputError(f"Adaptation needs at least 1 step, got {steps}.")
    if not learning_rate > 0:
        raise InputError(f"The adaptation learning rate must be positive, got {learning_rate}.")
    config = run.config
    if alpha is None:
        final_alphas = run.curves.get("alpha")
        alpha = float(np.median(final_alphas[-1])) if final_alphas is not None and len(final_alphas) else config.alpha
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"The forcing strength alpha must lie in [0, 1], got {alpha}.")
    forcing_alpha = alpha if config.forcing == "gtf" else 1.0

    for expert in run.experts:
        expert.requires_grad_(False)
    rollout = BatchedRollout(choose_implementation(run.experts[0], torch.device("cpu"), config.fast_path))
    sampler = SubsequenceSampler(environment.train, config.sequence_length, config.batch_size, seed)
    scorer = SubsequenceSampler(environment.train, config.sequence_length, SCORING_WINDOWS, seed + 1)
    scoring = scorer.sample()

    def losses(contexts: torch.Tensor, windows: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """Return the loss of each context (C,) under its routed expert, on the same windows."""
        experts = run.gate.route(contexts.detach())
        pieces = []
        for expert_index in np.unique(experts):
            members = np.nonzero(experts == expert_index)[0]
            expert = run.experts[int(expert_index)]
            x = windows.unsqueeze(0).expand(len(members), *windows.shape)
            predictions, _ = rollout(expert, expert.parameters_for(contexts[members]), x,
                                     [forcing_alpha] * len(members), config.forcing, config.forcing_interval)
            pieces.append((members, ((predictions - x[:, :, 1:]) ** 2).mean(dim=(1, 2, 3))))
        result = torch.zeros(len(contexts), dtype=pieces[0][1].dtype)
        for members, values in pieces:
            result = result.index_put((torch.as_tensor(members),), values)
        return result, experts

    # Candidate starts: the zero context and every training context.
    candidates = [("zero", np.zeros(config.context_dim))] + [(r.name, r.context) for r in run.training_environments]
    stacked = torch.as_tensor(np.stack([c for _, c in candidates]), dtype=torch.float32)
    with torch.no_grad():
        candidate_losses, _ = losses(stacked, scoring)
    candidate_losses = candidate_losses.numpy()
    best = int(np.nanargmin(np.where(np.isfinite(candidate_losses), candidate_losses, np.nan)))
    start, start_loss = candidates[best][0], float(candidate_losses[best])
    logger.info("adapting %s from the context of %s (loss %.4g)", environment.name, start, start_loss)

    context = torch.nn.Parameter(stacked[best].clone())
    optimizer = torch.optim.Adam([context], lr=learning_rate)
    loss_curve, routing_curve = [], []
    for _ in range(steps):
        loss, experts = losses(context.unsqueeze(0), sampler.sample())
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        loss_curve.append(float(loss.detach()[0]))
        routing_curve.append(int(experts[0]))
        if not math.isfinite(loss_curve[-1]):
            logger.warning("adaptation of %s stopped at step %d: the loss is not finite", environment.name,
                           len(loss_curve))
            break

    with torch.no_grad():
        final, experts = losses(context.detach().unsqueeze(0), scoring)
    for expert in run.experts:
        expert.requires_grad_(True)
    return Adaptation(name=environment.name, context=context.detach().numpy().astype(np.float64),
                      expert=int(experts[0]), start=start, start_loss=start_loss, final_loss=float(final[0]),
                      loss_curve=np.asarray(loss_curve), routing_curve=np.asarray(routing_curve),
                      alpha=float(alpha), environment=environment)


def store_adaptation(run: MixerRun, adaptation: Adaptation, steps: int, learning_rate: float,
                     replace: bool = False) -> str:
    """Add (or with `replace`, replace) the adapted environment in run.h5; return its group path."""
    environment = adaptation.environment
    existing = {record.name: record for record in run.environments}
    if adaptation.name in existing:
        record = existing[adaptation.name]
        if record.kind == "training":
            raise OutputExistsError(f"{adaptation.name!r} is a training environment of the run; pick another --name.")
        if not replace:
            raise OutputExistsError(f"The run has an adapted environment {adaptation.name!r} already; pass --force "
                                    "to replace it or pick another --name.")

    def write(group: h5py.Group, old: h5py.File) -> str:
        keys = sorted(old["adaptations"]) if "adaptations" in old else []
        target = None
        for key in keys:
            if str(old["adaptations"][key]["dataset"].attrs["name"]) == adaptation.name:
                target = key
                continue
            old.copy(old["adaptations"][key], group, name=key)
        target = target or f"{len(keys):04d}"
        entry = group.create_group(target)
        entry.attrs["expert"] = adaptation.expert
        entry.attrs["start"] = adaptation.start
        entry.attrs["start_loss"] = adaptation.start_loss
        entry.attrs["final_loss"] = adaptation.final_loss
        entry.attrs["alpha"] = adaptation.alpha
        entry.attrs["steps"] = steps
        entry.attrs["learning_rate"] = learning_rate
        entry.attrs["created_utc"] = utc_timestamp()
        entry.create_dataset("context", data=adaptation.context)
        entry.create_dataset("loss_curve", data=adaptation.loss_curve)
        entry.create_dataset("routing_curve", data=adaptation.routing_curve.astype(np.int64))
        write_fingerprint(entry.create_group("dataset"), adaptation.name, environment.path, environment.sha256,
                           environment.dataset, environment.mean, environment.std)
        written.append(f"adaptations/{target}")

    written: list[str] = []
    rewrite_file(run.file, {"adaptations": write})
    return written[0]
