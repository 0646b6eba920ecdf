"""Operating points: thresholds for a target rate, exact intervals, and drift, against hand-computed values."""

import numpy as np
import pytest

from suite.core import operating
from suite.core.operating import Target


def test_clopper_pearson_matches_the_exact_binomial_bounds():
    low, high = operating.clopper_pearson(0, 329)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 329), rel=1e-9)   # closed form for k = 0
    low, high = operating.clopper_pearson(329, 329)
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 329), rel=1e-9)
    low, high = operating.clopper_pearson(5, 100)
    assert (round(low, 4), round(high, 4)) == (0.0164, 0.1128)                        # textbook values
    assert operating.clopper_pearson(0, 0) == (0.0, 1.0)


def test_measure_counts_rates_and_their_resolution():
    labels = np.array([0] * 8 + [1] * 4)
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.95, 0.5, 0.8, 0.9, 0.99])
    point = operating.measure(labels, scores, 0.9, Target("fpr", 0.1))
    assert (point.negatives, point.positives, point.false_positives, point.true_positives) == (8, 4, 1, 2)
    assert point.fpr == pytest.approx(1 / 8) and point.tpr == pytest.approx(0.5) and point.resolution == 1 / 8
    assert point.fpr_low <= point.fpr <= point.fpr_high and point.tpr_low <= point.tpr <= point.tpr_high
    assert "1 of 8 negatives" in point.describe() and "2 of 4 positives" in point.describe()


def test_choose_meets_the_target_on_the_data_it_is_chosen_on():
    rng = np.random.default_rng(0)
    labels = np.array([0] * 2000 + [1] * 200)
    scores = np.concatenate([rng.normal(0, 1, 2000), rng.normal(2.5, 1, 200)])
    threshold = operating.choose(labels, scores, Target("fpr", 0.01))
    assert operating.measure(labels, scores, threshold, Target("fpr", 0.01)).fpr <= 0.01
    threshold = operating.choose(labels, scores, Target("tpr", 0.9))
    assert operating.measure(labels, scores, threshold, Target("tpr", 0.9)).tpr >= 0.9


def test_drift_is_reported_above_the_reference_interval_or_the_target():
    labels = np.array([0] * 1000 + [1] * 100)
    reference = operating.measure(labels, np.r_[np.zeros(1000), np.ones(100)], 0.5, Target("fpr", 0.01)).to_json()
    assert reference["fpr"] == 0.0 and 0 < reference["fpr_high"] < 0.004
    same = operating.measure(labels, np.r_[np.zeros(1000), np.ones(100)], 0.5, Target("fpr", 0.01))
    assert operating.drift(same, reference) is None
    worse = operating.measure(labels, np.r_[np.ones(30), np.zeros(970), np.ones(100)], 0.5, Target("fpr", 0.01))
    message = operating.drift(worse, reference)
    assert message.startswith("drift: the threshold flags 3.000% of these negatives") and "\n" not in message
    sensitive = operating.measure(labels, np.r_[np.zeros(1000), np.ones(100)], 0.5, Target("tpr", 0.95)).to_json()
    missed = operating.measure(labels, np.r_[np.zeros(1000), np.zeros(30), np.ones(70)], 0.5, Target("tpr", 0.95))
    assert "finds 70.0% of these positives" in operating.drift(missed, sensitive)


def test_drift_is_reported_when_new_data_show_the_target_is_missed_though_the_reference_was_wide():
    # chosen on 600 negatives with none flagged: the reference's upper bound is 0.61%, above 0.55%
    reference = operating.measure(np.r_[np.zeros(600), np.ones(50)], np.r_[np.zeros(600), np.ones(50)], 0.5,
                                  Target("fpr", 0.001)).to_json()
    labels = np.r_[np.zeros(1084), np.ones(100)]
    six = operating.measure(labels, np.r_[np.ones(6), np.zeros(1078), np.ones(100)], 0.5, Target("fpr", 0.001))
    assert six.fpr < reference["fpr_high"] and six.fpr_low > 0.001
    assert "flags 0.554% of these negatives (95% CI 0.203%-1.201%)" in operating.drift(six, reference)
    one = operating.measure(labels, np.r_[np.ones(1), np.zeros(1083), np.ones(100)], 0.5, Target("fpr", 0.001))
    assert one.fpr_low < 0.001 and operating.drift(one, reference) is None     # not shown to miss the target


def test_a_target_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="target"):
        Target("fpr", 1.5)
