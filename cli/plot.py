"""`dsr plot`: figures of a trained run (attractor, time series, spectra, training, Lyapunov, subregions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from cli import console
from cli.options import parse_list


def plot_command(
    run: Annotated[Path, typer.Argument(help="Run folder from `dsr train`.", show_default=False)],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Folder for the figures. Default: RUN/figures.", show_default=False)] = None,
    format_: Annotated[str, typer.Option("--format", help="File format: png or pdf.")] = "png",
    figures: Annotated[Optional[list[str]], typer.Option("--figures", help="Figures to make, repeated or comma-separated: attractor, time_series, power_spectrum, training, lyapunov, subregions, transition_graph. Default: all.", show_default=False)] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Compare with this dataset instead of the run's own (same variables).", show_default=False)] = None,
    part: Annotated[str, typer.Option("--part", help="Dataset part that the free run starts from and is compared with: train, valid, test or all.")] = "test",
    window: Annotated[int, typer.Option("--window", help="Time series overlay: steps shown, from the first sample of the part.")] = 2_000,
    variables: Annotated[int, typer.Option("--variables", help="Time series and spectra: number of variables shown, from the first.")] = 3,
    steps: Annotated[int, typer.Option("--steps", help="Free-run steps for the attractor, spectra and subregion figures, after the transient.")] = 10_000,
    transient: Annotated[int, typer.Option("--transient", help="Free-run steps dropped before those figures.")] = 1_000,
    sigma: Annotated[float, typer.Option("--dh-sigma", help="Power spectra: Gaussian smoothing in frequency bins, as for D_H.")] = 20.0,
    lyapunov_steps: Annotated[int, typer.Option("--lyapunov-steps", help="Steps of the QR Lyapunov computation, used only when the run has no stored `dsr evaluate` result for these parameters.")] = 20_000,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of PNG files in dots per inch.")] = 150,
    which: Annotated[str, typer.Option("--parameters", help="best (by validation score) or latest parameters.")] = "best",
    force: Annotated[bool, typer.Option("--force", help="Replace figure files of the same names in the output folder.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the written files as JSON on standard output.")] = False,
) -> None:
    """Draw the figures of a trained run and write them as PNG or PDF files.

    One free run of the model starts from the first sample of the test part (--part).
    Its first --window steps are overlaid on the data. After --transient
    steps, the next --steps give the attractor side by side with the data
    (in the data's first principal components for more than three
    variables), the power spectra, the attractor coloured by subregion, and
    the subregion transition graph. The training curves come from the run's
    history, and the Lyapunov convergence from the stored `dsr evaluate`
    result, or is computed when there is none. Existing figure files of the
    same names are replaced only with --force.

    Examples:
      dsr plot runs/l63
      dsr plot runs/l63 --format pdf -o paper/figures --figures attractor,power_spectrum
    """
    from dsr.plotting import FigureOptions, write_run_figures
    from dsr.runs import load_run

    options = FigureOptions(
        kinds=tuple(parse_list(figures)) or FigureOptions().kinds, part=part, window=window, n_variables=variables,
        transient=transient, steps=steps, smoothing_sigma=sigma, lyapunov_steps=lyapunov_steps, dpi=dpi,
    )
    trained = load_run(run, which=which)
    dataset = trained.load_dataset(data) if data is not None else None
    written = write_run_figures(trained, output, format_, dataset=dataset, options=options, overwrite=force)
    missing = [kind for kind in options.kinds if kind not in written]

    if json_:
        console.print_json({"run": str(run), "figures": {kind: str(path) for kind, path in written.items()},
                            "skipped": missing})
        return
    table = Table(title=f"Figures of {run}", title_justify="left")
    table.add_column("figure")
    table.add_column("file", overflow="fold")
    for kind, path in written.items():
        table.add_row(kind, str(path))
    for kind in missing:
        table.add_row(kind, "skipped (see the warning above)")
    console.stdout.print(table)
