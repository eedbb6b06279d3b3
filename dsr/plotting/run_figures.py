"""Every figure of a trained run, built from run.h5, its dataset and one free run of the model.

The free run starts from the first sample of the evaluation part (test by
default), inferring the latent state from it as `dsr evaluate` does. Its
first `window` steps are overlaid on the data. After a transient, its next
`steps` steps give the attractor, the power spectra and the subregion
statistics.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from matplotlib.figure import Figure

from dsr.atomic import atomic_path
from dsr.data.dataset import Dataset
from dsr.errors import InputError, NumericalError, OutputExistsError
from dsr.plotting._style import DEFAULT_DPI
from dsr.plotting.attractor import attractor_figure
from dsr.plotting.lyapunov_convergence import lyapunov_convergence_figure
from dsr.plotting.spectra import power_spectrum_figure
from dsr.plotting.subregions import subregion_attractor_figure
from dsr.plotting.time_series import time_series_figure
from dsr.plotting.training import training_curves_figure
from dsr.plotting.transition_diagram import transition_graph_figure
from dsr.runs.run import Run

logger = logging.getLogger(__name__)

FIGURE_KINDS = ("attractor", "time_series", "power_spectrum", "training", "lyapunov", "subregions", "transition_graph")
SUBREGION_KINDS = ("subregions", "transition_graph")
FORMATS = ("png", "pdf")
FIGURES_FOLDER = "figures"


@dataclass(frozen=True)
class FigureOptions:
    """Settings of the run figures.

    Attributes:
        kinds: figures to make, a subset of FIGURE_KINDS.
        part: dataset part that the free run starts from and is compared
            with: train, valid, test or all.
        window: steps of the time series overlay.
        n_variables: variables in the time series and spectrum figures.
        transient: free-run steps dropped before the attractor, spectra and
            subregion figures.
        steps: free-run steps after the transient.
        smoothing_sigma: Gaussian smoothing of the power spectra, in frequency bins.
        lyapunov_steps: steps of the QR computation when the run has no
            stored evaluation to take the running estimates from.
        dpi: resolution of PNG files (PDF is vector apart from scatter plots).
    """

    kinds: tuple[str, ...] = FIGURE_KINDS
    part: str = "test"
    window: int = 2_000
    n_variables: int = 3
    transient: int = 1_000
    steps: int = 10_000
    smoothing_sigma: float = 20.0
    lyapunov_steps: int = 20_000
    dpi: int = DEFAULT_DPI

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.kinds if kind not in FIGURE_KINDS]
        if unknown or not self.kinds:
            raise InputError(f"Unknown figure kind {', '.join(unknown) or '(none given)'}; choose from {', '.join(FIGURE_KINDS)}.")
        minimum = {"window": 2, "steps": 2, "n_variables": 1, "dpi": 1}
        for name, lowest in minimum.items():
            if getattr(self, name) < lowest:
                raise InputError(f"{name.replace('_', ' ')} must be at least {lowest}, got {getattr(self, name)}.")
        if self.transient < 0:
            raise InputError(f"The transient must be zero or positive, got {self.transient} steps.")
        if self.lyapunov_steps < 10:
            raise InputError(f"The Lyapunov computation needs at least 10 steps (one per convergence block), got {self.lyapunov_steps}.")


@dataclass
class _FreeRun:
    """The data part in physical units and one free run from its first sample."""

    data: np.ndarray
    latent: np.ndarray
    generated: np.ndarray
    transient: int

    @property
    def settled(self) -> np.ndarray:
        """The free run after the transient, in physical units."""
        return self.generated[self.transient + 1:]


@dataclass
class RunFigures:
    """Builds a run's figures one at a time, sharing the dataset, the free run and the subtitle.

    Use `figure(kind)` to get one Figure; `write_run_figures` saves them all.
    """

    run: Run
    dataset: Dataset | None = None
    options: FigureOptions = field(default_factory=FigureOptions)
    _cache: _FreeRun | None = field(default=None, init=False, repr=False)

    @property
    def subtitle(self) -> str:
        """The run's name, architecture and which parameters are plotted."""
        return f"run {self.run.name}: {_architecture(self.run.model_config)}, {self.run.which} parameters"

    def figure(self, kind: str) -> Figure:
        """Build the figure `kind` (one of FIGURE_KINDS)."""
        builders: dict[str, Callable[[], Figure]] = {
            "attractor": self._attractor, "time_series": self._time_series, "power_spectrum": self._power_spectrum,
            "training": self._training, "lyapunov": self._lyapunov, "subregions": self._subregions,
            "transition_graph": self._transition_graph,
        }
        if kind not in builders:
            raise InputError(f"Unknown figure kind {kind!r}; choose from {', '.join(FIGURE_KINDS)}.")
        return builders[kind]()

    # Data and the free run, computed on first use.

    def _data(self) -> Dataset:
        if self.dataset is None:
            self.dataset = self.run.load_dataset()
        if self.dataset.n_variables != self.run.model.obs_dim:
            raise InputError(
                f"The dataset has {self.dataset.n_variables} variables, but the model of {self.run.folder} "
                f"predicts {self.run.model.obs_dim}; pass the dataset it was trained on."
            )
        return self.dataset

    def _free_run(self) -> _FreeRun:
        """Generate (once) the free run from the first sample of the chosen part."""
        if self._cache is not None:
            return self._cache
        from dsr.runs.generate import generate_latent

        dataset = self._data()
        pieces = dataset.part(self.options.part, standardized=False)
        if not pieces:
            raise InputError(f"The dataset has no {self.options.part} part; choose --part train, valid, test or all.")
        mean = np.asarray(self.run.dataset_info.get("mean", dataset.mean))
        std = np.asarray(self.run.dataset_info.get("std", dataset.std))
        data = max(pieces, key=len)

        # The model's units: the data standardised with the run's normalisation.
        model = self.run.model.double()
        with torch.no_grad():
            start = model.initial_state(torch.as_tensor((data[:1] - mean) / std)).numpy()
        n_steps = max(self.options.window, self.options.transient + self.options.steps)
        logger.info("generating a free run of %d steps for the figures of %s", n_steps, self.run.folder)
        latent = generate_latent(self.run, start, n_steps)[0]
        with torch.no_grad():
            observed = model.observe(torch.as_tensor(latent)).numpy()
        self._cache = _FreeRun(data=data, latent=latent, generated=observed * std + mean, transient=self.options.transient)
        return self._cache

    # One builder per figure kind.

    def _attractor(self) -> Figure:
        free = self._free_run()
        dataset = self._data()
        return attractor_figure(
            free.data, free.settled, dataset.variables, dataset.units, subtitle=self.subtitle,
            data_label=f"data ({self.options.part} part)",
            model_label=f"free run (after {self.options.transient:,} transient steps)",
        )

    def _time_series(self) -> Figure:
        free = self._free_run()
        dataset = self._data()
        return time_series_figure(free.data, free.generated, dataset.dt, dataset.time_unit,
                                  dataset.variables, dataset.units, n_variables=self.options.n_variables,
                                  window=self.options.window, subtitle=self.subtitle)

    def _power_spectrum(self) -> Figure:
        free = self._free_run()
        dataset = self._data()
        return power_spectrum_figure(free.data, free.settled, dataset.dt, dataset.time_unit,
                                     dataset.variables, smoothing_sigma=self.options.smoothing_sigma,
                                     n_variables=self.options.n_variables, subtitle=self.subtitle)

    def _training(self) -> Figure:
        return training_curves_figure(self.run.history, self.run.config.validation_metric, self.run.best_epoch,
                                      subtitle=self.subtitle)

    def _lyapunov(self) -> Figure:
        stored = self._stored_lyapunov()
        dt = float(self.run.dataset_info.get("dt", 1.0))
        time_unit = str(self.run.dataset_info.get("time_unit", ""))
        n_exponents = max(3, self.run.model.obs_dim)
        if stored is not None:
            running, times, data_lambda1, steps = stored
            source = f"from the stored evaluation ({steps:,} steps)"
        else:
            from dsr.analysis.model_lyapunov import model_lyapunov_spectrum

            free = self._free_run()
            steps = self.options.lyapunov_steps
            spectrum = model_lyapunov_spectrum(self.run.model, free.latent[0], n_steps=steps,
                                               transient=self.options.transient, dt=dt)
            running = spectrum.running
            times = _block_end_times(steps, len(running), dt)
            data_lambda1 = None
            source = f"computed over {steps:,} steps (no stored evaluation of these parameters)"
        return lyapunov_convergence_figure(running, times, time_unit, dt, n_exponents=n_exponents,
                                           data_lambda1=data_lambda1, subtitle=f"{self.subtitle}\n{source}")

    def _stored_lyapunov(self) -> tuple[np.ndarray, np.ndarray, float, int] | None:
        """Return the running estimates, their times, the data's λ1 and the step count of the stored evaluation.

        None when the run has no metrics group, or when it was computed from
        the other parameter set (best or latest) than the one plotted.
        """
        metrics = self.run.read_group("metrics")
        if not metrics or "lyapunov_running" not in metrics:
            return None
        protocol = json.loads(metrics.get("protocol", "{}"))
        if protocol.get("parameters_used", self.run.which) != self.run.which:
            return None
        running = np.asarray(metrics["lyapunov_running"], dtype=np.float64)
        steps = int(protocol.get("lyapunov_steps", 0))
        dt = float(protocol.get("dt", self.run.dataset_info.get("dt", 1.0)))
        if steps < len(running):
            return None
        data_lambda1 = float(metrics.get("lyapunov_data", np.nan))
        return running, _block_end_times(steps, len(running), dt), data_lambda1, steps

    def _symbols(self):
        from dsr.analysis.symbols import SymbolSequence

        if self.run.model.n_switches == 0:
            raise InputError(
                f"The model of {self.run.folder} has no ReLU units, so it is linear with a single subregion; "
                "there are no subregions to colour or transitions to draw."
            )
        free = self._free_run()
        states = free.latent[free.transient + 1:]
        with torch.no_grad():
            patterns = self.run.model.subregion(torch.as_tensor(states)).numpy()
        return SymbolSequence.from_patterns([patterns])

    def _subregions(self) -> Figure:
        symbols = self._symbols()
        free = self._free_run()
        dataset = self._data()
        return subregion_attractor_figure(free.settled, symbols.sequences[0], symbols.alphabet.labels,
                                          reference=free.data, variables=dataset.variables,
                                          units=dataset.units, subtitle=self.subtitle)

    def _transition_graph(self) -> Figure:
        from dsr.analysis.transition_graph import transition_graph

        symbols = self._symbols()
        detail = f"{symbols.n_symbols:,} free-run steps"
        return transition_graph_figure(transition_graph(symbols), subtitle=f"{self.subtitle}, {detail}")


