"""What ``GET /info`` says about the served run, read once from its own files (never written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.core.runs import Run


def run_info(source: Any, system: str = "tuned", engine: str = "torch") -> dict:
    """Domain, recipe, the served system's headline metrics and the package versions of what is served.

    The metrics are those that metrics.json lists in ``headline_metrics`` (every number of the system when it
    lists none); an exported folder served on its own has only its self-check's primary metric (ONNX on the test
    split). With an ONNX export, ``export`` holds its self-check. Nothing here needs the model.

    Args:
        source: what :func:`suite.core.actions.open_source` opened: a finished run, or an exported folder.
        system: the system served (``tuned`` or ``hybrid``).
        engine: ``torch`` or ``onnx``.

    Example:
        >>> run_info(open_source("runs/spam-tiny-20261126-140201"))["domain"]
        'spam'
    """
    exported = source.exported.document if source.exported is not None else None
    common = {"system": system, "engine": engine, "export": _export_info(source.exported)}
    if source.run is None:
        check = exported.get("check") or {}
        return {**common, "run": Path(exported["run"]).name, "domain": exported["domain"], "recipe": exported["recipe"],
                "created": exported["created"], "primary_metric": exported.get("primary_metric"),
                "greater_is_better": exported.get("greater_is_better"),
                "metrics": {check["metric"]: check["onnx"]} if system == "tuned" and check else {},
                "packages": exported.get("packages", {}), "python": None}
    run = source.run
    metrics = run.metrics()
    environment = _read_optional(run, "environment.json")
    served = metrics.get("models", {}).get(system, {})
    headline = dict.fromkeys([metrics.get("primary_metric"), *(metrics.get("headline_metrics") or served)])
    return {
        **common,
        "run": run.path.name,
        "domain": metrics.get("domain"),
        "recipe": metrics.get("recipe"),
        "created": metrics.get("created"),
        "primary_metric": metrics.get("primary_metric"),
        "greater_is_better": metrics.get("greater_is_better"),
        "metrics": {name: served[name] for name in headline if _is_number(served.get(name))},
        "packages": environment.get("packages", {}),
        "python": environment.get("python"),
    }


def _export_info(exported: Any) -> dict | None:
    """The served ONNX export: its folder, int8 or not, and its self-check (None with the PyTorch engine)."""
    if exported is None:
        return None
    document = exported.document
    return {"folder": str(exported.path), "int8": document.get("int8"), "quantisation": document.get("quantisation"),
            "check": document.get("check")}


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
