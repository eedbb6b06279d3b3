"""Figures of a tiny trained run: every file written and readable, PDF output, dsr plot, and the skipped cases."""

import json
import logging

import pytest
import torch

from dsr.data.dataset import write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.errors import InputError
from dsr.plotting import FIGURE_KINDS, FigureOptions, RunFigures, write_run_figures
from dsr.runs import load_run, train_run
from dsr.runs.evaluation import EvaluationOptions, evaluate_run, store_evaluation
from dsr.training import TrainConfig
from tests.plotting.images import assert_readable_png

DPI = 60

# Short free runs keep each figure under a second; the figures are the same kind as with the defaults.
OPTIONS = FigureOptions(window=400, steps=1500, transient=100, lyapunov_steps=300, dpi=DPI)

# Figure sizes in inches, as the figure modules create them (3-D attractor: 12 x 6).
SIZES = {
    "attractor": (12.0, 6.0), "time_series": (12.0, 7.0), "power_spectrum": (12.0, 4.5), "training": (12.0, 7.0),
    "lyapunov": (12.0, 5.5), "subregions": (11.0, 7.5), "transition_graph": (8.5, 8.5),
}


def tiny_config(**changes):
    values = dict(epochs=3, batches_per_epoch=2, batch_size=4, sequence_length=20, latent_dim=5, n_relu=2,
                  validation_interval=1, fast_path="off")
    values.update(changes)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "l63.h5"
    write_dataset(simulate_dataset("lorenz63", 3000), path)
    return path


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory, dataset_path):
    """A tiny AL-RNN run with a stored evaluation (metrics group)."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("runs") / "alrnn"
    train_run(dataset_path, folder, tiny_config())
    run = load_run(folder)
    options = EvaluationOptions(transient=10, lyapunov_steps=300, lyapunov_transient=10, data_lyapunov_points=0,
                                dh_length=200)
    store_evaluation(run, evaluate_run(run, run.load_dataset(), "test", options))
    return folder


def test_every_figure_written_and_readable(evaluated_run, tmp_path):
    paths = write_run_figures(load_run(evaluated_run), tmp_path / "figures", "png", options=OPTIONS)
    assert list(paths) == list(FIGURE_KINDS)
    for kind, path in paths.items():
        assert path == tmp_path / "figures" / f"{kind}.png"
        assert_readable_png(path, *SIZES[kind], DPI)


def test_default_folder_is_inside_run(evaluated_run):
    paths = write_run_figures(load_run(evaluated_run), options=FigureOptions(kinds=("training",), dpi=DPI))
    assert paths["training"] == evaluated_run / "figures" / "training.png"
    assert_readable_png(paths["training"], *SIZES["training"], DPI)


def test_pdf_output(evaluated_run, tmp_path):
    options = FigureOptions(kinds=("training", "attractor"), window=400, steps=1500, transient=100)
    paths = write_run_figures(load_run(evaluated_run), tmp_path, "pdf", options=options)
    for path in paths.values():
        assert path.suffix == ".pdf"
        assert path.read_bytes()[:5] == b"%PDF-"
        assert path.stat().st_size > 10_000


def test_lyapunov_from_stored_evaluation(evaluated_run):
    figures = RunFigures(load_run(evaluated_run), options=OPTIONS)
    figure = figures.figure("lyapunov")
    assert "from the stored evaluation (300 steps)" in figure.get_suptitle()
    assert figure.axes[0].get_xlim()[1] == pytest.approx(3.0 * 1.02)


def test_lyapunov_computed_without_evaluation(dataset_path, tmp_path):
    train_run(dataset_path, tmp_path / "run", tiny_config(epochs=1))
    figure = RunFigures(load_run(tmp_path / "run"), options=OPTIONS).figure("lyapunov")
    assert "computed over 300 steps" in figure.get_suptitle()


def test_lyapunov_recomputed_for_other_parameters(evaluated_run):
    """The stored evaluation used the best parameters, so a figure of the latest ones must not reuse it."""
    figure = RunFigures(load_run(evaluated_run, which="latest"), options=OPTIONS).figure("lyapunov")
    assert "computed over" in figure.get_suptitle()


def test_linear_model_skips_subregion_figures(dataset_path, tmp_path, caplog):
    train_run(dataset_path, tmp_path / "linear", tiny_config(epochs=1, n_relu=0))
    options = FigureOptions(kinds=("training", "subregions", "transition_graph"), dpi=DPI)
    with caplog.at_level(logging.WARNING, logger="dsr"):
        paths = write_run_figures(load_run(tmp_path / "linear"), tmp_path / "figures", options=options)
    assert list(paths) == ["training"]
    assert "no ReLU units" in caplog.text


def test_diverging_model_keeps_training_curves(evaluated_run, tmp_path, caplog):
    run = load_run(evaluated_run)
    with torch.no_grad():
        run.model.A.fill_(3.0)
    options = FigureOptions(kinds=("training", "attractor", "time_series"), window=400, steps=1500, dpi=DPI)
    with caplog.at_level(logging.WARNING, logger="dsr"):
        paths = write_run_figures(run, tmp_path, options=options)
    assert list(paths) == ["training"]
    assert "no attractor figure" in caplog.text
    assert "diverged" in caplog.text


def test_options_reject_unknown_kind_and_format(evaluated_run, tmp_path):
    with pytest.raises(InputError, match="Unknown figure kind phase_portrait"):
        FigureOptions(kinds=("phase_portrait",))
    with pytest.raises(InputError, match="png or pdf"):
        write_run_figures(load_run(evaluated_run), tmp_path, "svg")


def test_plot_command_json(evaluated_run, tmp_path, dsr_cli):
    result = dsr_cli("plot", evaluated_run, "-o", tmp_path / "out", "--figures", "training,time_series",
                     "--window", "300", "--steps", "500", "--transient", "50", "--dpi", DPI, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert sorted(payload["figures"]) == ["time_series", "training"]
    assert payload["skipped"] == []
    assert_readable_png(tmp_path / "out" / "time_series.png", *SIZES["time_series"], DPI)


def test_plot_command_table_and_bad_input(evaluated_run, tmp_path, dsr_cli):
    result = dsr_cli("plot", evaluated_run, "-o", tmp_path, "--figures", "training", "--dpi", DPI)
    assert result.exit_code == 0, result.stderr
    assert "training" in result.stdout
    assert (tmp_path / "training.png").is_file()
    again = dsr_cli("plot", evaluated_run, "-o", tmp_path, "--figures", "training,lyapunov", "--dpi", DPI)
    assert again.exit_code == 2
    assert "training.png: exist already" in again.stderr
    assert not (tmp_path / "lyapunov.png").exists()
    assert dsr_cli("plot", evaluated_run, "-o", tmp_path, "--figures", "training", "--dpi", DPI, "--force").exit_code == 0
    assert dsr_cli("plot", evaluated_run, "--figures", "nonsense").exit_code == 2
    assert dsr_cli("plot", evaluated_run, "--format", "svg", "-o", tmp_path).exit_code == 2
    missing = dsr_cli("plot", tmp_path / "no_run")
    assert missing.exit_code == 2
    assert "not a dsr run folder" in missing.stderr
