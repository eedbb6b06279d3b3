"""Teacher-forced rollouts of one expert on several environments at once, each with its own θ(ξ_e).

The rollout is dsr's generalized teacher forcing (`dsr.training.forcing`):
z_t = F(z̃_{t−1}), the prediction G(z_t) is made before forcing and compared
with x_t, then z̃_t = (1 − α) z_t + α ẑ_t. The environments of a batch are
the members of an ensemble whose stacked parameters are θ(ξ_e), and two
implementations give the same result up to rounding:

- "fused": `dsr.training.ensemble_rollout.FusedEnsembleRollout`, the numba
  kernels of `dsr.training.fused` for all environments in one call. CPU only.
- "vmap": `torch.func.vmap` over the environments of `forced_rollout` itself,
  run on the expert's base model with the environment's parameters through
  `torch.func.functional_call`. Any device; about ten times slower than the
  fused kernels for the small experts of docs/mixer.md (one CPU thread).
"""

from __future__ import annotations

import logging
from typing import Sequence

import torch
from torch import nn
from torch.func import functional_call, vmap

from dsr.errors import InputError
from dsr.mixer.experts import ContextExpert
from dsr.training.forcing import forced_rollout

logger = logging.getLogger(__name__)

try:
    from dsr.training.ensemble_rollout import FusedEnsembleRollout
    from dsr.training.fused import fused_available
except ImportError:  # the fused kernels are optional: the vmap rollout needs nothing beyond PyTorch
    FusedEnsembleRollout = None


class _RolloutModule(nn.Module):
    """Wraps a model so that `functional_call` can run `forced_rollout` with substituted parameters."""

    def __init__(self, model: nn.Module, mode: str, interval: int) -> None:
        super().__init__()
        self.model, self.mode, self.interval = model, mode, interval

    def forward(self, x: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return forced_rollout(self.model, x, alpha, self.mode, self.interval)


def choose_implementation(expert: ContextExpert, device: torch.device, fast_path: str) -> str:
    """Return "fused" or "vmap" for `fast_path` ("auto", "on" or "off"), as `dsr train` chooses for one model.

    "auto" falls back to "vmap" with an INFO log record; "on" raises
    InputError when the fused kernels cannot run this expert.
    """
    if fast_path == "off":
        return "vmap"
    if FusedEnsembleRollout is None:
        reason = "dsr.training.ensemble_rollout or dsr.training.fused could not be imported"
    else:
        available, reason = fused_available(expert.base, device)
        if available:
            return "fused"
    if fast_path == "on":
        raise InputError(f"--fast-path on was requested, but the fused kernels are unavailable: {reason}. "
                         "Use --fast-path auto or off.")
    logger.info("the fused kernels are unavailable (%s); MixER trains with the vmap rollout", reason)
    return "vmap"


class BatchedRollout:
    """Runs experts on batches of environments; keeps the fused rollouts it built, one per batch size."""

    def __init__(self, implementation: str) -> None:
        if implementation not in ("fused", "vmap"):
            raise InputError(f"Unknown rollout implementation {implementation!r}; expected 'fused' or 'vmap'.")
        self.implementation = implementation
        self._fused: dict[tuple[int, int], object] = {}

    def __call__(self, expert: ContextExpert, parameters: dict[str, torch.Tensor], x: torch.Tensor,
                 alphas: Sequence[float], mode: str = "gtf", interval: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """Run `expert` with per-environment parameters along observed windows, with teacher forcing.

        Args:
            parameters: θ(ξ_e) from `expert.parameters_for`, each with a
                leading axis of length E.
            x: observations (E, B, T + 1, N); x[e, :, 0] sets the initial states.
            alphas: forcing strength α of each environment (mode "gtf").
            mode, interval: "gtf", or "sparse" with α = 1 every `interval` steps.

        Returns:
            predictions (E, B, T, N) made before forcing, and the unforced
            states (E, B, T, M).
        """
        n_environments = x.shape[0]
        if len(alphas) != n_environments:
            raise InputError(f"Got {len(alphas)} forcing strengths for {n_environments} environments.")
        if self.implementation == "vmap":
            return vmap_rollout(expert, parameters, x, alphas, mode, interval)

        key = (id(expert), n_environments)
        if key not in self._fused:
            self._fused[key] = FusedEnsembleRollout(expert.base, n_environments)
        return self._fused[key](parameters, x, [float(a) for a in alphas], mode, interval)


def vmap_rollout(expert: ContextExpert, parameters: dict[str, torch.Tensor], x: torch.Tensor,
                 alphas: Sequence[float], mode: str = "gtf", interval: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """`forced_rollout` of the expert's base model, mapped over the environments with `torch.func.vmap`."""
    module = _RolloutModule(expert.base, mode, interval)
    # α in float64, so that 1 − α is formed in float64 and rounded once, as
    # the Python float of a single rollout is.
    strengths = torch.as_tensor([float(a) for a in alphas], dtype=torch.float64, device=x.device)

    def run_one(environment_parameters, windows, alpha):
        named = {f"model.{name}": value for name, value in environment_parameters.items()}
        return functional_call(module, named, (windows, alpha))

    return vmap(run_one)(parameters, x, strengths)
