"""``suite bench`` end to end on the tiny recipes of every domain, with one deliberately broken run
and one domain that cannot start: the others finish, the failures are reported with their reason."""

import json
from html.parser import HTMLParser

import pytest

from suite.bench import report as bench_report
from suite.bench import runner as bench
from suite.core import resources

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

TINY = {"train.max_steps": 2, "train.logging_steps": 1}
PLAN = {
    "name": "test", "matmul_size": 256, "timeout_minutes": 10,
    "domains": {
        "spam": {"overrides": {**TINY, "data.max_examples": 120, "model.max_length": 32},
                 "runs": [{"system": "full", "recipe": "spam/tiny"},
                          {"system": "lora", "recipe": "spam/tiny",
                           "overrides": {"lora.enabled": True, "evaluation.baselines": []}},
                          {"system": "broken", "recipe": "spam/tiny",     # fails inside its process
                           "overrides": {"data.source": "/nonexistent/mail.csv"}}]},
        "recommendation": {"overrides": {**TINY, "data.synthetic_users": 60, "data.synthetic_items": 80,
                                         "evaluation.bpr_iterations": 10},
                           "runs": [{"system": "full", "recipe": "recommendation/tiny"}]},
        "diagnostics": {"overrides": {**TINY, "data.synthetic.n_train": 64, "data.synthetic.n_validation": 32,
                                      "data.synthetic.n_test": 64, "evaluation.bootstrap": 0,
                                      "evaluation.saliency_images": 0, "evaluation.baselines": ["logreg-pixels"]},
                        "runs": [{"system": "full", "recipe": "diagnostics/tiny"}],
                        "budget": {"recipe": "diagnostics/tiny", "key": "data.label_budget", "sizes": [24, None],
                                   "draws": [2, 1], "strategies": {"lp-ft": {"train.strategy": "lp-ft"}},
                                   "overrides": {"evaluation.hybrid_weights": []}}},
        "nosuch": {"runs": [{"system": "full", "recipe": "spam/tiny"}]},   # fails before starting
    },
}
if (resources.RECIPES_DIR / "translation" / "tiny.yaml").is_file():
    PLAN["domains"]["translation"] = {"overrides": {**TINY, "data.max_train_examples": 40,
                                                    "data.max_test_examples": 10},
                                      "runs": [{"system": "full", "recipe": "translation/tiny"}]}

EXPECTED = {"spam": {"full", "lora", "hybrid", "baseline:tfidf-logreg", "baseline:naive-bayes"},
            "recommendation": {"full", "zero-shot", "hybrid", "baseline:popularity", "baseline:als",
                               "baseline:bpr"},
            "diagnostics": {"full", "hybrid", "baseline:logreg-pixels"},
            "translation": {"full"}}


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out"
    lines = []
    path = bench.run_plan(plan=PLAN, out=out, progress=lines.append, command="pytest")
    reports = bench_report.write_reports(path)
    return json.loads(path.read_text()), reports, lines, out


def test_every_planned_system_is_present_with_sane_values(bench_out):
    results, _, _, out = bench_out
    for domain in ("spam", "recommendation", "diagnostics", "translation"):
        if domain not in PLAN["domains"]:
            continue
        entry = results["domains"][domain]
        assert EXPECTED[domain] <= set(entry["systems"]), (domain, entry.get("error"))
        metric = entry["primary_metric"]
        for name, system in entry["systems"].items():
            assert metric in system["metrics"], (domain, name)
            assert system["metrics"][metric] == system["metrics"][metric]    # not NaN
        for label, run in entry["runs"].items():
            if label == "broken" or label.startswith("budget-"):     # budget runs make the curve, not systems
                continue
            assert run["status"] == "ok" and run["peak_rss_mb"] > 100 and run["wall_seconds"] > 0
            trained = entry["systems"][label]
            assert trained["trained"] and 0 < trained["trainable_parameters"] <= trained["total_parameters"]
            assert trained["train_seconds"] > 0 and trained["train_samples_per_second"] > 0
            assert trained["steps"] == 2
            assert trained["training_flops"] > 0 and trained["share_of_matmul_peak"] > 0
            assert trained["peak_rss_mb"] == run["peak_rss_mb"]
            assert (out / run["run_dir"] / "metrics.json").is_file()
    spam = results["domains"]["spam"]["systems"]
    assert spam["lora"]["trainable_parameters"] < spam["full"]["trainable_parameters"] / 10
    assert spam["full"]["inference_samples_per_second"] > 0
    curve = results["domains"]["diagnostics"]["budget"]
    assert [point["train_examples"] for point in curve["points"]] == [24, 96]     # labels in all: 64 + 32 validation
    assert [point["draws"] for point in curve["points"]] == [2, 1]
    for point in curve["points"]:        # lp-ft and its stage before fine-tuning, validation's pick, the baseline
        assert {"tuned", "lp-ft", "linear-probe", "baseline:logreg-pixels"} <= set(point["systems"])
        assert sum(point["picked"].values()) == point["draws"] and set(point["picked"]) <= {"lp-ft", "linear-probe"}
    assert set(curve["points"][0]["paired"]) == {"baseline:logreg-pixels"}       # over the two draws
    assert curve["points"][0]["paired"]["baseline:logreg-pixels"]["draws"] == 2
    assert results["finished"] and results["compute"]["matmul_peak_flops"] > 0
    assert results["environment"]["packages"]["torch"] and results["environment"]["cpu_model"]


