"""The recommendation report: top-k ranking quality of every system on the same split.

For each system (baselines, zero-shot encoder, tuned encoder, hybrid) and each ``k`` in
``evaluation.ks``: HR@k, Recall@k, NDCG@k, MRR@k and catalogue coverage@k over the
full ranking of the catalogue, with each user's already-known positives removed (see
``suite.core.metrics.ranking``). Cold-start figures (``cold_*``) rank only the cold
items (removed from training), for the users whose test items include one; a system that cannot score an item
without training data (popularity says nothing, ALS and BPR have no factors) is
reported as such.

Protocol (documented once, used everywhere):
- validation: systems fitted on TRAIN positives; users' TRAIN items removed from the
  ranking; target: their VALIDATION items. Picks checkpoints and the hybrid weights.
- test: baselines refitted on TRAIN + VALIDATION (as the reference figures were
  measured); text models read the user's TRAIN + VALIDATION history (never trained on
  validation); every known positive but the test ones removed; target: TEST items.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from suite.core.metrics.paired import paired_bootstrap
from suite.core.metrics.ranking import per_user_metrics, ranking_report
from suite.recommendation.data import COLD, TEST, TRAIN, VALIDATION, Splits

HEADLINE = ["ndcg@10", "hr@10", "recall@10", "mrr@10", "coverage@10", "cold_ndcg@10", "cold_hr@10"]


@dataclass
class RecEvalConfig:
    """The recipe's ``evaluation`` section for recommendation."""

    ks: list[int] = field(default_factory=lambda: [5, 10, 20], metadata={"help": "Cut-offs k of every metric."})
    baselines: list[str] = field(default_factory=lambda: ["popularity", "als", "bpr"], metadata={
        "help": "Classical recommenders fitted on the same split: popularity, als, bpr."})
    zero_shot: bool = field(default=True, metadata={
        "help": "Also evaluate the encoder before tuning, to show what tuning bought."})
    zero_shot_user: Literal["mean", "history"] = field(default="mean", metadata={
        "help": "How the untuned encoder represents a user: mean (of history item embeddings) or history "
                "(the history text, as the tuned model does)."})
    hybrid_with: list[str] = field(default_factory=lambda: ["als"], metadata={
        "help": "Baselines blended with the tuned score in the hybrid (als, bpr, popularity)."})
    hybrid_weights: list[float] = field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                                                                   0.9, 1.0], metadata={
        "help": "Weights tried for each system of the hybrid (the tuned model and hybrid_with); every "
                "combination adding up to 1 is scored on validation, the best kept ([] turns the hybrid off)."})
    als_factors: int = field(default=32, metadata={"help": "ALS latent factors."})
    als_iterations: int = field(default=20, metadata={"help": "ALS iterations."})
    als_regularization: float = field(default=0.01, metadata={"help": "ALS L2 regularisation."})
    bpr_factors: int = field(default=64, metadata={"help": "BPR latent factors."})
    bpr_iterations: int = field(default=100, metadata={"help": "BPR epochs."})
    bpr_learning_rate: float = field(default=0.01, metadata={"help": "BPR learning rate."})
    bpr_regularization: float = field(default=0.01, metadata={"help": "BPR L2 regularisation."})
    encode_batch_size: int = field(default=64, metadata={"help": "Texts per batch when encoding."})

    def __post_init__(self):
        from suite.recommendation.baselines import BASELINES

        if not self.ks or any(k < 1 for k in self.ks):
            raise ValueError(f"ks: expected positive integers, got {self.ks!r}")
        if 10 not in self.ks:
            raise ValueError(f"ks: must include 10 (the primary metric is ndcg@10), got {self.ks!r}")
        for name in self.baselines:
            if name not in BASELINES:
                raise ValueError(f"baselines: unknown baseline {name!r} (known: {', '.join(BASELINES)})")
        if any(not 0 <= w <= 1 for w in self.hybrid_weights):
            raise ValueError(f"hybrid_weights: expected numbers in [0, 1], got {self.hybrid_weights!r}")
        if self.hybrid_weights:
            missing = [name for name in self.hybrid_with if name not in self.baselines]
            if not self.hybrid_with or missing:
                raise ValueError(f"hybrid_with: the hybrid blends the tuned model with baselines of this run; "
                                 f"got {self.hybrid_with!r} with baselines {self.baselines!r} (or set "
                                 "hybrid_weights: [])")
            if not weight_grid(["tuned", *self.hybrid_with], self.hybrid_weights):
                raise ValueError(f"hybrid_weights: no combination of {self.hybrid_weights!r} adds up to 1")
        for name in ("als_factors", "als_iterations", "bpr_factors", "bpr_iterations", "encode_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected a positive integer, got {getattr(self, name)!r}")


