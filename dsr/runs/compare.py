"""Comparison tables of many runs for sweeps: the configuration that differs, and selected metrics.

Each run is read from its run.h5 alone (configuration, history and the
`metrics` group of `dsr evaluate`), without building its model. Runs that cannot be read are
skipped with a warning that names them.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TextIO

import h5py
import numpy as np

from dsr.data.dataset import check_format
from dsr.errors import DsrError, InputError
from dsr.runs.run import RUN_FILE, RUN_FORMAT, RUN_FORMAT_VERSION
from dsr.runs.store import read_json

logger = logging.getLogger(__name__)

# Metric columns, in table order. D_stsp, D_H, their floors and λ1 (of the
# model's QR spectrum) are absent (None) until `dsr evaluate` has run.
# "epochs_done" differs from the configuration key "epochs" for runs that
# stopped early or are still training.
METRIC_COLUMNS = (
    "status", "epochs_done", "final_loss", "best_validation", "dstsp", "dstsp_floor", "dh", "dh_floor", "lambda1",
    "training_seconds",
)
# Metric columns that `Comparison.summary` condenses to median and MAD.
SUMMARY_COLUMNS = ("final_loss", "best_validation", "dstsp", "dh", "lambda1", "training_seconds")
NAME_COLUMN = "run"
PATH_COLUMN = "path"


@dataclass(frozen=True)
class RunRecord:
    """One run's row of a comparison table.

    Attributes:
        folder: the run folder.
        config: every training option (`TrainConfig` fields) plus `dataset`,
            the name of the training dataset.
        metrics: the METRIC_COLUMNS values; None where not available.
    """

    folder: Path
    config: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def name(self) -> str:
        return self.folder.name

    def value(self, column: str) -> Any:
        """Return the value of a column: the run name, a configuration key or a metric (None if absent)."""
        if column == NAME_COLUMN:
            return self.name
        if column == PATH_COLUMN:
            return str(self.folder)
        if column in self.metrics:
            return self.metrics[column]
        return self.config.get(column)


@dataclass
class Comparison:
    """Runs to tabulate, the configuration keys that differ between them, and the paths skipped."""

    records: list[RunRecord]
    config_keys: list[str]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Table columns: the run name, the differing configuration keys, then the metrics."""
        return [NAME_COLUMN, *self.config_keys, *METRIC_COLUMNS]

    def rows(self) -> list[dict[str, Any]]:
        """Return one dict per run with every column plus the folder path."""
        return [{column: record.value(column) for column in [*self.columns, PATH_COLUMN]} for record in self.records]

    def summary(self) -> dict[str, dict[str, float | int]]:
        """Return the median and the median absolute deviation of each numeric metric column over the runs.

        Single runs of chaotic models scatter widely between seeds, so a
        training recipe is judged by the median over runs, and the MAD
        measures how far runs stray from it. Both are robust to the occasional run
        that collapses. MAD = median(|v − median(v)|), without the 1.4826
        factor that would make it estimate a normal standard deviation.
        Runs without a value (not evaluated, not finite) are left out, and
        `runs` is the number that counted. A column that no run has is omitted.
        """
        summary = {}
        for column in SUMMARY_COLUMNS:
            values = np.array([value for value in (record.value(column) for record in self.records)
                               if value is not None and math.isfinite(value)], dtype=float)
            if len(values):
                median = float(np.median(values))
                summary[column] = {"median": median, "mad": float(np.median(np.abs(values - median))),
                                   "runs": len(values)}
        return summary


def read_run_record(folder: str | Path) -> RunRecord:
    """Read the configuration and the metrics of one run folder from its run.h5.

    Raises:
        InputError: the folder contains no run.h5.
        FormatError: run.h5 is not a single-model run of a supported version
            (a MixER run, for example).
        OSError, KeyError: run.h5 is damaged or incomplete.
    """
    folder = Path(folder)
    run_file = folder / RUN_FILE
    if not run_file.is_file():
        raise InputError(f"{folder}: no {RUN_FILE}, so it is not a run folder.")
    with h5py.File(run_file, "r") as handle:
        check_format(run_file, handle, RUN_FORMAT, RUN_FORMAT_VERSION)
        config = dict(read_json(handle["config"], "train", {}))
        config["dataset"] = str(handle["dataset"].attrs.get("name", "")) if "dataset" in handle else None
        history = {name: handle["history"][name][()] for name in handle["history"]} if "history" in handle else {}
        evaluation: dict[str, Any] = {}
        exponents = None
        if "metrics" in handle:
            evaluation = dict(handle["metrics"].attrs)
            if "lyapunov_exponents" in handle["metrics"]:
                exponents = handle["metrics"]["lyapunov_exponents"][()]
        status = str(handle.attrs.get("status", ""))
    return RunRecord(folder=folder, config=config, metrics=_metrics(status, history, evaluation, exponents))


def _metrics(status: str, history: dict[str, np.ndarray], evaluation: dict[str, Any],
             exponents: np.ndarray | None) -> dict[str, Any]:
    epochs = history.get("epoch", np.zeros(0))
    loss = history.get("loss", np.zeros(0))
    validation = history.get("validation", np.zeros(0))
    scored = validation[np.isfinite(validation)]
    return {
        "status": status,
        "epochs_done": int(epochs[-1]) if len(epochs) else 0,
        "final_loss": float(loss[-1]) if len(loss) else None,
        "best_validation": float(scored.min()) if len(scored) else None,
        **{name: _number(evaluation.get(name)) for name in ("dstsp", "dstsp_floor", "dh", "dh_floor")},
        "lambda1": float(exponents[0]) if exponents is not None and len(exponents) else None,
        "training_seconds": float(np.sum(history["seconds"])) if "seconds" in history else None,
    }


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def run_folders(paths: Iterable[str | Path]) -> list[Path]:
    """Expand the given paths to run folders.

    A folder with a run.h5 is a run. A folder without one stands for its
    subfolders that have a run.h5, in name order, so `dsr compare runs/`
    works like `dsr compare runs/*`. Anything else is kept, so that it is
    reported as skipped.
    """
    folders: list[Path] = []
    for path in map(Path, paths):
        children: list[Path] = []
        if path.is_dir() and not (path / RUN_FILE).exists():
            children = sorted(child for child in path.iterdir() if (child / RUN_FILE).is_file())
        folders.extend(children or [path])
    return folders


