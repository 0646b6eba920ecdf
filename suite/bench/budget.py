"""Label-budget curves: quality against the number of labelled examples, tuned and classical.

A plan's domain may hold a ``budget``: one recipe trained again and again on more labelled examples (the
recipe key that sets them, and its sizes), every time with its classical baselines refitted on exactly those
examples and every system scored on the same whole test split. For spam and diagnostics the key is
``data.label_budget``: N labels in all, the validation that picks checkpoints, thresholds and weights included
(:mod:`suite.core.label_budget`). A budget may try several training strategies at each size and repeat each
size over several draws of the labelled examples. The curve answers the question users bring: for my number of
labels, does tuning a pretrained model beat the classical method, and where do the two cross?

- :func:`curve` reads the budget's finished runs into points: per size, every system's mean over the draws
  with its spread; ``tuned`` is the strategy that *validation* picked on each draw (the best validation score;
  a tie goes to the lower validation log-loss, then to the cheaper strategy), never test; each tried strategy
  has its own curve beside it (a run of ``lp-ft`` also gives ``linear-probe``, the stage before its
  fine-tuning); and the picked model's paired differences with each baseline over the draws;
- :func:`crossover` finds the smallest size from which the tuned model stays ahead of the best baseline;
- :func:`verdict` says it in one sentence; :func:`plot` draws it with the spread and the crossover marked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suite.core import runs
from suite.core.metrics.paired import paired_over_draws
from suite.core.results import BASELINE, HYBRID, STAGE, TUNED, ZERO_SHOT, RunResult, is_number

BUDGET_PREFIX = "budget-"
STRATEGY = "strategy"
"""The role of a tried strategy's curve (``tuned`` is the one validation picked)."""


def run_label(size: Any, *, strategy: str | None = None, draw: int | None = None) -> str:
    """The system label of a budget run: ``budget-128``, ``budget-0.1``, ``budget-all``, and with a strategy or a
    draw ``budget-32-lp-ft-d0``."""
    label = f"{BUDGET_PREFIX}{'all' if size is None else f'{size:g}' if isinstance(size, float) else size}"
    return label + (f"-{strategy}" if strategy else "") + (f"-d{draw}" if draw is not None else "")


def curve(run_records: dict, out: Path, *, figure: str | None = None) -> dict | None:
    """The budget runs of one domain as a curve (None: the domain has no finished budget run).

    Returns:
        ``{"primary_metric", "greater_is_better", "figure", "points": [...]}``, points in order of labelled
        examples, each ``{"size", "train_examples", "draws", "systems": {name: mean}, "roles", "spread": {name:
        {"sd", "low", "high", "n"}}, "figures", "intervals", "comparisons", "paired": {baseline: paired
        difference over the draws}, "picked": {strategy: draws}, "costs": {strategy: {"train_seconds",
        "training_flops"}}}``.
    """
    groups: dict[Any, dict[int, list]] = {}
    info: dict = {}
    for label, record in run_records.items():
        if not label.startswith(BUDGET_PREFIX) or record.get("status") != "ok":
            continue
        result = RunResult.from_json(json.loads((out / record["run_dir"] / runs.METRICS_FILE).read_text()))
        info = {"primary_metric": result.primary_metric, "greater_is_better": result.greater_is_better,
                "figure": figure}
        draws = groups.setdefault(record.get("budget", label), {})
        draws.setdefault(record.get("draw") or 0, []).append((record, result))
    if not groups:
        return None
    points = [_point(size, draws, info["primary_metric"], figure) for size, draws in groups.items()]
    if any(p.pop("label_budget") for p in points):         # labels in all: the whole-data point counts validation too
        for p in points:
            p["train_examples"] = p.pop("labels")
    for p in points:
        p.pop("labels", None)
    points.sort(key=lambda p: p["train_examples"] or 0)
    return {**info, "points": points}


