"""The run's card on the served page: what was tuned, how it compares, where it decides; read from the run's files.

Everything comes from files the run (and ``suite calibrate``) wrote: ``metrics.json`` for the table of
systems and the operating point, ``calibrations/`` for a threshold set later, ``recipe.yaml`` for the model
source, ``plots/*.png`` for the figures. Nothing here needs the model.
"""

from __future__ import annotations

from typing import Any

from suite.core import calibration
from suite.core.operating import OperatingPoint
from suite.core.report import metrics_rows
from suite.core.results import TUNED
from suite.core.runs import Run


def run_card(run: Run, system: str = TUNED) -> dict:
    """The card of a finished run, as plain JSON-ready values.

    Args:
        run: an opened, complete run folder.
        system: the system served (``tuned`` or ``hybrid``): its row is marked and its operating point shown.

    Returns:
        ``run``, ``domain``, ``recipe``, ``created``, ``system``, ``source``, ``primary_metric``, ``table``
        (header row, then one row per system, best first; see :func:`suite.core.report.metrics_rows`),
        ``roles`` (system -> role), ``operating_points`` (see :func:`operating_points`) and ``plots``
        (file names under ``plots/``).

    Example:
        >>> run_card(Run.open("runs/spam-tiny-20261126-140201"))["table"][0][:2]
        ['system', 'f1']
    """
    metrics = run.metrics()
    models = metrics.get("models") or {}
    columns = [c for c in (metrics.get("headline_metrics") or []) if any(_is_number(m.get(c)) for m in models.values())]
    return {
        "run": run.path.name,
        "domain": metrics.get("domain"),
        "recipe": metrics.get("recipe"),
        "created": metrics.get("created"),
        "system": system,
        "source": _model_source(run),
        "primary_metric": metrics.get("primary_metric"),
        "table": metrics_rows(metrics, columns=columns or None) if models else [],
        "roles": metrics.get("roles") or {},
        "operating_points": operating_points(run, metrics, system),
        "plots": sorted(p.name for p in run.plots_dir.glob("*.png") if p.is_file()),
    }


def operating_points(run: Run, metrics: dict, system: str) -> list[dict]:
    """Where the served system's threshold stands, each with its rates and their 95% intervals.

    The newest calibration of ``system`` where there is one (measured on its own data), else the run's own
    points on validation and test (the tuned system's); none for a domain or system without a threshold.
    Each item: ``where``, ``describe`` (the one line :meth:`OperatingPoint.describe` gives) and the point's
    fields (``threshold``, ``fpr``, ``fpr_low``, ``fpr_high``, ``negatives``...).
    """
    found = calibration.latest(run.path, system)
    if found is not None:
        return [_point(f"calibration on {found[1].get('data', '?')}", found[1]["operating_point"])]
    if system != TUNED:                      # the run measured its own points for the tuned system only
        return []
    point = metrics.get("operating_point") or {}
    return [_point(f"{part} split", point[part]) for part in ("validation", "test")
            if isinstance(point.get(part), dict)]


def _point(where: str, fields: dict) -> dict:
    try:
        describe = OperatingPoint(**fields).describe()
    except (TypeError, ValueError):         # a point of another schema: its numbers, without the sentence
        describe = ""
    return {"where": where, "describe": describe, **fields}


def _model_source(run: Run) -> Any:
    try:
        return run.recipe().model.source
    except Exception:  # noqa: BLE001 - a card without the source is still a card
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
