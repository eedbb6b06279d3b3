"""MixER: one model for a family of dynamical systems, with context vectors and a mixture of experts.

Nzoyem, Barton and Deakin, "Towards Foundational Models for Dynamical System
Reconstruction: Hierarchical Meta-Learning via Mixture of Experts" (2025),
with dsr's AL-RNN and shPLRNN as experts trained by generalized teacher
forcing. Each environment (one dataset each) has a learned context vector ξ_e;
K experts have parameters θ_k(ξ) = θ_k⁰ + P_k ξ; a linear gate on ξ routes
every environment to one expert and is refitted by K-means and least squares.
docs/mixer.md describes the method, the choices that differ from the
published code, and the family benchmark.

Modules: `config` holds the options, `experts` the context-conditioned
experts and `rollout` GTF on many environments at once. `kmeans` and `gate`
implement the gate and its update, `environments` the datasets and batches,
and `training` the loop. `storage` and `run_training` write run folders,
`evaluation` scores them, and `adaptation` fits a context for a new
environment.

The names below are imported on first use, so that reading a configuration
(`dsr.mixer.config`) does not import PyTorch.
"""

from importlib import import_module

_EXPORTS = {
    "Adaptation": "dsr.mixer.adaptation",
    "adapt_context": "dsr.mixer.adaptation",
    "new_environment": "dsr.mixer.adaptation",
    "store_adaptation": "dsr.mixer.adaptation",
    "MixerConfig": "dsr.mixer.config",
    "ContextExpert": "dsr.mixer.experts",
    "LinearGate": "dsr.mixer.gate",
    "assign_experts": "dsr.mixer.gate",
    "update_gate": "dsr.mixer.gate",
    "MixerSummary": "dsr.mixer.run_training",
    "train_mixer_run": "dsr.mixer.run_training",
    "MixerRun": "dsr.mixer.storage",
    "is_mixer_run": "dsr.mixer.storage",
    "load_mixer_run": "dsr.mixer.storage",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dsr.mixer' has no attribute {name!r}")
