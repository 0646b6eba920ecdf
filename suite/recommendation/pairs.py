"""What the Trainer reads: training examples from TRAIN positives only, the validation users, the collator,
and the validation metric that picks checkpoints.

A training example is one user at one moment: the text of the history they had (the newest
``model.history_items`` items) and one item they liked beyond it, for the content tower's
in-batch loss; and all the user's training items, which the collaborative tower splits at
random into bags and targets each step. Two kinds of (history, item) pair, mixed per user
(``model.taste_pairs`` is the share of the second):

- *next item*: the history is the user's items before position ``j``, the item the one at ``j``;
- *taste*: the history is a random subset of the user's items (each kept with probability
  ``model.bag_keep``, in time order), the item a random one of the rest.
  It teaches who likes what, where next-item pairs teach what follows what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from suite.core.errors import DataError
from suite.recommendation.config import RecModelConfig
from suite.recommendation.data import TASTE_VALIDATION, TRAIN, VALIDATION, Splits
from suite.recommendation.losses import log_frequencies
from suite.recommendation.phases import VALIDATION_PHASES, evaluate_phase, parts_of, phases_of, rows
from suite.recommendation.towers import TextWeight


def history_text(texts: list[str], history_items: int) -> str:
    """A user's history as one text: the newest ``history_items`` item texts, newest first."""
    return " ; ".join(reversed(texts[-history_items:]))


def training_examples(splits: Splits, model: RecModelConfig, seed: int) -> list[dict]:
    """The training examples (see the module docstring), shuffled, from TRAIN positives only.

    Raises:
        DataError: no user has two training positives.
    """
    rng = np.random.default_rng(seed)
    examples = []
    for user in range(splits.n_users):
        sequence = splits.history(user, TRAIN)
        if sequence.size < 2:
            continue
        n_next, n_taste = _counts(sequence.size - 1, model)
        steps = np.sort(rng.choice(np.arange(1, sequence.size), size=n_next, replace=False))
        pairs = [(sequence[:j], sequence[j]) for j in steps]
        pairs += [_taste_pair(sequence, model, rng) for _ in range(n_taste)]
        examples += [{"anchor": history_text([splits.item_texts[i] for i in bag], model.history_items),
                      "positive": splits.item_texts[item], "item": int(item), "items": sequence.tolist()}
                     for bag, item in pairs]
    if not examples:
        raise DataError("data: no user has two training positives, so there is no training example")
    examples = [examples[i] for i in rng.permutation(len(examples))]
    for example, log_q in zip(examples, log_frequencies([e["item"] for e in examples])):
        example["log_q"] = log_q
    return examples


def _counts(next_steps: int, model: RecModelConfig) -> tuple[int, int]:
    """(next-item, taste) examples for a user with ``next_steps`` possible next-item steps."""
    total = next_steps if model.max_pairs_per_user is None else model.max_pairs_per_user
    taste = round(model.taste_pairs * total)
    return min(total - taste, next_steps), taste


