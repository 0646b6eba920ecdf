"""The translation model: the Firefox Translations network, any seq2seq checkpoint, or a warm-started encoder.

Three kinds of ``model.source`` (see :func:`model_kind`):

- ``ssru``: Mozilla's Firefox Translations tiny English -> Brazilian Portuguese model
  (``bundled:firefox-enpt``, a Marian binary file), or a folder a tuned copy of it was
  saved to; it becomes this project's PyTorch port,
  :class:`~suite.translation.ssru.modeling.SsruTransformer`. Placeholder sentinels reuse
  eight rare pieces of its vocabulary (``firefox.load_tokenizer``), so the vocabulary stays
  32,000 and a tuned model exports back to the native engine (``suite export``);
- ``seq2seq``: a ready sequence-to-sequence model (Marian/opus-mt, T5, mBART, NLLB, M2M100:
  any ``AutoModelForSeq2SeqLM``), loaded as it is;
- ``encoder``: an encoder-only checkpoint (the bundled MiniLM, any BERT-like model): an
  ``EncoderDecoderModel`` is built with the checkpoint's weights in both the encoder
  and the decoder ("Leveraging Pre-trained Checkpoints for Sequence Generation Tasks",
  Rothe et al., 2020), for language pairs that have no pretrained translation model here.
  The decoder's cross-attention and the placeholder sentinels are new: they learn at
  ``train.learning_rate x new_weights_lr_scale``.

``pretrained: false`` builds the same architecture with random weights: the
comparison that shows what the pretrained weights are worth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from suite.core.errors import ModelSourceError, RecipeError
from suite.translation import strings
from suite.translation.config import TranslationModelConfig
from suite.translation.masking import MAX_SENTINELS, Masker

Kind = Literal["ssru", "seq2seq", "encoder"]


def model_kind(folder: Any, trust_remote_code: bool = False) -> Kind:
    """What ``folder`` holds: the Firefox Translations network (``ssru``), a seq2seq model, or an encoder.

    A Firefox Translations folder has a Marian ``*.intgemm.alphas.bin`` and no ``config.json``;
    a saved port has a ``config.json`` naming its architecture. Neither is read with AutoConfig.
    """
    from suite.translation.ssru.modeling import ARCHITECTURE, CONFIG_FILE

    folder = Path(folder)
    config = folder / CONFIG_FILE
    if config.is_file():
        try:
            if json.loads(config.read_text(encoding="utf-8")).get("architecture") == ARCHITECTURE:
                return "ssru"
        except (ValueError, UnicodeDecodeError, AttributeError):
            pass                                  # transformers reports a broken config itself
    elif folder.is_dir() and any(folder.glob("*.intgemm.alphas.bin")):
        return "ssru"
    return "seq2seq" if is_seq2seq(folder, trust_remote_code) else "encoder"


def load_tokenizer(folder: Any, model: TranslationModelConfig, kind: Kind | None = None):
    """The checkpoint's tokenizer, with sentinel tokens added when placeholders are masked.

    Raises:
        RecipeError: a language code the tokenizer does not know.
    """
    from transformers import AddedToken, AutoTokenizer

    kind = kind or model_kind(folder, model.trust_remote_code)
    sentinels = strings.sentinel_tokens(MAX_SENTINELS) if model.mask_placeholders else None
    if kind == "ssru":
        from suite.translation.ssru import firefox

        if model.source_lang_code or model.target_lang_code:
            raise RecipeError("model.source_lang_code / target_lang_code: the Firefox Translations model "
                              "translates one direction and takes no language codes; set them to null")
        return firefox.load_tokenizer(folder, sentinels)
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=model.trust_remote_code)
    if sentinels:
        tokenizer.add_tokens([AddedToken(t, normalized=False) for t in sentinels])
    for name in ("source_lang_code", "target_lang_code"):
        code = getattr(model, name)
        if code is not None and _language_token_id(tokenizer, code) is None:
            raise RecipeError(f"model.{name}: '{code}' is not a language code of this tokenizer")
    if model.source_lang_code and hasattr(tokenizer, "src_lang"):
        tokenizer.src_lang = model.source_lang_code
    if model.target_lang_code and hasattr(tokenizer, "tgt_lang"):
        tokenizer.tgt_lang = model.target_lang_code
    return tokenizer


def _language_token_id(tokenizer: Any, code: str) -> int | None:
    for token in (code, f"__{code}__"):                      # mBART/NLLB codes, M2M100's __de__
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is not None and token_id != tokenizer.unk_token_id:
            return token_id
    return None


def is_seq2seq(folder: Any, trust_remote_code: bool = False) -> bool:
    """Whether a transformers checkpoint is already an encoder-decoder (else it is warm-started)."""
    from transformers import AutoConfig

    return bool(getattr(AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code),
                        "is_encoder_decoder", False))


def build_model(folder: Any, tokenizer: Any, model: TranslationModelConfig, *, kind: Kind | None = None,
                seed: int = 0):
    """Load (or randomly initialise) the model for ``folder``, ready to train and generate.

    Args:
        folder: the resolved ``model.source``.
        tokenizer: from :func:`load_tokenizer` (its size decides the vocabulary).
        model: the recipe's ``model`` section.
        kind: what the folder holds (default: :func:`model_kind`).
        seed: seeds the random weights of ``pretrained: false``.
    """
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    remote = model.trust_remote_code
    kind = kind or model_kind(folder, remote)
    if kind == "ssru":
        network = _ssru_network(Path(folder), pretrained=model.pretrained, seed=seed)
    elif kind == "seq2seq":
        network = AutoModelForSeq2SeqLM.from_pretrained(folder, trust_remote_code=remote) if model.pretrained \
            else AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(folder, trust_remote_code=remote))
    else:
        network = _warm_started(folder, tokenizer, model)
    _fit_vocabulary(network, len(tokenizer))
    _set_generation(network, tokenizer, model)
    return network


def _ssru_network(folder: Path, *, pretrained: bool, seed: int):
    """The Firefox Translations network from its Marian file or a saved port; random weights of the same
    sizes when not ``pretrained``."""
    from suite.translation.ssru.modeling import CONFIG_FILE, SsruTransformer

    saved = (folder / CONFIG_FILE).is_file()
    network = SsruTransformer.from_pretrained(folder) if saved else SsruTransformer.from_marian(folder)
    return network if pretrained else SsruTransformer.random_init(network.config, seed=seed)


def untuned_shortlist(folder: Any, kind: Kind, model: TranslationModelConfig):
    """The lexical shortlist the untuned Firefox Translations model decodes with (None: not that model, no
    list in its folder, or ``model.untuned_shortlist`` off). Never used after tuning: it allows only the
    words the original model produced for each source word."""
    from suite.translation.ssru.shortlist import LexicalShortlist

    folder = Path(folder)
    if kind != "ssru" or not model.pretrained or not model.untuned_shortlist or not any(folder.glob("lex.*.bin")):
        return None
    return LexicalShortlist.load(folder)


def load_saved_network(folder: Path, model: TranslationModelConfig) -> tuple[Any, Any]:
    """The network and tokenizer :meth:`Translator.save` wrote into ``folder``, whatever their architecture.

    Raises:
        ModelSourceError: the folder holds no model this domain can load.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    if model_kind(folder) == "ssru":
        from suite.translation.ssru import firefox
        from suite.translation.ssru.modeling import SsruTransformer

        network = SsruTransformer.from_pretrained(folder)
        _set_generation(network, None, model)
        sentinels = strings.sentinel_tokens(MAX_SENTINELS) if model.mask_placeholders else None
        return network, firefox.load_tokenizer(folder, sentinels)
    try:
        return AutoModelForSeq2SeqLM.from_pretrained(str(folder)), AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError) as error:
        raise ModelSourceError(f"{folder}: holds no translation model this suite can load "
                               f"({type(error).__name__})") from None


