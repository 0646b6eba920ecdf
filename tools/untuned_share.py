"""What ``train.untuned_share`` would give a finished run: its figures with each share of the untuned weights
mixed back in, without training again.

The run's tuned model loads; the untuned one is built from the recipe as training built it; for each share the
tuned weights are mixed with the untuned ones exactly as a run with ``train.untuned_share=SHARE`` mixes them
(:func:`suite.core.interpolation.mix`, the same training, so the same tuned weights), and every system figure the
run reports is computed again on the same test data (a translation run: test strings, general text, help
paragraphs). Share 0 is the run as it finished. ``--split validation`` scores the validation split in the test
split's place (the extra checks stay as they are): a recipe's share is chosen there, or fixed in advance, and the
test split only draws the trade-off curve.

Command line (prints one row per share, and writes ``--out`` as JSON)::

    python tools/untuned_share.py runs/translation-default-... --shares 0,0.1,0.2,0.3,0.5 --out share.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a finished run folder")
    parser.add_argument("--shares", default="0,0.1,0.2,0.3,0.5", help="comma-separated shares of untuned weights")
    parser.add_argument("--metrics", default=None, help="comma-separated metrics to print (default: the headline)")
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="the split scored as the test split (validation: where a share is chosen)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for every share's metrics")
    args = parser.parse_args(argv)

    from suite.core import actions, interpolation, logs, registry
    from suite.core.results import TUNED
    from suite.core.runs import Run

    run = Run.open(args.run)
    recipe = run.recipe()
    domain = registry.get_domain(recipe.domain)
    shares = [float(s) for s in args.shares.split(",")]
    with logs.libraries_logging_to(None):
        data = domain.prepare_data(recipe)
        if args.split == "validation":
            data = dataclasses.replace(data, test=data.validation)
        predictor = actions.load(run.path)
        network = getattr(predictor, "network", None)
        if network is None:
            print(f"{run.path}: its {domain.name} predictor has no network to mix", file=sys.stderr)
            return 2
        untuned_model = domain.build_model(recipe, data)          # only once the tuned one has a network to mix
    untuned = interpolation.snapshot(untuned_model.network, untuned_model.head)
    tuned = interpolation.snapshot(network, [])
    del untuned_model
    names = args.metrics.split(",") if args.metrics else None
    rows = []
    for share in shares:
        started = time.perf_counter()
        interpolation.mix(network, tuned, 1.0)        # the tuned weights back: the last share mixed them in place
        mixed = interpolation.mix(network, untuned, share)
        report = domain.report(recipe, data, {TUNED: domain.outputs(predictor, recipe, data)}, predictor=predictor,
                               plots_dir=None)
        metrics = report.metrics[TUNED]
        shown = names or report.headline_metrics or [domain.primary_metric]
        rows.append({"share": share, "tensors_mixed": mixed, "seconds": round(time.perf_counter() - started, 1),
                     "metrics": {k: v for k, v in metrics.items() if isinstance(v, int | float)}})
        print(f"share {share:.2f}: " + ", ".join(f"{m} {metrics.get(m)}" for m in shown)
              + f" ({mixed} tensors mixed, {rows[-1]['seconds']} s)", flush=True)
    if args.out:
        document = {"run": str(run.path), "recipe": recipe.name, "split": args.split, "rows": rows}
        args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
