"""Spam filtering: tune a text encoder to separate spam from ham, judged at a low false-positive rate.

Python::

    import suite
    run = suite.tune("spam/tiny")                 # or a recipe path, with overrides
    filter = suite.load(run.path)
    filter.predict(["WIN a FREE cruise!!!", "Minutes of Tuesday's meeting"])

Command line::

    suite train spam/default
    suite predict runs/spam-default-... "WIN a FREE cruise!!!"
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from suite.core import registry
from suite.core.adapters import apply_lora, save_adapters_and_merge
from suite.spam import metrics as spam_metrics
from suite.spam.baselines import fit_baseline
from suite.spam.data import SpamDataConfig, Splits, load_messages, require_both_classes, split_messages
from suite.spam.metrics import HEADLINE, SpamEvalConfig
from suite.spam.model import (SpamModelConfig, SpamPredictor, build_classifier, spam_probabilities, tokenize,
                              weighted_loss)


class SpamDomain:
    """The spam domain as the core sees it (see ``suite.core.registry.Domain``)."""

    name = "spam"
    description = "Text classifier tuned to separate spam from ham; reports recall at a fixed ham FPR."
    primary_metric = "f1"
    greater_is_better = True
    data_config = SpamDataConfig
    model_config = SpamModelConfig
    eval_config = SpamEvalConfig

    def prepare_data(self, recipe: Any) -> Splits:
        return split_messages(load_messages(recipe.data), recipe.data)

    def tune(self, recipe: Any, run: Any, data: Splits, *, resume: bool = False) -> dict:
        scores = self._baseline_scores(recipe, data, data.validation, data.test)
        network, tokenizer = build_classifier(recipe.model)
        if recipe.lora.enabled:
            network = apply_lora(network, recipe.lora, task_type="SEQ_CLS")
        result = self._train(recipe, run, network, tokenizer, data, resume)
        with run.writing_model() as folder:
            plain = save_adapters_and_merge(result.trainer.model, folder)
            validation = spam_probabilities(plain, tokenizer, _texts(data.validation),
                                            max_length=recipe.model.max_length)
            threshold = spam_metrics.operating_threshold(_labels(data.validation), validation,
                                                         recipe.evaluation.target_fpr)
            predictor = SpamPredictor(plain, tokenizer, threshold, recipe.model.max_length,
                                      _predictor_settings(recipe, threshold))
            predictor.save(folder)
        start = time.perf_counter()
        scores["tuned"] = (validation, predictor.scores(_texts(data.test)))
        inference_seconds = time.perf_counter() - start
        report = self._report(recipe, run, data, scores)
        report["training"] = {**result.summary(),
                              "inference_samples_per_second": round(len(data.test) / inference_seconds, 2)}
        return report

    def evaluate(self, run: Any, data: str | None = None) -> dict:
        recipe = run.recipe()
        splits = self.prepare_data(recipe)
        if data is not None:
            other = dataclasses.replace(recipe.data, source=data, max_examples=None)
            splits = Splits(splits.train, splits.validation, load_messages(other))
            require_both_classes(_labels(splits.test).tolist(), where=data)
        scores = self._baseline_scores(recipe, splits, splits.validation, splits.test)
        predictor = self.load(run)
        scores["tuned"] = (None, predictor.scores(_texts(splits.test)))
        return self._report(recipe, None, splits, scores, tuned_threshold=predictor.threshold)

    def load(self, run: Any) -> SpamPredictor:
        return SpamPredictor.from_folder(run.model_dir)

    # -- steps -------------------------------------------------------------------------------
    def _train(self, recipe, run, network, tokenizer, data: Splits, resume: bool):
        from transformers import DataCollatorWithPadding

        from suite.core import training

        train_labels = _labels(data.train)
        return training.train(
            recipe=recipe, run=run, model=network, processing_class=tokenizer, resume=resume,
            train_dataset=tokenize(tokenizer, _texts(data.train), train_labels.tolist(), recipe.model),
            eval_dataset=tokenize(tokenizer, _texts(data.validation), _labels(data.validation).tolist(),
                                  recipe.model),
            data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=spam_metrics.trainer_metrics,
            primary_metric=self.primary_metric, greater_is_better=self.greater_is_better,
            compute_loss_func=weighted_loss(train_labels) if recipe.model.class_weights else None)

    def _baseline_scores(self, recipe, data: Splits, validation, test) -> dict:
        scores = {}
        for name in recipe.evaluation.baselines:
            score = fit_baseline(name, _texts(data.train), _labels(data.train).tolist(), recipe.seed)
            scores[f"baseline:{name}"] = (score(_texts(validation)), score(_texts(test)))
        return scores

    def _report(self, recipe, run, data: Splits, scores: dict, tuned_threshold: float | None = None) -> dict:
        val_labels, test_labels = _labels(data.validation), _labels(data.test)
        models = {}
        for system, (validation, test) in scores.items():
            threshold = tuned_threshold if validation is None else \
                spam_metrics.operating_threshold(val_labels, validation, recipe.evaluation.target_fpr)
            models[system] = spam_metrics.system_report(test_labels, test, threshold, recipe.evaluation)
        if run is not None:
            from suite.core import plots

            curves = {name: (test_labels, test) for name, (_, test) in scores.items()}
            plots.roc_curves(curves, run.plots_dir / "roc.png", title="Spam ROC (test split)",
                             mark_fpr=recipe.evaluation.target_fpr)
            plots.pr_curves(curves, run.plots_dir / "precision_recall.png", title="Spam precision-recall (test)")
        return {"models": models, "headline_metrics": HEADLINE, "data": data.summary(),
                "card_sections": [spam_metrics.threshold_section(name, models[name]) for name in models
                                  if name == "tuned"],
                "notes": [f"Operating thresholds are chosen on the validation split ({len(val_labels)} messages, "
                          f"{int((val_labels == 0).sum())} ham) for a ham FPR of at most "
                          f"{recipe.evaluation.target_fpr:g}; fpr_at_target is what that threshold gives on test."]}


def _texts(messages) -> list[str]:
    return [m.text for m in messages]


def _labels(messages) -> np.ndarray:
    return np.array([m.label for m in messages], dtype=np.int64)


def _predictor_settings(recipe: Any, threshold: float) -> dict:
    return {"threshold": threshold, "target_fpr": recipe.evaluation.target_fpr,
            "max_length": recipe.model.max_length, "text_column": recipe.data.text_column,
            "include_headers": recipe.data.include_headers, "labels": {"0": "ham", "1": "spam"}}


DOMAIN = registry.register(SpamDomain())
