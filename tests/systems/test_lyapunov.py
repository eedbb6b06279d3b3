"""Lyapunov spectra of catalogued systems against published values and exact sum rules."""

import numpy as np
import pytest

from dsr.analysis.lyapunov import kaplan_yorke_dimension, lyapunov_spectrum
from dsr.errors import InputError
from dsr.systems.lyapunov import system_lyapunov_spectrum

LORENZ_REFERENCE = (0.9056, 0.0, -14.5723)  # Sprott, Chaos and Time-Series Analysis (2003)
HENON_REFERENCE = (0.4192, -1.6232)


def test_lorenz63_spectrum():
    """QR on the variational equations (RK4, h = 0.01) over T = 500 time units.

    The finite-time estimate of λ1 fluctuates by about 1 % at T = 500 (its
    running spread over the second half of the run is of that size), so the
    required 2 % leaves room for that without hiding a wrong Jacobian, which
    would be off by far more. The sum must equal the constant divergence
    −(σ + 1 + β) = −13.667 to within the RK4 and finite-time error.
    """
    spectrum, _ = system_lyapunov_spectrum("lorenz63", time=500.0)
    assert spectrum.exponents[0] == pytest.approx(LORENZ_REFERENCE[0], rel=0.02)
    assert abs(spectrum.exponents[1]) < 0.02
    assert spectrum.exponents[2] == pytest.approx(LORENZ_REFERENCE[2], rel=0.01)
    assert spectrum.exponents.sum() == pytest.approx(-(10 + 1 + 8 / 3), abs=0.01)
    assert spectrum.kaplan_yorke_dimension == pytest.approx(2.062, abs=0.01)


def test_henon_spectrum():
    """10^5 iterations; the sum of the exponents is exactly ln b = ln 0.3 per iteration (det J = −b)."""
    spectrum, _ = system_lyapunov_spectrum("henon", time=100_000)
    assert spectrum.exponents[0] == pytest.approx(HENON_REFERENCE[0], rel=0.02)
    assert spectrum.exponents[1] == pytest.approx(HENON_REFERENCE[1], rel=0.02)
    assert spectrum.exponents.sum() == pytest.approx(np.log(0.3), abs=1e-9)


def test_logistic_map_is_ln2():
    """At r = 4 the logistic map is conjugate to the tent map, whose exponent is exactly ln 2."""
    spectrum, _ = system_lyapunov_spectrum("logistic", time=50_000)
    assert spectrum.exponents[0] == pytest.approx(np.log(2), abs=0.01)


def test_lorenz96_sum_rule():
    """The divergence of Lorenz-96 is −N everywhere, so the exponents of N = 6 sum to −6."""
    spectrum, _ = system_lyapunov_spectrum("lorenz96", {"N": 6}, time=50.0, transient=10.0)
    assert spectrum.exponents.sum() == pytest.approx(-6.0, abs=0.01)


def test_linear_map_gives_log_eigenvalues():
    """For z' = Dz with D = diag(2, 0.5) the exponents are exactly ln 2 and ln 0.5."""
    matrix = np.diag([2.0, 0.5])

    def step(state, vectors):
        return matrix @ state, matrix @ vectors

    spectrum = lyapunov_spectrum(step, np.ones(2), n_steps=100)
    np.testing.assert_allclose(spectrum.exponents, np.log([2.0, 0.5]), atol=1e-12)


def test_kaplan_yorke_closed_form():
    assert kaplan_yorke_dimension(np.array([0.9056, 0.0, -14.5723])) == pytest.approx(2 + 0.9056 / 14.5723)
    assert kaplan_yorke_dimension(np.array([-0.1, -1.0])) == 0.0
    assert kaplan_yorke_dimension(np.array([0.5, 0.1])) == 2.0


def test_too_few_steps_rejected():
    with pytest.raises(InputError, match="too few"):
        lyapunov_spectrum(lambda s, v: (s, v), np.ones(2), n_steps=5)
