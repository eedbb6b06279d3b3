"""Symbolic analysis of a run folder: the protocol on a known model, run.h5 storage, GraphML and the command."""

import dataclasses
import json
import xml.etree.ElementTree as ElementTree

import h5py
import numpy as np
import pytest

from dsr.analysis.lozi import lozi_alrnn
from dsr.data.dataset import write_dataset
from dsr.data.simulated import simulate_dataset
from dsr.errors import InputError, NumericalError
from dsr.models import ALRNN
from dsr.runs import load_run, train_run
from dsr.runs.symbolic import SymbolicOptions, analyze_run_symbolic, store_symbolic
from dsr.training import TrainConfig
from tests.format_walk import documented_names, written_names

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run trained for 1 epoch on the Lozi map (M = 6, P = 3): enough for the plumbing, not for good dynamics."""
    folder = tmp_path_factory.mktemp("symbolic")
    write_dataset(simulate_dataset("lozi", 2000), folder / "lozi.h5")
    config = TrainConfig(epochs=1, batches_per_epoch=2, batch_size=4, sequence_length=20, latent_dim=6, n_relu=3)
    train_run(folder / "lozi.h5", folder / "run", config)
    return folder / "run"


def _lozi_run(tiny_run, n_samples: int = 20_000):
    """The tiny run with its model replaced by the exact Lozi AL-RNN and no normalisation, with raw Lozi data."""
    run = load_run(tiny_run)
    run = dataclasses.replace(run, model=lozi_alrnn(), dataset_info={**run.dataset_info, "mean": np.zeros(2), "std": np.ones(2)})
    dataset = simulate_dataset("lozi", n_samples, standardize=False)
    return run, dataset


def test_lozi_run_protocol(tiny_run):
    """The Lozi AL-RNN against Lozi data: same sign code, the known fixed points, and its 2- and 4-cycle.

    Exhaustive search over the 4 subregions finds 1 cycle of period 2, none
    of period 3 and 1 of period 4, as the cycle tests establish. The visit and
    transition distances are sampling noise of 2·10^4 data samples and 2·10^4
    free-run steps, below 0.03.
    """
    run, dataset = _lozi_run(tiny_run)
    options = SymbolicOptions(steps=20_000, transient=200, inference="initial", data_transient=0, max_word_length=6)
    result = analyze_run_symbolic(run, dataset, "all", options)

    comparison = result.comparison
    assert comparison.alphabet.labels == ("01", "10")
    assert comparison.visit_total_variation < 0.03
    assert comparison.transition_total_variation < 0.03
    assert result.fixed_points.complete
    assert [point.label for point in result.fixed_points.real] == ["01", "10"]
    assert result.cycles.complete
    assert [cycle.period for cycle in result.cycles.cycles] == [2, 4]
    assert result.protocol["candidate_subregions"] == "all"
    assert result.protocol["inference"] == "initial"


def test_lozi_forced_inference_fails_clearly(tiny_run):
    """The Lozi AL-RNN's hidden units do not follow forced data; without restarts the error names the alternatives."""
    run, dataset = _lozi_run(tiny_run, n_samples=5000)
    with pytest.raises(NumericalError, match="Restart the forced run more often.*inference='initial'"):
        analyze_run_symbolic(run, dataset, "all", SymbolicOptions(steps=100, transient=0, restart_interval=0))


def test_forced_inference_restarts_stay_finite(tiny_run):
    """Restarting every 20 samples bounds the drift (1.7^20 is finite), so the same analysis completes."""
    run, dataset = _lozi_run(tiny_run, n_samples=5000)
    result = analyze_run_symbolic(run, dataset, "all", SymbolicOptions(steps=100, transient=0, restart_interval=20))
    assert result.protocol["restart_interval"] == 20


def test_linear_model_rejected(tiny_run):
    run = dataclasses.replace(load_run(tiny_run), model=ALRNN(2, 4, 0))
    with pytest.raises(InputError, match="no ReLU units"):
        analyze_run_symbolic(run, simulate_dataset("lozi", 500), "test", SymbolicOptions(steps=100))


def test_store_writes_documented_group(tiny_run):
    """Everything written under /symbolic is documented in docs/formats.md, and the stored numbers read back."""
    run, dataset = _lozi_run(tiny_run)
    options = SymbolicOptions(steps=5000, transient=100, inference="initial", max_word_length=4, max_period=3)
    result = analyze_run_symbolic(run, dataset, "all", options)
    store_symbolic(run, result)

    undocumented = written_names(tiny_run / "run.h5", json_attributes=()) - documented_names()
    assert not undocumented, f"written but not in docs/formats.md: {sorted(undocumented)}"
    with h5py.File(tiny_run / "run.h5", "r") as handle:
        group = handle["symbolic"]
        assert [label.decode() for label in group["labels"][()]] == ["01", "10"]
        np.testing.assert_array_equal(group["natural_codes"][()], [1, 2])
        assert group["model"].attrs["entropy_rate"] == pytest.approx(result.comparison.model.entropy_rate)
        transitions = group["data/transitions"][()]
        np.testing.assert_array_equal(transitions[:, 2], result.comparison.data.graph.counts[transitions[:, 0], transitions[:, 1]])
        assert group["cycles/offsets"][-1] == len(group["cycles/points"])
        assert json.loads(group.attrs["protocol"])["steps"] == 5000


def test_command_json_and_graphml(tiny_run, dsr_cli):
    """dsr symbolize --json on a trained run: exit 0, both summaries, and GraphML files that parse."""
    result = dsr_cli("symbolize", tiny_run, "--steps", "3000", "--transient", "100", "--word-length", "4",
                     "--max-period", "3", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["n_switches"] == 3
    assert payload["model"]["symbols"] == 3000
    assert len(payload["data"]["block_entropies"]) == 4
    assert payload["protocol"]["part"] == "test"
    assert payload["cycles"]["orders"] == [2, 3]
    for source in ("model", "data"):
        root = ElementTree.parse(payload["files"][f"graphml_{source}"]).getroot()
        nodes = list(root.iter(f"{GRAPHML}node"))
        assert len(nodes) == payload[source]["visited"]


def test_command_writes_figures(tiny_run, dsr_cli):
    pytest.importorskip("dsr.plotting.run_figures")
    result = dsr_cli("symbolize", tiny_run, "--steps", "2000", "--transient", "100", "--word-length", "3",
                     "--max-period", "2", "--no-graphml", "--figures", "--json")
    assert result.exit_code == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    assert set(files) == {"figure_subregions", "figure_transition_graph"}
    for path in files.values():
        assert (tiny_run / "figures" / path.split("/")[-1]).stat().st_size > 0


def test_command_tables(tiny_run, dsr_cli):
    result = dsr_cli("symbolize", tiny_run, "--steps", "2000", "--transient", "100", "--word-length", "3",
                     "--max-period", "2", "--no-graphml")
    assert result.exit_code == 0, result.stderr
    assert "Model against data" in result.stdout
    assert "Real fixed points" in result.stdout


def test_command_rejects_bad_option(tiny_run, dsr_cli):
    result = dsr_cli("symbolize", tiny_run, "--inference", "smoothed")
    assert result.exit_code == 2
    assert "inference" in result.stderr


def test_command_help_has_example(dsr_cli):
    result = dsr_cli("symbolize", "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
