"""The training configuration: every option of `dsr train`, its default and its check."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dsr.errors import InputError

FORCING_MODES = ("gtf", "sparse")
ALPHA_SCHEDULES = ("constant", "annealing", "adaptive")
VALIDATION_METRICS = ("prediction", "dstsp", "dh")

# Options whose default depends on the model, each following that model's
# paper: the AL-RNN paper trains with sparse teacher forcing (τ = 16) and
# Gaussian input noise of 0.05; the GTF paper trains the shPLRNN with
# adaptive GTF starting from α = 1. A constant α defaults to 0.1.
MODEL_DEFAULTS = {
    "alrnn": {"forcing": "sparse", "input_noise": 0.05},
    "shplrnn": {"forcing": "gtf", "input_noise": 0.0},
}
ADAPTIVE_ALPHA_START = 1.0
CONSTANT_ALPHA = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """Options of one training run.

    Defaults follow the AL-RNN (NeurIPS 2024) and GTF (ICML 2023) papers:
    batches of 16 subsequences of 200 steps, 50 batches per epoch, RAdam with
    a learning rate decayed exponentially per epoch from 1e-3 to 1e-5. The
    forcing follows each model's paper (`MODEL_DEFAULTS`): sparse forcing
    with τ = 16 and input noise 0.05 for the AL-RNN, adaptive GTF from α = 1
    for the shPLRNN. Options left at None are resolved to those defaults on
    construction, so a stored configuration contains concrete values.

    Attributes:
        model: "alrnn" or "shplrnn".
        latent_dim: M, latent units.
        n_relu: P, ReLU units of the AL-RNN.
        hidden_dim: L, hidden units of the shPLRNN.
        clipped: use the clipped shPLRNN.
        observation: "identity" (x = first N latent units) or "affine".
        epochs: training epochs.
        batches_per_epoch, batch_size, sequence_length: each epoch draws
            `batches_per_epoch` batches of `batch_size` random subsequences of
            `sequence_length` predicted steps from the training part.
        learning_rate_start, learning_rate_end: RAdam learning rate at the
            first and the last epoch, decayed geometrically in between.
        gradient_clip: maximum gradient norm; 0 disables clipping.
        input_noise: standard deviation of Gaussian noise added to the
            observations used for forcing (not to the targets), in
            standardised units; 0 disables it. Default per model.
        forcing: "gtf" (generalized teacher forcing) or "sparse". Default
            per model.
        alpha_schedule: "constant", "annealing" or "adaptive" (GTF only).
        alpha: α of the constant schedule (default 0.1), and the starting α
            of the adaptive one (default 1).
        alpha_start, alpha_end: ends of the annealing schedule.
        adaptive_interval: batches between Jacobian-norm estimates.
        adaptive_gamma: decay factor γ of the adaptive schedule.
        forcing_interval: τ of sparse teacher forcing, in steps.
        validation_interval: epochs between validation scores.
        validation_metric: "dstsp" (default) or "dh" on a free run as long
            as the validation part, or "prediction" (free-run MSE over
            `validation_horizon` steps). The default selects checkpoints by
            the attractor's geometry, because a small prediction error does
            not rule out a free run that settles on a fixed point.
        validation_horizon: steps of the prediction score.
        validation_steps: maximum length of the free run that "dstsp"
            compares with the validation part; the run is five times the
            part's length up to this. A free run longer than the data
            estimates the model's state distribution better: on Lorenz-63,
            50,000 steps against 10,000 validation samples ranked checkpoints
            much like the test data did, while 10,000 steps often did not.
        checkpoint_interval: epochs between checkpoints.
        keep_checkpoints: numbered checkpoints kept (the best one is kept besides).
        seed: seeds the initialisation, the batches and the noise.
        device: "auto", "cpu" or "cuda".
        fast_path: "auto" (fused kernels on CPU when available), "on" or "off".
    """

    model: str = "alrnn"
    latent_dim: int = 20
    n_relu: int = 2
    hidden_dim: int = 50
    clipped: bool = False
    observation: str = "identity"
    epochs: int = 2000
    batches_per_epoch: int = 50
    batch_size: int = 16
    sequence_length: int = 200
    learning_rate_start: float = 1e-3
    learning_rate_end: float = 1e-5
    gradient_clip: float = 0.0
    input_noise: float | None = None
    forcing: str | None = None
    alpha_schedule: str = "adaptive"
    alpha: float | None = None
    alpha_start: float = 0.5
    alpha_end: float = 0.05
    adaptive_interval: int = 5
    adaptive_gamma: float = 0.999
    forcing_interval: int = 16
    validation_interval: int = 25
    validation_metric: str = "dstsp"
    validation_horizon: int = 25
    validation_steps: int = 50_000
    checkpoint_interval: int = 25
    keep_checkpoints: int = 3
    seed: int = 0
    device: str = "auto"
    fast_path: str = "auto"

    def __post_init__(self) -> None:
        self._resolve_model_defaults()
        self._check_choices()
        self._check_numbers()

    def _resolve_model_defaults(self) -> None:
        # A frozen dataclass: the resolved values are set once, here, so that
        # the stored configuration always contains concrete values.
        defaults = MODEL_DEFAULTS.get(self.model, MODEL_DEFAULTS["alrnn"])
        for name in ("forcing", "input_noise"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, defaults[name])
        if self.alpha is None:
            object.__setattr__(self, "alpha", ADAPTIVE_ALPHA_START if self.alpha_schedule == "adaptive" else CONSTANT_ALPHA)

    def _check_choices(self) -> None:
        choices = {
            "model": ("alrnn", "shplrnn"), "observation": ("identity", "affine"), "forcing": FORCING_MODES,
            "alpha_schedule": ALPHA_SCHEDULES, "validation_metric": VALIDATION_METRICS,
            "device": ("auto", "cpu", "cuda"), "fast_path": ("auto", "on", "off"),
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InputError(f"Invalid {name.replace('_', ' ')} {value!r}; expected one of: {', '.join(allowed)}.")

    def _check_numbers(self) -> None:
        at_least_one = ("latent_dim", "hidden_dim", "epochs", "batches_per_epoch", "batch_size", "sequence_length",
                        "adaptive_interval", "forcing_interval", "validation_interval", "validation_horizon", "validation_steps",
                        "checkpoint_interval", "keep_checkpoints")
        for name in at_least_one:
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}.")
        if self.model == "alrnn" and not 0 <= self.n_relu <= self.latent_dim:
            raise InputError(f"The number of ReLU units P must be between 0 and M = {self.latent_dim}, got {self.n_relu}.")
        for name in ("alpha", "alpha_start", "alpha_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name.replace('_', ' ')} must lie in [0, 1], got {getattr(self, name)}.")
        if self.alpha_schedule == "annealing" and (self.alpha_start <= 0 or self.alpha_end <= 0):
            raise InputError("Annealing is geometric, so alpha start and alpha end must be positive.")
        if not 0.0 < self.adaptive_gamma < 1.0:
            raise InputError(f"The adaptive decay factor gamma must lie in (0, 1), got {self.adaptive_gamma}.")
        for name in ("learning_rate_start", "learning_rate_end"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name.replace('_', ' ')} must be positive, got {getattr(self, name)}.")
        for name in ("gradient_clip", "input_noise"):
            if getattr(self, name) < 0:
                raise InputError(f"{name.replace('_', ' ')} must be zero (off) or positive, got {getattr(self, name)}.")

    def model_config(self, obs_dim: int) -> dict[str, Any]:
        """Return the `build_model` arguments for data of dimension `obs_dim`."""
        if self.model == "alrnn":
            return {"model": "alrnn", "obs_dim": obs_dim, "latent_dim": self.latent_dim,
                    "n_relu": self.n_relu, "observation": self.observation}
        return {"model": "shplrnn", "obs_dim": obs_dim, "latent_dim": self.latent_dim, "hidden_dim": self.hidden_dim,
                "clipped": self.clipped, "observation": self.observation}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InputError(f"Unknown training options: {', '.join(sorted(unknown))}.")
        return cls(**values)
