"""``suite bench --compare``: what got better or worse, judged by each figure's direction, on hand-written results."""

import json

import pytest

from suite.bench.compare import compare, direction, format_changes
from suite.cli import main


def _results(*, f1, fpr, seconds, rss, threshold, extra_system=False, translation="failed"):
    spam = {"full": {"trained": True, "metrics": {"f1": f1, "fpr_at_target": fpr, "threshold": threshold},
                     "train_seconds": seconds, "peak_rss_mb": rss, "train_samples_per_second": 10.0,
                     "trainable_parameters": 100},
            "baseline:tfidf-logreg": {"trained": False, "metrics": {"f1": 0.9, "fpr_at_target": 0.01}}}
    if extra_system:
        spam["lora"] = {"trained": True, "metrics": {"f1": 0.8}}
    return {"plan": {"name": "hand"}, "domains": {
        "spam": {"status": "ok", "primary_metric": "f1", "greater_is_better": True, "runs": {}, "systems": spam},
        "translation": {"status": translation, "runs": {}, "systems": {}, "error": "no recipe"}}}


OLD = _results(f1=0.90, fpr=0.020, seconds=100.0, rss=2000.0, threshold=0.5)
NEW = _results(f1=0.93, fpr=0.010, seconds=150.0, rss=2000.0, threshold=0.7, extra_system=True, translation="ok")


def test_each_change_has_its_ratio_and_the_verdict_of_its_direction():
    changes = {(c.system, c.figure): c for c in compare(OLD, NEW)}
    f1 = changes[("full", "f1")]
    assert (f1.old, f1.new, f1.verdict) == (0.90, 0.93, "better") and f1.ratio == pytest.approx(0.93 / 0.90)
    assert changes[("full", "fpr_at_target")].verdict == "better"          # lower is better
    assert changes[("full", "fpr_at_target")].ratio == pytest.approx(0.5)
    assert changes[("full", "train_seconds")].verdict == "worse"           # slower
    assert changes[("full", "threshold")].verdict == "changed"             # neither direction
    assert changes[("lora", "system")].verdict == "added"
    assert changes[("", "status")].verdict == "better"                      # translation failed -> ok
    assert ("full", "peak_rss_mb") not in changes                           # unchanged figures are not listed
    assert ("baseline:tfidf-logreg", "f1") not in changes


def test_the_reverse_comparison_flips_every_verdict():
    forward = {(c.system, c.figure): c.verdict for c in compare(OLD, NEW)}
    backward = {(c.system, c.figure): c.verdict for c in compare(NEW, OLD)}
    flip = {"better": "worse", "worse": "better", "changed": "changed", "added": "removed"}
    assert backward == {key: flip[verdict] for key, verdict in forward.items()}


def test_tolerance_hides_small_relative_changes():
    figures = {c.figure for c in compare(OLD, NEW, tolerance=0.1)}
    assert "f1" not in figures                      # 3.3% change
    assert {"fpr_at_target", "train_seconds", "threshold"} <= figures


def test_direction_of_metric_names():
    assert direction("f1", primary="f1") == 1
    assert direction("ter", primary="chrf") == -1 and direction("ece", primary="auroc") == -1
    assert direction("recall_at_target_fpr", primary="f1") == 1
    assert direction("loss", primary="bleu", greater_is_better=True) == -1
    assert direction("rmse", primary="rmse", greater_is_better=False) == -1
    assert direction("total_parameters", primary="f1") == 0


def test_cli_compare_against_prints_each_change(tmp_path, capsys):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(OLD))
    new.write_text(json.dumps(NEW))
    assert main(["bench", "--compare", str(old), "--against", str(new)]) == 0
    out = capsys.readouterr().out
    assert "spam / full: f1 0.9000 -> 0.9300 (x1.0333, better)" in out
    assert "spam / full: train_seconds 100.0000 -> 150.0000 (x1.5000, worse)" in out
    assert "translation: status failed -> ok" in out
    assert out.splitlines()[0].endswith("3 better, 1 worse, 2 other changes")
    assert format_changes([], old_name="a", new_name="b") == "no differences between a and b"


@pytest.mark.parametrize("argv, message", [
    (["bench", "--against", "new.json"], "--against NEW.json needs --compare"),
    (["bench", "--compare", "missing.json", "--against", "missing.json"], "no such results file"),
    (["bench", "--compare", "plain.json", "--against", "plain.json"], "not a suite bench results file"),
    (["bench", "--plan", "no-such-plan"], "no such plan file or bundled plan"),
    (["bench", "--quick", "--domains", "spam,weather"], "'weather' is not in plan quick"),
])
def test_cli_bad_input_is_one_error_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain.json").write_text('{"a": 1}')
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
