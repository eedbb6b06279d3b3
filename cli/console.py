"""Terminal output shared by all commands: consoles, styles, tables and JSON."""

from __future__ import annotations

import contextlib
import json
import logging
import math
from typing import Any, Iterator

import numpy as np
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import Progress, ProgressColumn
from rich.table import Table

# Results go to standard output, messages and logs to standard error, so
# `dsr ... --json > out.json` captures only the result.
stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

ERROR_STYLE = "bold red"
NOTE_STYLE = "cyan"
GOOD_STYLE = "green"


def configure_logging(level: int) -> None:
    """Send the library's log records to standard error through rich."""
    logger = logging.getLogger("dsr")
    logger.handlers = [h for h in logger.handlers if not isinstance(h, RichHandler)]
    handler = RichHandler(console=stderr, show_path=False, show_time=True, markup=False, rich_tracebacks=False)
    handler.setFormatter(logging.Formatter("%(message)s", datefmt="[%X]"))
    logger.addHandler(handler)
    logger.setLevel(level)


def quiet_logging() -> None:
    """Show only warnings and errors on the console; train.log still gets every INFO record."""
    for handler in logging.getLogger("dsr").handlers:
        if isinstance(handler, RichHandler):
            handler.setLevel(logging.WARNING)


class _DeferredProgress(Progress):
    """A progress bar that appears with its first update, not when it is created."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        if not self.live.is_started:
            self.start()
        super().update(*args, **kwargs)


@contextlib.contextmanager
def deferred_progress(*columns: str | ProgressColumn) -> Iterator[Progress]:
    """Yield a progress bar on standard error that is shown from its first update on, and stopped at the end.

    An input error raised before the first epoch then prints alone, without
    an empty bar above it.
    """
    progress = _DeferredProgress(*columns, console=stderr, transient=False)
    try:
        yield progress
    finally:
        if progress.live.is_started:
            progress.stop()


def note(message: str) -> None:
    """Show an informational line on standard error."""
    stderr.print(f"[{NOTE_STYLE}]{message}[/]", markup=True, soft_wrap=True)


def format_number(value: Any, digits: int = 4) -> str:
    """Format a number for a table: fixed notation for ordinary sizes, scientific otherwise."""
    if value is None:
        return "-"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"


def key_value_table(title: str, rows: list[tuple[str, Any]]) -> Table:
    """Return a two-column table of names and values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, value if isinstance(value, str) else format_number(value))
    return table


def to_jsonable(value: Any) -> Any:
    """Convert numpy values and containers to plain JSON types (non-finite floats become strings)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def print_json(payload: dict[str, Any]) -> None:
    """Print `payload` as one JSON document on standard output."""
    stdout.file.write(json.dumps(to_jsonable(payload), indent=2) + "\n")
    stdout.file.flush()
