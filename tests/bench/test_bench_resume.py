"""``suite bench --resume``: a stopped benchmark goes on where it stopped; finished runs are not run again."""

import json

import pytest

from suite.bench import report as bench_report
from suite.bench import runner as bench
from suite.core.errors import RunError

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

TINY = {"train.max_steps": 2, "train.logging_steps": 1}
PLAN = {
    "name": "resume-test", "matmul_size": 128, "timeout_minutes": 10,
    "domains": {
        "spam": {"overrides": {**TINY, "data.max_examples": 120, "model.max_length": 32,
                               "evaluation.baselines": []},
                 "runs": [{"system": "full", "recipe": "spam/tiny"}]},
        "diagnostics": {"overrides": {**TINY, "data.synthetic.n_train": 64, "data.synthetic.n_validation": 32,
                                      "data.synthetic.n_test": 64, "evaluation.bootstrap": 0,
                                      "evaluation.saliency_images": 0, "evaluation.baselines": []},
                        "runs": [{"system": "full", "recipe": "diagnostics/tiny"}]},
    },
}


def test_a_resumed_benchmark_keeps_finished_runs_and_runs_the_rest(tmp_path):
    out = tmp_path / "bench"
    first = bench.run_plan(plan=PLAN, domains=["spam"], out=out, progress=lambda line: None, command="first")
    spam_metrics = out / "runs" / "spam-full" / "metrics.json"
    before = spam_metrics.read_bytes(), spam_metrics.stat().st_mtime_ns
    # what a benchmark killed during the diagnostics run leaves behind
    (out / "runs" / "diagnostics-full").mkdir()
    (out / "runs" / "diagnostics-full" / "partial.txt").write_text("half a run")
    (out / "logs" / "diagnostics-full.log").write_text("killed\n")

    lines = []
    path = bench.run_plan(plan=PLAN, out=out, progress=lines.append, command="second", resume=True)
    results = json.loads(path.read_text())

    assert path == first
    assert (spam_metrics.read_bytes(), spam_metrics.stat().st_mtime_ns) == before   # not run again
    assert any("spam / full: finished before, kept" in line for line in lines)
    assert not any("spam / full" in line and "started" in line for line in lines)
    assert results["finished"] is True
    assert {name: entry["status"] for name, entry in results["domains"].items()} == {"spam": "ok",
                                                                                    "diagnostics": "ok"}
    assert "full" in results["domains"]["spam"]["systems"] and "full" in results["domains"]["diagnostics"]["systems"]
    assert results["command"] == "first"
    assert [r["command"] for r in results["resumed"]] == ["second"]
    report = bench_report.write_reports(path)["markdown"].read_text()
    assert "Made by `first`" in report and "Resumed by `second`" in report
    stopped = list((out / "stopped").glob("*/diagnostics-full/partial.txt"))
    assert [p.read_text() for p in stopped] == ["half a run"]   # moved aside, not deleted
    assert list((out / "stopped").glob("*/diagnostics-full.log"))
    assert not (out / "runs" / "diagnostics-full" / "partial.txt").exists()


def test_resuming_needs_the_results_of_the_same_plan(tmp_path):
    with pytest.raises(RunError, match="holds no results.json"):
        bench.run_plan(plan=PLAN, out=tmp_path, progress=lambda line: None, resume=True)
    (tmp_path / "results.json").write_text(json.dumps({"plan": {"name": "quick"}, "domains": {}}))
    with pytest.raises(RunError, match="plan 'quick', not 'resume-test'"):
        bench.run_plan(plan=PLAN, out=tmp_path, progress=lambda line: None, resume=True)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(RunError, match="cannot read results.json"):
        bench.run_plan(plan=PLAN, out=tmp_path, progress=lambda line: None, resume=True)
