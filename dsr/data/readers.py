"""Readers for measured time series: text (CSV, TSV, whitespace), NPY, NPZ, HDF5 and MATLAB files.

Every reader returns a `RawSeries`: a float64 array with time along axis 0
(shape (T, N), or (K, T, N) for several trajectories), column names, and a
sampling step if the file had a time column. Problems raise InputError with
the file name, the row and column where relevant, and the fix.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from dsr.errors import InputError

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat", ""}
TIME_COLUMN_NAMES = {"t", "time", "times", "timestamp", "time_s", "t_s"}
_INTEGER = re.compile(r"^[+-]?\d+$")
# Cells that spreadsheets and statistics packages write for a missing value;
# they are read as NaN, which ingest reports or fills (--fill interpolate).
MISSING_CELLS = {"", "na", "n/a", "nan", "null", "none", "#n/a"}
_COMMA_DECIMAL = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")


@dataclass
class RawSeries:
    """Data as read from a file, before any preprocessing.

    Attributes:
        values: (T, N) or (K, T, N) float64 array.
        columns: N column names.
        dt: sampling step from a time column, or None.
        notes: facts a user should see about how the file was read.
        line_numbers: for text files, the file line of each row, so that
            later errors can point into the file.
    """

    values: np.ndarray
    columns: list[str]
    dt: float | None = None
    notes: list[str] | None = None
    line_numbers: list[int] | None = None


def read_series(
    path: str | Path,
    key: str | None = None,
    time_axis: int | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    time_column: str | None = None,
) -> RawSeries:
    """Read a time series from `path`, choosing the reader by the file's suffix.

    Args:
        path: the file.
        key: array name in NPZ, HDF5 and MATLAB files; optional when the file
            contains exactly one array.
        time_axis: the time axis of a 3-D array (required there).
        delimiter, decimal: override the detection for text files.
        time_column: name or 1-based index of a text column holding the time
            of each sample; by default a column named t or time is used.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found. Check the path; relative paths start from the current folder.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the data file inside it.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty.")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _from_array(path, _load_npy(path), time_axis)
    if suffix == ".npz":
        return _from_array(path, _load_npz(path, key), time_axis)
    if suffix in {".h5", ".hdf5", ".hdf"}:
        return _from_array(path, _load_hdf5(path, key), time_axis)
    if suffix == ".mat":
        return _from_array(path, _load_mat(path, key), time_axis)
    if suffix in TEXT_SUFFIXES:
        return read_text(path, delimiter=delimiter, decimal=decimal, time_column=time_column)
    raise InputError(
        f"{path}: unknown file type {suffix!r}. dsr reads .csv, .tsv, .txt, .dat, .npy, .npz, .h5/.hdf5 and .mat files."
    )


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        raise InputError(f"{path}: not a plain numeric NPY array ({error}).") from None


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        return _pick(path, dict(archive.items()), key)


def _load_hdf5(path: Path, key: str | None) -> np.ndarray:
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise InputError(f"{path}: not a readable HDF5 file.") from None
    with handle:
        if handle.attrs.get("format") == "dsr-dataset":
            raise InputError(f"{path}: is a dsr dataset already; use it directly instead of ingesting it.")
        arrays: dict[str, h5py.Dataset] = {}

        def collect(name: str, item) -> None:
            # visititems stops at the first callback that returns a value, so this returns None.
            if isinstance(item, h5py.Dataset):
                arrays[name] = item

        handle.visititems(collect)
        chosen = _pick(path, arrays, key)
        return np.asarray(chosen[()])


def _load_mat(path: Path, key: str | None) -> np.ndarray:
    from scipy.io import loadmat

    try:
        contents = loadmat(path)
    except NotImplementedError:
        # MATLAB v7.3 files are HDF5 files underneath.
        return _load_hdf5(path, key)
    except ValueError as error:
        raise InputError(f"{path}: not a readable MATLAB file ({error}).") from None
    arrays = {name: value for name, value in contents.items() if not name.startswith("__")}
    return _pick(path, arrays, key)


