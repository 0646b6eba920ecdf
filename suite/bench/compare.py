"""``suite bench --compare OLD.json``: what got better or worse between two benchmark results.

Systems are matched by domain and label. For each metric and cost figure present in
both, a change is reported with its ratio (new / old) and a verdict from the figure's
direction: the primary metric follows the domain's ``greater_is_better``; another metric
is judged by the first word of its name (``fpr_at_target``, ``ece``, ``brier``, ``loss``,
``ter`` are lower-is-better; ``threshold``, counts and weights are neither), and cost
figures by what they measure (seconds and memory lower, samples/s and FLOP/s higher).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOWER_IS_BETTER = {"loss", "ece", "brier", "fpr", "fnr", "error", "ter", "wer", "cer", "perplexity", "mae", "mse",
                   "rmse", "seconds", "rss"}
NEITHER = {"threshold", "tuned", "weight", "n", "count", "support", "prevalence", "target", "positives", "steps"}
COSTS = {"train_seconds": -1, "train_samples_per_second": 1, "inference_samples_per_second": 1, "peak_rss_mb": -1,
         "training_flops_per_second": 1, "trainable_parameters": 0, "total_parameters": 0}


@dataclass(frozen=True)
class Change:
    """One difference between two results files."""

    domain: str
    system: str
    figure: str          # a metric, a cost figure, or "status"
    old: float | str | None
    new: float | str | None
    verdict: str         # better, worse, changed, added, removed

    @property
    def ratio(self) -> float | None:
        numbers = isinstance(self.old, (int, float)) and isinstance(self.new, (int, float))
        return self.new / self.old if numbers and self.old else None

    def line(self) -> str:
        """One human-readable line, e.g. ``spam / full: f1 0.9750 -> 0.9801 (x1.0052, better)``."""
        where = f"{self.domain} / {self.system}" if self.system else self.domain
        if self.verdict in ("added", "removed"):
            status = f" ({self.new or self.old})" if self.figure == "status" else ""
            return f"{where}: {self.figure} {self.verdict}{status}"
        ratio = f"x{self.ratio:.4f}, " if self.ratio is not None else ""
        return f"{where}: {self.figure} {_show(self.old)} -> {_show(self.new)} ({ratio}{self.verdict})"


def compare(old: dict, new: dict, *, tolerance: float = 0.0) -> list[Change]:
    """Every figure that differs between two ``results.json`` documents.

    Args:
        old: the earlier results.
        new: the later results.
        tolerance: ignore relative changes of at most this much (0.01: 1%).

    Returns:
        Changes ordered by domain, system and figure: domain status changes, systems
        that appeared or disappeared, then changed figures.
    """
    changes: list[Change] = []
    for domain in sorted(set(old["domains"]) | set(new["domains"])):
        before, after = old["domains"].get(domain), new["domains"].get(domain)
        if before is None or after is None:
            changes.append(Change(domain, "", "status", _status(before), _status(after),
                                  "added" if before is None else "removed"))
            continue
        if before.get("status") != after.get("status"):
            changes.append(Change(domain, "", "status", before.get("status"), after.get("status"),
                                  _status_verdict(before.get("status"), after.get("status"))))
        changes += _compare_systems(domain, before, after, tolerance)
    return changes


def format_changes(changes: list[Change], *, old_name: str, new_name: str) -> str:
    """The report ``suite bench --compare`` prints, with a count of better and worse figures."""
    if not changes:
        return f"no differences between {old_name} and {new_name}"
    better = sum(c.verdict == "better" for c in changes)
    worse = sum(c.verdict == "worse" for c in changes)
    head = f"{old_name} -> {new_name}: {better} better, {worse} worse, {len(changes) - better - worse} other changes"
    return "\n".join([head, *(c.line() for c in changes)])


def direction(figure: str, *, primary: str | None, greater_is_better: bool = True) -> int:
    """+1 if a larger value is better, -1 if a smaller one is, 0 if neither (see the module docstring)."""
    if figure == primary:
        return 1 if greater_is_better else -1
    if figure in COSTS:
        return COSTS[figure]
    first = re.split(r"[^a-z0-9]+", figure.lower())[0]
    if first in LOWER_IS_BETTER:
        return -1
    return 0 if first in NEITHER else 1


def _compare_systems(domain: str, before: dict, after: dict, tolerance: float) -> list[Change]:
    changes = []
    old_systems, new_systems = before.get("systems") or {}, after.get("systems") or {}
    primary, greater = after.get("primary_metric"), after.get("greater_is_better", True)
    for system in sorted(set(old_systems) | set(new_systems)):
        if system not in new_systems or system not in old_systems:
            changes.append(Change(domain, system, "system", None, None,
                                  "removed" if system not in new_systems else "added"))
            continue
        old_figures, new_figures = _figures(old_systems[system]), _figures(new_systems[system])
        for figure in sorted(set(old_figures) & set(new_figures), key=lambda f: (f != primary, f)):
            a, b = old_figures[figure], new_figures[figure]
            if a == b or abs(b - a) <= tolerance * abs(a):
                continue
            sign = direction(figure, primary=primary, greater_is_better=greater)
            verdict = "changed" if sign == 0 else "better" if (b - a) * sign > 0 else "worse"
            changes.append(Change(domain, system, figure, a, b, verdict))
    return changes


def _figures(system: dict) -> dict[str, float]:
    figures = {k: v for k, v in (system.get("metrics") or {}).items() if isinstance(v, (int, float))}
    figures.update({k: system[k] for k in COSTS if isinstance(system.get(k), (int, float))})
    return figures


def _status(entry: dict | None) -> str | None:
    return None if entry is None else entry.get("status")


def _status_verdict(old: str | None, new: str | None) -> str:
    rank = {"failed": 0, "partial": 1, "ok": 2}
    if old in rank and new in rank:
        return "better" if rank[new] > rank[old] else "worse"
    return "changed"


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e4 or abs(value) < 1e-3 else f"{value:.4f}"
    return str(value)
