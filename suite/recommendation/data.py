"""Recommendation data: readers, MovieLens-100K on first use, a generated set, and the split.

Orientation, once for the whole domain: **users x items**. Every matrix has one row per
user (``Splits.user_ids`` order) and one column per catalogue item (``Splits.item_ids``
order); item indices are column numbers. Only implicit positives are kept (rating at or
above ``data.positive_threshold``), one per (user, item), in time order.

Sources (the recipe's ``data.source``):
- ``movielens-100k``: fetched on first use into the user cache (see ``movielens.pull``);
- ``synthetic``: a small generated set whose item texts predict the interactions;
- a ``.csv``/``.tsv``/``.jsonl`` interactions file (user, item[, rating][, timestamp];
  column names in the recipe) plus ``data.items``, a table of item ids and text fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite.core import paths
from suite.core.errors import DataError
from suite.core.inputs import Inputs
from suite.core.tables import iter_table
from suite.recommendation.config import SYNTHETIC, RecDataConfig
from suite.recommendation.movielens import MOVIELENS, pull, read_movielens

TRAIN, VALIDATION, TEST, COLD = 0, 1, 2, 3   # the part each positive interaction belongs to
TASTE_VALIDATION, TASTE_TEST = 4, 5          # split next-and-taste: random earlier positives held out
UNUSED = 6                                   # a training positive beyond data.max_train_per_user (never seen)
HELD_OUT = (VALIDATION, TEST, TASTE_VALIDATION, TASTE_TEST)
SEEN = (TRAIN, VALIDATION, TEST, COLD, TASTE_VALIDATION, TASTE_TEST)   # every part but UNUSED


@dataclass
class Table:
    """Raw interactions (one row each, string ids) and the item catalogue with texts."""

    users: list[str]
    items: list[str]
    ratings: np.ndarray          # NaN where there is no rating
    times: np.ndarray            # float; file order where there is no time
    item_texts: dict[str, str]   # item id -> text, every known item


@dataclass
class Splits:
    """Positives split per user. ``sequences[u]`` are item indices in time order and
    ``parts[u]`` says where each went: TRAIN, VALIDATION, TEST, COLD (a cold item's
    training interaction, removed from training), with ``split: next-and-taste``
    TASTE_VALIDATION and TASTE_TEST (random earlier positives held out), and UNUSED (a
    training positive beyond ``data.max_train_per_user``: no system sees it)."""

    user_ids: list[str]
    item_ids: list[str]
    item_texts: list[str]
    sequences: list[np.ndarray]
    parts: list[np.ndarray]
    cold_items: np.ndarray
    source: str = ""

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def matrix(self, *parts: int):
        """Users x items binary CSR of the positives in ``parts``."""
        from scipy import sparse

        rows, cols = [], []
        for u, (seq, part) in enumerate(zip(self.sequences, self.parts)):
            keep = seq[np.isin(part, parts)]
            rows.append(np.full(keep.size, u))
            cols.append(keep)
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        return sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)),
                                 shape=(self.n_users, self.n_items))

    def history(self, user: int, *parts: int) -> np.ndarray:
        """Item indices of ``user`` in ``parts``, oldest first."""
        return self.sequences[user][np.isin(self.parts[user], parts)]

    def cold_targets(self):
        """Users x items CSR of the test positives (next-item and taste) on cold items: the held-out
        interactions with items that had no training data (the cold-start targets)."""
        from scipy import sparse

        cold = np.zeros(self.n_items, dtype=np.float32)
        cold[self.cold_items] = 1.0
        matrix = self.matrix(TEST, TASTE_TEST) @ sparse.diags(cold)
        matrix.eliminate_zeros()
        return sparse.csr_matrix(matrix)

    def summary(self) -> dict:
        counts = Counter(int(p) for part in self.parts for p in part)
        return {"source": self.source, "users": self.n_users, "items": self.n_items,
                "positives": sum(counts.values()), "train": counts[TRAIN], "validation": counts[VALIDATION],
                "test": counts[TEST], "taste_validation": counts[TASTE_VALIDATION], "taste_test": counts[TASTE_TEST],
                "cold_items": int(self.cold_items.size),
                "cold_interactions_removed": counts[COLD], "unused": counts[UNUSED],
                "test_users": int(sum((p == TEST).any() for p in self.parts)),
                "validation_users": int(sum((p == VALIDATION).any() for p in self.parts))}


# -- reading --------------------------------------------------------------------------------
def load_table(cfg: RecDataConfig) -> Table:
    """Read the interactions and item texts of ``cfg.source``.

    Raises:
        DataError: missing file or column, unknown item, bad rating or time, no rows.
    """
    if cfg.source == MOVIELENS:
        return Table(**read_movielens(pull(MOVIELENS)))
    if cfg.source == SYNTHETIC:
        return Table(**generate(n_users=cfg.synthetic_users, n_items=cfg.synthetic_items, seed=cfg.seed))
    path = paths.refuse_special(Path(cfg.source).expanduser(), what="data.source")
    if not path.is_file():
        raise DataError(f"data.source: no such file '{cfg.source}' (built-in: {MOVIELENS}, {SYNTHETIC})")
    if not cfg.items:
        raise DataError("data.items: an interactions file needs an items table (item id + text columns)")
    texts = read_items(Path(cfg.items).expanduser(), id_column=cfg.item_id_column, text_columns=cfg.text_columns)
    return _read_interactions(path, cfg, texts)


def read_items(path: Path, *, id_column: str, text_columns: list[str]) -> dict[str, str]:
    """Item id -> text (the text columns joined with '. ') from a table.

    Raises:
        DataError: missing file or column, duplicate id, or no rows.
    """
    paths.refuse_special(path, what="data.items")
    if not path.is_file():
        raise DataError(f"data.items: no such file '{path}'")
    texts: dict[str, str] = {}
    for number, row in iter_table(path):
        missing = [c for c in (id_column, *text_columns) if c not in row]
        if missing:
            raise DataError(f"{path}: no column '{missing[0]}' (columns: {', '.join(map(str, row))}); "
                            f"set data.item_id_column / data.text_columns")
        item = str(row[id_column]).strip()
        if item in texts:
            raise DataError(f"{path}:{number}: item id '{item}' appears twice")
        texts[item] = ". ".join(str(row[c]).strip() for c in text_columns if str(row[c] or "").strip())
    if not texts:
        raise DataError(f"{path}: holds no items")
    return texts


def _read_interactions(path: Path, cfg: RecDataConfig, texts: dict[str, str]) -> Table:
    users, items, ratings, times = [], [], [], []
    wanted = [c for c in (cfg.user_column, cfg.item_column, cfg.rating_column, cfg.timestamp_column) if c]
    for number, row in iter_table(path):
        missing = [c for c in wanted if c not in row]
        if missing:
            raise DataError(f"{path}: no column '{missing[0]}' (columns: {', '.join(map(str, row))}); set "
                            "data.user_column / item_column / rating_column / timestamp_column (null if absent)")
        users.append(str(row[cfg.user_column]).strip())
        items.append(str(row[cfg.item_column]).strip())
        ratings.append(_number(row[cfg.rating_column], f"{path}:{number}", "rating") if cfg.rating_column
                       else np.nan)
        times.append(_time(row[cfg.timestamp_column], f"{path}:{number}") if cfg.timestamp_column
                     else float(number))
    if not users:
        raise DataError(f"{path}: holds no interactions")
    unknown = sorted(set(items) - set(texts))
    if unknown:
        raise DataError(f"{path}: {len(unknown)} interacted items are not in data.items, e.g. "
                        f"{', '.join(repr(u) for u in unknown[:3])}")
    return Table(users, items, np.asarray(ratings, dtype=np.float64), np.asarray(times, dtype=np.float64), texts)


def _number(value, where: str, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {what} {value!r} is not a number") from None


def _time(value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        raise DataError(f"{where}: timestamp {value!r} is neither a number nor an ISO date") from None


# -- the split --------------------------------------------------------------------------------
def split_table(table: Table, cfg: RecDataConfig) -> Splits:
    """Keep positives, order them by time, hold out test and validation per user, remove cold items.

    Each user keeps at least one training positive: test takes its share only from users
    with more positives than that, and validation only from what then remains.

    Raises:
        DataError: no positive interaction, or no user with enough positives to test.
    """
    rng = np.random.default_rng(cfg.seed)
    keep = np.ones(len(table.users), dtype=bool) if cfg.positive_threshold is None or np.isnan(
        table.ratings).all() else table.ratings >= cfg.positive_threshold
    if not keep.any():
        raise DataError(f"data: no interaction has a rating >= {cfg.positive_threshold} (data.positive_threshold)")
    order = np.lexsort((np.arange(len(table.users)), table.times))
    by_user: dict[str, dict[str, None]] = {}
    for i in order[keep[order]]:
        seen = by_user.setdefault(table.users[i], {})
        seen.pop(table.items[i], None)          # a repeat counts once, at its latest time
        seen[table.items[i]] = None
    positive_items = {item for seen in by_user.values() for item in seen}
    item_ids = sorted(table.item_texts if cfg.catalogue == "all" else positive_items, key=_natural)
    index = {item: j for j, item in enumerate(item_ids)}
    user_ids = sorted(by_user, key=_natural)
    sequences = [np.array([index[i] for i in by_user[u]], dtype=np.int64) for u in user_ids]
    parts = [_assign_parts(seq.size, cfg, rng) for seq in sequences]
    cold = np.sort(rng.choice(len(item_ids), size=int(round(cfg.cold_start_items * len(item_ids))), replace=False))
    for seq, part in zip(sequences, parts):
        part[np.isin(seq, cold) & ~np.isin(part, (TEST, TASTE_TEST))] = COLD
        if cfg.max_train_per_user is not None:
            part[np.flatnonzero(part == TRAIN)[:-cfg.max_train_per_user]] = UNUSED
    splits = Splits(user_ids, item_ids, [table.item_texts[i] for i in item_ids], sequences, parts, cold,
                    source=cfg.source)
    if not any((p == TEST).any() for p in parts):
        raise DataError("data: no user has enough positives to hold one out for testing")
    check_no_leak(splits)
    return splits


def _assign_parts(n: int, cfg: RecDataConfig, rng: np.random.Generator) -> np.ndarray:
    """Where each of a user's ``n`` positives (oldest first) goes, as ``cfg.split`` says."""
    part = np.full(n, TRAIN, dtype=np.int8)
    if cfg.split == "random":
        _random_shares(part, np.arange(n), cfg, rng, test=TEST, validation=VALIDATION)
        return part
    k = cfg.holdout if cfg.split == "leave-k-out" else 1
    if n > k:
        part[n - k:] = TEST
    if n > 2 * k:
        part[n - 2 * k:n - k] = VALIDATION
    if cfg.split == "next-and-taste":
        _random_shares(part, np.flatnonzero(part == TRAIN), cfg, rng, test=TASTE_TEST, validation=TASTE_VALIDATION)
    return part


