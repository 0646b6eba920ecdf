"""The translation model: any seq2seq checkpoint, or an encoder warm-started on both sides.

Two kinds of ``model.source``:

- a ready sequence-to-sequence model (Marian/opus-mt, T5, mBART, NLLB, M2M100: any
  ``AutoModelForSeq2SeqLM``), loaded as it is;
- an encoder-only checkpoint (the bundled MiniLM, any BERT-like model): an
  ``EncoderDecoderModel`` is built with the checkpoint's weights in both the encoder
  and the decoder ("Leveraging Pre-trained Checkpoints for Sequence Generation Tasks",
  Rothe et al., 2020). The decoder's cross-attention and the placeholder sentinels are
  new: they learn at ``train.learning_rate x new_weights_lr_scale``.

``pretrained: false`` builds the same architecture with random weights: the
comparison that shows what the pretrained weights are worth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from suite.core.errors import RecipeError
from suite.core.recipe import ModelConfig
from suite.translation import strings

MAX_SENTINELS = 8          # placeholders per string that get their own sentinel token


@dataclass
class TranslationModelConfig(ModelConfig):
    """The recipe's ``model`` section for translation."""

    max_source_length: int = field(default=64, metadata={"help": "Source tokens kept (longer strings are cut)."})
    max_target_length: int = field(default=64, metadata={"help": "Target tokens trained on and generated at most."})
    source_prefix: str = field(default="", metadata={
        "help": "Text put before every source, e.g. 'translate English to German: ' for T5."})
    source_lang_code: str | None = field(default=None, metadata={
        "help": "Tokenizer language code of the source for multilingual models (en_XX for mBART, eng_Latn NLLB)."})
    target_lang_code: str | None = field(default=None, metadata={
        "help": "Tokenizer language code of the target (de_DE, deu_Latn, de for M2M100); forces that BOS."})
    mask_placeholders: bool = field(default=True, metadata={
        "help": "Replace placeholders (%s, {0}...) by sentinel tokens the tokenizer cannot split, and back."})
    restore_surface: Literal["auto", "on", "off"] = field(default="auto", metadata={
        "help": "Restore case, accents and punctuation spacing learned from the training targets; auto: when "
                "the tokenizer is uncased (MiniLM lowercases and strips accents)."})
    tie_encoder_decoder: bool = field(default=False, metadata={
        "help": "Warm start: share the encoder's weights with the decoder (half the parameters)."})
    decoder_layers: int | None = field(default=None, metadata={
        "help": "Warm start: keep only the decoder's first N layers (faster; null keeps all)."})
    new_weights_lr_scale: float = field(default=1.0, metadata={
        "help": "Warm start: learning-rate multiplier for the weights the checkpoint lacks "
                "(cross-attention, LM-head transform)."})
    placeholders: Literal["constrained", "free"] = field(default="constrained", metadata={
        "help": "constrained: decoding may emit only the source's placeholder sentinels, each once, and not "
                "end before all are out (the model still places them); free: no constraint (see decoding.py)."})
    num_beams: int = field(default=4, metadata={"help": "Beam size when translating."})
    no_repeat_ngram_size: int = field(default=0, metadata={
        "help": "Never generate the same n-gram twice in one output (0: off; 3 is usual for warm starts)."})
    generation_batch_size: int = field(default=32, metadata={"help": "Strings per generation batch."})

    def __post_init__(self):
        for name in ("max_source_length", "max_target_length", "num_beams", "generation_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected a positive integer, got {getattr(self, name)!r}")
        if self.no_repeat_ngram_size < 0:
            raise ValueError(f"no_repeat_ngram_size: expected 0 or a positive integer, got {self.no_repeat_ngram_size!r}")
        if self.decoder_layers is not None and self.decoder_layers < 1:
            raise ValueError(f"decoder_layers: expected a positive integer or null, got {self.decoder_layers!r}")
        if not 0 < self.new_weights_lr_scale <= 1000:
            raise ValueError(f"new_weights_lr_scale: expected a number in (0, 1000], got {self.new_weights_lr_scale!r}")


def load_tokenizer(folder: Any, model: TranslationModelConfig):
    """The checkpoint's tokenizer, with sentinel tokens added when placeholders are masked.

    Raises:
        RecipeError: a language code the tokenizer does not know.
    """
    from transformers import AddedToken, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=model.trust_remote_code)
    if model.mask_placeholders:
        tokenizer.add_tokens([AddedToken(t, normalized=False) for t in strings.sentinel_tokens(MAX_SENTINELS)])
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
    """Whether the checkpoint is already an encoder-decoder (else it is warm-started)."""
    from transformers import AutoConfig

    return bool(getattr(AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code),
                        "is_encoder_decoder", False))


