"""Each figure function on synthetic arrays: axes, labels with units, legends, and the PNG it renders."""

import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch

from dsr.analysis.symbols import SymbolSequence
from dsr.analysis.transition_graph import transition_graph
from dsr.errors import InputError
from dsr.plotting import (
    attractor_figure, lyapunov_convergence_figure, power_spectrum_figure, subregion_attractor_figure,
    time_series_figure, training_curves_figure, transition_graph_figure,
)
from dsr.plotting._style import view_limits
from dsr.plotting.projections import decorrelation_delay, principal_components, projection_for
from dsr.plotting.subregions import OTHER_COLOUR, display_labels, subregion_colours
from tests.plotting.images import assert_readable_png

DPI = 60


def curve(n_steps=3000, n_variables=3, phase=0.0, dt=0.01):
    """A quasi-periodic curve with one frequency per variable (1, 2, 3, ... cycles per 2π time units)."""
    time = dt * np.arange(n_steps)
    return np.column_stack([np.sin((i + 1) * time + phase) + 0.1 * i for i in range(n_variables)])


def render(figure, path):
    figure.savefig(path, dpi=DPI)
    width, height = figure.get_size_inches()
    return assert_readable_png(path, width, height, DPI)


def test_attractor_three_variables_in_3d(tmp_path):
    figure = attractor_figure(curve(), curve(phase=0.5), ("x", "y", "z"), ("mV", "mV", ""), subtitle="run r1")
    data_axes, model_axes = figure.axes
    assert data_axes.name == "3d"
    assert data_axes.get_xlabel() == "x (mV)"
    assert data_axes.get_zlabel() == "z"
    assert data_axes.get_xlim() == model_axes.get_xlim()
    assert data_axes.get_legend() is not None
    assert "run r1" in figure.get_suptitle()
    render(figure, tmp_path / "attractor.png")


def test_attractor_two_variables_in_2d(tmp_path):
    figure = attractor_figure(curve(n_variables=2), curve(n_variables=2, phase=1.0))
    assert [axes.name for axes in figure.axes] == ["rectilinear", "rectilinear"]
    assert figure.axes[0].get_ylabel() == "x2"
    render(figure, tmp_path / "attractor2.png")


def test_attractor_one_variable_uses_delay_coordinates():
    figure = attractor_figure(curve(n_variables=1), curve(n_variables=1, phase=1.0), ("v",), ("V",))
    assert figure.axes[0].get_xlabel() == "v(t) (V)"
    assert figure.axes[0].get_ylabel().startswith("v(t + ")


def test_attractor_many_variables_uses_principal_components(tmp_path):
    figure = attractor_figure(curve(n_variables=6), curve(n_variables=6, phase=0.3))
    labels = [figure.axes[0].get_xlabel(), figure.axes[0].get_ylabel(), figure.axes[0].get_zlabel()]
    assert [label.split(" ")[0] for label in labels] == ["PC1", "PC2", "PC3"]
    assert "% of variance" in labels[0]
    render(figure, tmp_path / "attractor_pca.png")


def test_attractor_collapsed_free_run_is_noted():
    fixed_point = np.tile([0.1, 0.2, 0.3], (500, 1))
    figure = attractor_figure(curve(), fixed_point)
    texts = [text.get_text() for text in figure.axes[1].texts]
    assert any("spread below 1 %" in text for text in texts)


def test_attractor_overshooting_free_run_keeps_data_readable():
    """A free run 1000 times larger than the data: the axes span at most 3 times the data's range, with a note."""
    data = curve()
    figure = attractor_figure(data, 1000.0 * curve(phase=0.5))
    low, high = figure.axes[0].get_xlim()
    data_span = 1.1 * (data[:, 0].max() - data[:, 0].min())
    assert high - low == pytest.approx(3.0 * data_span, rel=0.01)
    notes = [text.get_text() for text in figure.axes[1].texts]
    assert any("of the free run lies outside these axes" in note for note in notes)


def test_view_limits_cover_moderate_overshoot():
    data = np.column_stack([np.linspace(0.0, 1.0, 100)])
    limits, outside = view_limits(data, 1.5 * data)
    assert limits[0] == pytest.approx((-0.075, 1.575))
    assert outside == 0.0


def test_attractor_rejects_mismatched_or_diverged():
    with pytest.raises(InputError, match="variables"):
        attractor_figure(curve(), curve(n_variables=2))
    diverged = curve()
    diverged[10, 0] = np.inf
    with pytest.raises(InputError, match="infinite"):
        attractor_figure(curve(), diverged)


