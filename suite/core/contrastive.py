"""Contrastive tuning of a sentence encoder on pairs of labelled texts (SetFit, Tunstall et al. 2022).

Few labels train a classifier's cross-entropy poorly; pairs of them train an encoder far better: every
example is paired with ``pairs_per_example`` others of its class (target similarity 1) and as many of another
class (target 0), and sentence-transformers' ``CosineSimilarityLoss`` pulls the first together and pushes the
second apart. 32 labelled examples make 1,280 pairs. A linear head is then fitted on the tuned embeddings
(:mod:`suite.core.probe`), and fine-tuning may continue from there (``contrastive-lp-ft``).

The encoder trains through :func:`suite.core.training.train` with sentence-transformers' Trainer, as phase
``contrastive``: its own checkpoints (``checkpoints/contrastive/``), logs and learning curve. Once the phase
ends, the tuned encoder's weights are kept in ``checkpoints/contrastive/encoder.safetensors``, so that a resumed
run does not tune it again.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.core.errors import DataError
from suite.core.registry import Model, TrainingInputs

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

PHASE = "contrastive"
DONE_FILE = "encoder.safetensors"


def pairs(texts: list[str], labels: np.ndarray, *, per_example: int, max_pairs: int,
          seed: int) -> tuple[list[str], list[str], list[float]]:
    """Pairs of texts with a target similarity: 1.0 for the same class, 0.0 for different classes.

    Every text gets up to ``per_example`` partners of its own class and as many of other classes (fewer where
    ``max_pairs`` would be exceeded: then as many per text as fit), drawn without replacement where the class
    is large enough.

    Raises:
        DataError: a class with a single example (it has no partner of its own class), or one class only.
    """
    labels = np.asarray(labels)
    classes = check_labels(labels)
    per_example = max(1, min(per_example, max_pairs // (2 * len(texts))))
    rng = np.random.default_rng(seed)
    members = {value: np.flatnonzero(labels == value) for value in classes}
    first, second, target = [], [], []
    for index, value in enumerate(labels):
        same = members[value][members[value] != index]
        other = np.flatnonzero(labels != value)
        for pool, similarity in ((same, 1.0), (other, 0.0)):
            partners = rng.choice(pool, size=per_example, replace=len(pool) < per_example)
            first += [texts[index]] * per_example
            second += [texts[int(j)] for j in partners]
            target += [similarity] * per_example
    return first, second, target


def check_labels(labels: np.ndarray) -> np.ndarray:
    """The classes of the training labels, once they are known to make pairs of both kinds.

    Raises:
        DataError: one class only, or a class with a single example (it has no partner of its own class).
    """
    classes, counts = np.unique(np.asarray(labels), return_counts=True)
    if len(classes) < 2:
        raise DataError("train.strategy contrastive: the training examples hold one class only; pairs of "
                        "different classes need two")
    if counts.min() < 2:
        raise DataError(f"train.strategy contrastive: class {classes[np.argmin(counts)]} has one training example, "
                        "so it has no partner of its own class; label at least two of every class for training "
                        "(with data.label_budget, at least 3 per class)")
    return classes


def tune_encoder(*, encoder: Any, texts: list[str], labels: np.ndarray, recipe: Recipe, run: Any,
                 resume: bool) -> dict:
    """Tune ``encoder`` in place on pairs of ``texts``; return the phase's figures (seconds, steps, FLOPs).

    A resumed run whose phase already finished loads the tuned weights instead (``seconds`` 0, ``resumed``).
    """
    from safetensors.torch import load_model, save_model
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import CosineSimilarityLoss

    from datasets import Dataset
    from suite.core import training

    done = run.checkpoints_for(PHASE) / DONE_FILE
    if resume and done.is_file():
        load_model(encoder, str(done))
        return {"phase": PHASE, "seconds": 0.0, "steps": None, "examples": len(texts), "flops": None,
                "resumed": True}
    c = recipe.train.contrastive
    first, second, target = pairs(texts, labels, per_example=c.pairs_per_example, max_pairs=c.max_pairs,
                                  seed=recipe.seed)
    phase_recipe = dataclasses.replace(recipe, train=dataclasses.replace(
        recipe.train, epochs=c.epochs, learning_rate=c.learning_rate, batch_size=c.batch_size, max_steps=-1,
        min_steps=0, evaluate_every="epoch", early_stopping_patience=None, group_by_length=False,
        backbone_lr_scale=1.0, warmup_ratio=0.1))
    inputs = TrainingInputs(
        train_dataset=Dataset.from_dict({"sentence1": first, "sentence2": second, "label": target}),
        trainer_class=SentenceTransformerTrainer, args_class=SentenceTransformerTrainingArguments,
        trainer_kwargs={"loss": CosineSimilarityLoss(encoder)})
    result = training.train(recipe=phase_recipe, run=run, model=Model(network=encoder,
                                                                      processing_class=encoder.tokenizer),
                            inputs=inputs, primary_metric="loss", greater_is_better=False, resume=resume,
                            phase=PHASE)
    if result.trainer.is_world_process_zero():          # written whole, then renamed: a killed run never keeps half
        partial = done.with_name(f".{DONE_FILE}.partial")
        save_model(encoder, str(partial))
        os.replace(partial, done)
    return {"phase": PHASE, "seconds": result.train_seconds, "steps": result.steps, "examples": len(first),
            "flops": result.training_flops, "resumed": False}
