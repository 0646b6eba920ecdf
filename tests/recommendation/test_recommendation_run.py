"""Recommendation-only checks on the tiny run (the shared ones are in tests/contract): every system on the same
users, the comparisons, the hybrid, tuning gain, recommendations, LoRA with cold start and its resume."""

import json

import numpy as np
import pytest

import suite
from suite.core.errors import DataError
from suite.core.recipe import load_recipe
from suite.core.text_encoder import encode
from suite.recommendation.data import TRAIN, VALIDATION, load_splits, read_prediction_inputs
from suite.recommendation.towers import TextWeight

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

SYSTEMS = {"tuned", "zero-shot", "hybrid", "baseline:popularity", "baseline:als", "baseline:bpr", "baseline:ease"}


def test_metrics_json_holds_every_system_on_the_same_users(rec_tiny_run):
    metrics = rec_tiny_run.metrics()
    assert metrics["domain"] == "recommendation" and metrics["primary_metric"] == "ndcg@10"
    assert set(metrics["models"]) == SYSTEMS
    users = {values["users"] for values in metrics["models"].values()}
    assert users == {metrics["data"]["test_users"]}                  # one split, one set of test users
    for system, values in metrics["models"].items():
        for k in (5, 10, 20):
            assert 0 <= values[f"ndcg@{k}"] <= values[f"hr@{k}"] <= 1, system
            assert values[f"mrr@{k}"] <= values[f"ndcg@{k}"] + 1e-12, system
        assert values["hr@5"] <= values["hr@10"] <= values["hr@20"], system


@pytest.mark.parametrize("phase, prefix", [("test", ""), ("taste", "taste_")])
def test_both_protocols_compare_tuned_and_hybrid_with_their_strongest_baseline(rec_tiny_run, phase, prefix):
    """One run, two test phases (the next item, random earlier positives): each with its paired bootstrap against
    the strongest baseline and against popularity, which the tiny recipe names in evaluation.compare_with."""
    metrics, models = rec_tiny_run.metrics(), rec_tiny_run.metrics()["models"]
    assert rec_tiny_run.recipe().evaluation.compare_with == ["popularity"]
    key = f"{prefix}ndcg@10"
    strongest = max((s for s in models if s.startswith("baseline:")), key=lambda s: models[s][key])
    label = "" if phase == "test" else f"{phase}: "
    users = models["tuned"]["users" if phase == "test" else "taste_users"]
    for against in dict.fromkeys([strongest, "baseline:popularity"]):
        for system in ("tuned", "hybrid"):
            c = metrics["comparisons"][f"{label}{system} vs {against}"]
            assert c["phase"] == phase and c["cases"] == users
            assert c["a"] == pytest.approx(models[system][key]) and c["b"] == pytest.approx(models[against][key])
            assert c["difference_low"] <= c["difference"] <= c["difference_high"]
    assert not any(name.startswith(f"{label}tuned vs baseline:") and name.split(" vs ")[1] not in
                   (strongest, "baseline:popularity") for name in metrics["comparisons"])
    assert "## Against the strongest baseline" in (rec_tiny_run.path / "README.md").read_text(encoding="utf-8")


def test_history_length_views_are_reported(rec_tiny_run):
    metrics = rec_tiny_run.metrics()
    buckets = metrics["data"]["by_history_length"]
    assert set(buckets) == {"test", "taste"}
    assert sum(row["users"] for row in buckets["test"]) == metrics["models"]["tuned"]["users"]
    shortened = metrics["data"]["shortened_history"]["test"]
    assert [row["items"] for row in shortened] == rec_tiny_run.recipe().evaluation.shortened_histories
    assert all(0 <= row["tuned"] <= 1 and row["users"] > 0 for row in shortened)
    card = (rec_tiny_run.path / "README.md").read_text(encoding="utf-8")
    assert "## By history length" in card and "## New users" in card


def test_the_text_weight_is_chosen_on_validation_and_saved(rec_tiny_run):
    recipe = rec_tiny_run.recipe()
    tuned = rec_tiny_run.metrics()["models"]["tuned"]
    assert recipe.model.id_dim > 0 and tuned["text_weight"] in recipe.model.text_weights
    assert tuned.get("text_weight_halves_at") in recipe.model.text_weight_halves_at
    loaded = suite.load(rec_tiny_run.path)
    assert loaded.weighting == TextWeight(tuned["text_weight"], tuned.get("text_weight_halves_at"))
    card = (rec_tiny_run.path / "README.md").read_text()
    assert f"text weight {loaded.weighting.describe()} x the text score" in card
    assert tuned["validation_ndcg@10"] == pytest.approx((tuned["next_validation_ndcg@10"] +
                                                         tuned["taste_validation_ndcg@10"]) / 2)


