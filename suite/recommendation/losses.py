"""Training losses of the recommender (:class:`suite.recommendation.towers.TwoTower` sums them).

- :func:`in_batch_loss`: each (history, item) pair's item is the positive for its history,
  the other items of the batch its negatives, with the sampling-bias correction of Yi et al.
  (2019, "Sampling-bias-corrected neural modeling for large corpus item recommendations"):
  popular items are in-batch negatives far more often than rare ones, so plain in-batch
  softmax learns to push them down and ranks like ``P(item | history) / P(item)``. Subtracting
  ``log q(item)`` (the item's share of the training positives) from every logit makes the
  loss estimate ``P(item | history)`` itself, popularity included (``model.loss: logq-mnrl``;
  ``mnrl`` leaves it out). A batch that holds the same item twice does not count the copy as a
  negative.
- :func:`catalogue_loss`: a softmax over the whole catalogue for the user's other training
  items (the multinomial likelihood of Liang et al. 2018, "Variational autoencoders for
  collaborative filtering"): every item is a negative every step, as in ALS, which in-batch
  sampling cannot give. Used for the ID part only, where scoring the catalogue is cheap.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

LOSSES = ("logq-mnrl", "mnrl")


def in_batch_loss(logits: torch.Tensor, log_q: torch.Tensor | None, items: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each row's own column among the batch's items.

    Args:
        logits: ``(batch, batch)`` scores of every history (row) against every pair's item (column).
        log_q: ``log q`` of each column's item (None: no correction).
        items: each column's item index; a column holding row ``i``'s item again is no negative for it.

    Example:
        >>> in_batch_loss(torch.eye(2) * 5, torch.log(torch.tensor([0.5, 0.5])), torch.tensor([3, 7]))
        tensor(0.0067)
    """
    if log_q is not None:
        logits = logits - log_q.to(logits.dtype)[None, :]
    same = items[:, None] == items[None, :]
    same.fill_diagonal_(False)
    logits = logits.masked_fill(same, float("-inf"))
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(items), device=logits.device))


def catalogue_loss(logits: torch.Tensor, targets: torch.Tensor, target_users: torch.Tensor) -> torch.Tensor:
    """Mean over users of the mean ``-log softmax`` of their target items over the catalogue.

    Args:
        logits: ``(users, items)`` scores (``-inf`` for items that cannot be targets).
        targets: target item indices of all users, flattened; target_users: the user (row) of each.
            Users without a target are left out.
    """
    if targets.numel() == 0:
        return logits.sum() * 0.0
    log_p = torch.log_softmax(logits, dim=-1)[target_users, targets]
    counts = torch.bincount(target_users, minlength=logits.shape[0]).to(log_p.dtype)
    per_user = torch.zeros(logits.shape[0], dtype=log_p.dtype, device=log_p.device).index_add_(0, target_users, log_p)
    has = counts > 0
    return -(per_user[has] / counts[has]).mean()


def log_frequencies(items: list[int] | list[str]) -> list[float]:
    """``log q`` of each positive: the log of its share among all positives of the training pairs."""
    counts = Counter(items)
    return [float(np.log(counts[p] / len(items))) for p in items]
