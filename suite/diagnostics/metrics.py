"""The diagnostics report: what a clinician asks, built from the shared classification maths.

For each system (tuned network and baselines) on the same test split:
- binary: AUROC with a stratified bootstrap 95% interval; sensitivity at the target
  specificity and specificity at the target sensitivity (read off the test ROC); at the
  operating threshold chosen on the *validation* split (for the target specificity by
  default): sensitivity, specificity, PPV, NPV, balanced accuracy and the confusion
  counts; expected calibration error of P(disease);
- multi-class: one-vs-rest AUROC per class and their macro mean, accuracy, balanced
  accuracy, top-label ECE;
- multi-label: AUROC per label and their macro mean (labels with both classes on test),
  with one validation-chosen threshold per label.
Saliency (Grad-CAM) is in ``saliency.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.core.metrics import classification as cm
from suite.core.registry import Report
from suite.core.results import TUNED
from suite.diagnostics.config import DiagnosticsEvalConfig

HEADLINE = ["auroc", "auroc_ci_low", "auroc_ci_high", "sensitivity_at_specificity", "sensitivity", "specificity",
            "ppv", "npv", "balanced_accuracy", "ece"]
HEADLINE_MULTI = ["auroc", "auroc_ci_low", "auroc_ci_high", "accuracy", "balanced_accuracy", "ece"]


# -- thresholds ----------------------------------------------------------------------------------
def operating_threshold(task: str, labels: np.ndarray, probs: np.ndarray, cfg: DiagnosticsEvalConfig):
    """Threshold(s) chosen on validation: a float (binary), one per label (multi-label), None (multi-class: argmax)."""
    if task == "multiclass":
        return None
    if task == "multilabel":
        return [_binary_threshold(labels[:, k], probs[:, k], cfg) if 0 < labels[:, k].sum() < len(labels) else 0.5
                for k in range(labels.shape[1])]
    return _binary_threshold(labels, probs, cfg)


def _binary_threshold(labels: np.ndarray, probs: np.ndarray, cfg: DiagnosticsEvalConfig) -> float:
    if cfg.operating_point == "sensitivity":
        return float(cm.threshold_at_sensitivity(labels, probs, cfg.target_sensitivity))
    return float(cm.threshold_at_fpr(labels, probs, 1.0 - cfg.target_specificity))


# -- reports --------------------------------------------------------------------------------------
def system_report(task: str, labels: np.ndarray, probs: np.ndarray, threshold: Any, cfg: DiagnosticsEvalConfig,
                  class_names: list[str], *, seed: int = 0) -> dict:
    """Test-split metrics of one system, given its validation-chosen threshold(s).

    Args:
        task: ``binary``, ``multiclass`` or ``multilabel``.
        labels: N (binary, multi-class) or N x K 0/1 (multi-label).
        probs: P(disease) (N), class probabilities (N x C) or label probabilities (N x K).
        threshold: from :func:`operating_threshold`.
        cfg: the recipe's evaluation section.
        class_names: names of the classes or labels, in index order.
        seed: seed of the bootstrap.

    Raises:
        ValueError: one class only on the test split, or malformed inputs.
    """
    if task == "binary":
        return binary_report(labels, probs, threshold, cfg, seed=seed)
    if task == "multiclass":
        return multiclass_report(labels, probs, class_names, cfg, seed=seed)
    return multilabel_report(labels, probs, threshold, class_names, cfg, seed=seed)


def binary_report(labels: np.ndarray, probs: np.ndarray, threshold: float, cfg: DiagnosticsEvalConfig, *,
                  seed: int = 0) -> dict:
    """AUROC (+ bootstrap CI), the two fixed-rate read-outs, and the operating point's clinical figures."""
    at = cm.binary_report(labels, probs, threshold)
    sens_at_spec, _ = cm.sensitivity_at_specificity(labels, probs, cfg.target_specificity)
    spec_at_sens, _ = cm.specificity_at_sensitivity(labels, probs, cfg.target_sensitivity)
    low, high = cm.bootstrap_ci(labels, probs, n=cfg.bootstrap, seed=seed) if cfg.bootstrap else (None, None)
    return {
        "auroc": at["roc_auc"], "auroc_ci_low": low, "auroc_ci_high": high, "pr_auc": at["pr_auc"],
        "sensitivity_at_specificity": sens_at_spec, "specificity_at_sensitivity": spec_at_sens,
        "sensitivity": at["recall"], "specificity": at["specificity"], "ppv": at["ppv"], "npv": at["npv"],
        "balanced_accuracy": at["balanced_accuracy"], "accuracy": at["accuracy"],
        "ece": cm.expected_calibration_error(labels, np.clip(probs, 0, 1), cfg.ece_bins),
        "threshold": float(threshold), "operating_point": cfg.operating_point,
        "target_specificity": cfg.target_specificity,
        "target_sensitivity": cfg.target_sensitivity, "confusion": at["confusion"],
        "n": at["n"], "n_positive": at["n_positive"],
    }


