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
    sentence = budget.verdict("spam", curve)
    assert "; at 3,800 tuning loses 0.0140 against the untuned pretrained model (0.9900)" in sentence
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
    curve["points"][-1]["systems"]["tuned"] = 0.975              # level: lp-ft that kept the probe, say
    assert "the classical tfidf-logreg is level with the tuned model at all 3,800 labelled examples (f1 0.9750 " \
        "against the tuned model's 0.9750): tuning does not beat it at this budget" in budget.verdict("spam", curve)


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


def _strategy_run(out, label, *, strategy, draw, tuned, validation, nb, seconds, stage=None, loss=None):
    """A spam budget run of 32 labels: its tuned model (and the stage before its fine-tuning) with validation
    scores, and naive Bayes refitted on the same draw."""
    folder = out / "runs" / f"spam-{label}"
    folder.mkdir(parents=True)
    models = {"tuned": {"f1": tuned, "validation_score": validation, "validation_log_loss": loss},
              "baseline:naive-bayes": {"f1": nb},
              "hybrid": {"f1": max(tuned, nb)}}
    phases = [{"phase": "fine-tune", "seconds": seconds, "flops": 1e12}]
    if stage:
        models[f"stage:{stage[0]}"] = {"f1": stage[1], "validation_score": stage[2]}
        phases.insert(0, {"phase": "probe", "seconds": 1.0, "flops": 1e9})
    (folder / "metrics.json").write_text(json.dumps({
        "domain": "spam", "recipe": "default", "primary_metric": "f1", "greater_is_better": True, "models": models,
        "data": {"train": 24, "validation": 8, "label_budget": 32},
        "training": {"strategy": strategy, "train_seconds": seconds + (1.0 if stage else 0.0),
                     "training_flops": 1e12, "phases": phases}}))
    return {"status": "ok", "run_dir": f"runs/spam-{label}", "budget": 32, "strategy": strategy, "draw": draw}


def test_validation_picks_the_strategy_of_each_draw_and_the_draws_are_paired(tmp_path):
    # draw 0: contrastive best on validation (and on test); draw 1: lp-ft's stage (the probe) ties lp-ft on
    # validation and is cheaper, though lp-ft is better on test; draw 2: contrastive again
    values = {0: ((0.80, 1.0, ("linear-probe", 0.70, 0.9)), (0.86, 1.1)),
              1: ((0.90, 1.0, ("linear-probe", 0.75, 1.0)), (0.85, 0.9)),
              2: ((0.78, 0.8, ("linear-probe", 0.70, 0.7)), (0.84, 1.05))}
    records = {}
    for draw, ((lp, lp_val, stage), (con, con_val)) in values.items():
        nb = 0.82 + draw * 0.01
        records[f"budget-32-lp-ft-d{draw}"] = _strategy_run(tmp_path, f"lp{draw}", strategy="lp-ft", draw=draw,
                                                            tuned=lp, validation=lp_val, nb=nb, seconds=10.0,
                                                            stage=stage)
        records[f"budget-32-contrastive-d{draw}"] = _strategy_run(tmp_path, f"c{draw}", strategy="contrastive",
                                                                  draw=draw, tuned=con, validation=con_val, nb=nb,
                                                                  seconds=60.0)
    curve = budget.curve(records, tmp_path)
    point = curve["points"][0]
    assert point["train_examples"] == 32 and point["draws"] == 3
    assert point["picked"] == {"contrastive": 2, "linear-probe": 1}              # never lp-ft: test is not looked at
    assert point["systems"]["tuned"] == pytest.approx((0.86 + 0.75 + 0.84) / 3)
    assert point["systems"]["lp-ft"] == pytest.approx((0.80 + 0.90 + 0.78) / 3)
    assert point["roles"]["linear-probe"] == "strategy" and point["roles"]["baseline:naive-bayes"] == "baseline"
    paired = point["paired"]["baseline:naive-bayes"]
    assert paired["draws"] == 3 and paired["ahead"] == 1
    assert paired["difference"] == pytest.approx(((0.86 - 0.82) + (0.75 - 0.83) + (0.84 - 0.84)) / 3)
    assert paired["difference_low"] < paired["difference"] < paired["difference_high"]
    assert point["spread"]["tuned"]["n"] == 3 and point["costs"]["linear-probe"]["train_seconds"] == 1.0
    header, rows = budget.table(curve)
    assert header[:4] == ["labelled examples", "draws", "tuned (validation-picked)", "contrastive"]
    assert rows[0][-2] == "contrastive 2, linear-probe 1" and rows[0][-1].startswith("-0.0133 (")
    header, rows = budget.cost_table(curve)
    assert header[:4] == ["labelled examples", "strategy", "train seconds", "training FLOPs"]
    assert [row[1] for row in rows] == ["linear-probe", "lp-ft", "contrastive"]            # cheapest first
    assert rows[0][2:] == ["1.0", "1e+09", "0.7167", "1 of 3"] and rows[2][-1] == "2 of 3"
    sentence = budget.verdict("spam", curve)
    assert sentence.startswith("spam: the classical naive-bayes stays ahead up to all 32 labelled examples")
    assert budget.plot("spam", curve, tmp_path / "spam.png").stat().st_size > 5_000