def write_run_figures(run: Run, folder: str | Path | None = None, format: str = "png",
                      dataset: Dataset | None = None, options: FigureOptions | None = None,
                      overwrite: bool = True) -> dict[str, Path]:
    """Write the figures of `run` to `folder` (default RUN/figures) and return their paths by kind.

    Files are named KIND.FORMAT (for example attractor.png) and are written
    atomically. A figure that cannot be made is logged as a
    warning and left out of the result: every figure but the training curves
    when the free run diverges, and the subregion figures of a model without
    ReLU units.

    Args:
        run: a loaded run (`dsr.runs.load_run`).
        folder: output folder, created if missing.
        format: "png" or "pdf".
        dataset: the dataset to compare with; by default the run's own,
            checked against its fingerprint.
        options: which figures and their settings.
        overwrite: replace existing files of the same names. When false,
            an existing file raises OutputExistsError before any figure is
            drawn.
    """
    if format not in FORMATS:
        raise InputError(f"Unknown figure format {format!r}; choose png or pdf.")
    options = options or FigureOptions()
    folder = Path(folder) if folder is not None else run.folder / FIGURES_FOLDER
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder; choose another output folder with -o.")
    existing = [folder / f"{kind}.{format}" for kind in options.kinds if (folder / f"{kind}.{format}").exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{', '.join(str(path) for path in existing)}: exist already. Pass --force to replace them, "
            "or choose another folder with -o."
        )
    folder.mkdir(parents=True, exist_ok=True)

    kinds = list(options.kinds)
    if run.model.n_switches == 0 and any(kind in SUBREGION_KINDS for kind in kinds):
        logger.warning("no subregion figures for %s: the model has no ReLU units, so it has a single subregion",
                       run.folder)
        kinds = [kind for kind in kinds if kind not in SUBREGION_KINDS]

    figures = RunFigures(run, dataset, options)
    written: dict[str, Path] = {}
    for kind in kinds:
        try:
            figure = figures.figure(kind)
        except NumericalError as error:
            logger.warning("no %s figure for %s: %s", kind.replace("_", " "), run.folder, error)
            continue
        path = folder / f"{kind}.{format}"
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format=format, dpi=options.dpi)
        written[kind] = path
        logger.info("wrote %s", path)
    return written


def _block_end_times(steps: int, n_blocks: int, dt: float) -> np.ndarray:
    """Return the averaging time at the end of each block, as `dsr.analysis.lyapunov.lyapunov_spectrum` splits it."""
    block_ends = np.linspace(0, steps, n_blocks + 1)[1:].astype(int)
    return dt * block_ends


def _architecture(model_config: dict) -> str:
    name = model_config.get("model", "model")
    if name == "alrnn":
        return f"AL-RNN M = {model_config.get('latent_dim')}, P = {model_config.get('n_relu')}"
    if name == "shplrnn":
        clipped = "clipped " if model_config.get("clipped") else ""
        return f"{clipped}shPLRNN M = {model_config.get('latent_dim')}, L = {model_config.get('hidden_dim')}"
    return str(name)
