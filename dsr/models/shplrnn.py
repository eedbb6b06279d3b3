"""The shallow PLRNN (shPLRNN) and its clipped variant.

    z_t = A ⊙ z_{t−1} + W₁ ReLU(W₂ z_{t−1} + h₂) + h₁                        (standard)
    z_t = A ⊙ z_{t−1} + W₁ [ReLU(W₂ z_{t−1} + h₂) − ReLU(W₂ z_{t−1})] + h₁   (clipped)

with a diagonal A (a vector), W₁ of shape M x L, W₂ of shape L x M and L
hidden units. In the clipped form the bracket is bounded (by |h₂|
elementwise), so every orbit stays bounded when max|A| < 1; this needs h₂ ≠ 0
from the start. A subregion is the on/off pattern of the L hidden units
(standard), or of both ReLU terms, 2L units (clipped). Within it
F(z) = (diag(A) + W₁ (D₁ − D₂) W₂) z + W₁ D₁ h₂ + h₁, with D₂ = 0 for the
standard form.

Reference: F. Hess, Z. Monfared, M. Brenner, D. Durstewitz, "Generalized
Teacher Forcing for Learning Chaotic Dynamics", ICML 2023.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsr.models.base import ReconstructionModel, normalized_positive_definite_diagonal
from dsr.models.observation import make_observation


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator | None) -> torch.Tensor:
    bound = 1.0 / fan_in**0.5
    return (2.0 * torch.rand(*shape, generator=generator) - 1.0) * bound


class ShallowPLRNN(ReconstructionModel):
    """Shallow PLRNN with M latent and L hidden units, optionally clipped.

    Initialisation: A as for the AL-RNN (diagonal of a normalised positive
    definite matrix, entries in (0, 1]); W₁, W₂ and h₂ uniform in
    ±1/√fan-in (h₂ non-zero, as the clipped form needs); h₁ = 0.
    """

    def __init__(self, obs_dim: int, latent_dim: int, hidden_dim: int, clipped: bool = False,
                 observation: str = "identity", generator: torch.Generator | None = None) -> None:
        super().__init__()
        if hidden_dim < 1:
            raise ValueError(f"the hidden width L must be at least 1, got {hidden_dim}")
        self.obs_dim, self.latent_dim, self.hidden_dim, self.clipped = obs_dim, latent_dim, hidden_dim, clipped
        self.A = nn.Parameter(normalized_positive_definite_diagonal(latent_dim, generator))
        self.W1 = nn.Parameter(_uniform((latent_dim, hidden_dim), hidden_dim, generator))
        self.W2 = nn.Parameter(_uniform((hidden_dim, latent_dim), latent_dim, generator))
        self.h1 = nn.Parameter(torch.zeros(latent_dim))
        self.h2 = nn.Parameter(_uniform((hidden_dim,), latent_dim, generator))
        self.observation = make_observation(observation, obs_dim, latent_dim, generator)

    @property
    def n_switches(self) -> int:
        return 2 * self.hidden_dim if self.clipped else self.hidden_dim

    def step(self, z: torch.Tensor) -> torch.Tensor:
        projected = z @ self.W2.T
        hidden = torch.relu(projected + self.h2)
        if self.clipped:
            hidden = hidden - torch.relu(projected)
        return self.A * z + hidden @ self.W1.T + self.h1

    def subregion(self, z: torch.Tensor) -> torch.Tensor:
        projected = z @ self.W2.T
        shifted_on = projected + self.h2 > 0
        if not self.clipped:
            return shifted_on
        return torch.cat([shifted_on, projected > 0], dim=-1)

    def _effective_slopes(self, pattern: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (D₁ − D₂, D₁) as vectors of length L for a subregion pattern."""
        pattern = pattern.to(self.W1.dtype)
        shifted = pattern[..., : self.hidden_dim]
        if not self.clipped:
            return shifted, shifted
        return shifted - pattern[..., self.hidden_dim:], shifted

    def jacobian(self, z: torch.Tensor) -> torch.Tensor:
        slopes, _ = self._effective_slopes(self.subregion(z))
        return torch.diag_embed(self.A.expand_as(z)) + (self.W1 * slopes.unsqueeze(-2)) @ self.W2

    def affine_map(self, pattern: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        slopes, shifted = self._effective_slopes(torch.as_tensor(pattern, dtype=torch.bool, device=self.W1.device))
        jacobian = torch.diag(self.A) + (self.W1 * slopes) @ self.W2
        offset = self.W1 @ (shifted * self.h2) + self.h1
        return jacobian, offset

    def config(self) -> dict[str, Any]:
        return {"model": "shplrnn", "obs_dim": self.obs_dim, "latent_dim": self.latent_dim,
                "hidden_dim": self.hidden_dim, "clipped": self.clipped, "observation": self.observation.kind}
