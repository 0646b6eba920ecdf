"""Translation: tune a seq2seq model to a product's interface strings and terminology.

Python::

    import suite
    run = suite.tune("translation/tiny")               # or a recipe path, with overrides
    translator = suite.load(run.path)
    translator.predict(["Open file", "Delete %(count)s items?"])

Command line::

    suite train translation/default
    suite predict runs/translation-default-... "Open file"
    suite predict runs/translation-default-... --input app.po --output app.de.po
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from suite.core import registry
from suite.core.adapters import apply_lora, save_adapters_and_merge
from suite.translation import metrics as translation_metrics
from suite.translation.baselines import fit_baseline
from suite.translation.data import Splits, TranslationDataConfig, clean_pairs, load_pairs, prepare
from suite.translation.metrics import HEADLINE, TranslationEvalConfig
from suite.translation.model import (TranslationModelConfig, Translator, build_model, encode_pairs, is_seq2seq,
                                     load_tokenizer, needs_restorer, new_weights_lr_scale)
from suite.translation.strings import SurfaceRestorer


class TranslationDomain:
    """The translation domain as the core sees it (see ``suite.core.registry.Domain``)."""

    name = "translation"
    description = "Seq2seq model tuned to a product's interface strings; chrF++, BLEU, placeholders, terms."
    primary_metric = "chrf"
    greater_is_better = True
    data_config = TranslationDataConfig
    model_config = TranslationModelConfig
    eval_config = TranslationEvalConfig

    def prepare_data(self, recipe: Any) -> Splits:
        return prepare(recipe.data)

    def tune(self, recipe: Any, run: Any, data: Splits, *, resume: bool = False) -> dict:
        from suite.core import sources

        outputs = self._baseline_outputs(recipe, data)
        folder = sources.resolve(recipe.model.source)
        tokenizer = load_tokenizer(folder, recipe.model)
        network = build_model(folder, tokenizer, recipe.model)
        from_encoder = not is_seq2seq(folder, recipe.model.trust_remote_code)   # an EncoderDecoderModel was built
        warm_started = from_encoder and recipe.model.pretrained
        restorer = SurfaceRestorer.fit(p.target for p in data.train) if needs_restorer(tokenizer, recipe.model) \
            else None
        if recipe.evaluation.before_tuning and recipe.model.pretrained and not from_encoder:
            outputs["before-tuning"] = Translator(network, tokenizer, recipe.model, restorer).translate(
                _sources(data.test), progress=True)
        if recipe.lora.enabled:
            network = apply_lora(network, recipe.lora, task_type="SEQ_2_SEQ_LM",
                                 modules_to_save=["crossattention", "transform"] if from_encoder else None)
        result = self._train(recipe, run, network, tokenizer, data, resume, warm_started)
        with run.writing_model() as model_folder:
            plain = save_adapters_and_merge(result.trainer.model, model_folder)
            translator = Translator(plain, tokenizer, recipe.model, restorer)
            translator.save(model_folder)
        start = time.perf_counter()
        outputs["tuned"] = translator.translate(_sources(data.test), progress=True)
        seconds = time.perf_counter() - start
        report = self._report(recipe, data, outputs)
        self._add_free_decoding(report, translator, data)
        report["training"] = {**result.summary(), "warm_started": warm_started,
                              "inference_samples_per_second": round(len(data.test) / seconds, 2),
                              "generated_tokens_per_second": translation_metrics.tokens_per_second(
                                  translator.generated_tokens, seconds)}
        return report

    def evaluate(self, run: Any, data: str | None = None) -> dict:
        recipe = run.recipe()
        splits = self.prepare_data(recipe)
        if data is not None:
            other = dataclasses.replace(recipe.data, source=data, include_catalogs=["*"], exclude_catalogs=[])
            pairs, _ = load_pairs(other)
            splits = Splits(splits.train, splits.validation, clean_pairs(pairs, other)[0], splits.cleaning)
        outputs = self._baseline_outputs(recipe, splits)
        translator = self.load(run)
        outputs["tuned"] = translator.translate(_sources(splits.test), progress=True)
        report = self._report(recipe, splits, outputs)
        self._add_free_decoding(report, translator, splits)
        return report

    def load(self, run: Any) -> Translator:
        return Translator.from_folder(run.model_dir)

    # -- steps -------------------------------------------------------------------------------
    def _train(self, recipe, run, network, tokenizer, data: Splits, resume: bool, warm_started: bool):
        import torch
        from transformers import DataCollatorForSeq2Seq

        from suite.core import training
        from suite.core.optim import parameter_groups

        groups = parameter_groups(network, learning_rate=recipe.train.learning_rate,
                                  weight_decay=recipe.train.weight_decay,
                                  lr_scale=new_weights_lr_scale(recipe.model, warm_started=warm_started))
        return training.train(
            recipe=recipe, run=run, model=network, processing_class=tokenizer, resume=resume,
            train_dataset=encode_pairs(tokenizer, _sources(data.train), _targets(data.train), recipe.model),
            eval_dataset=encode_pairs(tokenizer, _sources(data.validation), _targets(data.validation), recipe.model),
            data_collator=DataCollatorForSeq2Seq(tokenizer, model=network, label_pad_token_id=-100),
            compute_metrics=None, primary_metric="loss", greater_is_better=False,
            optimizer_cls_and_kwargs=(torch.optim.AdamW, {"params": groups, "lr": recipe.train.learning_rate}))

    def _baseline_outputs(self, recipe, data: Splits) -> dict[str, list[str]]:
        return {f"baseline:{name}": fit_baseline(name, _sources(data.train), _targets(data.train))(_sources(data.test))
                for name in recipe.evaluation.baselines}

    @staticmethod
    def _add_free_decoding(report: dict, translator: Translator, data: Splits) -> None:
        """With placeholder-constrained decoding, also score the same network decoding freely
        (``models.tuned.free_decoding``): what the network alone keeps, without the constraint."""
        if not (translator.model.mask_placeholders and translator.model.placeholders == "constrained"):
            return
        translator.model.placeholders = "free"
        try:
            free = translator.translate(_sources(data.test), progress=True)
        finally:
            translator.model.placeholders = "constrained"
        scores = translation_metrics.system_report(_sources(data.test), _targets(data.test), free, {})
        free_scores = {k: scores[k] for k in ("chrf", "bleu", "placeholders_kept")}
        report["models"]["tuned"]["free_decoding"] = free_scores
        report["card_sections"].append(translation_metrics.constrained_decoding_section(free_scores))

    def _report(self, recipe, data: Splits, outputs: dict[str, list[str]]) -> dict:
        sources, references = _sources(data.test), _targets(data.test)
        glossary, origin = translation_metrics.read_glossary_or_mine(
            recipe.evaluation.glossary, [(p.source, p.target) for p in data.train], recipe.evaluation)
        models = {name: translation_metrics.system_report(sources, references, out, glossary)
                  for name, out in outputs.items()}
        sections = [translation_metrics.examples_section(sources, references, outputs, recipe.evaluation.examples)]
        if "tuned" in models:
            sections.append(translation_metrics.broken_placeholders_section(models["tuned"]))
        held_out = "held-out catalogs" if recipe.data.split == "by-catalog" else "held-out pairs"
        return {"models": models, "headline_metrics": HEADLINE, "data": data.summary(), "card_sections": sections,
                "notes": [f"Test strings come from {held_out} ({', '.join(data.summary()['test_catalogs'][:6])}); "
                          "strings whose source also occurs in training are removed from test.",
                          f"Glossary: {len(glossary)} terms ({origin}); term_accuracy counts a term when the source "
                          "holds it and the reference uses its translation.",
                          "The checkpoint is chosen by validation loss; chrF++ is chrF with word bigrams (sacreBLEU)."]}


def _sources(pairs) -> list[str]:
    return [p.source for p in pairs]


def _targets(pairs) -> list[str]:
    return [p.target for p in pairs]


DOMAIN = registry.register(TranslationDomain())