def read_runs(paths: Iterable[str | Path]) -> tuple[list[RunRecord], list[tuple[Path, str]]]:
    """Read every run among `paths` (see `run_folders`); return the records and the skipped paths with the reason.

    A skipped path is logged as a warning. Raises InputError when no path
    could be read.
    """
    records, skipped = [], []
    folders = run_folders(paths)
    for folder in folders:
        try:
            records.append(read_run_record(folder))
        except (DsrError, OSError, KeyError, ValueError) as error:
            reason = _without_path(str(error) or type(error).__name__, folder)
            logger.warning("skipped %s: %s", folder, reason)
            skipped.append((folder, reason))
    if not records:
        listed = ", ".join(str(folder) for folder in folders[:5]) + (", ..." if len(folders) > 5 else "")
        raise InputError(f"None of the {len(folders)} paths is a readable run ({listed or 'no paths given'}). "
                         "Pass run folders written by `dsr train`, or a folder that contains them.")
    return records, skipped


def differing_config_keys(records: list[RunRecord]) -> list[str]:
    """Return the configuration keys whose values are not the same in every record, in sorted order."""
    keys = sorted({key for record in records for key in record.config})
    return [key for key in keys if len({json.dumps(record.config.get(key), sort_keys=True) for record in records}) > 1]


def parse_filters(expressions: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Parse `KEY=VALUE` filters; a comma-separated VALUE list matches any of its values."""
    filters = []
    for expression in expressions:
        key, separator, values = expression.partition("=")
        if not separator or not key.strip() or not values.strip():
            raise InputError(f"Invalid filter {expression!r}: expected KEY=VALUE, for example n_relu=2 or seed=0,1.")
        filters.append((key.strip(), [value.strip() for value in values.split(",")]))
    return filters


def filter_records(records: list[RunRecord], filters: list[tuple[str, list[str]]]) -> list[RunRecord]:
    """Keep the records that match every filter (KEY, VALUES): the stored value equals one of VALUES.

    Each value is converted to the type of the stored value before comparing,
    so n_relu=2 matches the integer 2, learning_rate_start=1e-3 the float
    0.001 and clipped=true the boolean True.
    """
    known = _known_columns(records)
    for key, _ in filters:
        if key not in known:
            raise InputError(f"Unknown filter key {key!r}; the runs have: {', '.join(sorted(known))}.")
    return [record for record in records
            if all(any(_matches(record.value(key), value, key) for value in values) for key, values in filters)]


def sort_records(records: list[RunRecord], key: str, descending: bool = False) -> list[RunRecord]:
    """Sort records by a column (stable); runs without a value (None or NaN) come last in either direction."""
    if key not in _known_columns(records):
        raise InputError(f"Unknown sort key {key!r}; the runs have: {', '.join(sorted(_known_columns(records)))}.")
    present = [record for record in records if not _missing(record.value(key))]
    absent = [record for record in records if _missing(record.value(key))]
    numeric = all(isinstance(record.value(key), (int, float)) for record in present)
    ordered = sorted(present, key=lambda record: record.value(key) if numeric else str(record.value(key)),
                     reverse=descending)
    return ordered + absent


def compare_runs(paths: Iterable[str | Path], where: Iterable[str] = (), sort: str | None = None,
                 descending: bool = False) -> Comparison:
    """Read, filter and sort runs, and find the configuration keys that differ between those kept."""
    records, skipped = read_runs(paths)
    records = filter_records(records, parse_filters(where))
    if sort is not None:
        records = sort_records(records, sort, descending)
    return Comparison(records=records, config_keys=differing_config_keys(records), skipped=skipped)


def write_csv(comparison: Comparison, stream: TextIO) -> None:
    """Write the comparison as CSV: a header of the columns plus `path`, then one row per run.

    Missing values are empty cells, floats keep full precision (repr) and
    booleans are written as true and false.
    """
    writer = csv.writer(stream, lineterminator="\n")
    columns = [*comparison.columns, PATH_COLUMN]
    writer.writerow(columns)
    for row in comparison.rows():
        writer.writerow([_csv_cell(row[column]) for column in columns])


def _csv_cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _without_path(message: str, folder: Path) -> str:
    """Drop a leading "FOLDER: " or "FOLDER/run.h5: " from an error message that is shown next to the folder."""
    for prefix in (f"{folder / RUN_FILE}: ", f"{folder}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _known_columns(records: list[RunRecord]) -> set[str]:
    return {NAME_COLUMN, *METRIC_COLUMNS, *(key for record in records for key in record.config)}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _matches(stored: Any, text: str, key: str) -> bool:
    """Return whether `stored` equals `text` read as the type of `stored`."""
    if stored is None:
        return text.lower() in ("none", "null", "")
    if isinstance(stored, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise InputError(f"Invalid value {text!r} for {key}, which is true or false.")
        return stored == (text.lower() in ("true", "1", "yes"))
    if isinstance(stored, (int, float)):
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"Invalid value {text!r} for {key}, which is a number.") from None
        return math.isclose(float(stored), number, rel_tol=1e-9, abs_tol=0.0) or float(stored) == number
    return str(stored) == text
