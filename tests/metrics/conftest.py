"""Trajectories of Lorenz-63 and Rössler shared by the metric tests, simulated once per session."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.systems import simulate

LORENZ_DT = 0.01


def z_score(trajectory: np.ndarray) -> np.ndarray:
    """Return the trajectory with each dimension shifted to mean 0 and scaled to standard deviation 1."""
    return (trajectory - trajectory.mean(axis=0)) / trajectory.std(axis=0)


@pytest.fixture(scope="session")
def lorenz() -> np.ndarray:
    """Lorenz-63 (σ 10, ρ 28, β 8/3) from its default initial condition: 10,000 samples at dt 0.01, shape (T, 3)."""
    return simulate("lorenz63", n_steps=10_000, dt=LORENZ_DT, seed=0)[0]


@pytest.fixture(scope="session")
def lorenz_long() -> np.ndarray:
    """A second Lorenz-63 run from another initial condition: 30,000 samples at dt 0.01, shape (T, 3)."""
    return simulate("lorenz63", n_steps=30_000, dt=LORENZ_DT, initial_condition=np.array([-5.0, 3.0, 20.0]))[0]


@pytest.fixture(scope="session")
def rossler() -> np.ndarray:
    """Rössler (a 0.2, b 0.2, c 5.7): 10,000 samples at its default dt 0.05, about 85 turns, shape (T, 3)."""
    return simulate("rossler", n_steps=10_000, seed=0)[0]
