"""Run folders: creation, refusal to overwrite, bit-for-bit resume, Ctrl-C, and the documented format."""

import json

import numpy as np
import pytest
import torch

from dsr.data.dataset import write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.errors import OutputExistsError, TrainingInterrupted
from dsr.runs import load_run, train_run
from dsr.training import TrainConfig
from dsr.training.trainer import Trainer
from tests.format_walk import documented_names, written_names

TINY = dict(epochs=6, batches_per_epoch=3, batch_size=4, sequence_length=20, latent_dim=6, n_relu=2,
            validation_interval=2, checkpoint_interval=2, keep_checkpoints=2, input_noise=0.05)


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "l63.h5"
    write_dataset(simulate_dataset("lorenz63", 3000), path)
    return path


def test_resume_equals_uninterrupted(tmp_path, dataset_path):
    """Same seed, interrupted after epoch 3 and resumed: parameters and history equal bit for bit."""
    config = TrainConfig(**TINY, alpha_schedule="adaptive")
    train_run(dataset_path, tmp_path / "full", config)

    def interrupt(trainer, record):
        if record["epoch"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="epoch 2"):
        train_run(dataset_path, tmp_path / "resumed", config, on_epoch=interrupt)
    assert load_run(tmp_path / "resumed", "latest").status == "interrupted"
    summary = train_run(dataset_path, tmp_path / "resumed", resume=True)
    assert summary.resumed_from == 2

    full, resumed = load_run(tmp_path / "full", "latest"), load_run(tmp_path / "resumed", "latest")
    for name, value in full.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    for field in ("loss", "alpha", "gradient_norm", "validation"):
        np.testing.assert_array_equal(full.history[field], resumed.history[field])
    assert resumed.status == "completed"


def test_existing_run_not_overwritten(tmp_path, dataset_path):
    config = TrainConfig(**{**TINY, "epochs": 1})
    train_run(dataset_path, tmp_path / "run", config)
    with pytest.raises(OutputExistsError, match="--resume.*--force"):
        train_run(dataset_path, tmp_path / "run", config)
    train_run(dataset_path, tmp_path / "run", config, force=True)


def test_resume_of_completed_run_is_a_no_op(tmp_path, dataset_path):
    config = TrainConfig(**{**TINY, "epochs": 2})
    train_run(dataset_path, tmp_path / "run", config)
    before = (tmp_path / "run" / "run.h5").read_bytes()
    summary = train_run(dataset_path, tmp_path / "run", resume=True)
    assert summary.status == "completed"
    assert (tmp_path / "run" / "run.h5").read_bytes() == before


def test_checkpoints_are_capped(tmp_path, dataset_path):
    train_run(dataset_path, tmp_path / "run", TrainConfig(**TINY))
    import h5py

    with h5py.File(tmp_path / "run" / "run.h5", "r") as handle:
        assert sorted(handle["checkpoints"]) == ["epoch_000004", "epoch_000006"]


def test_run_file_fully_documented(tmp_path, dataset_path):
    train_run(dataset_path, tmp_path / "run", TrainConfig(**TINY))
    undocumented = written_names(tmp_path / "run" / "run.h5", json_attributes=()) - documented_names()
    assert not undocumented, f"written but not in docs/formats.md: {sorted(undocumented)}"


def test_divergence_keeps_last_good_checkpoint(tmp_path, dataset_path, monkeypatch):
    original = Trainer.train_epoch

    def diverge_in_epoch_three(self):
        record = original(self)
        if self.epoch == 2:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("nan"))
            record["loss"] = float("nan")
        return record

    monkeypatch.setattr(Trainer, "train_epoch", diverge_in_epoch_three)
    from dsr.errors import NumericalError

    with pytest.raises(NumericalError, match="diverged in epoch 3.*epoch 2"):
        train_run(dataset_path, tmp_path / "run", TrainConfig(**TINY))
    run = load_run(tmp_path / "run", "latest")
    assert run.status == "diverged"
    assert all(bool(torch.isfinite(p).all()) for p in run.model.parameters())


def test_cli_train_json_and_ctrl_c(tmp_path, dataset_path, dsr_cli, monkeypatch):
    options = ["--epochs", "4", "--batches-per-epoch", "2", "--batch-size", "4", "--sequence-length", "20",
               "--latent", "6", "--checkpoint-interval", "1", "--validation-interval", "2"]
    result = dsr_cli("train", dataset_path, "-o", tmp_path / "run", *options, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["epochs"] == 4
    assert summary["status"] == "completed"

    again = dsr_cli("train", dataset_path, "-o", tmp_path / "run", *options)
    assert again.exit_code == 2
    assert "--resume" in again.stderr

    original = Trainer.train_epoch
    calls = {"count": 0}

    def interrupt_third_epoch(self):
        calls["count"] += 1
        if calls["count"] == 3:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "train_epoch", interrupt_third_epoch)
    interrupted = dsr_cli("train", dataset_path, "-o", tmp_path / "run2", *options, "--quiet")
    assert interrupted.exit_code == 130
    assert "--resume" in interrupted.stderr
    assert load_run(tmp_path / "run2", "latest").history["epoch"][-1] == 2

    monkeypatch.setattr(Trainer, "train_epoch", original)
    resumed = dsr_cli("train", dataset_path, "-o", tmp_path / "run2", "--resume", "--quiet")
    assert resumed.exit_code == 0, resumed.stderr
    assert load_run(tmp_path / "run2").status == "completed"


