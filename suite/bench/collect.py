"""Reading a benchmark's finished runs: every system of every ``metrics.json`` into the results' shape.

A run's tuned model is reported under the plan's label for the run; its other systems
(``baseline:<name>``, ``zero-shot``, ``hybrid``) under their own names, the first run that
evaluated one winning. Cost figures belong to the tuned model only: the baselines are
fitted inside the same process, so no separate time or memory can be given to them.

Training FLOPs are counted: torch's ``FlopCounterMode`` over a few training batches (forward and
backward) gives FLOPs per sample, times the samples trained (``measured``). Runs made before
that fall back to the Trainer's own count (``total_flos``: 6 x non-embedding parameters x tokens)
or to 6 x parameters x training samples; ``flops_source`` says which.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suite.bench import budget
from suite.core import runs
from suite.core.errors import SuiteError
from suite.core.results import TUNED, RunResult


def collect_domain(name: str, run_records: dict, out: Path, *, figure: str | None = None) -> dict:
    """Systems of the domain's finished runs, its label-budget curve (with the operating ``figure`` of each
    system at each size, where the plan names one), and the domain's status."""
    systems, info = {}, {}
    for label, record in run_records.items():
        if record["status"] != "ok" or label.startswith(budget.BUDGET_PREFIX):
            continue
        folder = out / record["run_dir"]
        result = RunResult.from_json(json.loads((folder / runs.METRICS_FILE).read_text(encoding="utf-8")))
        environment = _read_json(folder / "environment.json") or {}
        record.update(torch_threads=environment.get("torch_threads"), seed=environment.get("seed"))
        info = info or {"primary_metric": result.primary_metric, "greater_is_better": result.greater_is_better,
                        "headline_metrics": result.headline_metrics, "data": _scalars(result.data)}
        for system in result.systems.values():
            key = label if system.role == TUNED else system.name
            if key in systems:   # the same baseline evaluated again by another run: keep the first
                continue
            systems[key] = _system(system, result, run=label, record=record,
                                   history=_read_json(folder / "logs" / "log_history.json") or [])
    if not info:   # nothing finished: the domain's own definition still names its metric, if it loads
        try:
            from suite.core import registry

            definition = registry.get_domain(name)
            info = {"primary_metric": definition.primary_metric, "greater_is_better": definition.greater_is_better}
        except SuiteError:
            pass
    failures = [f"{label}: {record['error']}" for label, record in run_records.items() if record["status"] != "ok"]
    curve = budget.curve(run_records, out, figure=figure)
    if curve and not info:
        info = {k: curve[k] for k in ("primary_metric", "greater_is_better")}
    status = "ok" if not failures else "partial" if systems or curve else "failed"
    return {"status": status, "error": "; ".join(failures) or None, **info, "systems": systems,
            **({"budget": curve} if curve else {})}


def _system(system: Any, result: RunResult, *, run: str, record: dict, history: list) -> dict:
    trained = system.role == TUNED
    entry = {"run": run, "trained": trained, "role": system.role, "metrics": _scalars(system.metrics)}
    if not trained:
        return entry
    training = result.training or {}
    flops, source = _training_flops(training, history)
    seconds = training.get("train_seconds")
    entry.update(
        trainable_parameters=training.get("trainable_parameters"), total_parameters=training.get("total_parameters"),
        train_seconds=seconds, train_samples_per_second=training.get("train_samples_per_second"),
        steps=training.get("steps"),
        inference_samples_per_second=result.inference.per_second if result.inference else None,
        inference_unit=result.inference.unit if result.inference else None,
        peak_rss_mb=record.get("peak_rss_mb"), training_flops=flops, flops_source=source,
        training_flops_per_second=flops / seconds if flops and seconds else None)
    return entry


def _training_flops(training: dict, history: list) -> tuple[float | None, str | None]:
    """Training FLOPs: counted by torch's FlopCounterMode (``measured``), else transformers' estimate
    (``trainer``), else 6 x parameters x samples (``estimate``, a lower bound for conv and sequence models)."""
    if training.get("training_flops"):
        return float(training["training_flops"]), "measured"
    counted = training.get("total_flos") or next((h["total_flos"] for h in reversed(history) if "total_flos" in h), 0)
    if counted and counted > 0:
        return float(counted), "trainer"
    samples = (training.get("train_samples_per_second") or 0) * (training.get("train_seconds") or 0)
    parameters = training.get("total_parameters") or 0
    if samples > 0 and parameters > 0:
        return 6.0 * parameters * samples, "estimate"
    return None, None


def compute(domains: dict, start: dict, end: dict, size: int) -> dict:
    peak = max(start["flops_per_second"], end["flops_per_second"])
    for entry in domains.values():
        for system in entry.get("systems", {}).values():
            if system.get("training_flops_per_second"):
                system["share_of_matmul_peak"] = system["training_flops_per_second"] / peak
    return {"matmul_peak_flops": peak, "matmul_size": size, "matmul_at_start": start, "matmul_at_end": end,
            "flops_formula": "measured: torch FlopCounterMode over three training batches (forward and backward) per "
                             "sample, times the samples trained; trainer: transformers' total_flos (6 x non-embedding "
                             "parameters x tokens); estimate: 6 x parameters x training samples (a lower bound)"}




def _scalars(values: Any) -> dict:
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
