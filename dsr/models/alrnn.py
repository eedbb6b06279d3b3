"""The almost-linear RNN (AL-RNN).

    z_t = A ⊙ z_{t−1} + W φ(z_{t−1}) + h,    φ(z) = (z_1, ..., z_{M−P}, ReLU(z_{M−P+1}), ..., ReLU(z_M)),

with a diagonal A (stored as a vector), a full M x M matrix W and a bias h.
Only the last P of the M units pass through a ReLU, so the map is linear in
each of at most 2^P subregions, which makes the model easy to read (symbolic
dynamics, fixed points, cycles). Within the subregion with on/off pattern d of
the ReLU units, F(z) = (diag(A) + W D) z + h with D = diag(1, ..., 1, d).

Reference: M. Brenner, C. J. Hemmer, Z. Monfared, D. Durstewitz,
"Almost-Linear RNNs Yield Highly Interpretable Symbolic Codes in Dynamical
Systems Reconstruction", NeurIPS 2024.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsr.models.base import ReconstructionModel, normalized_positive_definite_diagonal
from dsr.models.observation import make_observation


class ALRNN(ReconstructionModel):
    """AL-RNN with M latent units, of which the last P are ReLU units.

    Initialisation as published: A = diag(K / λ_max(K)) with K = RᵀR / M + I,
    W ~ N(0, 0.01²), h = 0.
    """

    def __init__(self, obs_dim: int, latent_dim: int, n_relu: int, observation: str = "identity",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= n_relu <= latent_dim:
            raise ValueError(f"the number of ReLU units P must be between 0 and M = {latent_dim}, got {n_relu}")
        self.obs_dim, self.latent_dim, self.n_relu = obs_dim, latent_dim, n_relu
        self.A = nn.Parameter(normalized_positive_definite_diagonal(latent_dim, generator))
        self.W = nn.Parameter(0.01 * torch.randn(latent_dim, latent_dim, generator=generator))
        self.h = nn.Parameter(torch.zeros(latent_dim))
        self.observation = make_observation(observation, obs_dim, latent_dim, generator)

    @property
    def n_switches(self) -> int:
        return self.n_relu

    def _phi(self, z: torch.Tensor) -> torch.Tensor:
        if self.n_relu == 0:
            return z
        linear, switched = z[..., : self.latent_dim - self.n_relu], z[..., self.latent_dim - self.n_relu:]
        return torch.cat([linear, torch.relu(switched)], dim=-1)

    def step(self, z: torch.Tensor) -> torch.Tensor:
        return self.A * z + self._phi(z) @ self.W.T + self.h

    def _slopes(self, pattern: torch.Tensor) -> torch.Tensor:
        """Diagonal of D: 1 for linear units, the on/off pattern for ReLU units."""
        ones = torch.ones(*pattern.shape[:-1], self.latent_dim - self.n_relu, dtype=self.W.dtype, device=self.W.device)
        return torch.cat([ones, pattern.to(self.W.dtype)], dim=-1)

    def jacobian(self, z: torch.Tensor) -> torch.Tensor:
        slopes = self._slopes(self.subregion(z))
        return torch.diag_embed(self.A.expand_as(z)) + self.W * slopes.unsqueeze(-2)

    def subregion(self, z: torch.Tensor) -> torch.Tensor:
        return z[..., self.latent_dim - self.n_relu:] > 0

    def affine_map(self, pattern: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        slopes = self._slopes(torch.as_tensor(pattern, dtype=torch.bool, device=self.W.device))
        return torch.diag(self.A) + self.W * slopes, self.h.clone()

    def config(self) -> dict[str, Any]:
        return {"model": "alrnn", "obs_dim": self.obs_dim, "latent_dim": self.latent_dim,
                "n_relu": self.n_relu, "observation": self.observation.kind}
