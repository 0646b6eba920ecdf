"""Does a tuned translation run, exported to Marian's int8 format, score in the native engine as it does in PyTorch?

Exports the run with ``suite export RUN OUT --format marian`` (timed), then decodes the run's test strings three
ways, greedily and without placeholder masking (:func:`suite.translation.ssru.export.native_agreement`): the
native engine on the export, the PyTorch port with the int8-rounded weights the file carries, and the port in
float32. Prints chrF++ of each and the share of identical outputs; the goal is the native engine within 1 chrF++
point of PyTorch.

Command line::

    python tools/marian_check.py runs/translation-default-... exported-marian [--out marian.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a finished translation run with a Firefox Translations model")
    parser.add_argument("export", type=Path, help="a new folder for the export")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the figures")
    args = parser.parse_args(argv)

    import suite
    from suite.cli import main as suite_main
    from suite.core.runs import Run
    from suite.translation.data import prepare
    from suite.translation.ssru import firefox
    from suite.translation.ssru.export import native_agreement

    started = time.perf_counter()
    if suite_main(["export", str(args.run), str(args.export), "--format", "marian"]) != 0:
        return 2
    export_seconds = round(time.perf_counter() - started, 1)
    translator = suite.load(args.run)
    test = prepare(Run.open(args.run).recipe().data).test         # the run's test strings
    figures = native_agreement(translator.network, firefox.load_tokenizer(args.export), args.export,
                               [p.source for p in test], [p.target for p in test])
    figures.update(run=str(args.run), strings=len(test), export_seconds=export_seconds,
                   within_one_point=abs(figures["chrf_native"] - figures["chrf_pytorch"]) <= 1.0)
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
