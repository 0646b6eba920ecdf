"""Pairs for contrastive tuning: as many same-class as different-class partners per example, capped in all."""

import numpy as np
import pytest

from suite.core.contrastive import pairs
from suite.core.errors import DataError

TEXTS = [f"text {i}" for i in range(10)]
LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])


def test_every_example_gets_partners_of_its_class_and_of_the_other():
    first, second, target = pairs(TEXTS, LABELS, per_example=3, max_pairs=10_000, seed=0)
    assert len(first) == len(second) == len(target) == 10 * 3 * 2 and target.count(1.0) == target.count(0.0)
    label = {text: value for text, value in zip(TEXTS, LABELS)}
    for a, b, t in zip(first, second, target):
        assert (label[a] == label[b]) == (t == 1.0) and (a != b or t == 0.0)
    assert pairs(TEXTS, LABELS, per_example=3, max_pairs=10_000, seed=0) == (first, second, target)


def test_the_cap_lowers_the_partners_per_example():
    first, _, _ = pairs(TEXTS, LABELS, per_example=20, max_pairs=100, seed=0)
    assert len(first) == 100                                     # 5 of each kind per example


@pytest.mark.parametrize("labels, message", [([0] * 10, "one class only"), ([0] * 9 + [1], "has one training")])
def test_one_class_or_a_lone_example_is_one_line(labels, message):
    with pytest.raises(DataError, match=message):
        pairs(TEXTS, np.array(labels), per_example=2, max_pairs=100, seed=0)


@pytest.mark.slow
def test_a_resumed_run_loads_the_tuned_encoder_instead_of_tuning_it_again(tmp_path):
    import torch
    from safetensors.torch import save_model

    from suite.core.contrastive import DONE_FILE, PHASE, tune_encoder
    from suite.core.recipe import load_recipe
    from suite.core.runs import Run
    from suite.core.text_encoder import load_encoder

    run = Run(tmp_path)
    tuned = load_encoder("bundled:minilm")
    with torch.no_grad():
        next(tuned.parameters()).add_(1.0)                       # what the killed run had tuned
    run.checkpoints_for(PHASE).mkdir(parents=True)
    save_model(tuned, str(run.checkpoints_for(PHASE) / DONE_FILE))
    fresh = load_encoder("bundled:minilm")
    figures = tune_encoder(encoder=fresh, texts=TEXTS, labels=LABELS, recipe=load_recipe("spam/tiny"), run=run,
                           resume=True)
    assert figures["resumed"] and figures["seconds"] == 0.0
    assert torch.equal(next(fresh.parameters()), next(tuned.parameters()))