def _random_shares(part: np.ndarray, among: np.ndarray, cfg: RecDataConfig, rng: np.random.Generator, *,
                   test: int, validation: int) -> None:
    """Mark random shares (``cfg.test_size``, ``cfg.validation_size``) of the positions ``among`` as
    ``test`` and ``validation``, leaving at least one of them for training."""
    n = among.size
    n_test = max(1, round(cfg.test_size * n)) if n >= 2 else 0
    n_val = max(1, round(cfg.validation_size * n)) if n - n_test >= 2 else 0
    chosen = among[rng.permutation(n)]
    part[chosen[:n_test]] = test
    part[chosen[n_test:n_test + n_val]] = validation


def check_no_leak(splits: Splits) -> None:
    """Assert that no held-out interaction and no cold item is in training.

    Raises:
        AssertionError: a test or validation positive is also a training positive, or a
            cold item has a training positive.
    """
    train = splits.matrix(TRAIN)
    for part in HELD_OUT:
        overlap = train.multiply(splits.matrix(part)).nnz
        assert overlap == 0, f"{overlap} held-out positives are also in training"
    assert train[:, splits.cold_items].nnz == 0, "a cold item has a training interaction"


def _natural(value: str):
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def load_splits(cfg: RecDataConfig) -> Splits:
    """Read and split ``cfg.source`` (see :func:`load_table` and :func:`split_table`)."""
    return split_table(load_table(cfg), cfg)


