"""The dsr dataset: trajectories with their sampling step, normalisation, split and provenance.

On disk a dataset is an HDF5 file whose layout `docs/formats.md` documents;
`read_dataset` and `write_dataset` are the only code that touches it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np

from dsr import __version__
from dsr.atomic import atomic_path, check_output_path
from dsr.errors import FormatError, InputError
from dsr.provenance import utc_timestamp

logger = logging.getLogger(__name__)

DATASET_FORMAT = "dsr-dataset"
DATASET_FORMAT_VERSION = 1

Part = Literal["train", "valid", "test", "all"]
PARTS = ("train", "valid", "test", "all")


@dataclass
class Dataset:
    """One or more trajectories of the same variables, in physical units.

    Models never see physical units: `part` returns the standardised series
    (x − mean) / std with the statistics stored here, and `to_physical`
    undoes that.

    Attributes:
        trajectories: list of K arrays of shape (T_k, N), time along axis 0.
        variables: N variable names.
        units: N unit strings, "" where unknown.
        dt: sampling step in `time_unit`.
        time_unit: unit of dt ("" for maps or unknown).
        mean, std: (N,) normalisation statistics; mean 0 and std 1 when the
            data was not standardised.
        split: (K, 2) sample indices [train_end, valid_end] per trajectory;
            train is [0, train_end), validation [train_end, valid_end),
            test [valid_end, T_k).
        provenance: where the data comes from (kind, source, system,
            parameters, command line, package version); JSON-serialisable.
        preprocessing: the preprocessing steps applied, in order, each a dict
            with a "step" key and its parameters.
        name: short name used in titles and tables.
    """

    trajectories: list[np.ndarray]
    variables: tuple[str, ...]
    dt: float
    split: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    units: tuple[str, ...] = ()
    time_unit: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    preprocessing: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        self.trajectories = [np.asarray(t, dtype=np.float64) for t in self.trajectories]
        self.variables = tuple(self.variables)
        self.units = tuple(self.units) if self.units else ("",) * len(self.variables)
        self.split = np.asarray(self.split, dtype=np.int64).reshape(len(self.trajectories), 2)
        self.mean = np.asarray(self.mean, dtype=np.float64)
        self.std = np.asarray(self.std, dtype=np.float64)
        self._validate()

    def _validate(self) -> None:
        n = len(self.variables)
        if not self.trajectories:
            raise InputError("A dataset needs at least one trajectory.")
        for index, trajectory in enumerate(self.trajectories):
            if trajectory.ndim != 2 or trajectory.shape[1] != n:
                raise InputError(f"Trajectory {index} has shape {trajectory.shape}, but {n} variables were named.")
        if len(self.units) != n or self.mean.shape != (n,) or self.std.shape != (n,):
            raise InputError(f"Units, mean and std must each have {n} entries, one per variable.")
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise InputError(f"The sampling step dt must be positive, got {self.dt}.")
        for (train_end, valid_end), trajectory in zip(self.split, self.trajectories):
            if not 0 <= train_end <= valid_end <= len(trajectory):
                raise InputError(f"Invalid split boundaries {train_end}, {valid_end} for a trajectory of {len(trajectory)} samples.")

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def n_samples(self) -> int:
        """Total number of samples over all trajectories."""
        return sum(len(t) for t in self.trajectories)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Map physical units to the normalised units that models see."""
        return (x - self.mean) / self.std

    def to_physical(self, x: np.ndarray) -> np.ndarray:
        """Map normalised units back to physical units."""
        return x * self.std + self.mean

    def part(self, which: Part = "train", standardized: bool = True) -> list[np.ndarray]:
        """Return one part of the split of every trajectory (empty parts are left out)."""
        if which not in PARTS:
            raise InputError(f"Unknown dataset part {which!r}; expected one of {', '.join(PARTS)}.")
        pieces = []
        for (train_end, valid_end), trajectory in zip(self.split, self.trajectories):
            bounds = {"train": (0, train_end), "valid": (train_end, valid_end),
                      "test": (valid_end, len(trajectory)), "all": (0, len(trajectory))}[which]
            piece = trajectory[bounds[0]:bounds[1]]
            if len(piece):
                pieces.append(self.standardize(piece) if standardized else piece)
        return pieces

    def with_split(self, fractions: tuple[float, float, float]) -> "Dataset":
        """Return a copy with a new contiguous train/validation/test split of every trajectory."""
        return replace(self, split=split_boundaries([len(t) for t in self.trajectories], fractions))


