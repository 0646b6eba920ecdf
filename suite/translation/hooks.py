"""The translation domain's hooks (see :class:`suite.core.registry.Domain`): what differs from the shared run.

The data are (source, target) string pairs read from gettext catalogs or tables; the model is
the Firefox Translations network, any seq2seq checkpoint, or an encoder warm-started on both
sides (see model.py); every system's output is its translations of the test strings, scored by
sacreBLEU, placeholder and glossary checks. A tuned Firefox Translations model exports back to
its native int8 engine (``suite export RUN OUT --format marian``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.core import memory, sources
from suite.core.errors import RecipeError
from suite.core.inputs import Inputs
from suite.core.registry import Model, Report, TrainingInputs
from suite.core.text_encoder import MINILM
from suite.translation import checks, corpus, extra_tests, replay
from suite.translation import data as translation_data
from suite.translation import metrics as translation_metrics
from suite.translation.baselines import fit_baseline
from suite.translation.catalogs import fill_catalog
from suite.translation.config import TranslationDataConfig, TranslationEvalConfig, TranslationModelConfig
from suite.translation.data import Splits
from suite.translation.model import (
    build_model,
    encode_pairs,
    load_tokenizer,
    model_kind,
    needs_restorer,
    new_weights_lr_scale,
    smoothed_loss,
    untuned_shortlist,
)
from suite.translation.ssru.firefox import FIREFOX_ENPT
from suite.translation.strings import SurfaceRestorer
from suite.translation.translator import Translator, saved_target_language

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

# a warm start's new weights: trained in full beside LoRA adapters
_WARM_START_HEAD = ["crossattention", "transform"]


@dataclass
class TranslationParts:
    """What translation keeps beside the network (``Model.parts``)."""

    restorer: SurfaceRestorer | None     # puts back the characters the tokenizer cannot write (None: it can)
    warm_started: bool                   # an encoder-decoder built from a sentence encoder
    shortlist: Any                       # the words the untuned model decodes with (None: no shortlist)


class TranslationDomain:
    """Translation of interface strings: a seq2seq model tuned to a product's strings and terminology."""

    name = "translation"
    description = "Seq2seq model tuned to a product's interface strings; chrF++, BLEU, placeholders, terms."
    primary_metric = "chrf"
    greater_is_better = True
    example_unit = "strings"
    serving_module = "suite.translation.serving"     # suite serve
    bundled_models = {"firefox-enpt": FIREFOX_ENPT, "minilm": MINILM}     # minilm: the warm starts
    data_config = TranslationDataConfig
    model_config = TranslationModelConfig
    eval_config = TranslationEvalConfig
    datasets = corpus.CORPORA      # what `suite data pull NAME` fetches

    def pull(self, name: str, *, force: bool = False) -> Path:
        """Fetch corpus ``name`` into the user cache (see pull.py), print what was done, and return its folder."""
        from suite.translation.pull import pull

        summary = pull(name, force=force)
        print(summary.line(), file=sys.stderr)
        return summary.folder

    def check_source(self, recipe: Recipe, path: Path) -> None:
        """A local model source must be a transformers folder or a Firefox Translations one (bundled, or a
        tuned run's ``model/``); the bundled and hub ones are. Replay needs a model that translates untuned."""
        if not sources.is_bundled(recipe.model.source):
            checks.check_model_folder(path, source=recipe.model.source)
        if recipe.data.general_replay and (not recipe.model.pretrained
                                           or model_kind(path, recipe.model.trust_remote_code) == "encoder"):
            raise RecipeError("data.general_replay: replay pairs are the untuned model's translations, and this "
                              "model cannot translate before tuning (random weights or an encoder warm start); "
                              "set it to 0")

    def memory_needs(self, recipe: Recipe) -> list[memory.MemoryNeed]:
        model, vocabulary = recipe.model, 32_000          # the bundled model's; a larger vocabulary needs more
        logits = float(model.max_target_length) * vocabulary * memory.FLOAT32
        step = 4.0 * vocabulary + model.max_target_length * 512 * 12     # a step's scores, each beam's cache
        return [memory.MemoryNeed(recipe.train.batch_size * logits * 3, "a training batch's logits and gradients",
                                  ("train.batch_size", "model.max_target_length")),
                memory.MemoryNeed(model.generation_batch_size * model.num_beams * step * memory.FLOAT32,
                                  "a generation batch's beams",
                                  ("model.generation_batch_size", "model.num_beams", "model.max_target_length"))]

    def training_examples(self, recipe: Recipe, data: Splits) -> int:
        return len(data.train) + len(data.replay_sources)

    def prepare_data(self, recipe: Recipe) -> Splits:
        splits = translation_data.prepare(recipe.data)
        splits.extra = extra_tests.load(recipe.evaluation, recipe.data)
        if recipe.data.general_replay:
            splits.replay_sources = replay.sentences(replay.count(recipe.data.general_replay, len(splits.train)),
                                                     recipe.data.seed)
        return splits

    def with_test_data(self, recipe: Recipe, data: Splits, source: str) -> Splits:
        return translation_data.with_test_data(recipe.data, data, source)

    def fit_baselines(self, recipe: Recipe, data: Splits) -> dict[str, dict]:
        return {name: {"test": fit_baseline(name, _sources(data.train), _targets(data.train))(_sources(data.test))}
                for name in recipe.evaluation.baselines}

    def build_model(self, recipe: Recipe, data: Splits) -> Model:
        cfg = recipe.model
        folder = sources.resolve(cfg.source)
        kind = model_kind(folder, cfg.trust_remote_code)
        tokenizer = load_tokenizer(folder, cfg, kind)
        network = build_model(folder, tokenizer, cfg, kind=kind, seed=recipe.seed)
        from_encoder = kind == "encoder"                      # an EncoderDecoderModel was built
        warm_started = from_encoder and cfg.pretrained
        restorer = SurfaceRestorer.fit(p.target for p in data.train) if needs_restorer(tokenizer, cfg) else None
        return Model(network=network, processing_class=tokenizer, head=_WARM_START_HEAD if from_encoder else [],
                     lr_scale=new_weights_lr_scale(cfg, warm_started=warm_started),
                     zero_shot=recipe.evaluation.zero_shot and cfg.pretrained and not from_encoder,
                     parts=TranslationParts(restorer, warm_started, untuned_shortlist(folder, kind, cfg)))

    def training_inputs(self, recipe: Recipe, data: Splits, model: Model) -> TrainingInputs:
        from transformers import DataCollatorForSeq2Seq

        tokenizer = model.processing_class
        train = data.train
        if data.replay_sources:       # the untuned model answers them now, before training changes it
            untuned = self.make_predictor(recipe, data, model, tuned=False)
            train = train + replay.replay_pairs(untuned, data.replay_sources)
        return TrainingInputs(
            train_dataset=encode_pairs(tokenizer, _sources(train), _targets(train), recipe.model),
            eval_dataset=encode_pairs(tokenizer, _sources(data.validation), _targets(data.validation), recipe.model),
            data_collator=DataCollatorForSeq2Seq(tokenizer, model=model.network, label_pad_token_id=-100),
            selection_metric="loss", selection_greater_is_better=False,   # chrF++ needs generation: too slow
            trainer_kwargs={"compute_loss_func": smoothed_loss(recipe.model.label_smoothing)
                            if recipe.model.label_smoothing else None})

    def make_predictor(self, recipe: Recipe, data: Splits, model: Model, *, tuned: bool) -> Translator:
        # the shortlist lists the words the original model used: only the untuned model decodes with it
        parts = model.parts
        return Translator(model.network, model.processing_class, recipe.model, parts.restorer,
                          warm_started=parts.warm_started, target_language=recipe.data.target_language,
                          shortlist=None if tuned else parts.shortlist)

    def outputs(self, predictor: Translator, recipe: Recipe, data: Splits) -> dict:
        return {"test": predictor.translate(_sources(data.test), progress=True),
                **{part: predictor.translate(_sources(segments)) for part, segments in data.extra.items()}}

    def report(self, recipe: Recipe, data: Splits, outputs: dict[str, dict], *, predictor: Translator,
               plots_dir: Path | None) -> Report:
        from suite.translation.ssru.firefox import MODEL_CARD_SECTION
        from suite.translation.ssru.modeling import SsruTransformer

        evaluation = translation_metrics.report(recipe.evaluation, data, outputs,
                                                free=predictor.translate_free(_sources(data.test), progress=True),
                                                split=recipe.data.split, warm_started=predictor.warm_started,
                                                untuned_share=recipe.train.untuned_share)
        if isinstance(predictor.network, SsruTransformer) and recipe.model.pretrained:
            evaluation.sections.append(MODEL_CARD_SECTION)
        return evaluation

    def load_predictor(self, folder: Path) -> Translator:
        return Translator.from_folder(folder)

    def read_inputs(self, model_dir: Path, *, inline: list[str], path: Path | None) -> Inputs:
        """Inline strings, or the strings of ``path``; a catalog must be in the model's target language."""
        if path is None:
            return Inputs.inline(inline)
        checks.check_catalog_language(Path(path), saved_target_language(model_dir))
        return translation_data.read_sources(Path(path))

    output_suffixes = (".po",)

    def write_output(self, predictor: Translator, predictions: list[dict], output: Path, *,
                     input: Path | None = None) -> str:
        """``--input app.po --output app.pt_BR.po``: the input catalog with its untranslated entries filled
        (marked fuzzy for review); no translation a person wrote is changed (see catalogs.fill_catalog).
        The command line has checked that ``input`` is a .po catalog.
        """
        done = {p["source"]: p["translation"] for p in predictions}
        counts = fill_catalog(Path(input), lambda texts: [done.get(t) or predictor.translate([t])[0] for t in texts],
                              output=Path(output))
        return (f"wrote {output}: {counts['filled']} untranslated entries filled (marked fuzzy for review), "
                f"{counts['kept']} translated entries kept as they were")


    export_formats = ("marian",)

    def export(self, run: Any, fmt: str, out_dir: Path) -> str:
        """``suite export RUN OUT --format marian``: a tuned Firefox Translations model as a folder its native
        int8 engine loads (see export.py); the run folder is not changed.

        Raises:
            ExportError: the run's model is not a Firefox Translations network.
        """
        from suite.translation.ssru.export import export_run

        return export_run(run, out_dir, sample_sources=_sources(self.prepare_data(run.recipe()).train))


def _sources(pairs) -> list[str]:
    return [p.source for p in pairs]


def _targets(pairs) -> list[str]:
    return [p.target for p in pairs]


DOMAIN = TranslationDomain()
