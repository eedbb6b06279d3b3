"""`dsr evaluate` on a MixER run: every environment's model scored on its own dataset, in one table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.table import Table

from cli import console


def evaluate_mixer(run: Path, environment: str | None, data: Path | None, part: str | None, options,
                   json_: bool) -> None:
    """Evaluate one environment (`environment`) or all of a MixER run, store the results and print them."""
    from dsr.mixer.evaluation import evaluate_environments
    from dsr.mixer.storage import load_mixer_run

    mixer = load_mixer_run(run)
    names = [environment] if environment else None
    evaluations = evaluate_environments(mixer, names, options, part=part, data=data)

    if json_:
        console.print_json({"run": str(run), "environments": [_payload(item) for item in evaluations]})
        return
    if environment:
        from cli.evaluate import _print_results

        record = mixer.environment(environment)
        unit = record.fingerprint.get("time_unit") or "time unit"
        _print_results(Path(f"{run} (environment {environment}, expert {record.expert})"), evaluations[0].result,
                       unit if unit != "time units" else "time unit")
        return
    _print_table(run, evaluations)


def _payload(item) -> dict:
    from cli.evaluate import result_payload

    if item.result is None:
        return {"environment": item.name, "kind": item.kind, "expert": item.expert, "error": item.error}
    return {"environment": item.name, "kind": item.kind, "expert": item.expert, **result_payload(item.result)}


def _print_table(run: Path, evaluations) -> None:
    f = console.format_number
    table = Table(title=f"Evaluation of the MixER run {run}, one row per environment", title_justify="left")
    columns = ("environment", "kind", "expert", "D_stsp", "D_stsp floor", "D_H", "D_H floor", "PE(n)", "λ1 model")
    for column in columns:
        table.add_column(column, justify="left" if column in ("environment", "kind") else "right")
    for item in evaluations:
        if item.result is None:
            table.add_row(item.name, item.kind, str(item.expert), "failed", "", "", "", "", "")
            continue
        scores = item.result.scores
        table.add_row(item.name, item.kind, str(item.expert), f(scores.dstsp), f(scores.dstsp_floor), f(scores.dh),
                      f(scores.dh_floor), f(item.result.prediction_error[-1]), f(item.result.lyapunov_exponents[0]))
    console.stdout.print(table)
    training = [item.result.scores.dstsp for item in evaluations if item.kind == "training" and item.result]
    if training:
        console.stdout.print(f"median D_stsp over the training environments: {np.median(training):.4g}")
    console.note("D_stsp in nats, D_H in [0, 1], PE(n) in standardised units, λ1 per time unit of each dataset; "
                 "each environment is scored on the test part of its own dataset. Results are stored per "
                 "environment in run.h5.")
    # The same note (a short test part, say) usually holds for many environments, so show each once.
    notes: dict[str, list[str]] = {}
    for item in evaluations:
        if item.result is None:
            console.note(f"{item.name}: evaluation failed: {item.error}")
            continue
        for line in item.result.scores.notes:
            notes.setdefault(line, []).append(item.name)
    for line, names in notes.items():
        where = names[0] if len(names) == 1 else f"{len(names)} environments"
        console.note(f"{line} ({where})")
