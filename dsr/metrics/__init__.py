"""Metrics that compare a generated trajectory with the true one, on any two numpy arrays.

- state_space: D_stsp, the KL divergence between the state distributions.
- prediction: n-step prediction error of a model. It needs torch and a model,
  so it is imported from dsr.metrics.prediction and not re-exported here.
"""

from dsr.metrics.state_space import (
    state_space_divergence,
    state_space_divergence_histogram,
    state_space_divergence_mixture,
)

__all__ = [
    "state_space_divergence",
    "state_space_divergence_histogram",
    "state_space_divergence_mixture",
]
