"""`dsr generate`: free-running trajectories of a trained model, in the dataset format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from cli import console
from cli.options import parse_list
from dsr.errors import InputError


def generate_command(
    run: Annotated[Path, typer.Argument(help="Run folder from `dsr train`.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output dataset file (.h5).", show_default=False)],
    steps: Annotated[int, typer.Option("--steps", help="Steps to generate after the initial state.")] = 10_000,
    start_from: Annotated[str, typer.Option("--from", help="data: infer the initial state from an observation; state: start from the latent state given by --state.")] = "data",
    part: Annotated[str, typer.Option("--part", help="With --from data: the dataset part to take the observation from (train, valid, test).")] = "test",
    index: Annotated[int, typer.Option("--index", help="With --from data: sample index within that part (of its first trajectory).")] = 0,
    state: Annotated[Optional[list[str]], typer.Option("--state", help="With --from state: the M latent values, comma-separated.", show_default=False)] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Dataset to take the observation and normalisation from. Default: the run's training dataset.", show_default=False)] = None,
    which: Annotated[str, typer.Option("--parameters", help="best (by validation score) or latest parameters.")] = "best",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on standard output.")] = False,
) -> None:
    """Generate a free-running trajectory of a trained model and write it as a dataset.

    The trajectory is computed in float64 and written in the data's physical
    units (the dataset's normalisation undone), with the run and the start in
    its provenance, so that `dsr info` and `dsr evaluate --reference` read it.

    Example: dsr generate runs/l63 --steps 100000 -o l63_free.h5
    """
    from dsr.data.dataset import write_dataset
    from dsr.runs import load_run
    from dsr.runs.generate import generate_from_data, generate_latent, generated_dataset

    trained = load_run(run, which=which)
    dataset = trained.load_dataset(data)
    if steps < 1:
        raise InputError(f"--steps must be at least 1, got {steps}.")

    if start_from == "data":
        pieces = dataset.part(part)
        if not pieces:
            raise InputError(f"The dataset has no {part} part to start from; choose --part train, valid or test.")
        if not 0 <= index < len(pieces[0]):
            raise InputError(f"--index {index} is outside the {part} part, which has {len(pieces[0])} samples.")
        generated = generate_from_data(trained, pieces[0][index:index + 1], steps)
        description = {"start": "data", "part": part, "index": index}
    elif start_from == "state":
        values = [float(v) for v in parse_list(state)]
        if len(values) != trained.model.latent_dim:
            raise InputError(f"--state needs M = {trained.model.latent_dim} values, got {len(values)}.")
        import torch

        states = generate_latent(trained, np.array([values]), steps)
        with torch.no_grad():
            generated = trained.model.double().observe(torch.as_tensor(states)).numpy()
        description = {"start": "state", "state": values}
    else:
        raise InputError(f"Invalid --from {start_from!r}; expected 'data' or 'state'.")

    result = generated_dataset(trained, dataset, generated, description)
    write_dataset(result, output, force=force)
    if json_:
        console.print_json({"path": str(output), "steps": steps + 1, "variables": list(dataset.variables)})
        return
    console.stdout.print(f"wrote {output}: {steps + 1} samples x {dataset.n_variables} variables in physical units")
