"""Held-out text beside the interface strings: general prose (forgetting) and longer prose of the domain.

- ``general``: the Universal Declaration of Human Rights by sentence, bundled as
  ``datasets/udhr-pt`` (pt_BR and pt). Ordinary language with no interface strings in it: where
  tuning costs the model more than :data:`FORGETTING_POINTS` chrF++ here, the run's notes say so.
- ``help``: LibreOffice help paragraphs aligned with English (pulled with ``l10n-pt``), a product
  the default recipes never train on, and longer than its UI strings.

Each part is translated by every model system (the untuned and the tuned model) and scored with
chrF++ and BLEU; its metrics sit beside the test strings' as ``general_chrf``, ``help_chrf``...
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from suite.core import resources
from suite.core.tables import iter_table
from suite.translation import corpus

FORGETTING_POINTS = 1.0
UDHR = "udhr-pt"
PARTS = {"general": "general text (UDHR)", "help": "LibreOffice help paragraphs"}


@dataclass(frozen=True)
class Segment:
    source: str
    target: str


def load(evaluation, data_cfg) -> dict[str, list[Segment]]:
    """The extra parts this recipe asks for and this machine has (an absent one is left out, and the
    report's notes say why).

    Args:
        evaluation: the recipe's ``evaluation`` section (``general_text``, ``help_text``, ``help_examples``).
        data_cfg: the recipe's ``data`` section (target language, ``max_chars`` is not applied: this is prose).
    """
    parts = {}
    language = data_cfg.target_language
    if evaluation.general_text:
        path = general_file(language)
        if path is not None:
            parts["general"] = _read(path)
    if evaluation.help_text:
        path = corpus.help_pairs_file(_tree_language(language))
        if path is not None:
            rows = [s for s in _read(path) if len(s.source) <= evaluation.help_max_chars
                    and len(s.target) <= evaluation.help_max_chars]
            wanted = min(evaluation.help_examples, len(rows))
            parts["help"] = random.Random(data_cfg.seed).sample(rows, wanted)
    return parts


def general_file(language: str) -> Path | None:
    """The bundled general-text pairs for ``language`` (None: none for it)."""
    folder = resources.bundled_datasets().get(UDHR)
    path = folder / f"pairs-{_tree_language(language)}.tsv" if folder else None
    return path if path is not None and path.is_file() else None


def _tree_language(language: str) -> str:
    """``pt_BR`` / ``pt-br`` -> ``pt_BR``; ``pt``, ``pt_PT`` -> ``pt`` (the corpus's two trees)."""
    code = language.replace("-", "_")
    return next((tree for tree, dirs in corpus.LANGUAGE_DIRS.items() if code in dirs or code.lower() in
                 {d.lower() for d in dirs}), code)


def _read(path: Path) -> list[Segment]:
    return [Segment(str(row["source"]), str(row["target"])) for _, row in iter_table(path)]


def scores(parts: dict[str, list[Segment]], outputs: dict[str, list[str]]) -> dict:
    """``{"<part>_chrf": ..., "<part>_bleu": ..., "<part>_strings": n}`` of one system's translations."""
    from suite.translation.metrics import corpus_scores

    found = {}
    for part, segments in parts.items():
        if part in outputs:
            result = corpus_scores(outputs[part], [s.target for s in segments])
            found.update({f"{part}_chrf": result["chrf"], f"{part}_bleu": result["bleu"],
                          f"{part}_strings": len(segments)})
    return found


def forgetting_note(untuned: dict, tuned: dict, *, untuned_share: float = 0.0, replayed: int = 0) -> str | None:
    """The notes' line on general text: tuned against untuned chrF++, and the verdict where it lost more than
    :data:`FORGETTING_POINTS` (None: no general text was scored for both).

    Args:
        untuned_share: the run's ``train.untuned_share`` (said beside the tuned figure, and in the levers).
        replayed: how many replay pairs trained (``data.general_replay``; said the same way).
    """
    if "general_chrf" not in untuned or "general_chrf" not in tuned:
        return None
    change = round(tuned["general_chrf"] - untuned["general_chrf"], 2)
    done = ([f"{replayed} general sentences replayed"] if replayed else []) + (
        [f"{untuned_share:.0%} of the untuned weights mixed back in"] if untuned_share else [])
    line = (f"General text (UDHR, {tuned['general_strings']} sentences): chrF++ {tuned['general_chrf']} tuned"
            f"{' with ' + ' and '.join(done) if done else ''} against {untuned['general_chrf']} untuned "
            f"({change:+.2f}).")
    if change < -FORGETTING_POINTS:
        share_now = f", now {untuned_share:g}" if untuned_share else ""
        replay_now = f", now {replayed} pairs" if replayed else ""
        line += (f" Tuning cost more than {FORGETTING_POINTS:g} chrF++ point on ordinary prose: the model forgets "
                 f"general text. Levers: a larger data.general_replay (general sentences the untuned model "
                 f"translated, trained on beside the strings{replay_now}), a larger train.untuned_share (the "
                 f"untuned weights mixed back in, WiSE-FT{share_now}), fewer steps or a lower learning rate (see "
                 f"docs/translation.md).")
    return line
