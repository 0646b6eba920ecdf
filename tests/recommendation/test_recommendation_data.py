"""Recommendation data: readers, splits that never leak, cold start, and one-line errors."""

import numpy as np
import pytest

from suite.core import config
from suite.core.errors import DataError, RecipeError
from suite.core.recipe import load_recipe
from suite.recommendation.data import (
    COLD,
    TASTE_TEST,
    TASTE_VALIDATION,
    TEST,
    TRAIN,
    UNUSED,
    VALIDATION,
    RecDataConfig,
    Splits,
    check_no_leak,
    load_splits,
    load_table,
    read_items,
    split_table,
)

INTERACTIONS = """user,item,rating,timestamp
alice,m1,5,10
alice,m2,4,20
alice,m3,2,25
alice,m4,5,30
alice,m5,4,40
bob,m2,5,5
bob,m1,4,6
bob,m6,5,7
carol,m6,1,1
carol,m1,5,2
"""
ITEMS = """item,title,genres
m1,Alien,Horror
m2,Heat,Crime
m3,Babe,Family
m4,Fargo,Crime
m5,Se7en,Crime
m6,Big,Comedy
"""


@pytest.fixture
def csv_source(tmp_path):
    (tmp_path / "inter.csv").write_text(INTERACTIONS)
    (tmp_path / "items.csv").write_text(ITEMS)
    return {"source": str(tmp_path / "inter.csv"), "items": str(tmp_path / "items.csv"),
            "text_columns": ["title", "genres"]}


def _items_of(splits: Splits, user: str, part: int) -> list[str]:
    u = splits.user_ids.index(user)
    return [splits.item_ids[i] for i in splits.history(u, part)]


def test_csv_leave_last_out_by_time(csv_source):
    splits = load_splits(RecDataConfig(**csv_source))
    assert splits.user_ids == ["alice", "bob", "carol"]
    assert "m3" not in splits.item_ids                    # rated 2 by its only user: not a positive
    assert splits.item_texts[splits.item_ids.index("m2")] == "Heat. Crime"
    assert _items_of(splits, "alice", TRAIN) == ["m1", "m2"]
    assert _items_of(splits, "alice", VALIDATION) == ["m4"] and _items_of(splits, "alice", TEST) == ["m5"]
    assert _items_of(splits, "bob", TRAIN) == ["m2"] and _items_of(splits, "bob", TEST) == ["m6"]
    assert _items_of(splits, "carol", TRAIN) == ["m1"]    # one positive: kept for training, not tested
    assert splits.matrix(TRAIN).shape == (3, 5) and splits.matrix(TEST).nnz == 2


@pytest.mark.parametrize("options", [
    {"split": "leave-last-out"},
    {"split": "leave-k-out", "holdout": 2},
    {"split": "random", "test_size": 0.25, "validation_size": 0.15},
    {"split": "leave-last-out", "cold_start_items": 0.2},
])
def test_no_held_out_interaction_leaks_into_training(options):
    cfg = RecDataConfig(source="synthetic", synthetic_users=80, synthetic_items=120, **options)
    splits = load_splits(cfg)
    train, held_out = splits.matrix(TRAIN), splits.matrix(VALIDATION, TEST)
    assert train.multiply(held_out).nnz == 0
    assert train[:, splits.cold_items].nnz == 0 and splits.matrix(VALIDATION)[:, splits.cold_items].nnz == 0
    assert splits.matrix(TEST).nnz > 0 and splits.matrix(VALIDATION).nnz > 0
    for seq, part in zip(splits.sequences, splits.parts):
        assert len(set(seq.tolist())) == seq.size                     # one positive per (user, item)
        if options["split"] != "random" and (part == TEST).any():     # leave-out: tests are the newest
            assert (np.flatnonzero(part == TEST) > np.flatnonzero(np.isin(part, (TRAIN, VALIDATION)))[:, None]).all()
            assert (part == TEST).sum() == options.get("holdout", 1)


