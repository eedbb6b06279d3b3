"""The datasets shipped in datasets/: files match the manifest, and each command reproduces its data."""

import hashlib
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from dsr.data.dataset import read_dataset

FOLDER = Path(__file__).resolve().parents[2] / "datasets"
MANIFEST = json.loads((FOLDER / "manifest.json").read_text())["datasets"]
COMMANDS = sorted({entry["command"] for entry in MANIFEST})


def test_manifest_lists_every_file():
    shipped = sorted(path.relative_to(FOLDER).as_posix() for path in FOLDER.rglob("*.h5"))

    assert shipped == sorted(entry["file"] for entry in MANIFEST)


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_shipped_file_matches_manifest(entry):
    path = FOLDER / entry["file"]
    dataset = read_dataset(path)

    data = hashlib.sha256()
    for trajectory in dataset.trajectories:
        data.update(trajectory.astype("<f8").tobytes())

    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["file_sha256"]
    assert data.hexdigest() == entry["data_sha256"]
    assert [len(dataset.trajectories), *dataset.trajectories[0].shape] == entry["shape"]
    assert dataset.dt == entry["dt"]
    assert "dsr simulate" in dataset.provenance["command_line"]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_reproduces_data(tmp_path, dsr_cli, command):
    """Rerunning the manifest's command gives the shipped trajectories.

    The same IEEE arithmetic in the same order gives bit-identical
    trajectories, so the tolerance is tight. NOTE: the systems are chaotic.
    On a platform that rounds even one step differently, the runs part
    within tens of time units and this test fails. `datasets/build.py`
    rebuilds the files there.
    """
    arguments = shlex.split(command)[1:]
    output = arguments[arguments.index("-o") + 1]
    arguments[arguments.index("-o") + 1] = str(tmp_path / output)

    result = dsr_cli(*arguments)

    assert result.exit_code == 0, result.stderr
    for entry in (entry for entry in MANIFEST if entry["command"] == command):
        rebuilt = read_dataset(tmp_path / entry["file"]).trajectories
        shipped = read_dataset(FOLDER / entry["file"]).trajectories
        assert len(rebuilt) == len(shipped)
        for new, old in zip(rebuilt, shipped):
            np.testing.assert_allclose(new, old, rtol=1e-9, atol=1e-9)
