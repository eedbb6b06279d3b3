"""Reconstruction models: the AL-RNN and the shallow PLRNN, with their observation models."""

from __future__ import annotations

from typing import Any

import torch

from dsr.models.alrnn import ALRNN
from dsr.models.base import ReconstructionModel
from dsr.models.shplrnn import ShallowPLRNN

MODEL_NAMES = ("alrnn", "shplrnn")


def build_model(config: dict[str, Any], generator: torch.Generator | None = None) -> ReconstructionModel:
    """Build a model from the dict that `ReconstructionModel.config()` returns."""
    options = dict(config)
    name = options.pop("model")
    if name == "alrnn":
        return ALRNN(generator=generator, **options)
    if name == "shplrnn":
        return ShallowPLRNN(generator=generator, **options)
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")


__all__ = ["ALRNN", "MODEL_NAMES", "ReconstructionModel", "ShallowPLRNN", "build_model"]
