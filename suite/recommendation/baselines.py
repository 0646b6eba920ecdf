"""Classical recommenders the tuned encoder must beat, fitted on the same users x items split.

Each baseline is chosen by name in the recipe (``evaluation.baselines``), fitted on a
binary users x items CSR matrix of training positives, and returns a function from
user rows to a dense ``(len(users), n_items)`` score array, scored by the same ranking
code as the tuned model. ALS and BPR are the `implicit` package's own models (imported
here, not at ``import suite``); their threads follow the CPU count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FactorParams:
    """Matrix-factorisation settings (taken from the recipe's ``evaluation`` section)."""

    factors: int
    iterations: int
    regularization: float
    learning_rate: float = 0.01


def popularity(train: Any, params: FactorParams | None, seed: int) -> Scorer:
    """Every user gets the items with most training positives (ties: lower index first)."""
    counts = np.asarray(train.sum(axis=0)).ravel().astype(np.float32)
    return lambda users: np.broadcast_to(counts, (len(users), counts.size)).copy()


def als(train: Any, params: FactorParams, seed: int) -> Scorer:
    """implicit's alternating least squares (Hu, Koren & Volinsky 2008) on binary confidences."""
    from implicit.cpu.als import AlternatingLeastSquares

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):        # implicit warns when BLAS threads fight its own
        model = AlternatingLeastSquares(factors=params.factors, iterations=params.iterations,
                                        regularization=params.regularization, random_state=seed)
    return _fit(model, train)


def bpr(train: Any, params: FactorParams, seed: int) -> Scorer:
    """implicit's Bayesian personalised ranking (Rendle et al. 2009) with sampled negatives."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    # one thread: implicit's lock-free (Hogwild) SGD on several threads gives other factors on every run
    model = BayesianPersonalizedRanking(factors=params.factors, iterations=params.iterations,
                                        learning_rate=params.learning_rate, regularization=params.regularization,
                                        random_state=seed, num_threads=1)
    return _fit(model, train)


def _fit(model: Any, train: Any) -> Scorer:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):    # implicit's own threads do the work; BLAS threads would fight them
        model.fit(train.tocsr().astype(np.float32), show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda rows: users[np.asarray(rows)] @ items.T


BASELINES: dict[str, Callable[[Any, FactorParams | None, int], Scorer]] = {
    "popularity": popularity, "als": als, "bpr": bpr}
NEEDS_ITEM_FACTORS = frozenset({"als", "bpr"})   # cannot score an item that had no training positive


def fit_baseline(name: str, *, train: Any, params: FactorParams | None, seed: int) -> Scorer:
    """Fit baseline ``name`` on ``train`` (users x items CSR) and return its scorer.

    Args:
        name: ``popularity``, ``als`` or ``bpr``.
        train: binary users x items CSR of training positives.
        params: factor settings for ``als``/``bpr`` (ignored by popularity).
        seed: random state of the factor initialisation.

    Raises:
        KeyError: an unknown baseline name (the recipe validation lists the known ones).
    """
    return BASELINES[name](train, params, seed)
