"""MixER run folders: training, the documented format, loading, baselines and adaptation."""

import re

import numpy as np
import pytest
import torch

from dsr.errors import InputError, OutputExistsError, TrainingInterrupted
from dsr.mixer import MixerConfig, adapt_context, load_mixer_run, new_environment, store_adaptation, train_mixer_run
from dsr.models import ShallowPLRNN
from dsr.runs import load_run
from tests.format_walk import documented_names, written_names

TINY = dict(outer_steps=3, gate_warmup=1, context_steps=2, model_steps=2, hidden_dim=6, sequence_length=10,
            batch_size=3, gate_batch_size=2, environments_per_batch=2, validation_interval=2, checkpoint_interval=2,
            validation_horizon=5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, datasets):
    folder = tmp_path_factory.mktemp("runs") / "family"
    summary = train_mixer_run([datasets[0]], folder, MixerConfig(**TINY))
    return folder, summary


def test_training_summary(trained):
    folder, summary = trained
    assert summary.outer_steps == 3
    assert len(summary.environments) == 4
    assert len(summary.routing) == 4
    assert set(summary.routing) <= {0, 1}


def test_run_file_fully_documented(trained):
    """Every group, dataset and attribute of a MixER run.h5 is in docs/formats.md (parameter names folded)."""
    folder, _ = trained
    names = {re.sub(r"^/experts/<index>/.+$", "/experts/<index>/<parameter>", name)
             for name in written_names(folder / "run.h5", json_attributes=())}
    undocumented = names - documented_names()
    assert not undocumented, f"written but not in docs/formats.md: {sorted(undocumented)}"


def test_loaded_run_has_histories(trained):
    folder, _ = trained
    run = load_mixer_run(folder)
    assert run.status == "completed"
    assert [r.kind for r in run.environments] == ["training"] * 4
    routing = run.routing_history
    # Outer step 1 is the warm-up (one record), then a gate update after each of 2 × 4 inner steps.
    assert routing["routing"].shape == (1 + 8, 4)
    assert routing["assignment"].shape == (1 + 8, 2)
    np.testing.assert_array_equal(routing["routing"][0], 0)
    np.testing.assert_array_equal(routing["routing"][-1], [r.expert for r in run.environments])
    assert run.curves["loss_matrix"].shape == (3, 4, 2)
    assert run.curves["contexts"].shape == (3, 4, 4)
    assert run.curves["validation"].shape == (2, 4)


def test_environment_model_is_ordinary(trained):
    folder, _ = trained
    run = load_mixer_run(folder)
    name = run.names[2]
    model = run.environment_model(name)
    assert isinstance(model, ShallowPLRNN)
    environment_run = run.environment_run(name)
    assert environment_run.model.hidden_dim == 6
    assert environment_run.load_dataset().name == name


def test_load_run_rejects_mixer_run(trained):
    with pytest.raises(InputError, match="MixER run.*--environment"):
        load_run(trained[0])


def test_existing_run_not_overwritten(trained, datasets):
    with pytest.raises(OutputExistsError, match="--force"):
        train_mixer_run([datasets[0]], trained[0], MixerConfig(**TINY))


@pytest.mark.parametrize("options", [{"gate": "naive"}, {"experts": 1}])
def test_baselines_train(tmp_path, datasets, options):
    summary = train_mixer_run([datasets[0]], tmp_path / "run", MixerConfig(**{**TINY, **options}))
    run = load_mixer_run(tmp_path / "run")
    assert run.routing_history["routing"].shape == (3, 4), "one routing record per outer step"
    if options.get("experts") == 1:
        assert summary.routing == [0, 0, 0, 0]


def test_more_experts_than_environments(tmp_path, datasets):
    with pytest.raises(InputError, match="at least 5 environments"):
        train_mixer_run([datasets[0]], tmp_path / "run", MixerConfig(**{**TINY, "experts": 5}))


def test_adaptation_is_stored_as_environment(tmp_path, trained, datasets):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(trained[0], folder)
    run = load_mixer_run(folder)
    environment = new_environment(run, datasets[1], name="new")
    adaptation = adapt_context(run, environment, steps=5)
    routed = run.gate.route(torch.as_tensor(adaptation.context[None], dtype=torch.float32))
    assert adaptation.expert == int(routed[0])
    assert adaptation.start in ["zero", *run.names]
    assert len(adaptation.loss_curve) == 5
    store_adaptation(run, adaptation, 5, 1e-2)

    reloaded = load_mixer_run(folder)
    record = reloaded.environment("new")
    assert record.kind == "adapted"
    assert record.expert == adaptation.expert
    np.testing.assert_allclose(record.context, adaptation.context)
    with pytest.raises(OutputExistsError, match="--force"):
        new_environment(reloaded, datasets[1], name="new")
    with pytest.raises(OutputExistsError, match="training environment"):
        new_environment(reloaded, datasets[1], name=reloaded.names[0])