def split_boundaries(lengths: list[int], fractions: tuple[float, float, float]) -> np.ndarray:
    """Return (K, 2) boundaries [train_end, valid_end] that cut each trajectory into contiguous blocks.

    Time order is kept: training data comes first, then validation, then
    test, so a model is never validated or tested on samples that precede
    its training data within a trajectory. Each non-empty part gets at least
    2 samples.
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise InputError(f"The split needs three non-negative fractions that sum to 1 (train, validation, test), got {fractions}.")
    if fractions[0] == 0:
        raise InputError("The training fraction of the split must be positive.")
    boundaries = []
    for length in lengths:
        train_end = int(round(fractions[0] * length))
        valid_end = int(round((fractions[0] + fractions[1]) * length))
        sizes = (train_end, valid_end - train_end, length - valid_end)
        for part, size, fraction in zip(("training", "validation", "test"), sizes, fractions):
            if fraction > 0 and size < 2:
                raise InputError(
                    f"A trajectory of {length} samples is too short for the split {fractions}: the {part} part "
                    f"would get {size} samples. Use a longer series or change --split."
                )
        boundaries.append((train_end, valid_end))
    return np.asarray(boundaries, dtype=np.int64)


def normalization_statistics(trajectories: list[np.ndarray], split: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean and standard deviation of the training parts of all trajectories.

    Fitting on training data alone keeps the test data unseen by every step
    of the pipeline. A variable that is constant over the training data gets
    an InputError, because it cannot be standardised.
    """
    train = np.concatenate([t[:end] for t, (end, _) in zip(trajectories, split)])
    mean, std = train.mean(axis=0), train.std(axis=0)
    constant = np.nonzero(~(std > 0))[0]
    if constant.size:
        raise InputError(
            f"Variable {int(constant[0]) + 1} is constant over the training data, so it carries no dynamics "
            "and cannot be standardised. Leave it out with --columns."
        )
    return mean, std


def file_sha256(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_dataset(dataset: Dataset, path: str | os.PathLike, force: bool = False) -> Path:
    """Write `dataset` to an HDF5 file atomically; refuse to overwrite without `force`."""
    path = check_output_path(path, force)
    provenance = {"dsr_version": __version__, **dataset.provenance}
    with atomic_path(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.attrs["format"] = DATASET_FORMAT
        handle.attrs["format_version"] = DATASET_FORMAT_VERSION
        handle.attrs["name"] = dataset.name
        handle.attrs["created_utc"] = utc_timestamp()
        handle.attrs["dt"] = dataset.dt
        handle.attrs["time_unit"] = dataset.time_unit
        handle.attrs["variables"] = list(dataset.variables)
        handle.attrs["units"] = list(dataset.units)

        group = handle.create_group("trajectories")
        for index, trajectory in enumerate(dataset.trajectories):
            group.create_dataset(f"{index:04d}", data=trajectory, compression="gzip", shuffle=True)

        normalization = handle.create_group("normalization")
        normalization.create_dataset("mean", data=dataset.mean)
        normalization.create_dataset("std", data=dataset.std)

        handle.create_dataset("split", data=dataset.split)
        handle.attrs["provenance"] = json.dumps(provenance, sort_keys=True)
        handle.attrs["preprocessing"] = json.dumps(dataset.preprocessing)
    logger.info("wrote dataset %s (trajectories %d, samples %d)", path, len(dataset.trajectories), dataset.n_samples)
    return path


def read_dataset(path: str | os.PathLike) -> Dataset:
    """Read a dsr dataset file, checking its format name and version."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found. Check the path, or make a dataset with dsr simulate or dsr ingest.")
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise FormatError(f"{path}: not an HDF5 file. Create a dataset with `dsr simulate` or `dsr ingest`.") from None
    with handle:
        check_format(path, handle, DATASET_FORMAT, DATASET_FORMAT_VERSION)
        trajectories = [handle["trajectories"][key][()] for key in sorted(handle["trajectories"])]
        return Dataset(
            trajectories=trajectories,
            variables=tuple(str(v) for v in handle.attrs["variables"]),
            units=tuple(str(u) for u in handle.attrs["units"]),
            dt=float(handle.attrs["dt"]),
            time_unit=str(handle.attrs["time_unit"]),
            mean=handle["normalization/mean"][()],
            std=handle["normalization/std"][()],
            split=handle["split"][()],
            provenance=json.loads(handle.attrs["provenance"]),
            preprocessing=json.loads(handle.attrs["preprocessing"]),
            name=str(handle.attrs["name"]),
        )


def check_format(path: Path, handle: h5py.File, expected: str, supported_version: int) -> None:
    """Raise FormatError unless the file's `format` attribute is `expected` at a supported version."""
    found = handle.attrs.get("format")
    if found != expected:
        what = f"a {found!r} file" if found else "an HDF5 file without a dsr format attribute"
        raise FormatError(f"{path}: expected a {expected} file, found {what}.")
    version = int(handle.attrs.get("format_version", -1))
    if not 1 <= version <= supported_version:
        raise FormatError(
            f"{path}: {expected} format version {version} is not supported by dsr {__version__} "
            f"(it reads versions 1 to {supported_version}). Upgrade dsr or recreate the file."
        )
