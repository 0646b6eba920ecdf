"""Few labels on spam: a label budget with the contrastive strategy (SetFit) trained end to end, and a finished
run adapted to new mail (``suite adapt``) without touching it."""

import pytest

import suite
from suite.core import pipeline, registry
from suite.spam.data import labels_of, prepare

pytestmark = pytest.mark.slow    # trains models: not in the fast lane

FEW = dict(data__label_budget=24, train__contrastive__pairs_per_example=4, train__max_steps=4,
           evaluation__hybrid_weights=[])


@pytest.fixture(scope="module")
def fewshot_run(tmp_path_factory):
    return suite.tune("spam/tiny", train__strategy="contrastive-lp-ft", output__name="spam-fewshot",
                      output__runs_dir=str(tmp_path_factory.mktemp("runs")), **FEW)


def test_a_label_budget_is_all_the_labels_a_run_sees(fewshot_run):
    metrics = fewshot_run.metrics()
    data = metrics["data"]
    assert data["train"] + data["validation"] == data["label_budget"] == 24 and data["test"] == 40
    assert data["spam_train"] >= 2 and data["spam_validation"] >= 1


def test_contrastive_then_probe_then_fine_tuning_each_leave_their_trace(fewshot_run):
    metrics = fewshot_run.metrics()
    training = metrics["training"]
    assert training["strategy"] == "contrastive-lp-ft"
    assert [p["phase"] for p in training["phases"]] == ["contrastive", "probe", "fine-tune"]
    contrastive = training["phases"][0]
    assert contrastive["examples"] == 2 * 4 * 18 and contrastive["steps"] == 9       # 144 pairs of 16
    assert training["training_flops"] == pytest.approx(sum(p["flops"] for p in training["phases"]))
    assert "stage:contrastive" in metrics["models"] and metrics["roles"]["stage:contrastive"] == "stage"
    assert metrics["models"]["stage:contrastive"]["roc_auc"] > 0.7           # a tuned encoder and a fitted head
    for system in ("tuned", "stage:contrastive"):
        assert 0 < metrics["models"][system]["validation_score"] <= 1.1
        assert metrics["models"][system]["validation_log_loss"] > 0
    assert (fewshot_run.path / "plots" / "learning_curves-contrastive.png").is_file()
    assert not (fewshot_run.path / "checkpoints").exists()                  # a finished run keeps model/ only


def test_the_saved_model_predicts_what_the_run_reported(fewshot_run):
    predictor = suite.load(fewshot_run.path)
    recipe = fewshot_run.recipe()
    test = prepare(recipe.data).test
    scores = predictor.scores([m.text for m in test])
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(labels_of(test), scores) == pytest.approx(fewshot_run.metrics()["models"]["tuned"]["roc_auc"],
                                                                   abs=1e-9)


def _new_mail(path, recipe):
    """Mail the parent never saw: its test split (40 mails), written as a CSV (a user's newly labelled sample)."""
    import csv

    test = prepare(recipe.data).test
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([m.text, "spam" if m.label else "ham"] for m in test)
    return path


def test_adapt_continues_a_run_on_new_mail_and_leaves_it_unchanged(spam_tiny_run, tmp_path):
    parent = spam_tiny_run.path
    before = {p: p.read_bytes() for p in sorted(parent.rglob("*")) if p.is_file()}
    new = _new_mail(tmp_path / "new.csv", spam_tiny_run.recipe())
    adapted = suite.adapt(parent, data=str(new), train__max_steps=3, output__runs_dir=str(tmp_path / "runs"))
    assert {p: p.read_bytes() for p in sorted(parent.rglob("*")) if p.is_file()} == before
    recipe = adapted.recipe()
    assert recipe.parent == str(parent.resolve()) and recipe.name == "tiny-adapted"
    assert recipe.model.source == str((parent / "model").resolve()) and recipe.train.strategy == "lp-ft"
    metrics = adapted.metrics()
    assert metrics["training"]["strategy"] == "lp-ft" and "stage:linear-probe" in metrics["models"]
    assert metrics["data"]["train"] + metrics["data"]["validation"] + metrics["data"]["test"] == 40
    domain = registry.get_domain("spam")
    data = domain.prepare_data(recipe)
    learned = pipeline.baseline_data(domain, recipe, data)        # the baselines see the old mail and the new
    assert len(learned.train) == len(data.train) + len(domain.prepare_data(spam_tiny_run.recipe()).train)
    predictor = suite.load(adapted.path)
    assert predictor.threshold == metrics["models"]["tuned"]["threshold"]
    assert len(predictor.predict(["WIN a FREE cruise", "Minutes of the meeting"])) == 2
