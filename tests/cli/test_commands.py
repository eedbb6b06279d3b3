"""The dsr command: help texts, version, exit codes, and the simulate/info/lyapunov acceptance runs."""

import json
import warnings

import pytest

from dsr import __version__

COMMANDS = ["simulate", "lyapunov", "ingest", "info", "train", "generate"]


def test_version(dsr_cli):
    result = dsr_cli("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_a_manual(dsr_cli, command):
    """Every command's help says what it does and shows an example."""
    result = dsr_cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_unknown_option_is_usage_error(dsr_cli):
    result = dsr_cli("simulate", "lorenz63", "--stepz", "10")
    assert result.exit_code == 2


def test_unknown_system_exit_code(dsr_cli):
    result = dsr_cli("simulate", "lorenz", "-o", "never.h5")
    assert result.exit_code == 2
    assert "Known systems" in result.stderr
    assert "Traceback" not in result.stderr


def test_simulate_and_info(tmp_path, dsr_cli):
    """The acceptance run: 100,000 samples of Lorenz-63 at dt 0.01, summarised by dsr info."""
    path = tmp_path / "l63.h5"
    assert dsr_cli("simulate", "lorenz63", "--steps", "100000", "--dt", "0.01", "-o", path).exit_code == 0
    result = dsr_cli("info", path)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "100,000 samples x 3 variables" in text
    assert "dt │ 0.01" in text
    assert "beta=2.66667, rho=28, sigma=10" in text
    assert "dsr simulate lorenz63" in text

    summary = json.loads(dsr_cli("info", path, "--json").stdout)
    assert summary["samples_per_trajectory"] == [100000]
    assert summary["provenance"]["system"] == "lorenz63"


def test_simulate_sweep_writes_family(tmp_path, dsr_cli):
    folder = tmp_path / "family"
    result = dsr_cli("simulate", "lorenz63", "--steps", "200", "--sweep", "rho=24:32:3", "-o", folder, "--json")
    assert result.exit_code == 0
    paths = [item["path"] for item in json.loads(result.stdout)["datasets"]]
    assert [p.rsplit("/", 1)[1] for p in paths] == ["lorenz63_rho=24.h5", "lorenz63_rho=28.h5", "lorenz63_rho=32.h5"]
    again = dsr_cli("simulate", "lorenz63", "--steps", "200", "--sweep", "rho=24:32:3", "-o", folder)
    assert again.exit_code == 2
    assert "--force" in again.stderr


def test_simulate_checks_output_first(tmp_path, dsr_cli, monkeypatch):
    """An existing output is rejected before the simulation runs, which can take minutes."""
    import dsr.data.simulated

    existing = tmp_path / "l63.h5"
    existing.write_bytes(b"keep me")

    def fail(*args, **kwargs):
        raise AssertionError("simulated although the output exists")

    monkeypatch.setattr(dsr.data.simulated, "simulate_dataset", fail)
    result = dsr_cli("simulate", "lorenz63", "--steps", "100", "-o", existing)

    assert result.exit_code == 2
    assert "exists already" in result.stderr
    assert existing.read_bytes() == b"keep me"


def test_interrupt_outside_training_reported(tmp_path, dsr_cli, monkeypatch):
    """Ctrl-C in a command other than the training loop exits with 130, prints "Interrupted." and writes nothing."""
    import dsr.data.simulated

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dsr.data.simulated, "simulate_dataset", interrupt)
    result = dsr_cli("simulate", "lorenz63", "--steps", "100", "-o", tmp_path / "l63.h5")

    assert result.exit_code == 130
    assert "Interrupted." in result.stderr
    assert not (tmp_path / "l63.h5").exists()


def test_evaluate_rejects_zero_starts(tmp_path, dsr_cli):
    result = dsr_cli("evaluate", tmp_path / "run", "--starts", "0")

    assert result.exit_code == 2
    assert "--starts" in result.stderr


def test_simulate_list(dsr_cli):
    result = dsr_cli("simulate", "--list", "--json")
    names = {item["name"] for item in json.loads(result.stdout)["systems"]}
    assert {"lorenz63", "rossler", "lorenz96", "chua", "hindmarsh_rose", "duffing", "van_der_pol", "thomas",
            "halvorsen", "sprott_b", "henon", "logistic"} <= names


def test_params_override_checked(tmp_path, dsr_cli):
    result = dsr_cli("simulate", "lorenz63", "-p", "rho=30,kappa=2", "-o", tmp_path / "x.h5")
    assert result.exit_code == 2
    assert "no parameter 'kappa'" in result.stderr


def test_lyapunov_commands(dsr_cli):
    """Within 2 % of the literature λ1: 0.9056 (Lorenz-63, per time unit) and 0.4192 (Hénon, per iteration).

    Lorenz-63 is averaged over 300 time units to keep the test short; its
    finite-time error there is about 1 %.
    """
    lorenz = json.loads(dsr_cli("lyapunov", "lorenz63", "--time", "300", "--json").stdout)
    assert lorenz["exponents"][0] == pytest.approx(0.9056, rel=0.02)
    henon = json.loads(dsr_cli("lyapunov", "henon", "--json").stdout)
    assert henon["exponents"][0] == pytest.approx(0.4192, rel=0.02)
    assert henon["reference"]["exponents"][0] == 0.4192


def test_nolds_imports():
    """nolds must import on this Python (0.6.2 needs setuptools < 81; 0.6.3 fails on 3.11)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nolds
    assert callable(nolds.lyap_r)


def test_info_on_plain_folder(tmp_path, dsr_cli):
    result = dsr_cli("info", tmp_path)

    assert result.exit_code == 2
    assert "without run.h5" in result.stderr
    assert "give one of its .h5 files" in result.stderr


def test_train_missing_dataset_names_fix(tmp_path, dsr_cli):
    result = dsr_cli("train", tmp_path / "missing.h5", "-o", tmp_path / "run", "--quiet")

    assert result.exit_code == 2
    assert "missing.h5: file not found" in result.stderr
    assert "dsr simulate or dsr ingest" in result.stderr
    assert not (tmp_path / "run").exists()
