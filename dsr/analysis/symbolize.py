"""Symbolise a model's free runs and the states it infers along observed data.

Both functions return a `SymbolSequence` whose alphabet contains the
subregions that occur (see `dsr.analysis.symbols`).

Data-inferred states. The subregion of a state depends on its unobserved
units too, so data must first be turned into latent states. Two inferences
are offered:

- "forced" (the default): a teacher-forced run z̃_0 = initial_state(x_0),
  z̃_t = (1 − α) F(z̃_{t−1}) + α ẑ(x_t), with the observation model's
  generalized teacher forcing (on the observed units for the identity
  readout, on all units for the affine readout). The unobserved units then
  carry the memory that the model's own dynamics gives them, as during
  training with teacher forcing. This needs the unobserved units to follow
  the data when forced (synchronise); the one-step prediction error of the
  forced run, which is logged, shows whether they do. Over long recordings
  they may not (a 100-unit ECG model's forced run overflowed after 20,000
  samples), so the run can restart from initial_state every
  `restart_interval` samples, as training starts each subsequence.
- "initial": z_t = initial_state(x_t) for every sample on its own. With the
  identity readout the unobserved units are then the fixed linear function
  L x_t that training fitted for the first state of each sequence; this
  needs no synchronisation but ignores the model's dynamics.

The hand-built Lozi AL-RNN (`dsr.analysis.lozi`) shows the difference: its
ReLU units copy x and are never corrected by the data, so a forced run
separates from the data at the rate a = 1.7 per step, while initial_state
recovers them exactly.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import torch

from dsr.analysis._models import float64_model
from dsr.analysis.symbols import SymbolSequence
from dsr.errors import InputError, NumericalError
from dsr.models.base import ReconstructionModel

logger = logging.getLogger(__name__)

INFERENCE_METHODS = ("forced", "initial")

# Steps between finiteness checks in the free-run loop.
_CHUNK_STEPS = 4096


def symbolize_free_run(model: ReconstructionModel, initial_state: np.ndarray | torch.Tensor, n_steps: int,
                       transient: int = 0) -> SymbolSequence:
    """Symbolise free runs z_t = F(z_{t−1}) of the model, in float64.

    Args:
        model: any `ReconstructionModel`; a float32 model is copied to float64.
        initial_state: z_0, shape (M,) for one orbit or (B, M) for B orbits
            run side by side (one symbol sequence each).
        n_steps: symbols per orbit: the subregions of z_{transient+1}, ...,
            z_{transient+n_steps}.
        transient: steps iterated and discarded first, so that the orbit
            settles on its attractor.

    Raises:
        InputError: invalid step counts or a state of the wrong shape.
        NumericalError: an orbit became non-finite (the model diverges there).
    """
    if n_steps < 1:
        raise InputError(f"The free run needs at least 1 step, got {n_steps}.")
    if transient < 0:
        raise InputError(f"The transient must be zero or positive, got {transient} steps.")
    model = float64_model(model)
    if isinstance(initial_state, torch.Tensor):
        initial_state = initial_state.detach().cpu().numpy()
    state = torch.as_tensor(np.asarray(initial_state, dtype=np.float64))
    if state.ndim not in (1, 2) or state.shape[-1] != model.latent_dim:
        raise InputError(f"The initial state must have shape (M,) or (B, M) with M = {model.latent_dim}, got {tuple(state.shape)}.")
    state = state.reshape(-1, model.latent_dim)

    pattern_chunks: list[np.ndarray] = []
    step = 0
    with torch.no_grad():
        while step < transient + n_steps:
            chunk = min(_CHUNK_STEPS, transient + n_steps - step)
            chunk_patterns = []
            for _ in range(chunk):
                state = model.step(state)
                step += 1
                if step > transient:
                    chunk_patterns.append(model.subregion(state))
            if not torch.all(torch.isfinite(state)):
                raise NumericalError(
                    f"The free run became non-finite within the first {step} steps; the model diverges from this "
                    "initial state. Start from a state on the data (model.initial_state of an observation)."
                )
            if chunk_patterns:
                pattern_chunks.append(torch.stack(chunk_patterns, dim=1).cpu().numpy())

    patterns = np.concatenate(pattern_chunks, axis=1)
    symbols = SymbolSequence.from_patterns(list(patterns))
    logger.debug("Symbolised %d free-run orbit(s) of %d steps: %d subregions visited.", len(patterns), n_steps, symbols.alphabet.size)
    return symbols


def _check_observations(model: ReconstructionModel, observations: np.ndarray) -> torch.Tensor:
    observations = np.asarray(observations, dtype=np.float64)
    if observations.ndim != 2 or observations.shape[1] != model.obs_dim or len(observations) < 1:
        raise InputError(f"Observations must have shape (T, N) with T >= 1 and N = {model.obs_dim}, got {observations.shape}.")
    return torch.from_numpy(observations)


def forced_states(model: ReconstructionModel, observations: np.ndarray, alpha: float = 1.0,
                  restart_interval: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run the model teacher-forced along observations (T, N) and return the forced states (T, M) and predictions (T − 1, N).

    z̃_0 = initial_state(x_0) and z̃_t = force(F(z̃_{t−1}), x_t, α), where
    `force` is the observation model's generalized teacher forcing; the
    prediction of x_t is observe(F(z̃_{t−1})), made before forcing. With a
    `restart_interval` k, every k-th state is initial_state(x_t) instead,
    which bounds how far unobserved units that do not synchronise can drift.
    The model should be float64 (see `float64_model`).

    Raises NumericalError when the forced run becomes non-finite.
    """
    if not 0.0 < alpha <= 1.0:
        raise InputError(f"The forcing strength alpha must be in (0, 1], got {alpha}.")
    if restart_interval is not None and restart_interval < 1:
        raise InputError(f"The restart interval must be at least 1 sample, got {restart_interval}.")
    data = _check_observations(model, observations)
    states = torch.empty(len(data), model.latent_dim, dtype=torch.float64)
    predictions = torch.empty(len(data) - 1, model.obs_dim, dtype=torch.float64)
    with torch.no_grad():
        state = model.initial_state(data[0])
        states[0] = state
        for t in range(1, len(data)):
            state = model.step(state)
            predictions[t - 1] = model.observe(state)
            if restart_interval is not None and t % restart_interval == 0:
                state = model.initial_state(data[t])
            else:
                state = model.observation.force(state, data[t], alpha)
            states[t] = state
    if not torch.all(torch.isfinite(states)):
        first = int(torch.nonzero(~torch.isfinite(states).all(dim=1))[0, 0])
        raise NumericalError(
            f"The teacher-forced run along the observations became non-finite at sample {first}: the unobserved units "
            "do not follow the data. Restart the forced run more often (a smaller restart interval), or use "
            "inference='initial' to infer each state from its observation alone."
        )
    return states.numpy(), predictions.numpy()


