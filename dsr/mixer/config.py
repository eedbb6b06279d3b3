"""The MixER training configuration: every option of `dsr train --model mixer`, its default and its check."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dsr.errors import InputError
from dsr.training.config import ALPHA_SCHEDULES, FORCING_MODES, TrainConfig

GATES = ("mixer", "naive")
CONDITIONINGS = ("linear", "lowrank")
NORMALIZATIONS = ("dataset", "pooled")


@dataclass(frozen=True)
class MixerConfig:
    """Options of one MixER run: experts, contexts, gate, and the proximal alternating minimisation.

    The published defaults (Nzoyem et al., 2025) are 12 context steps and 12
    model steps per outer step with a proximal weight of 10, and a gate
    update after every inner step. The other defaults (a clipped shPLRNN
    with M = 3 and L = 40, GTF on 50-step windows, 8 environments per inner
    step, 1200 outer steps, a warm-up of 150) are the configuration of the
    family benchmark in docs/mixer.md, which updates the gate every 4 inner
    steps instead.

    Attributes:
        expert_model: "alrnn" or "shplrnn", the architecture of every expert.
        latent_dim, n_relu, hidden_dim, clipped, observation: the expert
            architecture, as in `dsr.training.TrainConfig`.
        experts: K, the number of experts.
        context_dim: d, the dimension of each environment's context vector ξ.
        conditioning: "linear" (θ(ξ) = θ⁰ + P ξ for every parameter) or
            "lowrank" (W(ξ) = W⁰ + U diag(ξ) V for matrices, linear for vectors).
        hypernetwork_std: standard deviation of the initial P, U and V entries.
        gate: "mixer" (K-means plus least-squares gate update with top-1
            routing) or "naive" (softmax gate trained by gradient descent on
            the gate-weighted expert losses, plus a load-balancing term).
        outer_steps: outer steps of the proximal alternating minimisation.
        context_steps, model_steps: inner steps on the contexts, then on the
            experts (and the naive gate), in every outer step.
        proximal_weight: λ of the penalty (λ/2)‖p − p₀‖² towards the values
            p₀ at the start of the outer step.
        gate_interval: inner steps between gate updates ("mixer" gate).
        gate_guard: keep the current routing when the routing proposed by
            K-means and the assignment raises the summed loss of the
            environments under their experts (see `dsr.mixer.gate`).
        gate_warmup: outer steps at the start during which every environment
            uses expert 0 and the gate is not updated ("mixer" gate). At its
            end the other experts start as copies of expert 0. 0 gives the
            published algorithm, whose first K-means splits the still
            uninformative contexts at random.
        gate_batch_size: windows per environment for the loss matrix of a
            gate update.
        gate_noise: standard deviation of the noise added to the contexts
            before the least-squares gate fit, as a fraction of the contexts'
            RMS distance from their mean.
        gate_noise_copies: noisy copies of each context in that fit.
        load_balance_weight: weight of the load-balancing term ("naive" gate).
        environments_per_batch: environments per inner step: a random one
            and its nearest neighbours in context space.
        batch_size, sequence_length: windows per environment and predicted
            steps per window.
        learning_rate_start, learning_rate_end: RAdam learning rate of the
            experts at the first and the last outer step, geometric in between.
        context_learning_rate: Adam learning rate of the contexts at the
            first outer step; it decays by the same factor as the experts'.
        gradient_clip: maximum gradient norm per inner step; 0 disables it.
        input_noise: noise on the forcing inputs, as in `TrainConfig`.
        forcing, alpha_schedule, alpha, alpha_start, alpha_end,
            adaptive_interval, adaptive_gamma, forcing_interval: teacher
            forcing as in `TrainConfig`; α is kept per environment and the
            adaptive schedule counts inner steps that include the environment.
        normalization: "dataset" (each environment is standardised with the
            statistics stored in its dataset) or "pooled" (one mean and
            standard deviation over the training parts of all environments).
        validation_interval: outer steps between per-environment validation
            scores (free-run MSE over `validation_horizon` steps).
        checkpoint_interval: outer steps between saves of the run file.
        seed: seeds the initialisation, the batches, K-means and the noise.
        device: "auto", "cpu" or "cuda".
        fast_path: "auto" (fused CPU kernels when available), "on" or "off".
    """

    expert_model: str = "shplrnn"
    latent_dim: int = 3
    n_relu: int = 2
    hidden_dim: int = 40
    clipped: bool = True
    observation: str = "identity"
    experts: int = 2
    context_dim: int = 4
    conditioning: str = "linear"
    hypernetwork_std: float = 0.01
    gate: str = "mixer"
    outer_steps: int = 1200
    context_steps: int = 12
    model_steps: int = 12
    proximal_weight: float = 10.0
    gate_interval: int = 1
    gate_warmup: int = 150
    gate_guard: bool = True
    gate_batch_size: int = 4
    gate_noise: float = 0.01
    gate_noise_copies: int = 8
    load_balance_weight: float = 0.01
    environments_per_batch: int = 8
    batch_size: int = 8
    sequence_length: int = 50
    learning_rate_start: float = 1e-3
    learning_rate_end: float = 1e-4
    context_learning_rate: float = 1e-2
    gradient_clip: float = 10.0
    input_noise: float = 0.0
    forcing: str = "gtf"
    alpha_schedule: str = "adaptive"
    alpha: float = 0.1
    alpha_start: float = 0.5
    alpha_end: float = 0.05
    adaptive_interval: int = 5
    adaptive_gamma: float = 0.99
    forcing_interval: int = 16
    normalization: str = "dataset"
    validation_interval: int = 25
    validation_horizon: int = 25
    checkpoint_interval: int = 50
    seed: int = 0
    device: str = "cpu"
    fast_path: str = "auto"

    def __post_init__(self) -> None:
        self._check_choices()
        self._check_numbers()
        # The expert architecture is checked by the single-model configuration.
        self.expert_train_config()

    def _check_choices(self) -> None:
        choices = {
            "expert_model": ("alrnn", "shplrnn"), "gate": GATES, "conditioning": CONDITIONINGS,
            "normalization": NORMALIZATIONS, "forcing": FORCING_MODES, "alpha_schedule": ALPHA_SCHEDULES,
            "device": ("auto", "cpu", "cuda"), "fast_path": ("auto", "on", "off"),
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InputError(f"Invalid {name.replace('_', ' ')} {value!r}; expected one of: {', '.join(allowed)}.")

    def _check_numbers(self) -> None:
        at_least_one = ("experts", "context_dim", "outer_steps", "gate_interval", "gate_batch_size",
                        "gate_noise_copies", "environments_per_batch", "batch_size", "sequence_length",
                        "validation_interval", "validation_horizon", "checkpoint_interval")
        for name in at_least_one:
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}.")
        for name in ("context_steps", "model_steps", "gate_warmup"):
            if getattr(self, name) < 0:
                raise InputError(f"{name.replace('_', ' ')} must be zero or positive, got {getattr(self, name)}.")
        if self.context_steps + self.model_steps == 0:
            raise InputError("An outer step needs at least one inner step: set context_steps or model_steps "
                             "(--mixer-option) above 0.")
        for name in ("hypernetwork_std", "proximal_weight", "gate_noise", "load_balance_weight"):
            if getattr(self, name) < 0:
                raise InputError(f"{name.replace('_', ' ')} must be zero or positive, got {getattr(self, name)}.")
        for name in ("learning_rate_start", "learning_rate_end", "context_learning_rate"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name.replace('_', ' ')} must be positive, got {getattr(self, name)}.")

    def expert_train_config(self) -> TrainConfig:
        """Return the single-model configuration of one expert: architecture and teacher forcing.

        Evaluation and analysis of one environment's model take this
        configuration, so they see a MixER environment as an ordinary run.
        """
        return TrainConfig(
            model=self.expert_model, latent_dim=self.latent_dim, n_relu=self.n_relu, hidden_dim=self.hidden_dim,
            clipped=self.clipped, observation=self.observation, epochs=self.outer_steps,
            batch_size=self.batch_size, sequence_length=self.sequence_length,
            learning_rate_start=self.learning_rate_start, learning_rate_end=self.learning_rate_end,
            gradient_clip=self.gradient_clip, input_noise=self.input_noise, forcing=self.forcing,
            alpha_schedule=self.alpha_schedule, alpha=self.alpha, alpha_start=self.alpha_start,
            alpha_end=self.alpha_end, adaptive_interval=self.adaptive_interval,
            adaptive_gamma=self.adaptive_gamma, forcing_interval=self.forcing_interval,
            validation_horizon=self.validation_horizon, seed=self.seed, device=self.device,
            fast_path=self.fast_path,
        )

    def expert_model_config(self, obs_dim: int) -> dict[str, Any]:
        """Return the `build_model` arguments of one expert for data of dimension `obs_dim`."""
        return self.expert_train_config().model_config(obs_dim)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "MixerConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InputError(f"Unknown MixER options: {', '.join(sorted(unknown))}.")
        return cls(**values)
