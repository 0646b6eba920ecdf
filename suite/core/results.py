"""Typed results of a run: every system's metrics with its role, training and inference figures.

``metrics.json`` is the serialisation of :class:`RunResult` (schema 2)::

    {
      "schema": 2,
      "domain": "spam", "recipe": "default",
      "primary_metric": "f1", "greater_is_better": true,
      "headline_metrics": ["f1", "recall_at_target_fpr", ...],   # table columns
      "models": {"tuned": {"f1": 0.97, ...}, "baseline:tfidf-logreg": {...}},
      "roles": {"tuned": "tuned", "baseline:tfidf-logreg": "baseline"},
      "inference": {"per_second": 68.2, "unit": "messages"},       # the tuned system, every evaluated part
      "operating_point": {"validation": {...}, "test": {...}},     # binary domains: the tuned threshold's rates
      "training": {"train_seconds": ..., "steps": ..., ...},
      "data": {...}, "notes": [...], "comparisons": {...}, "created": "..."
    }

Schema 1 (before 0.2) had no ``schema``, ``roles`` or ``inference`` keys; :meth:`RunResult.from_json`
reads it too (roles from the system names, throughput from the ``inference_*_per_second`` key).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 2

TUNED = "tuned"
ZERO_SHOT = "zero-shot"
HYBRID = "hybrid"
BASELINE = "baseline"
STAGE = "stage"                     # the model as an earlier phase of its strategy left it (stage:linear-probe)
ROLES = (TUNED, BASELINE, ZERO_SHOT, HYBRID, STAGE)
SERVABLE = (TUNED, HYBRID)          # the systems of a finished run that predict, serve and calibrate can load
_BASELINE_PREFIX = "baseline:"
_STAGE_PREFIX = "stage:"


def baseline_system(name: str) -> str:
    """The system name of classical baseline ``name`` (``baseline:tfidf-logreg``)."""
    return f"{_BASELINE_PREFIX}{name}"


def baseline_name(system: str) -> str:
    """The baseline name of system ``baseline:<name>`` (the inverse of :func:`baseline_system`)."""
    return system.removeprefix(_BASELINE_PREFIX)


def role_of(system: str) -> str:
    """The role of a system from its name (what schema-1 files and plans imply)."""
    if system.startswith(_BASELINE_PREFIX):
        return BASELINE
    if system.startswith(_STAGE_PREFIX):
        return STAGE
    return system if system in ROLES else TUNED


@dataclass
class Throughput:
    """Examples the tuned system evaluated per second (scoring the test split), with their unit."""

    per_second: float
    unit: str


@dataclass
class SystemResult:
    """One system's metrics on the test split and its role (tuned, baseline, zero-shot, hybrid)."""

    name: str
    role: str
    metrics: dict[str, Any]


@dataclass
class RunResult:
    """Everything a run (or a later evaluation) measured; ``to_json`` is the metrics.json document."""

    domain: str
    recipe: str
    primary_metric: str
    greater_is_better: bool
    headline_metrics: list[str]
    systems: dict[str, SystemResult]
    data: dict = field(default_factory=dict)
    training: dict | None = None
    inference: Throughput | None = None
    comparisons: dict = field(default_factory=dict)
    operating_point: dict | None = None
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    extra: dict = field(default_factory=dict)       # keys of the document this class does not model

    def by_role(self, role: str) -> list[SystemResult]:
        """Systems of one role, in the order they were evaluated."""
        return [s for s in self.systems.values() if s.role == role]

    def best(self, role: str) -> SystemResult | None:
        """The system of ``role`` with the best primary metric (None: no such system with the metric)."""
        sign = 1 if self.greater_is_better else -1
        scored = [s for s in self.by_role(role) if is_number(s.metrics.get(self.primary_metric))]
        return max(scored, key=lambda s: sign * s.metrics[self.primary_metric], default=None)

    def to_json(self) -> dict:
        """The metrics.json document."""
        document = {"schema": SCHEMA, "domain": self.domain, "recipe": self.recipe,
                    "primary_metric": self.primary_metric, "greater_is_better": self.greater_is_better,
                    "headline_metrics": list(self.headline_metrics),
                    "models": {name: s.metrics for name, s in self.systems.items()},
                    "roles": {name: s.role for name, s in self.systems.items()},
                    "inference": None if self.inference is None else {"per_second": self.inference.per_second,
                                                                      "unit": self.inference.unit},
                    "training": self.training, "data": self.data, "notes": self.notes}
        if self.comparisons:
            document["comparisons"] = self.comparisons
        if self.operating_point:
            document["operating_point"] = self.operating_point
        return {**document, **self.extra, "created": self.created}

    @classmethod
    def from_json(cls, document: dict) -> RunResult:
        """Read a metrics.json document (schema 2, or schema 1 of earlier versions)."""
        known = {"schema", "domain", "recipe", "primary_metric", "greater_is_better", "headline_metrics", "models",
                 "roles", "inference", "training", "data", "notes", "comparisons", "operating_point", "created"}
        roles = document.get("roles") or {}
        systems = {name: SystemResult(name, roles.get(name) or role_of(name), values)
                   for name, values in document["models"].items()}
        return cls(domain=document["domain"], recipe=document["recipe"],
                   primary_metric=document["primary_metric"],
                   greater_is_better=document.get("greater_is_better", True),
                   headline_metrics=list(document.get("headline_metrics") or []), systems=systems,
                   data=document.get("data") or {}, training=document.get("training"),
                   inference=_throughput(document), comparisons=document.get("comparisons") or {},
                   operating_point=document.get("operating_point"),
                   notes=list(document.get("notes") or []), created=document.get("created", ""),
                   extra={k: v for k, v in document.items() if k not in known})


_SCHEMA1_INFERENCE = re.compile(r"^inference_(\w+)_per_second$")


def _throughput(document: dict) -> Throughput | None:
    inference = document.get("inference")
    if isinstance(inference, dict) and is_number(inference.get("per_second")):
        return Throughput(float(inference["per_second"]), str(inference.get("unit", "examples")))
    for key, value in (document.get("training") or {}).items():     # schema 1
        match = _SCHEMA1_INFERENCE.match(key)
        if match and is_number(value):
            return Throughput(float(value), match.group(1))
    return None


def is_number(value: Any) -> bool:
    """A real number that is not NaN (a bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
