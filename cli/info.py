"""`dsr info`: a summary table of a dataset or a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import h5py
import numpy as np
import typer
from rich.table import Table

from cli import console
from dsr.errors import FormatError, InputError


def info_command(
    path: Annotated[Path, typer.Argument(help="A dataset file (.h5) or a run folder.", show_default=False)],
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on standard output instead of tables.")] = False,
) -> None:
    """Summarise a dsr dataset or run: shape, sampling step, split, parameters and provenance.

    Example: dsr info l63.h5
    """
    from dsr.data.dataset import DATASET_FORMAT, read_dataset

    if not path.exists():
        raise InputError(f"{path}: file or folder not found.")
    kind = _file_kind(path)
    if kind == DATASET_FORMAT:
        _show_dataset(path, read_dataset(path), json_)
        return
    if kind in ("run", "dsr-run", "dsr-mixer-run"):
        from dsr.mixer.storage import is_mixer_run

        folder = path if kind == "run" else path.parent
        if is_mixer_run(folder):
            _show_mixer_run(folder, json_)
        else:
            _show_run(folder, json_)
        return
    if kind == "folder":
        raise InputError(f"{path}: a folder without run.h5, so not a run folder. Give a run folder or a dataset "
                         "file; for a folder of datasets, give one of its .h5 files.")
    raise FormatError(f"{path}: not a dsr dataset or run (its format attribute is {kind!r}). dsr info reads the "
                      "files of dsr simulate, dsr ingest and dsr train.")


def _file_kind(path: Path) -> str:
    if path.is_dir():
        return "run" if (path / "run.h5").exists() else "folder"
    try:
        with h5py.File(path, "r") as handle:
            return str(handle.attrs.get("format", ""))
    except OSError:
        raise FormatError(f"{path}: not an HDF5 file. dsr info reads dataset files and run folders.") from None


def _show_dataset(path: Path, dataset, json_: bool) -> None:
    lengths = [len(t) for t in dataset.trajectories]
    summary = {
        "path": str(path), "format": "dsr-dataset", "name": dataset.name,
        "trajectories": len(lengths), "samples_per_trajectory": lengths, "variables": list(dataset.variables),
        "units": list(dataset.units), "dt": dataset.dt, "time_unit": dataset.time_unit,
        "split": dataset.split.tolist(), "mean": dataset.mean, "std": dataset.std,
        "provenance": dataset.provenance, "preprocessing": dataset.preprocessing,
    }
    if json_:
        console.print_json(summary)
        return

    shape = " + ".join(f"{n:,}" for n in lengths[:4]) + (" + ..." if len(lengths) > 4 else "")
    train = sum(int(s[0]) for s in dataset.split)
    valid = sum(int(s[1] - s[0]) for s in dataset.split)
    rows = [
        ("name", dataset.name),
        ("shape", f"{shape} samples x {dataset.n_variables} variables ({len(lengths)} {'trajectory' if len(lengths) == 1 else 'trajectories'})"),
        ("variables", ", ".join(dataset.variables)),
        ("dt", f"{dataset.dt:g} {dataset.time_unit}".strip()),
        ("split", f"train {train:,}, validation {valid:,}, test {dataset.n_samples - train - valid:,} samples"),
    ]
    provenance = dict(dataset.provenance)
    if "system" in provenance:
        rows.append(("system", str(provenance.pop("system"))))
        parameters = provenance.pop("parameters", {})
        rows.append(("parameters", ", ".join(f"{k}={v:g}" for k, v in parameters.items()) or "-"))
    for key in ("source_name", "source_sha256", "seed", "noise", "command_line", "dsr_version"):
        if key in provenance:
            rows.append((key.replace("_", " "), str(provenance[key])))
    rows.append(("preprocessing", " → ".join(step["step"] for step in dataset.preprocessing)))
    console.stdout.print(console.key_value_table(f"Dataset {path}", rows))

    statistics = Table(title="Normalisation (training part)", title_justify="left")
    for column in ("variable", "mean", "std", "min", "max"):
        statistics.add_column(column, justify="right" if column != "variable" else "left")
    everything = np.concatenate(dataset.trajectories)
    for index, name in enumerate(dataset.variables[:12]):
        statistics.add_row(name, *(console.format_number(v) for v in (
            dataset.mean[index], dataset.std[index], everything[:, index].min(), everything[:, index].max())))
    console.stdout.print(statistics)


def _show_run(folder: Path, json_: bool) -> None:
    from dsr.runs import load_run

    run = load_run(folder, which="latest")
    history = run.history
    epochs = int(history["epoch"][-1]) if len(history.get("epoch", [])) else 0
    validation = history.get("validation", np.array([]))
    scored = validation[np.isfinite(validation)] if len(validation) else validation
    metrics = run.read_group("metrics")
    summary = {
        "path": str(folder), "format": "dsr-run", "status": run.status, "epochs_done": epochs,
        "config": run.config.to_dict(), "model": run.model_config, "dataset": {
            k: v for k, v in run.dataset_info.items() if k not in ("mean", "std")},
        "final_loss": float(history["loss"][-1]) if epochs else None,
        "best_validation": float(scored.min()) if len(scored) else None, "best_epoch": run.best_epoch,
        "training_seconds": float(np.sum(history.get("seconds", []))),
        "metrics": {k: v for k, v in (metrics or {}).items() if np.ndim(v) == 0 and k != "protocol"},
        "versions": run.attributes.get("versions"),
    }
    if json_:
        console.print_json(summary)
        return

    config = run.config
    architecture = (f"AL-RNN, M = {config.latent_dim}, P = {config.n_relu}" if config.model == "alrnn" else
                    f"{'clipped ' if config.clipped else ''}shPLRNN, M = {config.latent_dim}, L = {config.hidden_dim}")
    forcing = (f"GTF, {config.alpha_schedule} α" if config.forcing == "gtf" else f"sparse, τ = {config.forcing_interval}")
    rows = [
        ("status", run.status),
        ("model", f"{architecture}, {config.observation} readout"),
        ("forcing", forcing),
        ("epochs", f"{epochs} of {config.epochs}"),
        ("dataset", f"{run.dataset_info.get('name')} ({run.dataset_info.get('path')})"),
        ("final loss", console.format_number(summary["final_loss"])),
        ("best validation", f"{console.format_number(summary['best_validation'])} ({config.validation_metric}) "
                            f"at epoch {run.best_epoch}"),
        ("training time (epochs)", f"{summary['training_seconds']:.0f} s"),
        ("seed", str(config.seed)),
        ("command line", str(run.attributes.get("command_line", ""))),
    ]
    for name, label in (("dstsp", "D_stsp"), ("dh", "D_H"), ("kaplan_yorke_dimension", "Kaplan-Yorke dimension")):
        if metrics and name in metrics:
            rows.append((label, console.format_number(metrics[name])))
    console.stdout.print(console.key_value_table(f"Run {folder}", rows))


def _show_mixer_run(folder: Path, json_: bool) -> None:
    from dsr.mixer import load_mixer_run

    run = load_mixer_run(folder)
    config, curves = run.config, run.curves
    steps = int(run.attributes.get("outer_step", 0))
    final_loss = curves["loss"][-1] if len(curves.get("loss", [])) else None
    environments = []
    for index, record in enumerate(run.environments):
        loss = float(final_loss[index]) if final_loss is not None and record.kind == "training" else None
        environments.append({"name": record.name, "kind": record.kind, "expert": record.expert, "final_loss": loss})
    summary = {
        "path": str(folder), "format": "dsr-mixer-run", "status": run.status, "outer_steps_done": steps,
        "config": config.to_dict(), "expert_model": run.expert_config, "environments": environments,
        "training_seconds": float(np.sum(curves.get("seconds", []))), "versions": run.attributes.get("versions"),
    }
    if json_:
        console.print_json(summary)
        return

    rows = [
        ("status", run.status),
        ("experts", f"K = {config.experts} {config.expert_model} experts, context dimension d = {config.context_dim}"),
        ("gate", config.gate),
        ("outer steps", f"{steps} of {config.outer_steps}"),
        ("environments", f"{sum(r.kind == 'training' for r in run.environments)} training, "
                         f"{sum(r.kind == 'adapted' for r in run.environments)} adapted"),
        ("training time (outer steps)", f"{summary['training_seconds']:.0f} s"),
        ("seed", str(config.seed)),
        ("command line", str(run.attributes.get("command_line", ""))),
    ]
    console.stdout.print(console.key_value_table(f"MixER run {folder}", rows))
    table = Table(title="Environments", title_justify="left")
    for column in ("environment", "kind", "expert", "final GTF loss"):
        table.add_column(column, justify="right" if column in ("expert", "final GTF loss") else "left")
    for item in environments:
        table.add_row(item["name"], item["kind"], str(item["expert"]), console.format_number(item["final_loss"]))
    console.stdout.print(table)
