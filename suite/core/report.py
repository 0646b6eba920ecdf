"""Tables and model cards, rendered from the shared ``metrics.json`` format.

``metrics.json`` (every domain)::

    {
      "domain": "spam", "recipe": "default",
      "primary_metric": "f1", "greater_is_better": true,
      "headline_metrics": ["f1", "recall_at_fpr", ...],    # columns for tables
      "models": {"tuned": {"f1": 0.97, ...}, "baseline:tfidf-logreg": {...}},
      "data": {...}, "training": {...}, "created": "..."
    }
"""

from __future__ import annotations

from typing import Any


def metrics_table(metrics: dict, *, columns: list[str] | None = None, fmt: str = "markdown") -> str:
    """Render ``metrics["models"]`` as a table, one row per system, best primary first.

    Args:
        metrics: a ``metrics.json`` document.
        columns: metric keys to show; default ``metrics["headline_metrics"]`` or the
            primary metric and the other scalar metrics of the first system.
        fmt: ``"markdown"`` or ``"text"`` (aligned plain columns for a terminal).
    """
    rows = metrics_rows(metrics, columns=columns)
    if fmt == "markdown":
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def metrics_rows(metrics: dict, *, columns: list[str] | None = None) -> list[list[str]]:
    """The cells of :func:`metrics_table`: a header row (``system`` and the metric keys), then one row of
    formatted values per system, best primary first (for a renderer of another format, such as the served page).

    Args:
        metrics: a ``metrics.json`` document.
        columns: metric keys to show (default as in :func:`metrics_table`).
    """
    models = metrics["models"]
    columns = columns or metrics.get("headline_metrics") or _scalar_keys(models, metrics["primary_metric"])
    primary, sign = metrics["primary_metric"], 1 if metrics.get("greater_is_better", True) else -1
    order = sorted(models, key=lambda name: _sort_key(models[name].get(primary), sign))
    return [["system", *columns]] + [[name, *(_format(models[name].get(c)) for c in columns)] for name in order]


def model_card(metrics: dict, recipe: dict, *, plots: list[str], usage: str, sections: list[str] = ()) -> str:
    """The run folder's README.md: what was tuned, on what, and how well.

    ``sections`` are extra Markdown sections from the domain (e.g. a threshold table).
    """
    training = metrics.get("training", {})
    data = metrics.get("data", {})
    lines = [
        f"# {metrics['domain']} / {metrics['recipe']}",
        "",
        recipe.get("description", "").strip() or "A model tuned with suite.",
        "",
        "## Model",
        f"- source: `{recipe['model']['source']}`"
        + ("" if recipe["model"].get("pretrained", True) else " (architecture only: weights random, not pretrained)"),
        f"- LoRA: {'on, rank ' + str(recipe['lora']['r']) if recipe['lora']['enabled'] else 'off (full fine-tuning)'}",
    ]
    for key in ("trainable_parameters", "total_parameters", "steps", "train_seconds",
                "train_samples_per_second", "peak_rss_mb"):
        if key in training:
            lines.append(f"- {key.replace('_', ' ')}: {_format(training[key])}")
    if data:
        lines += ["", "## Data", *(f"- {k.replace('_', ' ')}: {_format(v)}" for k, v in data.items()
                                   if not isinstance(v, (dict, list)))]
    lines += ["", f"## Evaluation (test split; primary metric: {metrics['primary_metric']})", "",
              metrics_table(metrics), ""]
    lines += [section.rstrip() + "\n" for section in sections]
    if metrics.get("notes"):
        lines += ["## Notes", "", *(f"- {note}" for note in metrics["notes"]), ""]
    if plots:
        lines += ["## Plots", "", *(f"![{p}]({p})" for p in plots), ""]
    lines += ["## Use", "", "```", usage.strip(), "```", "",
              "Files: `recipe.yaml` (resolved recipe), `environment.json`, `metrics.json`, `model/`, `logs/`.", ""]
    return "\n".join(lines)


def _scalar_keys(models: dict, primary: str) -> list[str]:
    first = next(iter(models.values()), {})
    rest = [k for k, v in first.items() if k != primary and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return [primary, *rest[:7]]


def _sort_key(value: Any, sign: int) -> tuple[bool, float]:
    """Best first; systems without the metric last."""
    missing = not isinstance(value, (int, float)) or value != value
    return missing, 0.0 if missing else -sign * float(value)


def _format(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def operating_section(point: dict) -> str:
    """Markdown: what the tuned model's threshold is known to give, and what that knowledge rests on."""
    from suite.core.operating import OperatingPoint, Target

    validation, test = (OperatingPoint(**point[part]) for part in ("validation", "test"))
    target = Target(**validation.target)
    return "\n".join([
        "## Operating point of `tuned`", "",
        f"The threshold {validation.threshold:.6g} was chosen on the validation split for {target.describe()}.",
        f"- validation: {validation.describe()}.",
        f"- test: {test.describe()}.", "",
        f"A rate measured on {validation.negatives} negatives cannot resolve less than {validation.resolution:.3%}; "
        "where the target is below that, re-set the threshold on a larger labelled sample with "
        "`suite calibrate RUN --data FILE` (the run's own files stay as they are)."])


def hybrid_section(mixed, *, rows: int = 12) -> str:
    """Markdown: the validation score of the best weight combinations the hybrid tried (the chosen one marked)."""
    systems = list(mixed.weights)
    names = [system.removeprefix("baseline:") for system in systems]
    ranked = sorted(mixed.tried, key=lambda pair: -pair[1])[:rows]
    table = [f"| {' | '.join(names)} | validation score |", "|---" * (len(systems) + 1) + "|"]
    table += [f"| {' | '.join(f'{w[s]:g}' for s in systems)} | {value:.4f}{' (chosen)' if w == mixed.weights else ''} |"
              for w, value in ranked]
    shown = f"the best {len(ranked)} of {len(mixed.tried)} combinations tried" if len(mixed.tried) > len(ranked) \
        else f"all {len(mixed.tried)} combinations tried"
    return "\n".join(["## Hybrid weights (chosen on validation, never on test)", "",
                      f"{mixed.describe()}; {shown}, scored by the domain's validation metric.", "", *table])