def test_a_failing_run_and_domain_are_reported_and_the_others_finish(bench_out):
    results, _, lines, out = bench_out
    spam = results["domains"]["spam"]
    assert spam["status"] == "partial"
    assert spam["runs"]["broken"]["status"] == "failed"
    assert "/nonexistent/mail.csv" in spam["runs"]["broken"]["error"]      # the child's own error line
    assert (out / spam["runs"]["broken"]["log"]).is_file()
    nosuch = results["domains"]["nosuch"]
    assert nosuch["status"] == "failed" and "listed under 'nosuch'" in nosuch["error"]
    assert results["domains"]["recommendation"]["status"] == "ok"
    assert results["domains"]["diagnostics"]["status"] == "ok"
    assert any("spam / broken" in line and "failed" in line for line in lines)
    assert any("about" in line and "left" in line for line in lines)     # the progress estimate
    assert lines[-1].startswith("[bench] done")


class _Rows(HTMLParser):
    """Collects each table's first cells, and the images."""

    def __init__(self):
        super().__init__()
        self.tables, self.images, self._table, self._cells, self._in_cell = {}, [], None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._cells = []
        elif tag == "td":
            self._in_cell = True
            self._cells.append("")
        elif tag == "img":
            self.images.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False
        elif tag == "tr" and self._cells:
            self.tables[self._table].append(self._cells)
            self._cells = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._in_cell:
            self._cells[-1] += data


def test_the_html_report_renders_every_row_and_embeds_the_plots(bench_out):
    results, reports, _, out = bench_out
    page = _Rows()
    page.feed(reports["html"].read_text(encoding="utf-8"))
    for domain, entry in results["domains"].items():
        rows = [cells[0] for cells in page.tables[f"domain:{domain}"]]
        runs = {label for label in entry["runs"] if not label.startswith("budget-")}   # in the budget table
        assert sorted(rows) == sorted({*entry["systems"], *runs}), domain
    assert [cells[0] for cells in page.tables["summary"]] == list(results["domains"])
    assert len(page.images) == len(list((out / "plots").glob("*.png"))) >= 7
    assert all(src.startswith("data:image/png;base64,") for src in page.images)   # self-contained
    markdown = reports["markdown"].read_text(encoding="utf-8")
    assert "| spam | f1 |" in markdown and "broken failed:" in markdown


def test_a_budget_curve_is_collected_plotted_and_said_in_one_sentence(bench_out):
    results, reports, _, out = bench_out
    curve = results["domains"]["diagnostics"]["budget"]
    examples = [point["train_examples"] for point in curve["points"]]
    assert examples == [24, 96] and all("baseline:logreg-pixels" in p["systems"] for p in curve["points"])
    assert (out / "plots" / "diagnostics-budget.png").is_file()
    markdown = reports["markdown"].read_text(encoding="utf-8")
    assert "## Where tuning pays" in markdown and "- diagnostics: " in markdown
    assert "diagnostics: label budget, test auroc by labelled examples" in markdown
    assert "| labelled examples | draws | tuned (validation-picked) |" in markdown
