"""`dsr simulate`: datasets from the catalogue of known systems."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from cli import console
from cli.options import parse_list, parse_split
from dsr.errors import InputError


def simulate_command(
    system: Annotated[Optional[str], typer.Argument(help="Catalogue name, e.g. lorenz63, rossler, henon. See --list.", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output HDF5 file (a folder with --sweep). Default: SYSTEM.h5, or folder SYSTEM_sweep/ with --sweep.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", help="Samples per trajectory, after the transient.")] = 100_000,
    dt: Annotated[Optional[float], typer.Option("--dt", help="Sampling step in time units. Default: the system's (see --list). Maps accept only 1.", show_default=False)] = None,
    params: Annotated[Optional[list[str]], typer.Option("--params", "-p", help="Parameter overrides NAME=VALUE, repeated or comma-separated, e.g. -p rho=30,beta=2.5.", show_default=False)] = None,
    trajectories: Annotated[int, typer.Option("--trajectories", "-k", help="Number of trajectories K. The first starts at the default initial condition, the others at Gaussian perturbations of it.")] = 1,
    noise: Annotated[float, typer.Option("--noise", help="Gaussian observation noise, as a fraction of each variable's standard deviation (0.05 = 5 %).")] = 0.0,
    transient: Annotated[Optional[float], typer.Option("--transient", help="Time units (iterations for maps) dropped before sampling. Default: the system's.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the initial-condition perturbations and the noise.")] = 0,
    split: Annotated[str, typer.Option("--split", help="Train, validation and test fractions of each trajectory, in time order.")] = "0.8,0.1,0.1",
    standardize: Annotated[bool, typer.Option("--standardize/--no-standardize", help="Store z-scoring statistics of the training part, which models use.")] = True,
    sweep: Annotated[Optional[str], typer.Option("--sweep", help="Write a family of datasets over NAME=START:STOP:COUNT (ends included), e.g. rho=24:32:5.", show_default=False)] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the catalogued systems and exit.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on standard output instead of a table.")] = False,
) -> None:
    """Simulate a known dynamical system into an HDF5 dataset.

    Flows are integrated with scipy's DOP853 (rtol = atol = 1e-10) and sampled
    every --dt after dropping a transient; maps are iterated. The dataset stores
    the trajectories in the system's own units with the parameters, initial
    conditions, seed and command line, a train/validation/test split and
    z-scoring statistics of the training part.

    Example: dsr simulate lorenz63 --steps 100000 --dt 0.01 -o l63.h5
    """
    from dsr.atomic import check_output_path
    from dsr.data.dataset import write_dataset
    from dsr.data.simulated import simulate_dataset, sweep_parameter_sets
    from dsr.systems import list_systems, parse_parameter_overrides, parse_sweep

    if list_:
        _print_catalogue(list_systems(), json_)
        return
    if system is None:
        raise InputError("Name a system to simulate, e.g. `dsr simulate lorenz63`, or list them with `dsr simulate --list`.")

    overrides = parse_parameter_overrides(parse_list(params))
    fractions = parse_split(split)
    options = dict(n_steps=steps, dt=dt, n_trajectories=trajectories, noise=noise, seed=seed,
                   transient=transient, split=fractions, standardize=standardize)

    if sweep is None:
        path = output or Path(f"{system}.h5")
        # Check the output before a simulation that can take minutes.
        check_output_path(path, force)
        dataset = simulate_dataset(system, parameters=overrides, **options)
        write_dataset(dataset, path, force=force)
        summary = [_summary(path, dataset)]
    else:
        name, values = parse_sweep(sweep)
        parameter_sets = sweep_parameter_sets(system, overrides, name, values)
        folder = output or Path(f"{system}_sweep")
        paths = [folder / f"{system}_{name}={parameters[name]:g}.h5" for parameters in parameter_sets]
        _check_sweep_outputs(folder, paths, force)
        folder.mkdir(parents=True, exist_ok=True)
        summary = []
        for path, parameters in zip(paths, parameter_sets):
            dataset = simulate_dataset(system, parameters=parameters, name=path.stem, **options)
            write_dataset(dataset, path, force=force)
            summary.append(_summary(path, dataset))

    if json_:
        console.print_json({"datasets": summary})
        return
    for item in summary:
        console.stdout.print(f"wrote {item['path']}: {item['trajectories']} x {item['steps']} x {item['variables']}, "
                             f"dt {item['dt']:g}, parameters {item['parameters']}")


def _check_sweep_outputs(folder: Path, paths: list[Path], force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder; --sweep writes one file per parameter value into a folder.")
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]}: exists already ({len(existing)} of the sweep's files do). Choose another folder or pass --force.")


def _summary(path: Path, dataset) -> dict:
    return {
        "path": str(path),
        "system": dataset.provenance["system"],
        "parameters": dataset.provenance["parameters"],
        "trajectories": len(dataset.trajectories),
        "steps": len(dataset.trajectories[0]),
        "variables": dataset.n_variables,
        "dt": dataset.dt,
    }


def _print_catalogue(systems, json_: bool) -> None:
    if json_:
        console.print_json({"systems": [
            {"name": s.name, "title": s.title, "kind": s.kind, "equations": s.description,
             "parameters": dict(s.parameters), "dt": s.dt,
             "reference_spectrum": list(s.reference.exponents) if s.reference else None}
            for s in systems]})
        return
    table = Table(title="Catalogued systems", title_justify="left")
    for column in ("name", "kind", "equations", "default parameters", "dt", "reference spectrum"):
        table.add_column(column, overflow="fold")
    for s in systems:
        parameters = ", ".join(f"{k}={v:g}" for k, v in s.parameters.items()) or "-"
        reference = ", ".join(f"{x:g}" for x in s.reference.exponents) if s.reference else "-"
        table.add_row(s.name, s.kind, s.description, parameters, f"{s.dt:g}", reference)
    console.stdout.print(table)