def _point(size: Any, draws: dict[int, list], metric: str, figure: str | None) -> dict:
    """One size: every draw's candidates, the pick of each, and the means over the draws."""
    per_draw, roles, picked, costs = [], {}, {}, {}
    examples, budgeted, labels = None, None, None
    for draw in sorted(draws):
        candidates, others = {}, {}
        for record, result in draws[draw]:
            examples = examples or result.data.get("train")
            budgeted = result.data.get("label_budget")
            labels = budgeted or (result.data.get("train") or 0) + (result.data.get("validation") or 0)
            for system in result.systems.values():
                entry = {"value": system.metrics.get(metric), "figure": system.metrics.get(figure) if figure else None,
                         "validation": system.metrics.get("validation_score"),
                         "validation_loss": system.metrics.get("validation_log_loss"), "result": result}
                if system.role in (TUNED, STAGE):
                    name = _strategy_of(system.name, record, result)
                    if system.role == TUNED or name not in candidates:     # a run of the strategy itself wins
                        candidates[name] = {**entry, **_cost(result, stage=system.role == STAGE)}
                elif system.role != HYBRID:
                    others.setdefault(system.name, entry)
                    roles[system.name] = system.role
        choice = _pick(candidates)
        picked[choice] = picked.get(choice, 0) + 1
        hybrid = candidates[choice]["result"].systems.get(HYBRID)
        row = {name: entry for name, entry in others.items()}
        row.update({name: entry for name, entry in candidates.items()} if len(candidates) > 1 else {})
        row[TUNED] = candidates[choice]
        if hybrid is not None:
            row[HYBRID] = {"value": hybrid.metrics.get(metric),
                           "figure": hybrid.metrics.get(figure) if figure else None}
            roles[HYBRID] = HYBRID
        for name, entry in candidates.items():
            costs.setdefault(name, []).append(entry)
            if len(candidates) > 1:
                roles[name] = STRATEGY
        per_draw.append(row)
    roles[TUNED] = TUNED
    names = sorted({name for row in per_draw for name in row})
    values = {name: [row[name]["value"] for row in per_draw if name in row and is_number(row[name]["value"])]
              for name in names}
    chosen = per_draw[0][TUNED]["result"] if len(per_draw) == 1 else None
    point = {
        "size": size, "train_examples": examples, "labels": labels, "label_budget": budgeted, "draws": len(per_draw),
        "systems": {name: _mean(v) for name, v in values.items()},
        "roles": {name: roles.get(name, TUNED) for name in names},
        "spread": {name: _spread(v) for name, v in values.items() if len(v) > 1},
        "figures": {name: _mean([row[name]["figure"] for row in per_draw if name in row
                                 and is_number(row[name]["figure"])]) for name in names} if figure else {},
        "intervals": _intervals(chosen, metric) if chosen else {},
        "comparisons": _tuned_comparisons(chosen.comparisons or {}, metric) if chosen else {},
        "paired": _paired(per_draw, roles) if len(per_draw) > 1 else {},
        "picked": picked,
        "costs": {name: {key: _mean([e[key] for e in entries if is_number(e[key])])
                         for key in ("train_seconds", "training_flops")} for name, entries in costs.items()},
    }
    return point


def _strategy_of(system: str, record: dict, result: RunResult) -> str:
    """The strategy a tuned or stage system stands for: ``stage:linear-probe`` -> ``linear-probe``; a run's tuned
    model -> the plan's name for the run's strategy, else the strategy the run recorded."""
    if system.startswith(f"{STAGE}:"):
        return system.removeprefix(f"{STAGE}:")
    return record.get("strategy") or (result.training or {}).get("strategy") or "fine-tune"


def _cost(result: RunResult, *, stage: bool) -> dict:
    """Training seconds and FLOPs of a candidate: a stage's are those of the phases before fine-tuning."""
    training = result.training or {}
    phases = training.get("phases") or []
    if stage:
        before = phases[:-1]
        flops = [p.get("flops") for p in before]
        return {"train_seconds": sum(p.get("seconds") or 0 for p in before),
                "training_flops": sum(flops) if all(is_number(f) for f in flops) else None}
    return {"train_seconds": training.get("train_seconds"), "training_flops": training.get("training_flops")}


