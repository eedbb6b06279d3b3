"""The real-data walkthroughs of docs/walkthroughs.md, shortened to a few epochs.

Each runs the documented commands end to end (ingest, train, symbolize,
evaluate) on the recording and checks that every step succeeds and writes
its results. The numbers in the walkthroughs come from the full-length runs.
"""

import json

import pytest

SHORT_TRAINING = ["--epochs", "3", "--batches-per-epoch", "4", "--batch-size", "8", "--quiet",
                  "--validation-interval", "3", "--checkpoint-interval", "3"]
SHORT_EVALUATION = ["--lyapunov-steps", "3000", "--transient", "100", "--rosenstein-points", "0", "--json"]
SHORT_SYMBOLIZE = ["--steps", "3000", "--transient", "100", "--word-length", "4", "--max-period", "2",
                   "--no-graphml", "--json"]


def run_ok(dsr_cli, *arguments):
    result = dsr_cli(*arguments)
    assert result.exit_code == 0, f"dsr {' '.join(map(str, arguments))} failed:\n{result.stderr}"
    return result


def test_ecg_walkthrough(tmp_path, dsr_cli, shared_data):
    folder = shared_data / "ecg5d"
    run_ok(dsr_cli, "ingest", folder / "train.npy", "--split", "0.9,0.1,0", "-o", tmp_path / "ecg_train.h5")
    run_ok(dsr_cli, "ingest", folder / "test.npy", "--split", "1,0,0", "-o", tmp_path / "ecg_test.h5")
    run_ok(dsr_cli, "train", tmp_path / "ecg_train.h5", "-o", tmp_path / "ecg", "--latent", "10", "--relu", "2",
           "--sequence-length", "50", "--tau", "10", "--input-noise", "0.01", *SHORT_TRAINING)
    symbolic = json.loads(run_ok(dsr_cli, "symbolize", tmp_path / "ecg", "--data", tmp_path / "ecg_test.h5",
                                 *SHORT_SYMBOLIZE).stdout)
    assert symbolic
    scores = json.loads(run_ok(dsr_cli, "evaluate", tmp_path / "ecg", "--data", tmp_path / "ecg_test.h5",
                               *SHORT_EVALUATION).stdout)
    assert scores["protocol"]["reference_samples"] == 100_000
    assert 0.0 <= scores["dh_floor"] <= 1.0


@pytest.mark.parametrize("recording", ["santafe_laser/santafe_laser.npy", "electrochem/electrochem_13.csv"])
def test_scalar_recording_walkthrough(tmp_path, dsr_cli, shared_data, recording):
    dataset = tmp_path / "embedded.h5"
    ingested = run_ok(dsr_cli, "ingest", shared_data / recording, "--embed", "3", "--lag", "auto", "-o", dataset)
    assert "chose lag" in ingested.stderr
    run_ok(dsr_cli, "train", dataset, "-o", tmp_path / "run", "--latent", "10", "--relu", "2",
           "--sequence-length", "50", *SHORT_TRAINING)
    run_ok(dsr_cli, "symbolize", tmp_path / "run", *SHORT_SYMBOLIZE)
    scores = json.loads(run_ok(dsr_cli, "evaluate", tmp_path / "run", *SHORT_EVALUATION).stdout)
    assert scores["protocol"]["part"] == "test"