def test_next_and_taste_holds_out_the_last_positives_and_random_earlier_ones():
    cfg = RecDataConfig(source="synthetic", synthetic_users=80, synthetic_items=120, split="next-and-taste",
                        test_size=0.2, validation_size=0.1, cold_start_items=0.1)
    splits = load_splits(cfg)
    held_out = splits.matrix(VALIDATION, TEST, TASTE_VALIDATION, TASTE_TEST)
    assert splits.matrix(TRAIN).multiply(held_out).nnz == 0 and splits.matrix(TRAIN)[:, splits.cold_items].nnz == 0
    checked = 0
    for seq, part in zip(splits.sequences, splits.parts):
        if seq.size >= 6 and not (part == COLD).any():          # (cold items turn a user's training positives COLD)
            assert part[-1] == TEST and part[-2] == VALIDATION            # the next item, and the one before
            earlier = part[:-2]
            assert (earlier == TASTE_TEST).sum() == max(1, round(0.2 * earlier.size))
            assert (earlier == TASTE_VALIDATION).sum() == max(1, round(0.1 * earlier.size))
            assert (earlier == TRAIN).any()
            checked += 1
    assert checked > 20
    summary = splits.summary()
    assert summary["taste_test"] > summary["test"] > 0 and summary["taste_validation"] > 0
    # the same seed gives the same split, and leave-last-out's next items are the same positives
    again = load_splits(cfg)
    assert all((a == b).all() for a, b in zip(splits.parts, again.parts))


def test_next_and_taste_phases_hide_what_they_must():
    from suite.recommendation.phases import READ_AT_TEST, parts_of, phases_of

    splits = load_splits(RecDataConfig(source="synthetic", synthetic_users=60, synthetic_items=90,
                                       split="next-and-taste"))
    phases = phases_of(splits)
    assert list(phases) == ["validation", "taste_validation", "test", "taste"]
    taste, test, validation = phases["taste"], phases["test"], phases["validation"]
    user = int(taste.users[0])
    row = {int(u): i for i, u in enumerate(taste.users)}[user]
    hidden = set(taste.exclude[row].indices.tolist())
    # a taste target is never hidden; every other positive of the user is, the next-item test too
    assert not hidden & set(splits.history(user, TASTE_TEST).tolist())
    assert set(splits.history(user, TEST).tolist()) <= hidden
    assert taste.history_parts == test.history_parts == READ_AT_TEST and validation.history_parts == (TRAIN,)
    # a validation phase never hides a test item (that would pick checkpoints with test labels)
    test_items = splits.matrix(TEST, TASTE_TEST)[validation.users]
    assert validation.exclude.multiply(test_items).nnz == 0
    parts = parts_of(phases)
    assert set(parts) == {"validation", "test"} and set(test.users) <= set(parts["test"][1])


def test_leak_check_catches_a_leak():
    splits = load_splits(RecDataConfig(source="synthetic", synthetic_users=30, synthetic_items=40))
    user = next(u for u, p in enumerate(splits.parts) if (p == TEST).any())
    seq, part = splits.sequences[user], splits.parts[user]
    splits.sequences[user] = np.append(seq, seq[part == TEST])      # the test item again, as training
    splits.parts[user] = np.append(part, TRAIN)
    with pytest.raises(AssertionError, match="also in training"):
        check_no_leak(splits)


def test_cold_start_removes_items_from_training_and_keeps_them_as_targets():
    cfg = RecDataConfig(source="synthetic", synthetic_users=100, synthetic_items=120, cold_start_items=0.25)
    splits = load_splits(cfg)
    assert splits.cold_items.size == 30
    summary = splits.summary()
    assert summary["cold_interactions_removed"] > 0
    targets = splits.cold_targets()          # the later (test) interactions with cold items
    assert targets.nnz == splits.matrix(TEST)[:, splits.cold_items].nnz > 0
    assert set(targets.nonzero()[1]) <= set(splits.cold_items.tolist())
    assert all(part[np.isin(seq, splits.cold_items)].tolist() == [p for p in part[np.isin(seq, splits.cold_items)]
                                                                  if p in (COLD, TEST)]
               for seq, part in zip(splits.sequences, splits.parts))


