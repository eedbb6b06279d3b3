"""`dsr quickstart`: the whole workflow on Lorenz-63, from simulation to figures, in a few minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import console
from dsr.errors import DsrError, TrainingInterrupted

# A short configuration that still learns the two-lobed attractor: the
# AL-RNN of the AL-RNN paper (M = 20, P = 2, sparse forcing with τ = 16 and
# input noise 0.05) with fewer epochs and a faster learning-rate decay.
QUICK_STEPS = 50_000
QUICK_EPOCHS = 400
QUICK_TRAINING = ["--model", "alrnn", "--latent", "20", "--relu", "2", "--lr-end", "1e-4",
                  "--validation-metric", "dstsp", "--validation-interval", "20"]


def quickstart_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the dataset, the run and its figures.")] = Path("quickstart"),
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs; the default takes a few minutes on 2 CPU cores.")] = QUICK_EPOCHS,
) -> None:
    """Simulate Lorenz-63, train an AL-RNN on it, evaluate and symbolize it, and draw its figures.

    Each step prints the dsr command it runs, so the quick start doubles as a
    tour of the commands. Running it again continues where it stopped: an
    existing dataset is reused, an interrupted training resumes, and a
    finished one is kept (delete the folder to start over); evaluation,
    symbolic analysis and figures are redone. At the end it prints where the
    results are.

    Example: dsr quickstart -o quickstart
    """
    from cli.main import run

    dataset = output / "lorenz63.h5"
    run_folder = output / "lorenz63-alrnn"
    output.mkdir(parents=True, exist_ok=True)

    steps: list[tuple[str, list[str]]] = []
    if not dataset.exists():
        steps.append(("Simulate Lorenz-63", ["simulate", "lorenz63", "--steps", str(QUICK_STEPS), "--dt", "0.01",
                                             "-o", str(dataset)]))
    if (run_folder / "run.h5").exists():
        steps.append(("Continue the training", ["train", str(dataset), "-o", str(run_folder), "--resume"]))
    else:
        steps.append(("Train an AL-RNN", ["train", str(dataset), "-o", str(run_folder), "--epochs", str(epochs),
                                          *QUICK_TRAINING]))
    steps += [
        ("Evaluate the free run against the test data", ["evaluate", str(run_folder)]),
        ("Read the model as symbolic dynamics", ["symbolize", str(run_folder), "--steps", "100000"]),
        # The figures are derived from the run, so a rerun redraws them.
        ("Draw the figures", ["plot", str(run_folder), "--force"]),
    ]

    for number, (title, arguments) in enumerate(steps, start=1):
        console.stderr.rule(f"[bold]{number}. {title}")
        console.stderr.print(f"$ dsr {' '.join(arguments)}", highlight=False, markup=False)
        code = run(arguments)
        if code == 130:
            raise TrainingInterrupted(f"The quick start was interrupted at step {number} ({title}). "
                                      "Run `dsr quickstart` again to continue from there.")
        if code != 0:
            raise DsrError(f"The quick start stopped at step {number} ({title}); the messages above say why. "
                           "Fix the cause and run `dsr quickstart` again to continue.")

    console.stdout.print()
    console.stdout.print(f"[bold green]Done.[/] Results in {output}/:")
    console.stdout.print(f"  dataset       {dataset}")
    console.stdout.print(f"  run           {run_folder}/run.h5 (dsr info {run_folder})")
    console.stdout.print(f"  figures       {run_folder}/figures/")
    console.stdout.print(f"  graphs        {run_folder}/transitions_model.graphml, transitions_data.graphml")
