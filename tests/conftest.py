"""Shared fixtures: running the dsr command in-process, and the optional shared reference data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

# Tiny models run fastest on one thread, and tests must not fight over 2 cores.
torch.set_num_threads(1)

SHARED_DATA = Path(os.environ.get("DSR_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def dsr_cli(capsys):
    """Run `dsr ARGS...` in this process and return its exit code and output."""
    from cli.main import run

    def invoke(*args: str) -> CliResult:
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def shared_data() -> Path:
    """The folder of published benchmark series; tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} not found (set DSR_SHARED_DATA to its location)")
    return SHARED_DATA
