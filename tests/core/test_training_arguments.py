"""How a recipe's ``train`` section becomes the Trainer's arguments (no model is built)."""

from types import SimpleNamespace

import pytest

from suite.core.recipe import load_recipe
from suite.core.registry import TrainingInputs
from suite.core.training import training_arguments


def _arguments(tmp_path, examples: int, *overrides: str):
    recipe = load_recipe("spam/tiny", ["train.batch_size=16", "train.epochs=2", *overrides])
    return training_arguments(recipe, SimpleNamespace(checkpoints_dir=tmp_path),
                              TrainingInputs(train_dataset=list(range(examples))), metric="f1", greater_is_better=True)


def test_enough_data_trains_by_epochs_and_evaluates_every_epoch(tmp_path):
    args = _arguments(tmp_path, 1600, "train.min_steps=60")                 # 2 x 100 steps > 60
    assert args.max_steps == -1 and args.num_train_epochs == 2 and args.eval_strategy == "epoch"


@pytest.mark.parametrize("epochs, every", [(2, 30), (3, 20), (0.5, 60)])
def test_min_steps_stretch_small_data_but_evaluate_as_often_as_the_epochs_would(tmp_path, epochs, every):
    args = _arguments(tmp_path, 32, "train.min_steps=60", f"train.epochs={epochs}")   # 2 steps per epoch
    assert args.max_steps == 60
    assert args.eval_strategy == "steps" and args.eval_steps == args.save_steps == every


def test_an_explicit_max_steps_and_step_evaluation_are_kept(tmp_path):
    args = _arguments(tmp_path, 32, "train.min_steps=60", "train.max_steps=10", "train.evaluate_every=5")
    assert (args.max_steps, args.eval_strategy, args.eval_steps) == (10, "steps", 5)
