"""The spam report: what a mail operator asks, built from the shared classification maths.

For each system (tuned model and baselines) on the same test split:
- precision, recall, F1, accuracy at the default 0.5 decision, ROC-AUC, PR-AUC;
- the operating point: the threshold chosen on the *validation* split so that at most
  ``target_fpr`` of ham is flagged, and the recall and false-positive rate that
  threshold then gives on the test split (a false positive is a lost legitimate mail);
- the confusion matrix at that threshold and a threshold table;
- the tuned model and the hybrid against the strongest baseline (and those named in
  ``evaluation.compare_with``), message by message: a paired bootstrap of the differences in
  F1, ROC-AUC and recall at the operating point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.core.metrics import classification as cm
from suite.core.metrics.paired import comparison_section, reference_baselines
from suite.core.registry import Report
from suite.core.results import BASELINE, HYBRID, TUNED, role_of
from suite.spam.config import SpamEvalConfig
from suite.spam.data import Splits, labels_of

CARD_NOTE = "F1 at the 0.5 decision, recall at each system's own operating threshold."

COMPARED = ("f1", "roc_auc", "recall_at_target_fpr")
"""The metrics :func:`compare` bootstraps, message by message."""
_DRAWS_PER_CHUNK = 2_000_000     # resampled messages held at once (a few arrays of this many float64)

HEADLINE = ["f1", "precision", "recall", "roc_auc", "pr_auc", "recall_at_target_fpr", "fpr_at_target",
            "threshold"]


def operating_threshold(val_labels: np.ndarray, val_scores: np.ndarray, target_fpr: float) -> float:
    """The threshold chosen on validation for ``target_fpr``; saved with the model for predict."""
    return float(cm.threshold_at_fpr(val_labels, val_scores, target_fpr))


def system_report(labels: np.ndarray, scores: np.ndarray, threshold: float, cfg: SpamEvalConfig) -> dict:
    """Test-split metrics of one system, given its validation-chosen operating threshold."""
    default = cm.binary_report(labels, scores, 0.5)
    operating = cm.binary_report(labels, scores, threshold)
    return {
        **{k: default[k] for k in ("f1", "precision", "recall", "accuracy", "roc_auc", "pr_auc")},
        "recall_at_target_fpr": operating["recall"],
        "fpr_at_target": operating["fpr"],
        "precision_at_target": operating["precision"],
        "threshold": threshold,
        "target_fpr": cfg.target_fpr,
        "confusion_at_target": operating["confusion"],
        "confusion_at_0.5": default["confusion"],
        "threshold_table": cm.threshold_table(labels, scores, cfg.threshold_table),
    }


def validation_score(labels: np.ndarray, scores: np.ndarray, *, target_fpr: float = 0.001,
                     operating_weight: float = 0.0) -> float:
    """What picks the hybrid's weights: F1 at the 0.5 decision, plus ``operating_weight`` x the recall at the
    threshold chosen on these same scores for ``target_fpr``; ties broken by PR-AUC.

    The recall term keeps away blends whose top scores saturate (naive Bayes' probabilities sit at 0 or 1): they
    can match the best F1 at 0.5 and still find almost no spam once no more than ``target_fpr`` of ham may be
    flagged.

    Example:
        >>> validation_score(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), operating_weight=0.1)
        0.5508...
    """
    report = cm.binary_report(labels, scores, 0.5)
    score = report["f1"] + 1e-3 * report["pr_auc"]
    if operating_weight:
        threshold = operating_threshold(labels, scores, target_fpr)
        score += operating_weight * float((np.asarray(scores)[np.asarray(labels) == 1] >= threshold).mean())
    return score


def trainer_metrics(eval_prediction) -> dict:
    """``compute_metrics`` for the Trainer: validation F1, ROC-AUC and PR-AUC from logits."""
    logits, labels = eval_prediction.predictions, eval_prediction.label_ids
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    report = cm.binary_report(labels, probs, 0.5)
    return {k: report[k] for k in ("f1", "precision", "recall", "roc_auc", "pr_auc")}


def threshold_section(system: str, report: dict) -> str:
    """Markdown threshold table of one system, for the model card."""
    rows = ["| threshold | precision | recall | ham FPR | F1 | flagged |", "|---|---|---|---|---|---|"]
    for r in report["threshold_table"]:
        rows.append(f"| {r['threshold']:g} | {r['precision']:.4f} | {r['recall']:.4f} | {r['fpr']:.4f} | "
                    f"{r['f1']:.4f} | {r['flagged']} |")
    c = report["confusion_at_target"]
    return "\n".join([f"## Thresholds of `{system}` (test split)", "",
                      f"Operating threshold {report['threshold']:.4f} (chosen on validation for ham FPR <= "
                      f"{report['target_fpr']:g}): {c['tp']} spam caught, {c['fn']} missed, "
                      f"{c['fp']} ham flagged, {c['tn']} ham passed.", "", *rows])


def report(cfg: SpamEvalConfig, data: Splits, outputs: dict[str, dict], *, tuned_threshold: float,
           plots_dir: Path | None, seed: int = 0) -> Report:
    """Every system's test metrics at its own operating threshold (the tuned model's is the saved one).

    Args:
        cfg: the recipe's ``evaluation`` section.
        data: the splits (validation picks the baselines' thresholds; test is reported).
        outputs: system name -> ``{"validation": P(spam), "test": P(spam)}``.
        tuned_threshold: the threshold saved with the tuned model.
        plots_dir: where the ROC and precision-recall plots go (None: no plots).
        seed: of the paired bootstrap's resampling.
    """
    val_labels, test_labels = labels_of(data.validation), labels_of(data.test)
    metrics = {}
    for system, scores in outputs.items():
        threshold = tuned_threshold if system == TUNED else \
            operating_threshold(val_labels, scores["validation"], cfg.target_fpr)
        metrics[system] = system_report(test_labels, scores["test"], threshold, cfg)
    if plots_dir is not None:
        _plots(test_labels, outputs, cfg, plots_dir)
    comparisons = against_baselines(test_labels, outputs, metrics, seed=seed, compare_with=cfg.compare_with)
    sections = [threshold_section(TUNED, metrics[TUNED])] if TUNED in metrics else []
    return Report(metrics=metrics, headline_metrics=HEADLINE, data=data.summary(), comparisons=comparisons,
                  sections=sections + ([comparison_section(comparisons, cases="test messages", note=CARD_NOTE)]
                                       if comparisons else []),
                  notes=[f"Operating thresholds are chosen on the validation split ({len(val_labels)} messages, "
                         f"{int((val_labels == 0).sum())} ham) for a ham FPR of at most {cfg.target_fpr:g}; "
                         "fpr_at_target is what that threshold gives on test."])


def _plots(test_labels: np.ndarray, outputs: dict[str, Any], cfg: SpamEvalConfig, plots_dir: Path) -> None:
    from suite.core import plots

    curves = {name: (test_labels, scores["test"]) for name, scores in outputs.items()}
    plots.roc_curves(curves, plots_dir / "roc.png", title="Spam ROC (test split)", mark_fpr=cfg.target_fpr)
    plots.pr_curves(curves, plots_dir / "precision_recall.png", title="Spam precision-recall (test)")


# -- paired comparisons, message by message ----------------------------------------------------
def against_baselines(labels: np.ndarray, outputs: dict[str, dict], metrics: dict, *, seed: int,
                      compare_with: list[str]) -> dict:
    """The tuned model and the hybrid against the baseline of the best test F1 and against each baseline of
    ``compare_with`` (see :func:`compare`); {} when the run has no baseline or neither system."""
    references = reference_baselines({system: metrics[system]["f1"] for system in metrics
                                      if role_of(system) == BASELINE}, compare_with)
    systems = [system for system in (TUNED, HYBRID) if system in outputs]
    if not references or not systems:
        return {}
    everyone = [*systems, *references]
    scores = {system: outputs[system]["test"] for system in everyone}
    thresholds = {system: metrics[system]["threshold"] for system in everyone}
    return {pair: value for against in references
            for pair, value in compare(labels, scores, thresholds, systems, against, seed=seed).items()}


def compare(labels, scores: dict[str, np.ndarray], thresholds: dict[str, float], systems: list[str], against: str,
            *, n: int = 2000, seed: int = 0) -> dict:
    """Each of ``systems`` against ``against`` on the same test messages, by a paired bootstrap.

    Each replicate draws the test messages with replacement and recomputes both systems' F1 (at 0.5),
    ROC-AUC and recall at their operating thresholds on that draw (a message drawn twice counts twice).

    Args:
        labels: 0/1 test labels; scores: system -> its test P(spam); thresholds: system -> its operating threshold.
        systems: the systems compared; against: the one they are compared with.
        n: replicates; seed: of the resampling (the same draws for every system and metric).

    Returns:
        ``{"<system> vs <against>: <metric>": {"metric", "a", "b", "difference", "difference_low",
        "difference_high", "ratio", "ratio_low", "ratio_high", "cases", "replicates"}}`` with 95% percentile
        intervals (ratio entries None where the other system's value is 0).

    Example:
        >>> compare(y, {"tuned": t, "tfidf": b}, {"tuned": 0.99, "tfidf": 0.97}, ["tuned"], "tfidf")
    """
    y = np.asarray(labels).astype(np.int64)
    values = {system: _replicates(y, np.asarray(scores[system], dtype=np.float64), thresholds[system], n, seed)
              for system in [*systems, against]}
    point = {system: _metrics(y, np.asarray(scores[system], dtype=np.float64), thresholds[system],
                              np.ones((1, y.size))) for system in [*systems, against]}
    return {f"{system} vs {against}: {metric}": {"metric": metric, **_interval(
                point[system][metric][0], point[against][metric][0], values[system][metric], values[against][metric]),
                "cases": int(y.size)}
            for system in systems for metric in COMPARED}


def _replicates(y: np.ndarray, scores: np.ndarray, threshold: float, n: int, seed: int) -> dict[str, np.ndarray]:
    """Each metric of :data:`COMPARED` on ``n`` resamples (the same draws for the same ``seed`` and size)."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _DRAWS_PER_CHUNK // y.size)
    parts = []
    for start in range(0, n, per_chunk):
        rows = min(per_chunk, n - start)
        index = rng.integers(0, y.size, size=(rows, y.size))
        counts = np.bincount((index + y.size * np.arange(rows)[:, None]).ravel(),
                             minlength=rows * y.size).reshape(rows, y.size).astype(np.float64)
        parts.append(_metrics(y, scores, threshold, counts))
    return {metric: np.concatenate([part[metric] for part in parts]) for metric in COMPARED}


def _metrics(y: np.ndarray, scores: np.ndarray, threshold: float, counts: np.ndarray) -> dict[str, np.ndarray]:
    """F1 at 0.5, ROC-AUC and recall at ``threshold`` of each row of message ``counts`` (replicates x messages)."""
    spam, ham = counts * (y == 1), counts * (y == 0)
    flagged = scores >= 0.5
    tp, fp = spam[:, flagged].sum(axis=1), ham[:, flagged].sum(axis=1)
    positives = spam.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(positives + fp > 0, 2 * tp / (tp + fp + positives), 0.0)
        recall = spam[:, scores >= threshold].sum(axis=1) / positives
        return {"f1": f1, "roc_auc": _weighted_auc(scores, spam, ham), "recall_at_target_fpr": recall}


def _weighted_auc(scores: np.ndarray, spam: np.ndarray, ham: np.ndarray) -> np.ndarray:
    """ROC-AUC of each row of weights: P(a spam scores above a ham), ties counting half (Mann-Whitney)."""
    order = np.argsort(scores, kind="stable")
    sorted_scores, spam, ham = scores[order], spam[:, order], ham[:, order]
    starts = np.searchsorted(sorted_scores, sorted_scores, side="left")     # first index of each one's tie group
    ends = np.searchsorted(sorted_scores, sorted_scores, side="right")
    below = np.concatenate([np.zeros((ham.shape[0], 1)), np.cumsum(ham, axis=1)], axis=1)
    ham_lower, ham_tied = below[:, starts], below[:, ends] - below[:, starts]
    pairs = spam.sum(axis=1) * ham.sum(axis=1)
    return (spam * (ham_lower + 0.5 * ham_tied)).sum(axis=1) / pairs


def _interval(a: float, b: float, values_a: np.ndarray, values_b: np.ndarray) -> dict:
    """The difference ``a - b`` and the ratio ``a / b`` with 95% percentile intervals over the replicates."""
    low, high = np.nanquantile(values_a - values_b, [0.025, 0.975])
    result = {"a": float(a), "b": float(b), "difference": float(a - b), "difference_low": float(low),
              "difference_high": float(high), "ratio": None, "ratio_low": None, "ratio_high": None,
              "replicates": int(values_a.size)}
    if b > 0 and (values_b > 0).all():
        ratio_low, ratio_high = np.nanquantile(values_a / values_b, [0.025, 0.975])
        result.update(ratio=float(a / b), ratio_low=float(ratio_low), ratio_high=float(ratio_high))
    return result
