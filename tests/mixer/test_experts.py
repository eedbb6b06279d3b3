"""Context-conditioned experts: θ(ξ) = θ⁰ + P ξ, the per-environment models, and the batched rollouts."""

import pytest
import torch

from dsr.mixer.experts import ContextExpert
from dsr.mixer.rollout import BatchedRollout, choose_implementation, vmap_rollout
from dsr.models import ALRNN, ShallowPLRNN
from dsr.training.forcing import forced_rollout

ALRNN_CONFIG = {"model": "alrnn", "obs_dim": 2, "latent_dim": 5, "n_relu": 2, "observation": "identity"}
SHPLRNN_CONFIG = {"model": "shplrnn", "obs_dim": 2, "latent_dim": 3, "hidden_dim": 6, "clipped": True,
                  "observation": "identity"}


def expert(config, conditioning="linear", seed=0):
    return ContextExpert(config, 3, conditioning, hypernetwork_std=0.1, generator=torch.Generator().manual_seed(seed))


def test_zero_context_gives_base_model():
    built = expert(ALRNN_CONFIG)
    model = built.environment_model(torch.zeros(3))
    assert isinstance(model, ALRNN)
    for name, value in built.base.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value, rtol=0, atol=0)


def test_linear_conditioning():
    built = expert(SHPLRNN_CONFIG)
    context = torch.tensor([0.5, -1.0, 2.0])
    model = built.environment_model(context)
    assert isinstance(model, ShallowPLRNN)
    expected = built.base.W1 + built.linear["W1"] @ context
    torch.testing.assert_close(model.W1, expected)


def test_lowrank_conditioning():
    """Matrices change by U diag(ξ) V (rank ≤ d), vectors linearly."""
    built = expert(ALRNN_CONFIG, "lowrank")
    context = torch.tensor([0.5, -1.0, 2.0])
    parameters = built.parameters_for(context[None])
    expected_w = built.base.W + built.left["W"] @ torch.diag(context) @ built.right["W"]
    torch.testing.assert_close(parameters["W"][0], expected_w)
    torch.testing.assert_close(parameters["A"][0], built.base.A + built.linear["A"] @ context)
    assert "W" not in built.linear


def test_differentiable_model_trains_context():
    """forced_rollout runs unchanged on the differentiable model, and the loss reaches ξ and P."""
    built = expert(ALRNN_CONFIG)
    context = torch.zeros(3, requires_grad=True)
    model = built.differentiable_model(context)
    x = torch.randn(4, 11, 2)
    predictions, _ = forced_rollout(model, x, 0.2)
    torch.mean((predictions - x[:, 1:]) ** 2).backward()
    assert context.grad is not None and context.grad.abs().sum() > 0
    assert built.linear["W"].grad.abs().sum() == 0, "P gets no gradient while ξ = 0"
    assert built.base.W.grad.abs().sum() > 0


@pytest.mark.parametrize("config", [ALRNN_CONFIG, SHPLRNN_CONFIG])
def test_vmap_rollout_equals_single_rollouts(config):
    built = expert(config)
    contexts = 0.5 * torch.randn(3, 3)
    x = torch.randn(3, 4, 9, 2)
    alphas = [0.0, 0.3, 1.0]
    predictions, states = vmap_rollout(built, built.parameters_for(contexts), x, alphas)
    for e in range(3):
        single, single_states = forced_rollout(built.environment_model(contexts[e]), x[e], alphas[e])
        torch.testing.assert_close(predictions[e], single, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(states[e], single_states, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("config", [ALRNN_CONFIG, SHPLRNN_CONFIG])
def test_fused_rollout_equals_vmap(config):
    built = expert(config)
    if choose_implementation(built, torch.device("cpu"), "auto") != "fused":
        pytest.skip("the fused kernels are not available here")
    contexts = (0.5 * torch.randn(3, 3)).requires_grad_(True)
    x = torch.randn(3, 4, 9, 2)
    results = {}
    for implementation in ("vmap", "fused"):
        predictions, _ = BatchedRollout(implementation)(built, built.parameters_for(contexts), x, [0.1, 0.2, 0.3])
        gradient, = torch.autograd.grad(torch.mean((predictions - x[:, :, 1:]) ** 2), [contexts])
        results[implementation] = (predictions.detach(), gradient)
    torch.testing.assert_close(results["fused"][0], results["vmap"][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(results["fused"][1], results["vmap"][1], rtol=1e-4, atol=1e-6)
