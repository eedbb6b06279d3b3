"""The HDF5 formats as docs/formats.md describes them, read back from files the code writes."""

import h5py
import numpy as np
import pytest

from dsr.data.dataset import read_dataset, write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.errors import FormatError, OutputExistsError
from tests.format_walk import documented_names, written_names


def test_simulated_dataset_fully_documented(tmp_path):
    path = write_dataset(simulate_dataset("lorenz63", 300, n_trajectories=2, noise=0.01), tmp_path / "l63.h5")
    undocumented = written_names(path) - documented_names()
    assert not undocumented, f"written but not in docs/formats.md: {sorted(undocumented)}"


def test_ingested_dataset_fully_documented(tmp_path, dsr_cli):
    source = tmp_path / "series.csv"
    source.write_text("t,a,b\n" + "\n".join(f"{0.1 * i},{np.sin(i)},{np.cos(0.3 * i)}" for i in range(200)))
    assert dsr_cli("ingest", source, "-o", tmp_path / "series.h5", "--embed", "2", "--lag", "3").exit_code == 0
    undocumented = written_names(tmp_path / "series.h5") - documented_names()
    assert not undocumented, f"written but not in docs/formats.md: {sorted(undocumented)}"


def test_dataset_round_trip(tmp_path):
    dataset = simulate_dataset("henon", 500, n_trajectories=2, seed=3)
    path = write_dataset(dataset, tmp_path / "henon.h5")
    loaded = read_dataset(path)
    for original, restored in zip(dataset.trajectories, loaded.trajectories):
        np.testing.assert_array_equal(original, restored)
    np.testing.assert_array_equal(dataset.split, loaded.split)
    np.testing.assert_array_equal(dataset.mean, loaded.mean)
    assert loaded.variables == ("x", "y")
    assert loaded.provenance["parameters"] == {"a": 1.4, "b": 0.3}
    assert loaded.preprocessing[-1]["step"] == "standardize"


def test_reader_rejects_newer_version(tmp_path):
    path = write_dataset(simulate_dataset("henon", 100), tmp_path / "henon.h5")
    with h5py.File(path, "r+") as handle:
        handle.attrs["format_version"] = 99
    with pytest.raises(FormatError, match="version 99 is not supported"):
        read_dataset(path)


def test_reader_rejects_foreign_hdf5(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["x"] = np.zeros(3)
    with pytest.raises(FormatError, match="without a dsr format attribute"):
        read_dataset(path)


def test_no_overwrite_without_force(tmp_path):
    dataset = simulate_dataset("henon", 100)
    path = write_dataset(dataset, tmp_path / "henon.h5")
    with pytest.raises(OutputExistsError, match="--force"):
        write_dataset(dataset, path)
    write_dataset(dataset, path, force=True)
