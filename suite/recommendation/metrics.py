"""The recommendation report: top-k ranking quality of every system on the same split.

For each system (baselines, zero-shot encoder, tuned model, hybrid) and each ``k`` in
``evaluation.ks``: HR@k, Recall@k, NDCG@k, MRR@k and catalogue coverage@k over the
full ranking of the catalogue, with each user's other known positives removed (see
``suite.core.metrics.ranking``), on the phases of :mod:`suite.recommendation.phases`:

- ``test`` (plain keys: ``ndcg@10``...): the next item (or the random share of ``split: random``);
- ``taste`` (``taste_*``, with ``split: next-and-taste``): random earlier positives, the whole-taste
  protocol, on the same users and the same trained models;
- ``cold`` (``cold_*``, with ``data.cold_start_items``): the test targets that are cold items,
  ranked among the cold items only; a system that cannot score an item without training data
  (ALS, BPR and EASE have no weights for it) is reported as such;
- ``validation_ndcg@10``: what picks checkpoints, the text weight and the hybrid's weights: the
  mean NDCG@10 of the validation phases (with ``next-and-taste`` also reported one by one as
  ``next_validation_ndcg@10`` and ``taste_validation_ndcg@10``).

The tuned model and the hybrid are compared with the strongest baseline of each test phase (and with
those named in ``evaluation.compare_with``) by a paired bootstrap over that phase's users;
:mod:`suite.recommendation.history` adds how quality grows with the length of a user's history.
"""

from __future__ import annotations

import numpy as np

from suite.core.metrics.paired import comparison_section, paired_bootstrap, reference_baselines
from suite.core.metrics.ranking import per_user_metrics
from suite.core.registry import Report
from suite.core.results import BASELINE, HYBRID, TUNED, baseline_system, role_of
from suite.recommendation import history
from suite.recommendation.baselines import NO_COLD_ITEMS
from suite.recommendation.config import RecEvalConfig
from suite.recommendation.data import Splits
from suite.recommendation.phases import Phase, evaluate_phase, phase_scores, phases_of
from suite.recommendation.phases import validation_ndcg as _validation_ndcg

PRIMARY = "ndcg@10"
"""The recommender's primary metric: NDCG@10 of the test users."""
HEADLINE = ["ndcg@10", "hr@10", "recall@10", "mrr@10", "coverage@10", "taste_ndcg@10", "taste_hr@10",
            "cold_ndcg@10", "cold_hr@10"]
_PREFIX = {"test": "", "taste": "taste_", "cold": "cold_"}


def system_report(outputs: dict, phases: dict[str, Phase], ks: list[int], *, scores_cold_items: bool = True) -> dict:
    """Test metrics of one system, ``taste_*`` and ``cold_*`` figures (``None`` where it cannot score cold items),
    and its validation NDCG@10 (the mean over the validation phases, and each phase's where there are two).

    Args:
        outputs: ``{part: scores}`` of the system (see ``phases.parts_of``).
        phases: ``{phase name: Phase}``; must hold ``test``.
        ks: cut-offs.
        scores_cold_items: False for systems that need training data for an item (ALS, BPR, EASE). A system that
            gives every cold item the same score for every user (a hybrid that gives the tuned model no weight)
            cannot rank them either: its ``cold_*`` figures are ``None`` too, not the index order's.
    """
    report = evaluate_phase(phase_scores(outputs, phases["test"], phases), phases["test"], ks)
    if "validation" in outputs:
        report["validation_ndcg@10"] = _validation_ndcg(outputs["validation"], phases)
    if "taste_validation" in phases:
        for name, key in (("validation", "next_validation_ndcg@10"), ("taste_validation", "taste_validation_ndcg@10")):
            report[key] = evaluate_phase(phase_scores(outputs, phases[name], phases), phases[name], [10])["ndcg@10"]
    for name in ("taste", "cold"):
        if name not in phases:
            continue
        scores = phase_scores(outputs, phases[name], phases)
        scored = name != "cold" or (scores_cold_items and _ranks(scores, phases[name].candidates))
        values = evaluate_phase(scores, phases[name], ks) if scored else None
        for k in ks:
            for metric in ("ndcg", "hr", "recall"):
                report[f"{name}_{metric}@{k}"] = values[f"{metric}@{k}"] if values else None
        report[f"{name}_users"] = phases[name].users.size
    return report


def _ranks(scores: np.ndarray, candidates: np.ndarray | None) -> bool:
    """Whether ``scores`` tell any of the ``candidates`` apart for some user (ties everywhere rank nothing)."""
    among = scores if candidates is None else scores[:, candidates]
    spread = among.max(axis=1) - among.min(axis=1)
    return bool(np.any(spread > 1e-9 * (1.0 + np.abs(among).max())))


def compare(scores: dict[str, np.ndarray], test: Phase, systems: list[str], against: str, *,
            metric: str = "ndcg@10", seed: int = 0, label: str = "") -> dict:
    """Each of ``systems`` against ``against`` on the test users: ``{"<label><system> vs <against>": paired
    bootstrap}``.

    Args:
        scores: test scores of every system named (len(test.users) x n_items).
        test: the test phase; metric: a per-user metric of :func:`per_user_metrics`; seed: of the resampling.
        label: prefix of every key (``"taste: "``).

    Returns:
        For each system, :func:`suite.core.metrics.paired.paired_bootstrap` of its per-user ``metric``
        against the other's (difference and ratio of the means with 95% intervals), plus ``metric``.
    """
    reference = _per_user(scores[against], test, metric)
    return {f"{label}{system} vs {against}": {"metric": metric, "phase": test.name,
                                              **paired_bootstrap(_per_user(scores[system], test, metric), reference,
                                                                 seed=seed)}
            for system in systems}