def _pick(path: Path, arrays: dict, key: str | None):
    if key is not None:
        if key not in arrays:
            raise InputError(f"{path}: has no array {key!r}. It contains: {', '.join(sorted(arrays)) or 'no arrays'}.")
        return arrays[key]
    if len(arrays) != 1:
        raise InputError(
            f"{path}: contains {len(arrays)} arrays ({', '.join(sorted(arrays)) or 'none'}); choose one with --key."
        )
    return next(iter(arrays.values()))


def _from_array(path: Path, array: np.ndarray, time_axis: int | None) -> RawSeries:
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise InputError(f"{path}: contains {array.dtype} values, but dsr needs real numbers. Convert the array to floats first.")
    values = array.astype(np.float64)
    if values.size == 0:
        raise InputError(f"{path}: the array is empty.")

    if values.ndim == 1:
        values = values[:, None]
    elif values.ndim == 2:
        if time_axis == 1:
            values = values.T
        elif time_axis not in (None, 0):
            raise InputError(f"{path}: a 2-D array has time axis 0 or 1, got --time-axis {time_axis}.")
    elif values.ndim == 3:
        values = _arrange_3d(path, values, time_axis)
    else:
        raise InputError(f"{path}: a {values.ndim}-D array cannot be read as time series; dsr reads 1-D, 2-D and 3-D arrays.")

    if values.ndim == 2 and values.shape[0] < values.shape[1]:
        logger.warning("%s: %d samples of %d variables; if time runs along the columns, pass --time-axis 1", path, *values.shape)
    n_variables = values.shape[-1]
    return RawSeries(values=values, columns=[f"x{i + 1}" for i in range(n_variables)], notes=[])


def _arrange_3d(path: Path, values: np.ndarray, time_axis: int | None) -> np.ndarray:
    if time_axis is None:
        raise InputError(
            f"{path}: a 3-D array of shape {values.shape} needs --time-axis (0, 1 or 2). "
            "The variables are then taken from the last other axis and the remaining axis indexes trajectories."
        )
    if time_axis not in (0, 1, 2):
        raise InputError(f"{path}: --time-axis must be 0, 1 or 2 for a 3-D array, got {time_axis}.")
    variable_axis = max(axis for axis in range(3) if axis != time_axis)
    trajectory_axis = ({0, 1, 2} - {time_axis, variable_axis}).pop()
    return np.transpose(values, (trajectory_axis, time_axis, variable_axis))


