"""The hybrid of the tuned score with classical recommenders (suite.core.blend): its weight grid, blend and choice
on validation NDCG@10."""

import numpy as np
import pytest
import scipy.sparse as sp

from suite.core.blend import blend, pick_weights, weight_grid
from suite.recommendation.config import RecEvalConfig
from suite.recommendation.metrics import Phase, evaluate_phase


def _ndcg(at):
    return lambda scores: evaluate_phase(scores, at, [10])["ndcg@10"]


def test_the_grid_holds_exactly_the_combinations_that_add_up_to_one():
    grid = weight_grid(["tuned", "als", "bpr"], [0.0, 0.5, 1.0])
    assert sorted(tuple(w.values()) for w in grid) == sorted([(0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0),
                                                              (1, 0, 0), (0, 1, 0), (0, 0, 1)])
    assert len(weight_grid(["tuned", "als"], [i / 10 for i in range(11)])) == 11
    assert weight_grid(["tuned", "als"], [0.3, 0.4]) == []


def test_blend_standardises_each_system_per_user():
    tuned = np.array([[0.0, 1.0, 2.0]])
    als = np.array([[300.0, 200.0, 100.0]])       # another scale, the opposite order
    mixed = blend({"tuned": tuned, "als": als}, {"tuned": 0.5, "als": 0.5})
    assert np.allclose(mixed, 0.0)                 # equal weights of opposite z-scores cancel
    assert np.argmax(blend({"tuned": tuned, "als": als}, {"tuned": 0.6, "als": 0.4})) == 2


def test_the_best_validation_combination_is_picked():
    # two users, four items; each user's validation item is ranked first by exactly one system
    targets = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 1]]))
    at = Phase("validation", np.array([0, 1]), targets, sp.csr_matrix((2, 4)), (0,))
    scores = {"tuned": np.array([[4.0, 3, 2, 1], [4, 3, 2, 1]]),   # right for user 0 only
              "als": np.array([[1.0, 2, 3, 4], [1, 2, 3, 4]]),     # right for user 1 only
              "bpr": np.array([[4.0, 1, 1, 3], [1, 1, 1, 4]])}     # right for both
    weights, tried = pick_weights(scores, _ndcg(at), [0.0, 0.5, 1.0])
    assert weights == {"tuned": 0.0, "als": 0.0, "bpr": 1.0}
    assert len(tried) == 6 and max(value for _, value in tried) == pytest.approx(1.0)


def test_ties_go_to_the_smaller_tuned_weight():
    targets = sp.csr_matrix(np.array([[1, 0, 0]]))
    at = Phase("validation", np.array([0]), targets, sp.csr_matrix((1, 3)), (0,))
    same = np.array([[3.0, 2, 1]])
    weights, _ = pick_weights({"tuned": same, "als": same}, _ndcg(at), [0.0, 0.5, 1.0])
    assert weights == {"tuned": 0.0, "als": 1.0}


@pytest.mark.parametrize("values, message", [
    ({"hybrid_with": ["bpr"], "baselines": ["als"]}, "hybrid_with"),
    ({"hybrid_weights": [0.3, 0.4]}, "adds up to 1")])
def test_a_hybrid_that_cannot_be_built_is_refused(values, message):
    with pytest.raises(ValueError, match=message):
        RecEvalConfig(**values)
    RecEvalConfig(**{**values, "hybrid_weights": []})    # no hybrid: nothing to check


def test_compare_pairs_the_users_of_two_systems():
    from suite.core.metrics.paired import comparison_section
    from suite.recommendation.metrics import compare

    # four users, three items, target item 0 each; "good" ranks it first for all, "als" for the first two
    targets = sp.csr_matrix(np.tile([1, 0, 0], (4, 1)))
    test = Phase("test", np.arange(4), targets, sp.csr_matrix((4, 3)), (0,))
    good = np.tile([3.0, 2, 1], (4, 1))
    als = np.array([[3.0, 2, 1], [3, 2, 1], [1, 2, 3], [1, 2, 3]])   # target last for users 2 and 3: NDCG 0.5
    result = compare({"tuned": good, "baseline:als": als}, test, ["tuned"], "baseline:als", seed=0)
    c = result["tuned vs baseline:als"]
    assert c["metric"] == "ndcg@10" and c["a"] == pytest.approx(1.0) and c["b"] == pytest.approx(0.75)
    assert c["difference"] == pytest.approx(0.25) and c["difference_low"] >= 0 and c["cases"] == 4
    section = comparison_section(result, cases="test users", note="")
    assert "| tuned vs baseline:als | ndcg@10 | 1.0000 | 0.7500 | +0.2500" in section


def test_per_user_values_average_to_the_reported_figure():
    from suite.recommendation.metrics import per_user_values, system_report

    # three users, four items; the target (item 1, 2, 3) ranked first, second and third
    targets = sp.csr_matrix(np.eye(4)[[1, 2, 3]])
    phases = {"test": Phase("test", np.arange(3), targets, sp.csr_matrix((3, 4)), (0,))}
    scores = {"test": np.array([[0.0, 3, 2, 1], [0, 3, 2, 1], [0, 3, 2, 1]])}
    values = per_user_values(scores, phases, "test", "ndcg@10")
    assert values == pytest.approx([1.0, 1 / np.log2(3), 0.5])
    assert values.mean() == pytest.approx(system_report(scores, phases, [10])["ndcg@10"])


def test_a_system_that_ties_every_cold_item_has_no_cold_figures():
    from suite.recommendation.metrics import system_report

    # two users; items 2 and 3 are cold, and each user's target is item 2
    targets = sp.csr_matrix(np.tile([0, 1, 0, 0], (2, 1)))
    cold_targets = sp.csr_matrix(np.tile([0, 0, 1, 0], (2, 1)))
    phases = {"test": Phase("test", np.arange(2), targets, sp.csr_matrix((2, 4)), (0,)),
              "cold": Phase("cold", np.arange(2), cold_targets, sp.csr_matrix((2, 4)), (0,),
                            candidates=np.array([2, 3]))}
    ranks = system_report({"test": np.array([[1.0, 2, 3, 0], [1, 2, 3, 0]])}, phases, [1])
    ties = system_report({"test": np.array([[1.0, 2, 0, 0], [2, 1, 0, 0]])}, phases, [1])   # e.g. ALS + EASE
    assert ranks["cold_ndcg@1"] == 1.0 and ranks["cold_users"] == 2
    assert ties["cold_ndcg@1"] is None and ties["ndcg@1"] is not None
