"""dsr ingest: readers, preprocessing, and every bad input with its exit code, message and no output."""

import h5py
import numpy as np
import pytest
import scipy.io

from dsr.data.dataset import read_dataset


def ingest_ok(dsr_cli, source, output, *options):
    result = dsr_cli("ingest", source, "-o", output, *options)
    assert result.exit_code == 0, result.stderr
    return read_dataset(output), result


def test_santafe_laser_with_auto_lag(tmp_path, dsr_cli, shared_data):
    dataset, result = ingest_ok(dsr_cli, shared_data / "santafe_laser" / "santafe_laser.npy", tmp_path / "laser.h5",
                                "--embed", "3", "--lag", "auto")
    lag = dataset.preprocessing[-3]["lag"]
    assert dataset.variables == ("x1", f"x1(t-{lag})", f"x1(t-{2 * lag})")
    assert len(dataset.trajectories[0]) == 10093 - 2 * lag
    assert "chose lag" in result.stderr
    assert dataset.provenance["source_sha256"]
    assert abs(dataset.part("train")[0].mean(axis=0)).max() < 1e-9


def test_electrochemical_csv(tmp_path, dsr_cli, shared_data):
    dataset, _ = ingest_ok(dsr_cli, shared_data / "electrochem" / "electrochem_13.csv", tmp_path / "echem.h5",
                           "--embed", "3", "--lag", "auto")
    assert dataset.n_variables == 3
    assert dataset.n_samples > 9000


def test_time_column_gives_dt(tmp_path, dsr_cli):
    source = tmp_path / "rec.csv"
    source.write_text("time,v1,v2\n" + "\n".join(f"{0.002 * i:.3f},{np.sin(0.1 * i)},{np.cos(0.07 * i)}" for i in range(100)))
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "rec.h5", "--time-unit", "s")
    assert dataset.dt == pytest.approx(0.002)
    assert dataset.variables == ("v1", "v2")
    assert dataset.time_unit == "s"


def test_decimal_comma_with_semicolons(tmp_path, dsr_cli):
    source = tmp_path / "eu.csv"
    source.write_text("a;b\n" + "\n".join(f"{i},5;{(i * 7) % 11},25" for i in range(50)))
    dataset, result = ingest_ok(dsr_cli, source, tmp_path / "eu.h5", "--split", "1,0,0", "--no-standardize")
    assert dataset.trajectories[0][1, 0] == pytest.approx(1.5)
    assert "decimal mark" in result.stderr


def test_comma_integers_are_ambiguous(tmp_path, dsr_cli):
    source = tmp_path / "ints.csv"
    source.write_text("\n".join(f"{i},{(3 * i) % 7}" for i in range(50)))
    result = dsr_cli("ingest", source, "-o", tmp_path / "ints.h5")
    assert result.exit_code == 2
    assert "--delimiter" in result.stderr
    assert not (tmp_path / "ints.h5").exists()
    ingest_ok(dsr_cli, source, tmp_path / "ints.h5", "--delimiter", ",")


def test_npz_needs_key_when_several(tmp_path, dsr_cli):
    source = tmp_path / "two.npz"
    np.savez(source, first=np.random.default_rng(0).normal(size=(100, 2)), second=np.arange(10.0))
    result = dsr_cli("ingest", source, "-o", tmp_path / "two.h5")
    assert result.exit_code == 2
    assert "first, second" in result.stderr
    assert "--key" in result.stderr
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "two.h5", "--key", "first")
    assert dataset.n_variables == 2


def test_hdf5_key_path(tmp_path, dsr_cli):
    source = tmp_path / "lab.h5"
    with h5py.File(source, "w") as handle:
        handle["session/voltage"] = np.random.default_rng(1).normal(size=(80, 3))
        handle["session/labels"] = np.arange(80.0)
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "lab_ds.h5", "--key", "session/voltage")
    assert dataset.n_variables == 3


def test_matlab_file(tmp_path, dsr_cli):
    source = tmp_path / "rec.mat"
    scipy.io.savemat(source, {"signal": np.random.default_rng(2).normal(size=(60, 2))})
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "rec.h5")
    assert len(dataset.trajectories[0]) == 60


