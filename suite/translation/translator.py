"""The translation predictor: a model ready to translate interface strings (what ``suite.load`` returns).

It works the same over every kind of model the domain builds (a transformers seq2seq model,
a warm-started encoder-decoder, the Firefox Translations network): batched beam search over
strings sorted by length; placeholders masked before, kept by constrained decoding
(``model.placeholders``, see decoding.py) and restored after, with the source's spacing
around them (characters the tokenizer cannot encode pass through the same way); a keyboard
accelerator is taken out and put back (see masking.py); an uncased model's output gets its case and
accents back; leading and trailing whitespace of each source is carried over.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suite.core.config import SETTINGS_FILE, load_settings, save_settings
from suite.translation import strings
from suite.translation.config import TranslationModelConfig
from suite.translation.masking import MAX_SENTINELS, Masker


class Translator:
    """A tuned (or untuned) translation model with its tokenizer and settings.

    Args:
        network: a seq2seq ``generate``-capable module (transformers or ``SsruTransformer``).
        tokenizer: its tokenizer (with the placeholder sentinels when they are masked).
        model: the recipe's ``model`` section.
        restorer: a :class:`~suite.translation.strings.SurfaceRestorer` for uncased models, or None.
        warm_started: the network was warm-started from an encoder-only checkpoint.
        shortlist: a lexical shortlist restricting each source's output words (the untuned
            Firefox Translations model only, as its native engine decodes; never saved).
        target_language: the language the model translates into (``pt_BR``); saved, and checked
            against a ``.po`` catalog's ``Language`` header before a model loads.

    Example:
        >>> translator = suite.load("runs/translation-default-...")
        >>> translator.translate(["Delete %s?"])
        ['Excluir %s?']
    """

    def __init__(self, network: Any, tokenizer: Any, model: TranslationModelConfig, restorer=None, *,
                 warm_started: bool = False, shortlist: Any = None, target_language: str | None = None):
        self.network, self.tokenizer, self.model, self.restorer = network.eval(), tokenizer, model, restorer
        self.warm_started, self.shortlist, self.target_language = warm_started, shortlist, target_language
        self._masker = Masker(tokenizer, limit=MAX_SENTINELS, placeholders=model.mask_placeholders,
                              accelerators=model.strip_accelerators)
        self._sentinel_ids: list[int] | None = None

    def translate(self, texts: list[str], *, progress: bool = False) -> list[str]:
        """Translations of ``texts``, in order (an empty output for a source with no text)."""
        from tqdm.auto import tqdm

        jobs = sorted(((index, self._masker.prepare(text, self.model.source_prefix)) for index, text in
                       enumerate(texts)), key=lambda job: len(job[1].model_input), reverse=True)
        outputs = [""] * len(texts)
        size = self.model.generation_batch_size
        batches = range(0, len(jobs), size)
        for start in tqdm(batches, desc="translating", unit="batch", disable=not progress or len(batches) < 2):
            batch = jobs[start:start + size]
            for (index, prepared), text in zip(batch, self._generate([job[1].model_input for job in batch])):
                if self.restorer is not None:
                    text = self.restorer.restore(text, source=prepared.source)
                outputs[index] = prepared.finish(text, masked=self.model.mask_placeholders)
        return [text if text.strip() else "" for text in outputs]

    def _generate(self, inputs: list[str]) -> list[str]:
        import torch

        device = next(self.network.parameters()).device
        encoded = self.tokenizer(inputs, max_length=self.model.max_source_length, truncation=True, padding=True,
                                 return_tensors="pt").to(device)
        options = self._constraints(encoded["input_ids"])
        if self.shortlist is not None:
            options["shortlist"] = self.shortlist
        with torch.inference_mode():
            generated = self.network.generate(**encoded, **options)
        return self.tokenizer.batch_decode(generated, skip_special_tokens=True)

    def translate_free(self, texts: list[str], *, progress: bool = False) -> list[str] | None:
        """Translations decoded without the placeholder constraint (None when the model decodes freely anyway):
        what the network alone keeps."""
        if not (self.model.mask_placeholders and self.model.placeholders == "constrained"):
            return None
        self.model.placeholders = "free"
        try:
            return self.translate(texts, progress=progress)
        finally:
            self.model.placeholders = "constrained"

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

    def predict(self, inputs: list[str]) -> list[dict]:
        """``{"source", "translation", "placeholders_kept", "accelerator_kept"}`` per input string
        (``accelerator_kept``: None when the source has no keyboard accelerator)."""
        outputs = self.translate(list(inputs), progress=True)
        return [{"source": s, "translation": t, "placeholders_kept": strings.placeholders_kept(s, t),
                 "accelerator_kept": strings.accelerator_kept(s, t)} for s, t in zip(inputs, outputs)]

    @property
    def input_limit(self) -> str:
        """The most of a source the model reads (:class:`suite.core.registry.ReportsTruncation`)."""
        return f"model.max_source_length = {self.model.max_source_length} tokens"

    def truncated(self, inputs: list[str]) -> list[bool]:
        """Whether each source, as the model reads it (masked, with its prefix), has more tokens than
        ``model.max_source_length`` (the model then translates only its start)."""
        prepared = [self._masker.prepare(text, self.model.source_prefix).model_input for text in inputs]
        whole = self.tokenizer(prepared, verbose=False)["input_ids"] if prepared else []
        return [len(ids) > self.model.max_source_length for ids in whole]

    def save(self, folder: Path) -> None:
        """Weights, tokenizer, settings and the surface restorer into ``folder``."""
        self.network.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        save_settings(folder, {"model": self.model}, warm_started=self.warm_started,
                      target_language=self.target_language)
        if self.restorer is not None:
            self.restorer.save(Path(folder) / "surface.json")

    @classmethod
    def from_folder(cls, folder: Path) -> Translator:
        """Load what :meth:`save` wrote (any architecture the domain builds).

        Raises:
            RecipeError: the folder's settings file is missing or of another kind.
            ModelSourceError: its weights are of an architecture this domain cannot load.
        """
        from suite.translation.model import load_saved_network

        folder = Path(folder)
        settings = load_settings(folder, {"model": TranslationModelConfig})
        network, tokenizer = load_saved_network(folder, settings["model"])
        restorer = strings.SurfaceRestorer.load(folder / "surface.json") if (folder / "surface.json").exists() \
            else None
        return cls(network, tokenizer, settings["model"], restorer, warm_started=settings["warm_started"],
                   target_language=settings.get("target_language"))


def saved_target_language(folder: Path) -> str | None:
    """The target language a saved model folder declares (its state, or a saved ``data`` section; None: not
    recorded), read without loading the model."""
    try:
        document = json.loads((Path(folder) / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for section in ("state", "data"):
        values = document.get(section) if isinstance(document, dict) else None
        if isinstance(values, dict) and isinstance(values.get("target_language"), str):
            return values["target_language"]
    return None
