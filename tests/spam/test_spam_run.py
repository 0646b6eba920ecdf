"""Spam-only checks on the tiny run (the shared ones are in tests/contract): confusion counts, the saved
operating threshold, the ROC and precision-recall plots."""

import json

import pytest

import suite
from suite.spam.data import prepare, texts_of

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane


def test_confusion_matrices_count_the_test_split(spam_tiny_run):
    metrics = spam_tiny_run.metrics()
    assert set(metrics["models"]) == {"tuned", "hybrid", "baseline:tfidf-logreg", "baseline:naive-bayes"}
    for system, values in metrics["models"].items():
        assert 0.0 <= values["f1"] <= 1.0 and 0.5 < values["roc_auc"] <= 1.0, system
        c = values["confusion_at_target"]
        assert c["tp"] + c["fn"] == metrics["data"]["spam_test"]
        assert c["tn"] + c["fp"] + c["tp"] + c["fn"] == metrics["data"]["test"]
    assert metrics["models"]["tuned"]["roc_auc"] > 0.85      # a tuned MiniLM separates even 140 messages
    assert metrics["data"]["duplicates_removed"] > 0


def test_predict_decides_at_the_saved_operating_threshold(spam_tiny_run):
    predictor = suite.load(spam_tiny_run.path)
    assert predictor.threshold == spam_tiny_run.metrics()["models"]["tuned"]["threshold"]
    settings = json.loads((spam_tiny_run.path / "model" / "suite.json").read_text())
    assert settings["state"]["threshold"] == predictor.threshold and settings["model"]["max_length"] == 48
    texts = texts_of(prepare(spam_tiny_run.recipe().data).test[:6])
    scores = predictor.scores(texts)
    assert [p["label"] == "spam" for p in predictor.predict(texts)] == list(scores >= predictor.threshold)


def test_roc_and_precision_recall_plots_are_drawn(spam_tiny_run):
    for name in ("roc.png", "precision_recall.png"):
        assert (spam_tiny_run.path / "plots" / name).stat().st_size > 5_000
    card = (spam_tiny_run.path / "README.md").read_text()
    assert "## Thresholds of `tuned`" in card and "baseline:tfidf-logreg" in card


def test_tuned_and_hybrid_are_compared_with_the_strongest_baseline(spam_tiny_run):
    metrics = spam_tiny_run.metrics()
    strongest = max(("baseline:tfidf-logreg", "baseline:naive-bayes"), key=lambda s: metrics["models"][s]["f1"])
    comparisons = metrics["comparisons"]
    assert set(comparisons) == {f"{system} vs {strongest}: {metric}" for system in ("tuned", "hybrid")
                                for metric in ("f1", "roc_auc", "recall_at_target_fpr")}
    for name, c in comparisons.items():
        system, metric = name.split(" vs ")[0], c["metric"]
        assert c["a"] == pytest.approx(metrics["models"][system][metric]), name
        assert c["b"] == pytest.approx(metrics["models"][strongest][metric]), name
        assert c["difference_low"] <= c["difference_high"] and c["replicates"] == 2000, name
        assert c["cases"] == metrics["data"]["test"]
    assert "## Against the strongest baseline" in (spam_tiny_run.path / "README.md").read_text()
