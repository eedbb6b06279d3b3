"""`dsr evaluate`: score a trained model's free runs (or any generated data) against held-out data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.table import Table

from cli import console
from dsr.errors import InputError


def evaluate_command(
    run: Annotated[Optional[Path], typer.Argument(help="Run folder from `dsr train`.", show_default=False)] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Evaluate on this dataset instead of the run's own (same variables).", show_default=False)] = None,
    part: Annotated[Optional[str], typer.Option("--part", help="Dataset part to evaluate on: train, valid, test or all. Default: test of the run's dataset, all of a --data dataset.", show_default=False)] = None,
    reference: Annotated[Optional[list[Path]], typer.Option("--reference", help="Compare two datasets directly, no model: --reference TRUE.h5 --reference GENERATED.h5.", show_default=False)] = None,
    starts: Annotated[int, typer.Option("--starts", min=1, help="Free runs from this many evenly spaced test points; scores and the Lyapunov spectrum are averaged over them.")] = 1,
    transient: Annotated[int, typer.Option("--transient", help="Free-run steps dropped before scoring.")] = 1_000,
    bins: Annotated[int, typer.Option("--bins", help="D_stsp histogram bins per dimension.")] = 30,
    dstsp_method: Annotated[str, typer.Option("--dstsp-method", help="auto (histogram for N ≤ 3, Gaussian mixture above), histogram or mixture.")] = "auto",
    sigma: Annotated[float, typer.Option("--dh-sigma", help="D_H: Gaussian smoothing of the power spectra, in frequency bins.")] = 20.0,
    dh_length: Annotated[int, typer.Option("--dh-length", help="D_H: samples of data and free run compared, at most half the test data (so that the floor compares halves of equal length).")] = 10_000,
    horizon: Annotated[int, typer.Option("--horizon", help="PE(n): prediction horizon n in steps.")] = 20,
    lyapunov_steps: Annotated[int, typer.Option("--lyapunov-steps", help="Steps of the model's QR Lyapunov computation.")] = 100_000,
    data_lyapunov_points: Annotated[int, typer.Option("--rosenstein-points", help="Samples for the Rosenstein λ1 estimates of data and free run; 0 skips them.")] = 10_000,
    which: Annotated[str, typer.Option("--parameters", help="best (by validation score) or latest parameters.")] = "best",
    environment: Annotated[Optional[str], typer.Option("--environment", help="MixER run: evaluate only this environment (default: every environment, one table).", show_default=False)] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the results as JSON on standard output.")] = False,
) -> None:
    """Score a reconstruction: attractor geometry, power spectra, prediction error, Lyapunov spectrum.

    Free runs start from test data, drop a transient and run as long as the
    test data; D_stsp (state-space divergence, KL in nats) compares their state
    distribution with the data's, D_H (Hellinger distance of smoothed power
    spectra, 0 to 1) their spectra, PE(n) the n-step prediction error; the
    model's Lyapunov spectrum comes from its Jacobians, and λ1 of data and free
    run from Rosenstein's method. Each geometric score is shown next to its
    floor: the same score between the two halves of the test data. The
    results and the protocol go into the run's run.h5 (group metrics).

    Examples:
      dsr evaluate runs/l63
      dsr evaluate runs/l63 --data l63_test.h5 --json
      dsr evaluate --reference data.h5 --reference other_method.h5
    """
    from dsr.runs.evaluation import EvaluationOptions

    options = EvaluationOptions(
        transient=transient, n_starts=starts, dstsp_method=dstsp_method, dstsp_bins=bins, dh_sigma=sigma,
        dh_length=dh_length, prediction_steps=horizon, lyapunov_steps=lyapunov_steps,
        data_lyapunov_points=data_lyapunov_points,
    )
    if reference:
        if run is not None or len(reference) != 2:
            raise InputError("--reference compares exactly two datasets and takes no run: --reference TRUE.h5 --reference GENERATED.h5.")
        _compare_datasets(reference[0], reference[1], part or "all", options, json_)
        return
    if run is None:
        raise InputError("Name a run folder to evaluate, or compare two datasets with --reference A.h5 --reference B.h5.")

    from dsr.mixer.storage import is_mixer_run

    if is_mixer_run(run):
        from cli.evaluate_mixer import evaluate_mixer

        return evaluate_mixer(run, environment, data, part, options, json_)
    if environment is not None:
        raise InputError(f"--environment applies to MixER runs, and {run} is a single-model run; leave it out.")

    from dsr.runs import load_run
    from dsr.runs.evaluation import evaluate_run, store_evaluation

    trained = load_run(run, which=which)
    dataset = trained.load_dataset(data)
    result = evaluate_run(trained, dataset, part or ("all" if data else "test"), options)
    store_evaluation(trained, result)

    if json_:
        console.print_json({"run": str(run), **result_payload(result)})
        return
    unit = dataset.time_unit if dataset.time_unit not in ("", "time units") else "time unit"
    _print_results(run, result, unit)


def result_payload(result) -> dict:
    """Return the JSON fields of one evaluation result (scores, floors, spectra and protocol)."""
    scores = result.scores
    return {
        "dstsp": scores.dstsp, "dstsp_floor": scores.dstsp_floor, "dh": scores.dh,
        "dh_floor": scores.dh_floor, "dstsp_per_start": scores.dstsp_per_start, "dh_per_start": scores.dh_per_start,
        "prediction_error": result.prediction_error, "lyapunov_exponents": result.lyapunov_exponents,
        "lyapunov_spread": result.lyapunov_spread, "lyapunov_per_start": result.lyapunov_per_start,
        "kaplan_yorke_dimension": result.kaplan_yorke_dimension,
        "lyapunov_data_rosenstein": scores.lyapunov_data, "lyapunov_free_run_rosenstein": scores.lyapunov_generated,
        "protocol": result.protocol,
    }


def _print_results(run: Path, result, time_unit: str) -> None:
    scores = result.scores
    protocol = result.protocol
    which = protocol["parameters_used"]
    epoch = f", epoch {protocol['best_epoch']}" if which == "best" and protocol.get("best_epoch", -1) >= 0 else ""
    table = Table(title=f"Evaluation of {run} ({which} parameters{epoch}) on {protocol['reference_samples']:,} samples",
                  title_justify="left")
    for column in ("metric", "model", "floor (data vs data)", "good means"):
        table.add_column(column, justify="right" if column in ("model", "floor (data vs data)") else "left")
    f = console.format_number
    spread = f"  (± {np.std(scores.dstsp_per_start):.3g} over {len(scores.dstsp_per_start)} runs)" if len(scores.dstsp_per_start) > 1 else ""
    table.add_row("D_stsp (KL, nats)", f(scores.dstsp) + spread, f(scores.dstsp_floor),
                  "0 = same state distribution; at the floor = as close as a second recording")
    table.add_row(f"D_H (Hellinger, {scores.dh_samples:,} samples)", f(scores.dh), f(scores.dh_floor),
                  "0 = same power spectra, 1 = disjoint")
    n = len(result.prediction_error)
    table.add_row(f"PE({n}) (MSE)", f(result.prediction_error[-1]), "-", f"{n}-step prediction error, standardised units")
    table.add_row("PE(1) (MSE)", f(result.prediction_error[0]), "-", "one-step prediction error")
    per_start = result.lyapunov_per_start[:, 0]
    across = f"; {f(per_start.min())} to {f(per_start.max())} over {len(per_start)} starts" if len(per_start) > 1 else ""
    table.add_row(f"λ1 model (QR, per {time_unit})", f(result.lyapunov_exponents[0]), "-",
                  f"> 0: chaotic; convergence spread {f(result.lyapunov_spread[0])}{across}")
    table.add_row(f"λ1 free run (Rosenstein, per {time_unit})", f(scores.lyapunov_generated), "-",
                  "compare with the next row: same estimator")
    estimate = (f"data estimate from {scores.lyapunov_samples:,} samples; about ±12 % at 10,000"
                if scores.lyapunov_samples else "skipped (--rosenstein-points 0)")
    table.add_row(f"λ1 test data (Rosenstein, per {time_unit})", f(scores.lyapunov_data), "-", estimate)
    table.add_row("Kaplan-Yorke dimension", f(result.kaplan_yorke_dimension), "-", "of the model's spectrum")
    console.stdout.print(table)
    exponents = ", ".join(f"{x:.4f}" for x in result.lyapunov_exponents[: min(6, len(result.lyapunov_exponents))])
    console.stdout.print(f"Lyapunov spectrum (per {time_unit}): {exponents}{', ...' if len(result.lyapunov_exponents) > 6 else ''}")
    for line in scores.notes:
        console.note(line)


def _compare_datasets(true_path: Path, generated_path: Path, part: str, options, json_: bool) -> None:
    from dsr.data.dataset import read_dataset
    from dsr.runs.evaluation import score_trajectories

    true, generated = read_dataset(true_path), read_dataset(generated_path)
    if true.n_variables != generated.n_variables:
        raise InputError(f"{generated_path} has {generated.n_variables} variables, but {true_path} has {true.n_variables}.")
    reference = max(true.part(part, standardized=False), key=len, default=None)
    if reference is None:
        raise InputError(f"{true_path} has no {part} part; choose --part all.")
    # Both in the units of the reference dataset's normalisation.
    reference = true.standardize(reference)
    candidate = [true.standardize(t) for t in generated.trajectories]
    if not math.isclose(true.dt, generated.dt, rel_tol=1e-9):
        console.note(f"the sampling steps differ ({true.dt:g} and {generated.dt:g}); spectra are compared per sample")
    scores = score_trajectories(reference, candidate, true.dt, options)
    payload = {"true": str(true_path), "generated": str(generated_path), "dstsp": scores.dstsp,
               "dstsp_floor": scores.dstsp_floor, "dh": scores.dh, "dh_floor": scores.dh_floor,
               "lyapunov_true_rosenstein": scores.lyapunov_data, "lyapunov_generated_rosenstein": scores.lyapunov_generated,
               "notes": scores.notes}
    if json_:
        console.print_json(payload)
        return
    table = Table(title=f"{generated_path} against {true_path}", title_justify="left")
    for column in ("metric", "value", "floor (true vs true)"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    f = console.format_number
    table.add_row("D_stsp (KL, nats)", f(scores.dstsp), f(scores.dstsp_floor))
    table.add_row("D_H (Hellinger)", f(scores.dh), f(scores.dh_floor))
    table.add_row("λ1 Rosenstein", f(scores.lyapunov_generated), f"{f(scores.lyapunov_data)} (true data)")
    console.stdout.print(table)
    for line in scores.notes:
        console.note(line)
