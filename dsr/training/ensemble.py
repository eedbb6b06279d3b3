"""Training K independent models in one batched computation: an ensemble of seeds.

Member k is the run that `Trainer` makes with configuration k (the same
options, its own seed). It has its own initial parameters, batches, input
noise, α schedule, optimizer state, validation, best model and snapshots,
so every member is saved as a normal run and can be resumed on its own. The
members share only the arithmetic. Per batch there is one rollout over the
stacked parameters (K, ...), one backward pass of the sum of the member
losses, and one RAdam step on the stacked tensors. The gradients do not
mix, because each member's loss depends only on its own parameters, and
RAdam is elementwise with a step count and learning rate that all members
share.

On the fused path (`FusedEnsembleRollout`) every member's losses, gradients
and parameters equal the single run's bit for bit. On the PyTorch path
(`ReferenceEnsembleRollout`) batched matrix products round differently from
single ones, so members agree with single runs only to rounding.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np
import torch

from dsr.errors import InputError, TrainingInterrupted
from dsr.models.base import ReconstructionModel
from dsr.training.config import TrainConfig
from dsr.training.ensemble_rollout import FusedEnsembleRollout, ReferenceEnsembleRollout, stack_parameters
from dsr.training.trainer import HISTORY_FIELDS, Snapshot, Trainer, learning_rate

logger = logging.getLogger(__name__)


@dataclass
class EnsembleCallbacks:
    """Hooks for the caller; each is optional. `member` is the index into the models given to the trainer.

    on_epoch(member, trainer, record): after every epoch, per member, with
        the member's `Trainer` and history row.
    on_snapshot(member, snapshot, reason): when a member's snapshot should
        be saved; reason is "checkpoint", "final", "interrupted" or "diverged".
    """

    on_epoch: Callable[[int, Trainer, dict[str, float]], None] | None = None
    on_snapshot: Callable[[int, Snapshot, str], None] | None = None


def check_member_configs(configs: Sequence[TrainConfig]) -> None:
    """Raise InputError unless the configurations differ in their seeds only."""
    if not configs:
        raise InputError("An ensemble needs at least one member.")
    reference = replace(configs[0], seed=0)
    for config in configs[1:]:
        if replace(config, seed=0) != reference:
            differences = [key for key, value in reference.to_dict().items()
                           if key != "seed" and getattr(config, key) != value]
            raise InputError(f"Ensemble members must share all options but the seed; these differ: "
                             f"{', '.join(differences)}. Train them as separate runs.")
    seeds = [config.seed for config in configs]
    if len(set(seeds)) != len(seeds):
        raise InputError(f"Ensemble members need distinct seeds, got {seeds}.")


class EnsembleTrainer:
    """Trains K models of one architecture, each with its own configuration (seed), in one batched loop.

    Args:
        models: the members' initial models (the trainer keeps them as the
            members' `Trainer.model`, which hold the parameters at each
            snapshot and validation).
        configs: one configuration per member, equal except for the seed.
        fast: use the fused kernels (check `dsr.training.fused.fused_available`).
        rollout: replaces the ensemble rollout chosen by `fast`; it is
            called as rollout(stacked parameters, x, alphas, mode, interval).
    """

    def __init__(self, models: Sequence[ReconstructionModel], configs: Sequence[TrainConfig],
                 train_parts: list[np.ndarray], valid_parts: list[np.ndarray], device: torch.device | None = None,
                 fast: bool = False, rollout: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None) -> None:
        check_member_configs(configs)
        if len(models) != len(configs):
            raise InputError(f"Got {len(models)} models for {len(configs)} configurations; give one of each per member.")
        self.config = configs[0]
        self.device = device or torch.device("cpu")
        self.members = [Trainer(model, config, train_parts, valid_parts, device=self.device)
                        for model, config in zip(models, configs)]
        self.indices = list(range(len(models)))
        self.fast = fast
        self._custom_rollout = rollout
        self.epoch = 0
        self.diverged: list[tuple[int, int, float]] = []
        self._stack()

    @property
    def seeds(self) -> list[int]:
        return [member.config.seed for member in self.members]

    # Stacked and per-member state ----------------------------------------

    def _stack(self) -> None:
        """Build the stacked parameters, optimizer and rollout from the members' models and optimizers."""
        template = self.members[0].model
        self.parameters = stack_parameters([member.model for member in self.members])
        self.optimizer = torch.optim.RAdam(self.parameters.values(), lr=self.config.learning_rate_start)
        states = [member.optimizer.state_dict() for member in self.members]
        if states[0]["state"]:
            self.optimizer.load_state_dict({"state": _stack_optimizer_states(states),
                                            "param_groups": states[0]["param_groups"]})

        if self._custom_rollout is not None:
            self.rollout = self._custom_rollout
        elif self.fast:
            self.rollout = FusedEnsembleRollout(template, len(self.members))
        else:
            self.rollout = ReferenceEnsembleRollout(template)

    def _sync_model(self, position: int) -> None:
        """Copy the stacked parameters of the member at `position` into its own model."""
        with torch.no_grad():
            for name, value in self.members[position].model.named_parameters():
                value.copy_(self.parameters[name][position])

    def _unstack(self) -> None:
        """Copy the stacked parameters and optimizer state into every member's model and optimizer."""
        stacked = self.optimizer.state_dict()
        for position, member in enumerate(self.members):
            self._sync_model(position)
            member.epoch = self.epoch
            member.optimizer.load_state_dict({
                "state": {index: {key: value[position].clone() if value.dim() > 0 else value.clone()
                                  for key, value in entry.items()}
                          for index, entry in stacked["state"].items()},
                "param_groups": stacked["param_groups"],
            })

    def snapshots(self) -> list[Snapshot]:
        """Return every member's snapshot, each as its single run would take it."""
        self._unstack()
        return [member.snapshot() for member in self.members]

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        """Continue from one snapshot per member; all must be from the same epoch."""
        epochs = {snapshot.epoch for snapshot in snapshots}
        if len(epochs) != 1:
            raise InputError(f"Ensemble members can only continue together from one epoch, got epochs "
                             f"{sorted(epochs)}. Resume them as separate runs.")
        for member, snapshot in zip(self.members, snapshots):
            member.restore(snapshot)
        self.epoch = snapshots[0].epoch
        self._stack()

    def _drop(self, positions: Sequence[int]) -> None:
        """Remove members (after their snapshots were handed out) and rebuild the stacked state."""
        self._unstack()
        keep = [position for position in range(len(self.members)) if position not in set(positions)]
        self.members = [self.members[position] for position in keep]
        self.indices = [self.indices[position] for position in keep]
        if self.members:
            self._stack()

    # The loop ------------------------------------------------------------

    def run(self, callbacks: EnsembleCallbacks | None = None) -> list[Snapshot]:
        """Train every member from the current epoch to `config.epochs` and return the final snapshots.

        A member whose loss or parameters become non-finite is set back to
        its last good snapshot, which goes to `on_snapshot` with reason
        "diverged". The member is then listed in `self.diverged` as
        (member, epoch, loss) and dropped, and the others go on. Ctrl-C
        hands every member's last good snapshot to `on_snapshot` and raises
        TrainingInterrupted.
        """
        callbacks = callbacks or EnsembleCallbacks()
        config = self.config
        last_good = self.snapshots()
        logger.info("training an ensemble of %d %s models (seeds %s) from epoch %d to %d on %s, %s path",
                    len(self.members), config.model, self.seeds, self.epoch, config.epochs, self.device,
                    "fused" if self.fast else "PyTorch")

        try:
            while self.epoch < config.epochs and self.members:
                records = self.train_epoch()
                self.epoch += 1
                self._unstack()

                failed = [position for position, record in enumerate(records)
                          if not math.isfinite(record["loss"]) or not self.members[position]._parameters_finite()]
                for position in failed:
                    member = self.members[position]
                    member.restore(last_good[position])
                    self.diverged.append((self.indices[position], self.epoch, records[position]["loss"]))
                    logger.warning("ensemble member with seed %d diverged in epoch %d (loss %s); its last good "
                                   "checkpoint (epoch %d) was kept", member.config.seed, self.epoch,
                                   records[position]["loss"], last_good[position].epoch)
                    self._emit(callbacks, position, last_good[position], "diverged")

                for position, (member, record) in enumerate(zip(self.members, records)):
                    if position in failed:
                        continue
                    self._finish_epoch(position, member, record, callbacks)

                if failed:
                    self._drop(failed)
                last_good = self.snapshots()
                if self.epoch % config.checkpoint_interval == 0 and self.epoch < config.epochs:
                    for position, snapshot in enumerate(last_good):
                        self._emit(callbacks, position, snapshot, "checkpoint")
        except KeyboardInterrupt:
            for position, member in enumerate(self.members):
                member.restore(last_good[position])
                self._emit(callbacks, position, last_good[position], "interrupted")
            epoch = last_good[0].epoch if last_good else self.epoch
            raise TrainingInterrupted(
                f"Interrupted; saved a checkpoint at epoch {epoch} in every member run. Continue with --resume."
            ) from None

        final = self.snapshots()
        for position, snapshot in enumerate(final):
            self._emit(callbacks, position, snapshot, "final")
        logger.info("finished the ensemble at epoch %d; %d of %d members completed",
                    self.epoch, len(self.members), len(self.members) + len(self.diverged))
        return final

    def _finish_epoch(self, position: int, member: Trainer, record: dict[str, float],
                      callbacks: EnsembleCallbacks) -> None:
        """Validate, keep the best model, record the history and call on_epoch, as `Trainer.run` does."""
        config = self.config
        if self.epoch % config.validation_interval == 0 or self.epoch == config.epochs:
            record["validation"] = member.validate()
            if record["validation"] < member.best_score:
                member.best_score, member.best_epoch = record["validation"], self.epoch
                member.best_model = copy.deepcopy(member.model.state_dict())
        for name in HISTORY_FIELDS:
            member.history[name].append(record[name])
        if callbacks.on_epoch:
            callbacks.on_epoch(self.indices[position], member, record)

    def train_epoch(self) -> list[dict[str, float]]:
        """Run one epoch of `batches_per_epoch` optimisation steps and return every member's history row."""
        config = self.config
        started = time.perf_counter()
        rate = learning_rate(config, self.epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        for member in self.members:
            member.alpha.start_epoch(self.epoch)

        count = len(self.members)
        losses: list[list[float]] = [[] for _ in range(count)]
        gradient_norms: list[list[float]] = [[] for _ in range(count)]
        for _ in range(config.batches_per_epoch):
            x, inputs = self._sample()

            # One rollout and one backward pass for all members; the summed
            # loss gives every member the gradient of its own loss.
            alphas = [member.alpha.alpha for member in self.members]
            predictions, states = self.rollout(self.parameters, inputs, alphas, config.forcing, config.forcing_interval)
            squared = (predictions - x[:, :, 1:]) ** 2
            member_losses = torch.stack([member_squared.mean() for member_squared in squared.unbind(0)])

            self.optimizer.zero_grad(set_to_none=True)
            member_losses.sum().backward()
            norms = self._clip_gradients()
            self.optimizer.step()
            for position, (loss, norm) in enumerate(zip(member_losses.detach().tolist(), norms)):
                losses[position].append(loss)
                gradient_norms[position].append(norm)

            if config.alpha_schedule == "adaptive" and config.forcing == "gtf":
                self._update_alphas(states, inputs)

        seconds = time.perf_counter() - started
        return [{
            "epoch": self.epoch + 1,
            "loss": float(np.mean(losses[position])),
            "alpha": member.alpha.alpha if config.forcing == "gtf" else 1.0,
            "learning_rate": rate,
            "gradient_norm": float(np.mean(gradient_norms[position])),
            "seconds": seconds,
            "validation": math.nan,
            "norm_estimate": member.alpha.last_estimate,
        } for position, member in enumerate(self.members)]

    def _sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw every member's batch and input noise from the member's own generators, in the single run's order."""
        batches, inputs = [], []
        for member in self.members:
            x = member.sampler.sample()
            member_inputs = x
            if self.config.input_noise > 0:
                noise = torch.randn(x.shape, generator=member.noise_generator).to(self.device, x.dtype)
                member_inputs = x + self.config.input_noise * noise
            batches.append(x)
            inputs.append(member_inputs)
        return torch.stack(batches), torch.stack(inputs)

    def _clip_gradients(self) -> list[float]:
        """Clip each member's gradient norm as `torch.nn.utils.clip_grad_norm_` does in a single run."""
        limit = self.config.gradient_clip if self.config.gradient_clip > 0 else math.inf
        norms = []
        for position in range(len(self.members)):
            grads = [value.grad[position] for value in self.parameters.values() if value.grad is not None]
            total = torch.nn.utils.get_total_norm(grads)
            coefficient = torch.clamp(limit / (total + 1e-6), max=1.0)
            for grad in grads:
                grad.mul_(coefficient)
            norms.append(float(total))
        return norms

    def _update_alphas(self, states: torch.Tensor, inputs: torch.Tensor) -> None:
        """Advance every member's adaptive α as a single run does after its optimizer step."""
        for position, member in enumerate(self.members):
            controller = member.alpha
            # The controller estimates the Jacobian norm only every
            # `interval` batches; only then does it need the member's
            # current parameters and inferred states.
            inferred = states[position].detach()
            if controller.batches % controller.interval == 0:
                self._sync_model(position)
                inferred = member.model.observation.force(inferred, inputs[position, :, 1:], 1.0)
            controller.after_batch(member.model, inferred)

    def _emit(self, callbacks: EnsembleCallbacks, position: int, snapshot: Snapshot, reason: str) -> None:
        if callbacks.on_snapshot:
            callbacks.on_snapshot(self.indices[position], snapshot, reason)


def _stack_optimizer_states(states: Sequence[dict[str, Any]]) -> dict[int, dict[str, torch.Tensor]]:
    """Stack per-member optimizer states (state dicts of one optimizer type) along a leading axis.

    Scalar entries (the step count) must agree, because the stacked
    optimizer keeps one per parameter for all members.
    """
    stacked: dict[int, dict[str, torch.Tensor]] = {}
    for index, entry in states[0]["state"].items():
        stacked[index] = {}
        for key, value in entry.items():
            values = [state["state"][index][key] for state in states]
            if value.dim() == 0:
                if any(not torch.equal(other, value) for other in values):
                    raise InputError(f"Ensemble members disagree on the optimizer's {key!r}; resume them as separate runs.")
                stacked[index][key] = value.clone()
            else:
                stacked[index][key] = torch.stack(values)
    return stacked