def with_test_data(cfg: RecDataConfig, splits: Splits, source: str) -> Splits:
    """``splits`` with the positives of the interactions file ``source`` as every user's test items.

    ``source`` has the columns ``data.source`` has (user, item, and rating / timestamp unless the
    recipe sets them null); users and items are matched to the run's by id. Each user's history
    stays the run's train + validation positives; the run's own test positives give way to the new
    ones. Interactions of unknown users, of unknown items or below ``data.positive_threshold`` are
    left out, and so is any item the user already had.

    Raises:
        DataError: unreadable file or missing column, or no usable positive.
    """
    catalogue = dict(zip(splits.item_ids, splits.item_texts))
    path = paths.refuse_special(Path(source).expanduser(), what="--data")
    if not path.is_file():
        raise DataError(f"--data: no such interactions file '{source}'")
    table = _read_interactions(path, cfg, {**catalogue, **{item: "" for item in _unknown_items(path, cfg)}})
    rows, columns = {u: i for i, u in enumerate(splits.user_ids)}, {m: j for j, m in enumerate(splits.item_ids)}
    new = {}
    for user, item, rating in zip(table.users, table.items, table.ratings):
        positive = cfg.positive_threshold is None or np.isnan(rating) or rating >= cfg.positive_threshold
        if positive and user in rows and item in columns:
            new.setdefault(rows[user], []).append(columns[item])
    sequences, parts = [], []
    for u, (sequence, part) in enumerate(zip(splits.sequences, splits.parts)):
        kept = ~np.isin(part, (TEST, TASTE_TEST))
        tests = [j for j in dict.fromkeys(new.get(u, [])) if j not in set(sequence[kept].tolist())]
        sequences.append(np.concatenate([sequence[kept], np.asarray(tests, dtype=sequence.dtype)]))
        parts.append(np.concatenate([part[kept], np.full(len(tests), TEST, dtype=part.dtype)]))
    if not any((p == TEST).any() for p in parts):
        raise DataError(f"--data {source}: no positive interaction of a known user with a known item "
                        f"({len(splits.user_ids)} users, {len(splits.item_ids)} items in the run)")
    return Splits(splits.user_ids, splits.item_ids, splits.item_texts, sequences, parts, splits.cold_items,
                  source=f"{splits.source}; test: {source}")


