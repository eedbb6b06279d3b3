"""Validation scores of the trainer on models whose free runs rest, diverge or oscillate."""

import math

import numpy as np
import pytest
import torch

from dsr.metrics import hellinger_spectrum_distance
from dsr.models import ALRNN
from dsr.training import TrainConfig
from dsr.training.trainer import VALIDATION_TRANSIENT, Trainer
from dsr.training.validation import validation_free_run

OBS_DIM = 3


@pytest.fixture(scope="module")
def parts():
    time = np.arange(3000) * 0.05
    data = np.stack([np.sin(time), np.cos(1.3 * time), np.sin(0.7 * time + 1.0)], axis=1)
    return [data[:2000]], [data[2000:]]


def _trainer(model, parts, metric):
    config = TrainConfig(model="alrnn", latent_dim=3, n_relu=0, epochs=1, batches_per_epoch=1, batch_size=2,
                         sequence_length=10, validation_metric=metric, validation_steps=2000)
    return Trainer(model.double(), config, *parts)


def _resting_model():
    """An AL-RNN with A = W = 0, whose free run sits on z = h from its first step."""
    model = ALRNN(OBS_DIM, 3, 0)
    with torch.no_grad():
        model.A.zero_()
        model.W.zero_()
        model.h.copy_(torch.tensor([0.1, -0.2, 0.3]))
    return model


def _rotating_model():
    """A linear AL-RNN that rotates the first two units by 0.05 rad per step and flips the sign of the third."""
    model = ALRNN(OBS_DIM, 3, 0)
    angle = 0.05
    with torch.no_grad():
        model.A.zero_()
        model.h.zero_()
        model.W.copy_(torch.tensor([[math.cos(angle), -math.sin(angle), 0.0],
                                    [math.sin(angle), math.cos(angle), 0.0],
                                    [0.0, 0.0, -1.0]]))
    return model


def test_dh_validation_of_fixed_point_is_one(parts):
    """A free run on a fixed point has no spectrum to compare, so it gets the worst D_H instead of an error."""
    assert _trainer(_resting_model(), parts, "dh").validate() == 1.0


def test_dstsp_validation_of_fixed_point_is_finite(parts):
    score = _trainer(_resting_model(), parts, "dstsp").validate()

    assert math.isfinite(score)
    assert score > 1.0


def test_diverging_free_run_scores_infinity(parts):
    model = _resting_model()
    with torch.no_grad():
        model.A.fill_(1.5)

    assert _trainer(model, parts, "dh").validate() == math.inf
    assert _trainer(model, parts, "dstsp").validate() == math.inf


def test_dh_validation_matches_metric(parts):
    """The trainer's D_H is the metric on a free run from the first validation sample after the transient."""
    trainer = _trainer(_rotating_model(), parts, "dh")
    part = parts[1][0]
    generated = validation_free_run(trainer.model, part, len(part), VALIDATION_TRANSIENT)

    assert trainer.validate() == pytest.approx(hellinger_spectrum_distance(part, generated), abs=1e-12)
