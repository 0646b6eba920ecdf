"""Images in, tensors out: timm's normalisation and augmentation, the dataset and the collator."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from suite.diagnostics.config import AugmentConfig


def data_config(backbone: Any, image_size: int) -> dict:
    """timm's normalisation for the backbone, at ``image_size``."""
    from timm.data import resolve_model_data_config

    config = resolve_model_data_config(backbone)
    return {"input_size": (3, image_size, image_size), "mean": tuple(config["mean"]), "std": tuple(config["std"]),
            "interpolation": config.get("interpolation", "bicubic")}


def build_transform(config: dict, augment: AugmentConfig | None):
    """timm's eval transform (no crop), or its training transform plus a small rotation."""
    from timm.data import create_transform
    from torchvision import transforms

    common = dict(input_size=config["input_size"], mean=config["mean"], std=config["std"],
                  interpolation=config["interpolation"])
    if augment is None or not augment.enabled:
        return create_transform(is_training=False, crop_pct=1.0, **common)
    train = create_transform(is_training=True, scale=tuple(augment.crop_scale), ratio=(1.0, 1.0),
                             hflip=augment.hflip, vflip=augment.vflip,
                             color_jitter=(augment.intensity, augment.intensity, 0.0), **common)
    steps = [transforms.RandomRotation(augment.rotation)] if augment.rotation else []
    return transforms.Compose(steps + list(train.transforms))


def to_pil(image: np.ndarray):
    """A uint8 array (grayscale or RGB) as an RGB PIL image: grayscale is copied to three channels."""
    from PIL import Image

    return Image.fromarray(image).convert("RGB")


class ImageDataset(torch.utils.data.Dataset):
    """``{"pixel_values", "labels"}`` per image; the transform runs per item, so augmentation is fresh."""

    def __init__(self, images: list[np.ndarray], labels: np.ndarray | None, transform: Any):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        item = {"pixel_values": self.transform(to_pil(self.images[i]))}
        if self.labels is not None:
            item["labels"] = torch.as_tensor(self.labels[i])
        return item


def collate(batch: list[dict]) -> dict:
    """Stack ``pixel_values`` and ``labels`` of a batch."""
    return {key: torch.stack([item[key] for item in batch]) for key in batch[0]}
