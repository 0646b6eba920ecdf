"""Label-budget curves: points read from finished runs, the crossover, the verdict sentence and the plot."""

import json

import pytest

from suite.bench import budget
from suite.bench.plan import load_plan


def _run(out, label, train, tuned, tfidf, nb, *, ci=None, comparisons=None):
    folder = out / "runs" / f"spam-{label}"
    folder.mkdir(parents=True)
    models = {"tuned": {"f1": tuned, "recall_at_target_fpr": tuned / 2,
                        **({"f1_ci_low": ci[0], "f1_ci_high": ci[1]} if ci else {})},
              "baseline:tfidf-logreg": {"f1": tfidf, "recall_at_target_fpr": tfidf / 2},
              "baseline:naive-bayes": {"f1": nb}}
    (folder / "metrics.json").write_text(json.dumps({
        "domain": "spam", "recipe": "default", "primary_metric": "f1", "greater_is_better": True, "models": models,
        "data": {"train": train}, "comparisons": comparisons or {}}))
    return {"status": "ok", "run_dir": f"runs/spam-{label}"}


# a spam run's paired bootstraps (F1 and ROC-AUC of the tuned model against the strongest baseline)
_PAIRED = {"tuned vs baseline:tfidf-logreg: f1": {"metric": "f1", "a": 0.95, "b": 0.94, "difference": 0.01,
                                                  "difference_low": -0.005, "difference_high": 0.02},
           "tuned vs baseline:tfidf-logreg: roc_auc": {"metric": "roc_auc", "difference": 0.3,
                                                       "difference_low": 0.2, "difference_high": 0.4}}


@pytest.fixture
def records(tmp_path):
    return {"budget-32": _run(tmp_path, "budget-32", 32, 0.74, 0.39, 0.50, ci=(0.60, 0.85)),
            "budget-128": _run(tmp_path, "budget-128", 128, 0.81, 0.86, 0.70),
            "budget-512": _run(tmp_path, "budget-512", 512, 0.95, 0.94, 0.90, comparisons=_PAIRED),
            "budget-all": _run(tmp_path, "budget-all", 3800, 0.976, 0.975, 0.97),
            "full": {"status": "ok", "run_dir": "elsewhere"}}, tmp_path


def test_the_curve_holds_every_budget_run_in_order_of_examples(records):
    run_records, out = records
    curve = budget.curve(run_records, out)
    assert [p["train_examples"] for p in curve["points"]] == [32, 128, 512, 3800]
    assert curve["points"][0]["systems"]["baseline:tfidf-logreg"] == 0.39
    assert curve["points"][0]["intervals"] == {"tuned": [0.60, 0.85]}


def test_the_crossover_is_where_the_tuned_model_stays_ahead(records):
    curve = budget.curve(*records)
    found = budget.crossover(curve)          # ahead at 32, behind at 128, ahead from 512 on
    assert found["train_examples"] == 512 and found["baseline"] == "baseline:tfidf-logreg"
    sentence = budget.verdict("spam", curve)
    assert sentence.startswith("spam: the tuned model beats the best classical baseline from 512 labelled examples")
    assert "f1 0.9500 against tfidf-logreg's 0.9400" in sentence


def test_the_crossover_quotes_the_paired_difference_and_says_when_its_interval_holds_0(records):
    curve = budget.curve(*records)
    assert set(curve["points"][2]["comparisons"]) == {"baseline:tfidf-logreg"}     # the primary metric only
    sentence = budget.verdict("spam", curve)
    assert ("against tfidf-logreg's 0.9400 there (paired difference +0.0100, 95% CI -0.0050 to 0.0200, an interval "
            "that holds 0: within the noise of this test set)") in sentence
    curve["points"][2]["comparisons"]["baseline:tfidf-logreg"]["difference_low"] = 0.001
    assert "95% CI 0.0010 to 0.0200)" in budget.verdict("spam", curve)


def test_the_verdict_says_whether_tuning_beats_the_untuned_model_where_it_was_scored(records):
    curve = budget.curve(*records)
    assert "untuned" not in budget.verdict("spam", curve)         # spam scores no zero-shot system
    curve["points"][-1]["systems"]["zero-shot"] = 0.99
    assert "; at 3,800 tuning loses 0.0140 against the untuned pretrained model (0.9900)" in budget.verdict("spam", curve)
    curve["points"][-1]["systems"]["zero-shot"] = 0.5
    assert "tuning gains 0.4760 against the untuned pretrained model (0.5000)" in budget.verdict("spam", curve)


def test_a_curve_the_baseline_wins_says_so(records):
    run_records, out = records
    curve = budget.curve(run_records, out)
    curve["points"][-1]["systems"]["tuned"] = 0.9
    assert budget.crossover(curve) is None
    assert budget.verdict("spam", curve).startswith(
        "spam: tuning wins only at 32 and 512 labelled examples; the classical tfidf-logreg is ahead with all 3,800 "
        "labelled examples (f1 0.9750 against the tuned model's 0.9000)")
    for point in curve["points"]:
        point["systems"]["tuned"] = 0.1
    assert "the classical tfidf-logreg stays ahead up to all 3,800 labelled examples" in budget.verdict("spam", curve)


def test_the_verdict_quotes_the_operating_figure_at_the_largest_size(records):
    curve = budget.curve(*records, figure="recall_at_target_fpr")
    assert curve["points"][-1]["figures"]["tuned"] == 0.488
    assert budget.verdict("spam", curve).endswith("; recall_at_target_fpr at 3,800: tuned 0.4880, "
                                                  "tfidf-logreg 0.4875.")


def test_a_budget_only_domain_is_summarised_at_its_largest_size(records):
    from suite.bench import report

    curve = budget.curve(*records)
    results = {"domains": {"spam": {"status": "ok", "primary_metric": "f1", "systems": {}, "budget": curve,
                                    "runs": {}}}}
    header, rows = report.tables(results)["summary"]
    row = dict(zip(header, rows[0]))
    assert row["domain"] == "spam (3,800 labelled)" and row["full fine-tune"] == "0.9760"
    assert row["best baseline"] == "0.9750 (tfidf-logreg)" and row["full / best baseline"] == "1.001x"


def test_the_plot_and_table_are_made(records, tmp_path):
    curve = budget.curve(*records)
    path = budget.plot("spam", curve, tmp_path / "spam-budget.png")
    assert path.stat().st_size > 5_000
    header, rows = budget.table(curve)
    assert header[:2] == ["labelled examples", "tuned"] and rows[-1][0] == "3,800"


def test_a_plan_budget_expands_into_one_run_per_size():
    plan = load_plan({"name": "b", "domains": {"spam": {"budget": {
        "recipe": "spam/tiny", "key": "data.train_examples", "sizes": [32, 128, None]}}}})
    runs = plan.domains["spam"].all_runs()
    assert [r.system for r in runs] == ["budget-32", "budget-128", "budget-all"]
    assert runs[0].overrides == {"data.train_examples": 32} and runs[-1].overrides == {}
