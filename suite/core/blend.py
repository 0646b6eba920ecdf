"""Hybrid systems: a weighted sum of several systems' scores, the weights chosen on validation, never on test.

Two ways to add scores, by what they are:

- ``zscore``: ranking scores (recommendation: users x items) become z-scores along the last
  axis (per user), so that systems on different scales can be added; only the order counts.
- ``logit``: probabilities (spam, binary diagnostics) are added as log-odds and turned back
  into a probability, so the hybrid's score is still one (a 0.5 decision and an operating
  threshold mean the same for it as for the systems it blends).

The weights come from a grid that adds up to 1 and are chosen by the domain's validation metric.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from suite.core.config import between


def standardise(scores: np.ndarray) -> np.ndarray:
    """z-scores along the last axis (a constant row stays at zero)."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std(axis=-1, keepdims=True)
    return (scores - scores.mean(axis=-1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def to_common_scale(scores: np.ndarray, space: str = "zscore") -> np.ndarray:
    """Scores on the scale they are added on: z-scores along the last axis, or log-odds of probabilities."""
    if space == "logit":
        p = np.clip(np.asarray(scores, dtype=np.float64), 1e-6, 1 - 1e-6)
        return np.log(p) - np.log1p(-p)
    return standardise(scores)


def blend(scores: dict[str, np.ndarray], weights: dict[str, float], space: str = "zscore") -> np.ndarray:
    """The hybrid score: the sum of ``weights[system]`` x ``scores[system]`` on the common scale (see
    :func:`to_common_scale`); in ``logit`` space turned back into a probability."""
    mixed = weighted_sum({system: to_common_scale(scores[system], space) for system, weight in weights.items()
                          if weight}, weights)
    return 1.0 / (1.0 + np.exp(-mixed)) if space == "logit" else mixed


def weighted_sum(standardised: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The sum of ``weights[system]`` x ``standardised[system]`` (systems of weight 0 left out)."""
    return sum(weight * standardised[system] for system, weight in weights.items() if weight)


def check_settings(blended: list[str] | None, steps: list[float], baselines: list[str]) -> None:
    """Validate a recipe's hybrid settings: ``blended`` (None: every baseline) must be baselines of the run,
    ``steps`` weights in [0, 1] of which some combination adds up to 1.

    Raises:
        ValueError: naming ``hybrid_with`` or ``hybrid_weights`` (the recipe keys).
    """
    if not steps:
        return                     # no hybrid
    for name in blended or []:
        if name not in baselines:
            raise ValueError(f"hybrid_with: {name!r} is not one of this run's baselines {baselines!r} "
                             "(or set hybrid_weights: [])")
    if any(not 0 <= w <= 1 for w in steps):
        raise ValueError(f"hybrid_weights: expected numbers in [0, 1], got {steps!r}")
    systems = baselines if blended is None else blended
    if systems and steps and not weight_grid(["tuned", *systems], steps):
        raise ValueError(f"hybrid_weights: no combination of {steps!r} adds up to 1")


def weight_grid(systems: list[str], steps: list[float]) -> list[dict[str, float]]:
    """Every way to give each of ``systems`` a weight from ``steps`` so that they add up to 1."""
    return [dict(zip(systems, combination)) for combination in itertools.product(sorted(set(steps)),
                                                                                 repeat=len(systems))
            if abs(sum(combination) - 1.0) < 1e-6]


def pick_weights(scores: dict[str, np.ndarray], validation_score: Callable[[np.ndarray], float],
                 steps: list[float], space: str = "zscore") -> tuple[dict, list]:
    """The weights whose blend scores best on validation, and every tried ``(weights, score)``.

    Args:
        scores: validation scores of each system to blend, the tuned model first.
        validation_score: blended validation scores -> the domain's validation metric (greater is better).
        steps: the weights tried for each system.
        space: ``zscore`` or ``logit`` (see :func:`to_common_scale`).

    Ties go to the smaller weight of the first system, then to the earlier combination.

    Example:
        >>> weights, tried = pick_weights({"tuned": t, "als": a}, ndcg_on_validation, [0, 0.5, 1])
    """
    common = {system: to_common_scale(values, space) for system, values in scores.items()}   # once, not per weight
    back = (lambda mixed: 1.0 / (1.0 + np.exp(-mixed))) if space == "logit" else (lambda mixed: mixed)
    tried = [(weights, validation_score(back(weighted_sum(common, weights))))
             for weights in weight_grid(list(scores), steps)]
    first = next(iter(scores))
    best = max(range(len(tried)), key=lambda i: (tried[i][1], -tried[i][0][first], -i))
    return tried[best][0], tried


def describe(weights: dict[str, float], label: Callable[[str], str] = str) -> str:
    """``0.6 x tuned + 0.4 x ALS`` (``label`` names each system)."""
    return " + ".join(f"{weight:g} x {label(system)}" for system, weight in weights.items())


@dataclass
class Hybrid:
    """A blended system: its outputs on every part, the chosen weights and every combination tried."""

    outputs: dict
    weights: dict[str, float]
    tried: list
    space: str

    def weight_metrics(self) -> dict:
        """``{"tuned_weight": 0.8, "als_weight": 0.2}``: the weights, as the hybrid's metrics report them."""
        return {f"{_short(system)}_weight": weight for system, weight in self.weights.items()}

    def describe(self) -> str:
        how = "each score standardised per query" if self.space == "zscore" else "added as log-odds"
        return f"{describe(self.weights, _short)} ({how})"


def _short(system: str) -> str:
    return system.removeprefix("baseline:")


def hybrid(outputs: dict[str, dict], validation_score: Callable[[np.ndarray], float], steps: list[float],
           space: str = "zscore") -> Hybrid:
    """Blend systems' outputs on every part, with the weights that score best on their ``validation`` part.

    Args:
        outputs: system -> {part: scores}, the tuned model first; every system has the same parts.
        validation_score: blended validation scores -> the domain's validation metric (greater is better).
        steps: the weights tried for each system.
        space: ``zscore`` or ``logit`` (see :func:`to_common_scale`).
    """
    weights, tried = pick_weights({system: parts["validation"] for system, parts in outputs.items()},
                                  validation_score, steps, space)
    first = next(iter(outputs.values()))
    mixed = {part: blend({system: outputs[system][part] for system in weights}, weights, space) for part in first}
    return Hybrid(mixed, weights, tried, space)


@dataclass
class ProbabilityHybridConfig:
    """The `evaluation` keys of a domain whose hybrid blends probabilities (spam, diagnostics); its
    ``__post_init__`` should call :func:`check_settings` with the run's baselines."""

    hybrid_with: list[str] | None = field(default=None, metadata={
        "help": "Baselines blended with the tuned model in the `hybrid` system (their probabilities added as "
                "log-odds); null: every baseline of the run; [] or hybrid_weights: [] turns it off."})
    hybrid_weights: list[float] = field(default_factory=lambda: [i / 10 for i in range(11)], metadata={
        "bounds": between(0, 1, max_items=101),
        "help": "Weights tried for each blended system; every combination adding up to 1 is scored on validation "
                "and the best kept ([] turns the hybrid off)."})
