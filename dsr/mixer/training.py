"""The MixER training loop: proximal alternating minimisation of contexts and experts, with gate updates.

Read `MixerTrainer.run` top to bottom. Every outer step

1. remembers the contexts ξ₀ and the expert (and naive gate) parameters θ₀,
2. takes `context_steps` Adam steps on the contexts of the loss
   L(θ, ξ) + (λ/2) mean_e ‖ξ_e − ξ₀_e‖² (environments of the batch),
3. takes `model_steps` RAdam steps on the experts of L(θ, ξ) + (λ/2) ‖θ − θ₀‖²,

where L is the mean GTF loss over a batch of environments: a random one and
its nearest neighbours in context space. Each environment's GTF loss is the
MSE between its model's predictions made before forcing and the next
observations, exactly as in `dsr.training.trainer`. With the "mixer" gate each
environment uses the expert its gate routes it to, and the gate is refitted
every `gate_interval` inner steps (`dsr.mixer.gate`). With the "naive" gate
each environment's loss is Σ_k g_k(ξ_e) L_k(e) over all experts, and G
is trained by gradient descent together with the experts, plus the
load-balancing term K Σ_k f_k P_k of the Switch Transformer (Fedus et al.,
JMLR 2022), f_k the fraction of environments routed to expert k and P_k the
mean gate probability of expert k over all environments.

Persistence lives in `dsr.mixer.storage` and is reached through callbacks.
Each saved state also contains the optimiser, sampler, random-number and α
states, so a run resumed from it (`restore`) continues exactly as the
uninterrupted run would.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from dsr.errors import InputError, NumericalError, TrainingInterrupted
from dsr.mixer.config import MixerConfig
from dsr.mixer.environments import Environment, nearest_environments
from dsr.mixer.experts import make_experts
from dsr.mixer.gate import LinearGate, update_gate
from dsr.mixer.rollout import BatchedRollout, choose_implementation
from dsr.training.batches import SubsequenceSampler
from dsr.training.forcing import AlphaController, jacobian_norm_estimate
from dsr.training.trainer import resolve_device
from dsr.training.validation import prediction_score

logger = logging.getLogger(__name__)

# Per outer step: one value, or one row per environment (E) or per environment and expert (E, K).
OUTER_FIELDS = ("outer_step", "seconds", "learning_rate", "context_loss", "model_loss")
OUTER_ARRAYS = ("loss", "loss_matrix", "alpha", "contexts")
# Per gate update (mixer gate) or per outer step (naive gate, one expert).
ROUTING_FIELDS = ("step", "routing", "clusters", "targets", "assignment", "reseeded", "accepted")


@dataclass
class MixerState:
    """The trained quantities, the history and the training state at the end of an outer step.

    Attributes:
        outer_step: outer steps finished.
        experts: state dict of each expert (base parameters and hypernetwork).
        contexts: (E, d) the environments' contexts.
        gate: (d + 1, K) the gate matrix G.
        centroids: (K, d) the last K-means centroids, or None.
        routing: (E,) the expert each environment uses now.
        history: per outer step, `OUTER_FIELDS` and `OUTER_ARRAYS`.
        routing_history: per gate update, `ROUTING_FIELDS`.
        validation_history: "outer_step" and "validation" (E,) rows.
        implementation: "fused" or "vmap", the rollout that trained it.
        training: the optimisers', samplers', random generators' and α
            controllers' states and the inner step count, for resuming. If it
            is None, `restore` keeps the trainer's own.
    """

    outer_step: int
    experts: list[dict[str, torch.Tensor]]
    contexts: torch.Tensor
    gate: torch.Tensor
    centroids: np.ndarray | None
    routing: np.ndarray
    history: dict[str, list]
    routing_history: dict[str, list]
    validation_history: dict[str, list]
    implementation: str = "vmap"
    training: dict[str, Any] | None = None


@dataclass
class MixerCallbacks:
    """Optional hooks: on_outer_step(trainer, record) after each outer step; on_state(state, reason) to save.

    reason is "checkpoint", "final", "interrupted" or "diverged".
    """

    on_outer_step: Callable[["MixerTrainer", dict], None] | None = None
    on_state: Callable[[MixerState, str], None] | None = None


def _seed(*parts: int) -> int:
    """Return an independent 63-bit seed for the stream named by `parts`."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> np.uint64(1))


