"""The command line and creation times recorded in the provenance of datasets and runs.

By default it is the process's own command line. A front end that runs
commands in-process (the dsr CLI under a test runner, a notebook helper)
sets the command it is executing with `recorded_command_line`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import shlex
import sys
from pathlib import Path
from typing import Iterator

_COMMAND_LINE: contextvars.ContextVar[str | None] = contextvars.ContextVar("dsr_command_line", default=None)


def command_line() -> str:
    """Return the command line to record: the one set by `recorded_command_line`, else sys.argv."""
    recorded = _COMMAND_LINE.get()
    if recorded is not None:
        return recorded
    return " ".join(shlex.quote(argument) for argument in [Path(sys.argv[0]).name, *sys.argv[1:]])


@contextlib.contextmanager
def recorded_command_line(arguments: list[str], program: str = "dsr") -> Iterator[None]:
    """Record `program arguments...` as the command line while the block runs."""
    token = _COMMAND_LINE.set(" ".join(shlex.quote(a) for a in [program, *arguments]))
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


def utc_timestamp() -> str:
    """Return the current time in UTC as an ISO 8601 string to the second, as stored in created_utc attributes."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
