"""Teacher forcing during training: the forced rollout and the schedules of the forcing strength α.

Generalized teacher forcing (GTF; Hess et al., ICML 2023): after every step
the model's state z_t = F(z̃_{t−1}) is pulled towards the state ẑ_t inferred
from the observation x_t,

    z̃_t = (1 − α) z_t + α ẑ_t,

and the loss compares the predictions made *before* forcing, G(z_t), with x_t.
α = 1 is classical teacher forcing and α = 0 a free run. Sparse teacher
forcing (Mikhaeil et al., NeurIPS 2022; the AL-RNN paper's default) replaces
the observed part of the state by the data (α = 1) every τ steps and lets the
model run freely in between.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dsr.models.base import ReconstructionModel


def forced_rollout(
    model: ReconstructionModel,
    x: torch.Tensor,
    alpha: float,
    mode: str = "gtf",
    interval: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the model along observed sequences with teacher forcing.

    Args:
        x: observations, shape (B, T + 1, N); x[:, 0] sets the initial state.
        alpha: forcing strength for mode "gtf".
        mode: "gtf" (every step, strength α) or "sparse" (α = 1 every
            `interval` steps, no forcing otherwise).

    Returns:
        predictions G(z_t) for t = 1..T, shape (B, T, N), made before forcing,
        and the unforced states z_t, shape (B, T, M).
    """
    z = model.initial_state(x[:, 0])
    predictions, states = [], []
    for t in range(1, x.shape[1]):
        z = model.step(z)
        predictions.append(model.observe(z))
        states.append(z)
        if mode == "gtf":
            z = model.observation.force(z, x[:, t], alpha)
        elif t % interval == 0:
            z = model.observation.force(z, x[:, t], 1.0)
    return torch.stack(predictions, dim=1), torch.stack(states, dim=1)


def jacobian_norm_estimate(model: ReconstructionModel, states: torch.Tensor) -> float:
    """Return G: per sequence the geometric mean over time of ‖J(z_t)‖₂, then the maximum over sequences.

    `states` (B, T, M) should be data-inferred states; ‖·‖₂ is the spectral
    norm (largest singular value). G bounds the average growth of the
    training gradients per step, which is what α has to keep in check.
    """
    with torch.no_grad():
        # The Jacobian is constant within a subregion, and a batch visits far
        # fewer subregions than it has states (at most 2^P for the AL-RNN),
        # so the singular values are computed once per distinct subregion.
        n_states = states.shape[:-1].numel()
        patterns = model.subregion(states).reshape(n_states, model.n_switches)
        if model.n_switches == 0:  # a linear model: one subregion
            patterns = torch.zeros(n_states, 1, dtype=torch.bool, device=states.device)
        distinct, index = torch.unique(patterns, dim=0, return_inverse=True)
        representatives = torch.zeros(len(distinct), dtype=torch.long, device=states.device)
        representatives.scatter_(0, index, torch.arange(len(index), device=states.device))
        flat_states = states.reshape(n_states, states.shape[-1])
        distinct_norms = torch.linalg.matrix_norm(model.jacobian(flat_states[representatives]), ord=2)
        norms = distinct_norms[index].reshape(states.shape[:-1])
        per_sequence = torch.exp(torch.log(norms.clamp_min(1e-30)).mean(dim=1))
    return float(per_sequence.max())


class AlphaController:
    """The forcing strength α over training, for one of three schedules.

    - constant: α fixed.
    - annealing: geometric from `alpha_start` at the first epoch to
      `alpha_end` at the last.
    - adaptive (Hess et al., ICML 2023): every `interval` batches, G is
      estimated on the batch's data-inferred states (`jacobian_norm_estimate`)
      and α* = max(0, 1 − 1/G). If α* exceeds α, α jumps to α* at once,
      otherwise it decays towards it: α ← γ α + (1 − γ) α*.

    The state (current α, batch count) is saved with checkpoints so a resumed
    run continues exactly.
    """

    def __init__(self, schedule: str, alpha: float, alpha_start: float, alpha_end: float, epochs: int,
                 interval: int = 5, gamma: float = 0.999) -> None:
        self.schedule, self.interval, self.gamma = schedule, interval, gamma
        self.alpha_start, self.alpha_end, self.epochs = alpha_start, alpha_end, epochs
        self.alpha = alpha if schedule != "annealing" else alpha_start
        self.batches = 0
        self.last_estimate = math.nan

    def start_epoch(self, epoch: int) -> None:
        if self.schedule == "annealing":
            fraction = epoch / max(self.epochs - 1, 1)
            self.alpha = self.alpha_start * (self.alpha_end / self.alpha_start) ** fraction

    def after_batch(self, model: ReconstructionModel, inferred_states: torch.Tensor) -> None:
        if self.schedule == "adaptive" and self.batches % self.interval == 0:
            self.update_adaptive(jacobian_norm_estimate(model, inferred_states))
        self.batches += 1

    def update_adaptive(self, norm_estimate: float) -> None:
        """Apply the adaptive rule for one estimate G."""
        self.last_estimate = norm_estimate
        target = max(0.0, 1.0 - 1.0 / norm_estimate) if norm_estimate > 0 else 0.0
        if target > self.alpha:
            self.alpha = target
        else:
            self.alpha = self.gamma * self.alpha + (1.0 - self.gamma) * target

    def state_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "batches": self.batches, "last_estimate": self.last_estimate}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.alpha, self.batches = float(state["alpha"]), int(state["batches"])
        self.last_estimate = float(state["last_estimate"])