def read_text(path: Path, delimiter: str | None = None, decimal: str | None = None, time_column: str | None = None) -> RawSeries:
    """Read delimited text: detect the delimiter, a header row, the decimal mark and a time column."""
    lines = [(number, line.strip()) for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line and not line.startswith("#")]
    if not lines:
        raise InputError(f"{path}: the file has no data rows (only blank or # comment lines).")

    notes: list[str] = []
    delimiter_given = delimiter is not None
    delimiter = _detect_delimiter(lines[0][1]) if delimiter is None else delimiter
    rows = [(number, _split(line, delimiter)) for number, line in lines]

    header: list[str] | None = None
    if not all(_looks_numeric(cell) for cell in rows[0][1]):
        header = [cell.strip().strip('"') for cell in rows[0][1]]
        rows = rows[1:]
    if not rows:
        raise InputError(f"{path}: the file has a header but no data rows.")
    if len(rows) < 2:
        raise InputError(f"{path}: only one data row; a time series needs at least two samples.")

    cells = [cell for _, row in rows[:200] for cell in row]
    if decimal is None:
        decimal = _detect_decimal(path, cells, delimiter, delimiter_given)
    if decimal == "," and delimiter != ",":
        notes.append("read ',' as the decimal mark")

    n_columns = len(rows[0][1])
    values = np.empty((len(rows), n_columns))
    for index, (number, row) in enumerate(rows):
        if len(row) != n_columns:
            raise InputError(f"{path}: line {number} has {len(row)} columns, but the first data row has {n_columns}. Fix or remove that line.")
        for column, cell in enumerate(row):
            text = cell.strip().strip('"')
            if text.lower() in MISSING_CELLS:
                values[index, column] = np.nan
                continue
            if decimal == ",":
                text = text.replace(",", ".")
            try:
                values[index, column] = float(text)
            except ValueError:
                name = header[column] if header else str(column + 1)
                raise InputError(
                    f"{path}: line {number}, column {name}: {cell.strip()!r} is not a number. "
                    "Remove or fix that cell, or choose numeric columns with --columns."
                ) from None

    columns = header if header else [f"x{i + 1}" for i in range(n_columns)]
    dt = None
    time_index = _find_time_column(path, columns, time_column, header is not None)
    if time_index is not None:
        dt = _dt_from_times(path, values[:, time_index], columns[time_index])
        notes.append(f"took the sampling step {dt:g} from column {columns[time_index]!r}")
        values = np.delete(values, time_index, axis=1)
        columns = [c for i, c in enumerate(columns) if i != time_index]
        if not columns:
            raise InputError(f"{path}: the only column is the time column; there is no data to ingest.")
    return RawSeries(values=values, columns=columns, dt=dt, notes=notes, line_numbers=[number for number, _ in rows])


def _detect_delimiter(line: str) -> str | None:
    for candidate in (";", "\t", ","):
        if candidate in line:
            return candidate
    return None  # runs of whitespace


def _split(line: str, delimiter: str | None) -> list[str]:
    return line.split() if delimiter is None else line.split(delimiter)


def _looks_numeric(cell: str) -> bool:
    text = cell.strip().strip('"')
    try:
        float(text.replace(",", "."))
    except ValueError:
        return text.lower() in MISSING_CELLS | {"inf", "-inf"}
    return True


def _detect_decimal(path: Path, cells: list[str], delimiter: str | None, delimiter_given: bool) -> str:
    stripped = [cell.strip().strip('"') for cell in cells]
    if delimiter != "," and any(_COMMA_DECIMAL.match(cell) for cell in stripped):
        return ","
    if delimiter == "," and not delimiter_given and all(_INTEGER.match(cell) for cell in stripped if cell):
        # "1,5" could be two integer columns or one number with a decimal comma.
        raise InputError(
            f"{path}: every cell is a whole number separated by commas, so ',' may be the delimiter or the decimal mark. "
            "Say which with --delimiter ',' (integer columns) or --delimiter ';' --decimal ','."
        )
    return "."


def _find_time_column(path: Path, columns: list[str], time_column: str | None, has_header: bool) -> int | None:
    if time_column is not None:
        if time_column in columns:
            return columns.index(time_column)
        if time_column.isdigit() and 1 <= int(time_column) <= len(columns):
            return int(time_column) - 1
        raise InputError(f"{path}: no column {time_column!r}; columns are {', '.join(columns)} (or 1 to {len(columns)}).")
    if has_header:
        for index, name in enumerate(columns):
            if name.strip().lower() in TIME_COLUMN_NAMES:
                return index
    return None


def _dt_from_times(path: Path, times: np.ndarray, name: str) -> float:
    steps = np.diff(times)
    if not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        raise InputError(f"{path}: the time column {name!r} is not strictly increasing; fix it or pass --dt and --columns without it.")
    dt = float(np.median(steps))
    if np.max(np.abs(steps - dt)) > 1e-3 * dt:
        raise InputError(
            f"{path}: the time column {name!r} is not evenly spaced (steps from {steps.min():g} to {steps.max():g}). "
            "Resample the recording to a uniform step first; dsr models assume one."
        )
    return dt
