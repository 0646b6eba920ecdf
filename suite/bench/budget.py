"""Label-budget curves: quality against the number of labelled training examples, tuned and classical.

A plan's domain may hold a ``budget``: one recipe trained again and again on more of the same
training split (the recipe key that sets the labelled examples, and its sizes), every time with
its classical baselines refitted on exactly those examples and every system scored on the same
whole test split. The curve answers the question users bring: for my amount of labelled data,
does tuning a pretrained model beat the classical method, and where do the two cross?

- :func:`curve` reads the budget's finished runs into points (examples -> each system's metric);
- :func:`crossover` finds the smallest size from which the tuned model stays ahead of the best
  baseline;
- :func:`verdict` says it in one sentence; :func:`plot` draws it with the crossover marked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suite.core import runs
from suite.core.results import BASELINE, TUNED, ZERO_SHOT, RunResult, is_number

BUDGET_PREFIX = "budget-"


def run_label(size: Any) -> str:
    """The system label of a budget run: ``budget-128``, ``budget-0.1``, ``budget-all``."""
    return f"{BUDGET_PREFIX}{'all' if size is None else f'{size:g}' if isinstance(size, float) else size}"


def curve(run_records: dict, out: Path, *, figure: str | None = None) -> dict | None:
    """The budget runs of one domain as a curve (None: the domain has no finished budget run).

    Returns:
        ``{"primary_metric", "greater_is_better", "figure", "points": [{"size", "train_examples", "systems":
        {name: value}, "figures": {name: value of figure}, "intervals": {name: [low, high]}}], ...}``, points in
        order of training examples.
    """
    points, info = [], {}
    for label, record in run_records.items():
        if not label.startswith(BUDGET_PREFIX) or record.get("status") != "ok":
            continue
        result = RunResult.from_json(json.loads((out / record["run_dir"] / runs.METRICS_FILE).read_text()))
        metric = result.primary_metric
        info = {"primary_metric": metric, "greater_is_better": result.greater_is_better, "figure": figure}
        points.append({"size": record.get("budget"), "train_examples": result.data.get("train"),
                       "systems": {s.name: s.metrics.get(metric) for s in result.systems.values()},
                       "roles": {s.name: s.role for s in result.systems.values()},
                       "figures": {s.name: s.metrics.get(figure) for s in result.systems.values()} if figure else {},
                       "comparisons": _tuned_comparisons(result.comparisons or {}, metric),
                       "intervals": {s.name: [s.metrics[f"{metric}_ci_low"], s.metrics[f"{metric}_ci_high"]]
                                     for s in result.systems.values() if f"{metric}_ci_low" in s.metrics}})
    if not points:
        return None
    points.sort(key=lambda p: p["train_examples"] or 0)
    return {**info, "points": points}


def _tuned_comparisons(comparisons: dict, metric: str) -> dict:
    """The run's paired comparisons of the tuned model on the primary metric and the test phase, by the system
    compared with: ``{"baseline:als": {"difference", "difference_low", "difference_high", ...}}``."""
    found = {}
    for key, entry in comparisons.items():
        system, _, against = key.partition(" vs ")
        if system == TUNED and entry.get("metric") == metric and entry.get("phase", "test") == "test":
            found[against.removesuffix(f": {metric}")] = entry
    return found


def _best_baseline(point: dict, sign: int) -> tuple[str | None, float | None]:
    baselines = {name: value for name, value in point["systems"].items()
                 if point["roles"].get(name) == BASELINE and is_number(value)}
    if not baselines:
        return None, None
    name = max(baselines, key=lambda n: sign * baselines[n])
    return name, baselines[name]


def crossover(budget: dict) -> dict | None:
    """The smallest training size from which the tuned model beats the best baseline at every larger size too
    (None: it never does, up to the largest size)."""
    sign = 1 if budget.get("greater_is_better", True) else -1
    found = None
    for point in reversed(budget["points"]):
        name, value = _best_baseline(point, sign)
        tuned = point["systems"].get(TUNED)
        if name is None or not is_number(tuned) or sign * tuned <= sign * value:
            break
        found = {"train_examples": point["train_examples"], "tuned": tuned, "baseline": name, "baseline_value": value,
                 "interval": point["intervals"].get(TUNED), "paired": point.get("comparisons", {}).get(name)}
    return found


def verdict(domain: str, budget: dict) -> str:
    """One plain sentence: from how many labelled examples tuning pays in this domain, or that it does not, and
    the operating figure of every system at the largest size where the plan names one."""
    metric = budget["primary_metric"]
    last = budget["points"][-1]
    sign = 1 if budget.get("greater_is_better", True) else -1
    name, value = _best_baseline(last, sign)
    found = crossover(budget)
    if name is None:
        return f"{domain}: no classical baseline was scored, so the curve cannot say where tuning pays."
    if found is None:
        wins = [f"{p['train_examples']:,}" for p in budget["points"] if _ahead(p, sign)]
        ahead = f"{name.removeprefix('baseline:')} {{}} all {last['train_examples']:,} labelled examples"
        start = f"tuning wins only at {' and '.join(wins)} labelled examples; the classical " + \
            ahead.format("is ahead with") if wins else "the classical " + ahead.format("stays ahead up to")
        sentence = (f"{domain}: {start} ({metric} {_fmt(value)} against the tuned model's "
                    f"{_fmt(last['systems'].get(TUNED))}): tuning does not pay at this budget")
    else:
        interval = f" (95% CI {_fmt(found['interval'][0])}-{_fmt(found['interval'][1])})" if found["interval"] else ""
        start = "at every size tried, from" if found["train_examples"] == budget["points"][0]["train_examples"] \
            else "from"
        sentence = (f"{domain}: the tuned model beats the best classical baseline {start} "
                    f"{found['train_examples']:,} labelled examples: {metric} {_fmt(found['tuned'])}{interval} "
                    f"against {found['baseline'].removeprefix('baseline:')}'s {_fmt(found['baseline_value'])} there"
                    f"{_paired_clause(found['paired'])}")
    return sentence + _zero_shot_clause(last, sign) + _figure_clause(budget.get("figure"), last) + "."


def _paired_clause(paired: dict | None) -> str:
    """The paired bootstrap's difference with its 95% interval, and whether that interval holds 0 (a win within
    the noise of the test set)."""
    if not paired or not all(is_number(paired.get(k)) for k in ("difference", "difference_low", "difference_high")):
        return ""
    low, high = paired["difference_low"], paired["difference_high"]
    like = paired.get("b") if is_number(paired.get("b")) else None
    noise = ", an interval that holds 0: within the noise of this test set" if low <= 0 <= high else ""
    sign = "+" if paired["difference"] > 0 else ""
    return (f" (paired difference {sign}{_fmt(paired['difference'], like=like)}, 95% CI {_fmt(low, like=like)} to "
            f"{_fmt(high, like=like)}{noise})")


def _zero_shot_clause(point: dict, sign: int) -> str:
    """Where the untuned pretrained model was scored too (translation): whether tuning beats it, at the largest size."""
    untuned, tuned = point["systems"].get(ZERO_SHOT), point["systems"].get(TUNED)
    if not is_number(untuned) or not is_number(tuned):
        return ""
    change = "gains" if sign * (tuned - untuned) > 0 else "loses"
    return (f"; at {point['train_examples']:,} tuning {change} {_fmt(abs(tuned - untuned), like=untuned)} "
            f"against the untuned pretrained model ({_fmt(untuned)})")


def _ahead(point: dict, sign: int) -> bool:
    """Whether the tuned model beats the best baseline at this point."""
    _, value = _best_baseline(point, sign)
    tuned = point["systems"].get(TUNED)
    return value is not None and is_number(tuned) and sign * tuned > sign * value


def _figure_clause(figure: str | None, point: dict) -> str:
    values = {name.removeprefix("baseline:"): value for name, value in point.get("figures", {}).items()
              if is_number(value)}
    if not figure or not values:
        return ""
    listed = ", ".join(f"{name} {_fmt(value)}" for name, value in
                       sorted(values.items(), key=lambda item: (item[0] != TUNED, item[0])))
    return f"; {figure} at {point['train_examples']:,}: {listed}"


def table(budget: dict) -> tuple[list[str], list[list[str]]]:
    """Rows: one per size; columns: labelled examples, then each system's primary metric."""
    systems = sorted({name for p in budget["points"] for name in p["systems"]},
                     key=lambda n: (n != TUNED, not n.startswith("baseline:"), n))
    header = ["labelled examples", *systems]
    rows = [[f"{p['train_examples']:,}", *(_fmt(p["systems"].get(s)) for s in systems)] for p in budget["points"]]
    return header, rows


