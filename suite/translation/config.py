"""The translation recipe's own sections: ``data``, ``model`` and ``evaluation`` (dataclasses with help text).

The model section is saved with every model (``model/suite.json``) and rebuilt from it by the
same round trip (:func:`suite.core.config.save_settings` / ``load_settings``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from suite.core.config import SEED_BOUNDS, between
from suite.core.recipe import ModelConfig

SYSTEM_SOURCE = "system-locale"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?$")


@dataclass
class TranslationDataConfig:
    """The recipe's ``data`` section for translation."""

    source: str | list[str] = field(default=SYSTEM_SOURCE, metadata={
        "help": "l10n-pt (the corpus `suite data pull l10n-pt` fetches; pulled on first use), system-locale (this "
                "machine's /usr/share/locale catalogs), a bundled data set (django-de), a folder of .po/.mo files "
                "or a locale tree, one .po/.mo file, or a .tsv/.csv/.jsonl table; or a list of these, merged by "
                "product (the first source listed that has a product gives it)."})
    source_language: str = field(default="en", metadata={"help": "Language of the msgids / source column."})
    target_language: str = field(default="pt_BR", metadata={
        "help": "Language of the translations; picks <lang>/LC_MESSAGES in a locale tree (system-locale: "
                "/usr/share/locale/<lang>, and <lang>_<LANG> beside it for a bare code: pt reads pt and pt_PT)."})
    source_column: str = field(default="source", metadata={"help": "Source text column (tables)."})
    target_column: str = field(default="target", metadata={"help": "Target text column (tables)."})
    catalog_column: str = field(default="catalog", metadata={
        "help": "Catalog/product column (tables; optional: without it the file name is the catalog)."})
    include_catalogs: list[str] = field(default_factory=lambda: ["*"], metadata={
        "help": "Catalog name patterns to read (shell globs)."})
    exclude_catalogs: list[str] = field(default_factory=lambda: ["iso_*"], metadata={
        "help": "Catalog name patterns to skip (default: the iso_* lists of country and language names)."})
    split: Literal["by-catalog", "in-domain", "random"] = field(default="by-catalog", metadata={
        "help": "by-catalog: test on whole held-out catalogs; in-domain: tune on part of in_domain_catalog "
                "and test on the rest; random: split pairs at random."})
    test_catalogs: list[str] = field(default_factory=list, metadata={
        "help": "by-catalog: catalogs held out for test (empty: picked by seed to cover about test_size)."})
    exclude_test_families: bool = field(default=True, metadata={
        "help": "by-catalog: leave the test products' siblings out of training (same leading letters: gtk30 and "
                "gtk40 when gtk20 is tested, wget-gnulib beside wget)."})
    in_domain_catalog: str | None = field(default=None, metadata={
        "help": "in-domain: the catalog whose held-out strings are the test set."})
    test_size: float = field(default=0.15, metadata={"bounds": between(0, 1, low_open=True, high_open=True),
        "help": "Share held out for test (random, in-domain; the target share when test_catalogs is empty)."})
    validation_size: float = field(default=0.05, metadata={"bounds": between(0, 1, low_open=True, high_open=True),
        "help": "Share of the training pairs used to pick checkpoints."})
    min_chars: int = field(default=2, metadata={
        "bounds": between(1, 10 ** 6), "help": "Drop pairs whose source is shorter."})
    max_chars: int = field(default=120, metadata={
        "bounds": between(1, 10 ** 6), "help": "Drop pairs whose source or target is longer."})
    max_train_chars: int | None = field(default=None, metadata={"bounds": between(1, 10 ** 6),
        "help": "Training and validation pairs may be this long instead (null: max_chars); the test keeps "
                "max_chars, so raising it adds training data without changing the test set."})
    max_train_examples: int | None = field(default=None, metadata={"bounds": between(10, 10 ** 9),
        "help": "Keep a random sample of this many training pairs (null: all)."})
    max_test_examples: int | None = field(default=None, metadata={"bounds": between(10, 10 ** 9),
        "help": "Evaluate on a random sample of this many test pairs (null: all)."})
    general_replay: float = field(default=0.0, metadata={"bounds": between(0, 0.5),
        "help": "Share of the training pairs that are replay against forgetting general language: sentences of "
                "ordinary English (datasets/general-en, 7,359 at most) the untuned model translates before "
                "training (0: none; 0.16 adds about 7,000 to 37,000 pairs; needs a pretrained model that "
                "translates; see replay.py)."})
    seed: int = field(default=0, metadata={
        "bounds": SEED_BOUNDS, "help": "Seed of the catalog choice, the split and the samples."})

    def __post_init__(self):
        if not self.source or (isinstance(self.source, list) and not all(self.source)):
            raise ValueError(f"source: expected a source or a non-empty list of sources, got {self.source!r}")
        for name in ("source_language", "target_language"):
            if not isinstance(getattr(self, name), str) or not _LANGUAGE.match(getattr(self, name)):
                raise ValueError(f"{name}: unknown language code {getattr(self, name)!r}; expected an ISO 639 "
                                 "code such as en, de, fr, pt_BR")
        if not self.min_chars <= self.max_chars:
            raise ValueError(f"max_chars: expected min_chars <= max_chars, got {self.min_chars}, {self.max_chars}")
        if self.max_train_chars is not None and self.max_train_chars < self.min_chars:
            raise ValueError(f"max_train_chars: expected null or at least min_chars ({self.min_chars}), "
                             f"got {self.max_train_chars!r}")
        if self.split == "in-domain" and not self.in_domain_catalog:
            raise ValueError("in_domain_catalog: the in-domain split needs the catalog to test on")


