"""The logQ-corrected in-batch loss: log q from the training positives, and what the correction does."""

import math

import pytest
import torch

from suite.recommendation.losses import LogQRankingLoss, build_loss, log_frequencies


class _Fixed(torch.nn.Module):
    """Stands in for the encoder: each features dict carries its embeddings."""

    def forward(self, features):
        return {"sentence_embedding": features["embeddings"]}


def test_log_frequencies_are_shares_of_the_positives():
    assert log_frequencies(["a", "a", "b", "c"]) == pytest.approx([math.log(0.5)] * 2 + [math.log(0.25)] * 2)


def test_correction_lowers_popular_negatives_and_a_constant_cancels():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    positives = torch.tensor([[1.0, 0.2], [0.3, 1.0]])
    features = [{"embeddings": anchors}, {"embeddings": positives}]
    loss = LogQRankingLoss(_Fixed(), scale=5.0)
    logits = 5.0 * torch.nn.functional.normalize(anchors, dim=-1) @ torch.nn.functional.normalize(positives,
                                                                                                  dim=-1).T
    plain = torch.nn.functional.cross_entropy(logits, torch.arange(2))
    # The same log q for every item shifts every logit alike: plain in-batch softmax.
    assert loss(features, torch.full((2,), -3.0)) == pytest.approx(plain.item())
    # Item 1 popular (large q): as anchor 0's negative it counts less, as anchor 1's positive it must score higher.
    corrected = loss(features, torch.log(torch.tensor([0.1, 0.9])))
    by_hand = torch.nn.functional.cross_entropy(logits - torch.log(torch.tensor([0.1, 0.9]))[None, :],
                                                torch.arange(2))
    assert corrected == pytest.approx(by_hand.item()) and corrected.item() != pytest.approx(plain.item())


def test_losses_are_chosen_by_name():
    assert isinstance(build_loss("logq-mnrl", _Fixed(), scale=20.0), LogQRankingLoss)
    with pytest.raises(KeyError):
        build_loss("triplet", _Fixed(), scale=20.0)