def test_free_run_scores_fixed_point(tmp_path, datasets):
    """A free run that reaches a fixed point exactly gets D_H = 1 and a finite D_stsp instead of an error."""
    from dsr.data.dataset import read_dataset
    from dsr.mixer.evaluation import free_run_scores
    from dsr.models import ALRNN
    from dsr.runs.evaluation import EvaluationOptions
    from dsr.runs.run import Run
    from dsr.training import TrainConfig

    model = ALRNN(3, 3, 0)
    with torch.no_grad():
        model.A.zero_()
        model.W.zero_()
        model.h.copy_(torch.tensor([0.1, -0.2, 0.3]))
    dataset = read_dataset(sorted(datasets[0].glob("*.h5"))[0])
    run = Run(folder=tmp_path, config=TrainConfig(), model_config=model.config(),
              dataset_info={"mean": dataset.mean, "std": dataset.std}, status="completed", history={}, model=model,
              which="latest", best_epoch=-1)

    scores = free_run_scores(run, dataset, "test", EvaluationOptions(transient=5, data_lyapunov_points=0))

    assert scores.dh == 1.0
    assert np.isfinite(scores.dstsp)
    assert np.isfinite(scores.dh_floor)
    assert "fixed point" in scores.notes[-1]


def test_resume_equals_uninterrupted(tmp_path, datasets):
    """A run interrupted in outer step 2 and resumed ends exactly as one that ran its 3 steps at once."""
    uninterrupted = tmp_path / "whole"
    train_mixer_run([datasets[0]], uninterrupted, MixerConfig(**TINY))

    def interrupt_in_step_two(trainer, record):
        if record["outer_step"] == 2:
            raise KeyboardInterrupt

    stopped = tmp_path / "stopped"
    with pytest.raises(TrainingInterrupted):
        train_mixer_run([datasets[0]], stopped, MixerConfig(**TINY), on_outer_step=interrupt_in_step_two)
    assert load_mixer_run(stopped).status == "interrupted"
    assert load_mixer_run(stopped).attributes["outer_step"] == 1

    summary = train_mixer_run([datasets[0]], stopped, resume=True)

    assert summary.outer_steps == 3
    whole, resumed = load_mixer_run(uninterrupted), load_mixer_run(stopped)
    assert resumed.status == "completed"
    np.testing.assert_array_equal(resumed.curves["loss"], whole.curves["loss"])
    np.testing.assert_array_equal(resumed.curves["contexts"], whole.curves["contexts"])
    np.testing.assert_array_equal(resumed.curves["validation"], whole.curves["validation"])
    np.testing.assert_array_equal(resumed.routing_history["routing"], whole.routing_history["routing"])
    np.testing.assert_array_equal(resumed.gate.weight.detach(), whole.gate.weight.detach())
    for resumed_expert, whole_expert in zip(resumed.experts, whole.experts):
        for name, value in whole_expert.state_dict().items():
            torch.testing.assert_close(resumed_expert.state_dict()[name], value, rtol=0, atol=0)


def test_resume_completed_run_trains_nothing(trained, datasets):
    folder, summary = trained

    again = train_mixer_run([datasets[0]], folder, resume=True)

    assert again.outer_steps == summary.outer_steps
    assert again.routing == summary.routing


def test_resume_rejects_other_datasets(tmp_path, datasets):
    folder = tmp_path / "run"
    train_mixer_run([datasets[0]], folder, MixerConfig(**{**TINY, "outer_steps": 1}))

    reordered = sorted(datasets[0].glob("*.h5"), reverse=True)
    replaced = [*sorted(datasets[0].glob("*.h5"))[:3], datasets[1]]

    with pytest.raises(InputError, match="not the ones this run was trained on"):
        train_mixer_run(reordered, folder, resume=True)
    with pytest.raises(InputError, match="not the ones this run was trained on"):
        train_mixer_run(replaced, folder, resume=True)


def test_resume_rejects_changed_options(trained, datasets):
    folder, _ = trained

    with pytest.raises(InputError, match="outer_steps: stored 3, given 5"):
        train_mixer_run([datasets[0]], folder, MixerConfig(**{**TINY, "outer_steps": 5}), resume=True)


def test_phase_without_steps_is_no_divergence(tmp_path, datasets):
    """With context_steps = 0 the context loss is NaN by construction, and training still completes."""
    summary = train_mixer_run([datasets[0]], tmp_path / "run", MixerConfig(**{**TINY, "context_steps": 0}))

    assert summary.outer_steps == 3
    assert all(np.isfinite(summary.final_loss))
