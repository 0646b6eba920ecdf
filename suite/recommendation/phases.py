"""The evaluation phases of a split: who is ranked, what they must find, what they may read, what is hidden.

Protocol (documented once, used everywhere):

- ``validation``: target VALIDATION (the next item); systems fitted on TRAIN, users read
  TRAIN; hidden: TRAIN, COLD, UNUSED and the other validation part. Test items are never hidden
  in a validation phase (that would use test labels to pick checkpoints or weights).
- ``test``: target TEST (the next item: the last positive, or the random share of
  ``split: random``); baselines refitted on TRAIN + VALIDATION + TASTE_VALIDATION, users read
  the same; every other positive of the user is hidden.
- ``taste_validation`` and ``taste`` (``split: next-and-taste`` only): the same two with the
  random earlier positives (TASTE_VALIDATION, TASTE_TEST) as targets: the whole-taste
  protocol, measured on the same users and the same trained models as the next item.
- ``cold`` (``data.cold_start_items`` > 0): the test targets (next item and taste) that are
  cold items, ranked among the cold items only, for the users who have one.

A system's outputs hold one score matrix per *part*, not per phase: ``validation`` (every user
of a validation phase, reading TRAIN) and ``test`` (every user of a test or cold phase, reading
TRAIN + validation parts). Phases that read the same parts share the scoring of their users;
:func:`rows` picks a phase's users out of its part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suite.core.metrics.ranking import ranking_report
from suite.recommendation.data import COLD, SEEN, TASTE_TEST, TASTE_VALIDATION, TEST, TRAIN, UNUSED, VALIDATION, Splits

VALIDATION_PHASES = ("validation", "taste_validation")
TEST_PHASES = ("test", "taste")
READ_AT_TEST = (TRAIN, VALIDATION, TASTE_VALIDATION)
# phase -> (target part, parts the users read)
_PLAN = {"validation": (VALIDATION, (TRAIN,)), "taste_validation": (TASTE_VALIDATION, (TRAIN,)),
         "test": (TEST, READ_AT_TEST), "taste": (TASTE_TEST, READ_AT_TEST)}


@dataclass
class Phase:
    """One evaluation: which users, what they must find, what is hidden, which parts they may read."""

    name: str
    users: np.ndarray          # rows of Splits
    targets: object            # CSR, len(users) x n_items
    exclude: object            # CSR, len(users) x n_items
    history_parts: tuple[int, ...]
    candidates: np.ndarray | None = None

    @property
    def part(self) -> str:
        """The outputs part holding this phase's scores: ``validation`` or ``test``."""
        return "validation" if self.name in VALIDATION_PHASES else "test"


def _hidden(name: str, target: int) -> tuple[int, ...]:
    """Parts removed from the ranking: in a test phase every other positive; in a validation phase
    what the users read, cold and unused interactions and the other validation part."""
    if name in TEST_PHASES:
        return tuple(p for p in (*SEEN, UNUSED) if p != target)
    return (TRAIN, COLD, UNUSED, TASTE_VALIDATION if target == VALIDATION else VALIDATION)


def phase(splits: Splits, name: str) -> Phase | None:
    """The phase ``name`` (``validation``, ``test``, ``taste_validation``, ``taste``, ``cold``) of
    ``splits``; None if it has no user."""
    if name == "cold":
        return _cold(splits)
    target_part, history_parts = _PLAN[name]
    targets, history = splits.matrix(target_part), splits.matrix(*history_parts)
    users = np.flatnonzero((np.diff(targets.indptr) > 0) & (np.diff(history.indptr) > 0))
    if users.size == 0:
        return None
    return Phase(name, users, targets[users], splits.matrix(*_hidden(name, target_part))[users], history_parts)


def _cold(splits: Splits) -> Phase | None:
    if splits.cold_items.size == 0:
        return None
    targets = splits.cold_targets()
    history = splits.matrix(*READ_AT_TEST)
    users = np.flatnonzero((np.diff(targets.indptr) > 0) & (np.diff(history.indptr) > 0))
    return Phase("cold", users, targets[users], history[users], READ_AT_TEST, splits.cold_items) \
        if users.size else None


def phases_of(splits: Splits) -> dict[str, Phase]:
    """Every phase the split has, validation phases first."""
    names = (*VALIDATION_PHASES, *TEST_PHASES, "cold")
    return {name: at for name in names if (at := phase(splits, name))}


def parts_of(phases: dict[str, Phase]) -> dict[str, tuple[tuple[int, ...], np.ndarray]]:
    """``{part: (parts its users read, its users in row order)}`` for the outputs of every system."""
    out: dict[str, tuple[tuple[int, ...], np.ndarray]] = {}
    for at in phases.values():
        history, users = out.get(at.part, (at.history_parts, np.zeros(0, dtype=np.int64)))
        out[at.part] = (history, np.union1d(users, at.users))
    return out


def rows(part_users: np.ndarray, at: Phase) -> np.ndarray:
    """The rows of ``at``'s users in its part's score matrix (whose users are ``part_users``)."""
    return np.searchsorted(part_users, at.users)


def phase_scores(outputs: dict, at: Phase, phases: dict[str, Phase]) -> np.ndarray:
    """``at``'s users' rows of a system's outputs (``{part: scores}``)."""
    return outputs[at.part][rows(parts_of(phases)[at.part][1], at)]


def evaluate_phase(scores: np.ndarray, at: Phase, ks: list[int]) -> dict:
    """Ranking report of ``scores`` (len(at.users) x n_items) in phase ``at``."""
    return ranking_report(scores, at.targets, ks=ks, exclude=at.exclude, candidates=at.candidates)


def validation_ndcg(scores: np.ndarray, phases: dict[str, Phase]) -> float:
    """The selection value: mean NDCG@10 over the validation phases present (next item, taste).

    Args:
        scores: the ``validation`` part's scores (every validation user, see :func:`parts_of`).
    """
    users = parts_of(phases)["validation"][1]
    values = [evaluate_phase(scores[rows(users, phases[name])], phases[name], [10])["ndcg@10"]
              for name in VALIDATION_PHASES if name in phases]
    return float(np.mean(values))
