"""How :class:`~suite.translation.ssru.modeling.SsruTransformer` maps onto a Marian model file.

Parameter names (``encoder.layers.0.self_attn.q_proj.weight`` is Marian's ``encoder_l1_self_Wq``),
the architecture settings read from the file's ``special:model.yml``, and loading a file
into a state dict. Marian stores its int8 matrices transposed, which is ``torch.nn.Linear``'s
(out, in) layout, so weights load without transposing.
"""

from __future__ import annotations

from pathlib import Path

import torch

from suite.core.errors import ModelSourceError
from suite.translation.ssru.config import SsruConfig


def read_state(path: str | Path) -> tuple[SsruConfig, dict[str, torch.Tensor]]:
    """The configuration and float32 state dict of a Marian binary model.

    Args:
        path: the ``.bin`` file, or a model folder holding ``*.intgemm.alphas.bin``.

    Raises:
        ModelSourceError: not a Marian transformer with an SSRU decoder of this layout, or a tensor missing.
    """
    from suite.translation.ssru.firefox import model_file
    from suite.translation.ssru.marian_format import model_config_text, read_marian

    path = Path(path)
    tensors = {t.name: t for t in read_marian(model_file(path) if path.is_dir() else path)}
    config = config_from_marian_yaml(model_config_text(list(tensors.values())), where=str(path))
    state = {}
    for name, marian in marian_names(config).items():
        if marian not in tensors:
            raise ModelSourceError(f"{path}: tensor {marian} missing; not a Firefox Translations tiny model")
        values = torch.from_numpy(tensors[marian].as_float())
        state[name] = values.reshape(-1) if values.shape[0] == 1 and values.dim() == 2 else values
    return config, state


def marian_names(config: SsruConfig) -> dict[str, str]:
    """Parameter name of this module -> Marian tensor name (weights in ``nn.Linear`` layout,
    which is how Marian's int8 file stores them)."""
    names = {"embed.weight": "Wemb", "lm_head.bias": "decoder_ff_logit_out_b"}
    for i in range(config.encoder_layers):
        p, m = f"encoder.layers.{i}", f"encoder_l{i + 1}"
        names.update(_attention_names(f"{p}.self_attn", f"{m}_self"))
        names.update(_norm_names(f"{p}.attn_norm", f"{m}_self_Wo_ln"))
        names.update(_ffn_names(p, m))
    for i in range(config.decoder_layers):
        p, m = f"decoder.layers.{i}", f"decoder_l{i + 1}"
        names.update({f"{p}.ssru.cell_proj.weight": f"{m}_rnn_W", f"{p}.ssru.forget_proj.weight": f"{m}_rnn_Wf",
                      f"{p}.ssru.forget_proj.bias": f"{m}_rnn_bf"})
        names.update(_norm_names(f"{p}.ssru_norm", f"{m}_rnn_ffn_ln"))
        names.update(_attention_names(f"{p}.cross_attn", f"{m}_context"))
        names.update(_norm_names(f"{p}.cross_norm", f"{m}_context_Wo_ln"))
        names.update(_ffn_names(p, m))
    return names


def _attention_names(prefix: str, marian: str) -> dict[str, str]:
    return {f"{prefix}.{x}_proj.{kind}": f"{marian}_{letter}{x}"
            for x in "qkvo" for kind, letter in (("weight", "W"), ("bias", "b"))}


def _norm_names(prefix: str, marian: str) -> dict[str, str]:
    return {f"{prefix}.weight": f"{marian}_scale", f"{prefix}.bias": f"{marian}_bias"}


def _ffn_names(prefix: str, marian: str) -> dict[str, str]:
    return {f"{prefix}.ffn.fc1.weight": f"{marian}_ffn_W1", f"{prefix}.ffn.fc1.bias": f"{marian}_ffn_b1",
            f"{prefix}.ffn.fc2.weight": f"{marian}_ffn_W2", f"{prefix}.ffn.fc2.bias": f"{marian}_ffn_b2",
            **_norm_names(f"{prefix}.ffn_norm", f"{marian}_ffn_ffn_ln")}


_REQUIRED = {"type": "transformer", "dec-cell": "ssru", "transformer-decoder-autoreg": "rnn",
             "transformer-ffn-activation": "relu", "transformer-postprocess": "dan", "tied-embeddings-all": True}


def config_from_marian_yaml(text: str, where: str = "model") -> SsruConfig:
    """The :class:`SsruConfig` of a Marian ``special:model.yml``.

    Raises:
        ModelSourceError: an architecture this module does not implement.
    """
    import yaml

    settings = yaml.safe_load(text) or {}
    for key, wanted in _REQUIRED.items():
        if settings.get(key) != wanted:
            raise ModelSourceError(f"{where}: Marian {key}={settings.get(key)!r}, only {wanted!r} is supported "
                                   "(a Firefox Translations tiny model)")
    return SsruConfig(vocab_size=int(settings["dim-vocabs"][0]), dim=int(settings["dim-emb"]),
                      heads=int(settings["transformer-heads"]), ffn_dim=int(settings["transformer-dim-ffn"]),
                      encoder_layers=int(settings["enc-depth"]), decoder_layers=int(settings["dec-depth"]))
