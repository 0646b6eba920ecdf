"""Training losses of the recommendation encoder, chosen by name in the recipe (``model.loss``).

Both are contrastive with in-batch negatives: each (history, next item) pair's item is
the positive for its history, and the other items of the batch are its negatives.

- ``mnrl``: sentence-transformers' ``MultipleNegativesRankingLoss`` as is.
- ``logq-mnrl``: the same with the sampling-bias correction of Yi et al. (2019,
  "Sampling-bias-corrected neural modeling for large corpus item recommendations"):
  popular items are in-batch negatives far more often than rare ones, so plain in-batch
  softmax learns to push them down and ranks like ``P(item | history) / P(item)``. Subtracting
  ``log q(item)`` (the item's share of the training positives) from every logit makes the
  loss estimate ``P(item | history)`` itself, popularity included (measured in the README).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

import numpy as np
import torch

LOSSES = ("logq-mnrl", "mnrl")


class LogQRankingLoss(torch.nn.Module):
    """Multiple negatives ranking loss with the logQ correction.

    Args:
        model: the SentenceTransformer being tuned.
        scale: inverse temperature applied to the cosine similarities.

    Requirements: (anchor, positive) pairs plus a ``label`` column holding ``log q`` of each
    pair's positive (see :func:`log_frequencies`); the batch sampler should avoid duplicate
    items in a batch (``BatchSamplers.NO_DUPLICATES``), as a duplicate is a false negative.

    Example::

        loss = LogQRankingLoss(encoder, scale=20.0)
        pairs = Dataset.from_dict({"anchor": histories, "positive": items, "label": log_frequencies(items)})
    """

    def __init__(self, model: Any, scale: float = 20.0):
        super().__init__()
        self.model, self.scale = model, scale

    def forward(self, sentence_features: Iterable[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        anchors, positives = (torch.nn.functional.normalize(self.model(f)["sentence_embedding"], dim=-1)
                              for f in sentence_features)
        logits = self.scale * anchors @ positives.T - labels.to(anchors.dtype)[None, :]
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(anchors), device=anchors.device))

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "correction": "log q(item), from training positives"}


def log_frequencies(positives: list[str]) -> list[float]:
    """``log q`` of each positive: the log of its share among all positives of the training pairs."""
    counts = Counter(positives)
    return [float(np.log(counts[p] / len(positives))) for p in positives]


def build_loss(name: str, model: Any, *, scale: float) -> torch.nn.Module:
    """The loss ``name`` (one of :data:`LOSSES`) for ``model``.

    Raises:
        KeyError: an unknown name (the recipe validation lists the known ones).
    """
    if name == "logq-mnrl":
        return LogQRankingLoss(model, scale=scale)
    if name == "mnrl":
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        return MultipleNegativesRankingLoss(model, scale=scale)
    raise KeyError(name)
