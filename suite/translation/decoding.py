"""Placeholder-constrained decoding: the model places the source's placeholders, it cannot lose them.

With ``model.placeholders: constrained`` (the default) generation runs with
:class:`PlaceholderConstraint`: at every step a hypothesis may emit only the sentinels of its
own source, each once, and may not end while one is still missing: the probability of
ending goes to the first missing sentinel instead, so a placeholder the model did not place
lands where it would have stopped. Where each placeholder goes, and every other word, is
otherwise the model's choice; nothing is edited after decoding.
This is lexically constrained decoding (Hokamp and Liu, 2017; Post and Vilar, 2018) reduced
to its simplest case. ``model.placeholders: free`` decodes without it, which is how to
measure what the network alone has learned; a translation that still breaks a placeholder
(a sentinel cut off by ``max_target_length``) is counted as broken either way.
"""

from __future__ import annotations

from typing import Any

from transformers import LogitsProcessor


def sentinel_ids(tokenizer: Any, sentinels: list[str]) -> list[int]:
    """Token ids of the sentinel strings the tokenizer holds as single tokens."""
    unknown = tokenizer.unk_token_id
    ids = [tokenizer.convert_tokens_to_ids(s) for s in sentinels]
    return [i for i in ids if i is not None and i != unknown]


class PlaceholderConstraint(LogitsProcessor):
    """A ``transformers`` logits processor: each row may emit only the sentinels its source
    holds, each at most once, and its end-of-sequence token only when all are out (until
    then the end's probability moves to the first missing sentinel).

    Args:
        input_ids: the encoder's input ids (batch x source length), one row per source.
        sentinel_ids: token ids of all sentinels.
        eos_token_id: the end token id, or a list of them.

    Rows of the decoder batch are source-major (beam search keeps a source's hypotheses together).
    """

    def __init__(self, input_ids: Any, sentinel_ids: list[int], eos_token_id: Any):
        import torch

        self.sentinels = torch.tensor(sentinel_ids, dtype=torch.long, device=input_ids.device)
        # wanted[b, s]: source b holds sentinel s
        self.wanted = (input_ids[:, :, None] == self.sentinels[None, None, :]).any(dim=1)
        ends = eos_token_id if isinstance(eos_token_id, (list, tuple)) else [eos_token_id]
        self.ends = torch.tensor([e for e in ends if e is not None], dtype=torch.long, device=input_ids.device)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self.sentinels.numel() == 0:
            return scores
        emitted = (input_ids[:, :, None] == self.sentinels[None, None, :]).any(dim=1)
        wanted = self.wanted.repeat_interleave(input_ids.shape[0] // self.wanted.shape[0], dim=0)
        allowed = wanted & ~emitted
        sentinel_scores = scores[:, self.sentinels]
        scores[:, self.sentinels] = sentinel_scores.masked_fill(~allowed, float("-inf"))
        missing = allowed.any(dim=1)
        if self.ends.numel() and missing.any():
            rows = missing.nonzero(as_tuple=True)[0]
            # the first missing sentinel takes over the chance of ending, so a hypothesis that
            # would stop emits it instead (then may stop) rather than rambling on
            first = self.sentinels[allowed[rows].float().argmax(dim=1)]
            ending = torch.logsumexp(scores[rows[:, None], self.ends[None, :]], dim=1)
            scores[rows, first] = torch.logaddexp(scores[rows, first], ending)
            scores[rows[:, None], self.ends[None, :]] = float("-inf")
        return scores
