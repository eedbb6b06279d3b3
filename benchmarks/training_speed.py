"""Benchmark: training speed of the fused numba rollout against the per-step PyTorch rollout, and of ensembles.

Measures, in one process and with one PyTorch thread:

1. seconds per batch (sample, forward, backward, gradient clipping, RAdam
   step: `Trainer.train_epoch` with a constant α) and per epoch of 50
   batches, for both rollouts, at the AL-RNN paper's configuration (M = 20,
   P = 2, 16 sequences of 200 steps) and at M = 100, T = 50;
2. the same epoch with the default adaptive α, whose Jacobian-norm
   estimate runs in PyTorch on both paths;
3. the wall time of an ensemble of 8 seeds (`EnsembleTrainer.run`)
   against 8 single runs one after another (`Trainer.run`), on both paths;
4. memory, for each path, single and ensemble: the bytes that autograd
   keeps from one batch for the backward pass (tensors saved for backward,
   counted once per storage), and the peak resident set size of a fresh
   process that trains one epoch (`resource.getrusage`).

Rounds alternate between the paths and the medians are reported, because
other processes on a shared machine slow down whichever path runs at the
time. The last lines are `name value` pairs for scripts:

    speedup_fused_vs_reference 14.2
    ensemble8_vs_8single_reference 5.1
    ensemble8_vs_8single_fused 3.0

Usage: python benchmarks/training_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsr.models import build_model  # noqa: E402
from dsr.training.config import TrainConfig  # noqa: E402
from dsr.training.ensemble import EnsembleTrainer  # noqa: E402
from dsr.training.forcing import forced_rollout  # noqa: E402
from dsr.training.fused import fused_available, fused_rollout  # noqa: E402
from dsr.training.trainer import Trainer  # noqa: E402

OBS_DIM = 3
# The AL-RNN paper's training setup: sparse teacher forcing every 16 steps, input noise 0.05.
PAPER = dict(model="alrnn", latent_dim=20, n_relu=2, batch_size=16, sequence_length=200, batches_per_epoch=50,
             forcing="sparse", forcing_interval=16, input_noise=0.05)
CONFIGURATIONS = {
    "AL-RNN M 20, P 2, 16 x 200, sparse τ 16": PAPER,
    "AL-RNN M 20, P 2, 16 x 200, GTF α 0.1": dict(PAPER, forcing="gtf", alpha_schedule="constant", alpha=0.1),
    "AL-RNN M 20, P 2, 16 x 200, adaptive GTF": dict(PAPER, forcing="gtf", alpha_schedule="adaptive"),
    "AL-RNN M 100, P 2, 16 x 50, sparse τ 16": dict(PAPER, latent_dim=100, sequence_length=50),
}
ENSEMBLE_SIZE = 8


def training_data(length: int = 20_000) -> list[np.ndarray]:
    """Return a standardised 3-variable series; its content does not matter for timing."""
    time_axis = np.arange(length) * 0.05
    data = np.stack([np.sin(time_axis), np.cos(1.3 * time_axis), np.sin(0.7 * time_axis + 1.0)], axis=1)
    data += 0.05 * np.random.default_rng(0).standard_normal(data.shape)
    return [((data - data.mean(0)) / data.std(0)).astype(np.float32)]


def make_trainer(options: dict, fast: bool, seed: int = 0, data=None) -> Trainer:
    config = TrainConfig(**options, seed=seed)
    model = build_model(config.model_config(OBS_DIM), torch.Generator().manual_seed(seed))
    return Trainer(model, config, data or training_data(), [], rollout=fused_rollout if fast else forced_rollout)


def time_epochs(options: dict, rounds: int) -> dict[str, list[float]]:
    """Return seconds per epoch per round for both paths, alternating the paths each round."""
    data = training_data()
    trainers = {"reference": make_trainer(options, False, data=data), "fused": make_trainer(options, True, data=data)}
    # One untimed epoch each, so that first-call costs stay out of the rounds.
    for trainer in trainers.values():
        trainer.train_epoch()

    seconds: dict[str, list[float]] = {name: [] for name in trainers}
    for round_index in range(rounds):
        order = list(trainers) if round_index % 2 == 0 else list(reversed(trainers))
        for name in order:
            started = time.perf_counter()
            trainers[name].train_epoch()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def time_ensemble(options: dict, fast: bool, size: int) -> tuple[float, float]:
    """Return the wall seconds of `size` single runs one after another, and of one ensemble of `size` seeds."""
    data = training_data()
    started = time.perf_counter()
    for seed in range(size):
        make_trainer(options, fast, seed, data).run()
    singles = time.perf_counter() - started

    configs = [TrainConfig(**options, seed=seed) for seed in range(size)]
    models = [build_model(config.model_config(OBS_DIM), torch.Generator().manual_seed(config.seed)) for config in configs]
    started = time.perf_counter()
    EnsembleTrainer(models, configs, data, [], fast=fast).run()
    return singles, time.perf_counter() - started


def build(options: dict, fast: bool, size: int, data) -> Trainer | EnsembleTrainer:
    """Return a single trainer (size 1) or an ensemble of `size` seeds."""
    if size == 1:
        return make_trainer(options, fast, data=data)
    configs = [TrainConfig(**options, seed=seed) for seed in range(size)]
    models = [build_model(config.model_config(OBS_DIM), torch.Generator().manual_seed(config.seed)) for config in configs]
    return EnsembleTrainer(models, configs, data, [], fast=fast)


def saved_for_backward(options: dict, fast: bool, size: int) -> float:
    """Return the MiB of tensors that autograd keeps from one batch's forward pass for the backward pass."""
    trainer = build(options, fast, size, training_data())
    config = trainer.config
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        if size == 1:
            x = trainer.sampler.sample()
            trainer.rollout(trainer.model, x, trainer.alpha.alpha, config.forcing, config.forcing_interval)
        else:
            _, inputs = trainer._sample()
            alphas = [member.alpha.alpha for member in trainer.members]
            trainer.rollout(trainer.parameters, inputs, alphas, config.forcing, config.forcing_interval)
    return sum(storages.values()) / 2**20


