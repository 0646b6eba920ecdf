"""Each plot writes a readable, non-empty PNG atomically, and only matplotlib's importers pay for it."""

import subprocess
import sys

import numpy as np
import pytest

from suite.core import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(0)
LABELS = np.r_[np.zeros(300, int), np.ones(60, int)]
SCORES = 1 / (1 + np.exp(-RNG.normal(LABELS * 2.5 - 1.5, 1.0)))
HISTORY = [
    {"step": 5, "epoch": 0.5, "loss": 0.71, "learning_rate": 1e-4, "grad_norm": 3.2},
    {"step": 10, "epoch": 1.0, "loss": 0.52},
    {"step": 10, "epoch": 1.0, "eval_loss": 0.55, "eval_f1": 0.61, "eval_runtime": 0.3},
    {"step": 15, "epoch": 1.5, "loss": 0.33},
    {"step": 20, "epoch": 2.0, "loss": 0.21},
    {"step": 20, "epoch": 2.0, "eval_loss": 0.40, "eval_f1": 0.78},
    {"step": 20, "epoch": 2.0, "train_loss": 0.44, "train_runtime": 4.2},
]


def _assert_png(path):
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    height, width = matplotlib.image.imread(str(path)).shape[:2]
    assert height > 100 and width > 100
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]      # no temp file left


def test_roc_curves(tmp_path):
    curves = {"tuned": (LABELS, SCORES), "baseline": (LABELS, SCORES ** 3 * RNG.uniform(0.5, 1, SCORES.size))}
    path = tmp_path / "plots" / "roc.png"
    assert plots.roc_curves(curves, path, title="ROC", mark_fpr=0.001) == path
    _assert_png(path)
    plots.roc_curves(curves, path, title="ROC", log_fpr=False)               # overwrites in place
    _assert_png(path)


def test_pr_curves(tmp_path):
    path = tmp_path / "pr.png"
    plots.pr_curves({"tuned": (LABELS.tolist(), SCORES.tolist())}, path, title="Precision-recall")
    _assert_png(path)


def test_reliability_plot(tmp_path):
    path = tmp_path / "reliability.png"
    plots.reliability_plot(LABELS, SCORES, path, title="Calibration")
    _assert_png(path)


@pytest.mark.parametrize("history, metric", [(HISTORY, "f1"), (HISTORY, "eval_f1"), (HISTORY, "loss"),
                                             (HISTORY[:2], "f1"), ([], "f1")])
def test_learning_curves(tmp_path, history, metric):
    path = tmp_path / "learning_curves.png"
    plots.learning_curves(history, path, metric=metric)
    _assert_png(path)


def test_failed_plot_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="one class"):
        plots.roc_curves({"broken": ([1, 1, 1], [0.2, 0.5, 0.9])}, tmp_path / "new" / "roc.png", title="ROC")
    assert list(tmp_path.iterdir()) == []


def test_importing_plots_and_metrics_is_light():
    code = ("import sys, suite.core.plots, suite.core.metrics.classification; "
            "print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
