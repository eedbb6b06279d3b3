"""The training loop: generalized or sparse teacher forcing, RAdam, checkpoint snapshots.

Read `Trainer.run` top to bottom: it is the whole algorithm. Persistence (run
files, logs, progress bars) lives outside and is reached through callbacks,
so that the loop can run in a notebook as well as in `dsr train`.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from dsr.errors import NumericalError, TrainingInterrupted
from dsr.models.base import ReconstructionModel
from dsr.training.batches import SubsequenceSampler
from dsr.training.config import TrainConfig
from dsr.training.forcing import AlphaController, forced_rollout
from dsr.training.validation import prediction_score, validation_free_run

logger = logging.getLogger(__name__)

# Free-run steps dropped before a D_stsp or D_H validation score, as in the
# evaluation protocol, so that the score does not depend on the start.
VALIDATION_TRANSIENT = 1_000

# A D_stsp validation free run is this many times as long as the validation
# part, up to `validation_steps`: longer runs estimate the model's state
# distribution better, but more than a few times the data adds little.
VALIDATION_LENGTH_FACTOR = 5

HISTORY_FIELDS = ("epoch", "loss", "alpha", "learning_rate", "gradient_norm", "seconds", "validation", "norm_estimate")


@dataclass
class Snapshot:
    """Everything needed to continue training exactly from the end of an epoch."""

    epoch: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    alpha: dict[str, Any]
    sampler: dict[str, Any]
    noise_generator: torch.Tensor
    history: dict[str, list[float]]
    best_score: float
    best_epoch: int
    best_model: dict[str, torch.Tensor] | None


@dataclass
class Callbacks:
    """Hooks for the caller; each is optional.

    on_epoch(trainer, record): after every epoch, with that epoch's history row.
    on_snapshot(trainer, snapshot, reason): when a snapshot should be saved;
        reason is "checkpoint", "final", "interrupted" or "diverged".
    """

    on_epoch: Callable[["Trainer", dict[str, float]], None] | None = None
    on_snapshot: Callable[["Trainer", Snapshot, str], None] | None = None


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """Return the learning rate of `epoch`: geometric from the start value to the end value."""
    fraction = epoch / max(config.epochs - 1, 1)
    return config.learning_rate_start * (config.learning_rate_end / config.learning_rate_start) ** fraction


def resolve_device(name: str) -> torch.device:
    """Map "auto" to CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from dsr.errors import InputError

        raise InputError("--device cuda was requested, but PyTorch sees no CUDA device. Use --device auto or cpu.")
    return torch.device(name)