def per_user_values(outputs: dict, phases: dict[str, Phase], phase: str, metric: str) -> np.ndarray:
    """One system's per-user ``metric`` (``ndcg@10``) in ``phase``; their mean is the report's figure.

    Args:
        outputs: ``{part: scores}`` of the system; phases: ``{phase name: Phase}`` (``phases.phases_of``).
    """
    at = phases[phase]
    return _per_user(phase_scores(outputs, at, phases), at, metric)


def _per_user(scores: np.ndarray, at: Phase, metric: str) -> np.ndarray:
    return per_user_metrics(scores, at.targets, ks=[int(metric.split("@")[1])], exclude=at.exclude,
                            candidates=at.candidates)[metric]




def report(cfg: RecEvalConfig, data: Splits, outputs: dict[str, dict], *, seed: int, predictor=None) -> Report:
    """Every system's ranking metrics (the hybrid's too, where the pipeline made one), the paired comparisons,
    and quality by history length.

    Args:
        cfg: the recipe's ``evaluation`` section.
        data: the split; outputs: system name -> ``{part: scores}`` (users of the part x items).
        seed: of the paired bootstrap's resampling.
        predictor: the tuned recommender, to score users with shortened histories (None: not measured).
    """
    phases = phases_of(data)
    metrics = {system: system_report(by_part, phases, cfg.ks, scores_cold_items=system not in _NO_COLD_START)
               for system, by_part in outputs.items()}
    if getattr(predictor, "ids", None) is not None and TUNED in metrics:
        metrics[TUNED].update(predictor.weighting.as_metrics())
    comparisons = {}
    for name in ("test", "taste", "cold"):
        if name in phases:
            comparisons.update(_comparisons(outputs, metrics, phases, name, seed, cfg.compare_with))
    by_length = history.by_history_length(data, phases, outputs)
    newest = history.shortened_histories(predictor, data, phases, cfg) if predictor is not None else None
    headline = [m for m in HEADLINE if m.split("_")[0] not in ("taste", "cold") or m.split("_")[0] in phases]
    sections = [history.section(by_length, newest)]
    if comparisons:
        sections.insert(0, comparison_section(comparisons, cases="test users",
                                              note="each phase (taste, cold) resamples its own users."))
    summary = {**data.summary(), "by_history_length": by_length, **({"shortened_history": newest} if newest else {})}
    return Report(metrics=metrics, headline_metrics=headline, data=summary, notes=_notes(data, phases, predictor),
                  sections=sections, comparisons=comparisons)


_NO_COLD_START = {baseline_system(name) for name in NO_COLD_ITEMS}


def validation_ndcg(data: Splits, scores) -> float:
    """The ``validation`` part's mean NDCG@10 over the validation phases: what picks checkpoints and the
    hybrid's weights."""
    return _validation_ndcg(scores, phases_of(data))


def _notes(data: Splits, phases: dict, predictor=None) -> list[str]:
    notes = ["Full ranking of the catalogue with each user's other known positives removed; baselines are "
             "fitted on train + validation parts for the test phases, on train alone for validation (checkpoints, "
             "hybrid weights)."]
    if "taste" in phases:
        notes.append(f"Two protocols in one run: the next item (each user's last positive; plain keys) and the "
                     f"whole taste (taste_*: {data.summary()['taste_test']} random earlier positives of "
                     f"{phases['taste'].users.size} users), neither trained on.")
    if phases.get("cold") is not None:
        notes.append(f"Cold start: {data.cold_items.size} items removed from training; cold_* rank only them "
                     f"for the {phases['cold'].users.size} users whose test items include one. ALS, BPR and "
                     "EASE have no weights for such items (reported as –); popularity ranks them in index order.")
    if getattr(predictor, "ids", None) is not None:
        notes.append(f"Tuned score: text weight {predictor.weighting.describe()} x the text score, plus the ID "
                     "score; chosen on validation.")
    return notes


def _comparisons(outputs: dict, metrics: dict, phases: dict[str, Phase], name: str, seed: int,
                 compare_with: list[str]) -> dict:
    """The tuned model and the hybrid against the baseline with the best NDCG@10 in phase ``name`` and against
    each baseline of ``compare_with`` (among those that can score it; none: no comparison)."""
    key = f"{_PREFIX[name]}ndcg@10"
    references = reference_baselines({system: metrics[system].get(key) for system in metrics
                                      if role_of(system) == BASELINE}, compare_with)
    systems = [system for system in (TUNED, HYBRID) if system in outputs and metrics[system].get(key) is not None]
    if not references or not systems:
        return {}
    at = phases[name]
    scores = {system: phase_scores(outputs[system], at, phases) for system in [*systems, *references]}
    label = f"{name}: " if name != "test" else ""
    return {pair: value for against in references
            for pair, value in compare(scores, at, systems, against, metric="ndcg@10", seed=seed, label=label).items()}