def peak_resident_memory(options: dict, fast: bool, size: int) -> float:
    """Return the peak resident set size (MiB) of a fresh Python process that trains one epoch."""
    request = json.dumps({"options": options, "fast": fast, "size": size})
    output = subprocess.run([sys.executable, __file__, "--memory-child", request], check=True, capture_output=True,
                            text=True).stdout
    return float(output.strip().splitlines()[-1])


def memory_child(request: str) -> None:
    """Train one epoch as `request` specifies and print the process's peak resident set size in MiB."""
    torch.set_num_threads(1)
    spec = json.loads(request)
    build(spec["options"], spec["fast"], spec["size"], training_data()).train_epoch()
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    scale = 2**20 if sys.platform == "darwin" else 2**10
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale)


def describe_machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, torch {torch.__version__}, "
            f"numba {numba.__version__}, numpy {np.__version__}; load average at start {load:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and rounds (about a minute)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.memory_child:
        memory_child(arguments.memory_child)
        return

    torch.set_num_threads(1)
    rounds = 3 if arguments.quick else 7
    batches = 10 if arguments.quick else 50
    configurations = {label: dict(options, batches_per_epoch=batches) for label, options in CONFIGURATIONS.items()}
    paper = configurations[next(iter(configurations))]

    print(describe_machine())
    probe = build_model(TrainConfig(**PAPER).model_config(OBS_DIM))
    available, reason = fused_available(probe, "cpu")
    if not available:
        raise SystemExit(f"the fused kernels are unavailable: {reason}")

    print(f"\n| configuration | path | ms per batch | s per epoch ({batches} batches) |")
    print("| --- | --- | ---: | ---: |")
    speedups = []
    for label, options in configurations.items():
        seconds = time_epochs(options, rounds)
        medians = {name: statistics.median(values) for name, values in seconds.items()}
        for name, median in medians.items():
            print(f"| {label} | {name} | {1e3 * median / batches:.2f} | {median:.3f} |", flush=True)
        speedups.append(medians["reference"] / medians["fused"])
        print(f"| {label} | speed-up | {speedups[-1]:.1f}x | |", flush=True)

    epochs = 1 if arguments.quick else 2
    ensemble_options = dict(paper, epochs=epochs, validation_interval=epochs)
    print(f"\n| path | {ENSEMBLE_SIZE} single runs, s | ensemble of {ENSEMBLE_SIZE}, s | ratio |")
    print("| --- | ---: | ---: | ---: |")
    ensemble_ratios = {}
    for name, fast in (("reference", False), ("fused", True)):
        singles, together = time_ensemble(ensemble_options, fast, ENSEMBLE_SIZE)
        ensemble_ratios[name] = singles / together
        print(f"| {name} | {singles:.2f} | {together:.2f} | {singles / together:.2f} |", flush=True)

    print(f"\n| path | members | saved for backward per batch, MiB | peak RSS of a process training one epoch, MiB |")
    print("| --- | ---: | ---: | ---: |")
    for name, fast in (("reference", False), ("fused", True)):
        for size in (1, ENSEMBLE_SIZE):
            saved = saved_for_backward(paper, fast, size)
            resident = peak_resident_memory(paper, fast, size)
            print(f"| {name} | {size} | {saved:.2f} | {resident:.0f} |", flush=True)

    # The first configuration is the paper's, the one the speed-up is quoted for.
    print(f"\nspeedup_fused_vs_reference {speedups[0]:.1f}")
    print(f"ensemble{ENSEMBLE_SIZE}_vs_{ENSEMBLE_SIZE}single_reference {ensemble_ratios['reference']:.2f}")
    print(f"ensemble{ENSEMBLE_SIZE}_vs_{ENSEMBLE_SIZE}single_fused {ensemble_ratios['fused']:.2f}")


if __name__ == "__main__":
    main()
