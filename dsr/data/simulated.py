"""Datasets from simulations of catalogued systems, single or as parameter sweeps."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from dsr.data.dataset import Dataset, normalization_statistics, split_boundaries
from dsr.provenance import command_line
from dsr.data.ingest import DEFAULT_SPLIT
from dsr.systems import get_system, initial_conditions, simulate
from dsr.systems.simulate import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE


def simulate_dataset(
    system: str,
    n_steps: int,
    dt: float | None = None,
    parameters: Mapping[str, float] | None = None,
    n_trajectories: int = 1,
    noise: float = 0.0,
    seed: int = 0,
    transient: float | None = None,
    split: tuple[float, float, float] = DEFAULT_SPLIT,
    standardize: bool = True,
    name: str | None = None,
) -> Dataset:
    """Simulate `system` (see `dsr.systems.simulate`) and wrap the result as a documented dataset."""
    record = get_system(system)
    resolved = record.resolve_parameters(parameters)
    dt = record.dt if dt is None else float(dt)
    trajectories = simulate(record, n_steps, dt=dt, parameters=resolved, n_trajectories=n_trajectories,
                            transient=transient, noise=noise, seed=seed)
    starts = initial_conditions(record, resolved, n_trajectories, seed)

    boundaries = split_boundaries([n_steps] * n_trajectories, split)
    chain: list[dict] = [{"step": "simulate", "integrator": "DOP853" if record.kind == "flow" else "iteration",
                          "rtol": RELATIVE_TOLERANCE, "atol": ABSOLUTE_TOLERANCE}]
    if noise > 0:
        chain.append({"step": "observation_noise", "fraction_of_std": noise})
    chain.append({"step": "split", "fractions": list(split)})
    if standardize:
        mean, std = normalization_statistics(list(trajectories), boundaries)
        chain.append({"step": "standardize", "statistics": "training part"})
    else:
        mean, std = np.zeros(trajectories.shape[-1]), np.ones(trajectories.shape[-1])

    provenance = {
        "kind": "simulated",
        "system": record.name,
        "parameters": resolved,
        "initial_conditions": starts.tolist(),
        "transient": record.transient if transient is None else float(transient),
        "seed": seed,
        "noise": noise,
        "command_line": command_line(),
    }
    return Dataset(
        trajectories=list(trajectories), variables=record.variable_names(resolved), dt=dt,
        time_unit="" if record.kind == "map" else "time units", split=boundaries, mean=mean, std=std,
        provenance=provenance, preprocessing=chain, name=name or record.name,
    )


def sweep_parameter_sets(system: str, parameters: Mapping[str, float] | None, name: str, values: np.ndarray) -> list[dict[str, float]]:
    """Return one parameter set per value of the swept parameter, each checked against the system."""
    record = get_system(system)
    return [record.resolve_parameters({**(parameters or {}), name: float(value)}) for value in values]