def plot(domain: str, budget: dict, path: Path) -> Path:
    """Quality against labelled examples (log scale), one line per system, the crossover marked."""
    from suite.core.plots import axes

    metric = budget["primary_metric"]
    systems = sorted({name for p in budget["points"] for name in p["systems"]})
    with axes(path, size=(6.5, 4.5)) as ax:
        for name in systems:
            xs = [p["train_examples"] for p in budget["points"] if is_number(p["systems"].get(name))]
            ys = [p["systems"][name] for p in budget["points"] if is_number(p["systems"].get(name))]
            style = "o-" if name == TUNED else ("s--" if name.startswith("baseline:") else "^:")
            ax.plot(xs, ys, style, label=name, linewidth=2.2 if name == TUNED else 1.2)
        found = crossover(budget)
        if found:
            ax.axvline(found["train_examples"], color="grey", linestyle=":", linewidth=1)
            ax.annotate("tuned ahead from here", (found["train_examples"], found["tuned"]), fontsize=8,
                        xytext=(5, -15), textcoords="offset points")
        ax.set(xscale="log", xlabel="labelled training examples (log scale)", ylabel=f"test {metric}",
               title=f"{domain}: label budget")
        ax.legend(fontsize=8, loc="lower right")
    return Path(path)


def _fmt(value: Any, *, like: float | None = None) -> str:
    """Four decimals for rates, one for scores on a 0-100 scale (chrF); ``like``: the value whose scale to follow
    (a difference of two chrF scores is shown as one)."""
    if not is_number(value):
        return "–"
    return f"{value:.4f}" if abs(value if like is None else like) < 10 else f"{value:.1f}"
