"""`dsr train --model mixer`: train MixER on several datasets, one per environment, into one run folder."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli import console
from dsr.errors import InputError

# `dsr train` option (its parameter name) → MixerConfig field.
SHARED_OPTIONS = {
    "latent": "latent_dim", "relu": "n_relu", "hidden": "hidden_dim", "clipped": "clipped",
    "observation": "observation", "epochs": "outer_steps", "batch_size": "batch_size",
    "sequence_length": "sequence_length", "lr": "learning_rate_start", "lr_end": "learning_rate_end",
    "grad_clip": "gradient_clip", "input_noise": "input_noise", "forcing": "forcing",
    "alpha_schedule": "alpha_schedule", "alpha": "alpha", "alpha_start": "alpha_start", "alpha_end": "alpha_end",
    "adaptive_interval": "adaptive_interval", "adaptive_gamma": "adaptive_gamma", "tau": "forcing_interval",
    "validation_interval": "validation_interval", "validation_horizon": "validation_horizon",
    "checkpoint_interval": "checkpoint_interval", "seed": "seed", "device": "device", "fast_path": "fast_path",
    "experts": "experts", "context_dim": "context_dim", "expert_model": "expert_model", "gate": "gate",
}
# `dsr train` options that mean nothing for MixER, with the reason.
UNUSED_OPTIONS = {
    "batches_per_epoch": "--batches-per-epoch (an outer step takes context and model steps; set them with "
                         "--mixer-option context_steps=12 --mixer-option model_steps=12)",
    "validation_metric": "--validation-metric (MixER records the prediction score of every environment)",
    "keep_checkpoints": "--keep-checkpoints (MixER keeps only the latest state)",
}


def mixer_default(name: str) -> str:
    """Return " [default: VALUE]" for a MixerConfig field, for the help of `dsr train`."""
    from dsr.mixer.config import MixerConfig

    # The backslash keeps rich from reading "[default: ...]" as a markup tag.
    return f" \\[default: {getattr(MixerConfig, name)}]"


def mixer_config(options: dict[str, Any], stored=None):
    """Build the MixerConfig from the options of `dsr train` (its local variables) and --mixer-option values.

    With a `stored` config (on --resume), the given options replace its
    values, and None is returned when no option is given.
    """
    from dsr.mixer.config import MixerConfig

    for name, description in UNUSED_OPTIONS.items():
        if options.get(name) is not None:
            raise InputError(f"{description} does not apply to --model mixer; leave it out.")
    values = {field: options[name] for name, field in SHARED_OPTIONS.items() if options.get(name) is not None}
    values.update(parse_mixer_options(options.get("mixer_option") or []))
    if stored is None:
        return MixerConfig.from_dict(values)
    return MixerConfig.from_dict({**stored.to_dict(), **values}) if values else None


def parse_mixer_options(items: list[str]) -> dict[str, Any]:
    """Parse NAME=VALUE pairs into MixerConfig fields, converting each value to the field's type."""
    from dsr.mixer.config import MixerConfig

    fields = {field.name: field for field in dataclasses.fields(MixerConfig)}
    values: dict[str, Any] = {}
    for item in items:
        name, separator, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not separator or name not in fields:
            raise InputError(f"Invalid --mixer-option {item!r}: expected NAME=VALUE with NAME one of "
                             f"{', '.join(sorted(fields))}.")
        kind = type(fields[name].default)
        try:
            if kind is bool:
                if text.strip().lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                values[name] = text.strip().lower() in ("true", "1")
            else:
                values[name] = kind(text.strip())
        except ValueError:
            raise InputError(f"Invalid --mixer-option {item!r}: {name} takes a {kind.__name__}.") from None
    return values


def train_mixer(data_paths: list[Path], output: Path, options: dict[str, Any]) -> None:
    """Run `dsr train --model mixer` with the options of `dsr train` (`options` is its local variables)."""
    import torch

    from dsr.mixer.run_training import train_mixer_run

    resume, force = options.get("resume", False), options.get("force", False)
    if resume and force:
        raise InputError("--resume and --force contradict each other: --resume continues a run, --force deletes it.")
    if options.get("seeds", 1) != 1:
        raise InputError("--seeds trains several single models; for MixER, train one run per --seed instead.")
    config = mixer_config(options, _stored_config(output) if resume else None)
    torch.set_num_threads(max(1, options.get("threads") or 1))
    quiet, json_ = options.get("quiet", False), options.get("json_", False)
    if quiet:
        console.quiet_logging()

    started = time.perf_counter()
    if quiet or json_:
        summary = train_mixer_run(data_paths, output, config, force=force, resume=resume)
    else:
        summary = _train_with_progress(data_paths, output, config, force, resume)

    payload = {"run": str(summary.folder), "status": "completed", "outer_steps": summary.outer_steps,
               "environments": summary.environments, "routing": summary.routing, "final_loss": summary.final_loss,
               "training_seconds": summary.seconds, "wall_seconds": time.perf_counter() - started,
               "rollout": summary.rollout}
    if json_:
        console.print_json(payload)
        return
    if not quiet:
        table = Table(title=f"MixER run {summary.folder}", title_justify="left")
        for column in ("environment", "expert", "final GTF loss"):
            table.add_column(column, justify="left" if column == "environment" else "right")
        for name, expert, loss in zip(summary.environments, summary.routing, summary.final_loss):
            table.add_row(name, str(expert), console.format_number(loss))
        console.stdout.print(table)
        console.stdout.print(f"completed: {summary.outer_steps} outer steps in {payload['wall_seconds']:.0f} s "
                             f"({summary.rollout} rollout)")


def _stored_config(folder: Path):
    """Return the MixerConfig stored in `folder`, or None where there is no MixER run to resume."""
    from dsr.mixer.storage import is_mixer_run, load_mixer_config

    return load_mixer_config(folder) if is_mixer_run(folder) else None


def _train_with_progress(data_paths: list[Path], output: Path, config, force: bool, resume: bool):
    from dsr.mixer.run_training import train_mixer_run

    columns = (
        TextColumn("[bold]outer step"), MofNCompleteColumn(), BarColumn(),
        TextColumn("loss {task.fields[loss]}  experts used {task.fields[used]}"), TimeRemainingColumn(),
    )
    with console.deferred_progress(*columns) as progress:
        # The total comes with the first update, from the trainer's configuration (also on --resume).
        task = progress.add_task("train", total=None, loss="-", used="-")

        def on_outer_step(trainer, record: dict) -> None:
            used = ", ".join(f"{k}: {int((trainer.routing == k).sum())}" for k in range(trainer.config.experts))
            progress.update(task, total=trainer.config.outer_steps, completed=record["outer_step"],
                            loss=f"{record['model_loss']:.4g}", used=used)

        return train_mixer_run(data_paths, output, config, force=force, resume=resume, on_outer_step=on_outer_step)
