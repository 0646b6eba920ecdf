"""Marian's binary lexical shortlist (``lex.50.50.*.s2t.bin``): which target words a source may produce.

The engine that ships with the Firefox Translations models scores only a short list of
output words per sentence: the ``first`` most frequent target words (ids 0 .. first-1), the
source's own tokens (source and target share one vocabulary), and for each source token up
to ``best`` target words from a word-alignment table; the list is then filled up to a
multiple of 8 with the lowest ids not yet in it. Decoding with the same list makes the
PyTorch port agree more often with that engine, and is faster (a few hundred output
columns instead of 32,000); a tuned model should decode without it, since the table
does not know the words tuning taught.

File layout (little-endian): six ``uint64`` (magic ``0xF11A48D5013417F5``, checksum, first,
best, offset count = source vocabulary + 1, id count), the offsets (``uint64``), then the
target ids (``uint32``); the candidates of source id s are ids[offsets[s]:offsets[s+1]].
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch

MAGIC = 0xF11A48D5013417F5


class LexicalShortlist:
    """A loaded shortlist; :meth:`select` gives the output columns of a batch.

    Args:
        first: how many of the most frequent target ids every list holds.
        offsets, ids: the candidate table (see the module docstring).
    """

    def __init__(self, first: int, offsets: np.ndarray, ids: np.ndarray):
        self.first, self.offsets, self.ids = int(first), offsets, ids

    @classmethod
    def load(cls, path: str | Path) -> LexicalShortlist:
        """Read a binary shortlist file (or the ``lex.*.bin`` of a model folder).

        Raises:
            ValueError: not a Marian binary shortlist.
        """
        path = Path(path)
        if path.is_dir():
            found = sorted(path.glob("lex.*.bin"))
            if not found:
                raise ValueError(f"{path}: no lex.*.bin shortlist in this folder")
            path = found[0]
        data = path.read_bytes()
        if len(data) < 48:
            raise ValueError(f"{path}: too short for a Marian binary shortlist")
        magic, _checksum, first, _best, offset_count, id_count = struct.unpack_from("<6Q", data, 0)
        if magic != MAGIC or len(data) != 48 + 8 * offset_count + 4 * id_count:
            raise ValueError(f"{path}: not a Marian binary shortlist (magic {magic:#x})")
        offsets = np.frombuffer(data, "<u8", offset_count, 48).astype(np.int64)
        ids = np.frombuffer(data, "<u4", id_count, 48 + 8 * offset_count).astype(np.int64)
        return cls(first, offsets, ids)

    def words(self, source_ids, vocab_size: int) -> np.ndarray:
        """The sorted output ids allowed for one source (its token ids, ``</s>`` included)."""
        chosen = np.zeros(vocab_size, dtype=bool)
        chosen[:min(self.first, vocab_size)] = True
        for source in set(int(s) for s in source_ids):
            if source < vocab_size:
                chosen[source] = True          # shared vocabulary: a source token may be copied
            if source + 1 < len(self.offsets):
                candidates = self.ids[self.offsets[source]:self.offsets[source + 1]]
                chosen[candidates[candidates < vocab_size]] = True
        missing = (-int(chosen.sum())) % 8
        if missing:
            free = np.flatnonzero(~chosen[self.first:])[:missing] + self.first
            chosen[free] = True
        return np.flatnonzero(chosen)

    def select(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, vocab_size: int):
        """The output columns of a batch and which of them each source may use.

        Args:
            input_ids, attention_mask: the batch's sources.
            vocab_size: the model's vocabulary size.

        Returns:
            (columns: sorted LongTensor of the union of the sources' lists; allowed: a
            sources x columns BoolTensor, True where that source's own list has the column).
        """
        lists = [self.words(ids[mask.bool()].tolist(), vocab_size) for ids, mask in zip(input_ids, attention_mask)]
        columns = np.unique(np.concatenate(lists))
        allowed = np.zeros((len(lists), len(columns)), dtype=bool)
        for row, words in enumerate(lists):
            allowed[row, np.searchsorted(columns, words)] = True
        device = input_ids.device
        return torch.from_numpy(columns).to(device), torch.from_numpy(allowed).to(device)
