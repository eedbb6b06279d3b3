"""Rebuild the reference datasets of this folder and their manifest.

Every dataset here is made by one `dsr simulate` command, listed in
COMMANDS. This script runs each command, then writes manifest.json with,
per file: the command, the trajectories' shape, the SHA-256 of the file and
the SHA-256 of its trajectories (float64, little-endian, in order). Every
rebuild changes the file checksum, because the file records its creation
time and command line. The data checksum stays the same on one platform.

Usage: python datasets/build.py   (from the repository root, with dsr installed)
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Output paths are relative to this folder.
COMMANDS = [
    "dsr simulate lorenz63 --steps 10000 --dt 0.01 --seed 0 -o lorenz63.h5",
    "dsr simulate rossler --steps 10000 --dt 0.05 --seed 0 -o rossler.h5",
    "dsr simulate henon --steps 10000 --seed 0 -o henon.h5",
    "dsr simulate lorenz63 --steps 5000 --dt 0.01 --seed 0 --sweep rho=24:32:3 -o lorenz63_rho",
]


def dsr_executable() -> str:
    """Return the dsr script installed beside this Python, else `dsr` from PATH."""
    beside = Path(sys.executable).with_name("dsr")
    return str(beside) if beside.exists() else "dsr"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_sha256(path: Path) -> str:
    """Hash the trajectories of a dataset file as float64 little-endian bytes, trajectory by trajectory."""
    from dsr.data.dataset import read_dataset

    digest = hashlib.sha256()
    for trajectory in read_dataset(path).trajectories:
        digest.update(trajectory.astype("<f8").tobytes())
    return digest.hexdigest()


def describe(path: Path, command: str) -> dict:
    from dsr.data.dataset import read_dataset

    dataset = read_dataset(path)
    return {
        "file": path.relative_to(HERE).as_posix(),
        "command": command,
        "shape": [len(dataset.trajectories), *dataset.trajectories[0].shape],
        "dt": dataset.dt,
        "file_sha256": file_sha256(path),
        "data_sha256": data_sha256(path),
    }


def main() -> int:
    entries = []
    for command in COMMANDS:
        arguments = shlex.split(command)
        subprocess.run([dsr_executable(), *arguments[1:], "--force"], cwd=HERE, check=True)
        output = HERE / arguments[arguments.index("-o") + 1]
        files = sorted(output.glob("*.h5")) if output.is_dir() else [output]
        entries.extend(describe(path, command) for path in files)

    manifest = {"datasets": entries}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(entries)} entries to {HERE / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
