"""Operating points: a decision threshold chosen for a target rate, what it is known to give, and drift.

A binary system (spam filter, screening model) decides at a threshold chosen on labelled data
for a target: at most a share of negatives flagged (a ham false-positive rate; 1 - specificity)
or at least a share of positives found (sensitivity). The rate it then gives is only known as
well as the data it was chosen on allow: with 329 ham, one flagged mail is already 0.3%, so a
0.1% target cannot be resolved. :func:`measure` says so: the observed rates with Clopper-Pearson
intervals, the number of negatives and positives behind them, and the smallest false-positive
rate they can resolve. :func:`drift` compares a measurement on new data with the interval the
threshold was chosen with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from suite.core.metrics import classification as cm

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Target:
    """What the threshold is chosen for: ``fpr`` at most ``value``, or ``tpr`` (sensitivity) at least ``value``."""

    rate: Literal["fpr", "tpr"]
    value: float

    def __post_init__(self):
        if self.rate not in ("fpr", "tpr") or not 0 <= self.value <= 1:
            raise ValueError(f"target: expected fpr or tpr and a rate in [0, 1], got {self.rate} {self.value!r}")

    def describe(self) -> str:
        """``false-positive rate <= 0.1%``."""
        return f"false-positive rate <= {self.value:.3%}" if self.rate == "fpr" else \
            f"sensitivity >= {self.value:.1%}"


def choose(labels, scores, target: Target) -> float:
    """The threshold that meets ``target`` on these labelled scores (see ``classification.threshold_at_*``).

    Raises:
        ValueError: no negatives (fpr target) or no positives (tpr target).
    """
    if target.rate == "fpr":
        return float(cm.threshold_at_fpr(labels, scores, target.value))
    return float(cm.threshold_at_sensitivity(labels, scores, target.value))


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact binomial interval for ``k`` successes in ``n`` trials ((0, 1) when ``n`` is 0).

    Example:
        >>> [round(x, 4) for x in clopper_pearson(0, 329)]
        [0.0, 0.0112]
    """
    from scipy.stats import beta

    if n == 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


@dataclass
class OperatingPoint:
    """What a threshold gives on labelled data, with 95% Clopper-Pearson intervals.

    ``resolution`` is one negative's share: the smallest non-zero false-positive rate these
    negatives can show (a target below it cannot be told apart from zero).
    """

    threshold: float
    target: dict
    negatives: int
    positives: int
    false_positives: int
    true_positives: int
    fpr: float
    fpr_low: float
    fpr_high: float
    tpr: float
    tpr_low: float
    tpr_high: float
    resolution: float

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line: the rates with their intervals, and what they rest on."""
        return (f"threshold {self.threshold:.4g}: false positives {self.false_positives} of {self.negatives} "
                f"negatives = {self.fpr:.3%} (95% CI {self.fpr_low:.3%}-{self.fpr_high:.3%}); found "
                f"{self.true_positives} of {self.positives} positives = {self.tpr:.1%} "
                f"(95% CI {self.tpr_low:.1%}-{self.tpr_high:.1%}); the smallest rate {self.negatives} negatives "
                f"resolve is {self.resolution:.3%}")


def measure(labels, scores, threshold: float, target: Target) -> OperatingPoint:
    """The rates ``threshold`` gives on ``labels``/``scores`` (1 = positive; flagged when score >= threshold)."""
    y = np.asarray(labels).astype(int)
    flagged = np.asarray(scores, dtype=np.float64) >= threshold
    negatives, positives = int((y == 0).sum()), int((y == 1).sum())
    fp, tp = int((flagged & (y == 0)).sum()), int((flagged & (y == 1)).sum())
    fpr_low, fpr_high = clopper_pearson(fp, negatives)
    tpr_low, tpr_high = clopper_pearson(tp, positives)
    return OperatingPoint(threshold=float(threshold), target=asdict(target), negatives=negatives, positives=positives,
                          false_positives=fp, true_positives=tp, fpr=fp / negatives if negatives else float("nan"),
                          fpr_low=fpr_low, fpr_high=fpr_high, tpr=tp / positives if positives else float("nan"),
                          tpr_low=tpr_low, tpr_high=tpr_high,
                          resolution=1.0 / negatives if negatives else float("nan"))


def drift(new: OperatingPoint, reference: dict) -> str | None:
    """A one-line warning when ``new`` (measured on other data) shows that the threshold no longer meets the
    target it was chosen for, else None.

    For a false-positive target: the new data's whole 95% interval lies above the target (they show
    with confidence that more negatives are flagged than allowed), or the new rate is above the upper
    bound of the interval the threshold was chosen with. For a sensitivity target, the same the other
    way round (positives found).
    """
    target = Target(**reference["target"])
    if target.rate == "fpr" and new.negatives and (new.fpr_low > target.value or new.fpr > reference["fpr_high"]):
        return (f"drift: the threshold flags {new.fpr:.3%} of these negatives (95% CI {new.fpr_low:.3%}-"
                f"{new.fpr_high:.3%}) against the target {target.describe()} (chosen with an upper bound of "
                f"{reference['fpr_high']:.3%}); re-set it with suite calibrate")
    if target.rate == "tpr" and new.positives and (new.tpr_high < target.value or new.tpr < reference["tpr_low"]):
        return (f"drift: the threshold finds {new.tpr:.1%} of these positives (95% CI {new.tpr_low:.1%}-"
                f"{new.tpr_high:.1%}) against the target {target.describe()} (chosen with a lower bound of "
                f"{reference['tpr_low']:.1%}); re-set it with suite calibrate")
    return None
