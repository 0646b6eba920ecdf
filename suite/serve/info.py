"""What ``GET /info`` says about the served run, read once from its own files (never written)."""

from __future__ import annotations

from typing import Any

from suite.core.runs import Run


def run_info(run: Run, system: str = "tuned") -> dict:
    """Domain, recipe, the served system's headline metrics and the package versions of a finished run.

    The metrics are those that metrics.json lists in ``headline_metrics`` (every number
    of the system when it lists none); nothing here needs the model.

    Args:
        run: an opened, complete run folder.
        system: the system served (``tuned`` or ``hybrid``).

    Example:
        >>> run_info(Run.open("runs/spam-tiny-20261126-140201"))["domain"]
        'spam'
    """
    metrics = run.metrics()
    environment = _read_optional(run, "environment.json")
    served = metrics.get("models", {}).get(system, {})
    headline = dict.fromkeys([metrics.get("primary_metric"), *(metrics.get("headline_metrics") or served)])
    return {
        "run": run.path.name,
        "domain": metrics.get("domain"),
        "recipe": metrics.get("recipe"),
        "system": system,
        "created": metrics.get("created"),
        "primary_metric": metrics.get("primary_metric"),
        "greater_is_better": metrics.get("greater_is_better"),
        "metrics": {name: served[name] for name in headline if _is_number(served.get(name))},
        "packages": environment.get("packages", {}),
        "python": environment.get("python"),
    }


def threshold_of(predictor: Any) -> Any:
    """The operating threshold a predictor decides at, if it has one (spam, diagnostics), else None."""
    return getattr(predictor, "threshold", None)


def _read_optional(run: Run, name: str) -> dict:
    try:
        data = run.read_json(name)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
