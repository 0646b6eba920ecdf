"""One contract, every domain (in the spirit of implicit's shared recommender tests).

Each test runs for all four domains on their tiny recipes: training moves the loss, metrics.json
holds the declared systems with the primary metric, the saved model reproduces the reported
metrics, ``suite eval`` reproduces metrics.json, predictions survive loading, LoRA trains a small
share of the weights and saves its adapter, and an interrupted run resumes from its checkpoint.
A fifth domain joins by adding a row to tests/domain_cases.py.
"""

import json
import shutil

import numpy as np
import pytest
from domain_cases import DOMAINS as CASES

import suite
from suite.core import registry
from suite.core.results import BASELINE, TUNED, RunResult

DOMAINS = list(CASES)

pytestmark = pytest.mark.slow


def _numbers(values: dict) -> dict:
    return {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@pytest.mark.parametrize("domain", DOMAINS)
def test_tiny_run_trains_and_the_loss_falls(domain, tiny_runs):
    history = json.loads((tiny_runs(domain).path / "logs" / "log_history.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) >= 4
    assert np.mean(losses[-2:]) < 0.85 * np.mean(losses[:2]), losses


@pytest.mark.parametrize("domain", DOMAINS)
def test_metrics_json_holds_the_tuned_model_and_every_declared_baseline(domain, tiny_runs):
    run = tiny_runs(domain)
    result = RunResult.from_json(run.metrics())
    definition = registry.get_domain(domain)
    recipe = run.recipe()
    assert result.domain == domain and result.primary_metric == definition.primary_metric
    assert result.systems[TUNED].role == TUNED
    assert {s.name for s in result.by_role(BASELINE)} == {f"baseline:{b}" for b in recipe.evaluation.baselines}
    for system in result.systems.values():
        assert isinstance(system.metrics[result.primary_metric], float), system.name
    assert result.headline_metrics[0] == result.primary_metric
    assert result.inference.per_second > 0 and result.inference.unit == definition.example_unit
    assert result.training["steps"] > 0 and result.training["trainable_parameters"] > 0


@pytest.mark.parametrize("domain", DOMAINS)
def test_run_folder_is_self_describing(domain, tiny_runs):
    path = tiny_runs(domain).path
    for name in ("recipe.yaml", "environment.json", "README.md", "metrics.json", "model/suite.json",
                 "logs/metrics.csv", "logs/log_history.json", "plots/learning_curves.png"):
        assert (path / name).is_file(), name
    card = (path / "README.md").read_text(encoding="utf-8")
    assert "| tuned |" in card and "## Evaluation" in card
    environment = json.loads((path / "environment.json").read_text())
    assert environment["seed"] == 0 and "torch" in environment["packages"]
    assert not list(path.glob("**/*.tmp")) and not (path / "model.partial").exists()


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_saved_model_reproduces_the_reported_metrics(domain, tiny_runs):
    """load -> score the test split again -> the same tuned metrics as metrics.json."""
    run = tiny_runs(domain)
    definition, recipe = registry.get_domain(domain), run.recipe()
    data = definition.prepare_data(recipe)
    predictor = suite.load(run.path)
    outputs = {TUNED: definition.outputs(predictor, recipe, data)}
    again = definition.report(recipe, data, outputs, predictor=predictor, plots_dir=None).metrics[TUNED]
    reported = _numbers(run.metrics()["models"][TUNED])
    for selection in ("validation_score", "validation_log_loss"):      # the pipeline's selection figures,
        reported.pop(selection, None)                                   # not the domain's report
    assert _numbers(again) == pytest.approx(reported, abs=1e-9)


@pytest.mark.parametrize("domain", DOMAINS)
def test_suite_eval_reproduces_metrics_json(domain, tiny_runs):
    run = tiny_runs(domain)
    again = suite.evaluate(run.path)
    original = run.metrics()
    assert set(again["models"]) == set(original["models"])
    primary = original["primary_metric"]
    for system, values in original["models"].items():
        assert again["models"][system][primary] == pytest.approx(values[primary], abs=1e-9), system
    assert again["evaluated_on"] == "test split"
    assert list((run.path / "evaluations").glob("*.json"))
    assert run.metrics() == original                  # the run's own files are never changed


@pytest.mark.parametrize("domain", DOMAINS)
def test_predictions_survive_loading(domain, tiny_runs):
    inputs = CASES[domain].inputs()
    first = suite.load(tiny_runs(domain).path).predict(inputs)
    second = suite.load(tiny_runs(domain).path).predict(inputs)
    assert len(first) == len(inputs) and all(isinstance(p, dict) for p in first)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


@pytest.mark.parametrize("domain", DOMAINS)
def test_lora_trains_a_small_share_and_saves_its_adapter(domain, tmp_path):
    extra = {"data__cache_dir": str(tmp_path)} if domain == "diagnostics" else {}
    run = suite.tune(f"{domain}/tiny", lora__enabled=True, output__runs_dir=str(tmp_path),
                     output__name=f"{domain}-tiny-lora", **extra)
    training = run.metrics()["training"]
    assert training["trainable_parameters"] < 0.1 * training["total_parameters"]
    adapter = run.path / "model" / "adapter"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    from safetensors import safe_open

    weights = list((run.path / "model").glob("*.safetensors"))
    assert weights and not any("lora_" in key for file in weights for key in safe_open(str(file), "pt").keys())
    assert len(suite.load(run.path).predict(CASES[domain].inputs())) == len(CASES[domain].inputs())
    primary = run.metrics()["primary_metric"]                   # the merged weights are what was measured
    assert suite.evaluate(run.path)["models"][TUNED][primary] == pytest.approx(
        run.metrics()["models"][TUNED][primary], abs=1e-9)


@pytest.mark.parametrize("domain", DOMAINS)
def test_an_interrupted_run_resumes_from_its_checkpoint(domain, tiny_runs, tmp_path):
    """A copy that lost its metrics, its model and its last checkpoint resumes from the one before."""
    run = tiny_runs(domain)
    copy = tmp_path / "interrupted"
    shutil.copytree(run.path, copy)
    (copy / "metrics.json").unlink()
    shutil.rmtree(copy / "model")
    checkpoints = sorted(copy.glob("checkpoints/checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert len(checkpoints) >= 2                       # one per epoch
    shutil.rmtree(checkpoints[-1])
    resumed = suite.resume(copy).metrics()
    assert resumed["training"]["resumed_from"] == f"checkpoints/{checkpoints[-2].name}"
    assert resumed["training"]["steps"] == run.metrics()["training"]["steps"]
    primary = resumed["primary_metric"]
    assert isinstance(resumed["models"][TUNED][primary], float)
