"""Recommendation: tune a sentence encoder on user-item interactions, against popularity, ALS and BPR.

Every system is judged on the same users x items split by the same ranking code
(``suite.core.metrics.ranking``): full ranking of the catalogue, known items removed,
NDCG@10 first. See ``suite.recommendation.metrics`` for the protocol.

Python::

    import suite
    run = suite.tune("recommendation/tiny")
    recommender = suite.load(run.path)
    recommender.recommend(["i3", "i17"], k=5)       # a history the model never saw
    recommender.recommend_user("u4", k=5)           # a user of the training data
    recommender.similar_items("i3", k=5)

Command line::

    suite train recommendation/default
    suite predict runs/recommendation-default-... user:196 "items:50|181|Heat (1995)"
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from suite.core import registry
from suite.core.adapters import inject_lora, save_injected_and_merge
from suite.core.errors import DataError
from suite.recommendation import metrics as rec_metrics
from suite.recommendation.baselines import NEEDS_ITEM_FACTORS, FactorParams, fit_baseline
from suite.recommendation.data import (COLD, MOVIELENS, TEST, TRAIN, VALIDATION, RecDataConfig, Splits, load_splits,
                                       pull)
from suite.recommendation.losses import build_loss
from suite.recommendation.metrics import HEADLINE, Phase, RecEvalConfig
from suite.recommendation.model import (RecModelConfig, Recommender, build_encoder, encode, mean_history,
                                        training_pairs, user_texts)

PRIMARY = "ndcg@10"
NO_COLD_START = {f"baseline:{name}" for name in NEEDS_ITEM_FACTORS}


class RecommendationDomain:
    """The recommendation domain as the core sees it (see ``suite.core.registry.Domain``)."""

    name = "recommendation"
    description = "Sentence encoder tuned on user-item interactions; NDCG@10 against popularity, ALS and BPR."
    primary_metric = PRIMARY
    greater_is_better = True
    data_config = RecDataConfig
    model_config = RecModelConfig
    eval_config = RecEvalConfig
    datasets = (MOVIELENS,)      # what `pull` fetches (for a `suite data pull NAME` command)

    def pull(self, name: str, *, force: bool = False) -> Path:
        """Fetch data set ``name`` into the user cache (see ``data.pull``) and return its folder."""
        return pull(name, force=force)

    def prepare_data(self, recipe: Any) -> Splits:
        splits = load_splits(recipe.data)
        if rec_metrics.phase(splits, "validation") is None:
            raise DataError(f"data.source '{recipe.data.source}': no user has enough positives for a validation "
                            "item (needed to pick checkpoints and the hybrid weights)")
        return splits

    def tune(self, recipe: Any, run: Any, data: Splits, *, resume: bool = False) -> dict:
        phases = _phases(data)
        encoder = build_encoder(recipe.model)
        scores = self._baseline_scores(recipe, data, phases)
        if recipe.evaluation.zero_shot:
            scores["zero-shot"] = text_scores(encoder, data, phases, recipe, user=recipe.evaluation.zero_shot_user)
        if recipe.lora.enabled:
            inject_lora(encoder, recipe.lora)     # in place: the trainer's best-model reload and resume work
        pairs = training_pairs(data, recipe.model, recipe.seed)
        result = self._train(recipe, run, encoder, data, phases, pairs, resume)
        with run.writing_model() as folder:
            save_injected_and_merge(encoder, folder)     # adapters to model/adapter; no-op without LoRA
            start = time.perf_counter()
            item_embeddings = encode(encoder, data.item_texts, batch_size=recipe.evaluation.encode_batch_size)
            catalogue_seconds = time.perf_counter() - start
            start = time.perf_counter()
            scores["tuned"] = text_scores(encoder, data, phases, recipe, item_embeddings=item_embeddings)
            scoring_seconds = time.perf_counter() - start
            weights, tried = self._hybrid(recipe, scores, phases)
            predictor = Recommender(encoder, data.item_ids, data.item_texts, item_embeddings,
                                    _histories(data), _settings(recipe, weights))
            predictor.save(folder)
        report = self._report(recipe, data, phases, scores, weights, tried)
        report["data"]["training_pairs"] = len(pairs)
        report["training"] = {**result.summary(), "catalogue_encode_seconds": round(catalogue_seconds, 2),
                              "score_all_users_seconds": round(scoring_seconds, 2)}
        return report

    def evaluate(self, run: Any, data: str | None = None) -> dict:
        recipe = run.recipe()
        if data is not None:
            recipe = dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, source=data))
        splits = self.prepare_data(recipe)
        phases = _phases(splits)
        scores = self._baseline_scores(recipe, splits, phases)
        if recipe.evaluation.zero_shot:
            scores["zero-shot"] = text_scores(build_encoder(recipe.model), splits, phases, recipe,
                                              user=recipe.evaluation.zero_shot_user)
        predictor = self.load(run)
        scores["tuned"] = text_scores(predictor.encoder, splits, phases, recipe)
        return self._report(recipe, splits, phases, scores, hybrid_weights(predictor.settings), None)

    def load(self, run: Any) -> Recommender:
        return Recommender.from_folder(run.model_dir)

    # -- steps -------------------------------------------------------------------------------
    def _train(self, recipe, run, encoder, data: Splits, phases: dict, pairs, resume: bool):
        from sentence_transformers import SentenceTransformerTrainer
        from sentence_transformers.sentence_transformer.training_args import (BatchSamplers,
                                                                               SentenceTransformerTrainingArguments)

        from suite.core import training

        args = training.training_arguments(recipe, run, primary_metric=PRIMARY, greater_is_better=True,
                                           args_class=SentenceTransformerTrainingArguments,
                                           batch_sampler=BatchSamplers.NO_DUPLICATES)
        evaluator = validation_evaluator(data, phases["validation"], recipe)
        return training.train(
            recipe=recipe, run=run, model=encoder, train_dataset=pairs, eval_dataset=None, compute_metrics=None,
            primary_metric=PRIMARY, greater_is_better=True, trainer_class=SentenceTransformerTrainer, args=args,
            resume=resume, loss=build_loss(recipe.model.loss, encoder, scale=recipe.model.loss_scale),
            evaluator=evaluator)

    def _baseline_scores(self, recipe, data: Splits, phases: dict) -> dict:
        ev = recipe.evaluation
        params = {"popularity": None,
                  "als": FactorParams(ev.als_factors, ev.als_iterations, ev.als_regularization),
                  "bpr": FactorParams(ev.bpr_factors, ev.bpr_iterations, ev.bpr_regularization,
                                      ev.bpr_learning_rate)}
        fit_on = {"validation": data.matrix(TRAIN), "test": data.matrix(TRAIN, VALIDATION)}
        scores = {}
        for name in ev.baselines:
            fitted = {part: fit_baseline(name, train=matrix, params=params[name], seed=recipe.seed)
                      for part, matrix in fit_on.items()}
            scores[f"baseline:{name}"] = {p.name: fitted["validation" if p.name == "validation" else "test"](p.users)
                                          for p in phases.values()}
        return scores

    def _hybrid(self, recipe, scores: dict, phases: dict) -> tuple[dict | None, list | None]:
        ev = recipe.evaluation
        if not ev.hybrid_weights:
            return None, None
        validation = {system: _system_scores(scores, system)["validation"] for system in ["tuned", *ev.hybrid_with]}
        weights, tried = rec_metrics.pick_weights(validation, phases["validation"], ev.hybrid_weights)
        return weights, tried

    def _report(self, recipe, data: Splits, phases: dict, scores: dict, weights: dict | None, tried) -> dict:
        ks = recipe.evaluation.ks
        if weights is not None:
            blended = {system: _system_scores(scores, system) for system in weights}
            scores["hybrid"] = {n: rec_metrics.blend({s: by_phase[n] for s, by_phase in blended.items()}, weights)
                                for n in phases}
        models = {}
        for system, by_phase in scores.items():
            models[system] = rec_metrics.system_report(by_phase, phases, ks,
                                                       scores_cold_items=system not in NO_COLD_START)
        if weights is not None:
            models["hybrid"].update({f"{system}_weight": weight for system, weight in weights.items()})
        notes = [
            "Full ranking of the catalogue with each user's known positives removed; baselines are fitted on "
            "train + validation for the test, on train alone for validation (checkpoints, hybrid weights).",
            f"Hybrid: {rec_metrics.describe(weights) if weights else 'off'}, each score standardised per user; "
            "the weights were chosen on validation only."]
        if phases.get("cold") is not None:
            notes.append(f"Cold start: {data.cold_items.size} items removed from training; cold_* rank only them "
                         f"for the {phases['cold'].users.size} users whose test item is one of them. ALS and BPR "
                         "have no factors for such items (reported as –); popularity ranks them in index order.")
        comparisons = _comparisons(scores, models, phases["test"], recipe.seed)
        sections = [rec_metrics.comparison_section(comparisons)] if comparisons else []
        sections += [rec_metrics.hybrid_section(weights, tried)] if tried else []
        headline = HEADLINE if "cold" in phases else [m for m in HEADLINE if not m.startswith("cold_")]
        return {"models": models, "comparisons": comparisons, "headline_metrics": headline, "data": data.summary(),
                "notes": notes, "card_sections": sections}


def validation_evaluator(data: Splits, validation: Phase, recipe: Any):
    """A sentence-transformers evaluator: NDCG@10 (and HR@10) on the validation phase, to pick checkpoints.

    Its keys have no prefix, so the Trainer logs ``eval_ndcg@10`` and ``metric_for_best_model``
    (``ndcg@10``, the domain's primary metric) finds it.
    """
    from sentence_transformers.base.evaluation import BaseEvaluator

    class ValidationEvaluator(BaseEvaluator):
        def __init__(self):
            super().__init__()
            self.primary_metric = PRIMARY

        def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict:
            scores = text_scores(model, data, {"validation": validation}, recipe)
            report = rec_metrics.evaluate_phase(scores["validation"], validation, [10])
            return {PRIMARY: report[PRIMARY], "hr@10": report["hr@10"]}

    return ValidationEvaluator()


def text_scores(encoder: Any, data: Splits, phases: dict, recipe: Any, *, user: str = "history",
                item_embeddings: np.ndarray | None = None) -> dict:
    """Cosine scores of every phase's users against every catalogue item: ``{phase name: array}``.

    Args:
        encoder: the sentence encoder.
        data: the split; phases: ``{name: Phase}``; recipe: for history length and batch size.
        user: ``history`` (encode the history text) or ``mean`` (mean of history item embeddings).
        item_embeddings: precomputed catalogue embeddings (default: encoded here).
    """
    batch = recipe.evaluation.encode_batch_size
    items = item_embeddings if item_embeddings is not None else encode(encoder, data.item_texts, batch_size=batch)
    out = {}
    for name, at in phases.items():
        if user == "mean":
            queries = mean_history(items, data, at.users, at.history_parts)
        else:
            queries = encode(encoder, user_texts(data, at.users, at.history_parts, recipe.model.history_items),
                             batch_size=batch)
        out[name] = queries @ items.T
    return out


def _comparisons(scores: dict, models: dict, test: Phase, seed: int) -> dict:
    """The tuned model and the hybrid against the baseline with the best test NDCG@10 (none: no baseline)."""
    baselines = [system for system in models if system.startswith("baseline:")]
    if not baselines:
        return {}
    strongest = max(baselines, key=lambda system: models[system][PRIMARY])
    systems = [system for system in ("tuned", "hybrid") if system in scores]
    return rec_metrics.compare({system: scores[system]["test"] for system in [*systems, strongest]}, test, systems,
                               strongest, metric=PRIMARY, seed=seed)


def _phases(data: Splits) -> dict:
    return {name: at for name in ("validation", "test", "cold") if (at := rec_metrics.phase(data, name))}


def _histories(data: Splits) -> dict:
    return {user: [data.item_ids[i] for i in data.history(u, TRAIN, VALIDATION, TEST, COLD)]
            for u, user in enumerate(data.user_ids)}


def _system_scores(scores: dict, system: str) -> dict:
    """``{phase: scores}`` of the tuned model (``tuned``) or a baseline (``als``, ``bpr``, ``popularity``)."""
    return scores[system if system == "tuned" else f"baseline:{system}"]


def hybrid_weights(settings: dict) -> dict | None:
    """The hybrid weights a saved recommender was chosen with; runs made before the hybrid could blend
    several baselines saved one tuned weight against ALS."""
    if settings.get("hybrid_weights") is not None:
        return settings["hybrid_weights"]
    weight = settings.get("hybrid_weight")
    return None if weight is None else {"tuned": weight, "als": round(1.0 - weight, 6)}


def _settings(recipe: Any, weights: dict | None) -> dict:
    return {"history_items": recipe.model.history_items, "max_length": recipe.model.max_length, "k": 10,
            "hybrid_weights": weights, "source": recipe.data.source,
            "orientation": "users x items; recommendations rank catalogue items for one user or history"}


DOMAIN = registry.register(RecommendationDomain())