def _fit_vocabulary(network: Any, size: int) -> None:
    """Grow the embeddings to hold added tokens (the sentinels); an encoder-decoder pair grows both sides."""
    parts = [network.encoder, network.decoder] if hasattr(network.config, "decoder") and \
        hasattr(network, "encoder") and not hasattr(network, "shared") else [network]
    for part in parts:
        if size > part.get_input_embeddings().num_embeddings:
            part.resize_token_embeddings(size)
    if hasattr(network.config, "decoder"):
        network.config.decoder.vocab_size = network.decoder.get_input_embeddings().num_embeddings
        network.config.vocab_size = network.config.decoder.vocab_size


def _warm_started(folder: Any, tokenizer: Any, model: TranslationModelConfig):
    from transformers import AutoConfig, EncoderDecoderConfig, EncoderDecoderModel

    decoder_overrides = {"num_hidden_layers": model.decoder_layers} if model.decoder_layers else {}
    if model.pretrained:
        network = EncoderDecoderModel.from_encoder_decoder_pretrained(
            str(folder), str(folder), tie_encoder_decoder=model.tie_encoder_decoder,
            **{f"decoder_{k}": v for k, v in decoder_overrides.items()})
    else:
        encoder = AutoConfig.from_pretrained(folder)
        decoder = AutoConfig.from_pretrained(folder, is_decoder=True, add_cross_attention=True, **decoder_overrides)
        config = EncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder,
                                                                   tie_encoder_decoder=model.tie_encoder_decoder)
        network = EncoderDecoderModel(config=config)
    network.config.decoder_start_token_id = tokenizer.cls_token_id
    network.config.pad_token_id = tokenizer.pad_token_id
    network.config.eos_token_id = tokenizer.sep_token_id
    return network


