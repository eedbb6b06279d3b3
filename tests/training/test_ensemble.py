"""Ensembles of seeds: every member trains exactly as its single run, on both paths."""

import dataclasses

import numpy as np
import pytest
import torch

from dsr.errors import InputError, TrainingInterrupted
from dsr.models import build_model
from dsr.training import TrainConfig
from dsr.training.ensemble import EnsembleCallbacks, EnsembleTrainer
from dsr.training.ensemble_rollout import FusedEnsembleRollout, ReferenceEnsembleRollout
from dsr.training.forcing import forced_rollout
from dsr.training.fused import fused_rollout
from dsr.training.trainer import Trainer

SEEDS = (3, 4, 5)
OBS_DIM = 3
TINY = dict(epochs=3, batches_per_epoch=3, batch_size=4, sequence_length=15, validation_interval=1,
            checkpoint_interval=1, validation_horizon=10)
CASES = {
    "alrnn-identity": dict(model="alrnn", latent_dim=6, n_relu=2, input_noise=0.05, gradient_clip=0.5,
                           alpha_schedule="adaptive", adaptive_interval=2, alpha=0.1),
    "alrnn-affine-sparse": dict(model="alrnn", latent_dim=4, n_relu=2, observation="affine", forcing="sparse",
                                forcing_interval=4),
    "shplrnn-clipped": dict(model="shplrnn", latent_dim=4, hidden_dim=8, clipped=True, alpha_schedule="annealing"),
}


@pytest.fixture(scope="module")
def parts():
    time = np.arange(1500) * 0.05
    noise = np.random.default_rng(0).standard_normal((1500, OBS_DIM))
    data = np.stack([np.sin(time), np.cos(1.3 * time), np.sin(0.7 * time + 1.0)], axis=1) + 0.05 * noise
    return [data[:1200]], [data[1200:]]


def _configs(case: str, **changes) -> list[TrainConfig]:
    return [TrainConfig(**{**TINY, **CASES[case], **changes}, seed=seed) for seed in SEEDS]


def _models(configs, dtype=torch.float64) -> list:
    return [build_model(config.model_config(OBS_DIM), torch.Generator().manual_seed(config.seed)).to(dtype)
            for config in configs]


def _single_runs(configs, parts, fast: bool, dtype=torch.float64):
    rollout = fused_rollout if fast else forced_rollout
    return [Trainer(model, config, *parts, rollout=rollout).run()
            for model, config in zip(_models(configs, dtype), configs)]


def _ensemble(configs, parts, fast: bool, dtype=torch.float64) -> EnsembleTrainer:
    models = _models(configs, dtype)
    batched = FusedEnsembleRollout(models[0], len(models)) if fast else ReferenceEnsembleRollout(models[0])
    return EnsembleTrainer(models, configs, *parts, fast=fast,
                           rollout=batched)


def _assert_snapshots_equal(single, member, tolerance: float) -> None:
    """tolerance 0 means bit for bit."""
    assert member.epoch == single.epoch
    assert member.best_epoch == single.best_epoch
    assert member.alpha.keys() == single.alpha.keys()
    for key, value in single.alpha.items():
        assert member.alpha[key] == pytest.approx(value, rel=tolerance, abs=0, nan_ok=True), key
    assert member.sampler == single.sampler
    assert torch.equal(member.noise_generator, single.noise_generator)
    for name, value in single.model.items():
        torch.testing.assert_close(member.model[name], value, rtol=tolerance, atol=tolerance, msg=name)
    for index, state in single.optimizer["state"].items():
        for key, value in state.items():
            torch.testing.assert_close(member.optimizer["state"][index][key], value, rtol=tolerance, atol=tolerance)
    for field, values in single.history.items():
        if field == "seconds":
            continue
        np.testing.assert_allclose(member.history[field], values, rtol=tolerance, atol=tolerance, err_msg=field)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES)
def test_fused_members_equal_single_runs(case, dtype, parts):
    """On the fused path every member's parameters, optimizer state and history equal its single run bit for bit."""
    configs = _configs(case)
    singles = _single_runs(configs, parts, fast=True, dtype=dtype)
    finals = _ensemble(configs, parts, fast=True, dtype=dtype).run()
    for single, member in zip(singles, finals):
        _assert_snapshots_equal(single, member, tolerance=0.0)


