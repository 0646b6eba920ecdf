"""Batched greedy and beam search for :class:`~suite.translation.ssru.modeling.SsruTransformer`.

The encoder runs once per batch; each decoder layer keeps its SSRU cell state and the
keys and values of its cross-attention, so a step costs one token per hypothesis. Rows
that have ended leave the batch (greedy) and sources whose beams have all ended leave it
(beam search), so long outputs do not slow the short ones down.

Beam search follows Marian: each hypothesis that emits ``</s>`` leaves its source's beam,
which shrinks by one, until none is left; the result is the finished hypothesis with the
best score divided by its length (``length_penalty`` 1.0, Marian's ``normalize: 1.0``).
Each source may generate at most ``max_length_factor`` x its token count (Marian's
``max-length-factor``), and at most ``max_new_tokens`` in any case.

Logits processors (transformers' ``LogitsProcessor`` interface) see every row of the batch,
source-major (a source's beams together), with the prefix generated so far (after a start
column holding ``decoder_start_token_id``) and the log-probabilities of the next token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass
class DecoderState:
    """What incremental decoding carries from step to step, one row per hypothesis."""

    cells: list[torch.Tensor]      # per decoder layer: rows x 1 x dim
    keys: list[torch.Tensor]       # per decoder layer: rows x heads x source length x head dim
    values: list[torch.Tensor]
    mask: torch.Tensor             # rows x 1 x 1 x source length

    def select(self, index: torch.Tensor) -> DecoderState:
        """The state of rows ``index`` (a reordering, a repetition or a subset)."""
        pick = lambda tensors: [t.index_select(0, index) for t in tensors]  # noqa: E731
        return DecoderState(pick(self.cells), pick(self.keys), pick(self.values), self.mask.index_select(0, index))


def start_state(model: Any, memory: torch.Tensor, mask: torch.Tensor) -> DecoderState:
    """Zero cells, and each layer's cross-attention keys and values of the encoder states."""
    layers = model.decoder.layers
    pairs = [layer.cross_attn.keys_values(memory) for layer in layers]
    zeros = memory.new_zeros(memory.shape[0], 1, memory.shape[2])
    return DecoderState([zeros] * len(layers), [k for k, _ in pairs], [v for _, v in pairs], mask)


def decoder_step(model: Any, tokens: torch.Tensor | None, step: int, state: DecoderState) -> torch.Tensor:
    """Hidden states (rows x dim) of step ``step`` given the previous tokens (None at step 0); updates ``state``."""
    position = model.positions(step + 1)[step]
    rows = state.mask.shape[0]
    x = position.expand(rows, 1, -1) if tokens is None else model.embed_tokens(tokens)[:, None] + position
    for i, layer in enumerate(model.decoder.layers):
        x, state.cells[i] = layer.step(x, state.cells[i], state.keys[i], state.values[i], state.mask)
    return x[:, 0]


def generate(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, *,
             num_beams: int | None = None, max_new_tokens: int | None = None, max_length: int | None = None,
             logits_processor: Any = None, no_repeat_ngram_size: int | None = None, shortlist: Any = None,
             **_: Any) -> torch.Tensor:
    """Translate a batch of sources.

    Args:
        model: an ``SsruTransformer``; its ``generation_config`` gives every default.
        input_ids, attention_mask: the sources (ending in ``</s>``) and their mask.
        num_beams: 1 for greedy search, more for beam search.
        max_new_tokens, max_length: caps on the generated tokens (``</s>`` included).
        logits_processor: a callable ``(prefix_ids, log_probs) -> log_probs`` or a list of them
            (a ``LogitsProcessorList``), called at every step with all rows, source-major.
        no_repeat_ngram_size: forbid repeating any n-gram of this size (0 or None: off).
        shortlist: a :class:`~suite.translation.ssru.shortlist.LexicalShortlist` restricting each
            source's output words, as the native engine does (default: ``model.shortlist``
            when set, else none).

    Returns:
        Token ids (sources x longest output), each ending in ``</s>`` unless cut by a cap,
        padded with ``pad_token_id``.
    """
    config = model.generation_config
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    beams = int(num_beams or config.num_beams or 1)
    cap = max_new_tokens or max_length or config.max_length
    limits = (attention_mask.sum(dim=1).float() * config.max_length_factor).long().clamp(min=1, max=cap)
    processors = _processors(logits_processor, no_repeat_ngram_size if no_repeat_ngram_size is not None
                             else config.no_repeat_ngram_size)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            memory, mask = model.encode(input_ids, attention_mask)
            shortlist = shortlist if shortlist is not None else getattr(model, "shortlist", None)
            output = _Output(model, shortlist, input_ids, attention_mask)
            search = _greedy if beams == 1 else _beam
            return search(model, memory, mask, limits, processors, output, beams)
    finally:
        model.train(was_training)


