"""`dsr train`: train an AL-RNN or shallow PLRNN on a dataset into a run folder."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

from cli import console
from cli.train_mixer import mixer_default
from dsr.training.config import TrainConfig

_DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainConfig)}


def _default(name: str, unit: str = "") -> str:
    # The backslash keeps rich from reading "[default: ...]" as a markup tag.
    return f" \\[default: {_DEFAULTS[name]}{unit}]"


def train_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Run folder to create (or continue with --resume).", show_default=False)],
    data: Annotated[Optional[list[Path]], typer.Argument(help="Training dataset (.h5) from `dsr simulate` or `dsr ingest`; for --model mixer, one dataset per environment, or a folder of them. With --resume it may be left out: the run's stored dataset paths are used.", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="alrnn (almost-linear RNN), shplrnn (shallow PLRNN) or mixer (mixture of experts over several datasets)." + _default("model"), show_default=False)] = None,
    latent: Annotated[Optional[int], typer.Option("--latent", "-M", help="Latent dimension M." + _default("latent_dim"), show_default=False)] = None,
    relu: Annotated[Optional[int], typer.Option("--relu", "-P", help="AL-RNN: number P of ReLU units among the M." + _default("n_relu"), show_default=False)] = None,
    hidden: Annotated[Optional[int], typer.Option("--hidden", "-L", help="shPLRNN: hidden width L." + _default("hidden_dim"), show_default=False)] = None,
    clipped: Annotated[Optional[bool], typer.Option("--clipped/--no-clipped", help="shPLRNN: use the clipped form, whose orbits stay bounded." + _default("clipped"), show_default=False)] = None,
    observation: Annotated[Optional[str], typer.Option("--observation", help="identity (x = first N latent units) or affine (x = Bz + b)." + _default("observation"), show_default=False)] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Training epochs." + _default("epochs"), show_default=False)] = None,
    batches_per_epoch: Annotated[Optional[int], typer.Option("--batches-per-epoch", help="Optimisation steps per epoch." + _default("batches_per_epoch"), show_default=False)] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Subsequences per batch." + _default("batch_size"), show_default=False)] = None,
    sequence_length: Annotated[Optional[int], typer.Option("--sequence-length", help="Predicted steps per subsequence." + _default("sequence_length", " steps"), show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="RAdam learning rate at the first epoch." + _default("learning_rate_start"), show_default=False)] = None,
    lr_end: Annotated[Optional[float], typer.Option("--lr-end", help="Learning rate at the last epoch; geometric decay in between." + _default("learning_rate_end"), show_default=False)] = None,
    grad_clip: Annotated[Optional[float], typer.Option("--grad-clip", help="Maximum gradient norm; 0 disables clipping." + _default("gradient_clip"), show_default=False)] = None,
    input_noise: Annotated[Optional[float], typer.Option("--input-noise", help="Gaussian noise on the forcing inputs, standard deviation in standardised units. \\[default: 0.05 for alrnn, 0 for shplrnn]", show_default=False)] = None,
    forcing: Annotated[Optional[str], typer.Option("--forcing", help="gtf (generalized teacher forcing every step) or sparse (full forcing every τ steps). \\[default: sparse for alrnn, as in the AL-RNN paper; gtf for shplrnn, as in the GTF paper]", show_default=False)] = None,
    alpha_schedule: Annotated[Optional[str], typer.Option("--alpha-schedule", help="GTF strength α: constant, annealing (geometric) or adaptive (from the Jacobian norm)." + _default("alpha_schedule"), show_default=False)] = None,
    alpha: Annotated[Optional[float], typer.Option("--alpha", help="α of the constant schedule, and the starting α of the adaptive one. \\[default: 0.1 constant, 1 adaptive]", show_default=False)] = None,
    alpha_start: Annotated[Optional[float], typer.Option("--alpha-start", help="Annealing: α at the first epoch." + _default("alpha_start"), show_default=False)] = None,
    alpha_end: Annotated[Optional[float], typer.Option("--alpha-end", help="Annealing: α at the last epoch." + _default("alpha_end"), show_default=False)] = None,
    adaptive_interval: Annotated[Optional[int], typer.Option("--adaptive-interval", help="Adaptive α: batches between Jacobian-norm estimates." + _default("adaptive_interval"), show_default=False)] = None,
    adaptive_gamma: Annotated[Optional[float], typer.Option("--adaptive-gamma", help="Adaptive α: decay factor γ towards a lower target." + _default("adaptive_gamma"), show_default=False)] = None,
    tau: Annotated[Optional[int], typer.Option("--tau", help="Sparse forcing: interval τ between forced steps." + _default("forcing_interval", " steps"), show_default=False)] = None,
    validation_interval: Annotated[Optional[int], typer.Option("--validation-interval", help="Epochs between validation scores." + _default("validation_interval"), show_default=False)] = None,
    validation_metric: Annotated[Optional[str], typer.Option("--validation-metric", help="prediction (free-run MSE over --validation-horizon steps), dstsp or dh (on a free run as long as the validation part)." + _default("validation_metric"), show_default=False)] = None,
    validation_horizon: Annotated[Optional[int], typer.Option("--validation-horizon", help="Steps of the prediction score." + _default("validation_horizon"), show_default=False)] = None,
    validation_steps: Annotated[Optional[int], typer.Option("--validation-steps", help="Maximum length of the free run that dstsp validation compares with the validation part (five times the part's length up to this), after a 1000-step transient." + _default("validation_steps", " steps"), show_default=False)] = None,
    checkpoint_interval: Annotated[Optional[int], typer.Option("--checkpoint-interval", help="Epochs between checkpoints." + _default("checkpoint_interval"), show_default=False)] = None,
    keep_checkpoints: Annotated[Optional[int], typer.Option("--keep-checkpoints", help="Numbered checkpoints kept besides the best." + _default("keep_checkpoints"), show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seeds the initialisation, the batches and the noise." + _default("seed"), show_default=False)] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto (CUDA when present), cpu or cuda." + _default("device"), show_default=False)] = None,
    fast_path: Annotated[Optional[str], typer.Option("--fast-path", help="Fused CPU kernels: auto, on or off (plain PyTorch)." + _default("fast_path"), show_default=False)] = None,
    experts: Annotated[Optional[int], typer.Option("--experts", help="MixER: number K of experts." + mixer_default("experts"), show_default=False)] = None,
    context_dim: Annotated[Optional[int], typer.Option("--context-dim", help="MixER: dimension d of each environment's context vector." + mixer_default("context_dim"), show_default=False)] = None,
    expert_model: Annotated[Optional[str], typer.Option("--expert-model", help="MixER: alrnn or shplrnn, the architecture of every expert; with --model mixer the architecture defaults are MixerConfig's (shPLRNN, M = 3, L = 40, clipped)." + mixer_default("expert_model"), show_default=False)] = None,
    gate: Annotated[Optional[str], typer.Option("--gate", help="MixER: mixer (gate refitted by K-means and least squares) or naive (softmax gate trained by gradient descent)." + mixer_default("gate"), show_default=False)] = None,
    mixer_option: Annotated[Optional[list[str]], typer.Option("--mixer-option", help="MixER: any other MixerConfig field as NAME=VALUE, repeatable, e.g. --mixer-option gate_warmup=100 (docs/mixer.md lists them).", show_default=False)] = None,
    threads: Annotated[int, typer.Option("--threads", help="PyTorch CPU threads. 1 is fastest for models this small; more only help for large M.")] = 1,
    seeds: Annotated[int, typer.Option("--seeds", help="Train this many models, with seeds --seed, --seed + 1, ..., in one batched computation; each goes to its own run folder OUTPUT/seed-<seed>.")] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its newest checkpoint, with its stored options.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Delete an existing run in --output and start over.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and only warnings, for batch scripts.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on standard output at the end.")] = False,
) -> None:
    """Train a reconstruction model with teacher forcing into a run folder.

    The run folder gets run.h5 (configuration, dataset fingerprint, best and
    latest parameters, checkpoints, training history, random-number states,
    library versions) and train.log. Ctrl-C saves a checkpoint and exits with
    code 130; --resume then continues bit for bit. Options left out take the
    defaults shown, which follow the AL-RNN and GTF papers.

    With --seeds K the K models train together, each exactly as its single
    run would, and OUTPUT gets one run folder per seed; --resume with the same
    --seed and --seeds continues them together, and each folder can also be
    resumed alone.

    Examples:
      dsr train l63.h5 --model alrnn --latent 20 --relu 2 --epochs 2000 -o runs/l63-alrnn
      dsr train l63.h5 --model shplrnn --latent 3 --hidden 50 --clipped -o runs/l63-shplrnn
      dsr train l63.h5 --seeds 8 -o runs/l63-ensemble
    """
    import torch

    from dsr.errors import InputError
    from dsr.runs import train_run

    if model not in (None, "alrnn", "shplrnn", "mixer"):
        raise InputError(f"Invalid model {model!r}; expected one of: alrnn, shplrnn, mixer.")
    if resume:
        from dsr.mixer.storage import is_mixer_run

        # --resume takes the model from the run, so a MixER run needs no --model.
        stored_mixer = is_mixer_run(output)
        if stored_mixer and model not in (None, "mixer"):
            raise InputError(f"{output}: a MixER run, but --model {model} was given. Leave --model out to resume it.")
        if not stored_mixer and model == "mixer" and (output / "run.h5").exists():
            raise InputError(f"{output}: a single-model run, not a MixER run. Leave --model out to resume it.")
        model = "mixer" if stored_mixer else model
    if not data:
        if not resume:
            raise InputError("Name the training dataset: dsr train DATA -o RUN (DATA from dsr simulate or dsr ingest).")
        data = _stored_dataset_paths(output, model == "mixer", seeds, seed if seed is not None else _DEFAULTS["seed"])
    if model == "mixer":
        from cli.train_mixer import train_mixer

        return train_mixer(data, output, locals())
    if len(data) != 1:
        raise InputError(f"--model {model or 'alrnn'} trains on one dataset, got {len(data)}. Several datasets need --model mixer.")
    data = data[0]

    given = {
        "model": model, "latent_dim": latent, "n_relu": relu, "hidden_dim": hidden, "clipped": clipped,
        "observation": observation, "epochs": epochs, "batches_per_epoch": batches_per_epoch,
        "batch_size": batch_size, "sequence_length": sequence_length, "learning_rate_start": lr,
        "learning_rate_end": lr_end, "gradient_clip": grad_clip, "input_noise": input_noise, "forcing": forcing,
        "alpha_schedule": alpha_schedule, "alpha": alpha, "alpha_start": alpha_start, "alpha_end": alpha_end,
        "adaptive_interval": adaptive_interval, "adaptive_gamma": adaptive_gamma, "forcing_interval": tau,
        "validation_interval": validation_interval, "validation_metric": validation_metric,
        "validation_horizon": validation_horizon, "validation_steps": validation_steps, "checkpoint_interval": checkpoint_interval,
        "keep_checkpoints": keep_checkpoints, "seed": seed, "device": device, "fast_path": fast_path,
    }
    given = {key: value for key, value in given.items() if value is not None}
    if resume and force:
        raise InputError("--resume and --force contradict each other: --resume continues a run, --force deletes it.")
    config = None if (resume and not given) else TrainConfig(**given)
    first_seed = given.get("seed", _DEFAULTS["seed"])
    if resume and given:
        config = _merge_with_stored(output if seeds == 1 else _member_folder(output, first_seed), given)

    torch.set_num_threads(max(1, threads))
    if quiet:
        console.quiet_logging()

    started = time.perf_counter()
    if seeds != 1:
        return _train_ensemble(data, output, config, first_seed, seeds, resume, force, quiet, json_, started)
    if quiet or json_:
        summary = train_run(data, output, config, resume=resume, force=force)
    else:
        summary = _train_with_progress(data, output, config, resume, force)

    payload = _payload(summary, time.perf_counter() - started)
    if json_:
        console.print_json(payload)
        return
    if not quiet:
        console.stdout.print(
            f"{summary.status}: {summary.folder} after {summary.epochs} epochs, final loss {summary.final_loss:.4g}, "
            f"best validation {summary.best_validation:.4g} at epoch {summary.best_epoch} "
            f"({payload['wall_seconds']:.0f} s)"
        )


def _payload(summary, wall_seconds: float) -> dict:
    """Return the JSON summary of one run."""
    return {
        "run": str(summary.folder), "status": summary.status, "epochs": summary.epochs,
        "final_loss": summary.final_loss, "best_validation": summary.best_validation,
        "best_epoch": summary.best_epoch, "training_seconds": summary.seconds,
        "wall_seconds": wall_seconds, "resumed_from_epoch": summary.resumed_from,
        "fast_path": summary.fast_path,
    }


def _stored_dataset_paths(output: Path, mixer: bool, seeds: int, first_seed: int) -> list[Path]:
    """Return the dataset paths stored in the run to resume: one, or one per MixER environment."""
    from dsr.mixer.storage import stored_fingerprints
    from dsr.runs.training import stored_dataset

    folder = output if mixer or seeds == 1 else _member_folder(output, first_seed)
    if not (folder / "run.h5").exists():
        raise InputError(f"{folder}: no run to resume. Start one with dsr train DATA -o {output}.")
    if mixer:
        paths = [path for _, path, _ in stored_fingerprints(folder)]
    else:
        paths = [stored_dataset(folder)[0]]
    missing = [path for path in paths if not path.exists()]
    if missing:
        raise InputError(f"{missing[0]}: not found, but this run was trained on it. Give the dataset's new path: "
                         f"dsr train DATA -o {output} --resume.")
    return paths


def _member_folder(output: Path, seed: int) -> Path:
    from dsr.runs.ensemble import member_folder

    return member_folder(output, seed)


def _train_ensemble(data: Path, output: Path, config, first_seed: int, count: int, resume: bool, force: bool,
                    quiet: bool, json_: bool, started: float) -> None:
    """Train --seeds models together and report every member; raise NumericalError if any diverged."""
    from dsr.errors import NumericalError
    from dsr.runs.ensemble import ensemble_seeds, train_ensemble

    seeds = ensemble_seeds(first_seed, count)
    if quiet or json_:
        summaries = train_ensemble(data, output, seeds, config, resume=resume, force=force)
    else:
        summaries = _train_with_progress(data, output, config, resume, force, seeds)

    wall_seconds = time.perf_counter() - started
    if json_:
        console.print_json({"runs": [_payload(summary, wall_seconds) for summary in summaries],
                            "wall_seconds": wall_seconds})
    elif not quiet:
        for summary in summaries:
            console.stdout.print(
                f"{summary.status}: {summary.folder} after {summary.epochs} epochs, final loss "
                f"{summary.final_loss:.4g}, best validation {summary.best_validation:.4g} at epoch {summary.best_epoch}"
            )
        console.stdout.print(f"{len(summaries)} runs in {wall_seconds:.0f} s")

    diverged = [str(summary.folder) for summary in summaries if summary.status == "diverged"]
    if diverged:
        raise NumericalError(
            f"{len(diverged)} of {len(summaries)} ensemble members diverged: {', '.join(diverged)}. Each kept its last "
            "good checkpoint, and the others completed. Try a lower --lr, --grad-clip 10, or a stronger forcing α."
        )


def _merge_with_stored(folder: Path, given: dict) -> "object":
    """Return the stored config with the given options applied, for the comparison made on --resume."""
    from dsr.runs.training import _stored_config

    if not (folder / "run.h5").exists():
        return TrainConfig(**given)
    return TrainConfig(**{**_stored_config(folder).to_dict(), **given})


def _train_with_progress(data: Path, output: Path, config, resume: bool, force: bool, seeds: list[int] | None = None):
    from dsr.runs import train_run
    from dsr.runs.ensemble import train_ensemble

    columns = (
        TextColumn("[bold]epoch"), MofNCompleteColumn(), BarColumn(),
        TextColumn("loss {task.fields[loss]}  α {task.fields[alpha]}  validation {task.fields[validation]}"),
        TimeRemainingColumn(),
    )
    state = {"validation": "-"}
    with console.deferred_progress(*columns) as progress:
        # The total comes with the first update, from the trainer's configuration (also on --resume).
        task = progress.add_task("train", total=None, loss="-", alpha="-", validation="-")

        def on_epoch(trainer, record: dict) -> None:
            if record["validation"] == record["validation"]:  # not NaN
                state["validation"] = f"{record['validation']:.4g}"
            alpha = f"{record['alpha']:.3f}" if trainer.config.forcing == "gtf" else f"sparse, τ {trainer.config.forcing_interval}"
            progress.update(task, total=trainer.config.epochs, completed=record["epoch"],
                            loss=f"{record['loss']:.4g}", alpha=alpha,
                            validation=state["validation"])

        if seeds is not None:
            return train_ensemble(data, output, seeds, config, resume=resume, force=force, on_epoch=on_epoch)
        return train_run(data, output, config, resume=resume, force=force, on_epoch=on_epoch)
