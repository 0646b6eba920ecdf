"""Classical recommenders the tuned encoder must beat, fitted on the same users x items split.

Each baseline is chosen by name in the recipe (``evaluation.baselines``), fitted on a
binary users x items CSR matrix of training positives, and returns a function from
user rows to a dense ``(len(users), n_items)`` score array, scored by the same ranking
code as the tuned model. ALS and BPR are the `implicit` package's own models (imported
here, not at ``import suite``); their threads follow the CPU count. EASE is a closed-form
item-item model, the strongest of them on MovieLens-100K; it holds an items x items matrix,
so catalogues above ``EASE_MAX_ITEMS`` are refused before anything is fitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class BaselineParams:
    """A baseline's settings (taken from the recipe's ``evaluation`` section); each reads the ones it has."""

    factors: int = 0
    iterations: int = 0
    regularization: float = 0.01
    learning_rate: float = 0.01


EASE_MAX_ITEMS = 20_000     # its items x items float64 matrices: 3.2 GB each at this size


def popularity(train: Any, params: BaselineParams | None, seed: int) -> Scorer:
    """Every user gets the items with most training positives; ties, and the items nobody rated, in catalogue
    order (each score is the count less ``index / (n_items + 1)``, so the order is in the scores themselves)."""
    counts = np.asarray(train.sum(axis=0)).ravel().astype(np.float64)
    scores = (counts - np.arange(counts.size) / (counts.size + 1.0)).astype(np.float32)
    return lambda users: np.broadcast_to(scores, (len(users), scores.size)).copy()


def als(train: Any, params: BaselineParams, seed: int) -> Scorer:
    """implicit's alternating least squares (Hu, Koren & Volinsky 2008) on binary confidences."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):        # implicit warns when BLAS threads fight its own
        model = AlternatingLeastSquares(factors=params.factors, iterations=params.iterations,
                                        regularization=params.regularization, random_state=seed)
    return _fit(model, train)


def bpr(train: Any, params: BaselineParams, seed: int) -> Scorer:
    """implicit's Bayesian personalised ranking (Rendle et al. 2009) with sampled negatives."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    # one thread: implicit's lock-free (Hogwild) SGD on several threads gives other factors on every run
    model = BayesianPersonalizedRanking(factors=params.factors, iterations=params.iterations,
                                        learning_rate=params.learning_rate, regularization=params.regularization,
                                        random_state=seed, num_threads=1)
    return _fit(model, train)


def ease(train: Any, params: BaselineParams, seed: int) -> Scorer:
    """EASE (Steck 2019, "Embarrassingly shallow autoencoders for sparse data"): the item x item weights ``B`` with a
    zero diagonal that best rebuild the training matrix ``X`` from itself under an L2 penalty
    (``params.regularization``), in closed form: ``P = (X'X + lambda I)^-1``, ``B = -P / diag(P)``; a user's scores
    are their row of ``X`` times ``B``. An item without training positives gets no weights (score 0)."""
    matrix = train.tocsr().astype(np.float64)
    gram = (matrix.T @ matrix).toarray()
    gram[np.diag_indices_from(gram)] += params.regularization
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)[None, :]
    weights[np.diag_indices_from(weights)] = 0.0
    return lambda rows: np.asarray(matrix[np.asarray(rows)] @ weights, dtype=np.float32)


def _fit(model: Any, train: Any) -> Scorer:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):    # implicit's own threads do the work; BLAS threads would fight them
        model.fit(train.tocsr().astype(np.float32), show_progress=False)
    users, items = np.asarray(model.user_factors), np.array(model.item_factors)
    items[np.asarray(train.sum(axis=0)).ravel() == 0] = 0.0   # see NO_COLD_ITEMS
    return lambda rows: users[np.asarray(rows)] @ items.T


BASELINES: dict[str, Callable[[Any, BaselineParams | None, int], Scorer]] = {
    "popularity": popularity, "als": als, "bpr": bpr, "ease": ease}
# Cannot score an item that had no training positive: every such item scores 0 for every user (ALS solves its
# factors to 0 anyway; BPR's would keep their random start, pushed down as sampled negatives, so they are set to 0),
# so a blend that gives the tuned model no weight cannot rank cold items by noise either.
NO_COLD_ITEMS = frozenset({"als", "bpr", "ease"})


def fit_baseline(name: str, *, train: Any, params: BaselineParams | None, seed: int) -> Scorer:
    """Fit baseline ``name`` on ``train`` (users x items CSR) and return its scorer.

    Args:
        name: ``popularity``, ``als``, ``bpr`` or ``ease``.
        train: binary users x items CSR of training positives.
        params: settings for ``als``/``bpr`` (``ease`` reads only ``regularization``; ignored by popularity).
        seed: random state of the factor initialisation.

    Raises:
        KeyError: an unknown baseline name (the recipe validation lists the known ones).
    """
    return BASELINES[name](train, params, seed)