def _pick(candidates: dict) -> str:
    """The candidate with the best validation score; of those tied on it (a small validation part gives every good
    system a perfect F1), the lowest validation log-loss; then the cheaper one. With no scores, the one there is."""
    def key(name):
        entry = candidates[name]
        score = entry["validation"] if is_number(entry["validation"]) else float("-inf")
        loss = entry["validation_loss"] if is_number(entry["validation_loss"]) else float("inf")
        return (-score, loss, entry["train_seconds"] if is_number(entry["train_seconds"]) else float("inf"), name)

    return min(candidates, key=key)


def _paired(per_draw: list[dict], roles: dict) -> dict:
    """The picked model against each baseline, over the draws that scored both."""
    out = {}
    for name in sorted({n for row in per_draw for n in row if roles.get(n) == BASELINE}):
        pairs = [(row[TUNED]["value"], row[name]["value"]) for row in per_draw
                 if name in row and is_number(row[TUNED]["value"]) and is_number(row[name]["value"])]
        if len(pairs) > 1:
            out[name] = paired_over_draws([a for a, _ in pairs], [b for _, b in pairs])
    return out


def _intervals(result: RunResult, metric: str) -> dict:
    return {TUNED if s.role == TUNED else s.name: [s.metrics[f"{metric}_ci_low"], s.metrics[f"{metric}_ci_high"]]
            for s in result.systems.values() if f"{metric}_ci_low" in s.metrics and s.role != STAGE}


def _mean(values: list) -> float | None:
    return float(sum(values) / len(values)) if values else None


def _spread(values: list) -> dict:
    import numpy as np

    return {"sd": float(np.std(values, ddof=1)), "low": float(min(values)), "high": float(max(values)),
            "n": len(values)}


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
                 "interval": point["intervals"].get(TUNED), "draws": point.get("draws", 1), "point": point,
                 "paired": (point.get("paired") or {}).get(name) or point.get("comparisons", {}).get(name)}
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
        level = last["systems"].get(TUNED) == value       # e.g. lp-ft that kept the probe's head: the baseline itself
        ahead = f"{name.removeprefix('baseline:')} {{}} all {last['train_examples']:,} labelled examples"
        verb = "is level with the tuned model at" if level else "is ahead with" if wins else "stays ahead up to"
        start = (f"tuning wins only at {' and '.join(wins)} labelled examples; " if wins else "") + \
            "the classical " + ahead.format(verb)
        sentence = (f"{domain}: {start} ({metric} {_fmt(value)} against the tuned model's "
                    f"{_fmt(last['systems'].get(TUNED))}): tuning does not "
                    f"{'beat it' if level else 'pay'} at this budget")
    else:
        point = found["point"]
        interval = f" (95% CI {_fmt(found['interval'][0])}-{_fmt(found['interval'][1])})" if found["interval"] else ""
        start = "at every size tried, from" if found["train_examples"] == budget["points"][0]["train_examples"] \
            else "from"
        sentence = (f"{domain}: the tuned model{_picked_clause(point)} beats the best classical baseline {start} "
                    f"{found['train_examples']:,} labelled examples: {metric} "
                    f"{_fmt_spread(point, TUNED)}{interval} against {found['baseline'].removeprefix('baseline:')}'s "
                    f"{_fmt_spread(point, found['baseline'])} there{_paired_clause(found['paired'])}")
    return (sentence + _repeated_clause(budget, found, sign) + _zero_shot_clause(last, sign)
            + _figure_clause(budget.get("figure"), last) + ".")


def _repeated_clause(budget: dict, found: dict | None, sign: int) -> str:
    """Each size repeated over draws (other than the one the sentence already quotes): the picked model against the
    best baseline there, as the paired difference over the draws."""
    clauses = []
    for point in budget["points"]:
        if point.get("draws", 1) < 2 or (found and point is found["point"]):
            continue
        name, _ = _best_baseline(point, sign)
        if name is None:
            continue
        clauses.append(f"at {point['train_examples']:,} labelled examples{_picked_clause(point)}: "
                       f"{budget['primary_metric']} {_fmt_spread(point, TUNED)} against "
                       f"{name.removeprefix('baseline:')}'s {_fmt_spread(point, name)}"
                       f"{_paired_clause((point.get('paired') or {}).get(name))}")
    return "; " + "; ".join(clauses) if clauses else ""


