"""Ensemble run folders: one normal run per seed, equal to single runs, resumable together or alone."""

import json

import numpy as np
import pytest
import torch

from dsr.data.dataset import write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.errors import InputError, TrainingInterrupted
from dsr.runs import load_run, train_run
from dsr.runs.ensemble import member_folder, train_ensemble
from dsr.training import TrainConfig
from dsr.training.ensemble import EnsembleTrainer

TINY = dict(epochs=4, batches_per_epoch=3, batch_size=4, sequence_length=20, latent_dim=6, n_relu=2,
            validation_interval=2, checkpoint_interval=1, keep_checkpoints=2, input_noise=0.05)
SEEDS = [7, 8]


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "l63.h5"
    write_dataset(simulate_dataset("lorenz63", 3000), path)
    return path


def _assert_runs_equal(expected, actual):
    for name, value in expected.model.state_dict().items():
        assert torch.equal(value, actual.model.state_dict()[name]), name
    for field in ("loss", "alpha", "gradient_norm", "validation"):
        np.testing.assert_array_equal(expected.history[field], actual.history[field], err_msg=field)


def test_members_equal_single_runs(tmp_path, dataset_path):
    config = TrainConfig(**TINY, seed=SEEDS[0])
    summaries = train_ensemble(dataset_path, tmp_path / "ensemble", SEEDS, config)
    assert [summary.folder for summary in summaries] == [tmp_path / "ensemble" / f"seed-{seed}" for seed in SEEDS]
    assert all(summary.status == "completed" for summary in summaries)

    for seed in SEEDS:
        train_run(dataset_path, tmp_path / f"single-{seed}", TrainConfig(**TINY, seed=seed))
        member = load_run(member_folder(tmp_path / "ensemble", seed), "latest")
        assert member.config.seed == seed
        assert member.status == "completed"
        _assert_runs_equal(load_run(tmp_path / f"single-{seed}", "latest"), member)


def test_interrupted_ensemble_resumes_bit_for_bit(tmp_path, dataset_path, monkeypatch):
    config = TrainConfig(**TINY, seed=SEEDS[0])
    train_ensemble(dataset_path, tmp_path / "full", SEEDS, config)

    original = EnsembleTrainer.train_epoch
    calls = {"count": 0}

    def interrupt_third_epoch(self):
        calls["count"] += 1
        if calls["count"] == 3:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(EnsembleTrainer, "train_epoch", interrupt_third_epoch)
    with pytest.raises(TrainingInterrupted, match="epoch 2"):
        train_ensemble(dataset_path, tmp_path / "resumed", SEEDS, config)
    monkeypatch.setattr(EnsembleTrainer, "train_epoch", original)
    for seed in SEEDS:
        assert load_run(member_folder(tmp_path / "resumed", seed), "latest").status == "interrupted"

    summaries = train_ensemble(dataset_path, tmp_path / "resumed", SEEDS, resume=True)
    assert [summary.resumed_from for summary in summaries] == [2, 2]
    for seed in SEEDS:
        _assert_runs_equal(load_run(member_folder(tmp_path / "full", seed), "latest"),
                           load_run(member_folder(tmp_path / "resumed", seed), "latest"))


def test_member_resumes_alone(tmp_path, dataset_path, monkeypatch):
    """A member folder is a normal run: `train_run --resume` continues it as the ensemble would have."""
    config = TrainConfig(**TINY, seed=SEEDS[0])
    train_ensemble(dataset_path, tmp_path / "full", SEEDS, config)

    original = EnsembleTrainer.train_epoch
    calls = {"count": 0}

    def interrupt_second_epoch(self):
        calls["count"] += 1
        if calls["count"] == 2:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(EnsembleTrainer, "train_epoch", interrupt_second_epoch)
    with pytest.raises(TrainingInterrupted):
        train_ensemble(dataset_path, tmp_path / "split", SEEDS, config)
    monkeypatch.setattr(EnsembleTrainer, "train_epoch", original)

    folder = member_folder(tmp_path / "split", SEEDS[1])
    summary = train_run(dataset_path, folder, resume=True)
    assert summary.resumed_from == 1
    _assert_runs_equal(load_run(member_folder(tmp_path / "full", SEEDS[1]), "latest"), load_run(folder, "latest"))

    # The other member still resumes; the completed one is skipped.
    summaries = train_ensemble(dataset_path, tmp_path / "split", SEEDS, resume=True)
    assert [summary.resumed_from for summary in summaries] == [1, None]
    assert all(summary.status == "completed" for summary in summaries)


def test_output_holding_single_run_rejected(tmp_path, dataset_path):
    train_run(dataset_path, tmp_path / "run", TrainConfig(**{**TINY, "epochs": 1}))
    with pytest.raises(InputError, match="contains a single run"):
        train_ensemble(dataset_path, tmp_path / "run", SEEDS, TrainConfig(**TINY))


def test_cli_seeds_option(tmp_path, dataset_path, dsr_cli):
    options = ["--epochs", "2", "--batches-per-epoch", "2", "--batch-size", "4", "--sequence-length", "20",
               "--latent", "6", "--seed", "3"]
    result = dsr_cli("train", dataset_path, "-o", tmp_path / "ensemble", *options, "--seeds", "3", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [run["run"] for run in payload["runs"]] == [str(tmp_path / "ensemble" / f"seed-{seed}") for seed in (3, 4, 5)]
    assert all(run["status"] == "completed" for run in payload["runs"])
    assert load_run(tmp_path / "ensemble" / "seed-5").config.seed == 5

    resumed = dsr_cli("train", dataset_path, "-o", tmp_path / "ensemble", "--seed", "3", "--seeds", "3", "--resume",
                      "--quiet")
    assert resumed.exit_code == 0, resumed.stderr

    changed = dsr_cli("train", dataset_path, "-o", tmp_path / "ensemble", *options, "--latent", "8", "--seeds", "3",
                      "--resume")
    assert changed.exit_code == 2
    assert "latent_dim: stored 6, given 8" in changed.stderr

    invalid = dsr_cli("train", dataset_path, "-o", tmp_path / "other", *options, "--seeds", "0")
    assert invalid.exit_code == 2
    assert "--seeds must be at least 1" in invalid.stderr
