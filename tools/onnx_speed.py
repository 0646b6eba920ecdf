"""Quality, speed and size of a run's model with PyTorch fp32, ONNX fp32 and ONNX int8, side by side.

For each finished run (spam, recommendation, diagnostics) it exports the tuned model twice with
``suite export --format onnx`` (fp32, then ``--int8``) into ``--out``, so the int8 one is the run's newest export
(what ``--engine onnx`` then uses), and reads the primary metric of each engine on the run's test split from the
exports' self-checks. Then, in this process, on the same test inputs, it times the model itself (tokenizing or
transforming included, no HTTP): inputs per second at batch 1 and at batch 32. The engines take turns, one pass
each per round, ``--repeats`` rounds, so that a slow stretch of a shared machine slows all of them alike: the
table gives each engine's fastest pass and, against torch, the median of the rounds' ratios (each engine's pass
over torch's pass of the same round). Sizes are the files the engine loads (weights, or ``model.onnx``).

Set ``OMP_NUM_THREADS`` to fix the threads (torch and ONNX Runtime both take it). Command line::

    OMP_NUM_THREADS=2 python tools/onnx_speed.py runs/spam-default-... runs/recommendation-default-... \\
        runs/diagnostics-default-... --out onnx-speed
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _spam(data: Any, recipe: Any) -> tuple[list, Callable]:
    from suite.spam.data import texts_of

    return texts_of(data.test), lambda predictor, texts, batch: predictor.scores(texts, batch_size=batch)


def _recommendation(data: Any, recipe: Any) -> tuple[list, Callable]:
    """The test users' history texts; the text tower's scores of the whole catalogue for them (users/s)."""
    from suite.recommendation.pairs import history_text
    from suite.recommendation.phases import parts_of, phases_of

    history_parts, users = parts_of(phases_of(data))["test"]
    texts = [history_text([data.item_texts[i] for i in data.history(int(u), *history_parts)],
                          recipe.model.history_items) for u in users]

    def score(predictor, chunk, batch):
        predictor._last_text = None                      # the recommender keeps its last texts' scores: not here
        return predictor.text_scores(chunk, batch_size=batch)

    return texts, score


def _diagnostics(data: Any, recipe: Any) -> tuple[list, Callable]:
    return list(data.test.images), lambda predictor, images, batch: predictor.scores(images, batch_size=batch)


TORCH = "torch fp32"

WORKLOADS = {"spam": _spam, "recommendation": _recommendation, "diagnostics": _diagnostics}
"""Domain -> (test inputs, the model's scoring call on a chunk of them at a batch size)."""


def rounds(scores: dict[str, Callable[[list], Any]], inputs: list, *, batch: int, repeats: int) -> dict[str, list]:
    """Inputs per second of each scoring call over ``inputs`` in chunks of ``batch``: one pass of each per round,
    in turn, ``repeats`` rounds (after one warm-up chunk each); one rate per round."""
    for score in scores.values():
        score(inputs[:batch])
    rates: dict[str, list] = {name: [] for name in scores}
    for _ in range(repeats):
        for name, score in scores.items():
            start = time.perf_counter()
            for i in range(0, len(inputs), batch):
                score(inputs[i:i + batch])
            rates[name].append(len(inputs) / (time.perf_counter() - start))
    return rates


def against(rates: dict[str, list], reference: str) -> dict[str, float]:
    """Each engine's median over the rounds of its rate divided by ``reference``'s in the same round."""
    return {name: float(statistics.median(a / b for a, b in zip(values, rates[reference])))
            for name, values in rates.items()}


def measure(run_dir: Path, out: Path, *, single: int, batched: int, repeats: int) -> dict:
    """Rows (engine -> metric, inputs/s at batch 1 and 32, MB) for one run; the exports are written into ``out``."""
    import suite
    from suite.core import registry
    from suite.core.onnx_export import export_run
    from suite.core.runs import Run

    run = Run.open(run_dir)
    run.require_complete()
    domain = registry.get_domain(run.recipe().domain)
    folders = {"onnx fp32": out / f"{run.path.name}-onnx", "onnx int8": out / f"{run.path.name}-onnx-int8"}
    checks = {name: export_run(domain, run, folder, int8=name.endswith("int8")).check
              for name, folder in folders.items()}
    inputs, call = WORKLOADS[domain.name](domain.prepare_data(run.recipe()), run.recipe())
    predictors = {TORCH: suite.load(run.path),
                  **{name: suite.load(folder, engine="onnx") for name, folder in folders.items()}}
    sizes = {TORCH: sum(p.stat().st_size for p in run.model_dir.rglob("*.safetensors")),
             **{name: (folder / "model.onnx").stat().st_size for name, folder in folders.items()}}
    rows: dict[str, dict] = {name: {
        "metric": checks["onnx fp32"]["torch"] if name == TORCH else checks[name]["onnx"],
        "megabytes": sizes[name] / 1e6} for name in predictors}
    for batch, count in ((1, single), (32, batched)):
        scores = {name: (lambda chunk, p=predictor, b=batch: call(p, chunk, b))
                  for name, predictor in predictors.items()}
        rates = rounds(scores, inputs[:count], batch=batch, repeats=repeats)
        for name, ratio in against(rates, TORCH).items():
            rows[name].update({f"per_second_batch_{batch}": max(rates[name]), f"x_torch_batch_{batch}": ratio,
                               f"rounds_batch_{batch}": rates[name]})
    return {"run": str(run.path), "domain": domain.name, "metric": domain.primary_metric, "unit": domain.example_unit,
            "inputs": {"batch_1": min(single, len(inputs)), "batch_32": min(batched, len(inputs))}, "rows": rows}


def markdown(result: dict) -> str:
    """One table per run: each engine's test metric, throughput at batch 1 and 32 (and against torch), size."""
    unit = result["unit"]
    lines = [f"{Path(result['run']).name} ({result['domain']}; {result['inputs']['batch_1']} and "
             f"{result['inputs']['batch_32']} test {unit}):", "",
             f"| engine | test {result['metric']} | {unit}/s, batch 1 | x torch | {unit}/s, batch 32 | x torch | MB |",
             "|---|---|---|---|---|---|---|"]
    for name, row in result["rows"].items():
        lines.append(f"| {name} | {row['metric']:.4f} | {row['per_second_batch_1']:.1f} | "
                     f"{row['x_torch_batch_1']:.2f} | {row['per_second_batch_32']:.1f} | "
                     f"{row['x_torch_batch_32']:.2f} | {row['megabytes']:.1f} |")
    lines += ["", f"{unit}/s: the fastest of the rounds; x torch: the median of the rounds' ratios (the engines take "
              "turns, one pass each per round)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished spam, recommendation or diagnostics runs")
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the exports and onnx_speed.json")
    parser.add_argument("--single", type=int, default=64, help="test inputs timed one at a time (default 64)")
    parser.add_argument("--batched", type=int, default=512, help="test inputs timed in batches of 32 (default 512)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds, engines in turn (default 3)")
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"--out {args.out}: exists; choose a new folder")
    args.out.mkdir(parents=True)
    results = [measure(run, args.out, single=args.single, batched=args.batched, repeats=args.repeats)
               for run in args.runs]
    (args.out / "onnx_speed.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n")
    print("\n\n".join(markdown(result) for result in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
