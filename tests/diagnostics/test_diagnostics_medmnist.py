"""The online PneumoniaMNIST recipe, run offline: a fake file in the exact MedMNIST layout sits where the
recipe's ``medmnist:`` source looks first (its cache), so the recipe's own data path runs end to end."""

import numpy as np
import pytest

import suite
from suite.core.recipe import load_recipe

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

SIZES = {"train": 60, "val": 20, "test": 40}


def _fake_pneumoniamnist(path, seed=0):
    """28 x 28 uint8 grayscale images and (N, 1) uint8 labels under train_/val_/test_ keys, as MedMNIST ships them;
    label 1 (pneumonia) images carry a bright patch, so there is something to learn."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in SIZES.items():
        labels = (np.arange(n) % 2).astype(np.uint8)[:, None]
        images = rng.integers(40, 120, (n, 28, 28)).astype(np.uint8)
        images[labels[:, 0] == 1, 8:16, 10:18] += 120
        arrays.update({f"{split}_images": images, f"{split}_labels": labels})
    np.savez_compressed(path, **arrays)
    return arrays


def test_pneumoniamnist_recipe_reads_the_medmnist_layout(runs_dir, tmp_path):
    recipe = load_recipe("diagnostics/pneumoniamnist")
    assert recipe.data.source == "medmnist:pneumoniamnist_128" and not recipe.offline
    arrays = _fake_pneumoniamnist(tmp_path / "pneumoniamnist_128.npz")       # where the download would land
    run = suite.tune("diagnostics/pneumoniamnist", data__cache_dir=str(tmp_path),
                     model__source="bundled:efficientnet-lite0", model__image_size=32,   # no hub offline
                     train__max_steps=4, train__batch_size=16, evaluation__bootstrap=50,
                     evaluation__saliency_images=1, output__runs_dir=str(runs_dir), output__name="dx-pneumoniamnist")
    metrics = run.metrics()
    data = metrics["data"]
    assert (data["train"], data["validation"], data["test"]) == (60, 20, 40)
    assert data["task"] == "binary" and data["classes"] == "normal, pneumonia"
    assert data["positive_test"] == int(arrays["test_labels"].sum()) == 20
    assert data["source"] == "medmnist:pneumoniamnist_128"
    assert set(metrics["models"]) == {"tuned", "hybrid", "baseline:logreg-pixels", "baseline:logreg-imagenet-features"}
    assert metrics["models"]["baseline:logreg-pixels"]["auroc"] > 0.9       # the patch is plain in the pixels
    assert metrics["models"]["tuned"]["n"] == 40 and metrics["training"]["steps"] == 4
    predictor = suite.load(run.path)
    assert predictor.settings["class_names"] == ["normal", "pneumonia"]
    assert predictor.settings["data_config"]["input_size"] == [3, 32, 32]
