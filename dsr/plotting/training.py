"""Training curves from a run's history: loss, validation score, forcing strength α and learning rate."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dsr.errors import InputError
from dsr.plotting._style import DATA_COLOUR, MODEL_COLOUR, figure_title, new_figure

# y labels of the validation scores that `dsr train --validation-metric` offers.
VALIDATION_LABELS = {
    "prediction": "free-run prediction MSE (standardised units)",
    "dstsp": "D_stsp (nats)",
    "dh": "D_H (Hellinger distance)",
}


def training_curves_figure(history: Mapping[str, np.ndarray], validation_metric: str = "prediction",
                           best_epoch: int | None = None, title: str = "Training curves",
                           subtitle: str = "") -> Figure:
    """Plot the per-epoch loss, validation score, α and learning rate of a run's history.

    Args:
        history: arrays by field name, as `Run.history` stores them: epoch,
            loss, validation (NaN in epochs without validation), alpha and
            learning_rate. A missing field leaves its panel empty with a note.
        validation_metric: "prediction", "dstsp" or "dh", for the y label.
        best_epoch: the epoch whose parameters are stored as best; marked
            on the validation panel (None or −1: not marked).
    """
    epochs = np.asarray(history.get("epoch", []), dtype=np.float64)
    if not epochs.size:
        raise InputError("The run's history is empty: no epoch has finished yet, so there are no training curves.")

    figure = new_figure(12.0, 7.0)
    (loss_axes, validation_axes), (alpha_axes, rate_axes) = figure.subplots(2, 2, sharex=True)

    _curve(loss_axes, epochs, history.get("loss"), "training loss (MSE, standardised units)", log=True)
    _validation(validation_axes, epochs, history.get("validation"), validation_metric, best_epoch)
    _curve(alpha_axes, epochs, history.get("alpha"), "forcing strength α", log=False)
    _curve(rate_axes, epochs, history.get("learning_rate"), "learning rate", log=True)
    for axes in (alpha_axes, rate_axes):
        axes.set_xlabel("epoch")
    for axes in (loss_axes, validation_axes, alpha_axes, rate_axes):
        axes.grid(alpha=0.3)
        axes.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
    alpha = history.get("alpha")
    if alpha is not None and len(alpha) and np.all(np.isfinite(alpha)):
        alpha_axes.set_ylim(0.0, 1.1 * float(np.max(alpha)) if np.max(alpha) > 0 else 1.0)
    figure.suptitle(figure_title(title, subtitle or f"{len(epochs):,} epochs"))
    return figure


def _curve(axes: Axes, epochs: np.ndarray, values: np.ndarray | None, label: str, log: bool) -> None:
    axes.set_ylabel(label)
    axes.set_title(label.split(" (")[0])
    if values is None or not len(values):
        _not_recorded(axes)
        return
    values = np.asarray(values, dtype=np.float64)
    axes.plot(epochs, values, color=DATA_COLOUR, linewidth=1.2, label=label.split(" (")[0])
    if log and _spans_decade(values):
        axes.set_yscale("log")
    axes.legend(loc="upper right", fontsize="small")


def _validation(axes: Axes, epochs: np.ndarray, values: np.ndarray | None, metric: str, best_epoch: int | None) -> None:
    label = VALIDATION_LABELS.get(metric, f"validation score ({metric})")
    axes.set_ylabel(label)
    axes.set_title("validation score (lower is better)")
    if values is None or not np.any(np.isfinite(values)):
        _not_recorded(axes, "no validation yet")
        return
    values = np.asarray(values, dtype=np.float64)
    scored = np.isfinite(values)
    axes.plot(epochs[scored], values[scored], color=DATA_COLOUR, linewidth=1.0, marker="o", markersize=3,
              label="validation score")
    if _spans_decade(values[scored]):
        axes.set_yscale("log")
    if best_epoch is not None and best_epoch >= 0:
        at_best = scored & (epochs == best_epoch)
        if np.any(at_best):
            axes.plot(epochs[at_best], values[at_best], linestyle="none", marker="*", markersize=14,
                      color=MODEL_COLOUR, label=f"best, epoch {best_epoch}")
    axes.legend(loc="upper right", fontsize="small")


def _spans_decade(values: np.ndarray) -> bool:
    """Return True for positive values spanning more than a factor of 10: a log axis then helps, else it only garbles the ticks."""
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool(np.all(finite > 0)) and float(finite.max()) > 10.0 * float(finite.min())


def _not_recorded(axes: Axes, text: str = "not recorded") -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="grey")
