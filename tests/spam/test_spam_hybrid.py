"""The spam run's hybrid, saved with the run: loaded, it gives the figures the run reported; predict, calibrate and
the command line use it beside the tuned model, each with its own threshold."""

import csv
import json
import shutil

import numpy as np
import pytest

import suite
from suite.cli import main
from suite.core.metrics.classification import binary_report
from suite.core.runs import Run
from suite.spam.data import labels_of, prepare, texts_of

pytestmark = pytest.mark.slow    # uses the tiny run: not in the fast lane


@pytest.fixture
def run_copy(spam_tiny_run, tmp_path):
    """A copy of the tiny run that a test may calibrate (the shared run must keep its own thresholds)."""
    return shutil.copytree(spam_tiny_run.path, tmp_path / "run", ignore=shutil.ignore_patterns("checkpoints"))


def _labelled_csv(path, texts, labels):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, ["spam" if y else "ham" for y in labels]))
    return path


def test_the_saved_hybrid_gives_the_test_figures_the_run_reported(spam_tiny_run):
    metrics = spam_tiny_run.metrics()["models"]["hybrid"]
    saved = json.loads((spam_tiny_run.path / "hybrid" / "hybrid.json").read_text())
    assert {f"{system.removeprefix('baseline:')}_weight": w for system, w in saved["weights"].items()} == \
        {k: v for k, v in metrics.items() if k.endswith("_weight")}
    assert saved["threshold"] == metrics["threshold"] and saved["space"] == "logit"
    blended = [s for s, w in saved["weights"].items() if w and s != "tuned"]
    assert sorted(saved["baselines"]) == sorted(blended)

    hybrid = suite.load(spam_tiny_run.path, system="hybrid")
    test = prepare(spam_tiny_run.recipe().data).test
    scores = hybrid.scores(texts_of(test))
    report = binary_report(labels_of(test), scores, hybrid.threshold)
    assert report["roc_auc"] == pytest.approx(metrics["roc_auc"], abs=1e-9)
    assert [p["label"] == "spam" for p in hybrid.predict(texts_of(test))] == list(scores >= hybrid.threshold)
    assert suite.load(spam_tiny_run.path).threshold == spam_tiny_run.metrics()["models"]["tuned"]["threshold"]


def test_calibrate_keeps_one_threshold_per_system(run_copy, tmp_path, capsys):
    test = prepare(Run.open(run_copy).recipe().data).test
    sample = _labelled_csv(tmp_path / "sample.csv", texts_of(test), labels_of(test))
    tuned_before = suite.load(run_copy).threshold

    record = suite.calibrate(run_copy, data=str(sample), target_fpr=0.2, system="hybrid")
    assert record["system"] == "hybrid" and record["operating_point"]["negatives"] == int((labels_of(test) == 0).sum())
    assert suite.load(run_copy, system="hybrid").threshold == record["threshold"]
    assert suite.load(run_copy).threshold == tuned_before                     # the tuned model keeps its own

    code = main(["calibrate", str(run_copy), "--data", str(sample), "--target-fpr", "0.3"])
    out, _ = capsys.readouterr()
    assert code == 0 and "new threshold of the tuned system" in out
    tuned = suite.load(run_copy)
    assert tuned.threshold != tuned_before and suite.load(run_copy, system="hybrid").threshold == record["threshold"]

    code = main(["predict", str(run_copy), "WIN a FREE cruise!!!", "--system", "hybrid"])
    out, err = capsys.readouterr()
    assert code == 0 and "using the hybrid: " in err and "using threshold" in err
    assert json.loads(out)["threshold"] == record["threshold"]
    saved = json.loads((run_copy / "hybrid" / "hybrid.json").read_text())["threshold"]
    assert saved == Run.open(run_copy).metrics()["models"]["hybrid"]["threshold"]    # the run's files unchanged


def test_a_run_without_a_saved_hybrid_says_so_in_one_line(run_copy, capsys):
    shutil.rmtree(run_copy / "hybrid")
    code = main(["predict", str(run_copy), "hello", "--system", "hybrid"])
    _, err = capsys.readouterr()
    assert code == 2 and "this run saved no hybrid" in err and len(err.strip().splitlines()) == 1
    assert np.isfinite(suite.load(run_copy).scores(["hello"])).all()          # the tuned model still loads