def _picked_clause(point: dict) -> str:
    """Which strategies validation picked, where there was a choice."""
    picked = point.get("picked") or {}
    if sum(1 for role in point.get("roles", {}).values() if role == STRATEGY) < 2:
        return ""
    draws = point.get("draws", 1)
    listed = ", ".join(f"{name} on {count} of {draws} draws" if draws > 1 else name
                       for name, count in sorted(picked.items(), key=lambda item: -item[1]))
    return f" (the strategy validation picked: {listed})"


def _paired_clause(paired: dict | None) -> str:
    """The paired difference with its 95% interval, and whether that interval holds 0: over repeated draws of the
    labelled examples (how far the difference moves with the sample), else the paired bootstrap of one run's test
    cases (within the noise of the test set)."""
    if not paired or not all(is_number(paired.get(k)) for k in ("difference", "difference_low", "difference_high")):
        return ""
    low, high = paired["difference_low"], paired["difference_high"]
    like = paired.get("b") if is_number(paired.get("b")) else None
    sign = "+" if paired["difference"] > 0 else ""
    if paired.get("draws"):
        noise = ": within the spread of the draws" if low <= 0 <= high else ""
        return (f" (paired difference over {paired['draws']} draws {sign}{_fmt(paired['difference'], like=like)}, 95% "
                f"CI {_fmt(low, like=like)} to {_fmt(high, like=like)}, ahead on {paired['ahead']} of "
                f"{paired['draws']}{noise})")
    noise = ", an interval that holds 0: within the noise of this test set" if low <= 0 <= high else ""
    return (f" (paired difference {sign}{_fmt(paired['difference'], like=like)}, 95% CI {_fmt(low, like=like)} to "
            f"{_fmt(high, like=like)}{noise})")


def _fmt_spread(point: dict, name: str) -> str:
    """A system's value at a point: the mean over the draws with its standard deviation, where there are several."""
    spread = (point.get("spread") or {}).get(name)
    value = _fmt(point["systems"].get(name))
    return f"{value} ± {_fmt(spread['sd'], like=point['systems'].get(name))} over {spread['n']} draws" if spread \
        else value


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
    """Rows: one per size; columns: labelled examples, draws, then each system's primary metric (the mean over the
    draws ± its standard deviation), the strategies validation picked, and the picked model's paired difference
    over the draws with the best baseline there."""
    systems = _ordered({name for p in budget["points"] for name in p["systems"]}, budget)
    repeated = any(p.get("draws", 1) > 1 for p in budget["points"])
    choices = any(len(p.get("picked") or {}) > 1 or _picked_clause(p) for p in budget["points"])
    header = ["labelled examples", *(["draws"] if repeated else []),
              *(f"{s} (validation-picked)" if s == TUNED and choices else s for s in systems),
              *(["picked"] if choices else []), *(["tuned - best baseline (95% CI over draws)"] if repeated else [])]
    sign = 1 if budget.get("greater_is_better", True) else -1
    rows = []
    for p in budget["points"]:
        cells = [f"{p['train_examples']:,}", *([str(p.get("draws", 1))] if repeated else [])]
        for name in systems:
            spread = (p.get("spread") or {}).get(name)
            cells.append(_fmt(p["systems"].get(name)) + (f" ± {_fmt(spread['sd'], like=p['systems'].get(name))}"
                                                         if spread else ""))
        if choices:
            cells.append(", ".join(f"{n} {c}" for n, c in sorted((p.get("picked") or {}).items(),
                                                                 key=lambda item: -item[1])))
        if repeated:
            best, _ = _best_baseline(p, sign)
            paired = (p.get("paired") or {}).get(best) if best else None
            cells.append(_difference_cell(paired))
        rows.append(cells)
    return header, rows


