"""FLOPs of a training example are counted on batches spread over the epoch, not on the first ones."""

from types import SimpleNamespace

import pytest
import torch

from suite.core.training import flop_count_batches, measure_flops_per_sample


class _Trainer:
    def __init__(self, lengths, *, last=4):
        self.batches = [{"x": torch.randn(4, n, 8)} for n in lengths]
        self.batches[-1]["x"] = self.batches[-1]["x"][:last]
        self.args = SimpleNamespace(device="cpu", per_device_train_batch_size=4)
        self.train_dataset = [None] * (4 * (len(lengths) - 1) + last)

    def get_train_dataloader(self):
        return self.batches

    @staticmethod
    def compute_loss(network, batch):
        return network(batch["x"]).sum()


def test_the_longest_first_batch_of_a_length_grouped_epoch_is_not_what_is_counted():
    network = torch.nn.Linear(8, 2)
    # 9 batches: the first one 10x longer, as a length-grouped sampler serves it
    per_sample = measure_flops_per_sample(_Trainer([100] + [10] * 8), network)
    forward = 2 * 8 * 2 * 10                          # one example: 10 positions through an 8 -> 2 matmul
    assert per_sample == pytest.approx(2 * forward)  # forward, and backward for the weights (inputs need none)
    assert network.weight.grad is None and network.training


def test_a_short_epoch_counts_what_it_has():
    assert measure_flops_per_sample(_Trainer([10]), torch.nn.Linear(8, 2)) == pytest.approx(2 * 2 * 8 * 2 * 10)


def test_a_short_run_counts_on_one_batch_and_a_long_one_on_three():
    assert [flop_count_batches(steps) for steps in (0, 12, 39, 40, 59, 60, 10_000)] == [1, 1, 1, 2, 2, 3, 3]
    # one batch, from the middle of the epoch: still not the long first one
    assert measure_flops_per_sample(_Trainer([100] + [10] * 8), torch.nn.Linear(8, 2), batches=1) == \
        pytest.approx(2 * 2 * 8 * 2 * 10)


def test_examples_are_counted_from_the_data_set_not_from_the_first_tensor_of_a_batch():
    trainer = _Trainer([10])
    # a recommender's batch: each row's items flattened (3 per row) come before the rows themselves
    trainer.batches[0] = {"targets": torch.zeros(12, dtype=torch.long), "x": trainer.batches[0]["x"]}
    assert measure_flops_per_sample(trainer, torch.nn.Linear(8, 2)) == pytest.approx(2 * 2 * 8 * 2 * 10)


def test_a_short_last_batch_counts_the_examples_it_has():
    # one batch of 3 examples (a data set smaller than the batch size)
    assert measure_flops_per_sample(_Trainer([10], last=3), torch.nn.Linear(8, 2)) == pytest.approx(2 * 2 * 8 * 2 * 10)


def test_a_depthwise_convolution_counts_its_weight_gradient_once_not_once_per_channel():
    channels, size, kernel = 8, 10, 3
    network = torch.nn.Conv2d(channels, channels, kernel, groups=channels, padding=1, bias=False)
    trainer = _Trainer([1])
    trainer.batches[0] = {"x": torch.randn(4, channels, size, size)}
    forward = 2 * size * size * channels * kernel * kernel       # one example: each output position, one channel in
    # forward, and backward for the weights only (the input needs no gradient): twice the forward
    assert measure_flops_per_sample(trainer, network) == pytest.approx(2 * forward)
