"""Binary classification maths shared by every domain that separates positives from negatives.

Spam calls positives "spam" and cares about the false-positive rate on ham;
diagnostics calls them "disease" and speaks of sensitivity and specificity. The
functions here are the same for both:

- ``labels`` are 0/1 (1 = positive), ``scores`` are finite and higher for positives
  (probabilities or logits; calibration functions need probabilities in [0, 1]);
- a prediction is positive when ``score >= threshold`` (a score equal to the threshold
  is flagged);
- a ratio whose denominator is zero (precision when nothing is flagged, NPV when
  everything is) is defined as 0.0, so reports stay JSON numbers, never NaN;
- every value returned is a plain Python ``int``/``float``, ready for ``json.dump``.

Everything is a pure function of its arguments: no plotting, no files, no global state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_EPS = 1e-9   # guards floor/ceil against 0.1 * 10 = 0.9999999999999999


def _arrays(labels: Sequence, scores: Sequence) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.size} vs {s.size}")
    if y.size == 0:
        raise ValueError("no examples: labels and scores are empty")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, got values {sorted(set(np.unique(y).tolist()))[:5]}")
    if not np.isfinite(s).all():
        raise ValueError(f"scores must be finite: {int((~np.isfinite(s)).sum())} are NaN or infinite")
    return y.astype(np.int64), s


def _require_both(y: np.ndarray) -> None:
    if y.min() == y.max():
        raise ValueError(f"only one class present (all labels are {int(y[0])}): the metric is undefined")


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _counts(y: np.ndarray, s: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tp, fp) at each threshold, in O(n log n): how many positives/negatives score >= it."""
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    tp = pos.size - np.searchsorted(pos, thresholds, side="left")
    fp = neg.size - np.searchsorted(neg, thresholds, side="left")
    return tp, fp


def confusion(labels: Sequence, scores: Sequence, threshold: float) -> dict[str, int]:
    """Confusion counts when ``score >= threshold`` is called positive.

    Returns:
        ``{"tn": int, "fp": int, "fn": int, "tp": int}``.

    Example:
        >>> confusion([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], 0.5)
        {'tn': 1, 'fp': 1, 'fn': 1, 'tp': 1}
    """
    y, s = _arrays(labels, scores)
    flagged = s >= threshold
    return {"tn": int((~flagged & (y == 0)).sum()), "fp": int((flagged & (y == 0)).sum()),
            "fn": int((~flagged & (y == 1)).sum()), "tp": int((flagged & (y == 1)).sum())}


