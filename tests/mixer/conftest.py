"""Shared fixtures of the MixER tests: a small family of oscillator datasets and a held-out one."""

import numpy as np
import pytest

from dsr.data.dataset import Dataset, split_boundaries, write_dataset


def oscillator(frequency: float, amplitude: float, n: int = 300) -> Dataset:
    t = np.arange(n) * 0.1
    x = np.stack([amplitude * np.sin(frequency * t), amplitude * np.cos(frequency * t),
                  np.sin(2 * frequency * t)], axis=1)
    return Dataset(trajectories=[x], variables=("x", "y", "z"), dt=0.1, split=split_boundaries([n], (0.6, 0.2, 0.2)),
                   mean=np.zeros(3), std=np.ones(3), name=f"osc_f{frequency:g}_a{amplitude:g}")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("family")
    for frequency, amplitude in ((0.5, 1.0), (0.6, 1.0), (2.0, 3.0), (2.2, 3.0)):
        write_dataset(oscillator(frequency, amplitude), folder / f"osc_{frequency:g}.h5")
    held_out = tmp_path_factory.mktemp("new") / "osc_new.h5"
    write_dataset(oscillator(0.55, 1.0), held_out)
    return folder, held_out
