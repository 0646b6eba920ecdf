"""The diagnostics domain's hooks (see :class:`suite.core.registry.Domain`): what differs from the shared run.

The data are labelled images split three ways (by patient where patients are known), or a label
budget drawn from the first two; the model is a timm backbone with a linear head, which the core fits
as a probe (``train.strategy``) or trains with the rest, in full, in its last blocks or with LoRA;
every system's outputs are probabilities on validation (to choose its operating threshold)
and test (to report it in clinical terms).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.core import memory, strategies
from suite.core.config import load_settings
from suite.core.errors import DataError
from suite.core.inputs import Inputs
from suite.core.operating import Target
from suite.core.predict_options import PredictOption
from suite.core.registry import Model, Report, TrainingInputs
from suite.diagnostics import data as dx_data
from suite.diagnostics import metrics as dx
from suite.diagnostics import onnx_model
from suite.diagnostics.backbones import BUNDLED_BACKBONES
from suite.diagnostics.baselines import fit_baseline
from suite.diagnostics.config import DiagnosticsDataConfig, DiagnosticsEvalConfig, DiagnosticsModelConfig
from suite.diagnostics.data import Splits
from suite.diagnostics.images import check_image_file, list_inputs
from suite.diagnostics.model import (
    DiagnosticsPredictor,
    apply_trainable,
    build_network,
    imagenet_features,
    pooled_features,
)
from suite.diagnostics.saliency import saliency_pngs
from suite.diagnostics.transforms import ImageDataset, build_transform, collate, data_config

if TYPE_CHECKING:
    from suite.core.recipe import Recipe


@dataclasses.dataclass
class DiagnosticsParts:
    """What diagnostics keeps beside the network (``Model.parts``)."""

    data_config: dict                    # the backbone's input size, mean and std: what every transform needs


class DiagnosticsDomain:
    """Diagnostics: a vision backbone tuned on labelled medical images, judged at a fixed specificity."""

    name = "diagnostics"
    description = "timm vision backbone tuned on medical images; reports AUROC, sensitivity at fixed specificity."
    primary_metric = "auroc"
    greater_is_better = True
    example_unit = "images"
    serving_module = "suite.diagnostics.serving"     # suite serve
    bundled_models = BUNDLED_BACKBONES
    data_config = DiagnosticsDataConfig
    model_config = DiagnosticsModelConfig
    eval_config = DiagnosticsEvalConfig
    predict_options = (PredictOption("--saliency", "also write a Grad-CAM PNG per image into DIR",
                                     keyword="saliency_dir", kind="folder", metavar="DIR"),)

    def memory_needs(self, recipe: Recipe) -> list[memory.MemoryNeed]:
        synthetic, side = recipe.data.synthetic, recipe.model.image_size
        images = synthetic.n_train + synthetic.n_validation + synthetic.n_test
        needs = [memory.MemoryNeed(recipe.train.batch_size * 3.0 * side * side * memory.FLOAT32 * 80,
                                   "a training batch's activations", ("train.batch_size", "model.image_size"))]
        if recipe.data.source == "synthetic":
            needs.append(memory.MemoryNeed(float(images) * synthetic.image_size ** 2 * (1 + 3 * memory.FLOAT32),
                                           "the generated images, as bytes and as tensors",
                                           ("data.synthetic.n_train", "data.synthetic.n_test",
                                            "data.synthetic.image_size")))
        return needs

    def training_examples(self, recipe: Recipe, data: Splits) -> int:
        return len(data.train)

    def prepare_data(self, recipe: Recipe) -> Splits:
        return dx_data.load_splits(recipe.data)

    def with_test_data(self, recipe: Recipe, data: Splits, source: str) -> Splits:
        return dx_data.with_test_data(recipe.data, data, source)

    def fit_baselines(self, recipe: Recipe, data: Splits) -> dict[str, dict]:
        out = {}
        for name in recipe.evaluation.baselines:
            score = fit_baseline(name, images=data.train.images, labels=data.train.labels, task=data.task,
                                 seed=recipe.seed, imagenet_features=lambda: imagenet_features(recipe.model))
            out[name] = {"validation": score(data.validation.images), "test": score(data.test.images)}
        return out

    def build_model(self, recipe: Recipe, data: Splits) -> Model:
        network = build_network(recipe.model, num_outputs=_outputs(data), task=data.task, lora=recipe.lora.enabled,
                                drop_rate=strategies.head_dropout(recipe, recipe.model.drop_rate))
        if not recipe.lora.enabled:
            apply_trainable(network, recipe.model)
        classifier = network.backbone.pretrained_cfg.get("classifier", "classifier")
        return Model(network=network, head=[classifier.rsplit(".", 1)[-1]],
                     parts=DiagnosticsParts(data_config(network.backbone, recipe.model.image_size)))

    def head_layer(self, model: Model) -> Any:
        return model.network.backbone.get_classifier()

    def head_features(self, recipe: Recipe, data: Splits, model: Model) -> tuple:
        transform = build_transform(model.parts.data_config, None)
        return pooled_features(model.network, data.train.images, transform), data.train.labels

    def with_earlier_training(self, data: Splits, earlier: Splits) -> Splits:
        if (earlier.task, earlier.class_names) != (data.task, data.class_names):
            raise DataError(f"data.source: classes {data.class_names} ({data.task}) differ from the parent run's "
                            f"{earlier.class_names} ({earlier.task})")
        return dataclasses.replace(data, train=earlier.train.concat(data.train))

    def training_inputs(self, recipe: Recipe, data: Splits, model: Model) -> TrainingInputs:
        config = model.parts.data_config
        return TrainingInputs(
            train_dataset=ImageDataset(data.train.images, data.train.labels,
                                       build_transform(config, recipe.model.augment)),
            eval_dataset=ImageDataset(data.validation.images, data.validation.labels, build_transform(config, None)),
            data_collator=collate, compute_metrics=dx.trainer_metrics(data.task),
            arguments={"remove_unused_columns": False, "label_names": ["labels"]})

    def make_predictor(self, recipe: Recipe, data: Splits, model: Model, *, tuned: bool) -> DiagnosticsPredictor:
        network, config = model.network, model.parts.data_config
        predictor = DiagnosticsPredictor(network, _settings(recipe, data, network, config))
        validation = predictor.scores(data.validation.images)
        predictor.settings["threshold"] = dx.operating_threshold(data.task, data.validation.labels, validation,
                                                                 recipe.evaluation)
        return predictor

    def outputs(self, predictor: DiagnosticsPredictor, recipe: Recipe, data: Splits) -> dict:
        return {"validation": predictor.scores(data.validation.images), "test": predictor.scores(data.test.images)}

    def report(self, recipe: Recipe, data: Splits, outputs: dict[str, dict], *, predictor: DiagnosticsPredictor,
               plots_dir: Path | None) -> Report:
        if plots_dir is not None:
            _saliency(recipe, predictor, data, plots_dir)
        return dx.report(recipe.evaluation, data, outputs, tuned_threshold=predictor.threshold, seed=recipe.seed,
                         plots_dir=plots_dir)

    def operating_target(self, recipe: Recipe, data: Splits) -> Target | None:
        """Specificity at least ``target_specificity`` (a false-positive rate), or sensitivity at least
        ``target_sensitivity``; None for multi-class and multi-label data (no single threshold)."""
        if data.task != "binary":
            return None
        ev = recipe.evaluation
        return Target("fpr", 1.0 - ev.target_specificity) if ev.operating_point == "specificity" else \
            Target("tpr", ev.target_sensitivity)

    def labelled_scores(self, data: Splits, outputs: dict, part: str) -> tuple:
        return getattr(data, part).labels, outputs[part]

    blend_space = "logit"        # probabilities: added as log-odds, so the hybrid's score is one too

    def hybrid_settings(self, recipe: Recipe) -> tuple[list[str], list[float]]:
        ev = recipe.evaluation
        return (ev.baselines if ev.hybrid_with is None else ev.hybrid_with), ev.hybrid_weights

    def validation_score(self, recipe: Recipe, data: Splits, scores: Any) -> float:
        return dx.quick_auroc(data.task, data.validation.labels, scores)

    def load_predictor(self, folder: Path) -> DiagnosticsPredictor:
        return DiagnosticsPredictor.from_folder(folder)

    def onnx_graph(self, predictor: DiagnosticsPredictor, recipe: Recipe, data: Splits) -> Any:
        return onnx_model.graph(predictor, data)

    def load_onnx_predictor(self, folder: Path, session: Any) -> onnx_model.OnnxDiagnosticsPredictor:
        return onnx_model.OnnxDiagnosticsPredictor.from_folder(folder, session)

    def read_inputs(self, model_dir: Path, *, inline: list[str], path: Path | None) -> Inputs:
        """Image paths: inline, or from a folder (every image under it), a table (the trained path column) or
        one image; each with its id, and each an image file that can be read."""
        inputs = Inputs.inline(inline)
        if path is not None:
            cfg = load_settings(model_dir, {"data": DiagnosticsDataConfig})["data"]
            inputs = list_inputs(Path(path), path_column=cfg.path_column)
        for name in inputs.values:
            check_image_file(Path(name))
        return inputs


def _saliency(recipe: Recipe, predictor: DiagnosticsPredictor, data: Splits, plots_dir: Path) -> None:
    """Grad-CAM PNGs of a few test images (cases with a finding first) into ``plots_dir``."""
    count = min(recipe.evaluation.saliency_images, len(data.test))
    if not count:
        return
    labels = data.test.labels if data.test.labels.ndim == 1 else data.test.labels.max(axis=1)
    chosen = list(np.argsort(-labels, kind="stable")[:count])
    probs = predictor.scores([data.test.images[i] for i in chosen])
    titles = [f"test {i}: label {data.class_names[int(labels[i])] if data.task != 'multilabel' else labels[i]}"
              f", p={float(np.max(p)):.2f}" for i, p in zip(chosen, probs)]
    saliency_pngs(predictor.network, [data.test.images[i] for i in chosen], predictor.transform, data.task,
                  plots_dir, names=[f"test-{i}" for i in chosen], titles=titles)


def _outputs(data: Splits) -> int:
    return 2 if data.task == "binary" else len(data.class_names)


def _settings(recipe: Recipe, data: Splits, network: Any, config: dict) -> dict:
    backbone = network.backbone
    return {"model": recipe.model, "data": recipe.data,
            "architecture": backbone.pretrained_cfg.get("architecture") or recipe.model.architecture,
            "num_outputs": _outputs(data), "task": data.task, "class_names": data.class_names, "threshold": None,
            "data_config": {**config, "input_size": list(config["input_size"])},
            "operating_point": recipe.evaluation.operating_point,
            "target_specificity": recipe.evaluation.target_specificity,
            "synthetic_data": data.origin.startswith("synthetic")}


DOMAIN = DiagnosticsDomain()
