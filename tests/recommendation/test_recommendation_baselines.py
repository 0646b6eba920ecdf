"""The classical recommenders on tiny matrices whose answer is known (fast: no model, no MovieLens)."""

import numpy as np
import pytest
import scipy.sparse as sp

from suite.core.errors import DataError
from suite.core.recipe import load_recipe
from suite.core.registry import get_domain
from suite.recommendation import hooks
from suite.recommendation.baselines import BaselineParams, fit_baseline

# users 0-3 like items 0-2, users 4-7 like items 3-5, user 8 only items 0 and 1, user 9 only item 0;
# item 6 has no positive at all
LIKES = [[0, 1, 2]] * 4 + [[3, 4, 5]] * 4 + [[0, 1], [0]]
TRAIN = sp.csr_matrix((np.ones(sum(map(len, LIKES))), ([u for u, items in enumerate(LIKES) for _ in items],
                                                       [i for items in LIKES for i in items])), shape=(10, 7))


def _ease_scores() -> np.ndarray:
    return fit_baseline("ease", train=TRAIN, params=BaselineParams(regularization=1.0), seed=0)(np.arange(10))


def test_ease_recommends_what_users_alike_liked_and_gives_an_unseen_item_nothing():
    scores = _ease_scores()
    assert scores.shape == (10, 7) and scores.dtype == np.float32
    unseen = scores[8].copy()
    unseen[[0, 1]] = -np.inf
    assert int(np.argmax(unseen)) == 2                                   # the rest of user 8's block
    assert np.all(scores[:, 6] == 0)                                     # no positive, no weights
    assert scores[0, 3:6].max() < scores[0, :3].min()                    # the other block ranks below


def test_ease_gives_no_item_a_weight_on_itself():
    assert _ease_scores()[9, 0] == 0          # user 9 holds only item 0: the zero diagonal gives it nothing


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_a_factor_model_gives_an_item_without_positives_the_same_score_for_everyone(name):
    # BPR's factors for item 6 would keep their random start; a blend could then rank cold items by noise
    scores = fit_baseline(name, train=TRAIN, params=BaselineParams(factors=4, iterations=20), seed=0)(np.arange(10))
    assert np.all(scores[:, 6] == 0) and np.abs(scores[:, :6]).max() > 0


def test_a_catalogue_too_large_for_ease_is_refused_before_any_model_loads(monkeypatch):
    recipe = load_recipe("recommendation/tiny")
    monkeypatch.setattr(hooks, "EASE_MAX_ITEMS", 100)
    with pytest.raises(DataError, match="remove 'ease' from evaluation.baselines"):
        get_domain("recommendation").prepare_data(recipe)
    without = load_recipe("recommendation/tiny", ["evaluation.baselines=[popularity,als]"])
    assert get_domain("recommendation").prepare_data(without).n_items > 100


def test_popularity_ranks_by_count_then_catalogue_order_even_among_unrated_items():
    scores = fit_baseline("popularity", train=TRAIN, params=None, seed=0)(np.arange(2))
    assert (scores[0] == scores[1]).all()
    # item 0 has 6 positives, item 1 has 5, items 2-5 have 4 each (a tie), item 6 none
    assert np.argsort(-scores[0], kind="stable").tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert scores[0, 0] > scores[0, 1] and scores[0, 2] > scores[0, 3] > scores[0, 6]