class Trainer:
    """Trains one model on standardised training sequences with teacher forcing."""

    def __init__(self, model: ReconstructionModel, config: TrainConfig, train_parts: list[np.ndarray],
                 valid_parts: list[np.ndarray], device: torch.device | None = None,
                 rollout: Callable[..., tuple[torch.Tensor, torch.Tensor]] = forced_rollout) -> None:
        self.config = config
        self.device = device or torch.device("cpu")
        self.model = model.to(self.device)
        self.valid_parts = valid_parts
        self.rollout = rollout
        dtype = next(self.model.parameters()).dtype
        self.sampler = SubsequenceSampler(train_parts, config.sequence_length, config.batch_size, config.seed,
                                          dtype).to(self.device)
        self.optimizer = torch.optim.RAdam(self.model.parameters(), lr=config.learning_rate_start)
        self.alpha = AlphaController(config.alpha_schedule, config.alpha, config.alpha_start, config.alpha_end,
                                     config.epochs, config.adaptive_interval, config.adaptive_gamma)
        self.noise_generator = torch.Generator(device="cpu").manual_seed(config.seed + 1)
        self.history: dict[str, list[float]] = {name: [] for name in HISTORY_FIELDS}
        self.epoch = 0
        self.best_score, self.best_epoch, self.best_model = math.inf, -1, None

    # Snapshots -------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot(
            epoch=self.epoch,
            model=copy.deepcopy(self.model.state_dict()),
            optimizer=copy.deepcopy(self.optimizer.state_dict()),
            alpha=self.alpha.state_dict(),
            sampler=copy.deepcopy(self.sampler.state_dict()),
            noise_generator=self.noise_generator.get_state(),
            history={k: list(v) for k, v in self.history.items()},
            best_score=self.best_score, best_epoch=self.best_epoch,
            best_model=copy.deepcopy(self.best_model),
        )

    def restore(self, snapshot: Snapshot) -> None:
        self.epoch = snapshot.epoch
        self.model.load_state_dict(snapshot.model)
        self.optimizer.load_state_dict(snapshot.optimizer)
        self.alpha.load_state_dict(snapshot.alpha)
        self.sampler.load_state_dict(snapshot.sampler)
        self.noise_generator.set_state(snapshot.noise_generator)
        self.history = {k: list(v) for k, v in snapshot.history.items()}
        self.best_score, self.best_epoch, self.best_model = snapshot.best_score, snapshot.best_epoch, snapshot.best_model

    # The loop --------------------------------------------------------------

    def run(self, callbacks: Callbacks | None = None) -> Snapshot:
        """Train from the current epoch to `config.epochs` and return the final snapshot.

        Raises NumericalError when the loss or a parameter becomes non-finite
        (after handing the last good snapshot to `on_snapshot`), and
        TrainingInterrupted on Ctrl-C (likewise).
        """
        callbacks = callbacks or Callbacks()
        config = self.config
        last_good = self.snapshot()
        logger.info("training %s from epoch %d to %d on %s", config.model, self.epoch, config.epochs, self.device)

        try:
            while self.epoch < config.epochs:
                record = self.train_epoch()
                self.epoch += 1

                if not math.isfinite(record["loss"]) or not self._parameters_finite():
                    self.restore(last_good)
                    self._emit(callbacks, last_good, "diverged")
                    raise NumericalError(
                        f"Training diverged in epoch {self.epoch + 1} (loss {record['loss']}). The last good checkpoint "
                        f"(epoch {last_good.epoch}) was kept. Try a lower --lr, --grad-clip 10, or a stronger forcing α."
                    )

                if self.epoch % config.validation_interval == 0 or self.epoch == config.epochs:
                    record["validation"] = self.validate()
                    if record["validation"] < self.best_score:
                        self.best_score, self.best_epoch = record["validation"], self.epoch
                        self.best_model = copy.deepcopy(self.model.state_dict())

                for name in HISTORY_FIELDS:
                    self.history[name].append(record[name])
                if callbacks.on_epoch:
                    callbacks.on_epoch(self, record)

                last_good = self.snapshot()
                if self.epoch % config.checkpoint_interval == 0 and self.epoch < config.epochs:
                    self._emit(callbacks, last_good, "checkpoint")
        except KeyboardInterrupt:
            # The model may be half way through an epoch; the snapshot of the
            # last finished epoch is what a resumed run must continue from.
            self.restore(last_good)
            self._emit(callbacks, last_good, "interrupted")
            raise TrainingInterrupted(
                f"Interrupted; saved a checkpoint at epoch {last_good.epoch}. Continue with --resume."
            ) from None

        final = self.snapshot()
        self._emit(callbacks, final, "final")
        logger.info("finished training at epoch %d; best validation %.4g at epoch %d", self.epoch, self.best_score, self.best_epoch)
        return final

    def train_epoch(self) -> dict[str, float]:
        """Run one epoch of `batches_per_epoch` optimisation steps and return its history row."""
        config = self.config
        started = time.perf_counter()
        rate = learning_rate(config, self.epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        self.alpha.start_epoch(self.epoch)

        losses, gradient_norms = [], []
        for _ in range(config.batches_per_epoch):
            x = self.sampler.sample()
            inputs = x
            if config.input_noise > 0:
                noise = torch.randn(x.shape, generator=self.noise_generator).to(self.device, x.dtype)
                inputs = x + config.input_noise * noise

            # Forward with forcing; the loss compares predictions made before
            # forcing with the next observations.
            predictions, states = self.rollout(self.model, inputs, self.alpha.alpha, config.forcing, config.forcing_interval)
            loss = torch.mean((predictions - x[:, 1:]) ** 2)

            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            gradient_norms.append(self._clip_gradients())
            self.optimizer.step()
            losses.append(float(loss.detach()))

            if config.alpha_schedule == "adaptive" and config.forcing == "gtf":
                inferred = self.model.observation.force(states.detach(), inputs[:, 1:], 1.0)
                self.alpha.after_batch(self.model, inferred)

        return {
            "epoch": self.epoch + 1,
            "loss": float(np.mean(losses)),
            "alpha": self.alpha.alpha if config.forcing == "gtf" else 1.0,
            "learning_rate": rate,
            "gradient_norm": float(np.mean(gradient_norms)),
            "seconds": time.perf_counter() - started,
            "validation": math.nan,
            "norm_estimate": self.alpha.last_estimate,
        }

    def validate(self) -> float:
        """Return the validation score (lower is better) of the current model."""
        config = self.config
        if not self.valid_parts:
            return math.nan
        if config.validation_metric == "prediction":
            return prediction_score(self.model, self.valid_parts, config.validation_horizon)

        from dsr.metrics import free_run_spectrum_distance, state_space_divergence

        part = max(self.valid_parts, key=len)
        if config.validation_metric == "dstsp":
            n_steps = max(len(part), min(config.validation_steps, VALIDATION_LENGTH_FACTOR * len(part)))
            generated = validation_free_run(self.model, part, n_steps, VALIDATION_TRANSIENT)
        else:
            generated = validation_free_run(self.model, part, len(part), VALIDATION_TRANSIENT)
        if not np.all(np.isfinite(generated)):
            return math.inf
        if config.validation_metric == "dstsp":
            return float(state_space_divergence(part, generated))
        return free_run_spectrum_distance(part, generated)

    def _clip_gradients(self) -> float:
        parameters = [p for p in self.model.parameters() if p.grad is not None]
        limit = self.config.gradient_clip if self.config.gradient_clip > 0 else math.inf
        return float(torch.nn.utils.clip_grad_norm_(parameters, limit))

    def _parameters_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    @staticmethod
    def _emit(callbacks: Callbacks, snapshot: Snapshot, reason: str) -> None:
        if callbacks.on_snapshot:
            callbacks.on_snapshot(None, snapshot, reason)
