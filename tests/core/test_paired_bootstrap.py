"""The paired bootstrap that says whether one system beats another on the same test cases."""

import numpy as np
import pytest

from suite.core.metrics.paired import check_compare_with, paired_bootstrap, reference_baselines


def test_a_constant_gap_has_a_zero_width_interval():
    rng = np.random.default_rng(1)
    b = rng.uniform(0.1, 0.5, 200)
    r = paired_bootstrap(b + 0.1, b, n=300)
    assert r["difference"] == pytest.approx(0.1)
    # every replicate draws the same cases for both systems, so the gap never varies
    assert r["difference_low"] == pytest.approx(0.1) and r["difference_high"] == pytest.approx(0.1)
    assert r["ratio_low"] <= r["ratio"] <= r["ratio_high"] and r["ratio"] == pytest.approx((b.mean() + .1) / b.mean())
    assert r["cases"] == 200 and r["replicates"] == 300


def test_pairing_is_narrower_than_two_separate_intervals():
    rng = np.random.default_rng(2)
    difficulty = rng.uniform(0, 1, 500)                   # shared: what is hard for one is hard for the other
    a, b = difficulty + rng.normal(0.02, 0.05, 500), difficulty
    paired = paired_bootstrap(a, b, n=1000)
    unpaired = paired_bootstrap(a, rng.permutation(b), n=1000)   # the pairing destroyed
    assert paired["difference"] == pytest.approx(unpaired["difference"])
    width = paired["difference_high"] - paired["difference_low"]
    assert width < 0.25 * (unpaired["difference_high"] - unpaired["difference_low"])
    assert paired["difference_low"] > 0                    # a 0.02 gain is visible when paired


def test_same_seed_same_interval_and_no_ratio_over_zero():
    a, b = [1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
    r = paired_bootstrap(a, [0.0, 0.0, 0.0, 0.0])
    assert r["ratio"] is None and r["ratio_low"] is None and r["difference"] == 0.5


@pytest.mark.parametrize("a, b, kwargs, message", [
    ([1, 2], [1], {}, "one length"),
    ([], [], {}, "no case"),
    ([1], [1], {"n": 0}, "n >= 1"),
    ([1], [1], {"alpha": 1.5}, "alpha"),
])
def test_bad_input_is_refused(a, b, kwargs, message):
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(a, b, **kwargs)


def test_large_test_sets_are_resampled_in_chunks_with_the_same_draws(monkeypatch):
    from suite.core.metrics import paired

    rng = np.random.default_rng(4)
    a, b = rng.uniform(0, 1, 300), rng.uniform(0, 1, 300)
    whole = paired_bootstrap(a, b, n=50, seed=7)
    monkeypatch.setattr(paired, "_DRAWS_PER_CHUNK", 7 * 300 + 5)      # 7 replicates per chunk, the last short
    assert paired_bootstrap(a, b, n=50, seed=7) == whole


def test_the_strongest_baseline_comes_first_then_the_named_ones_each_once():
    values = {"baseline:als": 0.27, "baseline:ease": 0.32, "baseline:bpr": None, "baseline:popularity": 0.15}
    assert reference_baselines(values) == ["baseline:ease"]
    assert reference_baselines(values, ["als", "ease", "als", "bpr"]) == \
        ["baseline:ease", "baseline:als"]        # BPR cannot be scored here: no comparison with it
    assert reference_baselines({"baseline:bpr": None}, ["bpr"]) == []


def test_compare_with_must_name_a_baseline_of_the_run():
    check_compare_with(["als"], ["als", "ease"])
    check_compare_with(["als"], [])             # no baselines (a benchmark's scratch run): no comparison at all
    with pytest.raises(ValueError, match="compare_with: 'bpr' is not one of this run's baselines"):
        check_compare_with(["bpr"], ["als", "ease"])