def _set_generation(network: Any, tokenizer: Any, model: TranslationModelConfig) -> None:
    generation = network.generation_config
    for name in ("decoder_start_token_id", "pad_token_id", "eos_token_id"):
        if getattr(generation, name, None) is None:
            setattr(generation, name, getattr(network.config, name, None))
    generation.max_length = model.max_target_length
    generation.num_beams = model.num_beams
    generation.no_repeat_ngram_size = model.no_repeat_ngram_size or None
    if model.target_lang_code and tokenizer is not None:
        generation.forced_bos_token_id = _language_token_id(tokenizer, model.target_lang_code)


def new_weights_lr_scale(model: TranslationModelConfig, *, warm_started: bool):
    """``lr_scale`` for :func:`suite.core.optim.parameter_groups`: in a warm start the decoder's
    new cross-attention and LM-head transform learn ``new_weights_lr_scale`` times faster;
    a ready seq2seq model (or a scratch one) learns at one rate."""
    scale = model.new_weights_lr_scale if warm_started else 1.0
    return lambda name: scale if "crossattention" in name or "predictions.transform" in name else 1.0


def smoothed_loss(smoothing: float):
    """A Trainer ``compute_loss_func``: cross-entropy over the target tokens (label -100 ignored) with
    ``smoothing`` of each token's probability spread evenly over the vocabulary. The model then gets no labels,
    only the ``decoder_input_ids`` the collator makes from them (``prepare_decoder_input_ids_from_labels``)."""
    import torch

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        summed = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels.flatten().to(logits.device),
                                                   ignore_index=-100, label_smoothing=smoothing, reduction="sum")
        return summed / (num_items_in_batch if num_items_in_batch is not None else (labels != -100).sum())

    return loss


def encode_pairs(tokenizer: Any, sources: list[str], targets: list[str], model: TranslationModelConfig):
    """A ``datasets.Dataset`` of token ids and labels, prepared as the translator prepares its inputs (placeholders
    and characters the tokenizer lacks masked, accelerators out: see masking.py)."""
    from datasets import Dataset

    masker = Masker(tokenizer, limit=MAX_SENTINELS, placeholders=model.mask_placeholders,
                    accelerators=model.strip_accelerators)
    pairs = [masker.prepare_pair(source, target, model.source_prefix) for source, target in zip(sources, targets)]
    inputs, labels = [source for source, _ in pairs], [target for _, target in pairs]
    encoded = tokenizer(inputs, max_length=model.max_source_length, truncation=True)
    targets_ids = tokenizer(text_target=labels, max_length=model.max_target_length, truncation=True)["input_ids"]
    start = _decoder_start(tokenizer)
    targets_ids = [ids[1:] if start is not None and ids and ids[0] == start else ids for ids in targets_ids]
    return Dataset.from_dict({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
                              "labels": targets_ids, "length": [len(i) for i in encoded["input_ids"]]})


def _decoder_start(tokenizer: Any) -> int | None:
    """A BERT-style tokenizer opens every text with [CLS], which is the warm start's decoder start."""
    return tokenizer.cls_token_id if getattr(tokenizer, "cls_token", None) else None


def needs_restorer(tokenizer: Any, model: TranslationModelConfig) -> bool:
    """Whether output needs case and accents restored: ``on``, or ``auto`` with a tokenizer that
    lowercases or strips accents (its round trip of a probe equals the probe folded)."""
    if model.restore_surface != "auto":
        return model.restore_surface == "on"
    probe = "Öffnen Datei"
    decoded = tokenizer.decode(tokenizer(probe, add_special_tokens=False)["input_ids"]).strip()
    return decoded != probe and decoded == strings.fold(probe)
