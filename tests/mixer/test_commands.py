"""The MixER commands: dsr train --model mixer, dsr adapt, and dsr evaluate with --environment."""

import json
import re

import h5py

from tests.format_walk import documented_names, written_names


def test_train_evaluate_adapt_commands(tmp_path, datasets, dsr_cli):
    folder = tmp_path / "run"
    result = dsr_cli("train", "--model", "mixer", datasets[0], "-o", folder, "--epochs", "2", "--experts", "2",
                     "--context-dim", "3", "--hidden", "6", "--sequence-length", "10", "--batch-size", "3",
                     "--mixer-option", "gate_warmup=1", "--mixer-option", "context_steps=1",
                     "--mixer-option", "model_steps=1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outer_steps"] == 2

    result = dsr_cli("adapt", folder, datasets[1], "--name", "new", "--steps", "3", "--json")
    assert result.exit_code == 0, result.stderr
    adapted = json.loads(result.stdout)
    assert adapted["environment"] == "new"
    assert adapted["expert"] in (0, 1)

    quick = ("--transient", "10", "--lyapunov-steps", "200", "--rosenstein-points", "0", "--horizon", "5",
             "--dh-length", "50")
    result = dsr_cli("evaluate", folder, *quick, "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["environments"]
    assert [row["environment"] for row in rows][-1] == "new"
    assert len(rows) == 5

    result = dsr_cli("evaluate", folder, *quick, "--environment", "new", "--json")
    assert result.exit_code == 0, result.stderr
    with h5py.File(folder / "run.h5", "r") as handle:
        assert "metrics" in handle["adaptations/0000"]
        assert "metrics" in handle["environments/0000"]
    # Adaptations and per-environment metrics are documented too; the metrics
    # groups have the layout of a single run's /metrics.
    names = {re.sub(r"^/experts/<index>/.+$", "/experts/<index>/<parameter>", name)
             for name in written_names(folder / "run.h5", json_attributes=())}
    names = {re.sub(r"^/(environments|adaptations)/<index>/metrics", "/metrics", name) for name in names}
    undocumented = names - documented_names()
    assert not undocumented, f"written but not in docs/formats.md: {sorted(undocumented)}"

    result = dsr_cli("evaluate", folder, *quick, "--environment", "missing")
    assert result.exit_code == 2
    assert "no environment called 'missing'" in result.stderr


def test_bad_mixer_option(tmp_path, datasets, dsr_cli):
    result = dsr_cli("train", "--model", "mixer", datasets[0], "-o", tmp_path / "run", "--mixer-option", "warmup=3")
    assert result.exit_code == 2
    assert "gate_warmup" in result.stderr
    result = dsr_cli("train", "--model", "mixer", datasets[0], "-o", tmp_path / "run", "--batches-per-epoch", "3")
    assert result.exit_code == 2
    assert "does not apply to --model mixer" in result.stderr


def test_resume_command(tmp_path, datasets, dsr_cli):
    """--resume finds the MixER run without --model or data and checks changed options; dsr info summarises the run."""
    folder = tmp_path / "run"
    options = ("--epochs", "2", "--experts", "2", "--context-dim", "3", "--hidden", "6", "--sequence-length", "10",
               "--batch-size", "3", "--mixer-option", "gate_warmup=1", "--mixer-option", "context_steps=1",
               "--mixer-option", "model_steps=1", "--json")
    assert dsr_cli("train", "--model", "mixer", datasets[0], "-o", folder, *options).exit_code == 0

    resumed = dsr_cli("train", "-o", folder, "--resume", "--json")
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["outer_steps"] == 2

    info = dsr_cli("info", folder, "--json")
    assert info.exit_code == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["format"] == "dsr-mixer-run"
    assert summary["outer_steps_done"] == 2
    assert len(summary["environments"]) == 4
    assert "MixER run" in dsr_cli("info", folder).stdout

    changed = dsr_cli("train", datasets[0], "-o", folder, "--resume", "--epochs", "4")
    assert changed.exit_code == 2
    assert "outer_steps: stored 2, given 4" in changed.stderr

    wrong_model = dsr_cli("train", "-o", folder, "--resume", "--model", "alrnn")
    assert wrong_model.exit_code == 2
    assert "a MixER run, but --model alrnn was given" in wrong_model.stderr

    wrong_data = dsr_cli("train", sorted(datasets[0].glob("*.h5"))[0], "-o", folder, "--resume")
    assert wrong_data.exit_code == 2
    assert "not the ones this run was trained on" in wrong_data.stderr

    both = dsr_cli("train", datasets[0], "-o", folder, "--resume", "--force", "--model", "mixer")
    assert both.exit_code == 2
    assert "contradict" in both.stderr