def cost_table(budget: dict) -> tuple[list[str], list[list[str]]]:
    """Rows: one per size and tried strategy: its mean training seconds and FLOPs over the draws (every phase:
    contrastive pairs, the probe's forward passes, fine-tuning; a stage's are those of the phases before its
    fine-tuning), its mean test metric, and how often validation picked it."""
    header = ["labelled examples", "strategy", "train seconds", "training FLOPs", f"test {budget['primary_metric']}",
              "picked"]
    rows = []
    for p in budget["points"]:
        for name, cost in sorted((p.get("costs") or {}).items(), key=lambda item: item[1]["train_seconds"] or 0):
            value = p["systems"].get(name, p["systems"].get(TUNED) if len(p["costs"]) == 1 else None)
            rows.append([f"{p['train_examples']:,}", name,
                         f"{cost['train_seconds']:.1f}" if is_number(cost["train_seconds"]) else "–",
                         f"{cost['training_flops']:.3g}" if is_number(cost["training_flops"]) else "–",
                         _fmt(value), f"{(p.get('picked') or {}).get(name, 0)} of {p.get('draws', 1)}"])
    return header, rows


def _difference_cell(paired: dict | None) -> str:
    if not paired or not is_number(paired.get("difference_low")):
        return "–"
    like = paired["difference"]
    return (f"{'+' if paired['difference'] > 0 else ''}{_fmt(paired['difference'], like=like)} "
            f"({_fmt(paired['difference_low'], like=like)} to {_fmt(paired['difference_high'], like=like)})")


def _ordered(names: set, budget: dict) -> list[str]:
    """Tuned first, then the strategies, the baselines, and the rest."""
    roles = {name: role for p in budget["points"] for name, role in p.get("roles", {}).items()}
    rank = {TUNED: 0, STRATEGY: 1, BASELINE: 2}
    return sorted(names, key=lambda n: (rank.get(roles.get(n, ""), 3), n))


def plot(domain: str, budget: dict, path: Path) -> Path:
    """Quality against labelled examples (log scale), one line per system, the crossover marked."""
    from suite.core.plots import axes

    metric = budget["primary_metric"]
    systems = _ordered({name for p in budget["points"] for name in p["systems"]}, budget)
    roles = {name: role for p in budget["points"] for name, role in p.get("roles", {}).items()}
    repeated = any(p.get("draws", 1) > 1 for p in budget["points"])
    with axes(path, size=(6.5, 4.5)) as ax:
        for name in systems:
            points = [p for p in budget["points"] if is_number(p["systems"].get(name))]
            xs, ys = [p["train_examples"] for p in points], [p["systems"][name] for p in points]
            errors = [(p.get("spread") or {}).get(name, {}).get("sd", 0.0) for p in points]
            role = roles.get(name)
            style = "o-" if name == TUNED else "s--" if role == BASELINE else ".-" if role == STRATEGY else "^:"
            label = f"{name} (validation-picked)" if name == TUNED and any(r == STRATEGY for r in roles.values()) \
                else name
            ax.errorbar(xs, ys, yerr=errors if repeated else None, fmt=style, label=label, capsize=3,
                        linewidth=2.2 if name == TUNED else 0.9 if role == STRATEGY else 1.2,
                        alpha=0.6 if role == STRATEGY else 1.0)
        found = crossover(budget)
        if found:
            ax.axvline(found["train_examples"], color="grey", linestyle=":", linewidth=1)
            ax.annotate("tuned ahead from here", (found["train_examples"], found["tuned"]), fontsize=8,
                        xytext=(5, -15), textcoords="offset points")
        ax.set(xscale="log", xlabel="labelled examples (log scale)",
               ylabel=f"test {metric}" + (" (mean ± sd over draws)" if repeated else ""),
               title=f"{domain}: label budget")
        ax.legend(fontsize=8, loc="lower right")
    return Path(path)


def _fmt(value: Any, *, like: float | None = None) -> str:
    """Four decimals for rates, one for scores on a 0-100 scale (chrF); ``like``: the value whose scale to follow
    (a difference of two chrF scores is shown as one)."""
    if not is_number(value):
        return "–"
    return f"{value:.4f}" if abs(value if like is None else like) < 10 else f"{value:.1f}"
