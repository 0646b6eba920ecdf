"""Shared binary-classification maths, checked against values worked out by hand."""

import itertools
import json

import numpy as np
import pytest

from suite.core.metrics import classification as cm

# 4 negatives then 4 positives. At 0.5: flagged .8 (neg), .7 .9 .95 (pos) -> tp 3, fp 1, fn 1 (.2), tn 3.
LABELS = [0, 0, 0, 0, 1, 1, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.9, 0.95]

# Two negatives tie with a positive at 0.8.
TIE_LABELS = [0, 0, 0, 0, 1, 1, 1, 1]
TIE_SCORES = [0.1, 0.3, 0.8, 0.8, 0.8, 0.85, 0.9, 0.2]


def _pair_auc(labels, scores):
    """AUC without sklearn: the share of (positive, negative) pairs ordered right, ties half."""
    pos = [s for y, s in zip(labels, scores) if y == 1]
    neg = [s for y, s in zip(labels, scores) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def _fpr(labels, scores, threshold):
    c = cm.confusion(labels, scores, threshold)
    return c["fp"] / (c["fp"] + c["tn"])


def test_binary_report_by_hand():
    r = cm.binary_report(LABELS, SCORES, 0.5)
    assert r["confusion"] == {"tn": 3, "fp": 1, "fn": 1, "tp": 3}
    for key in ("precision", "recall", "specificity", "f1", "accuracy", "balanced_accuracy", "ppv", "npv"):
        assert r[key] == pytest.approx(0.75), key
    assert r["fpr"] == pytest.approx(0.25) and r["fnr"] == pytest.approx(0.25)
    assert (r["n"], r["n_positive"], r["threshold"]) == (8, 4, 0.5)
    # pairs: .2 beats 1 negative, .7 beats 3, .9 and .95 beat all 4 -> 12 of 16
    assert r["roc_auc"] == pytest.approx(12 / 16) == pytest.approx(_pair_auc(LABELS, SCORES))
    # ranked: .95 P, .9 P, .8 N, .7 P, .4 N, .35 N, .2 P -> AP = (1 + 1 + 3/4 + 4/7) / 4
    assert r["pr_auc"] == pytest.approx((1 + 1 + 3 / 4 + 4 / 7) / 4)


def test_binary_report_is_plain_json():
    r = cm.binary_report(np.array(LABELS), np.array(SCORES, dtype=np.float32), 0.5)
    assert json.loads(json.dumps(r)) == r
    assert all(type(v) in (int, float) for k, v in r.items() if k != "confusion")
    assert all(type(v) is int for v in r["confusion"].values())


def test_zero_divisions_are_zero():
    r = cm.binary_report(LABELS, SCORES, 1.0)            # nothing flagged
    assert r["confusion"]["tp"] + r["confusion"]["fp"] == 0
    assert r["precision"] == r["recall"] == r["f1"] == r["ppv"] == 0.0
    assert r["specificity"] == 1.0
    r = cm.binary_report(LABELS, SCORES, 0.0)            # everything flagged
    assert r["npv"] == 0.0 and r["recall"] == 1.0


def test_roc_auc_matches_pair_count_with_ties():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 60)
    scores = rng.integers(0, 5, 60) / 4                  # many ties
    assert cm.roc_auc(labels, scores) == pytest.approx(_pair_auc(labels.tolist(), scores.tolist()))


