"""The recommendation recipe's own sections: ``data``, ``model`` and ``evaluation`` (dataclasses with help text).

The model section is saved with every model (``model/suite.json``) and rebuilt from it by the
same round trip (:func:`suite.core.config.save_settings` / ``load_settings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from suite.core.blend import check_settings
from suite.core.config import SEED_BOUNDS, between
from suite.core.metrics.paired import check_compare_with
from suite.core.recipe import ModelConfig
from suite.recommendation.baselines import BASELINES
from suite.recommendation.movielens import MOVIELENS

SYNTHETIC = "synthetic"


@dataclass
class RecDataConfig:
    """The recipe's ``data`` section for recommendation."""

    source: str = field(default=MOVIELENS, metadata={
        "help": "movielens-100k (fetched on first use), synthetic (generated), or an interactions "
                ".csv/.tsv/.jsonl file (then data.items names the items table)."})
    items: str | None = field(default=None, metadata={
        "help": "Items table (.csv/.tsv/.jsonl) with data.item_id_column and data.text_columns."})
    user_column: str = field(default="user", metadata={"help": "Interactions column holding the user id."})
    item_column: str = field(default="item", metadata={"help": "Interactions column holding the item id."})
    rating_column: str | None = field(default="rating", metadata={
        "help": "Interactions column holding the rating (null: every interaction is a positive)."})
    timestamp_column: str | None = field(default="timestamp", metadata={
        "help": "Interactions column holding the time (numbers or ISO dates; null: file order is time order)."})
    item_id_column: str = field(default="item", metadata={"help": "Items-table column holding the item id."})
    text_columns: list[str] = field(default_factory=lambda: ["title"], metadata={
        "help": "Items-table columns joined (with '. ') into the item text that is embedded."})
    positive_threshold: float | None = field(default=4.0, metadata={"bounds": between(-10 ** 9, 10 ** 9),
        "help": "Ratings at or above this are positives; lower ones are dropped (null: all are positives)."})
    split: Literal["leave-last-out", "leave-k-out", "random", "next-and-taste"] = field(
        default="leave-last-out", metadata={
            "help": "leave-last-out: each user's last positive is the test item, the one before it validation; "
                    "leave-k-out: the last `holdout` positives, and the `holdout` before them; random: shares; "
                    "next-and-taste: leave-last-out plus random shares of the earlier positives as a second "
                    "('taste') test and validation, so that one run measures both protocols."})
    holdout: int = field(default=1, metadata={
        "bounds": between(1, 1000), "help": "Positives per user held out (leave-k-out)."})
    test_size: float = field(default=0.2, metadata={"bounds": between(0, 0.5, low_open=True, high_open=True),
        "help": "Share of each user's positives for test (random), or of the earlier positives for the "
                "taste test (next-and-taste)."})
    validation_size: float = field(default=0.1, metadata={"bounds": between(0, 0.5, low_open=True, high_open=True),
        "help": "Share of each user's positives for validation (random), or of the earlier positives for the "
                "taste validation (next-and-taste)."})
    cold_start_items: float = field(default=0.0, metadata={"bounds": between(0, 0.5, high_open=True),
        "help": "Share of catalogue items removed from training entirely, to measure cold start (0: off)."})
    max_train_per_user: int | None = field(default=None, metadata={"bounds": between(1, 10 ** 9),
        "help": "Each user keeps at most this many training positives, the most recent (null: all); the held-out "
                "ones stay as they are. The recommendation axis of label-budget curves (suite bench --plan budget)."})
    catalogue: Literal["positives", "all"] = field(default="positives", metadata={
        "help": "Items ranked: those with at least one positive, or every item of the items table."})
    synthetic_users: int = field(default=160, metadata={
        "bounds": between(20, 10 ** 6), "help": "Users of the generated set (synthetic)."})
    synthetic_items: int = field(default=240, metadata={
        "bounds": between(20, 10 ** 6), "help": "Items of the generated set (synthetic)."})
    seed: int = field(default=0, metadata={
        "bounds": SEED_BOUNDS, "help": "Seed of random splits, cold items and generated data."})

    def __post_init__(self):
        if not self.text_columns:
            raise ValueError("text_columns: expected at least one column name")