@pytest.mark.parametrize("case", CASES)
def test_reference_members_match_single_runs(case, parts):
    """On the PyTorch path batched products round differently; members agree with single runs to 1e-10."""
    configs = _configs(case)
    singles = _single_runs(configs, parts, fast=False)
    finals = _ensemble(configs, parts, fast=False).run()
    for single, member in zip(singles, finals):
        _assert_snapshots_equal(single, member, tolerance=1e-10)


def test_restore_continues_bit_for_bit(parts):
    """Snapshots taken mid-way, restored into a new ensemble and into single trainers, continue identically."""
    configs = _configs("alrnn-identity", epochs=4)
    straight = _ensemble(configs, parts, fast=True).run()

    saved = {}

    # As in a single run, Ctrl-C during epoch 3 keeps the snapshot of epoch 2.
    def stop_in_epoch_three(member, trainer, record):
        if record["epoch"] == 3 and member == len(configs) - 1:
            raise KeyboardInterrupt

    def keep(member, snapshot, reason):
        saved[member] = (snapshot, reason)

    with pytest.raises(TrainingInterrupted, match="epoch 2"):
        _ensemble(configs, parts, fast=True).run(EnsembleCallbacks(on_epoch=stop_in_epoch_three, on_snapshot=keep))
    assert {reason for _, reason in saved.values()} == {"interrupted"}

    resumed = _ensemble(configs, parts, fast=True)
    resumed.restore([saved[member][0] for member in range(len(configs))])
    for expected, member in zip(straight, resumed.run()):
        _assert_snapshots_equal(expected, member, tolerance=0.0)

    # A member's snapshot is a single run's: a plain Trainer continues it identically.
    single = Trainer(_models(configs[:1])[0], configs[0], *parts, rollout=fused_rollout)
    single.restore(saved[0][0])
    _assert_snapshots_equal(straight[0], single.run(), tolerance=0.0)


def test_diverged_member_is_dropped(parts, monkeypatch):
    configs = _configs("alrnn-affine-sparse")
    singles = _single_runs(configs, parts, fast=True)

    original = EnsembleTrainer.train_epoch

    def diverge_second_member(self):
        records = original(self)
        if self.epoch == 1 and len(self.members) == len(configs):
            with torch.no_grad():
                self.parameters["W"][1].fill_(float("nan"))
            records[1]["loss"] = float("nan")
        return records

    monkeypatch.setattr(EnsembleTrainer, "train_epoch", diverge_second_member)
    events = []
    trainer = _ensemble(configs, parts, fast=True)
    finals = trainer.run(EnsembleCallbacks(on_snapshot=lambda member, snapshot, reason: events.append(
        (member, snapshot.epoch, reason))))

    assert trainer.diverged == [(1, 2, pytest.approx(float("nan"), nan_ok=True))]
    assert (1, 1, "diverged") in events
    assert trainer.indices == [0, 2]
    for single, member in zip((singles[0], singles[2]), finals):
        _assert_snapshots_equal(single, member, tolerance=0.0)


def test_all_members_diverging_ends_run(parts, monkeypatch):
    configs = _configs("alrnn-identity")
    original = EnsembleTrainer.train_epoch

    def diverge_all(self):
        records = original(self)
        with torch.no_grad():
            self.parameters["W"].fill_(float("nan"))
        for record in records:
            record["loss"] = float("nan")
        return records

    monkeypatch.setattr(EnsembleTrainer, "train_epoch", diverge_all)
    trainer = _ensemble(configs, parts, fast=True)
    assert trainer.run() == []
    assert [member for member, _, _ in trainer.diverged] == [0, 1, 2]


def test_members_must_share_options(parts):
    configs = _configs("alrnn-identity")
    configs[1] = dataclasses.replace(configs[1], latent_dim=8)
    with pytest.raises(InputError, match="latent_dim"):
        EnsembleTrainer(_models(configs), configs, *parts)


def test_members_need_distinct_seeds(parts):
    configs = _configs("alrnn-identity")
    configs[1] = dataclasses.replace(configs[1], seed=configs[0].seed)
    with pytest.raises(InputError, match="distinct seeds"):
        EnsembleTrainer(_models(configs), configs, *parts)
