"""`dsr lyapunov`: the Lyapunov spectrum of a catalogued system from its analytic Jacobian."""

from __future__ import annotations

from typing import Annotated, Optional

import numpy as np
import typer
from rich.table import Table

from cli import console
from cli.options import parse_list


def lyapunov_command(
    system: Annotated[str, typer.Argument(help="Catalogue name, e.g. lorenz63 or henon (see `dsr simulate --list`).", show_default=False)],
    params: Annotated[Optional[list[str]], typer.Option("--params", "-p", help="Parameter overrides NAME=VALUE, repeated or comma-separated.", show_default=False)] = None,
    time: Annotated[Optional[float], typer.Option("--time", help="Averaging time in time units (iterations for maps). Default: the system's, e.g. 1000 for Lorenz-63.", show_default=False)] = None,
    transient: Annotated[Optional[float], typer.Option("--transient", help="Time units (iterations) before averaging starts. Default: the system's.", show_default=False)] = None,
    step: Annotated[Optional[float], typer.Option("--step", help="RK4 step of the variational equations in time units (flows only). Default: the system's, e.g. 0.01.", show_default=False)] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON result on standard output instead of a table.")] = False,
) -> None:
    """Compute the Lyapunov spectrum of a catalogued system by the QR method.

    The tangent vectors follow the analytic Jacobian (variational equations
    integrated by RK4 for flows) and are re-orthonormalised every step; the
    exponents are per time unit for flows and per iteration for maps. The table
    shows the reference spectrum where one is known, the Kaplan-Yorke dimension,
    and the spread of the running estimate over the second half of the run
    (small means converged).

    Example: dsr lyapunov lorenz63 --time 500
    """
    from dsr.systems import get_system, parse_parameter_overrides
    from dsr.systems.lyapunov import system_lyapunov_spectrum

    record = get_system(system)
    overrides = parse_parameter_overrides(parse_list(params))
    spectrum, resolved = system_lyapunov_spectrum(record, overrides, time=time, transient=transient, integration_step=step)
    unit = "per time unit" if record.kind == "flow" else "per iteration"
    reference = record.reference if resolved == record.resolve_parameters() else None

    if json_:
        console.print_json({
            "system": record.name, "parameters": resolved, "unit": unit,
            "exponents": spectrum.exponents, "spread": spectrum.spread,
            "kaplan_yorke_dimension": spectrum.kaplan_yorke_dimension,
            "sum": float(np.sum(spectrum.exponents)),
            "reference": {"exponents": reference.exponents, "source": reference.source} if reference else None,
            "steps": spectrum.n_steps, "dt": spectrum.dt,
        })
        return

    table = Table(title=f"Lyapunov spectrum of {record.title} ({unit})", title_justify="left")
    table.add_column("i", justify="right")
    table.add_column("λ_i", justify="right")
    table.add_column("spread", justify="right")
    table.add_column("reference", justify="right")
    for index, (value, spread) in enumerate(zip(spectrum.exponents, spectrum.spread)):
        expected = console.format_number(reference.exponents[index]) if reference and index < len(reference.exponents) else "-"
        table.add_row(str(index + 1), console.format_number(value), console.format_number(spread), expected)
    console.stdout.print(table)
    console.stdout.print(f"sum {np.sum(spectrum.exponents):.4f}, Kaplan-Yorke dimension {spectrum.kaplan_yorke_dimension:.3f}, "
                         f"{spectrum.n_steps:,} steps of {spectrum.dt:g}")
    if reference:
        console.stdout.print(f"reference: {reference.source}")
