"""`dsr ingest`: measured recordings into the dsr dataset format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli import console
from cli.options import parse_list, parse_split
from dsr.errors import InputError


def ingest_command(
    source: Annotated[Path, typer.Argument(help="Recording: .csv/.tsv/.txt/.dat text, .npy, .npz, .h5/.hdf5 or .mat.", show_default=False)],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output dataset file. Default: SOURCE's name with .h5 in the current folder.", show_default=False)] = None,
    key: Annotated[Optional[str], typer.Option("--key", help="Array to read from an NPZ, HDF5 (a path such as group/data) or MATLAB file.", show_default=False)] = None,
    columns: Annotated[Optional[list[str]], typer.Option("--columns", "-c", help="Columns to keep, by header name or 1-based index, comma-separated. Default: all.", show_default=False)] = None,
    dt: Annotated[Optional[float], typer.Option("--dt", help="Sampling step. Default: from a time column (header t or time), else 1 sample.", show_default=False)] = None,
    time_unit: Annotated[str, typer.Option("--time-unit", help="Unit of the sampling step, stored for the record, e.g. s or ms.")] = "",
    time_column: Annotated[Optional[str], typer.Option("--time-column", help="Text column (name or 1-based index) with the time of each sample.", show_default=False)] = None,
    time_axis: Annotated[Optional[int], typer.Option("--time-axis", help="Time axis of an array: needed for 3-D arrays (the last other axis holds the variables, the remaining one indexes trajectories); 1 transposes a 2-D array.", show_default=False)] = None,
    delimiter: Annotated[Optional[str], typer.Option("--delimiter", help="Text delimiter, e.g. ',' ';' or '\\t'. Default: detected; whitespace if none.", show_default=False)] = None,
    decimal: Annotated[Optional[str], typer.Option("--decimal", help="Decimal mark of a text file: '.' or ','. Default: detected.", show_default=False)] = None,
    fill: Annotated[str, typer.Option("--fill", help="Missing or infinite values: 'none' makes them an error, 'interpolate' fills them linearly in time.")] = "none",
    downsample: Annotated[int, typer.Option("--downsample", help="Keep every k-th sample; dt is multiplied by k.")] = 1,
    embed: Annotated[Optional[int], typer.Option("--embed", help="Delay-embedding dimension d: each column becomes d delayed copies.", show_default=False)] = None,
    lag: Annotated[str, typer.Option("--lag", help="Embedding delay in samples (after downsampling), or 'auto': first minimum of the mutual information, else the autocorrelation's 1/e time.")] = "auto",
    split: Annotated[str, typer.Option("--split", help="Train, validation and test fractions, contiguous blocks in time order (never shuffled).")] = "0.8,0.1,0.1",
    standardize: Annotated[bool, typer.Option("--standardize/--no-standardize", help="Store z-scoring statistics of the training part, which models use.")] = True,
    name: Annotated[Optional[str], typer.Option("--name", help="Dataset name used in tables and figure titles. Default: the file's stem.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on standard output.")] = False,
) -> None:
    """Read a measured time series, check it and write it as a dsr dataset.

    Checks: empty files, single rows, non-numeric cells, NaN or infinite
    values (named by line and column; --fill interpolate fills them), constant
    columns, series too short for the embedding or the split, and 3-D arrays
    without --time-axis. Each is an error (exit 2) that writes nothing.
    Preprocessing, recorded in the file: column choice, filling,
    downsampling, delay embedding, a contiguous train/validation/test split
    and z-scoring statistics of the training part.

    Example: dsr ingest laser.npy --embed 3 --lag auto -o laser.h5
    """
    from dsr.data.dataset import write_dataset
    from dsr.data.ingest import IngestOptions, ingest

    path = output or Path(source.stem + ".h5")
    if path.resolve() == source.resolve():
        raise InputError(f"{path}: the output would overwrite the input. Choose another path with -o.")
    if lag != "auto" and not lag.isdigit():
        raise InputError(f"Invalid --lag {lag!r}: expected a whole number of samples or 'auto'.")
    options = IngestOptions(
        key=key, columns=parse_list(columns) or None, dt=dt, time_unit=time_unit, time_axis=time_axis,
        delimiter=delimiter.replace("\\t", "\t") if delimiter else None, decimal=decimal, time_column=time_column,
        fill=fill, downsample=downsample, embed=embed, lag="auto" if lag == "auto" else int(lag),
        split=parse_split(split), standardize=standardize, name=name,
    )
    dataset, report = ingest(source, options)
    write_dataset(dataset, path, force=force)

    lengths = [len(t) for t in dataset.trajectories]
    if json_:
        console.print_json({"path": str(path), "variables": list(dataset.variables), "samples": lengths,
                            "dt": dataset.dt, "lag": report.lag, "lag_rule": report.lag_method, "notes": report.notes})
        return
    for line in report.notes:
        console.note(line)
    console.stdout.print(f"wrote {path}: {' + '.join(map(str, lengths))} samples x {dataset.n_variables} variables "
                         f"({', '.join(dataset.variables)}), dt {dataset.dt:g}")
