"""Figures of trained runs: one module per figure kind, each returning a matplotlib Figure.

`write_run_figures` builds them all for a run and writes PNG or PDF files.
"""

from dsr.plotting.attractor import attractor_figure
from dsr.plotting.lyapunov_convergence import lyapunov_convergence_figure
from dsr.plotting.run_figures import FIGURE_KINDS, FORMATS, FigureOptions, RunFigures, write_run_figures
from dsr.plotting.spectra import power_spectrum_figure
from dsr.plotting.subregions import subregion_attractor_figure
from dsr.plotting.time_series import time_series_figure
from dsr.plotting.training import training_curves_figure
from dsr.plotting.transition_diagram import transition_graph_figure

__all__ = [
    "FIGURE_KINDS", "FORMATS", "FigureOptions", "RunFigures", "attractor_figure", "lyapunov_convergence_figure",
    "power_spectrum_figure", "subregion_attractor_figure", "time_series_figure", "training_curves_figure",
    "transition_graph_figure", "write_run_figures",
]
