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
