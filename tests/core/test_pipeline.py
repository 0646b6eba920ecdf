"""The run sequence of suite.core.pipeline, on a domain the core has never heard of (tests/toy_domain.py).

Seconds long: a 2-D point set and a 4-unit network. It checks what every domain relies on: the order
and products of the sequence (baselines, model, adapters, training, saving, evaluation, report),
the typed result and its metrics.json, LoRA through the one adapter entry, resume, and eval.
"""

import json
import shutil

import numpy as np
import pytest
from toy_domain import TOY

import suite
from suite.core import pipeline, registry
from suite.core.results import BASELINE, TUNED, RunResult


@pytest.fixture(autouse=True)
def toy_domain():
    registry.register(TOY)


def _recipe(tmp_path, **overrides):
    values = {"domain": "toy", "name": "t", "model": {"source": str(tmp_path)},
              "train": {"epochs": 3, "batch_size": 16, "learning_rate": 0.05, "warmup_ratio": 0.0, "logging_steps": 5,
                        "early_stopping_patience": None, "save_total_limit": 5, "keep_checkpoints": True},
              "output": {"runs_dir": str(tmp_path / "runs")}}
    for key, value in overrides.items():
        section, name = key.split(".")
        values.setdefault(section, {})[name] = value
    return values


def test_a_new_domain_runs_the_whole_sequence(tmp_path):
    run = pipeline.tune(_recipe(tmp_path))
    result = RunResult.from_json(run.metrics())
    assert result.domain == "toy" and result.primary_metric == "auc"
    assert result.systems[TUNED].metrics["auc"] > 0.95 > result.systems["baseline:mean"].metrics["auc"]
    assert [s.name for s in result.by_role(BASELINE)] == ["baseline:mean"]
    assert result.inference.unit == "points" and result.inference.per_second > 0
    assert result.training["steps"] == 3 * 15 and result.training["lora"] is False
    card = (run.path / "README.md").read_text()
    assert "## Toy section" in card and "| tuned |" in card
    assert (run.path / "model" / "toy.pt").is_file() and (run.path / "plots" / "learning_curves.png").is_file()
    history = json.loads((run.path / "logs" / "log_history.json").read_text())
    assert [h["eval_auc"] for h in history if "eval_auc" in h][-1] > 0.95


def test_the_learning_rate_scales_reach_the_optimiser(tmp_path):
    run = pipeline.tune(_recipe(tmp_path, **{"train.epochs": 1}))
    state = json.loads((sorted((run.path / "checkpoints").glob("checkpoint-*"))[-1] / "trainer_state.json").read_text())
    assert state["global_step"] == 15
    import torch

    optimizer = torch.load(sorted((run.path / "checkpoints").glob("checkpoint-*"))[-1] / "optimizer.pt",
                           weights_only=True)
    rates = sorted({group["initial_lr"] for group in optimizer["param_groups"]})
    assert rates == pytest.approx([0.05, 0.1])                          # the head learns at 2x (ToyDomain.lr_scale)
    decays = {group["weight_decay"] for group in optimizer["param_groups"]}
    assert decays == {0.0, 0.01}                                          # biases never decay


def test_lora_goes_through_the_one_adapter_entry_and_merges(tmp_path):
    run = pipeline.tune(_recipe(tmp_path, **{"lora.enabled": True, "lora.target_modules": ["hidden"], "lora.r": 2}))
    training = run.metrics()["training"]
    assert training["lora"] is True
    assert training["trainable_parameters"] == 2 * 2 + 4 * 2 + (4 + 1)   # A (2x2), B (4x2) and the full head
    assert (run.path / "model" / "adapter" / "adapter_model.safetensors").is_file()
    checkpoints = sorted((run.path / "checkpoints").glob("checkpoint-*"))
    assert all((c / "adapter_state.safetensors").is_file() for c in checkpoints)
    saved = __import__("torch").load(run.path / "model" / "toy.pt", weights_only=True)
    assert set(saved) == {"hidden.weight", "hidden.bias", "head.weight", "head.bias"}   # merged, plain
    again = suite.evaluate(run.path)
    assert again["models"][TUNED]["auc"] == pytest.approx(run.metrics()["models"][TUNED]["auc"], abs=1e-12)


