"""Observation models: how latent states z map to observations x, and back for teacher forcing.

`IdentityObservation` (N ≤ M): the first N latent units are the prediction,
x = z[:N], and forcing mixes data into those units only. The initial state of
a sequence is z_0 = [x_0, L x_0] with a learned (M − N) x N matrix L.

`AffineObservation`: x = B z + b with a learned N x M matrix B and bias b,
for data whose dimension N exceeds what the latent should hold. The state
inferred from an observation is the least-squares inverse ẑ = B⁺ (x − b),
which is also the initial state.
"""

from __future__ import annotations

import torch
from torch import nn


class IdentityObservation(nn.Module):
    """x = z[:N]; inferred state: data in the first N units, hidden units kept."""

    kind = "identity"

    def __init__(self, obs_dim: int, latent_dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if obs_dim > latent_dim:
            raise ValueError(f"the identity readout needs N <= M, got N = {obs_dim}, M = {latent_dim}")
        self.obs_dim, self.latent_dim = obs_dim, latent_dim
        hidden = latent_dim - obs_dim
        # Small random L: hidden units start near zero but not all equal.
        self.L = nn.Parameter(0.01 * torch.randn(hidden, obs_dim, generator=generator))

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        return z[..., : self.obs_dim]

    def initial_state(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x @ self.L.T], dim=-1)

    def force(self, z: torch.Tensor, x: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
        """Generalized teacher forcing z̃ = (1 − α) z + α ẑ on the observed units."""
        observed = (1.0 - alpha) * z[..., : self.obs_dim] + alpha * x
        return torch.cat([observed, z[..., self.obs_dim:]], dim=-1)

    def forcing_mask(self) -> torch.Tensor:
        """1 for latent units that forcing touches, 0 for the rest."""
        mask = torch.zeros(self.latent_dim, dtype=self.L.dtype, device=self.L.device)
        mask[: self.obs_dim] = 1.0
        return mask


class AffineObservation(nn.Module):
    """x = B z + b; inferred state ẑ = B⁺ (x − b) in all M units."""

    kind = "affine"

    def __init__(self, obs_dim: int, latent_dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.obs_dim, self.latent_dim = obs_dim, latent_dim
        bound = 1.0 / latent_dim**0.5
        self.B = nn.Parameter((2 * torch.rand(obs_dim, latent_dim, generator=generator) - 1) * bound)
        self.b = nn.Parameter(torch.zeros(obs_dim))

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.B.T + self.b

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        # The pseudo-inverse is differentiable, so B also learns from the forcing path.
        return (x - self.b) @ torch.linalg.pinv(self.B).T

    def initial_state(self, x: torch.Tensor) -> torch.Tensor:
        return self.infer(x)

    def force(self, z: torch.Tensor, x: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
        """Generalized teacher forcing z̃ = (1 − α) z + α B⁺(x − b) on all units."""
        return (1.0 - alpha) * z + alpha * self.infer(x)

    def forcing_mask(self) -> torch.Tensor:
        return torch.ones(self.latent_dim, dtype=self.B.dtype, device=self.B.device)


def make_observation(kind: str, obs_dim: int, latent_dim: int, generator: torch.Generator | None = None) -> nn.Module:
    """Build the observation model called `kind` ("identity" or "affine")."""
    if kind == "identity":
        return IdentityObservation(obs_dim, latent_dim, generator)
    if kind == "affine":
        return AffineObservation(obs_dim, latent_dim, generator)
    raise ValueError(f"unknown observation model {kind!r}; expected 'identity' or 'affine'")