def test_principal_components_recover_axes():
    """Data spread mostly along e1 and less along e2: the first axes are ±e1 and ±e2, signs fixed positive."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(5000, 4)) * np.array([10.0, 3.0, 0.1, 0.1])
    mean, axes, explained = principal_components(data, 2)
    np.testing.assert_allclose(np.abs(axes[0]), [1, 0, 0, 0], atol=0.01)
    np.testing.assert_allclose(np.abs(axes[1]), [0, 1, 0, 0], atol=0.01)
    assert axes[0, 0] > 0
    assert explained[0] == pytest.approx(100 / 109.02, abs=0.01)


def test_projection_applies_data_components_to_free_run():
    data = curve(n_variables=5)
    projection = projection_for(data)
    shifted = projection.apply(data + 1.0)
    np.testing.assert_allclose(shifted - projection.apply(data), np.tile(projection.components.sum(axis=1), (len(data), 1)))


def test_decorrelation_delay_of_sine():
    """The autocorrelation of a sampled sine is cos(ω τ), which falls below 1/e at ω τ = arccos(1/e) ≈ 1.19."""
    series = np.sin(0.01 * np.arange(20000))
    assert decorrelation_delay(series) == pytest.approx(119, abs=2)


def test_time_series_axes_in_time_units(tmp_path):
    figure = time_series_figure(curve(), curve(phase=0.2), dt=0.01, time_unit="s", variables=("a", "b", "c"),
                                units=("mV", "", ""), window=1000, n_variables=2)
    assert len(figure.axes) == 2
    assert figure.axes[-1].get_xlabel() == "time (s)"
    assert figure.axes[0].get_ylabel() == "a (mV)"
    assert figure.axes[0].get_xlim() == pytest.approx((0.0, 9.99))
    assert len(figure.axes[0].get_legend().get_texts()) == 2
    assert "1 more variable not shown" in figure.get_suptitle()
    render(figure, tmp_path / "time_series.png")


def test_time_series_growing_free_run_noted():
    data = curve(1000, 2)
    growing = data * np.exp(0.01 * np.arange(1000))[:, None]
    figure = time_series_figure(data, growing, dt=0.01)
    low, high = figure.axes[0].get_ylim()
    assert high - low < 3.5 * (data[:, 0].max() - data[:, 0].min())
    assert any("leaves the axes" in text.get_text() for text in figure.axes[0].texts)


def test_time_series_of_a_map_in_steps():
    figure = time_series_figure(curve(dt=1.0), curve(dt=1.0, phase=0.1), dt=1.0)
    assert figure.axes[-1].get_xlabel() == "time (steps)"


def test_power_spectrum_peaks_at_known_frequencies(tmp_path):
    """Variable i of the test curve oscillates at (i + 1) / 2π cycles per time unit; the plotted data peaks there."""
    figure = power_spectrum_figure(curve(20000), curve(20000, phase=1.0), dt=0.01, time_unit="time units",
                                   smoothing_sigma=2.0)
    assert len(figure.axes) == 3
    for index, axes in enumerate(figure.axes):
        assert axes.get_yscale() == "log"
        assert axes.get_xlabel() == "frequency (cycles per time unit)"
        frequencies, power = axes.lines[0].get_data()
        assert frequencies[np.argmax(power)] == pytest.approx((index + 1) / (2 * np.pi), abs=0.02)
    assert figure.axes[0].get_legend() is not None
    render(figure, tmp_path / "spectrum.png")


def test_power_spectrum_frequency_limit():
    figure = power_spectrum_figure(curve(), curve(phase=1.0), dt=0.01, max_frequency=2.0)
    assert figure.axes[0].get_xlim() == (0.0, 2.0)
    with pytest.raises(InputError, match="maximum frequency"):
        power_spectrum_figure(curve(), curve(), dt=0.01, max_frequency=0.0)


def test_power_spectrum_of_constant_free_run():
    """A free run resting on a fixed point has constant variables; their panels say so instead of failing."""
    data = curve(n_variables=2)
    fixed_point = np.column_stack([data[:, 0], np.full(len(data), 0.3)])
    figure = power_spectrum_figure(data, fixed_point, dt=0.01)
    assert [text.get_text() for text in figure.axes[1].texts] == ["free run constant: no spectrum"]
    assert len(figure.axes[0].texts) == 0


def history(epochs=40):
    epoch = np.arange(1, epochs + 1, dtype=float)
    validation = np.full(epochs, np.nan)
    validation[9::10] = [0.5, 0.2, 0.1, 0.15][: len(validation[9::10])]
    return {"epoch": epoch, "loss": 1.0 / epoch, "alpha": np.linspace(0.0, 0.3, epochs),
            "learning_rate": 1e-3 * 0.9**epoch, "validation": validation}


def test_training_curves_mark_best_epoch(tmp_path):
    figure = training_curves_figure(history(), "dstsp", best_epoch=30, subtitle="run r1")
    loss_axes, validation_axes, alpha_axes, rate_axes = figure.axes
    assert loss_axes.get_yscale() == "log"
    assert validation_axes.get_ylabel() == "D_stsp (nats)"
    assert "best, epoch 30" in [text.get_text() for text in validation_axes.get_legend().get_texts()]
    assert rate_axes.get_xlabel() == "epoch"
    assert alpha_axes.get_ylim()[0] == 0.0
    render(figure, tmp_path / "training.png")


def test_training_curves_without_validation_or_epochs():
    values = history(5)
    figure = training_curves_figure(values, best_epoch=-1)
    assert "no validation yet" in [text.get_text() for text in figure.axes[1].texts]
    with pytest.raises(InputError, match="no epoch"):
        training_curves_figure({"epoch": np.zeros(0)})


def test_lyapunov_convergence_lines_and_reference(tmp_path):
    running = np.array([[1.0, 0.1, -14.0], [0.95, 0.02, -14.5], [0.91, 0.0, -14.6]])
    figure = lyapunov_convergence_figure(running, np.array([10.0, 20.0, 30.0]), "time units", 0.01, n_exponents=2,
                                         data_lambda1=0.9)
    spectrum_axes, leading_axes = figure.axes
    labels = [text.get_text() for text in spectrum_axes.get_legend().get_texts()]
    assert labels == ["λ1 → 0.91 per time unit", "λ2 → 0 per time unit"]
    leading_labels = [text.get_text() for text in leading_axes.get_legend().get_texts()]
    assert leading_labels[1] == "λ1 of the data (Rosenstein) = 0.9"
    assert spectrum_axes.get_xlabel() == "averaging time (time units)"
    assert "largest 2 of 3" in figure.get_suptitle()
    render(figure, tmp_path / "lyapunov.png")


def test_lyapunov_convergence_rejects_mismatched_times():
    with pytest.raises(InputError, match="one time per block"):
        lyapunov_convergence_figure(np.zeros((3, 2)), np.zeros(4))


def test_subregion_colours_rank_by_visits():
    visits = np.array([5, 0, 50, 7])
    colours, own = subregion_colours(visits)
    assert own.tolist() == [True, False, True, True]
    palette_first = colours[2]
    assert tuple(palette_first) != OTHER_COLOUR
    many = np.arange(1, 31)
    colours, own = subregion_colours(many, max_colours=20)
    assert own.sum() == 19
    assert not own[:11].any()
    assert tuple(colours[0]) == OTHER_COLOUR


def test_display_labels_number_long_bit_strings():
    assert display_labels(("01", "11")) == (("01", "11"), False)
    assert display_labels(("0" * 13, "1" * 13)) == (("#0", "#1"), True)


def test_subregion_figure_legend_lists_visited_subregions(tmp_path):
    points = curve(2000)
    symbols = (points[:, 0] > 0).astype(int) + 2 * (points[:, 1] > 0.1)
    figure = subregion_attractor_figure(points, symbols, ("00", "01", "10", "11"), variables=("x", "y", "z"))
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert len(labels) == 4
    assert all(label.split(":")[0] in ("00", "01", "10", "11") for label in labels)
    assert "4 subregions" in figure.get_suptitle()
    render(figure, tmp_path / "subregions.png")


def test_subregion_figure_rejects_unknown_symbols():
    with pytest.raises(InputError, match="one per label"):
        subregion_attractor_figure(curve(100), np.full(100, 3), ("0", "1"))


def symbol_sequence(n_steps=3000, seed=0):
    """A three-subregion cycle 00 -> 01 -> 11 -> 00 with random dwell times, and a rare excursion to 10."""
    rng = np.random.default_rng(seed)
    cycle = [np.array([0, 0]), np.array([0, 1]), np.array([1, 1])]
    patterns, position = [], 0
    while len(patterns) < n_steps:
        patterns.extend([cycle[position % 3]] * int(rng.integers(1, 6)))
        if rng.random() < 0.05:
            patterns.append(np.array([1, 0]))
        position += 1
    return SymbolSequence.from_patterns([np.array(patterns[:n_steps], dtype=bool)])


def test_transition_graph_figure_nodes_and_edges(tmp_path):
    graph = transition_graph(symbol_sequence())
    figure = transition_graph_figure(graph, subtitle="run r1")
    axes = figure.axes[0]
    circles = [patch for patch in axes.patches if isinstance(patch, Circle)]
    arrows = [patch for patch in axes.patches if isinstance(patch, FancyArrowPatch)]
    assert len(circles) == 4
    expected_edges = np.count_nonzero(graph.probabilities_without_self > 0.01)
    assert len(arrows) == expected_edges
    texts = [text.get_text() for text in axes.texts]
    assert any(text.startswith("00\n") for text in texts)
    assert any("Arrow i → j" in text.get_text() for text in figure.texts)
    render(figure, tmp_path / "graph.png")


def test_transition_graph_figure_caps_nodes():
    graph = transition_graph(symbol_sequence())
    figure = transition_graph_figure(graph, max_nodes=2)
    circles = [patch for patch in figure.axes[0].patches if isinstance(patch, Circle)]
    assert len(circles) == 2
    assert any("the 2 most visited are shown" in text.get_text() for text in figure.texts)


def test_transition_graph_single_subregion():
    graph = transition_graph(SymbolSequence.from_patterns([np.zeros((50, 2), dtype=bool)]))
    figure = transition_graph_figure(graph)
    assert any("never leaves" in text.get_text() for text in figure.texts)
