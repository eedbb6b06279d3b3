"""Metrics that compare a generated trajectory with the true one, on any two numpy arrays.

- state_space: D_stsp, the KL divergence between the state distributions.
- power_spectrum: D_H, the Hellinger distance between smoothed power spectra.
- prediction: n-step prediction error of a model. It needs torch and a model,
  so it is imported from dsr.metrics.prediction and not re-exported here.
"""

from dsr.metrics.power_spectrum import hellinger_spectrum_distance, hellinger_spectrum_distances, power_spectrum
from dsr.metrics.state_space import (
    state_space_divergence,
    state_space_divergence_histogram,
    state_space_divergence_mixture,
)

__all__ = [
    "hellinger_spectrum_distance",
    "hellinger_spectrum_distances",
    "power_spectrum",
    "state_space_divergence",
    "state_space_divergence_histogram",
    "state_space_divergence_mixture",
]
