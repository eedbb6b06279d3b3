"""Spread of the data-based estimators over independent Lorenz-63 runs.

Runs largest_lyapunov_rosenstein and correlation_dimension on the x variable
of K Lorenz-63 trajectories (10,000 samples at dt 0.01, initial conditions
perturbed by dsr.systems.simulate's seed) for a few embedding dimensions, and
prints mean, minimum and maximum. The references are λ₁ = 0.906 per time unit
and D₂ = 2.05. Takes about 4 minutes on 2 CPU cores.

Usage: python benchmarks/metrics_estimators.py [K]
"""

import sys
import time

import numpy as np

from dsr.metrics import correlation_dimension, largest_lyapunov_rosenstein
from dsr.systems import simulate


def main() -> None:
    n_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 14
    dt = 0.01
    trajectories = simulate("lorenz63", n_steps=10_000, dt=dt, n_trajectories=n_runs, seed=7)
    print(f"Lorenz-63 x, {n_runs} runs of 10,000 samples at dt {dt}")

    for emb_dim in (4, 5):
        start = time.perf_counter()
        estimates = np.array([largest_lyapunov_rosenstein(run[:, 0], dt, emb_dim=emb_dim) for run in trajectories])
        _report(f"Rosenstein lambda_1, emb_dim {emb_dim}", estimates, 0.906, time.perf_counter() - start)

    for emb_dim in (3, 4, 5):
        start = time.perf_counter()
        estimates = np.array([correlation_dimension(run[:, 0], emb_dim=emb_dim) for run in trajectories])
        _report(f"correlation dimension, emb_dim {emb_dim}", estimates, 2.05, time.perf_counter() - start)


def _report(label: str, estimates: np.ndarray, reference: float, seconds: float) -> None:
    print(
        f"{label}: mean {estimates.mean():.3f}, min {estimates.min():.3f}, max {estimates.max():.3f} "
        f"(reference {reference}; worst relative error {np.max(np.abs(estimates / reference - 1)):.1%}; {seconds:.0f} s)"
    )


if __name__ == "__main__":
    main()