class MixerTrainer:
    """Trains K context-conditioned experts, the contexts and the gate on a list of environments."""

    def __init__(self, config: MixerConfig, environments: list[Environment]) -> None:
        if len(environments) < config.experts:
            raise InputError(f"MixER with K = {config.experts} experts needs at least {config.experts} environments, "
                             f"got {len(environments)}. Give more datasets or lower --experts.")
        self.config, self.environments = config, environments
        self.device = resolve_device(config.device)
        obs_dim = environments[0].dataset.n_variables
        generator = torch.Generator().manual_seed(config.seed)
        self.experts = make_experts(config.expert_model_config(obs_dim), config.experts, config.context_dim,
                                    config.conditioning, config.hypernetwork_std, generator).to(self.device)
        self.contexts = torch.nn.Parameter(torch.zeros(len(environments), config.context_dim, device=self.device))
        self.gate = LinearGate(config.context_dim, config.experts).to(self.device)
        self.implementation = choose_implementation(self.experts[0], self.device, config.fast_path)
        self.rollout = BatchedRollout(self.implementation)

        window = config.sequence_length
        self.samplers = [SubsequenceSampler(env.train, window, config.batch_size, _seed(config.seed, e, 0)).to(self.device)
                         for e, env in enumerate(environments)]
        self.gate_samplers = [SubsequenceSampler(env.train, window, config.gate_batch_size,
                                                 _seed(config.seed, e, 1)).to(self.device)
                              for e, env in enumerate(environments)]
        self.rng = np.random.default_rng(_seed(config.seed, 2))
        self.noise_generator = torch.Generator().manual_seed(_seed(config.seed, 3))
        self.alphas = [AlphaController(config.alpha_schedule, config.alpha, config.alpha_start, config.alpha_end,
                                       config.outer_steps, config.adaptive_interval, config.adaptive_gamma)
                       for _ in environments]

        self.context_optimizer = torch.optim.Adam([self.contexts], lr=config.context_learning_rate)
        model_parameters = list(self.experts.parameters())
        if config.gate == "naive":
            model_parameters += list(self.gate.parameters())
        self.model_optimizer = torch.optim.RAdam(model_parameters, lr=config.learning_rate_start)

        self.outer_step, self.inner_step = 0, 0
        self.routing = np.zeros(len(environments), dtype=np.int64)
        self.centroids: np.ndarray | None = None
        self.last_loss_matrix: tuple[int, np.ndarray] | None = None
        self.history: dict[str, list] = {name: [] for name in OUTER_FIELDS + OUTER_ARRAYS}
        self.routing_history: dict[str, list] = {name: [] for name in ROUTING_FIELDS}
        self.validation_history: dict[str, list] = {"outer_step": [], "validation": []}

    @property
    def n_environments(self) -> int:
        return len(self.environments)

    # The loop --------------------------------------------------------------

    def run(self, callbacks: MixerCallbacks | None = None) -> MixerState:
        """Train for `config.outer_steps` outer steps and return the final state.

        Raises NumericalError when a loss or a parameter becomes non-finite
        and TrainingInterrupted on Ctrl-C, after handing the state of the
        last finished outer step to `on_state`.
        """
        callbacks = callbacks or MixerCallbacks()
        config = self.config
        logger.info("training MixER (%s gate, K = %d, d = %d) on %d environments with the %s rollout, "
                    "from outer step %d to %d", config.gate, config.experts, config.context_dim,
                    self.n_environments, self.implementation, self.outer_step, config.outer_steps)
        if config.gate == "naive":
            self.routing = self.gate.route(self.contexts.detach())
        last_good = self.state()

        try:
            while self.outer_step < config.outer_steps:
                record = self.train_outer_step()
                self.outer_step += 1
                # A phase with no steps (context_steps or model_steps 0) records NaN, which does not mean divergence.
                losses = [record[name] for name, steps in (("context_loss", config.context_steps),
                                                           ("model_loss", config.model_steps)) if steps > 0]
                if not all(math.isfinite(loss) for loss in losses) or not self._finite():
                    diverged_step = self.outer_step
                    self.restore(last_good)
                    self._emit(callbacks, last_good, "diverged")
                    raise NumericalError(
                        f"MixER training diverged in outer step {diverged_step} (losses {losses}). "
                        f"The state after outer step {last_good.outer_step} was kept. Try a lower --lr, "
                        "a lower --grad-clip or a stronger forcing α."
                    )
                if self.outer_step % config.validation_interval == 0 or self.outer_step == config.outer_steps:
                    self.validate()
                if callbacks.on_outer_step:
                    callbacks.on_outer_step(self, record)
                last_good = self.state()
                if self.outer_step % config.checkpoint_interval == 0 and self.outer_step < config.outer_steps:
                    self._emit(callbacks, last_good, "checkpoint")
        except KeyboardInterrupt:
            self.restore(last_good)
            self._emit(callbacks, last_good, "interrupted")
            raise TrainingInterrupted(
                f"Interrupted; saved the state after outer step {last_good.outer_step}. Continue with the same "
                "command and --resume."
            ) from None

        final = self.state()
        self._emit(callbacks, final, "final")
        logger.info("finished MixER training after %d outer steps; routing %s", self.outer_step, final.routing.tolist())
        return final

    def train_outer_step(self) -> dict:
        """Run one outer step (context steps, then model steps), record its history row and return it."""
        config = self.config
        started = time.perf_counter()
        decay = (config.learning_rate_end / config.learning_rate_start) ** (
            self.outer_step / max(config.outer_steps - 1, 1))
        for group in self.model_optimizer.param_groups:
            group["lr"] = config.learning_rate_start * decay
        for group in self.context_optimizer.param_groups:
            group["lr"] = config.context_learning_rate * decay
        for controller in self.alphas:
            controller.start_epoch(self.outer_step)
        if self.gate_active and self.outer_step == config.gate_warmup and config.gate_warmup > 0:
            self.split_experts()

        # The proximal anchors: the values at the start of this outer step.
        anchor_contexts = self.contexts.detach().clone()
        anchor_model = [p.detach().clone() for group in self.model_optimizer.param_groups for p in group["params"]]

        context_losses = [self.inner_update("context", anchor_contexts, anchor_model)
                          for _ in range(config.context_steps)]
        model_losses = [self.inner_update("model", anchor_contexts, anchor_model) for _ in range(config.model_steps)]

        if not self.gate_active:
            self._record_routing(self.routing, None)
        matrix = self.loss_matrix()
        record = {
            "outer_step": self.outer_step + 1, "seconds": time.perf_counter() - started,
            "learning_rate": config.learning_rate_start * decay,
            "context_loss": float(np.mean(context_losses)) if context_losses else math.nan,
            "model_loss": float(np.mean(model_losses)) if model_losses else math.nan,
            "loss": matrix[np.arange(self.n_environments), self.routing],
            "loss_matrix": matrix,
            "alpha": np.array([controller.alpha for controller in self.alphas]),
            "contexts": self.contexts.detach().cpu().numpy().copy(),
        }
        for name in OUTER_FIELDS + OUTER_ARRAYS:
            self.history[name].append(record[name])
        return record

    def inner_update(self, phase: str, anchor_contexts: torch.Tensor, anchor_model: list[torch.Tensor]) -> float:
        """Take one optimiser step on the contexts ("context") or the experts ("model"); return the data loss."""
        config = self.config
        batch = self.sample_environments()
        x = torch.stack([self.samplers[e].sample() for e in batch])
        inputs = x
        if config.input_noise > 0:
            noise = torch.randn(x.shape, generator=self.noise_generator).to(self.device)
            inputs = x + config.input_noise * noise

        data_loss, states = self.batch_loss(batch, inputs, x)
        if phase == "context":
            penalty = ((self.contexts[batch] - anchor_contexts[batch]) ** 2).sum(dim=1).mean()
            optimizer = self.context_optimizer
            parameters = [self.contexts]
        else:
            current = [p for group in self.model_optimizer.param_groups for p in group["params"]]
            penalty = sum(((p - p0) ** 2).sum() for p, p0 in zip(current, anchor_model))
            optimizer = self.model_optimizer
            parameters = current
        loss = data_loss + 0.5 * config.proximal_weight * penalty

        # Both optimisers are cleared: the backward pass also reaches the
        # parameters of the phase that does not step.
        self.context_optimizer.zero_grad(set_to_none=True)
        self.model_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.gradient_clip > 0:
            torch.nn.utils.clip_grad_norm_(parameters, config.gradient_clip)
        optimizer.step()
        self.inner_step += 1

        self._update_alphas(batch, inputs, states)
        if config.gate == "naive":
            self.routing = self.gate.route(self.contexts.detach())
        elif self.gate_active and self.inner_step % config.gate_interval == 0:
            self.update_gate()
        return float(data_loss.detach())

    def sample_environments(self) -> np.ndarray:
        """Return the environments of one inner step: a random anchor and its nearest neighbours in context space."""
        anchor = int(self.rng.integers(self.n_environments))
        return nearest_environments(self.contexts.detach().cpu().numpy(), anchor, self.config.environments_per_batch,
                                    self.rng)

    def batch_loss(self, batch: np.ndarray, inputs: torch.Tensor,
                   targets: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """Return the mean GTF loss over the batch's environments and each environment's unforced states.

        inputs and targets are (E_b, B, T + 1, N); inputs may carry noise.
        """
        alphas = [self.alphas[e].alpha if self.config.forcing == "gtf" else 1.0 for e in batch]
        if self.config.gate == "naive":
            return self._naive_loss(batch, inputs, targets, alphas)

        losses, states = [], {}
        for expert_index in np.unique(self.routing[batch]):
            members = np.nonzero(self.routing[batch] == expert_index)[0]
            per_environment, expert_states = self._expert_losses(int(expert_index), batch[members], inputs[members],
                                                                 targets[members], [alphas[m] for m in members])
            losses.append(per_environment)
            for position, member in enumerate(members):
                states[int(batch[member])] = expert_states[position]
        return torch.cat(losses).mean(), states

    def _naive_loss(self, batch, inputs, targets, alphas):
        """Return mean_e Σ_k g_k(ξ_e) L_k(e) plus the weighted load-balancing term, and the routed states."""
        losses, all_states = [], []
        for expert_index in range(self.config.experts):
            per_environment, expert_states = self._expert_losses(expert_index, batch, inputs, targets, alphas)
            losses.append(per_environment)
            all_states.append(expert_states)
        losses = torch.stack(losses, dim=1)
        probabilities = self.gate.probabilities(self.contexts[batch])
        mixture = (probabilities * losses).sum(dim=1).mean()

        everyone = self.gate.probabilities(self.contexts)
        routed = torch.bincount(everyone.argmax(dim=1), minlength=self.config.experts).to(everyone.dtype)
        balance = self.config.experts * (routed / len(everyone) * everyone.mean(dim=0)).sum()
        states = {int(e): all_states[int(self.routing[e])][i] for i, e in enumerate(batch)}
        return mixture + self.config.load_balance_weight * balance, states

    def _expert_losses(self, expert_index: int, environments: np.ndarray, inputs: torch.Tensor, targets: torch.Tensor,
                       alphas: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the per-environment MSE (E_b,) of one expert and its unforced states."""
        expert = self.experts[expert_index]
        parameters = expert.parameters_for(self.contexts[environments])
        predictions, states = self.rollout(expert, parameters, inputs, alphas, self.config.forcing,
                                           self.config.forcing_interval)
        return ((predictions - targets[:, :, 1:]) ** 2).mean(dim=(1, 2, 3)), states

    def _update_alphas(self, batch: np.ndarray, inputs: torch.Tensor, states: dict[int, torch.Tensor]) -> None:
        """Advance the adaptive α of each environment of the batch, as `AlphaController.after_batch` does."""
        config = self.config
        if config.alpha_schedule != "adaptive" or config.forcing != "gtf":
            return
        for position, environment in enumerate(batch):
            controller = self.alphas[environment]
            if controller.batches % controller.interval == 0:
                model = self.environment_model(int(environment))
                inferred = model.observation.force(states[int(environment)].detach(), inputs[position, :, 1:], 1.0)
                controller.update_adaptive(jacobian_norm_estimate(model, inferred))
            controller.batches += 1

    # Gate ------------------------------------------------------------------

    @property
    def gate_active(self) -> bool:
        """Whether the MixER gate update runs in the current outer step (mixer gate, K > 1, after the warm-up)."""
        config = self.config
        return config.gate == "mixer" and config.experts > 1 and self.outer_step >= config.gate_warmup

    def split_experts(self) -> None:
        """End the warm-up: every expert starts as a copy of expert 0, which alone has trained so far.

        With equal experts the first assignment of clusters is arbitrary, and
        each expert then specialises on the environments routed to it.
        """
        logger.info("outer step %d: warm-up over; experts 1..%d start as copies of expert 0",
                    self.outer_step, self.config.experts - 1)
        values = self.experts[0].state_dict()
        for expert in list(self.experts)[1:]:
            expert.load_state_dict(values)

    def loss_matrix(self) -> np.ndarray:
        """Return the GTF loss of every expert on every environment (E, K), on fresh windows; cached per inner step."""
        if self.last_loss_matrix is not None and self.last_loss_matrix[0] == self.inner_step:
            return self.last_loss_matrix[1]
        x = torch.stack([sampler.sample() for sampler in self.gate_samplers])
        alphas = [controller.alpha if self.config.forcing == "gtf" else 1.0 for controller in self.alphas]
        everyone = np.arange(self.n_environments)
        with torch.no_grad():
            columns = [self._expert_losses(k, everyone, x, x, alphas)[0] for k in range(self.config.experts)]
        matrix = torch.stack(columns, dim=1).cpu().numpy().astype(np.float64)
        self.last_loss_matrix = (self.inner_step, matrix)
        return matrix

    def update_gate(self) -> None:
        """Refit the gate from the loss matrix and the contexts, and route every environment by it."""
        # In the first outer step after the warm-up the experts are still
        # copies of one another, so the guard would only compare noise.
        guard = self.config.gate_guard and self.outer_step > self.config.gate_warmup
        update = update_gate(self.gate, self.contexts.detach().cpu().numpy(), self.loss_matrix(), self.rng,
                             self.centroids, self.config.gate_noise, self.config.gate_noise_copies,
                             current=self.routing, guard=guard)
        self.centroids = update.centroids
        if not np.array_equal(update.routing, self.routing):
            logger.debug("inner step %d: routing changed to %s", self.inner_step, update.routing.tolist())
        self.routing = update.routing
        self._record_routing(update.routing, update)

    def _record_routing(self, routing: np.ndarray, update) -> None:
        n, k = self.n_environments, self.config.experts
        self.routing_history["step"].append(self.inner_step)
        self.routing_history["routing"].append(np.asarray(routing).copy())
        self.routing_history["clusters"].append(update.clusters if update is not None else np.full(n, -1))
        self.routing_history["targets"].append(update.targets if update is not None else np.full(n, -1))
        self.routing_history["assignment"].append(update.assignment if update is not None else np.full(k, -1))
        self.routing_history["reseeded"].append(update.reseeded if update is not None else 0)
        self.routing_history["accepted"].append(int(update.accepted) if update is not None else 1)

    # Models, validation, state ----------------------------------------------

    def environment_model(self, environment: int):
        """Return the ordinary model (detached) of one environment under its current routing."""
        expert = self.experts[int(self.routing[environment])]
        return expert.environment_model(self.contexts[environment].detach())

    def validate(self) -> np.ndarray:
        """Record and return the free-run prediction MSE of every environment on its validation part."""
        scores = np.array([prediction_score(self.environment_model(e), env.valid, self.config.validation_horizon)
                           if env.valid else math.nan for e, env in enumerate(self.environments)])
        self.validation_history["outer_step"].append(self.outer_step)
        self.validation_history["validation"].append(scores)
        logger.info("outer step %d: median validation MSE %.4g, routing %s", self.outer_step,
                    float(np.nanmedian(scores)) if np.isfinite(scores).any() else math.nan, self.routing.tolist())
        return scores

    def state(self) -> MixerState:
        return MixerState(
            outer_step=self.outer_step,
            experts=[copy.deepcopy(expert.state_dict()) for expert in self.experts],
            contexts=self.contexts.detach().clone(), gate=self.gate.weight.detach().clone(),
            centroids=None if self.centroids is None else self.centroids.copy(), routing=self.routing.copy(),
            history={k: list(v) for k, v in self.history.items()},
            routing_history={k: list(v) for k, v in self.routing_history.items()},
            validation_history={k: list(v) for k, v in self.validation_history.items()},
            implementation=self.implementation,
            training=self._training_state(),
        )

    def _training_state(self) -> dict[str, Any]:
        return {
            "context_optimizer": copy.deepcopy(self.context_optimizer.state_dict()),
            "model_optimizer": copy.deepcopy(self.model_optimizer.state_dict()),
            "samplers": [copy.deepcopy(sampler.state_dict()) for sampler in self.samplers],
            "gate_samplers": [copy.deepcopy(sampler.state_dict()) for sampler in self.gate_samplers],
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "noise_generator": self.noise_generator.get_state(),
            "alphas": [controller.state_dict() for controller in self.alphas],
            "inner_step": self.inner_step,
        }

    def restore(self, state: MixerState) -> None:
        self.outer_step = state.outer_step
        for expert, values in zip(self.experts, state.experts):
            expert.load_state_dict(values)
        with torch.no_grad():
            self.contexts.copy_(state.contexts)
            self.gate.weight.copy_(state.gate)
        self.centroids, self.routing = state.centroids, state.routing.copy()
        self.history = {k: list(v) for k, v in state.history.items()}
        self.routing_history = {k: list(v) for k, v in state.routing_history.items()}
        self.validation_history = {k: list(v) for k, v in state.validation_history.items()}
        if state.training is not None:
            self._restore_training_state(state.training)

    def _restore_training_state(self, training: dict[str, Any]) -> None:
        self.context_optimizer.load_state_dict(training["context_optimizer"])
        self.model_optimizer.load_state_dict(training["model_optimizer"])
        samplers = self.samplers + self.gate_samplers
        for sampler, values in zip(samplers, training["samplers"] + training["gate_samplers"]):
            sampler.load_state_dict(values)
        self.rng.bit_generator.state = training["rng"]
        self.noise_generator.set_state(training["noise_generator"])
        for controller, values in zip(self.alphas, training["alphas"]):
            controller.load_state_dict(values)
        self.inner_step = int(training["inner_step"])
        # The cached loss matrix belongs to an inner step of the old process.
        self.last_loss_matrix = None

    def _finite(self) -> bool:
        tensors = [self.contexts, self.gate.weight, *self.experts.parameters()]
        return all(bool(torch.isfinite(t).all()) for t in tensors)

    @staticmethod
    def _emit(callbacks: MixerCallbacks, state: MixerState, reason: str) -> None:
        if callbacks.on_state:
            callbacks.on_state(state, reason)