def test_single_class_raises():
    for fn in (cm.roc_auc, cm.pr_auc, cm.best_f1_threshold, cm.bootstrap_ci):
        with pytest.raises(ValueError, match="one class"):
            fn([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="one class"):
        cm.binary_report([0, 0], [0.2, 0.5], 0.5)


@pytest.mark.parametrize("labels, scores, match", [
    ([0, 1], [0.5], "length"),
    ([0, 2], [0.1, 0.5], "0 or 1"),
    ([0, 1], [0.1, float("nan")], "finite"),
    ([], [], "empty"),
])
def test_bad_inputs_raise(labels, scores, match):
    with pytest.raises(ValueError, match=match):
        cm.binary_report(labels, scores, 0.5)


def test_threshold_at_fpr_by_hand():
    # negatives .1 .35 .4 .8: none may be flagged -> lowest score above .8 is .9 (recall 2/4)
    assert cm.threshold_at_fpr(LABELS, SCORES, 0.0) == 0.9
    # one of four may be flagged (.8) -> lowest score above .4 is .7 (recall 3/4)
    assert cm.threshold_at_fpr(LABELS, SCORES, 0.25) == 0.7
    assert cm.threshold_at_fpr(LABELS, SCORES, 0.3) == 0.7   # 1.2 negatives round down to 1
    assert cm.threshold_at_fpr(LABELS, SCORES, 1.0) == 0.1   # everything may be flagged


def test_threshold_at_fpr_ties():
    # negatives .1 .3 .8 .8: one may be flagged, but the two .8 cannot be split -> neither is
    t = cm.threshold_at_fpr(TIE_LABELS, TIE_SCORES, 0.25)
    assert t == 0.85 and _fpr(TIE_LABELS, TIE_SCORES, t) == 0.0
    # two may be flagged: a threshold equal to .8 flags both tied negatives (and the tied positive)
    t = cm.threshold_at_fpr(TIE_LABELS, TIE_SCORES, 0.5)
    assert t == 0.8 and _fpr(TIE_LABELS, TIE_SCORES, t) == 0.5
    assert cm.confusion(TIE_LABELS, TIE_SCORES, t)["tp"] == 3


def test_threshold_at_fpr_is_lowest_against_brute_force():
    rng = np.random.default_rng(0)
    for trial in range(30):
        labels = np.r_[0, 1, rng.integers(0, 2, 40)]
        scores = rng.integers(0, 8, labels.size) / 7
        max_fpr = float(rng.choice([0.0, 0.05, 0.1, 0.25, 0.5, 0.9]))
        t = cm.threshold_at_fpr(labels, scores, max_fpr)
        candidates = sorted(set(scores.tolist()) | {scores.max() + 1})
        lowest = min(c for c in candidates if _fpr(labels, scores, c) <= max_fpr)
        assert cm.confusion(labels, scores, t) == cm.confusion(labels, scores, lowest), trial


def test_threshold_at_fpr_survives_float32_comparison():
    scores = np.array(SCORES, dtype=np.float32)
    t = cm.threshold_at_fpr(LABELS, scores, 0.25)
    flagged = scores >= t                                # numpy compares in float32 here
    assert int((flagged & (np.array(LABELS) == 0)).sum()) == 1


def test_threshold_at_fpr_nothing_above():
    t = cm.threshold_at_fpr([1, 0], [0.2, 0.9], 0.0)     # the top score is a negative
    assert t > 0.9 and np.float32(0.9) < np.float32(t)
    with pytest.raises(ValueError, match="no negatives"):
        cm.threshold_at_fpr([1, 1], [0.2, 0.9], 0.1)
    with pytest.raises(ValueError, match="max_fpr"):
        cm.threshold_at_fpr(LABELS, SCORES, 1.5)


def test_sensitivity_and_specificity_trade_offs():
    # positives .95 .9 .7 .2
    assert cm.threshold_at_sensitivity(LABELS, SCORES, 0.75) == 0.7
    assert cm.threshold_at_sensitivity(LABELS, SCORES, 0.5) == 0.9
    assert cm.sensitivity_at_specificity(LABELS, SCORES, 0.75) == (0.75, 0.7)
    assert cm.sensitivity_at_specificity(LABELS, SCORES, 1.0) == (0.5, 0.9)
    # all positives needed -> threshold .2 flags .35 .4 .8 too -> specificity 1/4
    assert cm.specificity_at_sensitivity(LABELS, SCORES, 1.0) == (0.25, 0.2)
    assert cm.specificity_at_sensitivity(LABELS, SCORES, 0.5) == (1.0, 0.9)
    with pytest.raises(ValueError, match="no positives"):
        cm.threshold_at_sensitivity([0, 0], [0.1, 0.2], 0.9)


def test_threshold_table_by_hand():
    rows = cm.threshold_table(LABELS, SCORES)
    assert [r["threshold"] for r in rows] == pytest.approx(cm.DEFAULT_THRESHOLDS)
    by_t = {round(r["threshold"], 1): r for r in rows}
    assert by_t[0.3]["flagged"] == 6                     # .35 .4 .8 .7 .9 .95
    assert by_t[0.5] == {"threshold": 0.5, "precision": 0.75, "recall": 0.75, "fpr": 0.25, "f1": 0.75,
                         "flagged": 4}
    assert by_t[0.9]["precision"] == 1.0 and by_t[0.9]["recall"] == 0.5
    assert cm.threshold_table(LABELS, SCORES, [0.99])[0]["precision"] == 0.0
    for r in rows:
        report = cm.binary_report(LABELS, SCORES, r["threshold"])
        assert r["f1"] == pytest.approx(report["f1"]) and r["fpr"] == pytest.approx(report["fpr"])


def test_best_f1_threshold_by_hand():
    # F1 at .95 .9 .8 .7 .4 .35 .2 .1 = 2/5 4/6 4/7 6/8 6/9 6/10 8/11 8/12 -> best is .7
    assert cm.best_f1_threshold(LABELS, SCORES) == 0.7
    assert cm.best_f1_threshold([0, 1, 0, 1], [0.1, 0.9, 0.1, 0.9]) == 0.9   # ties -> highest threshold


def _separable_sample(n, seed):
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]
    return labels, rng.normal(labels * 1.0, 1.0)