def test_tuning_beats_the_untuned_encoder(rec_tiny_run):
    models = rec_tiny_run.metrics()["models"]
    tuned, zero_shot = models["tuned"], models["zero-shot"]
    # The generated texts carry the topic cycle; only tuning can learn it.
    assert tuned["ndcg@10"] > 1.5 * zero_shot["ndcg@10"]
    assert tuned["ndcg@10"] > models["baseline:popularity"]["ndcg@10"]
    assert tuned["validation_ndcg@10"] > zero_shot["validation_ndcg@10"]


def test_hybrid_weights_come_from_validation(rec_tiny_run):
    metrics = rec_tiny_run.metrics()
    recipe = rec_tiny_run.recipe()
    hybrid = metrics["models"]["hybrid"]
    weights = {system: hybrid[f"{system}_weight"] for system in ["tuned", *recipe.evaluation.hybrid_with]}
    assert set(weights.values()) <= set(recipe.evaluation.hybrid_weights)
    assert sum(weights.values()) == pytest.approx(1.0)
    card = (rec_tiny_run.path / "README.md").read_text()
    chosen = [line for line in card.splitlines() if line.endswith("(chosen) |")]
    assert len(chosen) == 1 and chosen[0].startswith(f"| {weights['tuned']:g} | ")
    # the chosen weights are the best on validation, so the hybrid is at least as good there as tuned or ALS alone
    assert hybrid["validation_ndcg@10"] >= max(metrics["models"][s]["validation_ndcg@10"]
                                               for s in ("tuned", "baseline:als")) - 1e-12


def test_the_saved_encoder_is_the_best_on_validation(rec_tiny_run):
    history = json.loads((rec_tiny_run.path / "logs" / "log_history.json").read_text())
    best = max(h["eval_ndcg@10"] for h in history if "eval_ndcg@10" in h)
    assert rec_tiny_run.metrics()["models"]["tuned"]["validation_ndcg@10"] == pytest.approx(best, abs=1e-4)


def test_save_load_recommend_is_stable(rec_tiny_run):
    recipe = rec_tiny_run.recipe()
    splits = load_splits(recipe.data)
    first, second = suite.load(rec_tiny_run.path), suite.load(rec_tiny_run.path)
    fresh = encode(first.encoder, splits.item_texts)
    np.testing.assert_allclose(first.item_embeddings, fresh, atol=1e-5)   # saved catalogue = saved encoder
    history = [splits.item_ids[i] for i in splits.history(3, TRAIN, VALIDATION)]
    a, b = first.recommend(history, k=10), second.recommend(history, k=10)
    assert [r["item"] for r in a] == [r["item"] for r in b]
    assert np.allclose([r["score"] for r in a], [r["score"] for r in b], atol=1e-5)
    assert not set(history) & {r["item"] for r in a}                # known items are never recommended
    assert [r["score"] for r in a] == sorted((r["score"] for r in a), reverse=True)


def test_evaluate_again_matches_metrics_and_keeps_the_hybrid(rec_tiny_run):
    again = suite.evaluate(rec_tiny_run.path)["models"]
    original = rec_tiny_run.metrics()["models"]
    for system in ("tuned", "baseline:popularity", "baseline:als", "hybrid", "zero-shot"):
        assert again[system]["ndcg@10"] == pytest.approx(original[system]["ndcg@10"], abs=1e-6), system
    assert again["hybrid"]["tuned_weight"] == original["hybrid"]["tuned_weight"]


def test_eval_on_new_interactions_ranks_them_for_known_users(rec_tiny_run, tmp_path):
    recommender = suite.load(rec_tiny_run.path)
    users = list(recommender.histories)[:12]
    rows = ["user,item,rating,timestamp"] + [f"{u},{recommender.item_ids[i]},5,{i}" for i, u in enumerate(users)]
    (tmp_path / "new.csv").write_text("\n".join(rows + ["stranger,i1,5,0", f"{users[0]},unknown-item,5,0"]) + "\n")
    metrics = suite.evaluate(rec_tiny_run.path, data=str(tmp_path / "new.csv"))
    assert metrics["evaluated_on"] == str(tmp_path / "new.csv")
    known = [u for i, u in enumerate(users) if recommender.item_ids[i] not in recommender.histories[u]]
    assert metrics["models"]["tuned"]["users"] == len(known) > 0


def test_predict_users_histories_and_similar_items(rec_tiny_run, tmp_path):
    recommender = suite.load(rec_tiny_run.path)
    user = next(iter(recommender.histories))
    by_user, by_prefix, by_history = recommender.predict([user, f"user:{user}", "items:i3|i17|a velmora story"])
    assert by_user["recommendations"] == by_prefix["recommendations"]
    assert len(by_user["recommendations"]) == 10 and by_history["history"] == ["i3", "i17", "a velmora story"]
    similar = recommender.similar_items("i3", k=5)
    assert len(similar) == 5 and "i3" not in [s["item"] for s in similar]
    (tmp_path / "in.csv").write_text(f"user,items\n{user},\n,i3|i4\n")
    read = read_prediction_inputs(tmp_path / "in.csv")
    assert (read.values, read.ids) == ([f"user:{user}", "items:i3|i4"], [f"{tmp_path / 'in.csv'}:{n}" for n in (2, 3)])


