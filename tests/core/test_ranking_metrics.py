"""Ranking metrics against rankings worked out by hand, and against a plain-Python reference."""

import math

import numpy as np
import pytest
from scipy import sparse

from suite.core.metrics import ranking
from suite.core.metrics.ranking import ranking_report, top_k

# Two users, five items.
# user 0: item 0 excluded -> ranking 1, 2, 3, 4; targets 2 (rank 2) and 4 (rank 4).
# user 1: item 4 first, then the tie 0, 1, 2, 3 in index order; target 1 (rank 3).
SCORES = np.array([[0.9, 0.8, 0.7, 0.6, 0.5],
                   [0.1, 0.1, 0.1, 0.1, 0.2]])
TARGETS = [[2, 4], [1]]
EXCLUDE = [[0], []]


def test_hand_computed_ranking():
    r = ranking_report(SCORES, TARGETS, ks=[1, 2, 4], exclude=EXCLUDE)
    assert r["users"] == 2
    assert r["hr@1"] == 0.0 and r["ndcg@1"] == 0.0 and r["mrr@1"] == 0.0
    # k=2: only user 0 hits (item 2 at rank 2); its ideal DCG holds two targets.
    assert r["hr@2"] == pytest.approx(0.5)
    assert r["recall@2"] == pytest.approx(0.25)
    assert r["ndcg@2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)) / 2)
    assert r["mrr@2"] == pytest.approx(0.25)
    # k=4: user 0 finds both (ranks 2 and 4), user 1 its one at rank 3.
    ndcg0 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    ndcg1 = 1 / math.log2(4)
    assert r["hr@4"] == 1.0 and r["recall@4"] == 1.0
    assert r["ndcg@4"] == pytest.approx((ndcg0 + ndcg1) / 2)
    assert r["mrr@4"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    # coverage: top-1 lists are {1} and {4}; top-2 {1, 2} and {4, 0}; of 5 items.
    assert r["coverage@1"] == pytest.approx(2 / 5)
    assert r["coverage@2"] == pytest.approx(4 / 5)


def test_sparse_and_list_inputs_agree():
    as_lists = ranking_report(SCORES, TARGETS, ks=[2, 4], exclude=EXCLUDE)
    targets = sparse.csr_matrix(([1, 1, 1], ([0, 0, 1], [2, 4, 1])), shape=(2, 5))
    exclude = sparse.csr_matrix(([1.0], ([0], [0])), shape=(2, 5))
    assert ranking_report(SCORES, targets, ks=[2, 4], exclude=exclude) == as_lists


def test_top_k_masks_breaks_ties_by_index_and_pads():
    assert top_k(SCORES, 3, exclude=EXCLUDE).tolist() == [[1, 2, 3], [4, 0, 1]]
    assert top_k(SCORES, 3, exclude=[[0, 1, 2, 3], []], candidates=[0, 1, 2, 3, 4]).tolist() == [
        [4, -1, -1], [4, 0, 1]]
    assert top_k(SCORES, 2, candidates=[1, 3]).tolist() == [[1, 3], [1, 3]]


def test_rows_without_targets_are_left_out_and_candidates_restrict():
    r = ranking_report(SCORES, [[2], []], ks=[1])
    assert r["users"] == 1 and r["hr@1"] == 0.0
    only = ranking_report(SCORES, [[2], []], ks=[1], candidates=[2, 3])
    assert only["hr@1"] == 1.0 and only["coverage@1"] == pytest.approx(1 / 2)


@pytest.mark.parametrize("targets, exclude, candidates, message", [
    ([[0], [1]], [[0], []], None, "also excluded"),
    ([[0], [1]], None, [1, 2], "not candidates"),
    ([[], []], None, None, "no row has a target"),
    ([[7], [1]], None, None, "out of range"),
])
def test_protocol_errors_are_refused(targets, exclude, candidates, message):
    with pytest.raises(ValueError, match=message):
        ranking_report(SCORES, targets, ks=[1], exclude=exclude, candidates=candidates)


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError, match="finite"):
        ranking_report([[0.1, np.nan]], [[0]], ks=[1])


def _reference(scores, targets, exclude, k):
    """The definitions in the module docstring, one user at a time, in plain Python."""
    hr = ndcg = mrr = recall = 0.0
    for row, wanted, hidden in zip(scores, targets, exclude):
        ranked = sorted((i for i in range(len(row)) if i not in hidden), key=lambda i: (-row[i], i))[:k]
        gains = [1 / math.log2(r + 2) for r, i in enumerate(ranked) if i in wanted]
        ideal = sum(1 / math.log2(r + 2) for r in range(min(k, len(wanted))))
        hr += bool(gains)
        recall += len(gains) / len(wanted)
        ndcg += sum(gains) / ideal
        first = next((r for r, i in enumerate(ranked) if i in wanted), None)
        mrr += 0.0 if first is None else 1 / (first + 1)
    n = len(scores)
    return {"hr": hr / n, "recall": recall / n, "ndcg": ndcg / n, "mrr": mrr / n}


def test_matches_plain_python_reference_across_chunks(monkeypatch):
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(37, 25)).astype(float)       # many ties on purpose
    exclude = [set(rng.choice(25, size=rng.integers(0, 6), replace=False).tolist()) for _ in range(37)]
    targets = [set(rng.choice([i for i in range(25) if i not in e], size=rng.integers(1, 4),
                              replace=False).tolist()) for e in exclude]
    monkeypatch.setattr(ranking, "_CHUNK_ROWS", 8)                 # exercise the row chunking
    got = ranking_report(scores, targets, ks=[5, 10], exclude=exclude)
    for k in (5, 10):
        for name, value in _reference(scores, targets, exclude, k).items():
            assert got[f"{name}@{k}"] == pytest.approx(value, abs=1e-12), (name, k)


def test_per_user_values_are_what_the_report_averages():
    values = ranking.per_user_metrics(SCORES, TARGETS, ks=[2, 4], exclude=EXCLUDE)
    report = ranking_report(SCORES, TARGETS, ks=[2, 4], exclude=EXCLUDE)
    assert values["hr@2"].tolist() == [1.0, 0.0] and values["mrr@4"].tolist() == pytest.approx([1 / 2, 1 / 3])
    for name, per_user in values.items():
        assert per_user.shape == (2,) and per_user.mean() == pytest.approx(report[name])
