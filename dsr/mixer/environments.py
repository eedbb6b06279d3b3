"""Environments: one dataset each, standardised, with its own batch sampler; and batches of environments.

MixER trains on a family of datasets, one per environment (for example one
per parameter value of a simulated system). Every environment keeps the
split of its dataset. Its data is standardised either with the statistics
stored in its dataset ("dataset") or with one mean and standard deviation
over the training parts of all environments ("pooled"). Per-environment
z-scoring removes differences of mean and amplitude between environments
(for Lorenz-63, the mean of z grows with ρ). Those differences are part of
what the contexts should encode, so datasets of one family should carry a
shared normalisation; docs/mixer.md shows how the benchmark writes one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsr.data.dataset import Dataset, file_sha256, normalization_statistics, read_dataset
from dsr.errors import InputError

logger = logging.getLogger(__name__)


@dataclass
class Environment:
    """One environment: its dataset, where it came from, and its standardised parts.

    Attributes:
        name: unique name (the dataset's name, or the file stem if that is
            empty or taken).
        path: the dataset file.
        sha256: SHA-256 of that file.
        dataset: the dataset as read.
        mean, std: (N,) the normalisation used for this environment.
        train, valid, test: standardised parts, lists of (T, N) arrays.
    """

    name: str
    path: Path
    sha256: str
    dataset: Dataset
    mean: np.ndarray
    std: np.ndarray
    train: list[np.ndarray] = field(default_factory=list)
    valid: list[np.ndarray] = field(default_factory=list)
    test: list[np.ndarray] = field(default_factory=list)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Map physical units to the standardised units of this environment's model."""
        return (x - self.mean) / self.std

    def part(self, which: str) -> list[np.ndarray]:
        """Return one standardised part ("train", "valid", "test" or "all") of every trajectory."""
        return [self.standardize(piece) for piece in self.dataset.part(which, standardized=False)]


def dataset_paths(paths: list[Path]) -> list[Path]:
    """Expand folders into the .h5 files they contain (sorted) and check that every file exists."""
    expanded: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(path.glob("*.h5"))
            if not found:
                raise InputError(f"{path}: the folder contains no .h5 datasets. Write some with `dsr simulate --sweep`.")
            expanded.extend(found)
        elif path.exists():
            expanded.append(path)
        else:
            raise InputError(f"{path}: file or folder not found. Give dataset files (.h5) or folders of them.")
    resolved = [p.resolve() for p in expanded]
    if len(set(resolved)) != len(resolved):
        raise InputError("The same dataset was given twice; each environment needs its own dataset.")
    return expanded


def load_environments(paths: list[Path], normalization: str = "dataset") -> list[Environment]:
    """Read the datasets of all environments and standardise them by `normalization` ("dataset" or "pooled").

    Raises InputError for fewer than one dataset, datasets whose variables
    differ, or an unknown normalisation.
    """
    paths = dataset_paths(paths)
    if not paths:
        raise InputError("MixER needs at least one dataset, one per environment.")
    datasets = [read_dataset(path) for path in paths]
    first = datasets[0]
    for path, dataset in zip(paths, datasets):
        if dataset.n_variables != first.n_variables:
            raise InputError(f"{path} has {dataset.n_variables} variables, but {paths[0]} has {first.n_variables}; "
                             "every environment needs the same observed variables.")
    steps = sorted({d.dt for d in datasets})
    if len(steps) > 1:
        logger.info("the environments have different sampling steps (dt = %s); each model steps at its own dt",
                    ", ".join(f"{dt:g}" for dt in steps))

    if normalization == "pooled":
        trajectories = [t for d in datasets for t in d.trajectories]
        split = np.concatenate([d.split for d in datasets])
        mean, std = normalization_statistics(trajectories, split)
        statistics = [(mean, std)] * len(datasets)
    elif normalization == "dataset":
        statistics = [(d.mean, d.std) for d in datasets]
    else:
        raise InputError(f"Invalid normalization {normalization!r}; expected 'dataset' or 'pooled'.")

    environments, names = [], set()
    for path, dataset, (mean, std) in zip(paths, datasets, statistics):
        name = dataset.name or path.stem
        if name in names:
            name = path.stem
        if name in names:
            raise InputError(f"{path}: two environments would both be called {name!r}; rename one of the files.")
        names.add(name)
        environment = Environment(name=name, path=path, sha256=file_sha256(path), dataset=dataset,
                                  mean=np.asarray(mean, dtype=np.float64), std=np.asarray(std, dtype=np.float64))
        environment.train, environment.valid, environment.test = (environment.part(p) for p in ("train", "valid", "test"))
        environments.append(environment)
    return environments


def nearest_environments(contexts: np.ndarray, anchor: int, count: int,
                         rng: np.random.Generator | None = None) -> np.ndarray:
    """Return `anchor` and its count − 1 nearest environments in context space (Euclidean), anchor first.

    Ties are broken at random with `rng` (by index without it), so that
    identical contexts, as at the start of training when all are zero, do
    not always pick the same neighbours.
    """
    contexts = np.asarray(contexts, dtype=np.float64)
    distances = np.sum((contexts - contexts[anchor]) ** 2, axis=1)
    distances[anchor] = -1.0
    tie_breaker = rng.random(len(contexts)) if rng is not None else np.arange(len(contexts))
    order = np.lexsort((tie_breaker, distances))
    return order[: min(count, len(contexts))]
