"""Is system A really better than system B on the same test cases? A paired bootstrap.

Both systems are scored on the same cases (users, messages, images), so the cases are
resampled together: one replicate draws case indices with replacement and recomputes
both means on them. The spread of ``mean(a) - mean(b)`` over replicates is far narrower
than two separate intervals would suggest, because what is hard for one system is
usually hard for the other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from suite.core.results import baseline_system

_DRAWS_PER_CHUNK = 10_000_000     # case indices drawn at once (80 MB), whatever the number of cases


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, n: int = 2000, alpha: float = 0.05,
                     seed: int = 0) -> dict:
    """Difference and ratio of the means of two systems' per-case values, with percentile intervals.

    Args:
        a, b: one value per case for each system (e.g. per-user NDCG@10), in the same case order.
        n: bootstrap replicates.
        alpha: 0.05 gives 95% intervals.
        seed: seed of the resampling, so the intervals are reproducible.

    Returns:
        ``{"a": mean(a), "b": mean(b), "difference": mean(a) - mean(b), "difference_low", "difference_high",
        "ratio": mean(a) / mean(b), "ratio_low", "ratio_high", "cases", "replicates"}``; the ratio
        entries are ``None`` when ``mean(b)`` is 0 (in the sample or in a replicate).

    Raises:
        ValueError: different lengths, no case, ``n < 1`` or ``alpha`` outside (0, 1).

    Example:
        >>> r = paired_bootstrap([1, 1, 0, 1], [0, 1, 0, 0], n=500)
        >>> r["difference"], r["difference_low"] <= 0.5 <= r["difference_high"]
        (0.5, True)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired_bootstrap: expected two 1-d sequences of one length, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("paired_bootstrap: no case to compare")
    if n < 1 or not 0 < alpha < 1:
        raise ValueError(f"paired_bootstrap: expected n >= 1 and 0 < alpha < 1, got n={n!r}, alpha={alpha!r}")
    means_a, means_b = _replicate_means(a, b, n, seed)
    quantiles = [alpha / 2, 1 - alpha / 2]
    low, high = np.quantile(means_a - means_b, quantiles)
    result = {"a": float(a.mean()), "b": float(b.mean()), "difference": float(a.mean() - b.mean()),
              "difference_low": float(low), "difference_high": float(high),
              "ratio": None, "ratio_low": None, "ratio_high": None, "cases": int(a.size), "replicates": n}
    if b.mean() > 0 and (means_b > 0).all():
        ratio_low, ratio_high = np.quantile(means_a / means_b, quantiles)
        result.update(ratio=float(a.mean() / b.mean()), ratio_low=float(ratio_low), ratio_high=float(ratio_high))
    return result


