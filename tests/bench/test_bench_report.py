"""The benchmark report from a hand-written results.json: Markdown and a self-contained HTML page
whose tables hold every system and every failed run."""

import json
from html.parser import HTMLParser

from suite.bench import report as bench_report

RESULTS = {
    "plan": {"name": "hand"}, "command": "suite bench --quick", "created": "2026-11-24T12:00:00+00:00",
    "wall_seconds": 900.0,
    "environment": {"cpu_model": "Test CPU", "usable_cpus": 2, "torch_threads": 2, "device": "cpu",
                    "packages": {"torch": "2.14.1"}},
    "compute": {"matmul_peak_flops": 1.0e11, "matmul_size": 2048,
                "matmul_at_start": {"flops_per_second": 1.0e11, "size": 2048, "threads": 2}},
    "domains": {
        "spam": {"status": "partial", "primary_metric": "f1", "greater_is_better": True,
                 "headline_metrics": ["f1", "precision", "recall"],
                 "runs": {"full": {"status": "ok", "run_dir": "runs/spam-full"},
                          "lora": {"status": "failed", "error": "killed by <signal> & co", "run_dir": "runs/x"}},
                 "systems": {
                     "full": {"trained": True, "metrics": {"f1": 0.95, "precision": 0.9, "recall": 1.0},
                              "trainable_parameters": 22_700_000, "total_parameters": 22_700_000,
                              "train_seconds": 600.0, "train_samples_per_second": 13.0,
                              "inference_samples_per_second": 80.0, "inference_unit": "samples",
                              "peak_rss_mb": 2800.0, "training_flops_per_second": 2.0e10,
                              "share_of_matmul_peak": 0.2, "flops_source": "trainer"},
                     "baseline:tfidf-logreg": {"trained": False, "metrics": {"f1": 0.97, "precision": 0.99}},
                     "baseline:naive-bayes": {"trained": False, "metrics": {"f1": 0.96}}}},
        "diagnostics": {"status": "ok", "primary_metric": "auroc", "greater_is_better": True,
                        "runs": {"full": {"status": "ok", "run_dir": "runs/d-full"},
                                 "scratch": {"status": "ok", "run_dir": "runs/d-scratch"}},
                        "systems": {
                            "full": {"trained": True, "metrics": {"auroc": 0.9}, "train_seconds": 100.0,
                                     "training_flops_per_second": 1.0e9, "share_of_matmul_peak": 0.01,
                                     "flops_source": "estimate"},
                            "scratch": {"trained": True, "metrics": {"auroc": 0.6}, "train_seconds": 90.0},
                            "baseline:logreg-pixels": {"trained": False, "metrics": {"auroc": 0.6}}}},
        "translation": {"status": "failed", "primary_metric": "chrf", "greater_is_better": True,
                        "error": "full: translation/default: no such recipe",
                        "runs": {"full": {"status": "failed", "error": "translation/default: no such recipe"}},
                        "systems": {}},
    },
}


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.images, self._table, self._row = {}, 0, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs["id"]
            self.rows[self._table] = []
        elif tag == "tr" and "data-row" in attrs:
            self.rows[self._table].append(attrs["data-row"])
        elif tag == "img":
            self.images += attrs["src"].startswith("data:image/png;base64,")


def test_report_files_hold_every_row(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    reports = bench_report.write_reports(path)
    page = _Tables()
    page.feed(reports["html"].read_text(encoding="utf-8"))
    assert page.rows["summary"] == ["spam", "diagnostics", "translation"]
    assert page.rows["domain:spam"] == ["baseline:tfidf-logreg", "baseline:naive-bayes", "full", "lora"]  # best first
    assert page.rows["domain:diagnostics"][0] == "full"
    assert sorted(page.rows["domain:diagnostics"]) == ["baseline:logreg-pixels", "full", "scratch"]
    assert page.rows["domain:translation"] == ["full"]
    assert "torch" in page.rows["environment"] and "fp32 matmul peak" in page.rows["compute"]
    # two metric-vs-time plots, one compute-efficiency plot, two (empty) learning-curve plots: all embedded
    assert page.images == 5 == len(list((tmp_path / "plots").glob("*.png")))
    html = reports["html"].read_text(encoding="utf-8")
    assert "killed by &lt;signal&gt; &amp; co" in html and "<signal>" not in html     # escaped
    markdown = reports["markdown"].read_text(encoding="utf-8")
    assert "| spam | f1 | 0.9700 (tfidf-logreg) | – | – | – | 0.9500 | – | – | 0.979x | partial |" in markdown
    assert "| full | 0.9500 | 0.9000 | 1.0000 | 22.70 M | 22.70 M | 10.0 min | 13.0 | 80.0 samples | " \
           "2.73 GB | 20.00 (20.0%) |" in markdown
    assert "| full | 0.9000 |" in markdown and "1.00 (1.0%)*" in markdown          # * marks estimated FLOPs
    assert "- lora failed: killed by <signal> & co" in markdown
    assert "Made by `suite bench --quick` on 2026-11-24T12:00:00+00:00, in 15.0 min; machine: Test CPU" in markdown


def test_summary_picks_the_best_baseline_by_the_metric_direction():
    results = json.loads(json.dumps(RESULTS))
    results["domains"]["spam"]["greater_is_better"] = False
    header, rows = bench_report.tables(results)["summary"]
    spam = dict(zip(header, rows[0]))
    assert spam["best baseline"] == "0.9600 (naive-bayes)" and spam["full fine-tune"] == "0.9500"


def _plain_domain(tuned: float, figure: str | None = None) -> dict:
    def system(role, value, cold):
        return {"role": role, "metrics": {"chrf": value, "placeholders_kept": cold}}
    return {"primary_metric": "chrf", "greater_is_better": True, "figure": figure, "systems": {
        "full": system("tuned", tuned, 1.0), "zero-shot": system("zero-shot", 60.0, 0.8),
        "copy-source": system("baseline", 25.0, 1.0), "translation-memory": system("baseline", 30.0, 0.2)}}


def test_plain_runs_get_a_verdict_naming_the_best_baseline_and_the_figure():
    line = bench_report.runs_verdict("translation", _plain_domain(70.0, figure="placeholders_kept"))
    assert line.startswith("translation: the tuned model beats the best classical baseline on chrf, 70 against "
                           "translation-memory's 30 (the untuned pretrained model: 60)")
    assert "placeholders_kept: tuned 1 (zero-shot 0.8, copy-source 1, translation-memory 0.2)" in line


def test_a_plain_run_that_loses_says_so():
    line = bench_report.runs_verdict("translation", _plain_domain(20.0))
    assert "does not beat the best classical baseline on chrf, 20 against translation-memory's 30" in line
    assert "placeholders_kept" not in line