def _taste_pair(sequence: np.ndarray, model: RecModelConfig, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """(a random subset of ``sequence`` in time order, a random item of the rest)."""
    kept = rng.random(sequence.size) < model.bag_keep
    if not kept.any():
        kept[rng.integers(sequence.size)] = True
    if kept.all():                       # at least two items: one stays in the bag, one is left to find
        kept[rng.integers(sequence.size)] = False
    rest = sequence[~kept]
    return sequence[kept], int(rest[rng.integers(rest.size)])


def user_rows(splits: Splits, users: np.ndarray, parts: tuple[int, ...], targets: tuple[int, ...],
              history_items: int) -> list[dict]:
    """One evaluation row per user: the text and items of their history in ``parts``, their items in ``targets``
    and the row's number."""
    out = []
    for row, u in enumerate(users):
        bag = splits.history(int(u), *parts)
        out.append({"anchor": history_text([splits.item_texts[i] for i in bag], history_items), "bag": bag.tolist(),
                    "targets": splits.history(int(u), *targets).tolist(), "row": row})
    return out


class Collator:
    """Batches of examples (or of evaluation rows) as :meth:`TwoTower.forward` takes them."""

    def __init__(self, tokenize: Callable[[list[str]], dict]):
        self.tokenize = tokenize

    def __call__(self, rows: list[dict]) -> dict:
        import torch

        batch = {"anchor": self.tokenize([r["anchor"] for r in rows])}
        if "item" in rows[0]:       # training: the pair, and the user's items as the catalogue loss's targets
            return {**batch, **_flat(rows, "items", "targets"),
                    "positive": self.tokenize([r["positive"] for r in rows]),
                    "item": torch.tensor([r["item"] for r in rows]),
                    "log_q": torch.tensor([r["log_q"] for r in rows], dtype=torch.float32)}
        return {**batch, **_flat(rows, "bag", "bag"), **_flat(rows, "targets", "targets"),
                "row": torch.tensor([r["row"] for r in rows])}


def _flat(rows: list[dict], key: str, name: str) -> dict:
    """``{name: every row's ``key`` indices, flattened; "<name>_users" (``targets``: ``target_users``): the row of
    each}``."""
    import torch

    values = [v for r in rows for v in r[key]]
    owners = [i for i, r in enumerate(rows) for _ in r[key]]
    users = "target_users" if name == "targets" else f"{name}_users"
    return {name: torch.tensor(values, dtype=torch.long), users: torch.tensor(owners, dtype=torch.long)}


def validation_inputs(splits: Splits, model: RecModelConfig) -> tuple[list[dict], Callable]:
    """The validation users' rows (their TRAIN history; their validation items as the targets of the eval
    loss) and the ``compute_metrics`` that scores them.

    The metric ``ndcg@10`` is the mean NDCG@10 over the validation phases (next item, and taste
    where the split has it), at the best text weight of ``model.text_weights`` x
    ``model.text_weight_halves_at``: what picks the checkpoint. Each
    phase's own value (``next_ndcg@10``, ``taste_ndcg@10``) and the weight are logged beside it.
    """
    phases = {name: at for name, at in phases_of(splits).items() if name in VALIDATION_PHASES}
    history, users = parts_of(phases)["validation"]
    lengths = np.array([splits.history(int(u), *history).size for u in users])

    def compute_metrics(prediction: Any) -> dict:
        order = np.argsort(np.asarray(prediction.label_ids))        # back in row order
        towers = prediction.predictions if isinstance(prediction.predictions, tuple) else (prediction.predictions,)
        text, ids = (*(np.asarray(t)[order] for t in towers), None)[:2]       # no ID tower: text alone
        weight, values = best_text_weight(text, ids, phases, lengths, model.text_weights, model.text_weight_halves_at)
        named = {"next_ndcg@10" if name == "validation" else "taste_ndcg@10": value for name, value in values.items()}
        return {"ndcg@10": float(np.mean(list(values.values()))), **weight.as_metrics(),
                **(named if len(values) > 1 else {})}

    return user_rows(splits, users, history, (VALIDATION, TASTE_VALIDATION), model.history_items), compute_metrics


def best_text_weight(text: np.ndarray, ids: np.ndarray | None, phases: dict, lengths: np.ndarray,
                     weights: list[float], halves_at: list[float | None] = (None,)) -> tuple[TextWeight, dict]:
    """``(w, {validation phase: NDCG@10})`` for the :class:`TextWeight` of ``weights`` x ``halves_at`` whose
    ``w(u) * text + ids`` scores best on the mean of the validation phases (ties: the one tried first: one weight for
    every user before a per-user one, larger weights first); ``TextWeight()`` and ``text`` alone without ``ids``.

    Args:
        text, ids: each tower's scores of the ``validation`` part (every validation user, see ``phases.parts_of``).
        lengths: each of those users' number of history items.
    """
    users = parts_of(phases)["validation"][1]

    def values(scores: np.ndarray) -> dict:
        return {name: evaluate_phase(scores[rows(users, at)], at, [10])["ndcg@10"] for name, at in phases.items()
                if name in VALIDATION_PHASES}

    if ids is None:
        return TextWeight(), values(text)
    order = sorted(halves_at, key=lambda h: (h is not None, h or 0))
    tried = [(w, values(w.combine(text, ids, lengths)))
             for w in (TextWeight(weight, h) for h in order for weight in sorted(weights, reverse=True))]
    return max(tried, key=lambda pair: np.mean(list(pair[1].values())))