def test_resume_continues_the_same_run_to_the_same_weights(tmp_path):
    run = pipeline.tune(_recipe(tmp_path, **{"output.name": "whole"}))
    copy = tmp_path / "runs" / "interrupted"
    shutil.copytree(run.path, copy)
    (copy / "metrics.json").unlink()
    shutil.rmtree(copy / "model")
    shutil.rmtree(sorted(copy.glob("checkpoints/checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[-1])
    resumed = pipeline.resume(copy)
    assert resumed.metrics()["training"]["resumed_from"] == "checkpoints/checkpoint-30"
    assert resumed.metrics()["models"][TUNED]["auc"] == pytest.approx(run.metrics()["models"][TUNED]["auc"],
                                                                      abs=1e-9)


def test_eval_on_other_data_writes_beside_the_run_and_changes_nothing(tmp_path):
    run = pipeline.tune(_recipe(tmp_path))
    before = {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()}
    points = tmp_path / "points.json"
    points.write_text(json.dumps(np.zeros((80, 2)).tolist()))
    result = suite.evaluate(run.path, data=str(points))
    assert result["evaluated_on"] == str(points) and set(result["models"]) == {TUNED, "baseline:mean"}
    assert all(p.read_bytes() == content for p, content in before.items())
    assert len(list((run.path / "evaluations").glob("*.json"))) == 1


def test_frozen_weights_stay_as_loaded_while_the_rest_trains(tmp_path):
    import torch
    from safetensors.torch import load_file

    run = pipeline.tune(_recipe(tmp_path, **{"train.frozen": ["hidden"]}))
    assert run.metrics()["training"]["trainable_parameters"] == 4 + 1          # the head only
    first = min((run.path / "checkpoints").glob("checkpoint-*"), key=lambda c: int(c.name.split("-")[1]))
    start = load_file(str(first / "model.safetensors"))
    final = torch.load(run.path / "model" / "toy.pt", weights_only=True)
    assert torch.equal(start["hidden.weight"], final["hidden.weight"])
    assert not torch.equal(start["head.weight"], final["head.weight"])


def test_a_frozen_name_the_model_lacks_fails_before_any_work(tmp_path):
    from suite.core.errors import RecipeError

    with pytest.raises(RecipeError, match="train.frozen: 'encoder' names no parameter of this model"):
        pipeline.tune(_recipe(tmp_path, **{"train.frozen": ["encoder"]}))
    assert not any((tmp_path / "runs").glob("*/model"))


def test_an_untuned_share_mixes_the_loaded_weights_back_in_and_leaves_the_new_head_as_tuned(tmp_path):
    import torch
    from safetensors.torch import load_file

    tuned = torch.load(pipeline.tune(_recipe(tmp_path, **{"output.name": "plain"})).path / "model" / "toy.pt",
                       weights_only=True)
    run = pipeline.tune(_recipe(tmp_path, **{"output.name": "mixed", "train.untuned_share": 0.25}))
    mixed = torch.load(run.path / "model" / "toy.pt", weights_only=True)
    first = min((run.path / "checkpoints").glob("checkpoint-*"), key=lambda c: int(c.name.split("-")[1]))
    torch.manual_seed(0)                      # the toy model as loaded (ToyDomain.build_model seeds with the recipe's)
    untuned = TOY.build_model(pipeline.load_recipe(_recipe(tmp_path)), None).network.state_dict()
    assert not torch.equal(load_file(str(first / "model.safetensors"))["hidden.weight"], untuned["hidden.weight"])
    assert torch.allclose(mixed["hidden.weight"], 0.75 * tuned["hidden.weight"] + 0.25 * untuned["hidden.weight"])
    assert torch.equal(mixed["head.weight"], tuned["head.weight"])               # a new head has no untuned value
    assert run.metrics()["models"][TUNED]["auc"] > 0.9                            # the figures are the mixed model's


@pytest.mark.parametrize(("overrides", "message"), [
    ({"lora.enabled": True}, "LoRA adapters are saved on their own"),
    ({"model.pretrained": False}, "the untuned weights are random"),
])
def test_an_untuned_share_the_run_cannot_use_is_refused_with_the_recipe(tmp_path, overrides, message):
    from suite.core.errors import RecipeError

    with pytest.raises(RecipeError, match=message):
        pipeline.load_recipe(_recipe(tmp_path, **{"train.untuned_share": 0.2, **overrides}))
