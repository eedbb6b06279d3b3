"""Teacher forcing: the limits α = 1 and α = 0, sparse forcing, and the adaptive α rule."""

import math

import pytest
import torch

from dsr.models import ALRNN, ShallowPLRNN
from dsr.training.forcing import AlphaController, forced_rollout, jacobian_norm_estimate


@pytest.fixture
def model():
    torch.manual_seed(3)
    built = ShallowPLRNN(2, 4, 10).double()
    with torch.no_grad():
        built.W1.mul_(3.0)
    return built


def test_alpha_one_is_full_teacher_forcing(model):
    """With α = 1 each prediction starts from the data: z_t = F([x_{t−1}, hidden_{t−1}])."""
    x = torch.randn(3, 12, 2, dtype=torch.float64)
    predictions, _ = forced_rollout(model, x, alpha=1.0)
    z = model.initial_state(x[:, 0])
    for t in range(1, 12):
        z = model.step(z)
        torch.testing.assert_close(predictions[:, t - 1], z[:, :2], rtol=0, atol=0)
        z = torch.cat([x[:, t], z[:, 2:]], dim=-1)


def test_alpha_zero_is_free_run(model):
    x = torch.randn(3, 15, 2, dtype=torch.float64)
    predictions, states = forced_rollout(model, x, alpha=0.0)
    free = model.generate(model.initial_state(x[:, 0]), 14).transpose(0, 1)
    torch.testing.assert_close(states, free, rtol=0, atol=0)
    torch.testing.assert_close(predictions, free[..., :2], rtol=0, atol=0)


def test_gtf_mixes_with_alpha(model):
    x = torch.randn(2, 3, 2, dtype=torch.float64)
    alpha = 0.3
    _, states = forced_rollout(model, x, alpha)
    z1 = states[:, 0]
    mixed = torch.cat([(1 - alpha) * z1[:, :2] + alpha * x[:, 1], z1[:, 2:]], dim=-1)
    torch.testing.assert_close(states[:, 1], model.step(mixed))


def test_sparse_forcing_every_tau_steps(model):
    """With τ = 4 the state is replaced by the data after steps 4 and 8 only."""
    x = torch.randn(2, 10, 2, dtype=torch.float64)
    predictions, _ = forced_rollout(model, x, alpha=0.0, mode="sparse", interval=4)
    z = model.initial_state(x[:, 0])
    for t in range(1, 10):
        z = model.step(z)
        torch.testing.assert_close(predictions[:, t - 1], z[:, :2], rtol=0, atol=0)
        if t % 4 == 0:
            z = torch.cat([x[:, t], z[:, 2:]], dim=-1)


def diagonal_linear_alrnn(diagonal):
    """An AL-RNN with P = 0, W = 0: J = diag(A) everywhere, so ‖J‖₂ = max|A|."""
    model = ALRNN(1, len(diagonal), 0).double()
    with torch.no_grad():
        model.A.copy_(torch.tensor(diagonal))
        model.W.zero_()
    return model


def test_norm_estimate_geometric_mean_then_max():
    """Constant Jacobians: each sequence's geometric mean is max|A|, so G = 1.25 exactly."""
    model = diagonal_linear_alrnn([1.25, 0.5])
    states = torch.randn(4, 7, 2, dtype=torch.float64)
    assert jacobian_norm_estimate(model, states) == pytest.approx(1.25)


def test_norm_estimate_of_switching_model():
    """P = 1, A = 0, W = diag(1, 3): ‖J‖ is 3 where the ReLU unit is on and 1 where off.

    A sequence on for 2 of 4 steps has geometric mean √3; one always off has 1;
    the maximum over sequences is √3.
    """
    model = ALRNN(1, 2, 1).double()
    with torch.no_grad():
        model.A.zero_()
        model.W.copy_(torch.diag(torch.tensor([1.0, 3.0])))
    on, off = [0.0, 1.0], [0.0, -1.0]
    states = torch.tensor([[on, on, off, off], [off, off, off, off]], dtype=torch.float64)
    assert jacobian_norm_estimate(model, states) == pytest.approx(math.sqrt(3.0))


def test_adaptive_alpha_jumps_up_and_decays():
    """α* = 1 − 1/G; α jumps to a larger α* at once and otherwise decays as α ← γα + (1 − γ)α*."""
    controller = AlphaController("adaptive", alpha=0.0, alpha_start=0.5, alpha_end=0.05, epochs=10,
                                 interval=5, gamma=0.9)
    controller.update_adaptive(2.0)
    assert controller.alpha == pytest.approx(0.5)
    controller.update_adaptive(1.25)  # α* = 0.2 < 0.5: decay
    assert controller.alpha == pytest.approx(0.9 * 0.5 + 0.1 * 0.2)
    controller.update_adaptive(0.8)  # G < 1 gives α* = 0
    assert controller.alpha == pytest.approx(0.9 * (0.9 * 0.5 + 0.1 * 0.2))
    controller.update_adaptive(10.0)
    assert controller.alpha == pytest.approx(0.9)


def test_adaptive_alpha_every_k_batches():
    """The estimate is taken on batches 0, k, 2k, ...: with k = 3 and 7 batches, three updates."""
    model = diagonal_linear_alrnn([2.0, 0.1])
    controller = AlphaController("adaptive", 0.0, 0.5, 0.05, 10, interval=3, gamma=0.999)
    states = torch.zeros(2, 5, 2, dtype=torch.float64)
    updates = []
    for _ in range(7):
        before = controller.last_estimate
        controller.after_batch(model, states)
        updates.append(controller.last_estimate is not before)
    assert updates == [True, False, False, True, False, False, True]
    assert controller.alpha == pytest.approx(0.5)


def test_annealing_is_geometric():
    controller = AlphaController("annealing", 0.0, alpha_start=0.8, alpha_end=0.05, epochs=5)
    values = []
    for epoch in range(5):
        controller.start_epoch(epoch)
        values.append(controller.alpha)
    assert values[0] == pytest.approx(0.8)
    assert values[-1] == pytest.approx(0.05)
    ratios = [b / a for a, b in zip(values, values[1:])]
    assert ratios == pytest.approx([ratios[0]] * 4)
