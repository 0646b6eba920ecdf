"""Diagnostics: tune a timm vision backbone on medical images, reported in clinical terms.

Python::

    import suite
    run = suite.tune("diagnostics/tiny")           # synthetic scans, seconds
    model = suite.load(run.path)
    model.predict(["scan.png"])                    # [{'image': 'scan.png', 'probability': ..., 'label': ...}]

Command line::

    suite train diagnostics/default
    suite predict runs/diagnostics-default-... scan.png more.png
    suite predict runs/diagnostics-default-... --input scans/        # a folder, or a CSV with a path column

The offline default data are SYNTHETIC (datasets/synthetic-scans): no patient, no real finding.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from suite.core import registry
from suite.core.adapters import apply_lora, save_adapters_and_merge
from suite.core.errors import DataError
from suite.core.runs import Run
from suite.diagnostics import metrics as dx
from suite.diagnostics.baselines import fit_baseline
from suite.diagnostics.data import (DiagnosticsDataConfig, ImageSet, Splits, load_splits, read_source,
                                    sample_fraction)
from suite.diagnostics.metrics import HEADLINE, HEADLINE_MULTI, DiagnosticsEvalConfig
from suite.diagnostics.model import (DiagnosticsModelConfig, DiagnosticsPredictor, apply_strategy, build_network,
                                     parameter_groups, probabilities)
from suite.diagnostics.saliency import saliency_pngs
from suite.diagnostics.transforms import ImageDataset, build_transform, collate, data_config


class DiagnosticsDomain:
    """The diagnostics domain as the core sees it (see ``suite.core.registry.Domain``)."""

    name = "diagnostics"
    description = "timm vision backbone tuned on medical images; reports AUROC, sensitivity at fixed specificity."
    primary_metric = "auroc"
    greater_is_better = True
    data_config = DiagnosticsDataConfig
    model_config = DiagnosticsModelConfig
    eval_config = DiagnosticsEvalConfig

    def prepare_data(self, recipe: Any) -> Splits:
        return load_splits(recipe.data)

    def tune(self, recipe: Any, run: Any, data: Splits, *, resume: bool = False) -> dict:
        scores = self._baseline_scores(recipe, data, data.validation.images, data.test.images)
        network = build_network(recipe.model, num_outputs=_outputs(data), task=data.task,
                                lora=recipe.lora.enabled)
        config = data_config(network.backbone, recipe.model.image_size)
        if recipe.lora.enabled:
            network = apply_lora(network, _lora_section(recipe.lora, network),
                                 modules_to_save=[_classifier_name(network)])
        else:
            apply_strategy(network, recipe.model)
        result = self._train(recipe, run, network, config, data, resume)
        eval_transform = build_transform(config, None)
        with run.writing_model() as folder:
            plain = save_adapters_and_merge(result.trainer.model, folder)
            validation = probabilities(plain, data.validation.images, eval_transform, data.task)
            threshold = dx.operating_threshold(data.task, data.validation.labels, validation, recipe.evaluation)
            predictor = DiagnosticsPredictor(plain, _settings(recipe, data, plain, config, threshold))
            predictor.save(folder)
        start = time.perf_counter()
        scores["tuned"] = (validation, predictor.scores(data.test.images))
        seconds = time.perf_counter() - start
        self._saliency(recipe, run, predictor, data)
        curve = self._sample_efficiency(recipe, run, data, scores)
        report = self._report(recipe, run, data, scores)
        if curve:
            report["sample_efficiency"] = curve
        report["training"] = {**result.summary(), "inference_images_per_second": round(len(data.test) / seconds, 1),
                              "strategy": "lora" if recipe.lora.enabled else recipe.model.strategy,
                              "pretrained": recipe.model.pretrained}
        return report

    def evaluate(self, run: Any, data: str | None = None) -> dict:
        recipe = run.recipe()
        splits = self.prepare_data(recipe)
        if data is not None:
            splits = dataclasses.replace(splits, test=_external_test(recipe.data, data, splits.class_names),
                                         origin=f"{splits.origin}; test: {data}")
        scores = self._baseline_scores(recipe, splits, splits.validation.images, splits.test.images)
        predictor = self.load(run)
        scores["tuned"] = (None, predictor.scores(splits.test.images))
        return self._report(recipe, None, splits, scores, tuned_threshold=predictor.threshold)

    def load(self, run: Any) -> DiagnosticsPredictor:
        return DiagnosticsPredictor.from_folder(run.model_dir)

    # -- steps -------------------------------------------------------------------------------
    def _train(self, recipe: Any, run: Any, network: Any, config: dict, data: Splits, resume: bool):
        import torch

        from suite.core import training

        args = training.training_arguments(
            recipe, run, primary_metric=self.primary_metric, greater_is_better=self.greater_is_better,
            train_sampling_strategy="random",      # images have no length to group by
            remove_unused_columns=False, label_names=["labels"])
        groups = parameter_groups(network, learning_rate=recipe.train.learning_rate,
                                  backbone_lr_scale=recipe.model.backbone_lr_scale,
                                  weight_decay=recipe.train.weight_decay)
        return training.train(
            recipe=recipe, run=run, model=network, args=args, resume=resume, data_collator=collate,
            train_dataset=ImageDataset(data.train.images, data.train.labels,
                                       build_transform(config, recipe.model.augment)),
            eval_dataset=ImageDataset(data.validation.images, data.validation.labels, build_transform(config, None)),
            compute_metrics=dx.trainer_metrics(data.task), primary_metric=self.primary_metric,
            greater_is_better=self.greater_is_better,
            optimizer_cls_and_kwargs=(torch.optim.AdamW, {"params": groups, "lr": recipe.train.learning_rate}))

    def _sample_efficiency(self, recipe: Any, run: Any, data: Splits, scores: dict) -> dict:
        """Train pretrained and random-init copies on shares of the training images; adds ``scratch`` to scores.

        Every copy gets the full run's budget and cadence (optimiser steps, evaluation every
        epoch-of-all-images steps), so a small share is not also handicapped by less compute.
        """
        fractions = sorted(set(recipe.evaluation.sample_efficiency))
        if not fractions:
            return {}
        budget = _budget(recipe, len(data.train))
        curve = {"fractions": [*fractions, 1.0], "train_images": [], "pretrained": [], "scratch": [],
                 "steps": budget.max_steps}
        for fraction in curve["fractions"]:
            train = sample_fraction(data.train, fraction, recipe.seed) if fraction < 1 else data.train
            curve["train_images"].append(len(train))
            for pretrained in (True, False):
                if pretrained and fraction == 1.0:
                    validation, test = scores["tuned"]
                else:
                    name = f"{'pretrained' if pretrained else 'scratch'}-{fraction:g}"
                    validation, test = self._variant(recipe, Run(run.path / "sample-efficiency" / name),
                                                     dataclasses.replace(data, train=train), budget, pretrained)
                if not pretrained and fraction == 1.0:
                    scores["scratch"] = (validation, test)
                auroc = dx.quick_auroc(data.task, data.test.labels, test)
                curve["pretrained" if pretrained else "scratch"].append(auroc)
        matched = [f for f, a in zip(curve["fractions"], curve["pretrained"]) if a >= curve["scratch"][-1]]
        curve["pretrained_share_to_match_scratch"] = matched[0] if matched else None
        dx.sample_efficiency_plot(curve, run.plots_dir / "sample_efficiency.png")
        return curve

    def _variant(self, recipe: Any, run: Any, data: Splits, budget: Any, pretrained: bool) -> tuple:
        """Train one copy with the ``budget`` train section, pretrained or not (then the backbone learns at the
        head's rate); return its (validation, test) probabilities."""
        model = dataclasses.replace(recipe.model, pretrained=pretrained,
                                    backbone_lr_scale=recipe.model.backbone_lr_scale if pretrained else 1.0)
        network = build_network(model, num_outputs=_outputs(data), task=data.task)
        config = data_config(network.backbone, model.image_size)
        apply_strategy(network, model)
        trainer = self._train(dataclasses.replace(recipe, model=model, train=budget), run, network, config, data,
                              False).trainer
        run.discard_checkpoints()
        transform = build_transform(config, None)
        return tuple(probabilities(trainer.model, part.images, transform, data.task)
                     for part in (data.validation, data.test))

    def _baseline_scores(self, recipe: Any, data: Splits, validation: list, test: list) -> dict:
        scores = {}
        for name in recipe.evaluation.baselines:
            score = fit_baseline(name, images=data.train.images, labels=data.train.labels, task=data.task,
                                 recipe=recipe)
            scores[f"baseline:{name}"] = (score(validation), score(test))
        return scores

    def _saliency(self, recipe: Any, run: Any, predictor: DiagnosticsPredictor, data: Splits) -> None:
        count = min(recipe.evaluation.saliency_images, len(data.test))
        if not count:
            return
        labels = data.test.labels if data.test.labels.ndim == 1 else data.test.labels.max(axis=1)
        chosen = list(np.argsort(-labels, kind="stable")[:count])      # cases with a finding first
        probs = predictor.scores([data.test.images[i] for i in chosen])
        titles = [f"test {i}: label {data.class_names[int(labels[i])] if data.task != 'multilabel' else labels[i]}"
                  f", p={float(np.max(p)):.2f}" for i, p in zip(chosen, probs)]
        saliency_pngs(predictor.network, [data.test.images[i] for i in chosen], predictor.transform, data.task,
                      run.plots_dir, names=[f"test-{i}" for i in chosen], titles=titles)

    def _report(self, recipe: Any, run: Any, data: Splits, scores: dict, tuned_threshold: Any = None) -> dict:
        models = {}
        for system, (validation, test) in scores.items():
            threshold = tuned_threshold if validation is None else dx.operating_threshold(
                data.task, data.validation.labels, validation, recipe.evaluation)
            models[system] = dx.system_report(data.task, data.test.labels, test, threshold, recipe.evaluation,
                                              data.class_names, seed=recipe.seed)
        if run is not None and data.task == "binary":
            from suite.core import plots

            curves = {name: (data.test.labels, test) for name, (_, test) in scores.items()}
            plots.roc_curves(curves, run.plots_dir / "roc.png", title="ROC (test split)", log_fpr=False,
                             mark_fpr=1 - recipe.evaluation.target_specificity)
            plots.reliability_plot(data.test.labels, scores["tuned"][1], run.plots_dir / "reliability.png",
                                   title="Calibration of tuned P(disease), test split",
                                   n_bins=recipe.evaluation.ece_bins)
        notes = [f"Thresholds are chosen on the validation split ({len(data.validation)} images) and reported on "
                 f"the test split ({len(data.test)} images)."]
        if data.origin.startswith("synthetic"):
            notes.append("The data are SYNTHETIC scan-like images (datasets/synthetic-scans): no clinical meaning.")
        if data.skipped:
            notes.append(f"{len(data.skipped)} unreadable images were skipped: {', '.join(data.skipped[:5])}")
        return {"models": models, "headline_metrics": HEADLINE if data.task == "binary" else HEADLINE_MULTI,
                "data": data.summary(), "notes": notes,
                "card_sections": [dx.threshold_section(models["tuned"])] if data.task == "binary" else []}


def _external_test(cfg: DiagnosticsDataConfig, source: str, class_names: list[str]) -> ImageSet:
    """Other data to evaluate on: a .npz's test split, or every image of a folder or CSV.

    Raises:
        DataError: unreadable data, or classes other than the ones the model was trained on.
    """
    other = read_source(dataclasses.replace(cfg, source=source, train_fraction=1.0))
    if other.class_names != class_names and not source.endswith(".npz"):
        raise DataError(f"{source}: classes {other.class_names} differ from the trained model's {class_names}")
    if source.endswith(".npz") or source == "synthetic" or source.startswith("medmnist:"):
        return other.test
    parts = (other.train, other.validation, other.test)
    return ImageSet([im for p in parts for im in p.images], np.concatenate([p.labels for p in parts]),
                    [n for p in parts for n in p.names])


def _budget(recipe: Any, n_train: int) -> Any:
    """The recipe's train section as a fixed budget: its optimiser steps on ``n_train`` images, and
    evaluation every epoch's worth of those steps."""
    t = recipe.train
    per_epoch = max(1, math.ceil(n_train / (t.batch_size * t.gradient_accumulation_steps)))
    steps = t.max_steps if t.max_steps > 0 else max(1, math.ceil(t.epochs * per_epoch))
    every = per_epoch if t.evaluate_every == "epoch" else t.evaluate_every
    return dataclasses.replace(t, max_steps=steps, evaluate_every=min(every, steps))


def _outputs(data: Splits) -> int:
    return 2 if data.task == "binary" else len(data.class_names)


def _classifier_name(network: Any) -> str:
    return network.backbone.pretrained_cfg.get("classifier", "classifier")


def _lora_section(lora: Any, network: Any) -> Any:
    """The recipe's LoRA section, with timm targets filled in when it names none: every 1x1 convolution
    (no depthwise ones) and every linear layer but the classifier."""
    import torch

    if lora.target_modules:
        return lora
    head = _classifier_name(network).rsplit(".", 1)[-1]
    names = set()
    for name, module in network.backbone.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        pointwise = isinstance(module, torch.nn.Conv2d) and module.kernel_size == (1, 1) and module.groups == 1
        if (pointwise or isinstance(module, torch.nn.Linear)) and leaf != head:
            names.add(leaf)
    return dataclasses.replace(lora, target_modules=sorted(names))


def _settings(recipe: Any, data: Splits, network: Any, config: dict, threshold: Any) -> dict:
    backbone = network.backbone
    return {"architecture": backbone.pretrained_cfg.get("architecture") or recipe.model.architecture,
            "num_outputs": _outputs(data), "task": data.task, "class_names": data.class_names,
            "threshold": threshold, "data_config": {**config, "input_size": list(config["input_size"])},
            "operating_point": recipe.evaluation.operating_point,
            "target_specificity": recipe.evaluation.target_specificity, "path_column": recipe.data.path_column,
            "synthetic_data": data.origin.startswith("synthetic")}


DOMAIN = registry.register(DiagnosticsDomain())
