"""How a recipe's ``train`` section becomes the Trainer's arguments (no model is built)."""

import pytest

from suite.core.recipe import load_recipe
from suite.core.registry import TrainingInputs
from suite.core.runs import Run
from suite.core.training import training_arguments


def _arguments(tmp_path, examples: int, *overrides: str, evaluated: bool = True, phase: str | None = None):
    recipe = load_recipe("spam/tiny", ["train.batch_size=16", "train.epochs=2", *overrides])
    inputs = TrainingInputs(train_dataset=list(range(examples)), eval_dataset=[0, 1] if evaluated else None)
    return training_arguments(recipe, Run(tmp_path), inputs, metric="f1", greater_is_better=True, phase=phase)


def test_without_validation_data_nothing_is_evaluated_and_the_last_weights_stay(tmp_path):
    args = _arguments(tmp_path, 160, evaluated=False, phase="contrastive")   # contrastive tuning's pairs
    assert args.eval_strategy == "no" and not args.load_best_model_at_end and args.save_strategy == "epoch"
    assert args.output_dir == str(tmp_path / "checkpoints" / "contrastive")


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
