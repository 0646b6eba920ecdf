"""The recommendation domain's hooks (see :class:`suite.core.registry.Domain`): what differs from the shared run.

Every system is judged on the same users x items split by the same ranking code
(``suite.core.metrics.ranking``): full ranking of the catalogue, known items removed,
NDCG@10 first, on the phases of :mod:`suite.recommendation.phases` (``validation``, ``test``;
with ``split: next-and-taste`` also ``taste_validation`` and ``taste``; with cold-start items
``cold``). A system's outputs are two score matrices, users x catalogue items: ``validation``
(every user of a validation phase) and ``test`` (every user of a test phase).

The tuned model is a :class:`~suite.recommendation.towers.TwoTower` module that returns its loss,
trained by the plain transformers ``Trainer``; its evaluation-mode output (users x catalogue
scores) lets the Trainer's own evaluation loop pick checkpoints on validation NDCG@10.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.core import memory, sources
from suite.core.errors import DataError
from suite.core.inputs import Inputs
from suite.core.predict_options import PredictOption
from suite.core.registry import Model, Report, TrainingInputs
from suite.core.text_encoder import MINILM
from suite.recommendation import data as rec_data
from suite.recommendation import metrics as rec_metrics
from suite.recommendation import onnx_model
from suite.recommendation.baselines import EASE_MAX_ITEMS, BaselineParams, fit_baseline
from suite.recommendation.config import RecDataConfig, RecEvalConfig, RecModelConfig
from suite.recommendation.data import MOVIELENS, Splits
from suite.recommendation.model import Recommender, build_network
from suite.recommendation.pairs import Collator, training_examples, validation_inputs
from suite.recommendation.phases import parts_of, phase, phases_of
from suite.recommendation.towers import ID_MODULES, tokenizer

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

class RecommendationDomain:
    """Recommendation: a sentence encoder and learned item embeddings tuned on user-item interactions, ranking the
    whole catalogue."""

    name = "recommendation"
    description = ("Sentence encoder + item embeddings tuned on user-item interactions; NDCG@10 (next item and "
                   "whole taste) against popularity, ALS, BPR and EASE.")
    primary_metric = rec_metrics.PRIMARY
    greater_is_better = True
    example_unit = "users"
    serving_module = "suite.recommendation.serving"     # suite serve
    bundled_models = {"minilm": MINILM}
    data_config = RecDataConfig
    model_config = RecModelConfig
    eval_config = RecEvalConfig
    datasets = (MOVIELENS,)      # what `suite data pull NAME` fetches
    predict_options = (
        PredictOption("--user", "recommend for this user of the training data (repeatable)", input_prefix="user:",
                      metavar="ID"),
        PredictOption("--k", "items per input (default 10)", keyword="k", kind="integer", bounds=(1, 10_000),
                      metavar="K"))

    def pull(self, name: str, *, force: bool = False) -> Path:
        """Fetch data set ``name`` into the user cache (see ``movielens.pull``) and return its folder."""
        return rec_data.pull(name, force=force)

    def check_source(self, recipe: Recipe, path: Path) -> None:
        sources.check_transformers_folder(path, source=recipe.model.source)

    def memory_needs(self, recipe: Recipe) -> list[memory.MemoryNeed]:
        length, data = recipe.model.max_length, recipe.data
        return [memory.MemoryNeed(memory.transformer_batch(2 * recipe.train.batch_size, length),
                                  "a training batch (histories and items)", ("train.batch_size", "model.max_length")),
                memory.MemoryNeed(memory.transformer_batch(recipe.evaluation.encode_batch_size, length) / 2,
                                  "an encoding batch", ("evaluation.encode_batch_size", "model.max_length")),
                memory.MemoryNeed(float(data.synthetic_users) * data.synthetic_items * 8 * 4,
                                  "the generated user x item matrices",
                                  ("data.synthetic_users", "data.synthetic_items"))]

    def prepare_data(self, recipe: Recipe) -> Splits:
        splits = rec_data.load_splits(recipe.data)
        if phase(splits, "validation") is None:
            raise DataError(f"data.source '{recipe.data.source}': no user has enough positives for a validation "
                            "item (needed to pick checkpoints and the hybrid weights)")
        if "ease" in recipe.evaluation.baselines and splits.n_items > EASE_MAX_ITEMS:
            raise DataError(f"evaluation.baselines: ease holds an items x items matrix, and {splits.n_items:,} items "
                            f"is more than it allows ({EASE_MAX_ITEMS:,}); remove 'ease' from evaluation.baselines")
        return splits

    def with_test_data(self, recipe: Recipe, data: Splits, source: str) -> Splits:
        return rec_data.with_test_data(recipe.data, data, source)

    def fit_baselines(self, recipe: Recipe, data: Splits) -> dict[str, dict]:
        """Each baseline fitted on what each part's users read (TRAIN for validation, TRAIN + the validation
        parts for test), scoring that part's users."""
        ev = recipe.evaluation
        params = {"popularity": None,
                  "als": BaselineParams(ev.als_factors, ev.als_iterations, ev.als_regularization),
                  "bpr": BaselineParams(ev.bpr_factors, ev.bpr_iterations, ev.bpr_regularization,
                                        ev.bpr_learning_rate),
                  "ease": BaselineParams(regularization=ev.ease_regularization)}
        parts = parts_of(phases_of(data))
        return {name: {part: fit_baseline(name, train=data.matrix(*history), params=params[name],
                                          seed=recipe.seed)(users) for part, (history, users) in parts.items()}
                for name in ev.baselines}

    def build_model(self, recipe: Recipe, data: Splits) -> Model:
        network = build_network(recipe.model, data, batch_size=recipe.evaluation.encode_batch_size)
        faster = recipe.model.id_learning_rate_scale
        return Model(network=network, zero_shot=recipe.evaluation.zero_shot,
                     head=list(ID_MODULES) if recipe.model.id_dim else [],
                     lr_scale=lambda name: faster if name.split(".")[0] in ID_MODULES else 1.0)

    def training_inputs(self, recipe: Recipe, data: Splits, model: Model) -> TrainingInputs:
        rows, compute_metrics = validation_inputs(data, recipe.model)
        return TrainingInputs(
            train_dataset=training_examples(data, recipe.model, recipe.seed), eval_dataset=rows,
            data_collator=Collator(tokenizer(model.network.encoder)), compute_metrics=compute_metrics,
            arguments={"remove_unused_columns": False, "label_names": ["row"]})   # evaluation rows: scores by row

    def make_predictor(self, recipe: Recipe, data: Splits, model: Model, *, tuned: bool) -> Recommender:
        mode = "history" if tuned else recipe.evaluation.zero_shot_user
        batch_size = recipe.evaluation.encode_batch_size
        predictor = Recommender.build(model.network, data, recipe.model, batch_size=batch_size, user_mode=mode,
                                      use_ids=tuned)
        if predictor.ids is not None:
            predictor.calibrate(data, recipe.model.text_weights, recipe.model.text_weight_halves_at,
                                batch_size=batch_size)
        return predictor

    def outputs(self, predictor: Recommender, recipe: Recipe, data: Splits) -> dict:
        return predictor.part_scores(data, parts_of(phases_of(data)), batch_size=recipe.evaluation.encode_batch_size)

    def report(self, recipe: Recipe, data: Splits, outputs: dict[str, dict], *, predictor: Recommender,
               plots_dir: Path | None) -> Report:
        return rec_metrics.report(recipe.evaluation, data, outputs, seed=recipe.seed, predictor=predictor)

    blend_space = "zscore"       # ranking scores: standardised per user before they are added

    def hybrid_settings(self, recipe: Recipe) -> tuple[list[str], list[float]]:
        return recipe.evaluation.hybrid_with, recipe.evaluation.hybrid_weights

    def validation_score(self, recipe: Recipe, data: Splits, scores: Any) -> float:
        return rec_metrics.validation_ndcg(data, scores)

    def load_predictor(self, folder: Path) -> Recommender:
        return Recommender.from_folder(folder)

    def onnx_graph(self, predictor: Recommender, recipe: Recipe, data: Splits) -> Any:
        return onnx_model.graph(predictor)

    def load_onnx_predictor(self, folder: Path, session: Any) -> Recommender:
        return onnx_model.load(folder, session)

    def read_inputs(self, model_dir: Path, *, inline: list[str], path: Path | None) -> Inputs:
        """Inputs (``user:<id>``, ``items:<id>|...``): inline, or read from a file; each with its id."""
        return Inputs.inline(inline) if path is None else rec_data.read_prediction_inputs(Path(path))

DOMAIN = RecommendationDomain()
