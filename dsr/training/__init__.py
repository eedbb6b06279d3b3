"""Training with generalized and sparse teacher forcing.

The names below are imported on first use, so that reading a configuration
(`dsr.training.config`) does not import PyTorch.
"""

from importlib import import_module

_EXPORTS = {
    "TrainConfig": "dsr.training.config",
    "Trainer": "dsr.training.trainer",
    "Callbacks": "dsr.training.trainer",
    "Snapshot": "dsr.training.trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dsr.training' has no attribute {name!r}")
