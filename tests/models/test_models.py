"""AL-RNN and shPLRNN: equations, Jacobians, subregions and initialisation."""

import numpy as np
import pytest
import torch

from dsr.models import ALRNN, ShallowPLRNN, build_model

MODELS = {
    "alrnn": lambda: ALRNN(3, 8, 3),
    "alrnn_affine": lambda: ALRNN(5, 4, 2, observation="affine"),
    "shplrnn": lambda: ShallowPLRNN(3, 4, 12),
    "shplrnn_clipped": lambda: ShallowPLRNN(3, 4, 12, clipped=True),
}


@pytest.fixture(params=sorted(MODELS))
def model(request):
    torch.manual_seed(7)
    built = MODELS[request.param]().double()
    with torch.no_grad():
        for parameter in built.parameters():  # larger weights so that ReLUs switch
            parameter.add_(0.3 * torch.randn_like(parameter))
    return built


def test_jacobian_matches_autograd(model):
    """The analytic Jacobian equals autograd's, to rounding, away from ReLU kinks."""
    states = torch.randn(5, model.latent_dim, dtype=torch.float64)
    for state in states:
        expected = torch.autograd.functional.jacobian(model.step, state)
        torch.testing.assert_close(model.jacobian(state), expected, rtol=1e-12, atol=1e-12)


def test_jacobian_matches_finite_differences(model):
    state = torch.randn(model.latent_dim, dtype=torch.float64)
    epsilon = 1e-7
    columns = []
    for index in range(model.latent_dim):
        step = torch.zeros_like(state)
        step[index] = epsilon
        columns.append((model.step(state + step) - model.step(state - step)) / (2 * epsilon))
    torch.testing.assert_close(model.jacobian(state), torch.stack(columns, dim=1), rtol=1e-6, atol=1e-6)


def test_affine_map_reproduces_step(model):
    """Inside its subregion the map is exactly J z + c."""
    for state in torch.randn(10, model.latent_dim, dtype=torch.float64):
        jacobian, offset = model.affine_map(model.subregion(state))
        torch.testing.assert_close(jacobian @ state + offset, model.step(state), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(jacobian, model.jacobian(state), rtol=0, atol=0)


def test_batched_step_equals_single(model):
    states = torch.randn(4, model.latent_dim, dtype=torch.float64)
    batched = model.step(states)
    for index, state in enumerate(states):
        torch.testing.assert_close(batched[index], model.step(state))


def test_alrnn_without_relu_is_exactly_linear():
    """With P = 0 every unit is linear: F(z) = (diag(A) + W) z + h for any z, so F is affine and superposition holds."""
    torch.manual_seed(0)
    model = ALRNN(2, 6, 0).double()
    matrix = torch.diag(model.A) + model.W
    a, b = torch.randn(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    torch.testing.assert_close(model.step(a), matrix @ a + model.h, rtol=0, atol=1e-15)
    combined = model.step(2.0 * a - 3.0 * b) - model.h
    torch.testing.assert_close(combined, 2.0 * (model.step(a) - model.h) - 3.0 * (model.step(b) - model.h))
    assert model.subregion(a).shape == (0,)


def test_alrnn_relu_only_on_last_units():
    model = ALRNN(2, 5, 2).double()
    with torch.no_grad():
        model.A.zero_()
        model.W.copy_(torch.eye(5))
        model.h.zero_()
    state = -torch.ones(5, dtype=torch.float64)
    torch.testing.assert_close(model.step(state), torch.tensor([-1.0, -1.0, -1.0, 0.0, 0.0], dtype=torch.float64))


def test_alrnn_published_initialisation():
    """A = diag(K / λmax(K)) lies in (0, 1]; W has standard deviation 0.01; h = 0."""
    model = ALRNN(3, 200, 2, generator=torch.Generator().manual_seed(0)).requires_grad_(False)
    assert float(model.A.min()) > 0.0
    assert float(model.A.max()) <= 1.0
    assert float(model.W.std()) == pytest.approx(0.01, rel=0.02)
    assert float(model.h.abs().max()) == 0.0


def test_clipped_shplrnn_bounded():
    """With max|A| < 1 the clipped bracket is bounded by |h2|, so orbits stay bounded however large W is."""
    torch.manual_seed(1)
    model = ShallowPLRNN(2, 3, 10, clipped=True).double()
    with torch.no_grad():
        model.A.copy_(torch.tensor([0.9, 0.5, 0.95]))
        model.W1.mul_(50.0)
        model.W2.mul_(50.0)
    bound = (model.W1.abs() @ model.h2.abs() + model.h1.abs()) / (1 - model.A.abs())
    states = model.generate(torch.randn(8, 3, dtype=torch.float64) * 100, 2000)
    assert torch.all(states[-1].abs() <= bound + 1e-9)


def test_initial_state_identity_readout():
    model = ALRNN(3, 7, 2)
    x = torch.randn(4, 3)
    z = model.initial_state(x)
    assert z.shape == (4, 7)
    torch.testing.assert_close(z[:, :3], x)
    torch.testing.assert_close(model.observe(z), x)


def test_affine_readout_inverse_is_least_squares():
    torch.manual_seed(2)
    model = ALRNN(6, 3, 1, observation="affine").double()
    x = torch.randn(5, 6, dtype=torch.float64)
    z = model.initial_state(x)
    expected = torch.linalg.lstsq(model.observation.B, (x - model.observation.b).T).solution.T
    torch.testing.assert_close(z, expected)


def test_build_model_round_trip():
    model = ShallowPLRNN(3, 4, 9, clipped=True)
    rebuilt = build_model(model.config())
    assert rebuilt.config() == model.config()
    with pytest.raises(ValueError, match="unknown model"):
        build_model({"model": "lstm"})
