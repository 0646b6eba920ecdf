"""The spam report: what a mail operator asks, built from the shared classification maths.

For each system (tuned model and baselines) on the same test split:
- precision, recall, F1, accuracy at the default 0.5 decision, ROC-AUC, PR-AUC;
- the operating point: the threshold chosen on the *validation* split so that at most
  ``target_fpr`` of ham is flagged, and the recall and false-positive rate that
  threshold then gives on the test split (a false positive is a lost legitimate mail);
- the confusion matrix at that threshold and a threshold table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from suite.core.metrics import classification as cm

HEADLINE = ["f1", "precision", "recall", "roc_auc", "pr_auc", "recall_at_target_fpr", "fpr_at_target",
            "threshold"]


@dataclass
class SpamEvalConfig:
    """The recipe's ``evaluation`` section for spam."""

    target_fpr: float = field(default=0.001, metadata={
        "help": "Largest share of ham that may be flagged at the operating threshold (0.001 = 0.1%)."})
    baselines: list[str] = field(default_factory=lambda: ["tfidf-logreg", "naive-bayes"], metadata={
        "help": "Classical baselines trained on the same split: tfidf-logreg, naive-bayes."})
    threshold_table: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.5, 0.7, 0.9, 0.99], metadata={
        "help": "Thresholds listed in the report's threshold table."})

    def __post_init__(self):
        from suite.spam.baselines import BASELINES

        if not 0 <= self.target_fpr < 1:
            raise ValueError(f"target_fpr: expected a number in [0, 1), got {self.target_fpr!r}")
        for name in self.baselines:
            if name not in BASELINES:
                raise ValueError(f"baselines: unknown baseline {name!r} (known: {', '.join(BASELINES)})")
        if any(not 0 < t < 1 for t in self.threshold_table):
            raise ValueError(f"threshold_table: expected numbers in (0, 1), got {self.threshold_table!r}")


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
