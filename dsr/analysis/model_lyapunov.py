"""Lyapunov spectra of trained models, by the QR method on their analytic Jacobians in float64."""

from __future__ import annotations

import numpy as np
import torch

from dsr.analysis.lyapunov import LyapunovSpectrum, lyapunov_spectrum
from dsr.errors import NumericalError
from dsr.models.base import ReconstructionModel

# Jacobians are computed for this many states at once: vectorised, but small
# enough (M = 100 gives 80 MB) not to strain memory.
JACOBIAN_CHUNK = 1000


def model_lyapunov_spectrum(
    model: ReconstructionModel,
    z0: np.ndarray,
    n_steps: int = 100_000,
    transient: int = 1_000,
    reorthonormalization_interval: int = 1,
    dt: float = 1.0,
    n_exponents: int | None = None,
) -> LyapunovSpectrum:
    """Compute the Lyapunov spectrum of a model's latent map along the free run from z0.

    The orbit is generated in float64, its Jacobians J(z_t) are evaluated in
    chunks, and `dsr.analysis.lyapunov.lyapunov_spectrum` accumulates the QR
    growth rates. The result is per time unit when `dt` is the sampling step
    of the training data (the model makes one step per sample).

    Args:
        model: the trained model (any dtype; a float64 copy is used).
        z0: latent start state, shape (M,).
        n_steps: steps averaged over (default 10^5: at dt = 0.01 that is
            1000 time units, enough for about 1 % on Lorenz-63's λ1).
        transient: steps before averaging.
        reorthonormalization_interval: steps between QR decompositions.
        dt: time units per step.
        n_exponents: how many exponents (all M by default).
    """
    model64 = _float64_copy(model)
    total = transient + n_steps
    with torch.no_grad():
        z = torch.as_tensor(np.asarray(z0, dtype=np.float64)).reshape(1, -1)
        orbit = torch.cat([z, model64.generate(z, total - 1)[:, 0]], dim=0) if total > 1 else z

    if not torch.all(torch.isfinite(orbit)):
        raise NumericalError(
            "The model's free run diverged to infinity, so it has no Lyapunov spectrum from this start. "
            "Check the run's training history, or start from another point."
        )

    def chunks():
        with torch.no_grad():
            for start in range(0, total, JACOBIAN_CHUNK):
                yield from model64.jacobian(orbit[start:start + JACOBIAN_CHUNK]).numpy()

    jacobians = chunks()

    def tangent_step(state, vectors):
        return state, next(jacobians) @ vectors

    return lyapunov_spectrum(
        tangent_step, orbit[0].numpy(), n_steps=n_steps, dt=dt, transient=transient,
        reorthonormalization_interval=reorthonormalization_interval, n_exponents=n_exponents,
    )


def _float64_copy(model: ReconstructionModel) -> ReconstructionModel:
    import copy

    return copy.deepcopy(model).double().cpu().eval()
