"""Validation scores of a model on held-out data, used to keep the best checkpoint."""

from __future__ import annotations

import numpy as np
import torch

from dsr.models.base import ReconstructionModel

# Free runs for the prediction score start at up to this many evenly spaced
# points of the validation data.
MAX_VALIDATION_STARTS = 32


def prediction_score(model: ReconstructionModel, parts: list[np.ndarray], horizon: int) -> float:
    """Return the MSE of free runs of `horizon` steps started from validation data (standardised units).

    Starts are up to 32 evenly spaced points of the validation parts; each
    run is inferred from one observation and then runs freely.
    """
    windows = []
    for part in parts:
        if len(part) <= horizon:
            continue
        count = max(1, min(MAX_VALIDATION_STARTS, len(part) - horizon))
        for start in np.linspace(0, len(part) - horizon - 1, count).astype(int):
            windows.append(part[start:start + horizon + 1])
    if not windows:
        return float("nan")
    parameter = next(model.parameters())
    x = torch.as_tensor(np.stack(windows[:MAX_VALIDATION_STARTS]), dtype=parameter.dtype, device=parameter.device)
    with torch.no_grad():
        states = model.generate(model.initial_state(x[:, 0]), horizon)
        predictions = model.observe(states).transpose(0, 1)
        return float(torch.mean((predictions - x[:, 1:]) ** 2))


def validation_free_run(model: ReconstructionModel, part: np.ndarray, n_steps: int, transient: int) -> np.ndarray:
    """Return `n_steps` observations of a free run started from the first sample of `part`, after `transient` steps."""
    parameter = next(model.parameters())
    x0 = torch.as_tensor(part[:1], dtype=parameter.dtype, device=parameter.device)
    with torch.no_grad():
        states = model.generate(model.initial_state(x0), transient + n_steps)
        generated = model.observe(states[transient:])[:, 0]
    return generated.cpu().double().numpy()