def _replicate_means(a: np.ndarray, b: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The means of ``a`` and ``b`` over ``n`` resamples of the same case indices, drawn a chunk of
    replicates at a time (the same draws as all at once) so memory stays bounded on large test sets."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _DRAWS_PER_CHUNK // a.size)
    means_a, means_b = np.empty(n), np.empty(n)
    for start in range(0, n, per_chunk):
        index = rng.integers(0, a.size, size=(min(per_chunk, n - start), a.size))
        chunk = slice(start, start + len(index))
        means_a[chunk], means_b[chunk] = a[index].mean(axis=1), b[index].mean(axis=1)
    return means_a, means_b


def reference_baselines(values: dict[str, float | None], named: Sequence[str] = ()) -> list[str]:
    """The baseline systems a run compares its systems with: the one of the best value, then the system of each
    baseline in ``named`` (the recipe's ``evaluation.compare_with``) that has a value too, each once.

    Args:
        values: baseline system -> its value on the metric that ranks them (greater is better; None: the
            baseline cannot be scored there, e.g. on cold items).
        named: baseline names (``als``) the recipe asks to compare with whether or not they are the strongest.

    Example:
        >>> reference_baselines({"baseline:als": 0.27, "baseline:ease": 0.32}, ["als"])
        ['baseline:ease', 'baseline:als']
    """
    scored = {system: value for system, value in values.items() if value is not None}
    if not scored:
        return []
    strongest = max(scored, key=scored.get)
    wanted = dict.fromkeys(baseline_system(name) for name in named)
    return [strongest, *(system for system in wanted if system in scored and system != strongest)]


def check_compare_with(names: Sequence[str], baselines: Sequence[str]) -> None:
    """Validate a recipe's ``evaluation.compare_with``: every name must be one of the run's ``baselines`` (a run
    without baselines compares with none, so it names none it lacks).

    Raises:
        ValueError: naming ``compare_with`` (the recipe key).
    """
    for name in names if baselines else []:
        if name not in baselines:
            raise ValueError(f"compare_with: {name!r} is not one of this run's baselines {list(baselines)!r} "
                             "(or set compare_with: [])")


def comparison_section(comparisons: dict, *, cases: str, note: str) -> str:
    """Markdown for a model card: paired comparisons (each a :func:`paired_bootstrap` result with ``a``, ``b``
    and, optionally, ``metric``), with what a resample draws (``cases``: "test messages") and a ``note``."""
    with_metric = any("metric" in c for c in comparisons.values())
    header = ["comparison", *(["metric"] if with_metric else []), "first", "second", "difference (95% CI)",
              "ratio (95% CI)"]
    rows = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for name, c in comparisons.items():
        ratio = "–" if c.get("ratio") is None else \
            f"{c['ratio']:.3f}x [{c['ratio_low']:.3f}, {c['ratio_high']:.3f}]"
        metric = [c.get("metric", "")] if with_metric else []
        rows.append("| " + " | ".join([name, *metric, f"{c['a']:.4f}", f"{c['b']:.4f}",
                                       f"{c['difference']:+.4f} [{c['difference_low']:+.4f}, "
                                       f"{c['difference_high']:+.4f}]", ratio]) + " |")
    some = next(iter(comparisons.values()))
    return "\n".join([f"## Against the strongest baseline (paired bootstrap over {cases})", "",
                      "The strongest baseline on test, and any the recipe names in `evaluation.compare_with`.", "",
                      f"{some['replicates']:,} resamples of the {some['cases']:,} {cases}, every system scored on "
                      f"the same draw; {note} An interval that holds 0 (or 1x) means the test split cannot tell the "
                      "two apart.", "", *rows])


# two-sided 97.5% quantiles of Student's t by degrees of freedom (beyond 30: the normal's 1.96)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def paired_over_draws(a: Sequence[float], b: Sequence[float]) -> dict:
    """Two systems compared over repeated draws of their training data (one value of each per draw): the mean
    of the per-draw differences with its 95% t-interval, and on how many draws ``a`` was ahead.

    Each draw is a whole experiment (a new labelled sample, both systems refitted on it, one test set), so the
    draws are the replicates: the interval says how much the difference moves with the labelled sample, which a
    bootstrap over the test cases of one draw cannot.

    Returns:
        ``{"difference", "difference_low", "difference_high", "sd", "draws", "ahead"}``; with one draw the
        interval is ``None``.

    Raises:
        ValueError: different lengths or no draw.

    Example:
        >>> paired_over_draws([0.85, 0.83, 0.88], [0.82, 0.84, 0.80])["difference"]
        0.0333...
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"expected two equal, non-empty lists of values, got {a.shape} and {b.shape}")
    differences = a - b
    mean, n = float(differences.mean()), int(differences.size)
    sd = float(differences.std(ddof=1)) if n > 1 else 0.0
    quantile = _T975[n - 2] if 1 < n <= len(_T975) + 1 else 1.96
    half = float(quantile * sd / np.sqrt(n)) if n > 1 else None
    return {"difference": mean, "difference_low": None if half is None else mean - half,
            "difference_high": None if half is None else mean + half, "sd": sd, "draws": n,
            "ahead": int((differences > 0).sum())}