def test_three_dimensional_with_time_axis(tmp_path, dsr_cli):
    source = tmp_path / "trials.npy"
    np.save(source, np.random.default_rng(3).normal(size=(4, 50, 2)))  # trials x time x variables
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "trials.h5", "--time-axis", "1")
    assert len(dataset.trajectories) == 4
    assert dataset.trajectories[0].shape == (50, 2)


def test_fill_interpolate(tmp_path, dsr_cli):
    source = tmp_path / "gaps.csv"
    rows = [f"{i},{2.0 * i}" for i in range(30)]
    rows[10] = "10,nan"
    source.write_text("a,b\n" + "\n".join(rows))
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "gaps.h5", "--fill", "interpolate", "--no-standardize")
    assert dataset.trajectories[0][10, 1] == pytest.approx(20.0)


@pytest.mark.parametrize("missing", ["", "NA", "n/a", "null"])
def test_empty_and_na_cells_are_missing(tmp_path, dsr_cli, missing):
    source = tmp_path / "gaps.csv"
    rows = [f"{i},{2.0 * i}" for i in range(30)]
    rows[10] = f"10,{missing}"
    source.write_text("a,b\n" + "\n".join(rows))
    refused = dsr_cli("ingest", source, "-o", tmp_path / "refused.h5")
    assert refused.exit_code == 2
    assert "first at line 12, column b" in refused.stderr
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "gaps.h5", "--fill", "interpolate", "--no-standardize")
    assert dataset.trajectories[0][10, 1] == pytest.approx(20.0)


def test_downsample_multiplies_dt(tmp_path, dsr_cli):
    source = tmp_path / "fine.npy"
    np.save(source, np.sin(0.01 * np.arange(1000.0)))
    dataset, _ = ingest_ok(dsr_cli, source, tmp_path / "coarse.h5", "--dt", "0.001", "--downsample", "10")
    assert dataset.dt == pytest.approx(0.01)
    assert dataset.n_samples == 100


BAD_INPUTS = [
    ("empty.csv", "", [], "file is empty"),
    ("one_row.csv", "1.0,2.0\n", [], "only one data row"),
    ("words.csv", "a,b\n1,2\n3,oops\n5,6\n", [], r"line 3, column b: 'oops' is not a number"),
    ("nan.csv", "a,b\n1,2\n3,4\n5,nan\n7,8\n", [], r"first at line 4, column b.*--fill interpolate"),
    ("inf.csv", "a,b\n1,2\ninf,4\n5,6\n7,8\n", [], r"first at line 3, column a"),
    ("constant.csv", "a,b\n" + "\n".join(f"{i},3.5" for i in range(20)), [], r"column b is constant.*--columns"),
    ("short.csv", "a\n" + "\n".join(str(np.sin(i)) for i in range(10)), ["--embed", "4", "--lag", "5"], r"too short for --embed 4 --lag 5"),
    ("split.csv", "a\n" + "\n".join(str(np.sin(i)) for i in range(12)), ["--split", "0.9,0.05,0.05"], r"too short for the split"),
]


@pytest.mark.parametrize("name, content, options, message", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_text_input(tmp_path, dsr_cli, name, content, options, message):
    source = tmp_path / name
    source.write_text(content)
    output = tmp_path / "out.h5"
    result = dsr_cli("ingest", source, "-o", output, *options)
    assert result.exit_code == 2
    assert str(source) in result.stderr or "--embed" in result.stderr or "split" in result.stderr
    assert pytest.importorskip("re").search(message, result.stderr.replace("\n", " ")), result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.glob("*.h5")) == []
    assert list(tmp_path.glob(".*tmp")) == []


def test_three_dimensional_needs_time_axis(tmp_path, dsr_cli):
    source = tmp_path / "cube.npy"
    np.save(source, np.zeros((3, 40, 2)))
    result = dsr_cli("ingest", source, "-o", tmp_path / "cube.h5")
    assert result.exit_code == 2
    assert "needs --time-axis" in result.stderr
    assert not (tmp_path / "cube.h5").exists()


def test_missing_file(tmp_path, dsr_cli):
    result = dsr_cli("ingest", tmp_path / "nothing.csv", "-o", tmp_path / "x.h5")
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_existing_output_kept_without_force(tmp_path, dsr_cli):
    source = tmp_path / "s.npy"
    np.save(source, np.sin(0.1 * np.arange(100.0)))
    output = tmp_path / "s.h5"
    output.write_text("precious")
    result = dsr_cli("ingest", source, "-o", output)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert output.read_text() == "precious"
