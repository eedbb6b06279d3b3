"""The ingest pipeline: read a measured file, check it, preprocess it and build a `Dataset`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsr.data.dataset import Dataset, file_sha256, normalization_statistics, split_boundaries
from dsr.provenance import command_line
from dsr.data.embedding import choose_lag, delay_embed
from dsr.data.readers import RawSeries, read_series
from dsr.errors import InputError

logger = logging.getLogger(__name__)

DEFAULT_SPLIT = (0.8, 0.1, 0.1)


@dataclass
class IngestOptions:
    """Every choice of `dsr ingest`; the defaults are those of the command.

    Attributes:
        key: array name inside NPZ, HDF5 or MATLAB files.
        columns: 1-based indices or names of the columns to keep; all if None.
        dt: sampling step; overrides a time column. 1 sample if neither.
        time_unit: unit of dt, stored for the record.
        time_axis: time axis of a 3-D array.
        delimiter, decimal: text-file overrides.
        time_column: text column holding the time of each sample.
        fill: "none" (NaN or infinite values are an error) or "interpolate"
            (linear interpolation over time, ends held constant).
        downsample: keep every k-th sample (dt is multiplied by k).
        embed: delay-embedding dimension, or None for no embedding.
        lag: delay in samples (after downsampling), or "auto".
        split: train, validation and test fractions, in time order.
        standardize: z-score every variable with training-part statistics.
        name: dataset name; the file stem by default.
    """

    key: str | None = None
    columns: list[str] | None = None
    dt: float | None = None
    time_unit: str = ""
    time_axis: int | None = None
    delimiter: str | None = None
    decimal: str | None = None
    time_column: str | None = None
    fill: str = "none"
    downsample: int = 1
    embed: int | None = None
    lag: int | str = "auto"
    split: tuple[float, float, float] = DEFAULT_SPLIT
    standardize: bool = True
    name: str | None = None


@dataclass
class IngestReport:
    """The choices the pipeline made (lag, decimal mark, sampling step), for the user to see."""

    notes: list[str] = field(default_factory=list)
    lag: int | None = None
    lag_method: str | None = None


def ingest(path: str | Path, options: IngestOptions | None = None) -> tuple[Dataset, IngestReport]:
    """Read `path` and turn it into a dataset: checks, fill, downsampling, embedding, split, standardisation.

    Raises InputError, naming the file and the fix, for every problem found;
    nothing is written here, so a failure leaves no output behind.
    """
    path = Path(path)
    options = options or IngestOptions()
    report = IngestReport()
    raw = read_series(path, key=options.key, time_axis=options.time_axis, delimiter=options.delimiter,
                      decimal=options.decimal, time_column=options.time_column)
    report.notes.extend(raw.notes or [])
    trajectories = list(raw.values) if raw.values.ndim == 3 else [raw.values]
    columns = raw.columns
    chain: list[dict] = [{"step": "read", "source": path.name}]

    # Columns.
    if options.columns:
        indices = _column_indices(path, options.columns, columns)
        trajectories = [t[:, indices] for t in trajectories]
        columns = [columns[i] for i in indices]
        chain.append({"step": "select_columns", "columns": columns})

    # Missing and infinite values, then constant columns.
    trajectories = [_handle_non_finite(path, t, columns, options.fill, index, raw.line_numbers)
                    for index, t in enumerate(trajectories)]
    if options.fill == "interpolate":
        chain.append({"step": "fill", "method": "linear interpolation"})
    for trajectory in trajectories:
        _check_not_constant(path, trajectory, columns)

    dt = _sampling_step(options, raw, report)
    if options.downsample != 1:
        if options.downsample < 1:
            raise InputError(f"--downsample must be a whole number of at least 1, got {options.downsample}.")
        trajectories = [t[::options.downsample] for t in trajectories]
        dt *= options.downsample
        chain.append({"step": "downsample", "factor": options.downsample})

    if options.embed is not None:
        lag = options.lag
        if lag == "auto":
            choice = choose_lag(trajectories[0][:, 0])
            lag = choice.lag
            report.lag, report.lag_method = choice.lag, choice.method
            report.notes.append(f"chose lag {choice.lag} samples ({choice.method})")
        embedded = [delay_embed(t, options.embed, int(lag), columns) for t in trajectories]
        trajectories = [values for values, _ in embedded]
        columns = embedded[0][1]
        chain.append({"step": "delay_embedding", "dimension": options.embed, "lag": int(lag),
                      "lag_rule": report.lag_method or "given"})

    split = split_boundaries([len(t) for t in trajectories], options.split)
    chain.append({"step": "split", "fractions": list(options.split)})
    if options.standardize:
        mean, std = normalization_statistics(trajectories, split)
        chain.append({"step": "standardize", "statistics": "training part"})
    else:
        mean, std = np.zeros(len(columns)), np.ones(len(columns))

    provenance = {
        "kind": "ingested",
        "source_path": str(path.resolve()),
        "source_name": path.name,
        "source_sha256": file_sha256(path),
        "command_line": command_line(),
    }
    dataset = Dataset(
        trajectories=trajectories, variables=tuple(columns), dt=dt, time_unit=options.time_unit,
        split=split, mean=mean, std=std, provenance=provenance, preprocessing=chain,
        name=options.name or path.stem,
    )
    return dataset, report


def _column_indices(path: Path, requested: list[str], columns: list[str]) -> list[int]:
    indices = []
    for item in requested:
        if item in columns:
            indices.append(columns.index(item))
        elif item.isdigit() and 1 <= int(item) <= len(columns):
            indices.append(int(item) - 1)
        else:
            raise InputError(f"{path}: no column {item!r}. Columns are {', '.join(columns)} (or 1 to {len(columns)}).")
    return indices


def _handle_non_finite(path: Path, values: np.ndarray, columns: list[str], fill: str, trajectory: int,
                       line_numbers: list[int] | None) -> np.ndarray:
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    row, column = (int(i) for i in np.argwhere(bad)[0])
    if line_numbers is not None:
        where = f"line {line_numbers[row]}"
    else:
        where = f"sample {row + 1}" + (f" of trajectory {trajectory + 1}" if trajectory else "")
    if fill == "none":
        raise InputError(
            f"{path}: missing or infinite values: {bad.sum()}, the first at {where}, column {columns[column]}. "
            "Clean the file, or pass --fill interpolate to fill them by linear interpolation over time."
        )
    if fill != "interpolate":
        raise InputError(f"Unknown --fill {fill!r}; expected 'none' or 'interpolate'.")
    filled = values.copy()
    time = np.arange(len(values))
    for index in range(values.shape[1]):
        good = ~bad[:, index]
        if good.sum() < 2:
            raise InputError(f"{path}: column {columns[index]} has fewer than two finite values, so it cannot be interpolated.")
        filled[:, index] = np.interp(time, time[good], values[good, index])
    logger.info("filled missing or infinite values by linear interpolation: %d", int(bad.sum()))
    return filled


def _check_not_constant(path: Path, values: np.ndarray, columns: list[str]) -> None:
    constant = np.nonzero(np.ptp(values, axis=0) == 0)[0]
    if constant.size:
        raise InputError(
            f"{path}: column {columns[constant[0]]} is constant ({values[0, constant[0]]:g}), so it carries no dynamics. "
            "Leave it out with --columns."
        )


def _sampling_step(options: IngestOptions, raw: RawSeries, report: IngestReport) -> float:
    if options.dt is not None:
        if not (np.isfinite(options.dt) and options.dt > 0):
            raise InputError(f"--dt must be a positive number, got {options.dt}.")
        return float(options.dt)
    if raw.dt is not None:
        return raw.dt
    report.notes.append("no time column and no --dt: the sampling step is 1 sample")
    return 1.0
