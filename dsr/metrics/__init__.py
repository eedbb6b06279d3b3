"""Metrics that compare a generated trajectory with the true one, on any two numpy arrays.

- state_space: D_stsp, the KL divergence between the state distributions.
- power_spectrum: D_H, the Hellinger distance between smoothed power spectra.
- data_estimators: largest Lyapunov exponent and correlation dimension from
  a time series alone, to compare a model's free run with the recording.
- prediction: n-step prediction error of a model. It needs torch and a model,
  so it is imported from dsr.metrics.prediction and not re-exported here.

docs/metrics.md gives the definitions, defaults and the differences from the
published reference code.
"""

from dsr.metrics.data_estimators import correlation_dimension, largest_lyapunov_rosenstein
from dsr.metrics.power_spectrum import (
    free_run_spectrum_distance,
    hellinger_spectrum_distance,
    hellinger_spectrum_distances,
    power_spectrum,
    resting_dimensions,
)
from dsr.metrics.state_space import (
    state_space_divergence,
    state_space_divergence_histogram,
    state_space_divergence_mixture,
)

__all__ = [
    "correlation_dimension",
    "free_run_spectrum_distance",
    "hellinger_spectrum_distance",
    "hellinger_spectrum_distances",
    "largest_lyapunov_rosenstein",
    "power_spectrum",
    "resting_dimensions",
    "state_space_divergence",
    "state_space_divergence_histogram",
    "state_space_divergence_mixture",
]
