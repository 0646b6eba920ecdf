"""Classical floors the tuned network must beat, trained on the same split.

- ``logreg-pixels``: images downsampled to 16 x 16 grayscale, logistic regression. What a few
  thousand raw pixels buy without any learned features.
- ``logreg-imagenet-features``: the recipe's backbone with its ImageNet weights, frozen
  (the same weights whether or not the tuned run starts from them), its pooled features
  at the model's input size, then logistic regression: the classic transfer-learning floor.

Both fit the core's logistic regression (:func:`suite.core.probe.fit_logistic`: centred features of one
common scale, C 0.1), the same fitter that ``train.strategy: linear-probe`` writes into the network's head.
Each baseline is chosen by name in the recipe (``evaluation.baselines``) and returns a function from images to
probabilities shaped as the task's (see ``model.probabilities``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from suite.core import probe

PIXEL_SIDE = 16


def _probabilities(model: probe.LinearModel, features: np.ndarray, task: str) -> np.ndarray:
    probs = model.probabilities(features)
    return probs[:, 1] if task == "binary" else probs


def pixel_features(images: list[np.ndarray]) -> np.ndarray:
    """16 x 16 grayscale thumbnails, flattened, in [0, 1]."""
    from PIL import Image

    rows = [np.asarray(Image.fromarray(im).convert("L").resize((PIXEL_SIDE, PIXEL_SIDE), Image.BILINEAR),
                       dtype=np.float32).ravel() / 255.0 for im in images]
    return np.stack(rows)


BASELINES: dict[str, str] = {
    "logreg-pixels": "logistic regression on 16 x 16 grayscale pixels",
    "logreg-imagenet-features": "logistic regression on frozen ImageNet features of the recipe's backbone",
}


def fit_baseline(name: str, *, images: list[np.ndarray], labels: np.ndarray, task: str, seed: int,
                 imagenet_features: Callable[[], Callable]) -> Callable[[list[np.ndarray]], np.ndarray]:
    """Fit baseline ``name`` on the training images and return a function from images to probabilities.

    Args:
        name: a key of :data:`BASELINES`.
        images: training images (uint8 arrays).
        labels: their labels (N, or N x K for multi-label).
        task: ``binary``, ``multiclass`` or ``multilabel``.
        seed: of the logistic regression.
        imagenet_features: makes the frozen backbone's feature function (called only when needed).

    Raises:
        KeyError: unknown baseline (recipes are validated before this is reached).
        ModelSourceError: the recipe's model source has no usable pretrained weights.
    """
    if name not in BASELINES:
        raise KeyError(name)
    featurise = pixel_features if name == "logreg-pixels" else imagenet_features()
    model = probe.fit_logistic(featurise(images), labels, C=probe.DEFAULT_C, seed=seed)
    return lambda new_images: _probabilities(model, featurise(new_images), task)
