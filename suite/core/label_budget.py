"""A label budget: N labelled examples in all, validation included, as a user with N labels has them.

A domain whose data section extends :class:`LabelBudget` draws, when ``data.label_budget`` is set, N examples
from its training and validation splits (the *pool*) and splits those N again into the part every system
learns from and the part that picks what a run picks on validation: checkpoints, operating thresholds, the
hybrid's weights, and (in ``suite bench``) the training strategy. The test split is never touched, so every
budget and every draw is scored on the same test examples.

The draw is stratified by class, with at least one example of every class in each part, and repeatable:
``data.budget_draw`` picks one of many draws of the same size, so a budget point can be repeated over draws
while everything else (the test split, the seeds of training) stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from suite.core.config import between
from suite.core.errors import DataError


@dataclass
class LabelBudget:
    """Data-section keys of a label budget (a domain's data section inherits them)."""

    label_budget: int | None = field(default=None, kw_only=True, metadata={"bounds": between(2, 10 ** 9),
        "help": "Use N labelled examples in all, validation included, drawn (stratified) from the training and "
                "validation splits; the test split stays whole (null: all of them, split as usual)."})
    budget_validation: float = field(default=0.25, kw_only=True, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True),
        "help": "Share of the label budget kept for validation (checkpoint, threshold, hybrid weights, strategy); "
                "at least one example of every class either way."})
    budget_draw: int = field(default=0, kw_only=True, metadata={"bounds": between(0, 2 ** 31 - 1),
        "help": "Which random draw of the label budget (0, 1, 2...): repeat a budget point on other examples; "
                "the test split stays the same."})



def draw(labels: np.ndarray, budget: LabelBudget, *, seed: int, classes: int | None = None,
         where: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Draw ``budget.label_budget`` examples of a pool and split them into training and validation.

    Args:
        labels: the pool's labels: class indices (``N``), or ``N x K`` 0/1 vectors (multi-label: drawn at
            random, not stratified).
        budget: the data section (``label_budget``, ``budget_validation``, ``budget_draw``).
        seed: the data's seed; with ``budget_draw`` it fixes the draw.
        classes: the number of classes the task has (default: the classes present in ``labels``).
        where: named in errors.

    Returns:
        (training indices, validation indices) into the pool, each sorted.

    Raises:
        DataError: a budget smaller than twice the classes, or larger than the pool, or a class with fewer
            than two examples in the pool.
    """
    n = budget.label_budget
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, budget.budget_draw])
    if n > len(labels):
        raise DataError(f"{where}.label_budget: {n:,} labelled examples asked for, but the training and "
                        f"validation splits hold {len(labels):,}; lower it or use more data")
    if labels.ndim == 2:
        if n < 4:
            raise DataError(f"{where}.label_budget: {n} is too few; at least 4 (two to train, two to validate)")
        chosen = rng.permutation(len(labels))[:n]
        cut = max(2, int(round(n * budget.budget_validation)))
        return np.sort(chosen[cut:]), np.sort(chosen[:cut])
    present, counts = np.unique(labels, return_counts=True)
    classes = max(classes or 0, len(present))
    if n < 2 * classes:
        raise DataError(f"{where}.label_budget: {n} labelled examples are fewer than 2 x {classes} classes; every "
                        f"class needs one to train on and one to validate with")
    if len(present) < classes or counts.min() < 2:
        raise DataError(f"{where}.label_budget: a class has fewer than two examples in the training and validation "
                        f"splits, so it cannot be in both parts of the budget")
    per_class = _allocate(n, counts)
    train, validation = [], []
    for value, take in zip(present, per_class):
        members = rng.permutation(np.flatnonzero(labels == value))[:take]
        held = min(take - 1, max(1, int(round(take * budget.budget_validation))))
        validation.append(members[:held])
        train.append(members[held:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(validation))


def _allocate(n: int, counts: np.ndarray) -> np.ndarray:
    """Examples per class: proportional to ``counts`` (largest remainder), at least two of each, at most all."""
    share = n * counts / counts.sum()
    take = np.maximum(2, np.floor(share)).astype(np.int64)
    take = np.minimum(take, counts)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    while take.sum() < n:            # hand out what rounding left, largest remainder first, where room is left
        for index in order:
            if take.sum() < n and take[index] < counts[index]:
                take[index] += 1
    while take.sum() > n:            # the minimum of two per class overshot: take back from the largest classes
        index = int(np.argmax(take))
        take[index] -= 1
    return take