@dataclass
class TranslationModelConfig(ModelConfig):
    """The recipe's ``model`` section for translation."""

    source: str = field(default="bundled:firefox-enpt", metadata={
        "help": "A bundled name (bundled:firefox-enpt), a local folder or file, or a Hugging Face hub id."})
    max_source_length: int = field(default=64, metadata={
        "bounds": between(1, 4096), "help": "Source tokens kept (longer strings are cut)."})
    max_target_length: int = field(default=64, metadata={
        "bounds": between(1, 4096), "help": "Target tokens trained on and generated at most."})
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
    decoder_layers: int | None = field(default=None, metadata={"bounds": between(1, 1000),
        "help": "Warm start: keep only the decoder's first N layers (faster; null keeps all)."})
    new_weights_lr_scale: float = field(default=1.0, metadata={"bounds": between(0, 1000, low_open=True),
        "help": "Warm start: learning-rate multiplier for the weights the checkpoint lacks "
                "(cross-attention, LM-head transform)."})
    placeholders: Literal["constrained", "free"] = field(default="constrained", metadata={
        "help": "constrained: decoding may emit only the source's placeholder sentinels, each once, and not "
                "end before all are out (the model still places them); free: no constraint (see decoding.py)."})
    num_beams: int = field(default=4, metadata={"bounds": between(1, 64), "help": "Beam size when translating."})
    no_repeat_ngram_size: int = field(default=0, metadata={"bounds": between(0, 100),
        "help": "Never generate the same n-gram twice in one output (0: off; 3 is usual for warm starts)."})
    generation_batch_size: int = field(default=32, metadata={
        "bounds": between(1, 65_536), "help": "Strings per generation batch."})
    strip_accelerators: bool = field(default=True, metadata={
        "help": "Take keyboard accelerators (GTK _Open, Qt &File, LibreOffice ~Save) out of the source and the "
                "training targets, and put the marker back before the word in the same position of the translation "
                "(review it)."})
    label_smoothing: float = field(default=0.0, metadata={"bounds": between(0, 1, high_open=True),
        "help": "Share of each target token's probability spread over the whole vocabulary in the training loss "
                "(0: plain cross-entropy; 0.1 is common). The validation loss that picks the checkpoint is "
                "smoothed the same way."})
    untuned_shortlist: bool = field(default=True, metadata={
        "help": "Firefox Translations: decode the untuned model (the zero-shot system) with its lexical "
                "shortlist, as its native engine does. A tuned model never uses it: the list allows only the "
                "words the original model produced."})


@dataclass
class TranslationEvalConfig:
    """The recipe's ``evaluation`` section for translation."""

    baselines: list[str] = field(default_factory=lambda: ["copy-source", "translation-memory"], metadata={
        "help": "Classical systems on the same test split: copy-source (output = input), translation-memory "
                "(the target of the most similar training source, as a CAT tool's fuzzy match)."})
    glossary: str | None = field(default=None, metadata={
        "help": "TSV of source term<TAB>target term; null mines one from the training pairs."})
    glossary_min_count: int = field(default=8, metadata={"bounds": between(1, 10 ** 9),
        "help": "Mined glossary: a source word must occur in at least this many training pairs."})
    glossary_min_dice: float = field(default=0.6, metadata={"bounds": between(0, 1, low_open=True),
        "help": "Mined glossary: minimum Dice agreement between a source word and its translation."})
    zero_shot: bool = field(default=True, metadata={
        "help": "Also score a ready translation model before tuning (skipped for a warm start: it cannot "
                "translate)."})
    examples: int = field(default=12, metadata={
        "bounds": between(0, 10_000), "help": "Test translations shown in the model card."})
    general_text: bool = field(default=True, metadata={
        "help": "Also score every model on general prose (the UDHR by sentence, datasets/udhr-pt; pt_BR and pt) "
                "and report tuned minus untuned chrF++: the forgetting check."})
    help_text: bool = field(default=True, metadata={
        "help": "Also score every model on LibreOffice help paragraphs (longer prose of a product never trained on; "
                "needs the pulled l10n-pt corpus, left out otherwise)."})
    help_examples: int = field(default=150, metadata={
        "bounds": between(1, 100_000), "help": "Help paragraphs scored (a sample, by data.seed)."})
    help_max_chars: int = field(default=200, metadata={"bounds": between(1, 10 ** 6),
        "help": "Help paragraphs longer than this on either side are left out (the model reads 64 tokens)."})

    def __post_init__(self):
        known = {"copy-source", "translation-memory"}
        unknown = [b for b in self.baselines if b not in known]
        if unknown:
            raise ValueError(f"baselines: unknown {', '.join(unknown)} (known: {', '.join(sorted(known))})")
