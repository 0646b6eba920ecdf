"""The two losses of the recommender: the logQ-corrected in-batch softmax and the whole-catalogue softmax."""

import math

import pytest
import torch

from suite.recommendation.losses import catalogue_loss, in_batch_loss, log_frequencies


def test_log_frequencies_are_shares_of_the_positives():
    assert log_frequencies(["a", "a", "b", "c"]) == pytest.approx([math.log(0.5)] * 2 + [math.log(0.25)] * 2)


def test_correction_lowers_popular_negatives_and_a_constant_cancels():
    logits = torch.tensor([[5.0, 1.0], [1.5, 5.0]])
    items = torch.tensor([0, 1])
    plain = torch.nn.functional.cross_entropy(logits, torch.arange(2))
    # The same log q for every item shifts every logit alike: plain in-batch softmax.
    assert in_batch_loss(logits, torch.full((2,), -3.0), items) == pytest.approx(plain.item())
    assert in_batch_loss(logits, None, items) == pytest.approx(plain.item())
    # Item 1 popular (large q): as row 0's negative it counts less, as row 1's positive it must score higher.
    log_q = torch.log(torch.tensor([0.1, 0.9]))
    by_hand = torch.nn.functional.cross_entropy(logits - log_q[None, :], torch.arange(2))
    assert in_batch_loss(logits, log_q, items) == pytest.approx(by_hand.item())


def test_a_repeated_item_is_no_negative_for_its_twin():
    logits = torch.tensor([[4.0, 4.0, 0.0], [4.0, 4.0, 0.0], [0.0, 0.0, 4.0]])
    same = in_batch_loss(logits, None, torch.tensor([7, 7, 3]))          # rows 0 and 1 hold the same item
    distinct = in_batch_loss(logits, None, torch.tensor([7, 8, 3]))
    assert same < distinct
    # rows 0 and 1 see their own item against item 3 only; row 2 against both copies
    expected = (2 * math.log(1 + math.exp(-4)) + math.log(1 + 2 * math.exp(-4))) / 3
    assert same == pytest.approx(expected, rel=1e-5)


def test_catalogue_loss_averages_each_users_targets_then_the_users():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    loss = catalogue_loss(logits, torch.tensor([0, 1, 2]), torch.tensor([0, 0, 1]))
    expected = (-(math.log(0.5) + math.log(0.25)) / 2 - math.log(0.8)) / 2
    assert loss == pytest.approx(expected, rel=1e-5)
    # items that cannot be targets (-inf) drop out of the softmax; no target at all gives zero
    masked = catalogue_loss(torch.tensor([[0.0, 0.0, float("-inf")]]), torch.tensor([0]), torch.tensor([0]))
    assert masked == pytest.approx(math.log(2))
    assert catalogue_loss(logits, torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)) == 0
