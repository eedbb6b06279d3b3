"""Free-running trajectories of a trained model, as datasets in physical units."""

from __future__ import annotations

import numpy as np
import torch

from dsr.data.dataset import Dataset
from dsr.provenance import command_line
from dsr.errors import InputError, NumericalError
from dsr.runs.run import Run


def generate_latent(run: Run, z0: np.ndarray, n_steps: int) -> np.ndarray:
    """Iterate the run's model freely in float64 from latent states z0 (K, M); return (K, n_steps + 1, M), z0 first."""
    model = run.model.double()
    with torch.no_grad():
        z = torch.as_tensor(z0, dtype=torch.float64)
        states = model.generate(z, n_steps).transpose(0, 1)
        states = torch.cat([z[:, None], states], dim=1).numpy()
    if not np.all(np.isfinite(states)):
        raise NumericalError(
            f"The free run of {run.folder} diverged to infinity within {n_steps} steps; the model has unbounded orbits "
            "from this start. Try the shPLRNN with --clipped, or another checkpoint."
        )
    return states


def generate_from_data(run: Run, observations: np.ndarray, n_steps: int) -> np.ndarray:
    """Infer states from standardised observations (K, N) and run freely; return observations (K, n_steps + 1, N)."""
    model = run.model.double()
    with torch.no_grad():
        z0 = model.initial_state(torch.as_tensor(observations, dtype=torch.float64)).numpy()
    states = generate_latent(run, z0, n_steps)
    with torch.no_grad():
        return model.observe(torch.as_tensor(states)).numpy()


def generated_dataset(run: Run, dataset: Dataset, standardized: np.ndarray, description: dict) -> Dataset:
    """Wrap generated standardised trajectories (K, T, N) as a dataset in physical units."""
    trajectories = [dataset.to_physical(t) for t in standardized]
    length = standardized.shape[1]
    if length < 2:
        raise InputError("Generate at least 2 steps.")
    return Dataset(
        trajectories=trajectories, variables=dataset.variables, units=dataset.units, dt=dataset.dt,
        time_unit=dataset.time_unit, split=np.array([[length, length]] * len(trajectories)),
        mean=dataset.mean, std=dataset.std, name=f"{run.name} free run",
        provenance={"kind": "generated", "run": str(run.folder.resolve()), "parameters_used": run.which,
                    "command_line": command_line(), **description},
        preprocessing=[{"step": "generate", "model": run.model_config["model"]}],
    )