def _processors(logits_processor: Any, no_repeat: int | None) -> list:
    from transformers import NoRepeatNGramLogitsProcessor

    found = [NoRepeatNGramLogitsProcessor(int(no_repeat))] if no_repeat else []
    if logits_processor is None:
        return found
    return found + (list(logits_processor) if isinstance(logits_processor, (list, tuple)) else [logits_processor])


def _processed(processors: list, prefix: torch.Tensor, log_probs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Run ``processors`` over all rows of the batch (``prefix`` has them all); ``log_probs`` holds
    the live ``rows`` only. Rows that have left get a flat distribution, which nothing reads."""
    if not processors:
        return log_probs
    full = log_probs.new_full((prefix.shape[0], log_probs.shape[1]), -math.log(log_probs.shape[1]))
    full[rows] = log_probs
    for processor in processors:
        full = processor(prefix, full)
    return full[rows]


class _Output:
    """The output layer for one batch: every word, or each source's shortlisted words only."""

    def __init__(self, model: Any, shortlist: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        self.model, self.vocab = model, model.embed.weight.shape[0]
        self.columns = self.allowed = None
        self.weight = model.embed.weight
        if shortlist is not None:
            self.columns, self.allowed = shortlist.select(input_ids, attention_mask, self.vocab)
            self.weight = self.weight.index_select(0, self.columns)

    def logits(self, hidden: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
        """Logits (rows x columns) of ``hidden``, whose rows belong to batch sources ``sources``."""
        logits = self.model.lm_head(hidden, self.weight, self.columns).float()
        return logits if self.allowed is None else logits.masked_fill(~self.allowed[sources], -math.inf)

    def words(self, columns: torch.Tensor) -> torch.Tensor:
        """Token ids of column indices."""
        return columns if self.columns is None else self.columns[columns]

    def log_probs(self, hidden: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over the whole vocabulary (-inf outside the shortlist)."""
        scores = F.log_softmax(self.logits(hidden, sources), dim=-1)
        if self.columns is None:
            return scores
        full = scores.new_full((scores.shape[0], self.vocab), -math.inf)
        full[:, self.columns] = scores
        return full


def _greedy(model, memory, mask, limits, processors, output: _Output, _beams) -> torch.Tensor:
    config = model.generation_config
    sources = memory.shape[0]
    state = start_state(model, memory, mask)
    out = torch.full((sources, int(limits.max())), config.pad_token_id, dtype=torch.long, device=memory.device)
    start = torch.full((sources, 1), config.decoder_start_token_id, dtype=torch.long, device=memory.device)
    rows, tokens, step = torch.arange(sources, device=memory.device), None, 0
    for step in range(out.shape[1]):
        hidden = decoder_step(model, tokens, step, state)
        if processors:
            prefix = torch.cat([start, out[:, :step]], dim=1)
            tokens = _processed(processors, prefix, output.log_probs(hidden, rows), rows).argmax(dim=-1)
        else:
            tokens = output.words(output.logits(hidden, rows).argmax(dim=-1))   # argmax needs no softmax
        out[rows, step] = tokens
        alive = (tokens != config.eos_token_id) & (step + 1 < limits[rows])
        if not bool(alive.all()):
            keep = alive.nonzero().squeeze(1)
            rows, tokens, state = rows[keep], tokens[keep], state.select(keep)
            if rows.numel() == 0:
                break
    return out[:, :step + 1]


@dataclass
class _Beams:
    """Beam-search bookkeeping for the sources still decoding (``sources`` x ``width``)."""

    sources: torch.Tensor      # their indices in the batch
    scores: torch.Tensor       # summed log-probabilities; -inf: an empty slot
    history: torch.Tensor      # sources x width x steps so far
    remaining: torch.Tensor    # hypotheses each source still wants (starts at width)


def _beam(model, memory, mask, limits, processors, output: _Output, width) -> torch.Tensor:
    config = model.generation_config
    count, device = memory.shape[0], memory.device
    state = start_state(model, memory.repeat_interleave(width, 0), mask.repeat_interleave(width, 0))
    scores = torch.full((count, width), -math.inf, device=device)
    scores[:, 0] = 0.0
    beams = _Beams(torch.arange(count, device=device), scores, torch.zeros(count, width, 0, dtype=torch.long,
                   device=device), torch.full((count,), width, device=device))
    best = torch.full((count,), -math.inf, device=device)
    out = torch.full((count, int(limits.max())), config.pad_token_id, dtype=torch.long, device=device)
    prefix = torch.full((count * width, 1), config.decoder_start_token_id, dtype=torch.long, device=device)
    tokens, longest = None, 1
    for step in range(out.shape[1]):
        rows = (beams.sources[:, None] * width + torch.arange(width, device=device)).flatten()
        hidden = decoder_step(model, tokens, step, state)
        log_probs = _processed(processors, prefix, output.log_probs(hidden, rows // width), rows)
        reorder, tokens, longest = _advance(beams, log_probs, step, limits, best, out, config, longest)
        state = state.select(reorder)
        prefix = torch.cat([prefix, prefix.new_full((prefix.shape[0], 1), config.pad_token_id)], dim=1)
        prefix[rows, 1:] = beams.history.flatten(0, 1)
        alive = (beams.remaining[beams.sources] > 0) & torch.isfinite(beams.scores).any(dim=1)
        if not bool(alive.all()):
            keep = alive.nonzero().squeeze(1)
            row_keep = (keep[:, None] * width + torch.arange(width, device=device)).flatten()
            beams = _Beams(beams.sources[keep], beams.scores[keep], beams.history[keep], beams.remaining)
            tokens, state = tokens[row_keep], state.select(row_keep)
            if keep.numel() == 0:
                break
    return out[:, :longest]


def _advance(beams: _Beams, log_probs, step, limits, best, out, config, longest):
    """One beam-search step: pick each source's next hypotheses, record the ones that end.

    Returns:
        (rows of the state to keep, in the new beam order; the new last tokens; the longest output so far).
    """
    count, width = beams.scores.shape
    vocab = log_probs.shape[1]
    candidates = (beams.scores[:, :, None] + log_probs.view(count, width, vocab)).view(count, -1)
    top, index = candidates.topk(width, dim=1)
    parent, token = index // vocab, index % vocab
    rank = torch.arange(width, device=top.device)[None, :]
    taken = (rank < beams.remaining[beams.sources][:, None]) & torch.isfinite(top)
    ending = taken & ((token == config.eos_token_id) | (step + 1 >= limits[beams.sources])[:, None])
    history = torch.cat([beams.history.gather(1, parent[:, :, None].expand(-1, -1, step)), token[:, :, None]], dim=2)
    normalised = torch.where(ending, top / float(step + 1) ** config.length_penalty, torch.full_like(top, -math.inf))
    candidate_best, which = normalised.max(dim=1)
    better = candidate_best > best[beams.sources]
    if bool(better.any()):
        winners = beams.sources[better]
        best[winners] = candidate_best[better]
        out[winners] = config.pad_token_id
        out[winners, :step + 1] = history[better.nonzero().squeeze(1), which[better]]
        longest = max(longest, step + 1)
    beams.remaining[beams.sources] -= ending.sum(dim=1)
    beams.scores = torch.where(taken & ~ending, top, torch.full_like(top, -math.inf))
    beams.history = history
    reorder = (torch.arange(count, device=top.device)[:, None] * width + parent).flatten()
    return reorder, token.flatten(), longest
