"""Reading a benchmark's finished runs: every system of every ``metrics.json`` into the results' shape.

A run's tuned model is reported under the plan's label for the run; its other systems
(``baseline:<name>``, ``zero-shot``, ``hybrid``) under their own names, the first run that
evaluated one winning. Cost figures belong to the tuned model only: the baselines are
fitted inside the same process, so no separate time or memory can be given to them.

Training FLOPs come from the Trainer's own count (``total_flos``: 6 x non-embedding
parameters x tokens) when it is above zero; otherwise they are estimated as
6 x parameters x training samples, which counts one position per sample and so is a
lower bound for convolutional and sequence models (``flops_source`` says which).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from suite.core import runs
from suite.core.errors import SuiteError

_INFERENCE = re.compile(r"^inference_(\w+)_per_second$")


def collect_domain(name: str, run_records: dict, out: Path) -> dict:
    """Systems of the domain's finished runs, and the domain's status."""
    systems, info = {}, {}
    for label, record in run_records.items():
        if record["status"] != "ok":
            continue
        folder = out / record["run_dir"]
        metrics = json.loads((folder / runs.METRICS_FILE).read_text(encoding="utf-8"))
        environment = _read_json(folder / "environment.json") or {}
        record.update(torch_threads=environment.get("torch_threads"), seed=environment.get("seed"))
        info = info or {"primary_metric": metrics["primary_metric"], "greater_is_better": metrics["greater_is_better"],
                        "headline_metrics": metrics.get("headline_metrics") or [], "data": _scalars(metrics.get("data"))}
        for model, values in metrics["models"].items():
            system = label if model == "tuned" else model
            if system in systems:   # the same baseline evaluated again by another run: keep the first
                continue
            systems[system] = _system(values, run=label, trained=model == "tuned", record=record,
                                      training=metrics.get("training") or {},
                                      history=_read_json(folder / "logs" / "log_history.json") or [])
    if not info:   # nothing finished: the domain's own definition still names its metric, if it loads
        try:
            from suite.core import registry

            definition = registry.get_domain(name)
            info = {"primary_metric": definition.primary_metric, "greater_is_better": definition.greater_is_better}
        except SuiteError:
            pass
    failures = [f"{label}: {record['error']}" for label, record in run_records.items() if record["status"] != "ok"]
    status = "ok" if not failures else "partial" if systems else "failed"
    return {"status": status, "error": "; ".join(failures) or None, **info, "systems": systems}


def _system(values: dict, *, run: str, trained: bool, record: dict, training: dict, history: list) -> dict:
    system = {"run": run, "trained": trained, "metrics": _scalars(values)}
    if not trained:
        return system
    inference = next(((key, value) for key, value in training.items() if _INFERENCE.match(key)), (None, None))
    flops, source = _training_flops(training, history)
    seconds = training.get("train_seconds")
    system.update(
        trainable_parameters=training.get("trainable_parameters"), total_parameters=training.get("total_parameters"),
        train_seconds=seconds, train_samples_per_second=training.get("train_samples_per_second"),
        steps=training.get("steps"), inference_samples_per_second=inference[1],
        inference_unit=_INFERENCE.match(inference[0]).group(1) if inference[0] else None,
        peak_rss_mb=record.get("peak_rss_mb"), training_flops=flops, flops_source=source,
        training_flops_per_second=flops / seconds if flops and seconds else None)
    return system


def _training_flops(training: dict, history: list) -> tuple[float | None, str | None]:
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
            "flops_formula": "trainer: transformers' total_flos (6 x non-embedding parameters x tokens); "
                             "estimate: 6 x parameters x training samples (a lower bound for conv/sequence models)"}




def _scalars(values: Any) -> dict:
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
