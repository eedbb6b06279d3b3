"""`dsr adapt`: fit a context vector for a new environment to a trained MixER run and route it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from cli import console
from dsr.errors import InputError


def adapt_command(
    run: Annotated[Path, typer.Argument(help="MixER run folder from `dsr train --model mixer`.", show_default=False)],
    data: Annotated[Path, typer.Argument(help="Dataset (.h5) of the new environment, same variables as the training environments.", show_default=False)],
    name: Annotated[Optional[str], typer.Option("--name", help="Name of the new environment in the run. Default: the dataset's name.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", help="Adam steps on the new context.")] = 300,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate of the context.")] = 1e-2,
    alpha: Annotated[Optional[float], typer.Option("--alpha", help="Constant GTF strength α. Default: the median of the training environments' final α.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the windows drawn from the new data.")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="PyTorch CPU threads.")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Replace an adapted environment of the same name.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON on standard output.")] = False,
) -> None:
    """Fit a context for a new environment, with the experts and the gate frozen, and route it to an expert.

    The search starts from the zero context or the training context whose
    model predicts the new data best, then takes --steps Adam steps on the
    GTF loss of the expert the gate routes the context to. The result is
    stored in run.h5 (group adaptations) as an environment of the run, so
    `dsr evaluate RUN --environment NAME` scores it on its test part.

    Example: dsr adapt runs/family lorenz63_rho=30.h5 --name rho30
    """
    import torch

    from dsr.mixer.adaptation import adapt_context, new_environment, store_adaptation
    from dsr.mixer.storage import is_mixer_run, load_mixer_run

    if not is_mixer_run(run):
        raise InputError(f"{run}: not a MixER run folder; `dsr adapt` needs a run from `dsr train --model mixer`.")
    torch.set_num_threads(max(1, threads))
    mixer = load_mixer_run(run)
    environment = new_environment(mixer, data, name, replace=force)
    adaptation = adapt_context(mixer, environment, steps=steps, learning_rate=lr, alpha=alpha, seed=seed)
    group = store_adaptation(mixer, adaptation, steps, lr, replace=force)

    training = mixer.training_environments
    distances = [float(np.linalg.norm(adaptation.context - record.context)) for record in training]
    nearest = training[int(np.argmin(distances))]
    payload = {
        "run": str(run), "environment": adaptation.name, "group": group, "expert": adaptation.expert,
        "context": adaptation.context, "start": adaptation.start, "start_loss": adaptation.start_loss,
        "final_loss": adaptation.final_loss, "alpha": adaptation.alpha, "nearest_training_environment": nearest.name,
        "nearest_distance": min(distances),
        "experts_used_during_fit": sorted({int(k) for k in adaptation.routing_curve}),
    }
    if json_:
        console.print_json(payload)
        return
    f = console.format_number
    console.stdout.print(console.key_value_table(f"Adapted environment {adaptation.name} in {run}", [
        ("routed to expert", str(adaptation.expert)),
        ("started from", f"{adaptation.start} (GTF loss {f(adaptation.start_loss)})"),
        ("final GTF loss", adaptation.final_loss),
        ("nearest training context", f"{nearest.name} (distance {f(min(distances))}, expert {nearest.expert})"),
        ("forcing strength α", adaptation.alpha),
        ("stored in", f"run.h5, group {group}"),
    ]))
