"""The Firefox Translations "tiny" architecture in PyTorch: a transformer encoder and an SSRU decoder.

Marian's ``type: transformer`` with ``dec-cell: ssru`` (Kim et al., 2019, "From Research to
Production and Back: Ludicrously Fast Neural Machine Translation"), float32, trainable:

- one embedding matrix (Marian's ``Wemb``) for source, target and output, plus an output
  bias; embeddings are scaled by sqrt(dim) and get a sinusoidal position signal (sin in the
  first half of the dimensions, cos in the second);
- encoder layers: self-attention, then a ReLU feed-forward, each post-norm (add the
  residual, then layer-normalise; eps 1e-9);
- decoder layers: an SSRU cell (f = sigmoid(W_f x + b_f); c = f c + (1 - f) W x;
  out = ReLU(c)), cross-attention, feed-forward, each post-norm. The first decoder input is
  a zero vector (plus position 0); decoding ends at ``</s>`` (id 0), which also pads.

Module names follow BART/Marian in transformers, so LoRA finds the attention projections:
``encoder.layers.N.self_attn.{q,k,v,o}_proj``, ``decoder.layers.N.cross_attn.{q,k,v,o}_proj``,
feed-forward ``fc1``/``fc2``, SSRU ``decoder.layers.N.ssru.{cell_proj,forget_proj}``; the
shared embedding is ``embed``, the output bias ``lm_head.bias``.
Decoding (greedy and beam search) is in :mod:`suite.translation.ssru.generation`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from suite.core import saved_files
from suite.core.errors import ModelSourceError
from suite.translation.ssru.config import SsruConfig

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ARCHITECTURE = "marian-ssru-transformer"


@dataclass
class GenerationDefaults:
    """What :meth:`SsruTransformer.generate` uses when not told (transformers' ``generation_config`` role).

    ``max_length`` caps the generated tokens; ``max_length_factor`` caps them at that many
    times the source's token count, as Marian's ``max-length-factor`` (2.5 in the bundled
    configuration) does.
    """

    eos_token_id: int = 0
    pad_token_id: int = 0
    decoder_start_token_id: int = 0
    num_beams: int = 1
    max_length: int = 256
    max_length_factor: float = 2.5
    no_repeat_ngram_size: int | None = 0
    length_penalty: float = 1.0


class Attention(nn.Module):
    """Multi-head attention; keys and values can be projected once and reused (cross-attention)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(dim, dim) for _ in range(4))

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(*x.shape[:-1], self.heads, -1).transpose(-3, -2)

    def keys_values(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of ``memory`` (batch x length x dim), split into heads."""
        return self._split(self.k_proj(memory)), self._split(self.v_proj(memory))

    def forward(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None):
        q = self._split(self.q_proj(x))
        out = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        return self.o_proj(out.transpose(-3, -2).flatten(-2))


class FeedForward(nn.Module):
    """ReLU feed-forward block (Marian's ``ffn_W1``/``ffn_W2``)."""

    def __init__(self, dim: int, ffn_dim: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, ffn_dim), nn.Linear(ffn_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, c: SsruConfig):
        super().__init__()
        self.self_attn, self.attn_norm = Attention(c.dim, c.heads), nn.LayerNorm(c.dim, eps=c.layer_norm_eps)
        self.ffn, self.ffn_norm = FeedForward(c.dim, c.ffn_dim), nn.LayerNorm(c.dim, eps=c.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attn_norm(x + self.self_attn(x, *self.self_attn.keys_values(x), mask))
        return self.ffn_norm(x + self.ffn(x))


class Ssru(nn.Module):
    """The simpler simple recurrent unit: c_t = f_t c_(t-1) + (1 - f_t) W x_t, output ReLU(c_t)."""

    def __init__(self, dim: int):
        super().__init__()
        self.cell_proj, self.forget_proj = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim)

    def gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(decay f, input (1 - f) W x) of the recurrence."""
        forget = torch.sigmoid(self.forget_proj(x))
        return forget, (1 - forget) * self.cell_proj(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher forcing over batch x time x dim, as a parallel (log-depth) prefix scan."""
        decay, cell = self.gates(x)
        shift = 1
        while shift < x.shape[1]:
            # compose each step with the one `shift` earlier: (a, b) then (a', b') = (a a', a' b + b')
            cell = torch.cat([cell[:, :shift], cell[:, shift:] + decay[:, shift:] * cell[:, :-shift]], dim=1)
            decay = torch.cat([decay[:, :shift], decay[:, shift:] * decay[:, :-shift]], dim=1)
            shift *= 2
        return F.relu(cell)

    def step(self, x: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoding step: (output, new cell state) for x and cell of shape rows x dim."""
        decay, new = self.gates(x)
        cell = decay * cell + new
        return F.relu(cell), cell


class DecoderLayer(nn.Module):
    def __init__(self, c: SsruConfig):
        super().__init__()
        self.ssru, self.ssru_norm = Ssru(c.dim), nn.LayerNorm(c.dim, eps=c.layer_norm_eps)
        self.cross_attn, self.cross_norm = Attention(c.dim, c.heads), nn.LayerNorm(c.dim, eps=c.layer_norm_eps)
        self.ffn, self.ffn_norm = FeedForward(c.dim, c.ffn_dim), nn.LayerNorm(c.dim, eps=c.layer_norm_eps)

    def _rest(self, x, keys, values, mask):
        x = self.cross_norm(x + self.cross_attn(x, keys, values, mask))
        return self.ffn_norm(x + self.ffn(x))

    def forward(self, x, keys, values, mask):
        return self._rest(self.ssru_norm(x + self.ssru(x)), keys, values, mask)

    def step(self, x, cell, keys, values, mask):
        out, cell = self.ssru.step(x, cell)
        return self._rest(self.ssru_norm(x + out), keys, values, mask), cell


class OutputLayer(nn.Module):
    """Logits from the tied embedding matrix plus the output bias (Marian's ``decoder_ff_logit_out_b``)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: torch.Tensor, weight: torch.Tensor, columns: torch.Tensor | None = None):
        """Logits of all words, or of the words ``columns`` only (``weight`` then holds just their rows)."""
        return F.linear(hidden, weight, self.bias if columns is None else self.bias[columns])


class Stack(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)


class SsruTransformer(nn.Module):
    """The Firefox Translations tiny translation network (see the module docstring).

    Args:
        config: the sizes; ``SsruConfig()`` is the bundled model's.
    """

    main_input_name = "input_ids"

    def __init__(self, config: SsruConfig | None = None):
        super().__init__()
        c = self.config = config or SsruConfig()
        self.embed = nn.Embedding(c.vocab_size, c.dim)
        self.encoder = Stack([EncoderLayer(c) for _ in range(c.encoder_layers)])
        self.decoder = Stack([DecoderLayer(c) for _ in range(c.decoder_layers)])
        self.lm_head = OutputLayer(c.vocab_size)
        self.generation_config = GenerationDefaults(eos_token_id=c.eos_token_id, pad_token_id=c.pad_token_id,
                                                    decoder_start_token_id=c.pad_token_id)
        self.register_buffer("_positions", sinusoids(256, c.dim), persistent=False)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def random_init(cls, config: SsruConfig | None = None, seed: int | None = None) -> SsruTransformer:
        """The architecture with random weights (Glorot-uniform matrices, N(0, 1/dim) embeddings).

        Args:
            config: sizes (default: the bundled model's).
            seed: makes the weights reproducible.
        """
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        model = cls(config)
        for name, param in model.named_parameters():
            with torch.no_grad():
                if name == "embed.weight":
                    param.normal_(0.0, model.config.dim ** -0.5, generator=generator)
                elif param.dim() == 2:
                    nn.init.xavier_uniform_(param, generator=generator)
                elif name.endswith("norm.weight"):
                    param.fill_(1.0)
                else:
                    param.zero_()
        return model

    @classmethod
    def from_marian(cls, path: str | Path) -> SsruTransformer:
        """Load a Marian binary model (int8 weights de-quantised to float32).

        Args:
            path: the ``.bin`` file, or a model folder holding ``*.intgemm.alphas.bin``.

        Raises:
            ModelSourceError: not a Marian transformer with an SSRU decoder of this layout.
        """
        from suite.translation.ssru.marian_weights import read_state

        config, state = read_state(path)
        model = cls(config)
        model.load_state_dict(state)
        return model

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> SsruTransformer:
        """Load what :meth:`save_pretrained` wrote."""
        from safetensors.torch import load_file

        folder = Path(folder)
        settings = saved_files.read_json(folder / CONFIG_FILE, what=f"a {ARCHITECTURE} configuration")
        if settings.get("architecture") != ARCHITECTURE:
            raise ModelSourceError(f"{folder}: {CONFIG_FILE} is not a {ARCHITECTURE} configuration")
        model = cls(SsruConfig(**{f.name: settings[f.name] for f in fields(SsruConfig) if f.name in settings}))
        model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
        for key, value in settings.get("generation", {}).items():
            setattr(model.generation_config, key, value)
        return model

    def save_pretrained(self, folder: str | Path, **_: Any) -> None:
        """Write ``config.json`` (sizes and generation defaults) and ``model.safetensors``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        settings = {"architecture": ARCHITECTURE, **asdict(self.config),
                    "generation": dict(vars(self.generation_config))}
        (folder / CONFIG_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")
        save_file({k: v.detach().contiguous() for k, v in self.state_dict().items()}, str(folder / WEIGHTS_FILE),
                  metadata={"format": "pt"})

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed

    def resize_token_embeddings(self, size: int) -> nn.Embedding:
        """Grow (or cut) the shared vocabulary to ``size`` rows; new rows are drawn like random_init's.

        A model with more rows than the Marian vocabulary can no longer be exported; the
        placeholder sentinels can reuse existing rows instead (``firefox.load_tokenizer``).

        Returns:
            The new embedding module.
        """
        old, bias = self.embed.weight.detach(), self.lm_head.bias.detach()
        keep = min(size, old.shape[0])
        weight = old.new_empty(size, old.shape[1]).normal_(0.0, self.config.dim ** -0.5)
        weight[:keep] = old[:keep]
        self.embed = nn.Embedding.from_pretrained(weight, freeze=False)
        self.lm_head.bias = nn.Parameter(torch.cat([bias[:keep], bias.new_zeros(size - keep)]))
        self.config.vocab_size = size
        return self.embed

    # -- computing --------------------------------------------------------------------------
    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        """sqrt(dim) x the embedding of ``ids`` (Marian's scaling; positions are added separately)."""
        return self.embed(ids) * math.sqrt(self.config.dim)

    def positions(self, length: int) -> torch.Tensor:
        """The position signal of positions 0 .. length-1 (length x dim)."""
        if length > self._positions.shape[0]:
            self._positions = sinusoids(max(length, 2 * self._positions.shape[0]), self.config.dim).to(
                self._positions.device)
        return self._positions[:length]

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None):
        """Encoder states (batch x length x dim) and the attention mask (batch x 1 x 1 x length, True: attend)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        mask = attention_mask.bool()[:, None, None, :]
        x = self.embed_tokens(input_ids) + self.positions(input_ids.shape[1])
        for layer in self.encoder.layers:
            x = layer(x, mask)
        return x, mask

    def decode(self, decoder_input_ids: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits for every target position (teacher forcing); column 0 is the start (its id is ignored)."""
        x = self.embed_tokens(decoder_input_ids[:, 1:])
        x = torch.cat([x.new_zeros(x.shape[0], 1, x.shape[2]), x], dim=1) + self.positions(x.shape[1] + 1)
        for layer in self.decoder.layers:
            x = layer(x, *layer.cross_attn.keys_values(memory), mask)
        return self.lm_head(x, self.embed.weight)

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """The decoder's inputs for ``labels``: shifted right by one (what ``forward`` uses when given labels only;
        transformers' seq2seq collator calls it too, so a loss computed outside the model sees the same inputs)."""
        return F.pad(labels[:, :-1], (1, 0), value=self.config.pad_token_id)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, decoder_input_ids: torch.Tensor | None = None, **_: Any):
        """Teacher-forced logits and, with ``labels``, the mean cross-entropy (label -100 ignored).

        Args:
            input_ids, attention_mask: source ids ending in ``</s>``, and their mask.
            labels: target ids ending in ``</s>``, padded with -100.
            decoder_input_ids: the decoder's inputs; default ``labels`` shifted right (column 0
                is the start and its id is ignored: Marian starts from a zero vector).

        Returns:
            A ``Seq2SeqLMOutput`` with ``loss`` (None without labels) and ``logits``.
        """
        from transformers.modeling_outputs import Seq2SeqLMOutput

        if decoder_input_ids is None:
            if labels is None:
                raise ValueError("forward needs labels or decoder_input_ids")
            decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        decoder_input_ids = decoder_input_ids.masked_fill(decoder_input_ids < 0, self.config.pad_token_id)
        memory, mask = self.encode(input_ids, attention_mask)
        logits = self.decode(decoder_input_ids, memory, mask)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100)
        return Seq2SeqLMOutput(loss=loss, logits=logits)

    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **options: Any):
        """Translate a batch: greedy (``num_beams=1``) or beam search; see :func:`ssru_search.generate`."""
        from suite.translation.ssru.generation import generate

        return generate(self, input_ids, attention_mask, **options)


def sinusoids(length: int, dim: int) -> torch.Tensor:
    """Marian's position signal: sin(p / 10000^(i/(dim/2-1))) in the first half, cos in the second."""
    half = dim // 2
    rates = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    angles = torch.arange(length, dtype=torch.float32)[:, None] * rates[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