def multiclass_report(labels: np.ndarray, probs: np.ndarray, class_names: list[str],
                      cfg: DiagnosticsEvalConfig, *, seed: int = 0) -> dict:
    """One-vs-rest AUROC per class and macro (with a bootstrap 95% interval); accuracy, balanced accuracy and
    top-label ECE of the argmax."""
    from sklearn.metrics import balanced_accuracy_score

    labels = np.asarray(labels, dtype=np.int64)
    per_class = {name: cm.roc_auc((labels == k).astype(int), probs[:, k])      # one-vs-rest
                 for k, name in enumerate(class_names) if 0 < (labels == k).sum() < len(labels)}
    predicted = probs.argmax(axis=1)
    correct = (predicted == labels).astype(int)
    low, high = macro_auroc_ci("multiclass", labels, probs, n=cfg.bootstrap, seed=seed) if cfg.bootstrap \
        else (None, None)
    return {"auroc": float(np.mean(list(per_class.values()))),                   # macro, as sklearn's "ovr"
            "auroc_ci_low": low, "auroc_ci_high": high,
            "auroc_per_class": per_class, "accuracy": float(correct.mean()),
            "balanced_accuracy": float(balanced_accuracy_score(labels, predicted)),
            "ece": cm.expected_calibration_error(correct, probs.max(axis=1), cfg.ece_bins), "n": int(len(labels))}


def multilabel_report(labels: np.ndarray, probs: np.ndarray, thresholds: list[float], class_names: list[str],
                      cfg: DiagnosticsEvalConfig, *, seed: int = 0) -> dict:
    """AUROC per label (labels with both classes on test) and macro, each with a bootstrap 95% interval;
    sensitivity/specificity per label."""
    per_label, intervals, sens, spec = {}, {}, {}, {}
    for k, name in enumerate(class_names):
        y = labels[:, k].astype(int)
        if 0 < y.sum() < len(y):
            report = cm.binary_report(y, probs[:, k], thresholds[k])
            per_label[name], sens[name], spec[name] = report["roc_auc"], report["recall"], report["specificity"]
            if cfg.bootstrap:
                intervals[name] = list(cm.bootstrap_ci(y, probs[:, k], n=cfg.bootstrap, seed=seed))
    flagged = probs >= np.asarray(thresholds)[None, :]
    low, high = macro_auroc_ci("multilabel", labels, probs, n=cfg.bootstrap, seed=seed) if cfg.bootstrap \
        else (None, None)
    return {"auroc": float(np.mean(list(per_label.values()))), "auroc_ci_low": low, "auroc_ci_high": high,
            "auroc_per_label": per_label, "auroc_ci_per_label": intervals,
            "sensitivity_per_label": sens, "specificity_per_label": spec,
            "accuracy": float((flagged == labels.astype(bool)).mean()),
            "balanced_accuracy": float(np.mean([(sens[n] + spec[n]) / 2 for n in sens])),
            "ece": cm.expected_calibration_error(labels.ravel().astype(int), probs.ravel(), cfg.ece_bins),
            "thresholds": list(map(float, thresholds)), "n": int(len(labels))}