def build_model(folder: Any, tokenizer: Any, model: TranslationModelConfig):
    """Load (or randomly initialise) the seq2seq model for ``folder``, ready to train and generate."""
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    remote = model.trust_remote_code
    if is_seq2seq(folder, remote):
        network = AutoModelForSeq2SeqLM.from_pretrained(folder, trust_remote_code=remote) if model.pretrained \
            else AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(folder, trust_remote_code=remote))
    else:
        network = _warm_started(folder, tokenizer, model)
    _fit_vocabulary(network, len(tokenizer))
    _set_generation(network, tokenizer, model)
    return network


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
    if model.target_lang_code:
        generation.forced_bos_token_id = _language_token_id(tokenizer, model.target_lang_code)


def new_weights_lr_scale(model: TranslationModelConfig, *, warm_started: bool):
    """``lr_scale`` for :func:`suite.core.optim.parameter_groups`: in a warm start the decoder's
    new cross-attention and LM-head transform learn ``new_weights_lr_scale`` times faster;
    a ready seq2seq model (or a scratch one) learns at one rate."""
    scale = model.new_weights_lr_scale if warm_started else 1.0
    return lambda name: scale if "crossattention" in name or "predictions.transform" in name else 1.0


def encode_pairs(tokenizer: Any, sources: list[str], targets: list[str], model: TranslationModelConfig):
    """A ``datasets.Dataset`` of token ids and labels, placeholders masked as the recipe says."""
    from datasets import Dataset

    inputs, labels = [], []
    for source, target in zip(sources, targets):
        masked_source, originals = strings.mask(source) if model.mask_placeholders else (source, [])
        inputs.append(model.source_prefix + masked_source)
        labels.append(strings.mask_like(target, originals) if model.mask_placeholders else target)
    encoded = tokenizer(inputs, max_length=model.max_source_length, truncation=True)
    targets_ids = tokenizer(text_target=labels, max_length=model.max_target_length, truncation=True)["input_ids"]
    start = _decoder_start(tokenizer)
    targets_ids = [ids[1:] if start is not None and ids and ids[0] == start else ids for ids in targets_ids]
    return Dataset.from_dict({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
                              "labels": targets_ids, "length": [len(i) for i in encoded["input_ids"]]})


def _decoder_start(tokenizer: Any) -> int | None:
    """A BERT-style tokenizer opens every text with [CLS], which is the warm start's decoder start."""
    return tokenizer.cls_token_id if getattr(tokenizer, "cls_token", None) else None