@dataclass
class Phase:
    """One evaluation: which users, what they must find, what is hidden, which parts they may read."""

    name: str
    users: np.ndarray          # rows of Splits
    targets: object            # CSR, len(users) x n_items
    exclude: object            # CSR, len(users) x n_items
    history_parts: tuple[int, ...]
    candidates: np.ndarray | None = None


def phase(splits: Splits, name: str) -> Phase | None:
    """The ``validation``, ``test`` or ``cold`` phase of ``splits`` (None if it has no user)."""
    if name == "cold":
        if splits.cold_items.size == 0:
            return None
        targets = splits.cold_targets()
        history = splits.matrix(TRAIN, VALIDATION)
        users = np.flatnonzero((np.diff(targets.indptr) > 0) & (np.diff(history.indptr) > 0))
        return Phase("cold", users, targets[users], history[users], (TRAIN, VALIDATION), splits.cold_items) \
            if users.size else None
    target_part, hidden, history_parts = (VALIDATION, (TRAIN, COLD), (TRAIN,)) if name == "validation" else \
        (TEST, (TRAIN, VALIDATION, COLD), (TRAIN, VALIDATION))
    targets, history = splits.matrix(target_part), splits.matrix(*history_parts)
    users = np.flatnonzero((np.diff(targets.indptr) > 0) & (np.diff(history.indptr) > 0))
    if users.size == 0:
        return None
    return Phase(name, users, targets[users], splits.matrix(*hidden)[users], history_parts)


def evaluate_phase(scores: np.ndarray, at: Phase, ks: list[int]) -> dict:
    """Ranking report of ``scores`` (len(at.users) x n_items) in phase ``at``."""
    return ranking_report(scores, at.targets, ks=ks, exclude=at.exclude, candidates=at.candidates)


def system_report(scores: dict, phases: dict, ks: list[int], *, scores_cold_items: bool = True) -> dict:
    """Test metrics of one system plus ``cold_*`` figures (``None`` where it cannot score cold items).

    Args:
        scores: ``{phase name: (len(users) x n_items) scores}`` of the system.
        phases: ``{phase name: Phase}``; must hold ``test``, may hold ``validation`` and ``cold``.
        ks: cut-offs.
        scores_cold_items: False for systems that need training data for an item (ALS, BPR).
    """
    report = evaluate_phase(scores["test"], phases["test"], ks)
    if "validation" in phases:
        report["validation_ndcg@10"] = evaluate_phase(scores["validation"], phases["validation"], [10])["ndcg@10"]
    if "cold" in phases:
        cold = evaluate_phase(scores["cold"], phases["cold"], ks) if scores_cold_items else None
        for k in ks:
            for name in ("ndcg", "hr", "recall"):
                report[f"cold_{name}@{k}"] = cold[f"{name}@{k}"] if cold else None
        report["cold_users"] = phases["cold"].users.size
    return report


def compare(scores: dict[str, np.ndarray], test: Phase, systems: list[str], against: str, *,
            metric: str = "ndcg@10", seed: int = 0) -> dict:
    """Each of ``systems`` against ``against`` on the test users: ``{"<system> vs <against>": paired bootstrap}``.

    Args:
        scores: test scores of every system named (len(test.users) x n_items).
        test: the test phase; metric: a per-user metric of :func:`per_user_metrics`; seed: of the resampling.

    Returns:
        For each system, :func:`suite.core.metrics.paired.paired_bootstrap` of its per-user ``metric``
        against the other's (difference and ratio of the means with 95% intervals), plus ``metric``.
    """
    k = int(metric.split("@")[1])

    def values(system: str) -> np.ndarray:
        return per_user_metrics(scores[system], test.targets, ks=[k], exclude=test.exclude,
                                candidates=test.candidates)[metric]

    reference = values(against)
    return {f"{system} vs {against}": {"metric": metric, **paired_bootstrap(values(system), reference, seed=seed)}
            for system in systems}