def macro_auroc(task: str, labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean one-vs-rest AUROC over the classes (multi-class) or labels (multi-label) with both outcomes present."""
    columns = range(probs.shape[1])
    truth = [(labels == k) if task == "multiclass" else labels[:, k] for k in columns]
    values = [cm.roc_auc(y.astype(int), probs[:, k]) for k, y in zip(columns, truth) if 0 < y.sum() < len(y)]
    return float(np.mean(values)) if values else float("nan")


def macro_auroc_ci(task: str, labels: np.ndarray, probs: np.ndarray, *, n: int, seed: int = 0,
                   alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`macro_auroc`, resampling whole images with replacement.

    Multi-class resampling is stratified (each class drawn at its own count), so every
    replicate scores every class; multi-label images are drawn as a whole, and a label
    that happens to lack positives or negatives in a replicate is left out of its mean.

    Args:
        task: ``multiclass`` (labels: N class indices) or ``multilabel`` (labels: N x K 0/1).
        labels, probs: as for :func:`system_report`.
        n: replicates; seed: of the resampling; alpha: 0.05 gives a 95% interval.

    Raises:
        ValueError: ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"macro_auroc_ci: expected n >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == k) for k in np.unique(labels)] if task == "multiclass" \
        else [np.arange(len(labels))]
    values = []
    for _ in range(n):
        index = np.concatenate([rng.choice(group, group.size) for group in groups])
        values.append(macro_auroc(task, labels[index], probs[index]))
    low, high = np.nanquantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def trainer_metrics(task: str):
    """``compute_metrics`` for the Trainer: validation AUROC (the primary metric) from logits."""
    def compute(eval_prediction) -> dict:
        labels = np.asarray(eval_prediction.label_ids)
        probs = logits_to_probabilities(np.asarray(eval_prediction.predictions, dtype=np.float64), task)
        return {"auroc": quick_auroc(task, labels, probs)}

    return compute


def logits_to_probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    """P(disease) (binary: softmax's second column), class probabilities (softmax) or label probabilities (sigmoid)."""
    if task == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    return probs[:, 1] if task == "binary" else probs


def quick_auroc(task: str, labels: np.ndarray, probs: np.ndarray) -> float:
    """AUROC: binary, macro one-vs-rest (multi-class) or macro per label (multi-label)."""
    if task == "binary":
        return cm.roc_auc(labels, probs)
    if task == "multiclass":
        labels = labels.astype(np.int64)
        return float(np.mean([cm.roc_auc((labels == k).astype(int), probs[:, k]) for k in range(probs.shape[1])
                              if 0 < (labels == k).sum() < len(labels)]))
    return float(np.mean([cm.roc_auc(labels[:, k].astype(int), probs[:, k]) for k in range(labels.shape[1])
                          if 0 < labels[:, k].sum() < len(labels)]))


# -- predictions ------------------------------------------------------------------------------------
def decisions(probs: np.ndarray, settings: dict, names: list[str]) -> list[dict]:
    """What ``predict`` returns per image, from probabilities and the saved threshold(s)."""
    task, classes, threshold = settings["task"], settings["class_names"], settings["threshold"]
    out = []
    for name, p in zip(names, probs):
        if task == "binary":
            out.append({"image": name, "probability": round(float(p), 6),
                        "label": classes[1] if p >= threshold else classes[0], "threshold": threshold})
        elif task == "multiclass":
            out.append({"image": name, "probabilities": {c: round(float(q), 6) for c, q in zip(classes, p)},
                        "label": classes[int(np.argmax(p))]})
        else:
            out.append({"image": name, "probabilities": {c: round(float(q), 6) for c, q in zip(classes, p)},
                        "labels": [c for c, q, t in zip(classes, p, threshold) if q >= t], "thresholds": threshold})
    return out


def threshold_section(report: dict) -> str:
    """Markdown paragraph on the tuned model's operating point, for the model card."""
    c = report["confusion"]
    target = report["operating_point"]
    return "\n".join([
        "## Operating point of `tuned` (test split)", "",
        f"Threshold {report['threshold']:.4f}, chosen on validation for {target} >= "
        f"{report[f'target_{target}']:g}: sensitivity {report['sensitivity']:.3f}, specificity "
        f"{report['specificity']:.3f}, PPV {report['ppv']:.3f}, NPV {report['npv']:.3f}. "
        f"{c['tp']} cases found, {c['fn']} missed, {c['fp']} false alarms, {c['tn']} correctly cleared.", "",
        f"AUROC {report['auroc']:.4f} (95% bootstrap CI {report['auroc_ci_low'] or float('nan'):.4f}-"
        f"{report['auroc_ci_high'] or float('nan'):.4f}); sensitivity at specificity "
        f"{report['target_specificity']:g} read off the test ROC: {report['sensitivity_at_specificity']:.3f}."])


def report(cfg: DiagnosticsEvalConfig, data: Any, outputs: dict[str, dict], *, tuned_threshold: Any, seed: int,
           plots_dir: Path | None) -> Report:
    """Every system's test metrics at its own operating threshold (the tuned model's is the saved one).

    Args:
        cfg: the recipe's ``evaluation`` section.
        data: the splits (validation picks the baselines' thresholds; test is reported).
        outputs: system name -> ``{"validation": probabilities, "test": probabilities}``.
        tuned_threshold: the threshold(s) saved with the tuned model.
        seed: of the bootstrap intervals.
        plots_dir: where the ROC and reliability plots go (None: no plots).
    """
    metrics = {}
    for system, probs in outputs.items():
        threshold = tuned_threshold if system == TUNED else operating_threshold(
            data.task, data.validation.labels, probs["validation"], cfg)
        metrics[system] = system_report(data.task, data.test.labels, probs["test"], threshold, cfg,
                                        data.class_names, seed=seed)
    if plots_dir is not None and data.task == "binary":
        _plots(cfg, data, outputs, plots_dir)
    notes = [f"Thresholds are chosen on the validation split ({len(data.validation)} images) and reported on "
             f"the test split ({len(data.test)} images)."]
    if data.origin.startswith("synthetic"):
        notes.append("The data are SYNTHETIC scan-like images (datasets/synthetic-scans): no clinical meaning.")
    if data.skipped:
        notes.append(f"{len(data.skipped)} unreadable images were skipped: {', '.join(data.skipped[:5])}")
    binary = data.task == "binary"
    return Report(metrics=metrics, headline_metrics=HEADLINE if binary else HEADLINE_MULTI, data=data.summary(),
                  notes=notes, sections=[threshold_section(metrics[TUNED])] if binary and TUNED in metrics else [])


def _plots(cfg: DiagnosticsEvalConfig, data: Any, outputs: dict[str, dict], plots_dir: Path) -> None:
    from suite.core import plots

    curves = {name: (data.test.labels, probs["test"]) for name, probs in outputs.items()}
    plots.roc_curves(curves, plots_dir / "roc.png", title="ROC (test split)", log_fpr=False,
                     mark_fpr=1 - cfg.target_specificity)
    if TUNED in outputs:
        plots.reliability_plot(data.test.labels, outputs[TUNED]["test"], plots_dir / "reliability.png",
                               title="Calibration of tuned P(disease), test split", n_bins=cfg.ece_bins)
