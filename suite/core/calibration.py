"""Calibrations: a threshold re-set on a user's labelled sample, written beside a finished run, never over it.

``suite calibrate RUN --data FILE [--system hybrid]`` scores FILE with the run's tuned model (or its
saved hybrid), chooses the threshold for the run's target (or another) on it, and writes
``calibrations/<timestamp>.json`` with the operating point that threshold gives there (rates and 95%
intervals) and the system it is for. The run's own ``model/suite.json``, ``hybrid/hybrid.json`` and
``metrics.json`` keep the thresholds chosen at training time; :func:`apply_latest` puts the newest
calibration of a system into its loaded predictor, which is what ``suite predict``, ``suite serve``
and ``suite eval`` then use.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from suite.core import saved_files
from suite.core.errors import RunError
from suite.core.results import TUNED

FOLDER = "calibrations"


EXPECTED = "a calibration record as suite calibrate writes it (with a numeric threshold); remove the file"


def latest(run_path: Path, system: str = TUNED) -> tuple[Path, dict] | None:
    """The newest calibration of one system of a run (its file and record), or None. Records without a system
    are the tuned model's.

    Raises:
        RunError: a calibration file that is damaged (not JSON, or without a numeric threshold), named.
    """
    for path in sorted((Path(run_path) / FOLDER).glob("*.json"), reverse=True):
        found = saved_files.read_json(path, what=EXPECTED)
        if found.get("system", TUNED) == system:
            if not _is_number(found.get("threshold")) or not isinstance(found.get("operating_point", {}), dict):
                raise RunError(f"{path}: damaged (no numeric threshold); expected {EXPECTED}")
            return path, found
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def apply_latest(predictor: Any, run_path: Path, system: str = TUNED) -> Path | None:
    """Set ``predictor.threshold`` from the system's newest calibration; return its file (None: none, nothing
    changed)."""
    found = latest(run_path, system)
    if found is None or not hasattr(predictor, "threshold"):
        return None
    predictor.threshold = found[1]["threshold"]
    return found[0]


def record(*, threshold: float, previous: float, point: dict, data: str, system: str = TUNED) -> dict:
    """The calibration record written to ``calibrations/<timestamp>.json``."""
    return {"system": system, "threshold": threshold, "previous_threshold": previous, "data": data,
            "operating_point": point, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def file_name() -> str:
    """``calibrations/<timestamp>.json``; timestamps sort in time order."""
    return f"{FOLDER}/{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.json"
