"""Placeholder-constrained decoding, step by step on hand-made scores, then through generate()."""

import math

import pytest
import torch

from suite.translation.decoding import PlaceholderConstraint

EOS, S0, S1, S2 = 2, 10, 11, 12          # a vocabulary of 13 tokens; 10-12 are the sentinels
SENTINELS = [S0, S1, S2]


def scores_after(constraint, prefixes):
    """The processed scores of uniform log-probabilities after each decoder prefix."""
    input_ids = torch.tensor(prefixes)
    scores = torch.full((len(prefixes), 13), math.log(1 / 13))
    return constraint(input_ids, scores.clone())


def test_only_the_sources_own_sentinels_each_once_and_no_end_before_all_are_out():
    sources = torch.tensor([[1, S0, 5, S1, EOS], [1, 5, 6, 7, EOS]])     # source 0 holds S0 and S1, source 1 none
    constraint = PlaceholderConstraint(sources, SENTINELS, EOS)
    # two beams per source: rows 0-1 belong to source 0, rows 2-3 to source 1
    out = scores_after(constraint, [[0, 4], [0, S0], [0, 4], [0, 5]])

    assert out[0, S2] == -math.inf and out[1, S2] == -math.inf          # never in the source: banned
    assert out[1, S0] == -math.inf and out[1, S1] > -math.inf           # emitted once: banned after
    assert out[0, EOS] == -math.inf and out[1, EOS] == -math.inf        # still missing: cannot end
    # the end's probability went to the first missing sentinel
    assert out[0, S0] == pytest.approx(math.log(2 / 13))
    assert out[1, S1] == pytest.approx(math.log(2 / 13))
    assert out[0, S1] == pytest.approx(math.log(1 / 13))
    # source 1 has no placeholders: no sentinel at all, ending untouched
    assert (out[2:, SENTINELS] == -math.inf).all()
    assert out[2, EOS] == pytest.approx(math.log(1 / 13))
    # ordinary tokens are never touched
    assert torch.equal(out[:, 3:10], torch.full((4, 7), math.log(1 / 13)))


def test_ending_is_allowed_once_every_sentinel_is_out():
    constraint = PlaceholderConstraint(torch.tensor([[S0, S1]]), SENTINELS, [EOS])
    out = scores_after(constraint, [[0, S1, 4, S0]])
    assert out[0, EOS] == pytest.approx(math.log(1 / 13))
    assert (out[0, SENTINELS] == -math.inf).all()


def test_no_sentinels_in_the_vocabulary_leaves_scores_alone():
    constraint = PlaceholderConstraint(torch.tensor([[1, 2]]), [], EOS)
    before = torch.randn(2, 13)
    assert torch.equal(constraint(torch.tensor([[0], [0]]), before.clone()), before)