@pytest.mark.parametrize("call, message", [
    (lambda r: r.recommend_user("nobody"), "unknown user 'nobody'"),
    (lambda r: r.recommend([]), "history is empty"),
    (lambda r: r.predict(["items:|"]), "history is empty"),
    (lambda r: r.similar_items(" "), "item is empty"),
])
def test_bad_predict_input_is_one_line(rec_tiny_run, call, message):
    with pytest.raises(DataError, match=message) as error:
        call(suite.load(rec_tiny_run.path))
    assert "\n" not in str(error.value)


def _interrupted_copy(run, folder):
    """A copy of a finished run as a crash in its last epoch leaves it: no metrics, no model, no last checkpoint."""
    import shutil

    shutil.copytree(run.path, folder)
    (folder / "metrics.json").unlink()
    shutil.rmtree(folder / "model")
    checkpoints = sorted(folder.glob("checkpoints/checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert len(checkpoints) == 2                                       # one per epoch
    shutil.rmtree(checkpoints[-1])
    return checkpoints[0].name


def test_lora_with_cold_start(runs_dir, tmp_path):
    """One more tiny run: LoRA adapters (saved beside a merged model) and 20% of items cold."""
    run = suite.tune("recommendation/tiny", lora__enabled=True, train__learning_rate=1e-3,
                     model__id_learning_rate_scale=10,     # the ID tables' rate, 1e-2, as in recommendation/lora
                     data__cold_start_items=0.2, data__synthetic_users=80, evaluation__bpr_iterations=10,
                     train__keep_checkpoints=True, output__runs_dir=str(runs_dir),
                     output__name="rec-tiny-lora-cold")
    metrics = run.metrics()
    training, models = metrics["training"], metrics["models"]
    history = json.loads((run.path / "logs" / "log_history.json").read_text())
    best = max(h["eval_ndcg@10"] for h in history if "eval_ndcg@10" in h)      # the best adapters were kept
    assert models["tuned"]["validation_ndcg@10"] == pytest.approx(best, abs=1e-4)
    assert models["tuned"]["ndcg@10"] > models["zero-shot"]["ndcg@10"]
    # LoRA adapts the encoder; the ID tables are new weights and train in full beside the adapters
    id_weights = metrics["data"]["items"] * (2 * run.recipe().model.id_dim + 1)
    assert id_weights < training["trainable_parameters"] < 0.1 * training["total_parameters"]
    # Cold items had no training interaction: ALS, BPR and EASE cannot score them, the text models can (the tuned
    # model's ID part gives them all the same score, so its text ranks them).
    assert models["baseline:als"]["cold_ndcg@10"] is None and models["baseline:bpr"]["cold_hr@10"] is None
    assert models["baseline:ease"]["cold_ndcg@10"] is None
    assert models["tuned"]["cold_users"] == metrics["models"]["zero-shot"]["cold_users"] > 0
    assert models["tuned"]["cold_ndcg@10"] > models["baseline:popularity"]["cold_ndcg@10"]
    assert "cold_ndcg@10" in metrics["headline_metrics"]
    recommender = suite.load(run.path)
    assert [r["item"] for r in recommender.recommend(["i1", "i2"], k=3)] == \
        [r["item"] for r in suite.load(run.path).recommend(["i1", "i2"], k=3)]
    # The adapters live inside the encoder and their weights beside each checkpoint, so an interrupted LoRA
    # run resumes too.
    kept = _interrupted_copy(run, tmp_path / "lora-interrupted")
    resumed = suite.resume(tmp_path / "lora-interrupted").metrics()
    assert resumed["training"]["resumed_from"] == f"checkpoints/{kept}"
    assert resumed["training"]["trainable_parameters"] == training["trainable_parameters"]
    assert resumed["models"]["tuned"]["ndcg@10"] == pytest.approx(models["tuned"]["ndcg@10"], abs=0.01)


def test_the_text_tower_alone_on_leave_last_out(runs_dir):
    """``model.id_dim: 0`` (no ID tower) with the one-protocol split: one tower's scores reach the metrics."""
    run = suite.tune("recommendation/tiny", model__id_dim=0, data__split="leave-last-out", train__epochs=1,
                     data__synthetic_users=80, evaluation__bpr_iterations=10,
                     evaluation__shortened_histories=[], output__runs_dir=str(runs_dir), output__name="rec-text-only")
    models = run.metrics()["models"]
    assert not any(key.startswith("taste_") for key in models["tuned"])
    assert models["tuned"]["ndcg@10"] > models["zero-shot"]["ndcg@10"]


def test_every_bundled_recommendation_recipe_validates():
    for name in ("tiny", "default", "lora", "hub"):
        recipe = load_recipe(f"recommendation/{name}")
        assert recipe.evaluation.ks == [5, 10, 20] and recipe.data.split == "next-and-taste"