def test_training_budget_keeps_each_users_newest_positives_and_the_same_held_out_ones():
    from suite.recommendation.phases import phases_of

    cfg = RecDataConfig(source="synthetic", synthetic_users=80, synthetic_items=120, split="next-and-taste")
    full, capped = load_splits(cfg), load_splits(RecDataConfig(**{**cfg.__dict__, "max_train_per_user": 2}))
    for whole, part in zip(full.parts, capped.parts):
        assert ((part == UNUSED) | (part == whole)).all()                   # held-out parts unchanged
        kept = np.flatnonzero(whole == TRAIN)[-2:]
        assert (part == TRAIN).sum() == kept.size and (part[kept] == TRAIN).all()   # the newest two
    summary = capped.summary()
    assert summary["train"] <= 2 * capped.n_users and summary["unused"] == full.summary()["train"] - summary["train"]
    # an unused positive is never a target and never counted against a system: hidden like other positives
    test = phases_of(capped)["test"]
    unused = capped.matrix(UNUSED)[test.users]
    assert unused.nnz > 0 and unused.multiply(test.exclude).nnz == unused.nnz
    with pytest.raises(RecipeError, match="data.max_train_per_user: expected an integer from 1"):
        config.build(RecDataConfig, {"source": "synthetic", "max_train_per_user": 0}, where="r", prefix="data.")


def test_generated_set_is_deterministic_and_text_bearing():
    a = load_table(RecDataConfig(source="synthetic", seed=3))
    b = load_table(RecDataConfig(source="synthetic", seed=3))
    assert a.users == b.users and a.items == b.items and a.item_texts == b.item_texts
    assert len(a.item_texts) == 240 and all(text.startswith("The ") for text in a.item_texts.values())


def test_items_csv_missing_a_column(csv_source, tmp_path):
    (tmp_path / "items.csv").write_text("item,title\nm1,Alien\n")
    with pytest.raises(DataError, match="no column 'genres'") as error:
        load_splits(RecDataConfig(**csv_source))
    assert "\n" not in str(error.value)


def test_interactions_naming_unknown_items(csv_source, tmp_path):
    (tmp_path / "inter.csv").write_text(INTERACTIONS + "bob,zz9,5,50\n")
    with pytest.raises(DataError, match="1 interacted items are not in data.items, e.g. 'zz9'"):
        load_splits(RecDataConfig(**csv_source))


def test_interactions_missing_a_column_names_the_fix(csv_source, tmp_path):
    (tmp_path / "inter.csv").write_text("user,item\nalice,m1\n")
    with pytest.raises(DataError, match="no column 'rating'.*null if absent"):
        load_splits(RecDataConfig(**csv_source))
    cfg = RecDataConfig(**{**csv_source, "rating_column": None, "timestamp_column": None})
    assert load_table(cfg).ratings.size == 1


@pytest.mark.parametrize("text, message", [
    ("user,item,rating,timestamp\nalice,m1,great,1\n", "rating 'great' is not a number"),
    ("user,item,rating,timestamp\nalice,m1,5,yesterday\n", "neither a number nor an ISO date"),
    ("user,item,rating,timestamp\n", "holds no interactions"),
])
def test_bad_values_are_one_line_errors(csv_source, tmp_path, text, message):
    (tmp_path / "inter.csv").write_text(text)
    with pytest.raises(DataError, match=message):
        load_splits(RecDataConfig(**csv_source))


def test_missing_files_and_duplicate_items(csv_source, tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_splits(RecDataConfig(**{**csv_source, "source": str(tmp_path / "nope.csv")}))
    with pytest.raises(DataError, match="needs an items table"):
        load_splits(RecDataConfig(**{**csv_source, "items": None}))
    (tmp_path / "dup.csv").write_text("item,title\nm1,A\nm1,B\n")
    with pytest.raises(DataError, match="appears twice"):
        read_items(tmp_path / "dup.csv", id_column="item", text_columns=["title"])


def test_nothing_positive_is_an_error(csv_source):
    with pytest.raises(DataError, match="no interaction has a rating >= 6"):
        split_table(load_table(RecDataConfig(**csv_source)), RecDataConfig(**{**csv_source, "positive_threshold": 6}))


def test_recipe_validation_names_the_key():
    from suite.core.errors import RecipeError

    with pytest.raises(RecipeError, match="data.split: expected one of"):
        load_recipe("recommendation/tiny", ["data.split=sideways"])
    with pytest.raises(RecipeError, match="evaluation.baselines: unknown baseline 'svd'"):
        load_recipe("recommendation/tiny", ["evaluation.baselines=[svd]"])
    with pytest.raises(RecipeError, match="cold_start_items"):
        load_recipe("recommendation/tiny", ["data.cold_start_items=0.9"])
