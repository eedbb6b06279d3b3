"""n-step prediction error of a model on observed data."""

from __future__ import annotations

import numpy as np
import torch

from dsr.errors import InputError
from dsr.models.base import ReconstructionModel


def prediction_error_curve(
    model: ReconstructionModel,
    observations: np.ndarray,
    n_steps: int = 20,
    max_starts: int | None = 10_000,
) -> np.ndarray:
    """Return PE(k) for k = 1..n_steps: the mean squared error of k-step free-run predictions.

        PE(k) = mean over starts t and variables of (x̂_{t+k} − x_{t+k})²,

    where x̂_{t+k} comes from inferring the latent state from x_t alone (the
    model's `initial_state`) and iterating the model k times without forcing.
    Every t with t + n_steps inside the data is a start; above `max_starts`
    (default 10,000, None for all) they are taken evenly spaced, which changes
    the estimate by far less than its spread over t. Units are those of
    `observations` (standardised data in dsr's evaluation).
    """
    observations = np.asarray(observations, dtype=np.float64)
    if observations.ndim != 2:
        raise InputError(f"Observations must have shape (T, N), got {observations.shape}.")
    if n_steps < 1:
        raise InputError(f"The prediction horizon must be at least 1 step, got {n_steps}.")
    n_starts = len(observations) - n_steps
    if n_starts < 1:
        raise InputError(f"{len(observations)} samples are too few for {n_steps}-step predictions; need at least {n_steps + 1}.")

    starts = np.arange(n_starts)
    if max_starts is not None and n_starts > max_starts:
        starts = np.linspace(0, n_starts - 1, max_starts).astype(int)

    model64 = model if next(model.parameters()).dtype == torch.float64 else _float64(model)
    x = torch.as_tensor(observations)
    squared_errors = np.empty(n_steps)
    with torch.no_grad():
        z = model64.initial_state(x[starts])
        for k in range(1, n_steps + 1):
            z = model64.step(z)
            squared_errors[k - 1] = float(torch.mean((model64.observe(z) - x[starts + k]) ** 2))
    return squared_errors


def _float64(model: ReconstructionModel) -> ReconstructionModel:
    import copy

    return copy.deepcopy(model).double().cpu().eval()
