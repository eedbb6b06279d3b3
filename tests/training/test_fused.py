"""The fused rollout: outputs and gradients equal the PyTorch rollout's, availability and the fallback."""

import itertools
import logging

import pytest
import torch

from dsr.errors import InputError
from dsr.models import build_model
from dsr.models.base import ReconstructionModel
from dsr.runs.training import _choose_rollout
from dsr.training import TrainConfig
from dsr.training.forcing import forced_rollout
from dsr.training.fused import fused_available, fused_rollout

MODELS = {
    "alrnn": {"model": "alrnn", "latent_dim": 6, "n_relu": 2},
    "alrnn-linear": {"model": "alrnn", "latent_dim": 5, "n_relu": 0},
    "alrnn-all-relu": {"model": "alrnn", "latent_dim": 5, "n_relu": 5},
    "shplrnn": {"model": "shplrnn", "latent_dim": 5, "hidden_dim": 7, "clipped": False},
    "shplrnn-clipped": {"model": "shplrnn", "latent_dim": 5, "hidden_dim": 7, "clipped": True},
}
FORCING = {"gtf": ("gtf", 0.3, 1), "gtf-free": ("gtf", 0.0, 1), "gtf-full": ("gtf", 1.0, 1), "sparse": ("sparse", 0.0, 4)}
OBS_DIM = 3


def _model(name: str, observation: str, dtype=torch.float64) -> ReconstructionModel:
    model = build_model({**MODELS[name], "obs_dim": OBS_DIM, "observation": observation},
                        torch.Generator().manual_seed(3)).to(dtype)
    # Larger weights than the initialisation, so that ReLU units switch
    # along the sequences and every branch of the backward pass runs.
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator, dtype=dtype))
    return model


def _loss_and_gradients(rollout, model, x, mode, alpha, interval):
    model.zero_grad()
    predictions, states = rollout(model, x, alpha, mode, interval)
    # A term in the states checks their gradient path too, not only the readout's.
    loss = torch.mean((predictions - x[:, 1:]) ** 2) + 0.1 * torch.mean(states**2)
    loss.backward()
    gradients = {name: parameter.grad.clone() for name, parameter in model.named_parameters()}
    return predictions.detach(), states.detach(), gradients


@pytest.mark.parametrize("name,observation,forcing", list(itertools.product(MODELS, ("identity", "affine"), FORCING)))
def test_gradients_match_reference(name, observation, forcing):
    """float64: the hand-written BPTT gives autograd's gradients to relative error below 1e-8."""
    mode, alpha, interval = FORCING[forcing]
    model = _model(name, observation)
    x = torch.randn(3, 13, OBS_DIM, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

    reference = _loss_and_gradients(forced_rollout, model, x, mode, alpha, interval)
    fused = _loss_and_gradients(fused_rollout, model, x, mode, alpha, interval)

    torch.testing.assert_close(fused[0], reference[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fused[1], reference[1], rtol=1e-12, atol=1e-12)
    for parameter, expected in reference[2].items():
        if expected.numel() == 0:
            continue
        error = float(torch.linalg.vector_norm(fused[2][parameter] - expected) / torch.linalg.vector_norm(expected))
        assert error < 1e-8, f"{parameter}: relative gradient error {error:.2e}"


def test_float32_matches_reference():
    model = _model("alrnn", "identity", torch.float32)
    x = torch.randn(4, 30, OBS_DIM, generator=torch.Generator().manual_seed(6))
    reference = _loss_and_gradients(forced_rollout, model, x, "gtf", 0.2, 1)
    fused = _loss_and_gradients(fused_rollout, model, x, "gtf", 0.2, 1)
    torch.testing.assert_close(fused[1], reference[1], rtol=1e-5, atol=1e-5)
    for parameter, expected in reference[2].items():
        torch.testing.assert_close(fused[2][parameter], expected, rtol=1e-4, atol=1e-6)


def test_shapes_match_reference():
    model = _model("shplrnn", "affine", torch.float32)
    x = torch.randn(2, 9, OBS_DIM)
    predictions, states = fused_rollout(model, x, 0.5)
    assert predictions.shape == (2, 8, OBS_DIM)
    assert states.shape == (2, 8, 5)
    assert predictions.dtype == states.dtype == torch.float32


def test_unknown_mode_rejected():
    model = _model("alrnn", "identity")
    with pytest.raises(InputError, match="forcing mode 'teacher'"):
        fused_rollout(model, torch.zeros(1, 3, OBS_DIM, dtype=torch.float64), 0.5, "teacher")


def test_available_for_supported_cpu_models():
    for name in MODELS:
        available, reason = fused_available(_model(name, "identity", torch.float32), "cpu")
        assert available, reason
        assert reason == ""


def test_unavailable_on_cuda():
    available, reason = fused_available(_model("alrnn", "identity", torch.float32), "cuda")
    assert not available
    assert "CPU only" in reason


def test_unavailable_for_half_precision():
    available, reason = fused_available(_model("alrnn", "identity", torch.float32).half(), "cpu")
    assert not available
    assert "float16" in reason


def test_unavailable_for_other_models():
    class Subclass(type(_model("alrnn", "identity"))):
        pass

    model = Subclass(OBS_DIM, 4, 1)
    available, reason = fused_available(model, "cpu")
    assert not available
    assert "Subclass" in reason


def test_choose_rollout_by_fast_path_option(caplog):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert _choose_rollout(TrainConfig(fast_path="off"), cpu) == (forced_rollout, False)
    assert _choose_rollout(TrainConfig(fast_path="auto"), cpu) == (fused_rollout, True)
    assert _choose_rollout(TrainConfig(fast_path="on", model="shplrnn", clipped=True), cpu) == (fused_rollout, True)

    with caplog.at_level(logging.INFO, logger="dsr"):
        assert _choose_rollout(TrainConfig(fast_path="auto"), cuda) == (forced_rollout, False)
    assert "CPU only" in caplog.text

    with pytest.raises(InputError, match="--fast-path on.*CPU only"):
        _choose_rollout(TrainConfig(fast_path="on"), cuda)
