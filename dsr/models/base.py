"""The interface of every reconstruction model, and the pieces the models share.

A model is a piecewise-linear map z_t = F(z_{t-1}) on an M-dimensional latent
space plus an observation model. Training, generation, Lyapunov spectra and
symbolic analysis only call the methods declared here, so each model's
equations live in its own module and nowhere else.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def normalized_positive_definite_diagonal(latent_dim: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return the diagonal of K / λ_max(K) with K = RᵀR / M + I and R standard normal (M x M).

    This is the initialisation of A published for the PLRNN family (Brenner et
    al., NeurIPS 2024, following Schmidt et al., ICLR 2021): entries lie in
    (0, 1], so the linear part starts stable but with slow directions.
    """
    r = torch.randn(latent_dim, latent_dim, generator=generator, dtype=torch.float64)
    k = r.T @ r / latent_dim + torch.eye(latent_dim, dtype=torch.float64)
    k = k / torch.linalg.eigvalsh(k).max()
    return torch.diagonal(k).to(torch.get_default_dtype()).clone()


class ReconstructionModel(nn.Module):
    """Base class: a latent map F, its Jacobian and subregions, and an observation model.

    Subclasses implement `step`, `jacobian`, `subregion`, `affine_map` and
    `config`; the rest is shared.
    """

    latent_dim: int
    obs_dim: int
    observation: nn.Module

    def step(self, z: torch.Tensor) -> torch.Tensor:
        """Return F(z) for states of shape (..., M)."""
        raise NotImplementedError

    def jacobian(self, z: torch.Tensor) -> torch.Tensor:
        """Return dF/dz, shape (..., M, M)."""
        raise NotImplementedError

    def subregion(self, z: torch.Tensor) -> torch.Tensor:
        """Return the on/off pattern of the ReLU units at z, a bool tensor (..., S)."""
        raise NotImplementedError

    def affine_map(self, pattern: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (J, c) such that F(z) = J z + c for every z in the subregion `pattern`."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this model's architecture."""
        raise NotImplementedError

    @property
    def n_switches(self) -> int:
        """Number of ReLU units whose on/off pattern defines a subregion."""
        raise NotImplementedError

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """Map latent states (..., M) to predicted observations (..., N)."""
        return self.observation.observe(z)

    def initial_state(self, x: torch.Tensor) -> torch.Tensor:
        """Infer the latent state from one observation (..., N)."""
        return self.observation.initial_state(x)

    def generate(self, z0: torch.Tensor, n_steps: int) -> torch.Tensor:
        """Iterate F freely from z0 (..., M) and return the states, shape (n_steps, ..., M), z0 excluded."""
        states = []
        z = z0
        for _ in range(n_steps):
            z = self.step(z)
            states.append(z)
        return torch.stack(states)
