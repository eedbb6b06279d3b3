"""Run folders: creating, training, resuming, loading and annotating trained models."""

from dsr.runs.run import Run, create_run, load_checkpoint, load_run, run_status, save_snapshot
from dsr.runs.training import TrainingSummary, train_run

__all__ = ["Run", "TrainingSummary", "create_run", "load_checkpoint", "load_run", "run_status", "save_snapshot",
           "train_run"]
