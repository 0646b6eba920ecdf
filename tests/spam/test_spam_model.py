"""Pieces of the spam model that a full run does not isolate."""

import numpy as np
import pytest
import torch

from suite.spam.model import weighted_loss


def test_class_weighted_loss_matches_the_hand_computed_value():
    labels = np.array([0, 0, 0, 1])                     # 3 ham, 1 spam -> weights 4/6 and 4/2
    loss = weighted_loss(labels)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    batch = torch.tensor([0, 1])
    log_p = torch.log_softmax(logits, dim=-1)
    w = torch.tensor([4 / 6, 2.0])
    expected = -(w[0] * log_p[0, 0] + w[1] * log_p[1, 1]) / (w[0] + w[1])
    assert loss({"logits": logits}, batch).item() == pytest.approx(expected.item(), rel=1e-6)
    # with gradient accumulation over two such batches the Trainer passes 4 messages and sums the two losses
    assert loss({"logits": logits}, batch, num_items_in_batch=4).item() == pytest.approx(expected.item() / 2, rel=1e-6)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from suite.core import sources
    return AutoTokenizer.from_pretrained(str(sources.resolve("bundled:minilm")))


TEN = "one two three four five six seven eight nine ten"


def test_head_and_tail_truncation_keeps_both_ends(tokenizer):
    from suite.spam.model import encode

    head, both, short = encode(tokenizer, [TEN, TEN, "short text"], max_length=8, tail_tokens=0), \
        encode(tokenizer, [TEN], max_length=8, tail_tokens=3), encode(tokenizer, ["short text"], max_length=8,
                                                                      tail_tokens=3)
    assert tokenizer.decode(head[0]) == "[CLS] one two three four five six [SEP]"
    assert tokenizer.decode(both[0]) == "[CLS] one two three eight nine ten [SEP]"
    assert short[0] == tokenizer("short text")["input_ids"]                   # nothing cut: unchanged
    assert head[0] == tokenizer(TEN, truncation=True, max_length=8)["input_ids"]   # 0: the plain truncation


def test_tokenize_pads_only_when_asked_and_masks_the_padding(tokenizer):
    from suite.spam.config import SpamModelConfig
    from suite.spam.model import tokenize

    dynamic = tokenize(tokenizer, [TEN, "hi"], [1, 0], SpamModelConfig(max_length=10, tail_tokens=2))
    padded = tokenize(tokenizer, [TEN, "hi"], [1, 0], SpamModelConfig(max_length=10, pad_to_max_length=True))
    assert dynamic["length"] == [10, 3] and dynamic["attention_mask"][1] == [1, 1, 1]
    assert tokenizer.decode(dynamic["input_ids"][0]) == "[CLS] one two three four five six nine ten [SEP]"
    assert padded["length"] == [10, 10] and padded["attention_mask"][1] == [1, 1, 1] + [0] * 7
    assert padded["labels"] == [1, 0]


@pytest.mark.parametrize("tail, expected", [(-1, "model.tail_tokens: expected an integer from 0 to"),
                                            (121, "model.tail_tokens: expected an integer from 0 to max_length - 8"),
                                            (True, "model.tail_tokens: expected an integer"),
                                            (2.5, "model.tail_tokens: expected an integer")])
def test_tail_tokens_must_leave_room_for_the_head(tail, expected):
    from suite.core import config
    from suite.core.errors import RecipeError
    from suite.spam.config import SpamModelConfig

    with pytest.raises(RecipeError, match=expected):
        config.build(SpamModelConfig, {"max_length": 128, "tail_tokens": tail}, where="r", prefix="model.")


def test_paired_bootstrap_recomputes_each_metric_on_the_same_draw():
    from sklearn.metrics import f1_score, roc_auc_score

    from suite.spam.metrics import _metrics, compare

    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.4).astype(int)
    a = np.round(np.clip(rng.normal(0.3 + 0.5 * y, 0.2), 0, 1), 2)        # rounded: ties must count half
    b = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1)
    draw = rng.integers(0, y.size, y.size)
    counts = np.bincount(draw, minlength=y.size)[None].astype(float)
    got = _metrics(y, a, 0.7, counts)
    assert got["roc_auc"][0] == pytest.approx(roc_auc_score(y[draw], a[draw]), abs=1e-12)
    assert got["f1"][0] == pytest.approx(f1_score(y[draw], a[draw] >= 0.5), abs=1e-12)
    assert got["recall_at_target_fpr"][0] == pytest.approx((a[draw][y[draw] == 1] >= 0.7).mean(), abs=1e-12)
    result = compare(y, {"a": a, "b": b}, {"a": 0.7, "b": 0.7}, ["a"], "b", n=500)
    auc = result["a vs b: roc_auc"]
    assert auc["a"] == pytest.approx(roc_auc_score(y, a)) and auc["cases"] == 300 and auc["replicates"] == 500
    assert 0 < auc["difference_low"] < auc["difference"] < auc["difference_high"]   # a ranks clearly better
    same = compare(y, {"a": a, "c": a}, {"a": 0.7, "c": 0.7}, ["a"], "c", n=50)["a vs c: f1"]
    assert same["difference_low"] == same["difference_high"] == 0 and same["ratio"] == 1


def test_hybrid_weights_are_scored_with_the_recall_at_the_operating_threshold():
    from suite.spam.metrics import validation_score

    labels = np.array([0] * 6 + [1] * 4)
    ranked = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.55, 0.7, 0.8, 0.9])    # 3 of 4 spam above every ham
    saturated = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 1.0, 0.55, 1.0, 1.0, 1.0])  # a ham tied with the spam at 1
    assert validation_score(labels, ranked) == pytest.approx(validation_score(labels, saturated), abs=2e-3)
    assert validation_score(labels, ranked, operating_weight=0.1) - \
        validation_score(labels, saturated, operating_weight=0.1) == pytest.approx(0.1 * 0.75, abs=2e-3)


def test_hybrid_operating_weight_is_validated():
    from suite.core import config
    from suite.core.errors import RecipeError
    from suite.spam.config import SpamEvalConfig

    with pytest.raises(RecipeError, match=r"evaluation.hybrid_operating_weight: expected a number in \[0, 1\]"):
        config.build(SpamEvalConfig, {"hybrid_operating_weight": 2}, where="r", prefix="evaluation.")
