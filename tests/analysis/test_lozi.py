"""The Lozi map as an AL-RNN: exact orbits, Lyapunov exponents, the sign code and its entropy."""

import numpy as np
import pytest
import torch

from dsr.analysis.entropy import block_entropies
from dsr.analysis.lozi import lozi_alrnn
from dsr.analysis.lyapunov import lyapunov_spectrum
from dsr.analysis.symbolize import symbolize_free_run
from dsr.systems import get_system
from dsr.systems.maps import lozi_map

A, B = 1.7, 0.5
# QR estimate of the largest exponent over 2·10^5 iterations (the catalogue's reference).
LOZI_LAMBDA_1 = get_system("lozi").reference.exponents[0]


def _lozi_starts(n_orbits: int, seed: int = 0) -> np.ndarray:
    """Latent states (x, y, x, −x) in the Lozi attractor's basin."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-0.5, 0.5, n_orbits), rng.uniform(-0.2, 0.2, n_orbits)
    return np.stack([x, y, x, -x], axis=1)


def _model_orbit(model, n_steps: int) -> np.ndarray:
    with torch.no_grad():
        start = model.initial_state(torch.tensor([0.1, 0.1], dtype=torch.float64))
        return model.generate(start, n_steps).numpy()


def test_model_is_float64():
    assert lozi_alrnn().W.dtype == torch.float64


def test_initial_state_copies_x_into_relu_units():
    state = lozi_alrnn().initial_state(torch.tensor([0.3, -0.2], dtype=torch.float64))
    np.testing.assert_array_equal(state.detach().numpy(), [0.3, -0.2, 0.3, -0.3])


def test_one_step_matches_lozi_map():
    """Along 10^4 states of the attractor, F(z) read out equals lozi_map((x, y)) to 1e-12.

    Both compute 1 − a|x| + y in float64, only in another order, so they
    agree to a few units of round-off (about 1e-16); 1e-12 leaves ample room.
    """
    model = lozi_alrnn()
    states = _model_orbit(model, 10_000)
    with torch.no_grad():
        predicted = model.step(torch.from_numpy(states)).numpy()[:, :2]
    expected = np.stack([lozi_map(state[:2], A, B) for state in states])
    np.testing.assert_allclose(predicted, expected, rtol=0, atol=1e-12)


def test_orbit_matches_lozi_iterates():
    """Iterating both from (0.1, 0.1) for 30 steps agrees to 1e-12.

    Round-off differences of about 1e-16 grow by about e^{0.47} per step on
    the chaotic orbit: measured 4e-14 after 30 steps and 4e-12 after 40, so
    30 steps is the horizon that 1e-12 allows.
    """
    model = lozi_alrnn()
    orbit = _model_orbit(model, 30)[:, :2]
    state, expected = np.array([0.1, 0.1]), []
    for _ in range(30):
        state = lozi_map(state, A, B)
        expected.append(state)
    np.testing.assert_allclose(orbit, np.array(expected), rtol=0, atol=1e-12)


def test_relu_units_stay_copies_of_x():
    """u = x and v = −x hold exactly on the orbit, because their rows of W and h are those of x and their negatives."""
    states = _model_orbit(lozi_alrnn(), 5000)
    np.testing.assert_array_equal(states[:, 2], states[:, 0])
    np.testing.assert_array_equal(states[:, 3], -states[:, 0])


def test_pattern_is_sign_of_x():
    """Exactly one ReLU unit is on: "10" where x > 0, "01" where x < 0."""
    model = lozi_alrnn()
    states = _model_orbit(model, 5000)
    symbols = symbolize_free_run(model, model.initial_state(torch.tensor([0.1, 0.1], dtype=torch.float64)), 5000)
    labels = np.array(symbols.alphabet.labels)[symbols.sequences[0]]
    np.testing.assert_array_equal(labels, np.where(states[:, 0] > 0, "10", "01"))


def _precomputed_tangent_step(model, n_steps: int):
    """Return the orbit's start and a tangent step that walks along a precomputed orbit and its Jacobians.

    Batched Jacobians make the QR loop several times faster than one torch
    call per step.
    """
    orbit = _model_orbit(model, n_steps + 101)[100:]
    with torch.no_grad():
        jacobians = model.jacobian(torch.from_numpy(orbit)).numpy()
    position = iter(range(n_steps + 1))

    def step(state, vectors):
        index = next(position)
        return orbit[index + 1], jacobians[index] @ vectors

    return orbit[0], step


def test_lyapunov_exponents_are_lozis():
    """The two largest exponents are the Lozi map's, and their sum is ln b up to a known boundary term.

    Hypothesis: (x, y) follow the Lozi map, and the other two directions are
    annihilated. Reference: 0.4709 and −1.1640 per step (QR, 2·10^5
    iterations). Tolerance 0.015: the estimate over 2·10^4 steps fluctuates by
    a few 10^-3 (standard deviation of the local growth rates, about 0.5,
    over √(2·10^4)). The sum is the growth rate of areas: |det J_Lozi| = b in
    every step, but the tracked plane turns once, from the (x, y) plane into
    the image of J spanned by (1, 0, 1, −1) and (0, 1, 0, 0), which scales
    areas by √3. So the sum is ln b + ln(√3) / n exactly, to round-off (1e-9).
    """
    model = lozi_alrnn()
    reference = get_system("lozi").reference.exponents
    n_steps = 20_000
    state, tangent_step = _precomputed_tangent_step(model, n_steps)
    spectrum = lyapunov_spectrum(tangent_step, state, n_steps=n_steps, n_exponents=2)
    np.testing.assert_allclose(spectrum.exponents, reference, atol=0.015)
    assert spectrum.exponents.sum() == pytest.approx(np.log(B) + np.log(np.sqrt(3.0)) / n_steps, abs=1e-9)


def test_jacobian_has_rank_two():
    """Rank 2 at every state of the orbit, so the two extra exponents are −∞ (the null space is mapped to zero)."""
    model = lozi_alrnn()
    with torch.no_grad():
        jacobians = model.jacobian(torch.from_numpy(_model_orbit(model, 2000))).numpy()
    singular_values = np.linalg.svd(jacobians, compute_uv=False)
    # Zero singular values come out as round-off, about 1e-16 against a largest one of about 3.
    assert np.all(singular_values[:, 1] > 0.1)
    assert np.all(singular_values[:, 2:] < 1e-12)


@pytest.fixture(scope="module")
def lozi_blocks():
    """Block entropies of 10^6 sign symbols: 64 orbits of 15,625 steps after 200 transient steps."""
    model = lozi_alrnn()
    symbols = symbolize_free_run(model, _lozi_starts(64), n_steps=15_625, transient=200)
    assert symbols.alphabet.labels == ("01", "10")
    return block_entropies(symbols, max_length=13)


def test_conditional_block_entropy_gives_lyapunov_exponent(lozi_blocks):
    """H(13) − H(12) of the sign code is within 5 % of λ1 = 0.4709 per step.

    Hypothesis: the sign partition is generating and the Lozi attractor
    carries an SRB measure, so the metric entropy equals λ1 (Pesin), and
    H(k+1) − H(k) decreases to it. Measured: 0.4715 (10^6 symbols), so the
    finite-k excess and the sampling bias are about 0.1 %; 5 % allows for
    other seeds.
    """
    assert lozi_blocks.conditional_entropy(12) == pytest.approx(LOZI_LAMBDA_1, rel=0.05)


def test_word_count_estimate_between_lyapunov_and_ln2(lozi_blocks):
    """ln(N_k)/k lies between λ1 and ln 2 and does not grow with k.

    The topological entropy bounds the metric entropy λ1 from above, and two
    symbols allow at most ln 2. ln N_k is subadditive, so ln(N_k)/k stays
    above its limit. It need not fall at every k, but here it does (measured:
    ln 2 up to k = 4, then strictly falling to 0.5605 at k = 13), and it drops
    clearly between k = 5 and k = 13.
    """
    estimates = lozi_blocks.word_count_entropies
    assert np.all(estimates[4:] > LOZI_LAMBDA_1)
    assert np.all(estimates <= np.log(2) + 1e-12)
    assert np.all(np.diff(estimates) <= 1e-12)
    assert estimates[12] < estimates[4] - 0.05