def log_loss(labels: Sequence, scores: Sequence, *, eps: float = 1e-6) -> float:
    """Mean negative log-likelihood of 0/1 ``labels`` under probabilities ``scores`` (clipped to [eps, 1 - eps]):
    a proper scoring rule, so it separates systems that every threshold metric scores the same.

    Example:
        >>> round(log_loss([0, 1], [0.2, 0.9]), 4)
        0.1643
    """
    y, s = _arrays(labels, scores)
    p = np.clip(s, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def roc_auc(labels: Sequence, scores: Sequence) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative (ties count half).

    Raises:
        ValueError: only one class present (the AUC is undefined), or bad inputs.

    Example:
        >>> roc_auc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
        0.75
    """
    from sklearn.metrics import roc_auc_score

    y, s = _arrays(labels, scores)
    _require_both(y)
    return float(roc_auc_score(y, s))


def pr_auc(labels: Sequence, scores: Sequence) -> float:
    """Average precision: the step-wise area under the precision-recall curve (no interpolation).

    Raises:
        ValueError: only one class present, or bad inputs.

    Example:
        >>> round(pr_auc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]), 4)
        0.8333
    """
    from sklearn.metrics import average_precision_score

    y, s = _arrays(labels, scores)
    _require_both(y)
    return float(average_precision_score(y, s))


def binary_report(labels: Sequence, scores: Sequence, threshold: float) -> dict:
    """Every threshold metric at ``threshold`` plus ROC-AUC and PR-AUC, as plain JSON-ready values.

    Args:
        labels: 0/1 ground truth (1 = positive).
        scores: finite, higher means more likely positive (probabilities or logits).
        threshold: ``score >= threshold`` is a positive prediction.

    Returns:
        ``precision`` (= ``ppv``), ``recall`` (= sensitivity), ``specificity``, ``f1``,
        ``accuracy``, ``balanced_accuracy``, ``roc_auc``, ``pr_auc`` (average precision),
        ``fpr``, ``fnr``, ``ppv``, ``npv``, ``confusion`` (``{"tn", "fp", "fn", "tp"}``),
        ``n``, ``n_positive``, ``threshold``. Ratios with a zero denominator are 0.0.

    Raises:
        ValueError: only one class present (AUC undefined), mismatched lengths,
            labels other than 0/1, or non-finite scores.

    Example:
        >>> binary_report([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], 0.5)["f1"]
        0.5
    """
    y, s = _arrays(labels, scores)
    _require_both(y)
    c = confusion(y, s, threshold)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    precision, recall, specificity = _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    return {
        "precision": precision, "recall": recall, "specificity": specificity,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, y.size), "balanced_accuracy": (recall + specificity) / 2,
        "roc_auc": roc_auc(y, s), "pr_auc": pr_auc(y, s),
        "fpr": _ratio(fp, fp + tn), "fnr": _ratio(fn, fn + tp),
        "ppv": precision, "npv": _ratio(tn, tn + fn),
        "confusion": c, "n": int(y.size), "n_positive": int(y.sum()), "threshold": float(threshold),
    }


def threshold_at_fpr(labels: Sequence, scores: Sequence, max_fpr: float) -> float:
    """The lowest threshold whose false-positive rate on these negatives is at most ``max_fpr``.

    Lowest, so that recall is as high as that FPR allows. Ties are exact: a negative
    whose score equals the threshold is flagged, so when tied negatives cannot all be
    flagged, none of them is. The threshold returned is an observed score (the lowest
    score above the highest negative that must stay unflagged), so it gives the same
    predictions after a float32 comparison; if no score lies above, it is the next
    float32 above the top score and nothing is flagged.

    Choose it on a validation split and report metrics on test: chosen on the test
    split it flatters the model.

    Args:
        labels: 0/1 ground truth; needs at least one negative.
        scores: finite, higher means more likely positive.
        max_fpr: the largest share of negatives that may be flagged, in [0, 1].

    Returns:
        The threshold, a float; predict positive when ``score >= threshold``.

    Raises:
        ValueError: no negatives, ``max_fpr`` outside [0, 1], or bad inputs.

    Example:
        >>> threshold_at_fpr([0, 0, 0, 0, 1], [0.1, 0.2, 0.3, 0.8, 0.9], 0.0)
        0.9
        >>> threshold_at_fpr([0, 0, 0, 0, 1], [0.1, 0.2, 0.3, 0.8, 0.9], 0.25)
        0.8
    """
    _check_rate("max_fpr", max_fpr)
    y, s = _arrays(labels, scores)
    negatives = np.sort(s[y == 0])[::-1]            # highest first
    if negatives.size == 0:
        raise ValueError("no negatives: the false-positive rate is undefined")
    allowed = int(np.floor(max_fpr * negatives.size + _EPS))    # negatives that may be flagged
    if allowed >= negatives.size:
        return float(s.min())                        # everything may be flagged
    barrier = negatives[allowed]                     # this one (and all ties) must stay unflagged
    above = s[s > barrier]
    if above.size:
        return float(above.min())
    return float(np.nextafter(np.float32(barrier), np.float32(np.inf)))


def threshold_at_sensitivity(labels: Sequence, scores: Sequence, min_sensitivity: float) -> float:
    """The highest threshold that still flags at least ``min_sensitivity`` of the positives.

    Highest, so that specificity is as high as that sensitivity allows. The threshold
    is a positive's score; with ``min_sensitivity=0`` it is the top positive score.
    Choose it on a validation split, as for :func:`threshold_at_fpr`.

    Raises:
        ValueError: no positives, ``min_sensitivity`` outside [0, 1], or bad inputs.

    Example:
        >>> threshold_at_sensitivity([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], 1.0)
        0.4
    """
    _check_rate("min_sensitivity", min_sensitivity)
    y, s = _arrays(labels, scores)
    positives = np.sort(s[y == 1])[::-1]            # highest first
    if positives.size == 0:
        raise ValueError("no positives: sensitivity is undefined")
    needed = int(np.ceil(min_sensitivity * positives.size - _EPS))
    return float(positives[max(needed, 1) - 1])


def sensitivity_at_specificity(labels: Sequence, scores: Sequence, specificity: float) -> tuple[float, float]:
    """Best sensitivity while keeping specificity >= ``specificity`` on these negatives.

    Returns:
        ``(sensitivity, threshold)``, the threshold from
        ``threshold_at_fpr(labels, scores, 1 - specificity)``.

    Raises:
        ValueError: as :func:`threshold_at_fpr`.

    Example:
        >>> sensitivity_at_specificity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.5, 0.9], 0.75)
        (1.0, 0.5)
    """
    _check_rate("specificity", specificity)
    threshold = threshold_at_fpr(labels, scores, 1.0 - specificity)
    c = confusion(labels, scores, threshold)
    return _ratio(c["tp"], c["tp"] + c["fn"]), threshold


def specificity_at_sensitivity(labels: Sequence, scores: Sequence, sensitivity: float) -> tuple[float, float]:
    """Best specificity while keeping sensitivity >= ``sensitivity`` on these positives.

    Returns:
        ``(specificity, threshold)``, the threshold from :func:`threshold_at_sensitivity`.

    Raises:
        ValueError: as :func:`threshold_at_sensitivity`.

    Example:
        >>> specificity_at_sensitivity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.5, 0.9], 1.0)
        (0.75, 0.5)
    """
    threshold = threshold_at_sensitivity(labels, scores, sensitivity)
    c = confusion(labels, scores, threshold)
    return _ratio(c["tn"], c["tn"] + c["fp"]), threshold


def threshold_table(labels: Sequence, scores: Sequence,
                    thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> list[dict]:
    """Precision, recall, FPR, F1 and the flagged count at each threshold, in the order given.

    Returns:
        One dict per threshold: ``threshold``, ``precision``, ``recall``, ``fpr``,
        ``f1``, ``flagged`` (how many examples score >= the threshold).

    Example:
        >>> threshold_table([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], [0.5])[0]["flagged"]
        2
    """
    y, s = _arrays(labels, scores)
    t = np.asarray(thresholds, dtype=np.float64)
    tp, fp = _counts(y, s, t)
    n_pos, n_neg = int(y.sum()), int(y.size - y.sum())
    return [{"threshold": float(t[i]), "precision": _ratio(tp[i], tp[i] + fp[i]),
             "recall": _ratio(tp[i], n_pos), "fpr": _ratio(fp[i], n_neg),
             "f1": _ratio(2 * tp[i], tp[i] + fp[i] + n_pos), "flagged": int(tp[i] + fp[i])}
            for i in range(t.size)]


def best_f1_threshold(labels: Sequence, scores: Sequence) -> float:
    """The threshold (one of the observed scores) with the highest F1; ties go to the highest threshold.

    Raises:
        ValueError: only one class present, or bad inputs.

    Example:
        >>> best_f1_threshold([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
        0.4
    """
    y, s = _arrays(labels, scores)
    _require_both(y)
    candidates = np.unique(s)[::-1]                  # highest first, so argmax keeps the highest on ties
    tp, fp = _counts(y, s, candidates)
    f1 = 2 * tp / (tp + fp + y.sum())
    return float(candidates[int(np.argmax(f1))])


def bootstrap_ci(labels: Sequence, scores: Sequence, metric: Callable = roc_auc, *, n: int = 1000,
                 alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``metric(labels, scores)``.

    Resampling is stratified: positives and negatives are each drawn with replacement
    at their own count, so every replicate has both classes and the same prevalence.

    Args:
        labels, scores: as for :func:`binary_report`.
        metric: ``f(labels, scores) -> float``; ``roc_auc`` by default, or e.g.
            ``lambda y, s: binary_report(y, s, 0.5)["recall"]``.
        n: number of bootstrap replicates.
        alpha: 0.05 gives a 95% interval.
        seed: seed of the resampling, so the interval is reproducible.

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: only one class present, ``n < 1`` or ``alpha`` outside (0, 1).

    Example:
        >>> low, high = bootstrap_ci([0, 0, 0, 1, 1, 1], [.1, .5, .3, .4, .8, .9], n=200)
        >>> low <= roc_auc([0, 0, 0, 1, 1, 1], [.1, .5, .3, .4, .8, .9]) <= high
        True
    """
    if n < 1 or not 0 < alpha < 1:
        raise ValueError(f"bootstrap_ci: expected n >= 1 and 0 < alpha < 1, got n={n!r}, alpha={alpha!r}")
    y, s = _arrays(labels, scores)
    _require_both(y)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values = np.empty(n)
    for i in range(n):
        index = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        values[i] = metric(y[index], s[index])
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def reliability_bins(labels: Sequence, probs: Sequence, n_bins: int = 10) -> list[dict]:
    """Equal-width probability bins with their count, mean predicted probability and observed positive rate.

    Bin ``b`` holds ``low <= p < high``; the last bin also holds ``p == 1``. Empty bins
    are kept (count 0, means 0.0) so that every call returns ``n_bins`` rows.

    Raises:
        ValueError: probabilities outside [0, 1], ``n_bins < 1``, or bad inputs.

    Example:
        >>> [b["count"] for b in reliability_bins([0, 1, 1], [0.2, 0.7, 1.0], n_bins=2)]
        [1, 2]
    """
    if n_bins < 1:
        raise ValueError(f"n_bins: expected at least 1, got {n_bins!r}")
    y, p = _arrays(labels, probs)
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(f"probs must lie in [0, 1] (got {p.min():g} .. {p.max():g}); apply a sigmoid/softmax first")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.minimum(np.floor(p * n_bins).astype(np.int64), n_bins - 1)   # 0.3 -> bin 3, not 2
    bins = []
    for b in range(n_bins):
        members = which == b
        count = int(members.sum())
        bins.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
                     "mean_probability": float(p[members].mean()) if count else 0.0,
                     "positive_rate": float(y[members].mean()) if count else 0.0})
    return bins


def expected_calibration_error(labels: Sequence, probs: Sequence, n_bins: int = 10) -> float:
    """Expected calibration error: the count-weighted mean |mean probability - positive rate| over the bins.

    Uses the bins of :func:`reliability_bins` (equal width); 0.0 is perfect calibration.

    Raises:
        ValueError: as :func:`reliability_bins`.

    Example:
        >>> round(expected_calibration_error([0, 1, 1, 1], [0.8, 0.8, 0.8, 0.8]), 6)
        0.05
    """
    bins = reliability_bins(labels, probs, n_bins)
    total = sum(b["count"] for b in bins)
    gap = sum(b["count"] * abs(b["mean_probability"] - b["positive_rate"]) for b in bins)
    return float(gap / total)
