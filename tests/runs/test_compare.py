"""dsr compare over a sweep of tiny trained runs: sorting, filtering, CSV, JSON, and runs that cannot be read."""

import csv
import io
import json
import logging
import math

import h5py
import pytest
import torch

from dsr.data.dataset import write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.errors import InputError
from dsr.runs import load_run, train_run
from dsr.runs.compare import (
    METRIC_COLUMNS, Comparison, RunRecord, compare_runs, filter_records, parse_filters, read_run_record, read_runs,
    run_folders, sort_records, write_csv,
)
from dsr.runs.evaluation import EvaluationOptions, evaluate_run, store_evaluation
from dsr.training import TrainConfig

RELU_VALUES = (0, 1, 2)
SEEDS = (0, 1)

# The one run of the sweep left without `dsr evaluate`, so its D_stsp, D_H and λ1 are missing.
UNEVALUATED = "relu1_seed1"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Six tiny AL-RNN runs (P = 0, 1, 2 times seeds 0, 1) in one folder, all evaluated but one."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("sweep")
    data = root / "l63.h5"
    write_dataset(simulate_dataset("lorenz63", 2000), data)
    runs = root / "runs"
    options = EvaluationOptions(transient=10, lyapunov_steps=200, lyapunov_transient=10, data_lyapunov_points=0,
                                dh_length=200)
    for relu in RELU_VALUES:
        for seed in SEEDS:
            folder = runs / f"relu{relu}_seed{seed}"
            config = TrainConfig(epochs=2, batches_per_epoch=2, batch_size=4, sequence_length=20, latent_dim=4,
                                 n_relu=relu, seed=seed, validation_interval=1, fast_path="off")
            train_run(data, folder, config)
            if folder.name != UNEVALUATED:
                run = load_run(folder)
                store_evaluation(run, evaluate_run(run, run.load_dataset(), "test", options))
    return runs


@pytest.fixture
def sweep_with_junk(sweep, tmp_path):
    """The sweep's run folders plus four paths that are not readable runs."""
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a run")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "run.h5").write_bytes(b"this is not HDF5")
    other_format = tmp_path / "other_format"
    other_format.mkdir()
    with h5py.File(other_format / "run.h5", "w") as handle:
        handle.attrs["format"] = "dsr-mixer-run"
        handle.attrs["format_version"] = 1
    return sorted(sweep.iterdir()), [empty, notes, corrupt, other_format]


def parse_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_record_reads_config_and_metrics(sweep):
    record = read_run_record(sweep / "relu2_seed1")
    assert record.config["n_relu"] == 2
    assert record.config["seed"] == 1
    assert record.config["dataset"] == "lorenz63"
    assert record.metrics["status"] == "completed"
    assert record.metrics["epochs_done"] == 2
    assert record.metrics["training_seconds"] > 0
    stored = load_run(sweep / "relu2_seed1").read_group("metrics")
    assert record.metrics["dstsp"] == pytest.approx(stored["dstsp"])
    assert record.metrics["lambda1"] == pytest.approx(stored["lyapunov_exponents"][0])
    assert set(record.metrics) == set(METRIC_COLUMNS)


def test_unevaluated_run_has_no_scores(sweep):
    record = read_run_record(sweep / UNEVALUATED)
    assert record.metrics["dstsp"] is None
    assert record.metrics["lambda1"] is None
    assert record.metrics["final_loss"] is not None


def test_differing_keys_only(sweep):
    comparison = compare_runs(sorted(sweep.iterdir()))
    assert comparison.config_keys == ["n_relu", "seed"]
    assert comparison.columns[:3] == ["run", "n_relu", "seed"]


def test_sort_missing_values_last(sweep):
    records, _ = read_runs(sorted(sweep.iterdir()))
    for descending in (False, True):
        ordered = sort_records(records, "dstsp", descending)
        values = [record.metrics["dstsp"] for record in ordered]
        assert ordered[-1].name == UNEVALUATED
        assert values[:-1] == sorted(values[:-1], reverse=descending)


def test_sort_is_stable_for_ties(sweep):
    records, _ = read_runs(sorted(sweep.iterdir()))
    ordered = sort_records(records, "n_relu", descending=True)
    assert [record.name for record in ordered] == [
        "relu2_seed0", "relu2_seed1", "relu1_seed0", "relu1_seed1", "relu0_seed0", "relu0_seed1"]


def test_filter_converts_to_stored_type(sweep):
    records, _ = read_runs(sorted(sweep.iterdir()))
    assert len(filter_records(records, parse_filters(["n_relu=2"]))) == 2
    assert len(filter_records(records, parse_filters(["n_relu=0,2", "seed=1"]))) == 2
    assert len(filter_records(records, parse_filters(["clipped=false"]))) == 6
    assert len(filter_records(records, parse_filters(["learning_rate_start=0.001"]))) == 6
    assert len(filter_records(records, parse_filters(["status=completed"]))) == 6
    assert filter_records(records, parse_filters(["n_relu=7"])) == []


def test_filter_rejects_bad_expressions(sweep):
    records, _ = read_runs(sorted(sweep.iterdir()))
    with pytest.raises(InputError, match="expected KEY=VALUE"):
        parse_filters(["n_relu"])
    with pytest.raises(InputError, match="Unknown filter key 'n_rleu'"):
        filter_records(records, parse_filters(["n_rleu=2"]))
    with pytest.raises(InputError, match="which is a number"):
        filter_records(records, parse_filters(["n_relu=two"]))


def test_parent_folder_expands_to_runs(sweep):
    assert run_folders([sweep]) == sorted(sweep.iterdir())


