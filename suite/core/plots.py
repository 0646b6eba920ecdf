"""PNG figures for run folders: ROC and precision-recall curves, reliability, learning curves.

matplotlib is imported inside each function, so ``import suite`` stays light. Figures
are built with the object-oriented ``matplotlib.figure.Figure`` and rendered by the Agg
(PNG) renderer, never through ``pyplot``: no screen is needed, no global backend is
switched under a notebook user, and nothing leaks between calls or threads.
Every figure is written to a temporary file beside the target and renamed onto it, so
a killed run never leaves a half-written PNG.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

Curves = dict[str, tuple[Sequence, Sequence]]   # system name -> (labels, scores)


@contextmanager
def panels(path: Path, *, ncols: int = 1, size: tuple[float, float] = (6.0, 4.5)) -> Iterator[list]:
    """Yield ``ncols`` fresh axes side by side; on a clean exit, save the figure atomically to ``path`` as PNG."""
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=size, dpi=110)
    shown = list(fig.subplots(1, ncols)) if ncols > 1 else [fig.subplots()]
    yield shown
    for ax in shown:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def axes(path: Path, *, size: tuple[float, float] = (6.0, 4.5)) -> Iterator[object]:
    """Yield one fresh axes; on a clean exit, save the figure atomically to ``path`` as PNG (see :func:`panels`)."""
    with panels(path, size=size) as shown:
        yield shown[0]


def _fpr_resolution(curves: Curves) -> float:
    """A power of ten at or below 1 / (largest negative count): where the log FPR axis starts."""
    import numpy as np

    n_neg = max(int((np.asarray(labels) == 0).sum()) for labels, _ in curves.values())
    return 10.0 ** math.floor(math.log10(1.0 / max(n_neg, 1)))


def roc_curves(curves: Curves, path: Path, *, title: str = "ROC", mark_fpr: float | None = None,
               log_fpr: bool = True) -> Path:
    """Several systems' ROC curves on one plot, each labelled with its ROC-AUC.

    Args:
        curves: ``{system name: (labels, scores)}``; systems may use different splits.
        path: the PNG to write (folders are created).
        title: the figure title.
        mark_fpr: draw a dashed vertical line at this target false-positive rate.
        log_fpr: symmetric-log FPR axis (linear near 0, log above 1 / n_negatives),
            so that the 0.1% end that matters for spam is readable.

    Returns:
        ``path``.

    Raises:
        ValueError: a system has only one class (its AUC is undefined).

    Example:
        >>> roc_curves({"model": ([0, 0, 1, 1], [.1, .6, .4, .9])}, Path("roc.png"), mark_fpr=0.01)  # doctest: +SKIP
    """
    import numpy as np
    from sklearn.metrics import roc_curve

    from suite.core.metrics.classification import roc_auc

    aucs = {name: roc_auc(labels, scores) for name, (labels, scores) in curves.items()}   # validates first
    linthresh = _fpr_resolution(curves) if curves else 1e-3
    with axes(path) as ax:
        chance = np.concatenate([[0.0], np.geomspace(linthresh, 1.0, 200)])
        ax.plot(chance, chance, color="grey", linestyle=":", linewidth=1, label="chance")
        for name, (labels, scores) in curves.items():
            fpr, tpr, _ = roc_curve(labels, scores)
            ax.plot(fpr, tpr, linewidth=1.5, label=f"{name} (AUC {aucs[name]:.4f})")
        if mark_fpr is not None:
            ax.axvline(mark_fpr, color="tab:red", linestyle="--", linewidth=1, label=f"target FPR {mark_fpr:g}")
        if log_fpr:
            ax.set_xscale("symlog", linthresh=linthresh)
        ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.02), title=title,
               xlabel="false-positive rate" + (" (log scale)" if log_fpr else ""),
               ylabel="true-positive rate (recall, sensitivity)")
        ax.legend(loc="lower right", fontsize=8)
    return Path(path)


def pr_curves(curves: Curves, path: Path, *, title: str = "Precision-recall") -> Path:
    """Several systems' precision-recall curves on one plot, each labelled with its average precision.

    The dotted line is the precision of flagging everything (the first system's
    prevalence): a system below it is worse than no filter at all.

    Args:
        curves: ``{system name: (labels, scores)}``.
        path: the PNG to write.
        title: the figure title.

    Returns:
        ``path``.

    Raises:
        ValueError: a system has only one class.

    Example:
        >>> pr_curves({"model": ([0, 0, 1, 1], [.1, .6, .4, .9])}, Path("pr.png"))  # doctest: +SKIP
    """
    import numpy as np
    from sklearn.metrics import precision_recall_curve

    from suite.core.metrics.classification import pr_auc

    aps = {name: pr_auc(labels, scores) for name, (labels, scores) in curves.items()}   # validates first
    with axes(path) as ax:
        for name, (labels, scores) in curves.items():
            precision, recall, _ = precision_recall_curve(labels, scores)
            ax.plot(recall, precision, drawstyle="steps-post", linewidth=1.5, label=f"{name} (AP {aps[name]:.4f})")
        if curves:
            prevalence = float(np.mean(next(iter(curves.values()))[0]))
            ax.axhline(prevalence, color="grey", linestyle=":", linewidth=1, label=f"chance ({prevalence:.3f})")
        ax.set(xlabel="recall (sensitivity)", ylabel="precision (PPV)", title=title, xlim=(0.0, 1.0),
               ylim=(0.0, 1.02))
        ax.legend(loc="lower left", fontsize=8)
    return Path(path)


def reliability_plot(labels: Sequence, probs: Sequence, path: Path, *, title: str = "Reliability",
                     n_bins: int = 10) -> Path:
    """Observed positive rate against mean predicted probability per bin, with the diagonal and the ECE.

    Marker area grows with the bin's count; empty bins are left out.

    Args:
        labels: 0/1 ground truth.
        probs: predicted probabilities of the positive class, in [0, 1].
        path: the PNG to write.
        title: the figure title.
        n_bins: equal-width bins, as :func:`suite.core.metrics.classification.reliability_bins`.

    Returns:
        ``path``.

    Raises:
        ValueError: probabilities outside [0, 1].

    Example:
        >>> reliability_plot([0, 1, 1, 0], [.2, .7, .9, .4], Path("reliability.png"))  # doctest: +SKIP
    """
    from suite.core.metrics.classification import expected_calibration_error, reliability_bins

    bins = [b for b in reliability_bins(labels, probs, n_bins) if b["count"]]
    ece = expected_calibration_error(labels, probs, n_bins)
    largest = max(b["count"] for b in bins)
    with axes(path, size=(5.0, 5.0)) as ax:
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
        x, y = [b["mean_probability"] for b in bins], [b["positive_rate"] for b in bins]
        ax.plot(x, y, color="tab:blue", linewidth=1.5, label=f"model (ECE {ece:.3f})")
        ax.scatter(x, y, s=[20 + 180 * b["count"] / largest for b in bins], color="tab:blue", zorder=3)
        ax.set(xlabel="mean predicted probability", ylabel="observed positive rate", title=title,
               xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
        ax.legend(loc="upper left", fontsize=8)
    return Path(path)


def learning_curves(log_history: list[dict], path: Path, *, metric: str) -> Path:
    """Training loss, validation loss and a validation metric against optimiser step.

    Args:
        log_history: ``transformers.Trainer.state.log_history``: dicts with ``step``
            and ``loss`` (training logs) or ``eval_loss`` / ``eval_<metric>``
            (evaluation logs); other entries (e.g. the final ``train_loss`` summary)
            are ignored.
        path: the PNG to write.
        metric: the validation metric to draw on the right axis, with or without its
            ``eval_`` prefix (``"f1"`` or ``"eval_f1"``); ``"loss"`` draws no right axis.

    Returns:
        ``path``. An empty history still gives a figure, saying that nothing was logged.

    Example:
        >>> learning_curves([{"step": 10, "loss": 0.7}, {"step": 10, "eval_loss": 0.6, "eval_f1": 0.8}],
        ...                 Path("learning_curves.png"), metric="f1")  # doctest: +SKIP
    """
    metric = metric.removeprefix("eval_")
    key = f"eval_{metric}"
    train = [(h["step"], h["loss"]) for h in log_history if "step" in h and "loss" in h]
    losses = [(h["step"], h["eval_loss"]) for h in log_history if "step" in h and "eval_loss" in h]
    scores = [(h["step"], h[key]) for h in log_history if "step" in h and key in h and metric != "loss"]
    with axes(path, size=(7.0, 4.5)) as ax:
        if train:
            ax.plot(*zip(*train), color="tab:blue", alpha=0.8, label="training loss")
        if losses:
            ax.plot(*zip(*losses), color="tab:orange", marker="o", label="validation loss")
        handles, names = ax.get_legend_handles_labels()
        top = ax
        if scores:
            top = ax.twinx()
            top.plot(*zip(*scores), color="tab:green", marker="s", label=f"validation {metric}")
            top.set_ylabel(f"validation {metric}")
            more, more_names = top.get_legend_handles_labels()
            handles, names = handles + more, names + more_names
        if not (train or losses or scores):
            ax.text(0.5, 0.5, "nothing was logged", ha="center", va="center", transform=ax.transAxes)
        ax.set(xlabel="optimiser step", ylabel="loss",
               title="Learning curves" + (f" (validation {metric} on the right)" if scores else ""))
        if handles:   # below the axes, on the top-most one, so no curve hides it
            top.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8)
    return Path(path)
