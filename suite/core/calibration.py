"""Calibrations: a threshold re-set on a user's labelled sample, written beside a finished run, never over it.

``suite calibrate RUN --data FILE`` scores FILE with the run's tuned model, chooses the threshold
for the run's target (or another) on it, and writes ``calibrations/<timestamp>.json`` with the
operating point that threshold gives there (rates and 95% intervals). The run's own
``model/suite.json`` and ``metrics.json`` keep the threshold chosen at training time;
:func:`apply_latest` puts the newest calibration's threshold into a loaded predictor, which is
what ``suite predict``, ``suite serve`` and ``suite eval`` then use.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

FOLDER = "calibrations"


def latest(run_path: Path) -> tuple[Path, dict] | None:
    """The newest calibration of a run (its file and record), or None."""
    files = sorted((Path(run_path) / FOLDER).glob("*.json"))
    if not files:
        return None
    return files[-1], json.loads(files[-1].read_text(encoding="utf-8"))


def apply_latest(predictor: Any, run_path: Path) -> Path | None:
    """Set ``predictor.threshold`` from the newest calibration; return its file (None: none, nothing changed)."""
    found = latest(run_path)
    if found is None or not hasattr(predictor, "threshold"):
        return None
    predictor.threshold = found[1]["threshold"]
    return found[0]


def record(*, threshold: float, previous: float, point: dict, data: str) -> dict:
    """The calibration record written to ``calibrations/<timestamp>.json``."""
    return {"threshold": threshold, "previous_threshold": previous, "data": data, "operating_point": point,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def file_name() -> str:
    """``calibrations/<timestamp>.json``; timestamps sort in time order."""
    return f"{FOLDER}/{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.json"
