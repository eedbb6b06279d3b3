"""Forced rollouts of K models of one architecture at once, with their parameters stacked along a leading axis.

An ensemble is a template model (its architecture) and a dict of stacked
parameters, `name → (K, ...)`, named as in `template.named_parameters()`.
Member k's model is the template with every parameter replaced by its k-th
slice. A rollout takes the stacked parameters, observations x
(K, B, T + 1, N) and one forcing strength α per member. It returns
predictions (K, B, T, N) and unforced states (K, B, T, M), and member k's
share is what the single-model rollout returns for member k's model:

- `ReferenceEnsembleRollout` maps `forced_rollout` over the members with
  `torch.func.vmap`, so each PyTorch operation runs once for all members.
  States equal the single runs' bit for bit in our tests, but gradients
  differ in the last bits, because batched matrix products accumulate in
  another order than single ones.
- `FusedEnsembleRollout` runs the numba kernels of `dsr.training.fused` for
  all members in one call, and the observation model member by member with
  the single-model operations, so states and gradients equal the single
  fused runs' bit for bit.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Sequence

import torch
from torch import nn

from dsr.models.base import ReconstructionModel
from dsr.training.forcing import forced_rollout


def stack_parameters(models: Sequence[ReconstructionModel]) -> dict[str, torch.Tensor]:
    """Return the models' parameters stacked along a new leading axis, as leaf tensors that require gradients."""
    stacked = {}
    for name, _ in models[0].named_parameters():
        values = [model.get_parameter(name).detach() for model in models]
        stacked[name] = torch.stack(values).requires_grad_(True)
    return stacked


class _Bound(nn.Module):
    """Calls fn(model, *args), so that `functional_call` can swap the model's parameters."""

    def __init__(self, model: nn.Module, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.model, self.fn = model, fn

    def forward(self, *args: Any) -> Any:
        return self.fn(self.model, *args)


class ReferenceEnsembleRollout:
    """`forced_rollout` for all members at once through torch.func.vmap and functional_call."""

    def __init__(self, template: ReconstructionModel) -> None:
        self.template = template

    def __call__(self, parameters: dict[str, torch.Tensor], x: torch.Tensor, alphas: Sequence[float],
                 mode: str = "gtf", interval: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        # α enters as float64 so that 1 − α is formed in float64 and rounded
        # once, as the Python float of a single run is.
        alpha = torch.tensor([float(value) for value in alphas], dtype=torch.float64, device=x.device)

        def rollout(model: ReconstructionModel, member_x: torch.Tensor, member_alpha: torch.Tensor):
            return forced_rollout(model, member_x, member_alpha, mode, interval)

        bound = _Bound(self.template, rollout)
        prefixed = {f"model.{name}": value for name, value in parameters.items()}

        def member_rollout(member: dict[str, torch.Tensor], member_x: torch.Tensor, member_alpha: torch.Tensor):
            return torch.func.functional_call(bound, member, (member_x, member_alpha))

        return torch.func.vmap(member_rollout)(prefixed, x, alpha)


class FusedEnsembleRollout:
    """`fused_rollout` for all members at once: one kernel call, the observation model per member.

    Keeps one copy of the template's observation model per member, and
    rebinds its parameters to slices of the stacked tensors on every call.
    That costs a few microseconds per member, where `functional_call` costs
    about 50 (measured with torch 2.13 on one CPU thread).
    """

    def __init__(self, template: ReconstructionModel, n_members: int) -> None:
        from dsr.training.fused import CORE_PARAMETERS, kernel_kind, kernel_options

        self.template = template
        self.kind = kernel_kind(template)
        self.options = kernel_options(template)
        self.core_names = CORE_PARAMETERS[self.kind]
        self.observation_names = [name for name, _ in template.observation.named_parameters()]
        self.observations = [_without_parameters(template.observation) for _ in range(n_members)]

    def __call__(self, parameters: dict[str, torch.Tensor], x: torch.Tensor, alphas: Sequence[float],
                 mode: str = "gtf", interval: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        from dsr.training.fused import forcing_weights, fused_recurrence, inferred_states

        # unbind, not indexing: the backward pass of K index operations would
        # build K zero tensors of the full stacked shape, that of unbind one.
        for name in self.observation_names:
            owner, _, attribute = name.rpartition(".")
            for observation, value in zip(self.observations, parameters[f"observation.{name}"].unbind(0)):
                setattr(observation.get_submodule(owner), attribute, value)

        member_x = x.unbind(0)
        z0 = torch.stack([observation.initial_state(xk[:, 0]) for observation, xk in zip(self.observations, member_x)])
        inferred = torch.stack([inferred_states(observation, xk[:, 1:])
                                for observation, xk in zip(self.observations, member_x)])
        dtype = parameters[self.core_names[0]].dtype
        mask = self.template.observation.forcing_mask()[: inferred.shape[-1]]
        retained, forcing = forcing_weights(alphas, mode, interval, x.shape[2] - 1, mask, dtype)
        core = [parameters[name] for name in self.core_names]
        states = fused_recurrence(self.kind, self.options, z0, inferred, retained, forcing, core)

        predictions = torch.stack([observation.observe(member_states)
                                   for observation, member_states in zip(self.observations, states.unbind(0))])
        return predictions, states


def _without_parameters(module: nn.Module) -> nn.Module:
    """Return a copy of `module` with its parameters unregistered, so that plain tensors can take their place."""
    copied = copy.deepcopy(module)
    for name, _ in module.named_parameters():
        owner, _, attribute = name.rpartition(".")
        del copied.get_submodule(owner)._parameters[attribute]
    return copied
