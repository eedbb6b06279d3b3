"""Context-conditioned experts: an AL-RNN or shPLRNN whose parameters are a linear function of a context ξ.

Each expert k holds base parameters θ_k⁰ (an ordinary model) and a linear
hypernetwork. With "linear" conditioning every parameter tensor is

    θ_k(ξ) = θ_k⁰ + P_k ξ,        P_k of shape (*θ.shape, d),

and with "lowrank" conditioning every matrix is W_k(ξ) = W_k⁰ + U_k diag(ξ) V_k
(U_k: rows x d, V_k: d x columns, so the change has rank at most d) while
vectors stay linear. With d = dim ξ this is the hierarchical PLRNN of Brenner
et al. (ICLR 2025) for one expert, and the expert of MixER (Nzoyem et al.,
2025) for several.

`environment_model` returns an ordinary `ALRNN` or `ShallowPLRNN` with the
parameters θ_k(ξ) of one environment, so that generation, evaluation,
Lyapunov spectra and symbolic analysis take it unchanged;
`differentiable_model` returns the same model with parameters that stay
differentiable in ξ and in the hypernetwork, for teacher-forced training of
one environment with `forced_rollout`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsr.errors import InputError
from dsr.models import ReconstructionModel, build_model


def _key(name: str) -> str:
    """Turn a parameter name such as "observation.L" into a ParameterDict key (no dots allowed)."""
    return name.replace(".", "__")


class ContextExpert(nn.Module):
    """One expert: a base model θ⁰ and a linear hypernetwork from contexts ξ (dimension d) to parameters.

    The hypernetwork entries start as N(0, `hypernetwork_std`²). They must
    not start at zero: the contexts start at zero, and with both at zero the
    gradients of P ξ with respect to each of them vanish.
    """

    def __init__(self, model_config: dict[str, Any], context_dim: int, conditioning: str = "linear",
                 hypernetwork_std: float = 0.01, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if conditioning not in ("linear", "lowrank"):
            raise InputError(f"Invalid conditioning {conditioning!r}; expected 'linear' or 'lowrank'.")
        if context_dim < 1:
            raise InputError(f"The context dimension d must be at least 1, got {context_dim}.")
        self.model_config = dict(model_config)
        self.context_dim, self.conditioning = context_dim, conditioning
        self.base = build_model(self.model_config, generator)
        self.names = [name for name, _ in self.base.named_parameters()]

        self.linear = nn.ParameterDict()
        self.left = nn.ParameterDict()
        self.right = nn.ParameterDict()
        for name, parameter in self.base.named_parameters():
            if conditioning == "lowrank" and parameter.dim() == 2:
                rows, columns = parameter.shape
                self.left[_key(name)] = nn.Parameter(hypernetwork_std * torch.randn(rows, context_dim, generator=generator))
                self.right[_key(name)] = nn.Parameter(hypernetwork_std * torch.randn(context_dim, columns, generator=generator))
            else:
                shape = (*parameter.shape, context_dim)
                self.linear[_key(name)] = nn.Parameter(hypernetwork_std * torch.randn(*shape, generator=generator))

    @property
    def kind(self) -> str:
        """The architecture of the expert: "alrnn" or "shplrnn"."""
        return self.model_config["model"]

    def parameters_for(self, contexts: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return θ(ξ_e) for contexts of shape (E, d), each parameter with a leading axis of length E."""
        if contexts.dim() != 2 or contexts.shape[1] != self.context_dim:
            raise InputError(f"Contexts must have shape (E, {self.context_dim}), got {tuple(contexts.shape)}.")
        contexts = contexts.to(next(self.base.parameters()).dtype)
        result = {}
        for name, base in self.base.named_parameters():
            key = _key(name)
            if key in self.left:
                change = torch.einsum("rd,ed,dc->erc", self.left[key], contexts, self.right[key])
            else:
                change = torch.einsum("...d,ed->e...", self.linear[key], contexts)
            result[name] = base.unsqueeze(0) + change
        return result

    def environment_model(self, context: torch.Tensor) -> ReconstructionModel:
        """Return an ordinary model (detached parameters, evaluation mode) with the parameters θ(ξ)."""
        with torch.no_grad():
            parameters = self.parameters_for(torch.as_tensor(context).reshape(1, -1))
        dtype = next(self.base.parameters()).dtype
        # The throwaway generator keeps the global random state untouched; the
        # random initial values are overwritten at once.
        model = build_model(self.model_config, torch.Generator().manual_seed(0)).to(dtype)
        model.load_state_dict({name: value[0] for name, value in parameters.items()})
        model.eval()
        return model

    def differentiable_model(self, context: torch.Tensor) -> ReconstructionModel:
        """Return a model whose parameters are the tensors θ(ξ), differentiable in ξ and the hypernetwork.

        The returned module has no `nn.Parameter`s of its own (its tensors
        are outputs of this expert), so train through it, never with an
        optimiser on its `parameters()`.
        """
        parameters = self.parameters_for(context.reshape(1, -1))
        dtype = next(self.base.parameters()).dtype
        model = build_model(self.model_config, torch.Generator().manual_seed(0)).to(dtype)
        substitute_parameters(model, {name: value[0] for name, value in parameters.items()})
        return model


def substitute_parameters(model: ReconstructionModel, parameters: dict[str, torch.Tensor]) -> None:
    """Replace the named parameters of `model` by plain tensors (which may carry autograd history)."""
    for name, value in parameters.items():
        owner_name, _, attribute = name.rpartition(".")
        owner = model.get_submodule(owner_name) if owner_name else model
        # A registered Parameter would reject a plain tensor, so drop it first.
        owner._parameters.pop(attribute, None)
        setattr(owner, attribute, value)


def make_experts(model_config: dict[str, Any], n_experts: int, context_dim: int, conditioning: str,
                 hypernetwork_std: float, generator: torch.Generator | None = None) -> nn.ModuleList:
    """Build K experts with independent initial parameters drawn from `generator`."""
    if n_experts < 1:
        raise InputError(f"The number of experts K must be at least 1, got {n_experts}.")
    return nn.ModuleList(ContextExpert(model_config, context_dim, conditioning, hypernetwork_std, generator)
                         for _ in range(n_experts))