def comparison_section(comparisons: dict) -> str:
    """Markdown: the paired comparisons of :func:`compare`, for the model card."""
    rows = ["| comparison | metric | first | second | difference (95% CI) | ratio (95% CI) |", "|---" * 6 + "|"]
    for name, c in comparisons.items():
        ratio = "–" if c["ratio"] is None else f"{c['ratio']:.2f}x [{c['ratio_low']:.2f}, {c['ratio_high']:.2f}]"
        rows.append(f"| {name} | {c['metric']} | {c['a']:.4f} | {c['b']:.4f} | {c['difference']:+.4f} "
                    f"[{c['difference_low']:+.4f}, {c['difference_high']:+.4f}] | {ratio} |")
    some = next(iter(comparisons.values()))
    return "\n".join(["## Against the strongest baseline (paired bootstrap over test users)", "",
                      f"{some['replicates']:,} resamples of the {some['cases']} test users, each system scored on "
                      "the same users; an interval that holds 0 (or 1x) means the test split cannot tell the two "
                      "apart.", "", *rows])


def standardise(scores: np.ndarray) -> np.ndarray:
    """Row-wise z-scores, so that scores of different systems can be blended."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def blend(scores: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The hybrid score: the sum of ``weights[system]`` x ``scores[system]``, each standardised per user."""
    return _weighted_sum({system: standardise(scores[system]) for system, weight in weights.items() if weight},
                         weights)


def _weighted_sum(standardised: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum(weight * standardised[system] for system, weight in weights.items() if weight)


def weight_grid(systems: list[str], steps: list[float]) -> list[dict[str, float]]:
    """Every way to give each of ``systems`` a weight from ``steps`` so that they add up to 1."""
    return [dict(zip(systems, combination)) for combination in itertools.product(sorted(set(steps)),
                                                                                 repeat=len(systems))
            if abs(sum(combination) - 1.0) < 1e-6]


def pick_weights(scores: dict[str, np.ndarray], validation: Phase, steps: list[float]) -> tuple[dict, list]:
    """The hybrid weights with the best validation NDCG@10, and every tried ``(weights, NDCG@10)``.

    Args:
        scores: validation scores of each system to blend, the tuned model first.
        validation: the validation phase; steps: the weights tried for each system.

    Ties go to the smaller tuned weight, then to the earlier combination.
    """
    standardised = {system: standardise(values) for system, values in scores.items()}   # once, not per combination
    tried = [(weights, evaluate_phase(_weighted_sum(standardised, weights), validation, [10])["ndcg@10"])
             for weights in weight_grid(list(scores), steps)]
    first = next(iter(scores))
    best = max(range(len(tried)), key=lambda i: (tried[i][1], -tried[i][0][first], -i))
    return tried[best][0], tried


def describe(weights: dict[str, float]) -> str:
    """``0.6 x tuned + 0.4 x ALS``."""
    return " + ".join(f"{weight:g} x {_label(system)}" for system, weight in weights.items())


def _label(system: str) -> str:
    return system.upper() if system in ("als", "bpr") else system


def hybrid_section(weights: dict[str, float], tried: list, *, rows: int = 12) -> str:
    """Markdown: the validation NDCG@10 of the best tried hybrid weights, for the model card."""
    systems = list(weights)
    ranked = sorted(tried, key=lambda pair: -pair[1])[:rows]
    table = [f"| {' | '.join(_label(s) for s in systems)} | validation NDCG@10 |", "|---" * (len(systems) + 1) + "|"]
    table += [f"| {' | '.join(f'{w[s]:g}' for s in systems)} | {value:.4f}{' (chosen)' if w == weights else ''} |"
              for w, value in ranked]
    shown = f"the best {len(ranked)} of {len(tried)} combinations tried" if len(tried) > len(ranked) else \
        f"all {len(tried)} combinations tried"
    return "\n".join(["## Hybrid weights (chosen on validation, never on test)", "",
                      f"Weights of each system's per-user standardised score; {shown}.", "", *table])
