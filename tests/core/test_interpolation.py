"""suite.core.interpolation: the WiSE-FT mix of tuned and untuned weights that train.untuned_share asks for."""

import pytest
import torch

from suite.core import interpolation


class Tied(torch.nn.Module):
    """An embedding shared with the output layer (as translation models tie them), a norm's buffers, a head."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(5, 3)
        self.out = torch.nn.Linear(3, 5, bias=False)
        self.out.weight = self.embed.weight
        self.norm = torch.nn.BatchNorm1d(3)
        self.head = torch.nn.Linear(3, 2)


def test_each_weight_moves_the_share_of_the_way_back_once_even_when_tied():
    model = Tied()
    before = interpolation.snapshot(model, ["head"])
    assert "head.weight" not in before and "norm.num_batches_tracked" not in before    # new head; an integer count
    with torch.no_grad():
        for tensor in [*model.parameters(), model.norm.running_mean]:
            tensor.add_(1.0)
    head = model.head.weight.detach().clone()
    assert interpolation.mix(model, before, 0.25) == len(before)
    assert torch.allclose(model.embed.weight, before["embed.weight"] + 0.75)          # tied: mixed once, not twice
    assert torch.allclose(model.norm.running_mean, before["norm.running_mean"] + 0.75)
    assert torch.equal(model.head.weight, head)


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_share_zero_keeps_the_tuned_weights_and_a_copy_is_not_a_view(share):
    model = torch.nn.Linear(2, 2)
    before = interpolation.snapshot(model, [])
    with torch.no_grad():
        model.weight.mul_(3.0)
    tuned = model.weight.detach().clone()
    interpolation.mix(model, before, share)
    assert torch.allclose(model.weight, (1 - share) * tuned + share * before["weight"])
    assert not torch.equal(before["weight"], tuned)
