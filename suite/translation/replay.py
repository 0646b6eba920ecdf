"""Replay against forgetting: ordinary English translated by the untuned model, added to the training pairs.

Tuning on interface strings moves the model away from ordinary language; the run's general-text check measures
how far. ``data.general_replay: S`` makes a share S of the training pairs replay pairs: it takes as many sentences of
ordinary English prose (``datasets/general-en``; all 7,359 at most), has the
untuned model translate them as it answers untuned (its beams, its shortlist) just before training, and adds
those pairs to the training set. A step that draws one asks the tuned model to answer as the untuned model did:
self-distillation on general text, in the spirit of "learning without forgetting" (Li and Hoiem, 2016). The
pairs never enter validation or test, and the general-text check scores a different text (the UDHR).

Decoding them takes a while (about 40 sentences a second on two cores), so they are kept in the user cache
(``replay/<digest>.tsv``), named by the untuned weights, the sentences and the decoding settings: a resumed or
repeated run reads them back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from suite.core import resources
from suite.core.errors import DataError
from suite.core.tables import iter_table, write_tsv
from suite.translation.data import Pair

GENERAL_EN = "general-en"
CATALOG = "replay:general-en"
"""The catalog name replay pairs carry (never a product's, so no test or sibling rule touches them)."""


def count(share: float, train_pairs: int) -> int:
    """How many replay pairs make ``share`` of a training set that has ``train_pairs`` pairs of its own.

    Example:
        >>> count(0.2, 800)
        200
    """
    return round(train_pairs * share / (1 - share)) if share else 0


def sentences(wanted: int, seed: int) -> list[str]:
    """The first ``wanted`` sentences of ``datasets/general-en`` shuffled with ``seed`` (all of them where it has
    fewer): a larger count keeps the smaller one's sentences.

    Raises:
        DataError: the data set is missing.
    """
    folder = resources.bundled_datasets().get(GENERAL_EN)
    path = folder / "sentences.txt" if folder else None
    if path is None or not path.is_file():
        raise DataError(f"data.general_replay: the bundled data set {GENERAL_EN} is missing; reinstall suite")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(lines)
    return lines[:wanted]


def replay_pairs(translator: Any, texts: list[str]) -> list[Pair]:
    """``texts`` paired with ``translator``'s translations (the untuned model's), from the cache where it has them.

    Args:
        translator: the untuned model's :class:`~suite.translation.translator.Translator`.
        texts: English sentences (:func:`sentences`).
    """
    path = resources.cache_dir() / "replay" / f"{_digest(translator, texts)}.tsv"
    cached = _read(path, texts)
    if cached is None:
        cached = translator.translate(texts, progress=True)
        write_tsv(path, ["source", "target"], zip(texts, cached))
    return [Pair(source, target, CATALOG) for source, target in zip(texts, cached) if target]


def _read(path: Path, texts: list[str]) -> list[str] | None:
    """The cached translations of ``texts`` (None: no readable cache file for exactly them)."""
    if not path.is_file():
        return None
    try:
        rows = [row for _, row in iter_table(path)]
    except DataError:                 # a damaged cache is decoded again, not reported
        return None
    if [row.get("source") for row in rows] != texts or any(row.get("target") is None for row in rows):
        return None
    return [row["target"] for row in rows]


def _digest(translator: Any, texts: list[str]) -> str:
    """What the translations depend on: the network's weights, the decoding settings and the sentences."""
    digest = hashlib.sha256()
    for name, tensor in sorted(translator.network.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    settings = {"model": dataclasses.asdict(translator.model), "shortlist": translator.shortlist is not None,
                "language": translator.target_language}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update("\n".join(texts).encode())
    return digest.hexdigest()[:24]
