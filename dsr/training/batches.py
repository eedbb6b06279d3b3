"""Random subsequences of the training data, drawn reproducibly."""

from __future__ import annotations

import numpy as np
import torch

from dsr.errors import InputError


class SubsequenceSampler:
    """Draws batches of windows of `sequence_length + 1` samples from a list of trajectories.

    Windows are drawn uniformly over all valid start positions of all
    trajectories (so longer trajectories contribute more), from a numpy
    generator whose state is saved with checkpoints. Batches have the
    model's dtype (float32 for training, float64 in tests of exactness).
    """

    def __init__(self, trajectories: list[np.ndarray], sequence_length: int, batch_size: int, seed: int,
                 dtype: torch.dtype = torch.float32) -> None:
        window = sequence_length + 1
        usable = [t for t in trajectories if len(t) >= window]
        if not usable:
            longest = max((len(t) for t in trajectories), default=0)
            raise InputError(
                f"The training data is too short for subsequences of {sequence_length} steps: the longest training "
                f"trajectory has {longest} samples and needs at least {window}. Lower --sequence-length or give more data."
            )
        self.data = [torch.as_tensor(t, dtype=dtype) for t in usable]
        self.starts = np.array([len(t) - window + 1 for t in usable])
        self.window, self.batch_size = window, batch_size
        self.rng = np.random.default_rng(seed)

    def to(self, device: torch.device) -> "SubsequenceSampler":
        self.data = [t.to(device) for t in self.data]
        return self

    def sample(self) -> torch.Tensor:
        """Return a batch of shape (batch_size, sequence_length + 1, N)."""
        flat = self.rng.integers(0, self.starts.sum(), size=self.batch_size)
        trajectory = np.searchsorted(np.cumsum(self.starts), flat, side="right")
        offsets = flat - np.concatenate([[0], np.cumsum(self.starts)[:-1]])[trajectory]
        return torch.stack([self.data[k][s:s + self.window] for k, s in zip(trajectory, offsets)])

    def state_dict(self) -> dict:
        return self.rng.bit_generator.state

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state
