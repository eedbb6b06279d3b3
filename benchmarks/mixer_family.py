"""The MixER family benchmark: 8 Lorenz-63 and 8 Rössler environments, MixER against one expert and a naive mixture.

Run from the repository root:

    .venv/bin/python benchmarks/mixer_family.py                # the configuration of docs/mixer.md
    .venv/bin/python benchmarks/mixer_family.py --quick        # a smoke test of a few minutes

Steps:

1. Simulate Lorenz-63 at 8 values of ρ from 24 to 40 and Rössler at 8 values
   of c from 4 to 10 (catalogue defaults otherwise), plus Lorenz-63 at the
   held-out ρ = 30. Every dataset of a family gets the family's pooled
   normalisation: the mean and standard deviation over the training parts of
   its 8 training environments (the held-out dataset gets the Lorenz one).
   Differences between parameter values then stay visible to the contexts.
2. Train three runs with the same seed, experts and budget: MixER (K = 2,
   K-means and least-squares gate), one expert (K = 1, the hierarchical
   shPLRNN) and the naive mixture (K = 2, softmax gate trained by gradient
   descent with a load-balancing term).
3. Fit a context for the held-out ρ = 30 in each run (`dsr adapt`).
4. Score every environment's free run against the test part of its dataset:
   D_stsp (30 histogram bins per dimension) and D_H (smoothing σ = 20 bins)
   after a 1000-step transient, with dsr's evaluation protocol.

Results go to WORKDIR/results.json and WORKDIR/results.md, and the Markdown
is printed. Datasets and runs already in WORKDIR are overwritten.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from dsr.data.dataset import normalization_statistics, write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.mixer import MixerConfig, adapt_context, load_mixer_run, new_environment, store_adaptation, train_mixer_run
from dsr.mixer.evaluation import free_run_scores
from dsr.errors import NumericalError
from dsr.runs.evaluation import EvaluationOptions, score_trajectories

logger = logging.getLogger("benchmarks.mixer_family")

FAMILIES = {"lorenz63": ("rho", np.linspace(24.0, 40.0, 8)), "rossler": ("c", np.linspace(4.0, 10.0, 8))}
HELD_OUT = ("lorenz63", "rho", 30.0)

# The documented configuration (docs/mixer.md) and the smoke test.
FULL = {"steps": 20_000, "outer_steps": 1200, "gate_warmup": 150, "adapt_steps": 300}
QUICK = {"steps": 6_000, "outer_steps": 30, "gate_warmup": 10, "adapt_steps": 30}

# Gate updates every 4 inner steps instead of every step (the MixerConfig
# default), so that the time goes to training the experts.
GATE_INTERVAL = 4
SPLIT = (0.5, 0.1, 0.4)

METHODS = {
    "mixer": {"gate": "mixer", "experts": 2},
    "one_expert": {"gate": "mixer", "experts": 1},
    "naive": {"gate": "naive", "experts": 2},
}


def write_family_datasets(folder: Path, n_steps: int, seed: int) -> tuple[dict[str, list[Path]], Path]:
    """Simulate both families and the held-out environment with family-pooled normalisation; return the paths."""
    paths: dict[str, list[Path]] = {}
    held_out_path = folder / "held_out" / f"{HELD_OUT[0]}_{HELD_OUT[1]}={HELD_OUT[2]:g}.h5"
    for system, (parameter, values) in FAMILIES.items():
        family = folder / system
        family.mkdir(parents=True, exist_ok=True)
        datasets = [simulate_dataset(system, n_steps, parameters={parameter: float(v)}, seed=seed, split=SPLIT,
                                     name=f"{system}_{parameter}={v:g}") for v in values]
        mean, std = normalization_statistics([t for d in datasets for t in d.trajectories],
                                             np.concatenate([d.split for d in datasets]))
        paths[system] = []
        for dataset in datasets:
            path = family / f"{dataset.name}.h5"
            write_dataset(_with_family_normalization(dataset, mean, std), path, force=True)
            paths[system].append(path)

        if system == HELD_OUT[0]:
            held_out_path.parent.mkdir(parents=True, exist_ok=True)
            dataset = simulate_dataset(system, n_steps, parameters={HELD_OUT[1]: HELD_OUT[2]}, seed=seed, split=SPLIT,
                                       name=held_out_path.stem)
            write_dataset(_with_family_normalization(dataset, mean, std), held_out_path, force=True)
    return paths, held_out_path


def _with_family_normalization(dataset, mean, std):
    step = {"step": "standardize", "statistics": "training parts of the family's training environments"}
    return dataclasses.replace(dataset, mean=mean, std=std, preprocessing=[*dataset.preprocessing, step])


def score_run(folder: Path, options: EvaluationOptions) -> dict[str, dict]:
    """Return D_stsp and D_H (with floors) and the expert of every environment of a run, adapted ones included.

    A free run that diverges scores D_stsp = inf and D_H = 1, the worst
    values, so that it counts against its method in the medians.
    """
    run = load_mixer_run(folder)
    scores = {}
    for record in run.environments:
        environment_run = run.environment_run(record.name)
        dataset = environment_run.load_dataset()
        row = {"kind": record.kind, "expert": record.expert, "diverged": False}
        try:
            result = free_run_scores(environment_run, dataset, "test", options)
        except NumericalError as error:
            logger.warning("environment %s: %s", record.name, error)
            floors = data_floors(environment_run, dataset, options)
            row.update(diverged=True, dstsp=math.inf, dstsp_floor=floors.dstsp_floor, dh=1.0, dh_floor=floors.dh_floor)
        else:
            row.update(dstsp=result.dstsp, dstsp_floor=result.dstsp_floor, dh=result.dh, dh_floor=result.dh_floor)
        scores[record.name] = row
    return scores


def data_floors(run, dataset, options: EvaluationOptions):
    """Return the scores of the test data against itself, whose floors are those of every free run."""
    reference = max(dataset.part("test", standardized=False), key=len)
    reference = (reference - np.asarray(run.dataset_info["mean"])) / np.asarray(run.dataset_info["std"])
    return score_trajectories(reference, [reference], dataset.dt, options)


def routing_check(scores: dict[str, dict]) -> dict:
    """Return each family's experts and whether each family is on one expert and the families on different ones."""
    experts = {system: sorted({row["expert"] for name, row in scores.items()
                               if row["kind"] == "training" and name.startswith(system)}) for system in FAMILIES}
    one_each = all(len(values) == 1 for values in experts.values())
    distinct = one_each and len({values[0] for values in experts.values()}) == len(experts)
    return {"experts_by_family": experts, "family_on_one_expert": one_each, "families_on_different_experts": distinct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short data and training, for a smoke test")
    parser.add_argument("--workdir", type=Path, default=Path("runs/mixer_family"),
                        help="folder for datasets, runs and results (runs/ is ignored by git)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulations and of training")
    parser.add_argument("--outer-steps", type=int, help="override the outer steps of every method")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("dsr.runs.evaluation").setLevel(logging.WARNING)
    budget = QUICK if arguments.quick else FULL
    outer_steps = arguments.outer_steps or budget["outer_steps"]
    workdir = arguments.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    started = time.perf_counter()

    seconds: dict[str, float] = {}
    phase = time.perf_counter()
    paths, held_out = write_family_datasets(workdir / "data", budget["steps"], arguments.seed)
    seconds["simulate"] = time.perf_counter() - phase
    training_paths = [path for family in FAMILIES for path in paths[family]]

    options = EvaluationOptions(transient=1_000, n_starts=1, data_lyapunov_points=0)
    results: dict[str, dict] = {}
    for method in arguments.methods:
        config = MixerConfig(outer_steps=outer_steps, gate_warmup=budget["gate_warmup"], gate_interval=GATE_INTERVAL,
                             seed=arguments.seed, **METHODS[method])
        folder = workdir / "runs" / method
        phase = time.perf_counter()
        summary = train_mixer_run(training_paths, folder, config, force=True)
        seconds[f"train_{method}"] = time.perf_counter() - phase

        phase = time.perf_counter()
        run = load_mixer_run(folder)
        adaptation = adapt_context(run, new_environment(run, held_out, name="held_out"), steps=budget["adapt_steps"],
                                   seed=arguments.seed)
        store_adaptation(run, adaptation, budget["adapt_steps"], 1e-2)
        seconds[f"adapt_{method}"] = time.perf_counter() - phase

        phase = time.perf_counter()
        scores = score_run(folder, options)
        seconds[f"score_{method}"] = time.perf_counter() - phase
        results[method] = {"config": config.to_dict(), "rollout": summary.rollout, "scores": scores,
                           "routing": routing_check(scores),
                           "adaptation": {"expert": adaptation.expert, "start": adaptation.start,
                                          "start_loss": adaptation.start_loss, "final_loss": adaptation.final_loss,
                                          "context": adaptation.context.tolist()}}

    seconds["total"] = time.perf_counter() - started
    report = {"quick": arguments.quick, "seed": arguments.seed, "outer_steps": outer_steps, "data_steps": budget["steps"],
              "split": SPLIT, "seconds": seconds, "load_average_before": load_before,
              "load_average_after": os.getloadavg(), "cpu_count": os.cpu_count(), "torch_threads": 1,
              "platform": platform.platform(), "torch": torch.__version__, "methods": results}
    (workdir / "results.json").write_text(json.dumps(report, indent=2, default=float))
    markdown = render_markdown(report)
    (workdir / "results.md").write_text(markdown)
    print(markdown)


def render_markdown(report: dict) -> str:
    """Return the results as Markdown tables: routing, per-environment scores side by side, adaptation, timing."""
    methods = list(report["methods"])
    lines = [f"Seed {report['seed']}, {report['outer_steps']} outer steps, {report['data_steps']} samples per "
             f"environment, quick = {report['quick']}.", ""]

    lines += ["| method | experts of Lorenz-63 | experts of Rössler | one expert per family | families apart |",
              "|---|---|---|---|---|"]
    for method in methods:
        check = report["methods"][method]["routing"]
        by_family = check["experts_by_family"]
        lines.append(f"| {method} | {by_family['lorenz63']} | {by_family['rossler']} | "
                     f"{check['family_on_one_expert']} | {check['families_on_different_experts']} |")

    names = list(report["methods"][methods[0]]["scores"])
    header = "| environment | D_stsp floor | " + " | ".join(f"D_stsp {m}" for m in methods) + " | D_H floor | " + \
        " | ".join(f"D_H {m}" for m in methods) + " | " + " | ".join(f"expert {m}" for m in methods) + " |"
    lines += ["", header, "|" + "---|" * (3 + 3 * len(methods))]
    for name in names:
        rows = [report["methods"][m]["scores"][name] for m in methods]
        lines.append(f"| {name} | {rows[0]['dstsp_floor']:.3f} | " + " | ".join(f"{r['dstsp']:.3f}" for r in rows)
                     + f" | {rows[0]['dh_floor']:.3f} | " + " | ".join(f"{r['dh']:.3f}" for r in rows) + " | "
                     + " | ".join(str(r["expert"]) for r in rows) + " |")
    for label, family in (("median, Lorenz-63", "lorenz63"), ("median, Rössler", "rossler"), ("median, all", "")):
        medians = []
        for metric in ("dstsp", "dh"):
            for m in methods:
                values = [row[metric] for name, row in report["methods"][m]["scores"].items()
                          if row["kind"] == "training" and name.startswith(family)]
                medians.append(f"{np.median(values):.3f}")
        lines.append(f"| {label} | | " + " | ".join(medians[:len(methods)]) + " | | "
                     + " | ".join(medians[len(methods):]) + " |" + " |" * len(methods))

    lines += ["", "| method | held-out expert | started from | D_stsp held out | median D_stsp Lorenz-63 training | "
              "ratio | median D_stsp all training | ratio |", "|---|---|---|---|---|---|---|---|"]
    for m in methods:
        scores = report["methods"][m]["scores"]
        held = scores["held_out"]["dstsp"]
        lorenz = np.median([r["dstsp"] for n, r in scores.items() if r["kind"] == "training" and n.startswith("lorenz63")])
        everyone = np.median([r["dstsp"] for r in scores.values() if r["kind"] == "training"])
        adaptation = report["methods"][m]["adaptation"]
        lines.append(f"| {m} | {adaptation['expert']} | {adaptation['start']} | {held:.3f} | {lorenz:.3f} | "
                     f"{held / lorenz:.2f} | {everyone:.3f} | {held / everyone:.2f} |")

    lines += ["", "| phase | seconds |", "|---|---|"]
    lines += [f"| {phase} | {value:.0f} |" for phase, value in report["seconds"].items()]
    lines += ["", f"Load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in report['load_average_before'])}; "
              f"after: {', '.join(f'{v:.2f}' for v in report['load_average_after'])}; {report['cpu_count']} CPUs, "
              f"1 PyTorch thread."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