class Translator:
    """A tuned model ready to translate interface strings (what ``suite.load`` returns).

    Batched beam search over strings sorted by length; placeholders are masked before,
    kept by constrained decoding (``model.placeholders``, see decoding.py) and restored
    after; an uncased model's output gets its case and accents back; leading
    and trailing whitespace of each source is carried over.
    """

    SETTINGS_FILE = "suite.json"

    def __init__(self, network: Any, tokenizer: Any, model: TranslationModelConfig, restorer=None):
        self.network, self.tokenizer, self.model, self.restorer = network.eval(), tokenizer, model, restorer
        self.generated_tokens = 0
        self._sentinel_ids: list[int] | None = None

    def translate(self, texts: list[str], *, progress: bool = False) -> list[str]:
        """Translations of ``texts``, in order."""
        import torch
        from tqdm.auto import tqdm

        jobs = []
        for index, text in enumerate(texts):
            core = text.strip()
            masked, originals = strings.mask(core) if self.model.mask_placeholders else (core, [])
            jobs.append((index, self.model.source_prefix + masked, originals, text[:len(text) - len(text.lstrip())],
                         text[len(text.rstrip()):]))
        jobs.sort(key=lambda job: len(job[1]), reverse=True)
        outputs = [""] * len(texts)
        size = self.model.generation_batch_size
        device = next(self.network.parameters()).device
        batches = range(0, len(jobs), size)
        for start in tqdm(batches, desc="translating", unit="batch", disable=not progress or len(batches) < 2):
            batch = jobs[start:start + size]
            encoded = self.tokenizer([job[1] for job in batch], max_length=self.model.max_source_length,
                                     truncation=True, padding=True, return_tensors="pt").to(device)
            with torch.inference_mode():
                generated = self.network.generate(**encoded, **self._constraints(encoded["input_ids"]))
            self.generated_tokens += int((generated != self.tokenizer.pad_token_id).sum())
            for job, text in zip(batch, self.tokenizer.batch_decode(generated, skip_special_tokens=True)):
                outputs[job[0]] = self._finish(text, texts[job[0]].strip(), job)
        return [text if text.strip() else "" for text in outputs]

    def _constraints(self, input_ids: Any) -> dict:
        """``generate`` keyword arguments for ``model.placeholders: constrained`` (none when free)."""
        if not (self.model.mask_placeholders and self.model.placeholders == "constrained"):
            return {}
        from transformers import LogitsProcessorList

        from suite.translation.decoding import PlaceholderConstraint, sentinel_ids

        if self._sentinel_ids is None:
            self._sentinel_ids = sentinel_ids(self.tokenizer, strings.sentinel_tokens(MAX_SENTINELS))
        constraint = PlaceholderConstraint(input_ids, self._sentinel_ids, self.network.generation_config.eos_token_id)
        return {"logits_processor": LogitsProcessorList([constraint])}

    def _finish(self, text: str, source: str, job: tuple) -> str:
        if self.restorer is not None:
            text = self.restorer.restore(text, source=source)
        text = strings.unmask(text, job[2]) if self.model.mask_placeholders else text
        return job[3] + text.strip() + job[4]

    def predict(self, inputs: list[str]) -> list[dict]:
        """``{"source", "translation", "placeholders_kept"}`` per input string."""
        outputs = self.translate(list(inputs), progress=True)
        return [{"source": s, "translation": t, "placeholders_kept": strings.placeholders_kept(s, t)}
                for s, t in zip(inputs, outputs)]

    def read_inputs(self, path):
        """Source strings from a ``.po``/``.mo`` catalog (every msgid), a table's ``source``
        column, or a text file (one string per line)."""
        from pathlib import Path

        from suite.core.errors import DataError
        from suite.core.tables import TABLE_KINDS, iter_table
        from suite.translation.catalogs import CATALOG_SUFFIXES, iter_sources

        path = Path(path)
        if not path.is_file():
            raise DataError(f"--input: no such file: {path}")
        if path.suffix.lower() in CATALOG_SUFFIXES:
            return list(iter_sources(path))
        if any(s.lower() in TABLE_KINDS for s in path.suffixes):
            rows = [row for _, row in iter_table(path)]
            if rows and "source" not in rows[0]:
                raise DataError(f"{path}: no column 'source' (columns: {', '.join(rows[0])})")
            return [str(row["source"]) for row in rows]
        try:
            return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError as error:
            raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None

    def write_output(self, predictions: list[dict], output, *, input=None) -> bool:
        """``--input app.po --output app.de.po``: write the filled catalog (see catalogs.fill_catalog).
        Returns False for any other output type, which the CLI writes itself."""
        from pathlib import Path

        from suite.translation.catalogs import fill_catalog

        if input is None or Path(output).suffix != ".po" or Path(input).suffix.lower() not in (".po",):
            return False
        done = {p["source"]: p["translation"] for p in predictions}
        fill_catalog(Path(input), lambda texts: [done.get(t) or self.translate([t])[0] for t in texts],
                     output=Path(output))
        return True

    def save(self, folder) -> None:
        """Weights, tokenizer, settings and the surface restorer into ``folder``."""
        import json

        from suite.core import config

        self.network.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        (folder / self.SETTINGS_FILE).write_text(json.dumps({"model": config.to_dict(self.model)}, indent=2),
                                                 encoding="utf-8")
        if self.restorer is not None:
            self.restorer.save(folder / "surface.json")

    @classmethod
    def from_folder(cls, folder) -> "Translator":
        """Load what :meth:`save` wrote."""
        import json

        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        from suite.core import config

        settings = json.loads((folder / cls.SETTINGS_FILE).read_text(encoding="utf-8"))
        model = config.build(TranslationModelConfig, settings["model"], where="model")
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        network = AutoModelForSeq2SeqLM.from_pretrained(str(folder))
        restorer = strings.SurfaceRestorer.load(folder / "surface.json") if (folder / "surface.json").exists() \
            else None
        return cls(network, tokenizer, model, restorer)


def needs_restorer(tokenizer: Any, model: TranslationModelConfig) -> bool:
    """Whether output needs case and accents restored: ``on``, or ``auto`` with a tokenizer that
    lowercases or strips accents (its round trip of a probe equals the probe folded)."""
    if model.restore_surface != "auto":
        return model.restore_surface == "on"
    probe = "Öffnen Datei"
    decoded = tokenizer.decode(tokenizer(probe, add_special_tokens=False)["input_ids"]).strip()
    return decoded != probe and decoded == strings.fold(probe)
