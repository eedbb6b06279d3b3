"""Helpers shared by the analysis modules that take a trained model."""

from __future__ import annotations

import copy

import numpy as np
import torch

from dsr.models.base import ReconstructionModel


def float64_model(model: ReconstructionModel) -> ReconstructionModel:
    """Return `model` if its parameters are float64, else a float64 copy (the caller's model is untouched).

    Subregion tests compare ReLU inputs with zero, and fixed points solve
    linear systems: in float32 both go wrong near boundaries and for nearly
    singular I − J, so every analysis works in float64.
    """
    parameter = next(model.parameters(), None)
    if parameter is None or parameter.dtype == torch.float64:
        return model
    return copy.deepcopy(model).double()


def affine_maps(model: ReconstructionModel, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the Jacobians (K, M, M) and offsets (K, M) of the affine maps of K subregion patterns (K, S)."""
    jacobians, offsets = [], []
    with torch.no_grad():
        for pattern in np.asarray(patterns, dtype=bool):
            jacobian, offset = model.affine_map(torch.from_numpy(pattern))
            jacobians.append(jacobian.detach().cpu().numpy())
            offsets.append(offset.detach().cpu().numpy())
    return np.asarray(jacobians, dtype=np.float64), np.asarray(offsets, dtype=np.float64)


def subregions(model: ReconstructionModel, states: np.ndarray) -> np.ndarray:
    """Return the bool subregion patterns (..., S) of states (..., M) given as a numpy array."""
    with torch.no_grad():
        return model.subregion(torch.from_numpy(np.asarray(states, dtype=np.float64))).cpu().numpy()