def test_bootstrap_ci_contains_estimate_and_shrinks_with_data():
    small, large = _separable_sample(60, 0), _separable_sample(1500, 0)
    low_s, high_s = cm.bootstrap_ci(*small, n=300)
    low_l, high_l = cm.bootstrap_ci(*large, n=300)
    assert low_s <= cm.roc_auc(*small) <= high_s
    assert low_l <= cm.roc_auc(*large) <= high_l
    assert high_l - low_l < (high_s - low_s) / 2
    assert cm.bootstrap_ci(*small, n=300) == (low_s, high_s)           # seeded: reproducible
    recall = cm.bootstrap_ci(*small, metric=lambda y, s: cm.binary_report(y, s, 0.5)["recall"], n=100)
    assert 0.0 <= recall[0] <= recall[1] <= 1.0


def test_expected_calibration_error():
    # 10 at .3 with 3 positives, 10 at .8 with 8 positives: every bin matches its rate
    labels = [1] * 3 + [0] * 7 + [1] * 8 + [0] * 2
    probs = [0.3] * 10 + [0.8] * 10
    assert cm.expected_calibration_error(labels, probs) == pytest.approx(0.0, abs=1e-12)
    # 4 at .9 with 2 positives (gap .4), 6 at .2 with none (gap .2): (4 * .4 + 6 * .2) / 10
    labels, probs = [1, 1, 0, 0] + [0] * 6, [0.9] * 4 + [0.2] * 6
    assert cm.expected_calibration_error(labels, probs) == pytest.approx(0.28)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cm.expected_calibration_error([0, 1], [-0.5, 2.0])


def test_reliability_bins_edges():
    bins = cm.reliability_bins([0, 1, 1, 0, 1], [0.0, 0.1, 0.55, 0.5, 1.0], n_bins=10)
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 5
    counts = {round(b["low"], 1): b["count"] for b in bins}
    assert counts[0.0] == 1 and counts[0.1] == 1 and counts[0.5] == 2 and counts[0.9] == 1   # p == 1 -> last bin
    fifth = bins[5]
    assert fifth["mean_probability"] == pytest.approx(0.525) and fifth["positive_rate"] == 0.5
    tenths = cm.reliability_bins([0] * 11, [i / 10 for i in range(11)])                      # 0.3 -> bin 3, not 2
    assert [b["count"] for b in tenths] == [1] * 9 + [2]