@dataclass
class RecModelConfig(ModelConfig):
    """The recipe's ``model`` section for recommendation."""

    source: str = field(default="bundled:minilm", metadata={
        "help": "A bundled name (bundled:minilm), a local folder or file, or a Hugging Face hub id."})
    max_length: int = field(default=128, metadata={
        "bounds": between(8, 8192), "help": "Tokens kept per history or item text."})
    history_items: int = field(default=5, metadata={"bounds": between(1, 1000),
        "help": "Most recent items (newest first) that make a user's history text."})
    max_pairs_per_user: int | None = field(default=8, metadata={"bounds": between(1, 10 ** 6),
        "help": "Training examples sampled per user, next-item and taste together (null: every next-item step)."})
    taste_pairs: float = field(default=0.0, metadata={"bounds": between(0, 1),
        "help": "Share of each user's examples drawn from the whole history (a random subset of their items -> "
                "another of them) instead of (history -> next item)."})
    bag_keep: float = field(default=0.5, metadata={"bounds": between(0, 1, low_open=True, high_open=True),
        "help": "Taste examples and ID splits: chance that each of the user's items stays in the history; the rest "
                "are targets."})
    id_dim: int = field(default=0, metadata={"bounds": between(0, 4096),
        "help": "Width of the learned item embeddings beside the text (0: text only). Items with no training "
                "positive have none and score by their text."})
    id_draws: int = field(default=4, metadata={"bounds": between(1, 1000),
        "help": "Random bag/target splits of each batch user's training items per step for the ID part's "
                "whole-catalogue softmax (cheap: no text is encoded for them)."})
    id_learning_rate_scale: float = field(default=100.0, metadata={"bounds": between(0, 10 ** 6, low_open=True),
        "help": "The ID embeddings learn at this multiple of train.learning_rate (new weights, sparse updates)."})
    text_weights: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0,
                                                               4.0, 6.0], metadata={
        "bounds": between(0, 10 ** 6, low_open=True, max_items=100),
        "help": "Weights (> 0: text must still rank cold items) of the text score against the ID score that are "
                "tried on validation; checkpoints and the saved model use the best. Unused with id_dim 0."})
    text_weight_halves_at: list[float | None] = field(default_factory=lambda: [None, 3.0, 5.0, 10.0, 20.0], metadata={
        "bounds": between(0, 10 ** 6, low_open=True, max_items=100),
        "help": "Tried on validation with each of text_weights: a user's text weight is text_weight x h / (h + n) "
                "for n history items (half at h items: text leads for new users, IDs for known ones); null: the "
                "same weight for every user."})
    loss: Literal["logq-mnrl", "mnrl"] = field(default="logq-mnrl", metadata={
        "help": "logq-mnrl: in-batch negatives with the popularity (sampling-bias) correction; mnrl: without it."})
    loss_scale: float = field(default=20.0, metadata={"bounds": between(0, 10 ** 4, low_open=True),
        "help": "Inverse temperature of the in-batch softmax (the multiplier of the text cosine in every score)."})

    def __post_init__(self):
        if not self.text_weights:
            raise ValueError("text_weights: expected at least one weight")
        if not self.text_weight_halves_at:
            raise ValueError("text_weight_halves_at: expected at least one value (null: the same weight for all)")


@dataclass
class RecEvalConfig:
    """The recipe's ``evaluation`` section for recommendation."""

    ks: list[int] = field(default_factory=lambda: [5, 10, 20], metadata={
        "bounds": between(1, 10_000, max_items=20), "help": "Cut-offs k of every metric."})
    baselines: list[str] = field(default_factory=lambda: ["popularity", "als", "bpr", "ease"], metadata={
        "help": "Classical recommenders fitted on the same split: popularity, als, bpr, ease (closed-form item-item; "
                "catalogues of at most 20,000 items)."})
    zero_shot: bool = field(default=True, metadata={
        "help": "Also evaluate the encoder before tuning, to show what tuning bought."})
    zero_shot_user: Literal["mean", "history"] = field(default="mean", metadata={
        "help": "How the untuned encoder represents a user: mean (of history item embeddings) or history "
                "(the history text, as the tuned model does)."})
    hybrid_with: list[str] = field(default_factory=lambda: ["als"], metadata={
        "help": "Baselines blended with the tuned score in the hybrid (als, bpr, ease, popularity)."})
    hybrid_weights: list[float] = field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                                                                   0.9, 1.0], metadata={
                                                                       "bounds": between(0, 1, max_items=101),
        "help": "Weights tried for each system of the hybrid (the tuned model and hybrid_with); every "
                "combination adding up to 1 is scored on validation, the best kept ([] turns the hybrid off)."})
    compare_with: list[str] = field(default_factory=list, metadata={
        "help": "Baselines the tuned model and the hybrid are also compared with by the paired bootstrap (the "
                "strongest baseline of each phase always is), e.g. [als]."})
    als_factors: int = field(default=32, metadata={"bounds": between(1, 4096), "help": "ALS latent factors."})
    als_iterations: int = field(default=20, metadata={"bounds": between(1, 10_000), "help": "ALS iterations."})
    als_regularization: float = field(default=0.01, metadata={
        "bounds": between(0, 10 ** 6), "help": "ALS L2 regularisation."})
    bpr_factors: int = field(default=64, metadata={"bounds": between(1, 4096), "help": "BPR latent factors."})
    bpr_iterations: int = field(default=100, metadata={"bounds": between(1, 100_000), "help": "BPR epochs."})
    bpr_learning_rate: float = field(default=0.01, metadata={
        "bounds": between(0, 10, low_open=True), "help": "BPR learning rate."})
    bpr_regularization: float = field(default=0.01, metadata={
        "bounds": between(0, 10 ** 6), "help": "BPR L2 regularisation."})
    ease_regularization: float = field(default=300.0, metadata={"bounds": between(0, 10 ** 9, low_open=True),
        "help": "EASE's L2 penalty lambda (300: the best of 100, 300, 1,000 on MovieLens-100K's validation users)."})
    encode_batch_size: int = field(default=64, metadata={
        "bounds": between(1, 65_536), "help": "Texts per batch when encoding."})
    shortened_histories: list[int] = field(default_factory=lambda: [1, 2, 3, 5, 10, 20], metadata={
        "bounds": between(1, 10_000, max_items=50),
        "help": "History lengths n at which the tuned model scores the test users again from their newest n items "
                "only, against popularity (how much history a new user needs; [] skips it)."})

    def __post_init__(self):
        if 10 not in self.ks:
            raise ValueError(f"ks: must include 10 (the primary metric is ndcg@10), got {self.ks!r}")
        for name in self.baselines:
            if name not in BASELINES:
                raise ValueError(f"baselines: unknown baseline {name!r} (known: {', '.join(BASELINES)})")
        check_settings(self.hybrid_with, self.hybrid_weights, self.baselines)
        check_compare_with(self.compare_with, self.baselines)
