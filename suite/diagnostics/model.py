"""The diagnostics classifier: a timm backbone (pretrained or not) with a linear head, what of it trains, and its
predictor.

Weights are loaded in ``backbones.py``; images become tensors in ``transforms.py``.

Orientation: inputs are images, outputs are probabilities: P(disease) for binary tasks
(label 1), a softmax over classes for multi-class, one sigmoid per label for multi-label.
The network is a plain ``torch.nn.Module`` whose ``forward(pixel_values, labels)``
returns ``{"loss", "logits"}``, so it trains through the shared ``transformers.Trainer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from suite.core import sources
from suite.core.config import SETTINGS_FILE, load_settings, save_settings
from suite.diagnostics.backbones import architecture_of, create_backbone, pretrained_backbone
from suite.diagnostics.config import DiagnosticsDataConfig, DiagnosticsModelConfig
from suite.diagnostics.metrics import decisions, logits_to_probabilities
from suite.diagnostics.transforms import build_transform, data_config, to_pil

WEIGHTS_FILE = "model.safetensors"


# -- the network ----------------------------------------------------------------------------------
def build_network(cfg: DiagnosticsModelConfig, *, num_outputs: int, task: str, lora: bool = False,
                  drop_rate: float | None = None):
    """The backbone with a new head of ``num_outputs``, pretrained as the recipe says, wrapped for the Trainer; from
    a model folder a run saved (``suite adapt``), its own head too, where it has ``num_outputs`` outputs.

    Args:
        cfg: the recipe's ``model`` section (source, architecture, pretrained, drop_rate...).
        num_outputs: 2 for binary tasks (softmax), the class or label count otherwise.
        task: ``binary``, ``multiclass`` or ``multilabel`` (picks the loss).
        lora: LoRA adapters will be added (``batchnorm_stats: auto`` then lets the statistics adapt).
        drop_rate: dropout before the head (default: the recipe's ``drop_rate``).

    Raises:
        ModelSourceError: the source cannot be resolved, read, or does not fit the architecture.
    """
    path = sources.resolve(cfg.source)
    architecture = architecture_of(cfg, path)
    drop_rate = cfg.drop_rate if drop_rate is None else drop_rate
    if cfg.pretrained:
        backbone = pretrained_backbone(architecture, path, drop_rate=drop_rate)
        if not (is_saved_model(path) and backbone.num_classes == num_outputs):
            backbone.reset_classifier(num_outputs)
    else:
        backbone = create_backbone(architecture, pretrained=False, num_classes=num_outputs, drop_rate=drop_rate)
    frozen_stats = cfg.batchnorm_stats == "frozen" or (cfg.batchnorm_stats == "auto" and not lora)
    return ImageClassifier(backbone, task=task, freeze_batchnorm_stats=frozen_stats)


_BATCHNORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d, torch.nn.SyncBatchNorm)


class ImageClassifier(torch.nn.Module):
    """``forward(pixel_values, labels=None) -> {"loss", "logits"}`` around a timm backbone.

    Args:
        backbone: a timm model whose head has one output per class (or label).
        task: ``binary`` / ``multiclass`` (cross-entropy) or ``multilabel`` (per-label BCE).
        freeze_batchnorm_stats: BatchNorm layers with frozen weights stay in eval mode
            while training, so a linear probe does not drift the backbone's statistics.
    """

    main_input_name = "pixel_values"

    def __init__(self, backbone: Any, *, task: str, freeze_batchnorm_stats: bool = True):
        super().__init__()
        self.backbone, self.task, self.freeze_batchnorm_stats = backbone, task, freeze_batchnorm_stats

    def forward(self, pixel_values, labels=None):
        logits = self.backbone(pixel_values)
        out = {"logits": logits}
        if labels is not None:
            if self.task == "multilabel":
                out["loss"] = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.float())
            else:
                out["loss"] = torch.nn.functional.cross_entropy(logits, labels.long())
        return out

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.freeze_batchnorm_stats:
            for module in self.modules():
                if isinstance(module, _BATCHNORMS) and not any(
                        p.requires_grad for p in module.parameters(recurse=False)):
                    module.eval()
        return self


def is_saved_model(path: Path) -> bool:
    """Whether ``path`` is a model folder a diagnostics run saved (weights beside their settings)."""
    return path.is_dir() and (path / SETTINGS_FILE).is_file() and (path / WEIGHTS_FILE).is_file()


def head_parameter_names(network: Any) -> set[str]:
    """Names (in ``network``) of the classifier head's parameters, also inside a PEFT wrapper."""
    classifier = network.backbone.pretrained_cfg.get("classifier", "classifier") if hasattr(
        network, "backbone") else "classifier"
    return {name for name, _ in network.named_parameters() if f".{classifier}." in f".{name}"}


def apply_trainable(network: Any, cfg: DiagnosticsModelConfig) -> None:
    """Freeze what ``cfg.trainable`` says, in place.

    ``all`` freezes nothing; ``last-blocks`` all but the head and the last ``cfg.unfreeze_blocks`` parameter
    groups of timm's ``group_matcher(coarse=False)`` (single blocks, stem first), so it works for any timm model.
    """
    from timm.models import group_parameters

    if cfg.trainable == "all":
        return
    head = head_parameter_names(network)
    trainable = set(head)
    if cfg.unfreeze_blocks:
        backbone = network.backbone
        groups = [g for g in group_parameters(backbone, backbone.group_matcher(coarse=False)).values()
                  if not {f"backbone.{n}" for n in g} <= head]
        for group in groups[-cfg.unfreeze_blocks:]:
            trainable |= {f"backbone.{n}" for n in group}
    for name, parameter in network.named_parameters():
        parameter.requires_grad = name in trainable


def pooled_features(network: Any, images: list[np.ndarray], transform, *, batch_size: int = 64) -> np.ndarray:
    """What the head sees: the backbone's pooled features (``forward_head(pre_logits=True)``) of each image, in
    eval mode (no dropout, BatchNorm with its running statistics)."""
    backbone = getattr(network, "backbone", network)
    was_training = backbone.training
    backbone.eval()
    weight = next(backbone.parameters())
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = torch.stack([transform(to_pil(im)) for im in images[start:start + batch_size]])
                pooled = backbone.forward_head(backbone.forward_features(batch.to(weight.device, weight.dtype)),
                                               pre_logits=True)
                out.append(pooled.float().cpu().numpy())
    finally:
        backbone.train(was_training)
    return np.concatenate(out) if out else np.empty((0, backbone.num_features), dtype=np.float32)


def probabilities(network: Any, images: list[np.ndarray], transform, task: str, *, batch_size: int = 64) -> np.ndarray:
    """P(disease) (binary, shape N), class probabilities (N x C) or label probabilities (N x K)."""
    network.eval()
    weight = next(network.parameters())

    def logits(batch: torch.Tensor) -> np.ndarray:
        return network(pixel_values=batch.to(weight.device, weight.dtype))["logits"].float().cpu().numpy()

    with torch.inference_mode():
        return batched_probabilities(logits, images, transform, task, batch_size=batch_size)


def batched_probabilities(logits: Callable[[Any], np.ndarray], images: list[np.ndarray], transform, task: str, *,
                          batch_size: int = 64) -> np.ndarray:
    """Probabilities (see :func:`probabilities`) from ``logits`` of each batch of transformed images (a tensor);
    the PyTorch and the ONNX predictor share it."""
    out = []
    for start in range(0, len(images), batch_size):
        batch = torch.stack([transform(to_pil(im)) for im in images[start:start + batch_size]])
        out.append(logits_to_probabilities(logits(batch), task))
    return np.concatenate(out) if out else np.empty(0)


def read_images(inputs: list[Any]) -> tuple[list[np.ndarray], list[str]]:
    """Images (decoded from paths, or arrays as given) and their names (the path, or ``image-<i>``).

    Raises:
        DataError: an image file is missing or unreadable (the message names it).
    """
    from suite.diagnostics.images import decode_image

    images = [decode_image(Path(x)) if isinstance(x, (str, Path)) else x for x in inputs]
    return images, [str(x) if isinstance(x, (str, Path)) else f"image-{i}" for i, x in enumerate(inputs)]


def eval_transform(settings: dict):
    """The evaluation transform of a saved model's settings (its ``data_config``)."""
    config = {**settings["data_config"], "input_size": tuple(settings["data_config"]["input_size"])}
    return build_transform(config, None)


def imagenet_features(cfg: DiagnosticsModelConfig) -> Callable[[list[np.ndarray]], np.ndarray]:
    """A function from images to the frozen pretrained backbone's pooled features (no head): what the
    ``logreg-imagenet-features`` baseline learns from, and what a linear probe of the untuned network sees."""
    path = sources.resolve(cfg.source)
    with torch.random.fork_rng(devices=[]):       # building it must not move the seeded stream the run draws from
        backbone = pretrained_backbone(architecture_of(cfg, path), path).eval()
    transform = build_transform(data_config(backbone, cfg.image_size), None)
    return lambda images: pooled_features(backbone, images, transform, batch_size=128)


# -- saved model and predictor ----------------------------------------------------------------
class SavedSettings:
    """What every diagnostics predictor (PyTorch or ONNX) reads from its saved ``settings``: the threshold in
    effect, which ``suite calibrate`` may set, and the evaluation transform."""

    @property
    def threshold(self):
        """The decision threshold in effect (one per label for multi-label data, None for multi-class)."""
        return self.settings["threshold"]

    @threshold.setter
    def threshold(self, value) -> None:
        self.settings["threshold"] = value

    @property
    def transform(self):
        return eval_transform(self.settings)


@dataclass
class DiagnosticsPredictor(SavedSettings):
    """A tuned diagnostic model: ``predict(paths)`` gives probabilities and decisions at the saved threshold.

    Attributes:
        network: the classifier.
        settings: what predict needs: ``task``, ``class_names``, ``threshold`` (one per label for
            multi-label, None for multi-class), the transform's ``data_config``, ``architecture``,
            ``num_outputs``, the recipe's ``model`` and ``data`` sections.
    """

    network: Any
    settings: dict

    @classmethod
    def from_folder(cls, folder: Path) -> DiagnosticsPredictor:
        """Load what :meth:`save` wrote."""
        from safetensors.torch import load_file

        settings = load_settings(folder, {"model": DiagnosticsModelConfig, "data": DiagnosticsDataConfig})
        backbone = create_backbone(settings["architecture"], pretrained=False, num_classes=settings["num_outputs"])
        network = ImageClassifier(backbone, task=settings["task"])
        network.load_state_dict(load_file(str(Path(folder) / WEIGHTS_FILE)))
        return cls(network.eval(), settings)

    def save(self, folder: Path) -> None:
        """Write the weights (safetensors) and the settings predict needs (threshold, classes, transform)."""
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in self.network.state_dict().items()}, str(Path(folder) / WEIGHTS_FILE))
        state = {k: v for k, v in self.settings.items() if k not in ("model", "data")}
        save_settings(folder, {"model": self.settings["model"], "data": self.settings["data"]}, **state)

    def scores(self, images: list[np.ndarray], *, batch_size: int = 64) -> np.ndarray:
        return probabilities(self.network, images, self.transform, self.settings["task"], batch_size=batch_size)

    def predict(self, inputs: list[Any], *, saliency_dir: Path | None = None) -> list[dict]:
        """One dict per image (a path or a uint8 array): probabilities and the decision at the saved threshold(s).

        Args:
            inputs: image file paths (str or Path) or arrays.
            saliency_dir: also write a Grad-CAM PNG per image there (its path is returned as ``saliency``).

        Raises:
            DataError: an image file is missing or unreadable (the message names it).
        """
        from suite.diagnostics.saliency import saliency_pngs

        images, names = read_images(inputs)
        results = decisions(self.scores(images), self.settings, names)
        if saliency_dir is not None:
            paths = saliency_pngs(self.network, images, self.transform, self.settings["task"],
                                             Path(saliency_dir), names=[Path(n).stem for n in names])
            for result, path in zip(results, paths):
                result["saliency"] = str(path)
        return results
