"""The spam domain's hooks (see :class:`suite.core.registry.Domain`): what differs from the shared run.

The data are e-mails split three ways (or a label budget drawn from the first two); the model is a
pretrained sentence encoder with a two-class linear head, which the core can fit as a probe and whose
encoder it can tune on pairs (every ``train.strategy``); the systems are scored as P(spam) on validation
(to choose each operating threshold) and test (to report it).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.core import memory, sources, strategies
from suite.core.config import load_settings
from suite.core.inputs import Inputs
from suite.core.operating import Target
from suite.core.registry import Model, Report, TrainingInputs
from suite.core.text_encoder import MINILM
from suite.spam import data as spam_data
from suite.spam import metrics as spam_metrics
from suite.spam.baselines import FittedBaseline, fit_baseline
from suite.spam.config import SpamDataConfig, SpamEvalConfig, SpamModelConfig
from suite.spam.data import Splits, labels_of, texts_of
from suite.spam.model import SpamPredictor, build_classifier, embeddings, tokenize, weighted_loss
from suite.spam.onnx_model import OnnxSpamPredictor
from suite.spam.onnx_model import graph as onnx_graph

if TYPE_CHECKING:
    from suite.core.recipe import Recipe


class SpamDomain:
    """Spam filtering: a text classifier judged at a fixed, low false-positive rate on ham."""

    name = "spam"
    description = "Text classifier tuned to separate spam from ham; reports recall at a fixed ham FPR."
    primary_metric = "f1"
    greater_is_better = True
    example_unit = "messages"
    serving_module = "suite.spam.serving"     # suite serve
    bundled_models = {"minilm": MINILM}
    data_config = SpamDataConfig
    model_config = SpamModelConfig
    eval_config = SpamEvalConfig

    def check_source(self, recipe: Recipe, path: Path) -> None:
        sources.check_transformers_folder(path, source=recipe.model.source)

    def memory_needs(self, recipe: Recipe) -> list[memory.MemoryNeed]:
        train, length = recipe.train, recipe.model.max_length
        return [memory.MemoryNeed(memory.transformer_batch(train.batch_size, length), "a training batch",
                                  ("train.batch_size", "model.max_length")),
                memory.MemoryNeed(memory.transformer_batch(train.eval_batch_size, length) / 2, "an evaluation batch",
                                  ("train.eval_batch_size", "model.max_length")),
                memory.MemoryNeed(memory.transformer_batch(2 * train.contrastive.batch_size, length),
                                  "a batch of contrastive pairs", ("train.contrastive.batch_size", "model.max_length"))]

    def training_examples(self, recipe: Recipe, data: Splits) -> int:
        return len(data.train)

    def prepare_data(self, recipe: Recipe) -> Splits:
        return spam_data.prepare(recipe.data)

    def with_test_data(self, recipe: Recipe, data: Splits, source: str) -> Splits:
        return spam_data.with_test_data(recipe.data, data, source)

    def fit_baselines(self, recipe: Recipe, data: Splits) -> dict[str, dict]:
        return {name: self.outputs(self.baseline_scorer(recipe, data, name), recipe, data)
                for name in recipe.evaluation.baselines}

    def baseline_scorer(self, recipe: Recipe, data: Splits, name: str) -> FittedBaseline:
        """Baseline ``name`` fitted on the training split (the same seed gives the same model every time)."""
        return fit_baseline(name, texts_of(data.train), labels_of(data.train).tolist(), recipe.seed)

    def build_model(self, recipe: Recipe, data: Splits) -> Model:
        network, tokenizer = build_classifier(recipe.model, dropout=strategies.head_dropout(recipe, 0.1))
        return Model(network=network, processing_class=tokenizer, head=["classifier"])

    def head_layer(self, model: Model) -> Any:
        return model.network.classifier

    def head_features(self, recipe: Recipe, data: Splits, model: Model) -> tuple:
        cfg = recipe.model
        return embeddings(model.network, model.processing_class, texts_of(data.train), max_length=cfg.max_length,
                          tail_tokens=cfg.tail_tokens), labels_of(data.train)

    def with_earlier_training(self, data: Splits, earlier: Splits) -> Splits:
        return dataclasses.replace(data, train=earlier.train + data.train)

    def encoder(self, model: Model) -> Any:
        return model.network.encoder

    def pair_examples(self, recipe: Recipe, data: Splits) -> tuple:
        return texts_of(data.train), labels_of(data.train)

    def training_inputs(self, recipe: Recipe, data: Splits, model: Model) -> TrainingInputs:
        from transformers import DataCollatorWithPadding

        tokenizer, cfg = model.processing_class, recipe.model
        train_labels = labels_of(data.train)
        return TrainingInputs(
            train_dataset=tokenize(tokenizer, texts_of(data.train), train_labels.tolist(), cfg),
            eval_dataset=tokenize(tokenizer, texts_of(data.validation), labels_of(data.validation).tolist(), cfg),
            data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=spam_metrics.trainer_metrics,
            trainer_kwargs={"compute_loss_func": weighted_loss(train_labels) if cfg.class_weights else None})

    def make_predictor(self, recipe: Recipe, data: Splits, model: Model, *, tuned: bool) -> SpamPredictor:
        predictor = SpamPredictor(model.network, model.processing_class, recipe.model, recipe.data, 0.5,
                                  recipe.evaluation.target_fpr)
        validation = predictor.scores(texts_of(data.validation))
        predictor.threshold = spam_metrics.operating_threshold(labels_of(data.validation), validation,
                                                               recipe.evaluation.target_fpr)
        return predictor

    def outputs(self, predictor: SpamPredictor | FittedBaseline, recipe: Recipe, data: Splits) -> dict:
        return {"validation": predictor.scores(texts_of(data.validation)),
                "test": predictor.scores(texts_of(data.test))}

    def report(self, recipe: Recipe, data: Splits, outputs: dict[str, dict], *, predictor: SpamPredictor,
               plots_dir: Path | None) -> Report:
        return spam_metrics.report(recipe.evaluation, data, outputs, tuned_threshold=predictor.threshold,
                                   plots_dir=plots_dir, seed=recipe.seed)

    def operating_target(self, recipe: Recipe, data: Splits) -> Target:
        """At most ``evaluation.target_fpr`` of ham flagged."""
        return Target("fpr", recipe.evaluation.target_fpr)

    def labelled_scores(self, data: Splits, outputs: dict, part: str) -> tuple:
        return labels_of(getattr(data, part)), outputs[part]

    blend_space = "logit"        # probabilities: added as log-odds, so the hybrid's score is one too

    def hybrid_settings(self, recipe: Recipe) -> tuple[list[str], list[float]]:
        ev = recipe.evaluation
        return (ev.baselines if ev.hybrid_with is None else ev.hybrid_with), ev.hybrid_weights

    def validation_score(self, recipe: Recipe, data: Splits, scores: Any) -> float:
        ev = recipe.evaluation
        return spam_metrics.validation_score(labels_of(data.validation), scores, target_fpr=ev.target_fpr,
                                             operating_weight=ev.hybrid_operating_weight)

    def load_predictor(self, folder: Path) -> SpamPredictor:
        return SpamPredictor.from_folder(folder)

    def onnx_graph(self, predictor: SpamPredictor, recipe: Recipe, data: Splits) -> Any:
        return onnx_graph(predictor)

    def load_onnx_predictor(self, folder: Path, session: Any) -> OnnxSpamPredictor:
        return OnnxSpamPredictor.from_folder(folder, session)

    def read_inputs(self, model_dir: Path, *, inline: list[str], path: Path | None) -> Inputs:
        """Messages: inline texts, or a .txt (one per line), .csv/.jsonl (the trained text column), .eml, .mbox
        or a folder of e-mails; each with its id."""
        if path is None:
            return Inputs.inline(inline)
        cfg = load_settings(model_dir, {"data": SpamDataConfig})["data"]
        return spam_data.read_texts(Path(path), text_column=cfg.text_column, include_headers=cfg.include_headers)

DOMAIN = SpamDomain()
