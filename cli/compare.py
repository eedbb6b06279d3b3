"""`dsr compare`: one table of many runs, with the configuration that differs and their metrics."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import console
from dsr.errors import InputError

STATUS_STYLES = {"completed": console.GOOD_STYLE, "diverged": console.ERROR_STYLE, "interrupted": console.NOTE_STYLE}


def compare_command(
    runs: Annotated[list[Path], typer.Argument(help="Run folders, or folders that contain run folders (runs/* or runs/).", show_default=False)],
    sort: Annotated[Optional[str], typer.Option("--sort", help="Sort by this column: a configuration key (n_relu, seed, ...) or a metric (dstsp, dh, lambda1, final_loss, ...). Runs without a value come last. Default: the order given.", show_default=False)] = None,
    descending: Annotated[bool, typer.Option("--descending", help="Sort from the largest value down.")] = False,
    where: Annotated[Optional[list[str]], typer.Option("--where", help="Keep runs whose KEY equals VALUE, e.g. n_relu=2; VALUE may be a comma list (seed=0,1). Repeat for several conditions, all of which must hold.", show_default=False)] = None,
    csv_: Annotated[bool, typer.Option("--csv", help="Print CSV on standard output instead of the table.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write the table as CSV to this file.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the runs as JSON on standard output instead of the table.")] = False,
) -> None:
    """Tabulate many runs: the configuration keys that differ between them, and their metrics.

    Columns: the run's folder name, every training option that is not the
    same in all runs shown, then status, epochs_done, final_loss (training
    MSE of the last epoch), best_validation and training_seconds. From
    `dsr evaluate` come dstsp and dh with their data-vs-data floors, and
    lambda1, the model's largest Lyapunov exponent per time unit. Runs that
    cannot be read are skipped with a warning; the exit code is 2 only when
    none can be read.

    Examples:
      dsr compare runs/* --sort dstsp
      dsr compare runs/ --where n_relu=2 --where seed=0,1 --csv > relu2.csv
      dsr compare runs/* --sort lambda1 --descending -o summary.csv
    """
    from dsr.atomic import atomic_path, check_output_path
    from dsr.runs.compare import compare_runs, write_csv

    if csv_ and json_:
        raise InputError("Choose one output format: --csv or --json, not both.")
    if output is not None:
        check_output_path(output, force)

    comparison = compare_runs(runs, where=where or (), sort=sort, descending=descending)
    if output is not None:
        with atomic_path(output) as temporary, open(temporary, "w", newline="", encoding="utf-8") as stream:
            write_csv(comparison, stream)
        console.note(f"wrote {output} ({len(comparison.records)} runs)")

    if csv_:
        buffer = io.StringIO()
        write_csv(comparison, buffer)
        console.stdout.file.write(buffer.getvalue())
        console.stdout.file.flush()
        return
    if json_:
        console.print_json({
            "runs": comparison.rows(), "config_keys": comparison.config_keys,
            "columns": comparison.columns, "summary": comparison.summary(),
            "skipped": [{"path": str(path), "reason": reason} for path, reason in comparison.skipped],
        })
        return
    if not comparison.records:
        console.note("No run matches the --where conditions.")
        return
    table, width = _table(comparison)
    if width <= console.stdout.width:
        console.stdout.print(table)
        return
    # Wider than the terminal rather than squeezed into letter-wide columns
    # (rich caps a console's output at its width, so a wider console is needed).
    wide = Console(file=console.stdout.file, width=width, highlight=False, color_system=console.stdout.color_system,
                   force_terminal=console.stdout.is_terminal)
    wide.print(table)


def _table(comparison) -> tuple[Table, int]:
    """Return the rich table and the width it needs without wrapping a number or a name."""
    count = len(comparison.records)
    caption = "Columns are the names for --sort and --where. -: not evaluated or not recorded."
    if count > 1:
        caption += " median and MAD (median absolute deviation) count the runs that have a value."
    title = "1 run" if count == 1 else f"{count} runs"
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    text_columns = {"run", "status", *comparison.config_keys}
    rows = [[_cell(column, row[column]) for column in comparison.columns] for row in comparison.rows()]
    summary_rows = _summary_rows(comparison) if count > 1 else []
    width = 1
    for index, column in enumerate(comparison.columns):
        widest_cell = max((len(row[index]) for row in rows + summary_rows), default=1)
        table.add_column(column, justify="left" if column in text_columns else "right", no_wrap=True)
        width += max(widest_cell, len(column)) + 3
    for row in rows:
        table.add_row(*row)
    if summary_rows:
        table.add_section()
        for row in summary_rows:
            table.add_row(*row, style="bold")
    return table, width


def _summary_rows(comparison) -> list[list[Text]]:
    """Return the median and MAD rows under the runs, blank in the columns that are not summarised."""
    summary = comparison.summary()
    rows = []
    for statistic, label in (("median", "median"), ("mad", "MAD")):
        cells = [Text(label)]
        for column in comparison.columns[1:]:
            cells.append(_cell(column, summary[column][statistic]) if column in summary else Text(""))
        rows.append(cells)
    return rows


def _cell(column: str, value) -> Text:
    if value is None:
        text = "-"
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, int):
        text = str(value)
    else:
        text = f"{value:.4g}"
    # Text, not markup, so that run names with brackets print as they are.
    return Text(text, style=STATUS_STYLES.get(value, "") if column == "status" else "")
