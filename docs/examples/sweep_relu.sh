#!/usr/bin/env bash
# Sweep the number of ReLU units P of an AL-RNN from 0 to 5, with several
# seeds each, then compare the runs in one table.
#
# Run locally, every (P, seed) pair one after another:
#
#   bash docs/examples/sweep_relu.sh
#
# It simulates Lorenz-63 data if $DATA does not exist, trains and evaluates
# each run into $OUT/relu<P>_seed<seed>, draws its figures, and finally prints
# `dsr compare` sorted by D_stsp and writes $OUT/summary.csv.
#
# Run on a cluster as a job array, one task per (P, seed) pair. Task i trains
# P = RELU_VALUES[i / number of seeds] with seed SEEDS[i % number of seeds],
# so 6 values of P and 3 seeds make tasks 0 to 17. With SLURM:
#
#   dsr simulate lorenz63 --steps 100000 -o l63.h5     # once, before submitting
#   sbatch --array=0-17 docs/examples/sweep_relu.sh
#   # when the array has finished (or as a job with --dependency=afterok:<array job id>):
#   dsr compare runs/sweep_relu/* --sort dstsp -o runs/sweep_relu/summary.csv
#
# The task number is read from SLURM_ARRAY_TASK_ID (SLURM), PBS_ARRAY_INDEX
# (PBS Pro, qsub -J 0-17) or PBS_ARRAYID (Torque, qsub -t 0-17). Under PBS
# the script first changes to the submission folder PBS_O_WORKDIR. Other
# schedulers can pass the number, counted from 0, as TASK_ID. In array mode
# the script neither simulates the data, because tasks would race to write
# it, nor compares, because the other tasks are still running.
#
# A task that finds its run folder already there continues it with --resume,
# and a completed run is left as it is, so a preempted or resubmitted array
# does not start runs over.
#
# Settings, all overridable from the environment, e.g. EPOCHS=200 SEEDS="0 1" bash sweep_relu.sh:
#   DSR          the dsr command (default: dsr)
#   DATA         training dataset (default: l63.h5)
#   OUT          folder of the run folders (default: runs/sweep_relu)
#   RELU_VALUES  values of P (default: 0 1 2 3 4 5)
#   SEEDS        seeds per P (default: 0 1 2)
#   LATENT       latent dimension M (default: 20)
#   EPOCHS       training epochs (default: 1000)
#   TRAIN_ARGS   further `dsr train` options, e.g. "--sequence-length 100"
#   EVALUATE_ARGS  `dsr evaluate` options, e.g. "--starts 5"
#   PLOT         1 to draw each run's figures into RUN/figures (default: 1)
#
# The #SBATCH lines below are examples; set the time and memory your cluster
# and run length need.
#SBATCH --job-name=sweep_relu
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00

set -euo pipefail

DSR=${DSR:-dsr}
DATA=${DATA:-l63.h5}
OUT=${OUT:-runs/sweep_relu}
read -r -a RELU_VALUES <<< "${RELU_VALUES:-0 1 2 3 4 5}"
read -r -a SEEDS <<< "${SEEDS:-0 1 2}"
LATENT=${LATENT:-20}
EPOCHS=${EPOCHS:-1000}
read -r -a TRAIN_ARGS <<< "${TRAIN_ARGS:-}"
read -r -a EVALUATE_ARGS <<< "${EVALUATE_ARGS:-}"
PLOT=${PLOT:-1}
TASK_ID=${TASK_ID:-${SLURM_ARRAY_TASK_ID:-${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-}}}}
N_TASKS=$(( ${#RELU_VALUES[@]} * ${#SEEDS[@]} ))

# Train, evaluate and plot the run of task $1.
run_task() {
    local task=$1
    local relu=${RELU_VALUES[$(( task / ${#SEEDS[@]} ))]}
    local seed=${SEEDS[$(( task % ${#SEEDS[@]} ))]}
    local folder="$OUT/relu${relu}_seed${seed}"

    echo "task $task: P = $relu, seed $seed -> $folder"
    if [[ -f "$folder/run.h5" ]]; then
        "$DSR" train "$DATA" -o "$folder" --resume --quiet
    else
        "$DSR" train "$DATA" -o "$folder" --latent "$LATENT" --relu "$relu" --seed "$seed" \
            --epochs "$EPOCHS" --quiet ${TRAIN_ARGS[@]+"${TRAIN_ARGS[@]}"}
    fi
    "$DSR" evaluate "$folder" ${EVALUATE_ARGS[@]+"${EVALUATE_ARGS[@]}"}
    if [[ "$PLOT" == 1 ]]; then
        "$DSR" plot "$folder" --figures training,attractor,power_spectrum,subregions --force
    fi
}

if [[ -n "${PBS_O_WORKDIR:-}" ]]; then
    cd "$PBS_O_WORKDIR"
fi
mkdir -p "$OUT"

if [[ -n "$TASK_ID" ]]; then
    if (( TASK_ID < 0 || TASK_ID >= N_TASKS )); then
        echo "Task $TASK_ID is outside 0..$(( N_TASKS - 1 )) for ${#RELU_VALUES[@]} values of P and ${#SEEDS[@]} seeds." >&2
        exit 2
    fi
    if [[ ! -f "$DATA" ]]; then
        echo "$DATA not found. Simulate it once before submitting: $DSR simulate lorenz63 --steps 100000 -o $DATA" >&2
        exit 2
    fi
    run_task "$TASK_ID"
    exit 0
fi

if [[ ! -f "$DATA" ]]; then
    "$DSR" simulate lorenz63 --steps 100000 -o "$DATA"
fi
for (( task = 0; task < N_TASKS; task++ )); do
    run_task "$task"
done
"$DSR" compare "$OUT"/* --sort dstsp -o "$OUT/summary.csv" --force