def test_a_budget_with_strategies_and_draws_expands_into_one_run_each():
    plan = load_plan({"name": "b", "domains": {"spam": {"budget": {
        "recipe": "spam/tiny", "key": "data.label_budget", "sizes": [32, None], "draws": [2, 1],
        "strategies": {"lp-ft": {"train.strategy": "lp-ft"}, "contrastive": {"train.strategy": "contrastive"}},
        "minutes_by_strategy": {"contrastive": 3}}}}})
    runs = plan.domains["spam"].all_runs()
    assert [r.system for r in runs] == ["budget-32-lp-ft-d0", "budget-32-contrastive-d0", "budget-32-lp-ft-d1",
                                        "budget-32-contrastive-d1", "budget-all-lp-ft-d0", "budget-all-contrastive-d0"]
    assert runs[2].overrides == {"data.label_budget": 32, "data.budget_draw": 1, "train.strategy": "lp-ft"}
    assert runs[4].overrides == {"train.strategy": "lp-ft"} and runs[1].minutes == 3
    plan = load_plan({"name": "b", "domains": {"spam": {"budget": {
        "recipe": "spam/tiny", "key": "data.label_budget", "sizes": [32, 128, None], "strategies_up_to": 32,
        "strategies": {"fine-tune": {}, "contrastive": {"train.strategy": "contrastive"}}}}}})
    assert [r.system for r in plan.domains["spam"].all_runs()] == [      # above 32 labels, the first strategy only
        "budget-32-fine-tune", "budget-32-contrastive", "budget-128-fine-tune", "budget-all-fine-tune"]
    with pytest.raises(Exception, match="draws: expected one number from 1 to 100, or one per size"):
        load_plan({"name": "b", "domains": {"spam": {"budget": {
            "recipe": "spam/tiny", "key": "data.label_budget", "sizes": [32, None], "draws": [2]}}}})


def test_a_tie_on_the_validation_score_goes_to_the_lower_validation_log_loss_then_the_cheaper(tmp_path):
    records = {"budget-32-fine-tune-d0": _strategy_run(tmp_path, "ft", strategy="fine-tune", draw=0, tuned=0.85,
                                                       validation=1.1, nb=0.8, seconds=30.0, loss=0.05),
               "budget-32-lp-ft-d0": _strategy_run(tmp_path, "lp", strategy="lp-ft", draw=0, tuned=0.7,
                                                   validation=1.1, nb=0.8, seconds=29.0, loss=0.30,
                                                   stage=("linear-probe", 0.7, 1.1))}
    assert budget.curve(records, tmp_path)["points"][0]["picked"] == {"fine-tune": 1}   # not the cheaper probe
