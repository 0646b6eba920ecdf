"""A label budget: N labels in all, split again into training and validation, the same draw every time."""

import numpy as np
import pytest

from suite.core import config
from suite.core.errors import DataError, RecipeError
from suite.core.label_budget import LabelBudget, draw


def _budget(n, share=0.25, which=0):
    return LabelBudget(label_budget=n, budget_validation=share, budget_draw=which)


def test_it_draws_n_in_all_stratified_with_every_class_in_both_parts():
    labels = np.array([1] * 30 + [0] * 70)
    train, validation = draw(labels, _budget(32), seed=0, classes=2)
    assert len(train) + len(validation) == 32 and not set(train) & set(validation)
    assert labels[np.concatenate([train, validation])].sum() == 10          # 30% of 32, rounded
    assert set(labels[train]) == set(labels[validation]) == {0, 1}
    assert len(validation) == 8
    again, _ = draw(labels, _budget(32), seed=0, classes=2)
    other, _ = draw(labels, _budget(32, which=1), seed=0, classes=2)
    assert list(again) == list(train) and list(other) != list(train)


def test_the_smallest_budget_still_gives_every_class_one_of_each():
    labels = np.array([1] * 5 + [0] * 95)
    train, validation = draw(labels, _budget(4), seed=0, classes=2)
    assert sorted(labels[train]) == sorted(labels[validation]) == [0, 1]


@pytest.mark.parametrize("n, labels, message", [
    (3, [0, 1] * 10, "3 labelled examples are fewer than 2 x 2 classes"),
    (50, [0, 1] * 10, "50 labelled examples asked for, but the training and validation splits hold 20"),
    (4, [0] * 10 + [1], "a class has fewer than two examples"),
    (5, [0, 1] * 10, "fewer than 2 x 3 classes"),
])
def test_impossible_budgets_are_one_line(n, labels, message):
    with pytest.raises(DataError, match=message):
        draw(np.array(labels), _budget(n), seed=0, classes=3 if "3 classes" in message else 2)


def test_multilabel_budgets_draw_at_random():
    labels = (np.random.default_rng(0).random((40, 3)) < 0.5).astype(int)
    train, validation = draw(labels, _budget(12), seed=0)
    assert (len(train), len(validation)) == (9, 3)


@pytest.mark.parametrize("values, message", [
    ({"label_budget": 1}, "data.label_budget: expected an integer from 2 to"),
    ({"label_budget": 10, "budget_validation": 1.0}, r"data.budget_validation: expected a number in \(0, 1\)"),
    ({"budget_draw": -1}, "data.budget_draw: expected an integer from 0 to"),
])
def test_bad_values_name_the_key(values, message):
    with pytest.raises(RecipeError, match=message):
        config.build(LabelBudget, values, where="r.yaml", prefix="data.")
