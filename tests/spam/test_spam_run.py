"""The spam domain end to end on the tiny recipe: metrics, save/load/predict, resume, LoRA."""

import json
import shutil

import numpy as np
import pytest

import suite
from suite.core.metrics.classification import roc_auc
from suite.spam.data import load_messages, split_messages


def test_metrics_json_holds_tuned_and_both_baselines(spam_tiny_run):
    metrics = json.loads((spam_tiny_run.path / "metrics.json").read_text())
    assert metrics["domain"] == "spam" and metrics["primary_metric"] == "f1"
    assert set(metrics["models"]) == {"tuned", "baseline:tfidf-logreg", "baseline:naive-bayes"}
    for system, values in metrics["models"].items():
        assert 0.0 <= values["f1"] <= 1.0 and 0.5 < values["roc_auc"] <= 1.0, system
        c = values["confusion_at_target"]
        assert c["tp"] + c["fn"] == metrics["data"]["spam_test"]
        assert c["tn"] + c["fp"] + c["tp"] + c["fn"] == metrics["data"]["test"]
    assert metrics["models"]["tuned"]["roc_auc"] > 0.85      # a tuned MiniLM separates even 140 messages
    assert metrics["data"]["duplicates_removed"] > 0


def test_training_loss_falls(spam_tiny_run):
    history = json.loads((spam_tiny_run.path / "logs" / "log_history.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) >= 6
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_run_folder_is_self_describing(spam_tiny_run):
    path = spam_tiny_run.path
    for name in ("recipe.yaml", "environment.json", "README.md", "model/model.safetensors", "model/suite.json",
                 "logs/metrics.csv", "plots/roc.png", "plots/precision_recall.png", "plots/learning_curves.png"):
        assert (path / name).is_file(), name
    assert suite.load(path).threshold == json.loads((path / "metrics.json").read_text())["models"]["tuned"][
        "threshold"]
    card = (path / "README.md").read_text()
    assert "| tuned |" in card and "baseline:tfidf-logreg" in card
    environment = json.loads((path / "environment.json").read_text())
    assert environment["seed"] == 0 and "torch" in environment["packages"]
    assert not list(path.glob("**/*.tmp")) and not (path / "model.partial").exists()


def test_saved_model_reproduces_the_reported_scores(spam_tiny_run):
    recipe = spam_tiny_run.recipe()
    test = split_messages(load_messages(recipe.data), recipe.data).test
    predictor = suite.load(spam_tiny_run.path)
    scores = predictor.scores([m.text for m in test])
    reported = spam_tiny_run.metrics()["models"]["tuned"]["roc_auc"]
    assert roc_auc([m.label for m in test], scores) == pytest.approx(reported, abs=1e-9)
    predictions = predictor.predict([m.text for m in test[:5]])
    assert [p["label"] == "spam" for p in predictions] == list(scores[:5] >= predictor.threshold)


def test_evaluate_again_matches_metrics(spam_tiny_run):
    again = suite.evaluate(spam_tiny_run.path)
    original = spam_tiny_run.metrics()["models"]
    for system in original:
        assert again["models"][system]["roc_auc"] == pytest.approx(original[system]["roc_auc"], abs=1e-9)
    assert list((spam_tiny_run.path / "evaluations").glob("*.json"))


def test_resume_continues_from_checkpoint(spam_tiny_run, tmp_path):
    """An interrupted copy (no metrics, no model, last checkpoint lost) resumes from epoch 1."""
    copy = tmp_path / "interrupted"
    shutil.copytree(spam_tiny_run.path, copy)
    (copy / "metrics.json").unlink()
    shutil.rmtree(copy / "model")
    checkpoints = sorted(copy.glob("checkpoints/checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert len(checkpoints) == 2                       # one per epoch
    shutil.rmtree(checkpoints[-1])
    resumed = suite.resume(copy)
    training = resumed.metrics()["training"]
    original = spam_tiny_run.metrics()
    assert training["resumed_from"] == f"checkpoints/{checkpoints[0].name}"
    assert training["steps"] == original["training"]["steps"]
    assert resumed.metrics()["models"]["tuned"]["roc_auc"] == pytest.approx(
        original["models"]["tuned"]["roc_auc"], abs=0.02)


def test_lora_trains_adapters_and_saves_a_merged_model(runs_dir):
    run = suite.tune("spam/tiny", lora__enabled=True, train__learning_rate=2e-3, output__runs_dir=str(runs_dir),
                     output__name="spam-tiny-lora")
    training = run.metrics()["training"]
    assert training["trainable_parameters"] < 0.05 * training["total_parameters"]
    assert (run.path / "model" / "adapter" / "adapter_config.json").is_file()
    assert run.metrics()["models"]["tuned"]["roc_auc"] > 0.75
    assert len(suite.load(run.path).predict(["Cheap pills!!! Click here"])) == 1