def symbolize_observations(model: ReconstructionModel, observations: np.ndarray | Sequence[np.ndarray],
                           inference: str = "forced", alpha: float = 1.0, transient: int = 0,
                           restart_interval: int | None = None) -> SymbolSequence:
    """Symbolise the states that the model infers along observed trajectories.

    Args:
        model: any `ReconstructionModel`; a float32 model is copied to float64.
        observations: one trajectory (T, N), or a list of trajectories of
            any lengths, in the units the model was trained on (standardised
            for dsr datasets). Each becomes its own symbol sequence.
        inference: "forced" (teacher-forced run) or "initial"
            (initial_state of each sample); see the module docstring.
        alpha: forcing strength in (0, 1] for "forced"; 1 replaces the
            observed part of the state by the data at every step.
        transient: leading samples of each trajectory left out, while the
            unobserved units of a forced run settle onto the data.
        restart_interval: for "forced", restart from initial_state every
            this many samples (None: never); see `forced_states`.

    Raises:
        InputError: observations of the wrong shape, a trajectory not longer
            than the transient, an unknown inference or alpha outside (0, 1].
        NumericalError: the forced run became non-finite.
    """
    if inference not in INFERENCE_METHODS:
        raise InputError(f"Unknown state inference {inference!r}; expected one of {', '.join(INFERENCE_METHODS)}.")
    if transient < 0:
        raise InputError(f"The transient must be zero or positive, got {transient} steps.")
    model = float64_model(model)
    trajectories = [observations] if isinstance(observations, np.ndarray) and observations.ndim == 2 else list(observations)

    pattern_sequences = []
    squared_errors, squared_deviations = 0.0, 0.0
    for index, trajectory in enumerate(trajectories):
        trajectory = np.asarray(trajectory, dtype=np.float64)
        if len(trajectory) <= transient:
            raise InputError(
                f"Trajectory {index} has {len(trajectory)} samples, not more than the transient of {transient}; "
                "use a shorter transient or leave the trajectory out."
            )
        if inference == "forced":
            states, predictions = forced_states(model, trajectory, alpha, restart_interval)
            squared_errors += float(np.sum((predictions[transient:] - trajectory[transient + 1:]) ** 2))
            squared_deviations += float(np.sum((trajectory[transient + 1:] - trajectory.mean(axis=0)) ** 2))
        else:
            with torch.no_grad():
                states = model.initial_state(_check_observations(model, trajectory)).numpy()
        with torch.no_grad():
            pattern_sequences.append(model.subregion(torch.from_numpy(states[transient:])).cpu().numpy())

    if inference == "forced" and squared_deviations > 0:
        # Relative to predicting each trajectory's mean: well below 1 when the
        # forced states track the data, near or above 1 when they do not.
        logger.info("One-step prediction error of the forced run: %.3g relative to the data's spread.",
                    np.sqrt(squared_errors / squared_deviations))
    return SymbolSequence.from_patterns(pattern_sequences)