def test_unreadable_runs_skipped_with_warning(sweep_with_junk, caplog):
    runs, junk = sweep_with_junk
    with caplog.at_level(logging.WARNING, logger="dsr"):
        records, skipped = read_runs([*runs, *junk])
    assert len(records) == 6
    assert [path for path, _ in skipped] == junk
    for path in junk:
        assert str(path) in caplog.text
    reasons = dict(skipped)
    assert "dsr-mixer-run" in reasons[junk[3]]


def test_csv_sorted_and_parsable(sweep_with_junk, dsr_cli):
    runs, junk = sweep_with_junk
    result = dsr_cli("compare", *runs, *junk, "--sort", "dstsp", "--csv")
    assert result.exit_code == 0, result.stderr
    # rich folds a long path across lines at the console width.
    unfolded = "".join(result.stderr.split())
    for path in junk:
        assert path.name in unfolded
    rows = parse_csv(result.stdout)
    assert len(rows) == 6
    assert list(rows[0]) == ["run", "n_relu", "seed", *METRIC_COLUMNS, "path"]
    scores = [float(row["dstsp"]) for row in rows if row["dstsp"]]
    assert len(scores) == 5
    assert scores == sorted(scores)
    assert rows[-1]["run"] == UNEVALUATED
    assert rows[-1]["dstsp"] == ""
    assert all(math.isfinite(float(row["final_loss"])) for row in rows)


def test_csv_descending_with_filter(sweep, dsr_cli):
    result = dsr_cli("compare", sweep, "--where", "seed=0", "--sort", "n_relu", "--descending", "--csv")
    assert result.exit_code == 0, result.stderr
    rows = parse_csv(result.stdout)
    assert [row["run"] for row in rows] == ["relu2_seed0", "relu1_seed0", "relu0_seed0"]
    assert "seed" not in rows[0]
    assert [int(row["n_relu"]) for row in rows] == [2, 1, 0]


def test_table_lists_runs_in_order(sweep, dsr_cli):
    result = dsr_cli("compare", *sorted(sweep.iterdir()), "--sort", "final_loss")
    assert result.exit_code == 0, result.stderr
    records = sort_records(read_runs(sorted(sweep.iterdir()))[0], "final_loss")
    positions = [result.stdout.index(record.name) for record in records]
    assert positions == sorted(positions)
    assert "6 runs" in result.stdout
    assert "dstsp_floor" in result.stdout


def test_output_file_and_force(sweep, tmp_path, dsr_cli):
    target = tmp_path / "summary.csv"
    assert dsr_cli("compare", sweep, "-o", target).exit_code == 0
    assert len(parse_csv(target.read_text())) == 6
    again = dsr_cli("compare", sweep, "-o", target)
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert dsr_cli("compare", sweep, "-o", target, "--force", "--where", "n_relu=1").exit_code == 0
    assert len(parse_csv(target.read_text())) == 2


def test_json_output(sweep_with_junk, dsr_cli):
    runs, junk = sweep_with_junk
    result = dsr_cli("compare", *runs, junk[0], "--json", "--sort", "seed")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [run["seed"] for run in payload["runs"]] == [0, 0, 0, 1, 1, 1]
    assert payload["config_keys"] == ["n_relu", "seed"]
    assert payload["skipped"][0]["path"] == str(junk[0])


def test_summary_median_and_mad():
    """Median and MAD by hand: dstsp 1, 2, 4 and one missing value give median 2 and MAD median(1, 0, 2) = 1."""
    values = [1.0, 2.0, 4.0, None]
    records = [RunRecord(folder=folder, config={}, metrics={"dstsp": value, "lambda1": None, "dh": math.nan})
               for folder, value in zip(("a", "b", "c", "d"), values)]
    summary = Comparison(records=records, config_keys=[]).summary()

    assert summary["dstsp"] == {"median": 2.0, "mad": 1.0, "runs": 3}
    assert "lambda1" not in summary
    assert "dh" not in summary


def test_summary_in_json_and_table(sweep, dsr_cli):
    runs = sorted(sweep.iterdir())
    payload = json.loads(dsr_cli("compare", *runs, "--json").stdout)
    evaluated = sorted(run["dstsp"] for run in payload["runs"] if run["dstsp"] is not None)
    assert payload["summary"]["dstsp"]["runs"] == 5
    assert payload["summary"]["dstsp"]["median"] == pytest.approx(evaluated[2])

    table = dsr_cli("compare", *runs).stdout
    assert "median" in table
    assert "MAD" in table
    single = dsr_cli("compare", runs[0]).stdout
    assert "median" not in single
    assert "1 runs" not in single


def test_exit_codes(sweep_with_junk, dsr_cli):
    runs, junk = sweep_with_junk
    nothing = dsr_cli("compare", *junk)
    assert nothing.exit_code == 2
    assert "None of the 4 paths is a readable run" in nothing.stderr
    unknown = dsr_cli("compare", *runs, "--sort", "accuracy")
    assert unknown.exit_code == 2
    assert "Unknown sort key 'accuracy'" in unknown.stderr
    assert dsr_cli("compare", *runs, "--csv", "--json").exit_code == 2
    empty = dsr_cli("compare", *runs, "--where", "n_relu=5")
    assert empty.exit_code == 0
    assert "No run matches" in empty.stderr


def test_write_csv_formats_values(sweep):
    comparison = compare_runs([sweep], where=["n_relu=0"])
    buffer = io.StringIO()
    write_csv(comparison, buffer)
    rows = parse_csv(buffer.getvalue())
    assert float(rows[0]["final_loss"]) == comparison.records[0].metrics["final_loss"]
    assert rows[0]["path"] == str(sweep / "relu0_seed0")