def test_resume_rejects_changed_options(tmp_path, dataset_path, dsr_cli):
    options = ["--epochs", "2", "--batches-per-epoch", "2", "--batch-size", "4", "--sequence-length", "20", "--latent", "6"]
    assert dsr_cli("train", dataset_path, "-o", tmp_path / "run", *options, "--quiet").exit_code == 0
    result = dsr_cli("train", dataset_path, "-o", tmp_path / "run", "--resume", "--latent", "8")
    assert result.exit_code == 2
    assert "latent_dim: stored 6, given 8" in result.stderr


def test_generate_writes_physical_units(tmp_path, dataset_path, dsr_cli):
    train_run(dataset_path, tmp_path / "run", TrainConfig(**{**TINY, "epochs": 1}))
    result = dsr_cli("generate", tmp_path / "run", "--steps", "50", "-o", tmp_path / "free.h5")
    assert result.exit_code == 0, result.stderr
    from dsr.data.dataset import read_dataset

    free = read_dataset(tmp_path / "free.h5")
    original = read_dataset(dataset_path)
    assert free.trajectories[0].shape == (51, 3)
    # The first sample is the test observation the run started from, mapped back to physical units.
    np.testing.assert_allclose(free.trajectories[0][0], original.part("test", standardized=False)[0][0], rtol=1e-6)
    assert free.provenance["kind"] == "generated"


def test_train_log_written_from_python(tmp_path, dataset_path):
    """A Python session that never configured logging still gets the progress records in train.log."""
    import logging

    logger = logging.getLogger("dsr")
    before = logger.level

    train_run(dataset_path, tmp_path / "run", TrainConfig(**TINY))

    log = (tmp_path / "run" / "train.log").read_text()
    assert "INFO" in log
    assert "saved final snapshot at epoch 6" in log
    assert logger.level == before


def test_train_log_written_when_quiet(tmp_path, dataset_path, dsr_cli):
    """--quiet silences the console only; batch jobs keep their train.log."""
    result = dsr_cli("train", dataset_path, "-o", tmp_path / "run", "--epochs", "2", "--batches-per-epoch", "2",
                     "--quiet")

    assert result.exit_code == 0, result.stderr
    assert "INFO" not in result.stderr
    assert "saved final snapshot at epoch 2" in (tmp_path / "run" / "train.log").read_text()


def test_resume_without_dataset_argument(tmp_path, dataset_path, dsr_cli, monkeypatch):
    """--resume finds the dataset through the path stored in the run; without --resume DATA is required."""
    folder = tmp_path / "run"
    calls = {"epochs": 0}

    def interrupt_after_two(self, *args, **kwargs):
        calls["epochs"] += 1
        if calls["epochs"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    original = Trainer.train_epoch
    monkeypatch.setattr(Trainer, "train_epoch", interrupt_after_two)
    interrupted = dsr_cli("train", dataset_path, "-o", folder, "--epochs", "4", "--batches-per-epoch", "2",
                          "--checkpoint-interval", "1", "--quiet")
    assert interrupted.exit_code == 130
    monkeypatch.setattr(Trainer, "train_epoch", original)

    resumed = dsr_cli("train", "-o", folder, "--resume", "--json")

    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["resumed_from_epoch"] == 2
    assert json.loads(resumed.stdout)["epochs"] == 4

    missing = dsr_cli("train", "-o", tmp_path / "other")
    assert missing.exit_code == 2
    assert "Name the training dataset" in missing.stderr


def test_sigterm_saves_checkpoint(tmp_path, dataset_path):
    """A scheduler's SIGTERM (a cluster time limit) stops `dsr train` like Ctrl-C: checkpoint saved, exit 130."""
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "run"
    command = [sys.executable, "-c", "from cli.main import main; main()", "train", str(dataset_path), "-o", str(folder),
               "--epochs", "100000", "--batches-per-epoch", "1", "--batch-size", "2", "--sequence-length", "10",
               "--validation-interval", "1000", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = folder / "train.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and "training alrnn from epoch" in log.read_text()):
        assert process.poll() is None, "dsr train exited before training started"
        assert time.monotonic() < deadline, "training did not start within 120 s"
        time.sleep(0.1)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert "--resume" in stderr
    run = load_run(folder, "latest")
    assert run.status == "interrupted"
    assert run.history["epoch"][-1] >= 1