def _unknown_items(path: Path, cfg: RecDataConfig) -> set[str]:
    """Item ids of ``path`` (they need no text: only known items are kept)."""
    return {str(row.get(cfg.item_column, "")).strip() for _, row in iter_table(path)}


def read_prediction_inputs(path: Path) -> Inputs:
    """Inputs from a file, each with its id (:mod:`suite.core.inputs`): .txt (one per line), or a
    .csv/.tsv/.jsonl with a ``user`` or ``items`` column."""
    path = paths.refuse_special(Path(path), what="--input")
    if not path.is_file():
        raise DataError(f"--input: no such file '{path}'")
    if path.suffix.lower() == ".txt":
        lines = Inputs.lines(path)
        return Inputs([line.strip() for line in lines.values], lines.ids, lines.notes)
    inputs, ids = [], []
    for number, row in iter_table(path):
        if "user" in row and str(row["user"] or "").strip():
            inputs.append(f"user:{str(row['user']).strip()}")
        elif "items" in row:
            inputs.append(f"items:{row['items']}")
        else:
            raise DataError(f"{path}:{number}: expected a 'user' or an 'items' column "
                            f"(columns: {', '.join(map(str, row))})")
        ids.append(f"{path}:{number}")
    return Inputs(inputs, ids)


# -- a generated set whose texts predict the interactions ---------------------------------------
_MARKERS = ("velmora", "quastin", "drobek", "sylvane", "torquil", "mirabex", "ostrel", "kandor", "plivet", "zenthar")
_WORDS = ("silent river golden empire broken mirror hidden garden winter letter distant harbor crimson "
          "forest electric dream lonely city ancient road midnight train paper moon iron sky velvet storm "
          "glass house last summer wild heart burning bridge secret island hollow crown").split()


def generate(*, n_users: int, n_items: int, seed: int) -> dict:
    """A small interaction set in which item texts predict what a user takes next.

    Each item belongs to one of ten topics, named by a made-up word in its text among
    ordinary title words shared by all topics. Users move through topics in a fixed
    cycle: after an item of topic t the next liked item is of topic t + 1 (70%) or t
    again (30%), rated 4-5; 15% of interactions are random items rated 1-2 (dropped as
    non-positives). A pretrained encoder only knows that similar texts go together;
    tuning on (history -> next item) pairs teaches it the cycle.
    """
    rng = np.random.default_rng(seed)
    topics = np.arange(n_items) % len(_MARKERS)
    texts = {}
    for j in range(n_items):
        a, b, c = rng.choice(_WORDS, size=3, replace=False)
        texts[f"i{j}"] = f"The {a} {b} ({_MARKERS[topics[j]]} {c})"
    users, items, ratings, times = [], [], [], []
    for u in range(n_users):
        topic, taken = int(rng.integers(len(_MARKERS))), set()
        for t in range(int(rng.integers(10, 19))):
            liked = rng.random() >= 0.15
            pool = [j for j in (np.flatnonzero(topics == topic) if liked else range(n_items)) if j not in taken] \
                or [j for j in range(n_items) if j not in taken]
            j = int(rng.choice(pool))
            taken.add(j)
            users.append(f"u{u}")
            items.append(f"i{j}")
            ratings.append(float(rng.integers(4, 6) if liked else rng.integers(1, 3)))
            times.append(float(u * 1000 + t))
            if liked and rng.random() < 0.7:
                topic = (topic + 1) % len(_MARKERS)
    return {"users": users, "items": items, "ratings": np.array(ratings), "times": np.array(times),
            "item_texts": texts}
