"""The sizes of the Firefox Translations "tiny" architecture (:mod:`suite.translation.ssru.modeling`).

Its own module, so that the Marian reader (:mod:`suite.translation.ssru.marian_weights`) and the network
both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SsruConfig:
    """Sizes of the network (the defaults are the Firefox Translations "tiny" model)."""

    vocab_size: int = 32000
    dim: int = 256
    heads: int = 8
    ffn_dim: int = 1536
    encoder_layers: int = 6
    decoder_layers: int = 2
    layer_norm_eps: float = 1e-9
    pad_token_id: int = 0
    eos_token_id: int = 0

    def get_text_config(self, *_: Any, **__: Any) -> SsruConfig:
        """Itself (``transformers.Trainer`` reads special-token ids through this)."""
        return self

    def to_json_string(self, *_: Any, **__: Any) -> str:
        """The sizes as JSON (transformers' logging callbacks record a model's configuration this way)."""
        import json
        from dataclasses import asdict

        return json.dumps(asdict(self), indent=2)
