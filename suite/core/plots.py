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
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

Curves = dict[str, tuple[Sequence, Sequence]]   # system name -> (labels, scores)


@contextmanager
def _axes(path: Path, *, size: tuple[float, float] = (6.0, 4.5)) -> Iterator[object]:
    """Yield fresh axes; on a clean exit, save the figure atomically to ``path`` as PNG."""
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=size, dpi=110)
    ax = fig.subplots()
    yield ax
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    with _axes(path) as ax:
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
    with _axes(path) as ax:
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
    with _axes(path, size=(5.0, 5.0)) as ax:
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
    with _axes(path, size=(7.0, 4.5)) as ax:
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


@contextmanager
def _panels(path: Path, *, ncols: int, size: tuple[float, float]) -> Iterator[list]:
    """Like :func:`_axes`, with ``ncols`` axes side by side."""
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=size, dpi=110)
    axes = list(fig.subplots(1, ncols)) if ncols > 1 else [fig.subplots()]
    yield axes
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def metric_against_time(points: dict[str, tuple[float, float]], path: Path, *, metric: str,
                        references: dict[str, float] | None = None, title: str = "") -> Path:
    """Each trained system's metric against its training time (log scale when the times span
    more than 10x), untrained systems as lines.

    Args:
        points: ``{system: (training seconds, metric value)}``.
        path: the PNG to write.
        metric: the metric's name, for the y axis.
        references: ``{system: metric value}`` of systems with no training time (classical
            baselines, zero-shot), drawn as dashed horizontal lines.
        title: the figure title.

    Returns:
        ``path``. With nothing to draw the figure says so.

    Example:
        >>> metric_against_time({"full": (600.0, 0.97), "lora": (300.0, 0.96)}, Path("t.png"), metric="f1",
        ...                     references={"baseline:tfidf": 0.97})  # doctest: +SKIP
    """
    references = references or {}
    with _axes(path, size=(7.0, 4.5)) as ax:
        for index, (name, value) in enumerate(sorted(references.items(), key=lambda item: -item[1])):
            ax.axhline(value, color=f"C{(index + len(points)) % 10}", linestyle="--", linewidth=1,
                       label=f"{name} ({value:.4g}; no training time)")
        for index, (name, (seconds, value)) in enumerate(points.items()):
            ax.scatter([seconds], [value], s=60, color=f"C{index % 10}", zorder=3, label=f"{name} ({value:.4g})")
            ax.annotate(name, (seconds, value), textcoords="offset points", xytext=(6, 4), fontsize=8)
        scale = _time_axis(ax, [seconds for seconds, _ in points.values()])
        if not points and not references:
            ax.text(0.5, 0.5, "no finished system", ha="center", va="center", transform=ax.transAxes)
        ax.set(xlabel=f"training wall time (s{scale})", ylabel=metric, title=title or f"{metric} against training time")
        if points or references:
            ax.legend(loc="best", fontsize=7)
    return Path(path)


def _time_axis(ax, seconds: list[float]) -> str:
    """A log time axis when the times span more than 10x, else a linear one; plain-number ticks
    either way. Returns the scale's note for the axis label."""
    from matplotlib.ticker import FuncFormatter

    positive = [s for s in seconds if s and s > 0]
    if not positive or max(positive) / min(positive) <= 10:
        return ""
    ax.set_xscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    return ", log scale"


def learning_curves_compare(histories: dict[str, list[dict]], path: Path, *, metric: str, title: str = "") -> Path:
    """Several runs' training loss (left) and validation metric (right) against optimiser step.

    Args:
        histories: ``{system: Trainer log_history}`` (see :func:`learning_curves`).
        path: the PNG to write.
        metric: the validation metric, with or without its ``eval_`` prefix.
        title: a title above both panels.

    Returns:
        ``path``.

    Example:
        >>> learning_curves_compare({"full": [{"step": 5, "loss": 0.6}, {"step": 5, "eval_f1": 0.8}]},
        ...                         Path("curves.png"), metric="f1")  # doctest: +SKIP
    """
    metric = metric.removeprefix("eval_")
    with _panels(path, ncols=2, size=(11.0, 4.2)) as (left, right):
        for index, (name, history) in enumerate(histories.items()):
            loss = [(h["step"], h["loss"]) for h in history if "step" in h and "loss" in h]
            score = [(h["step"], h[f"eval_{metric}"]) for h in history if "step" in h and f"eval_{metric}" in h]
            if loss:
                left.plot(*zip(*loss), color=f"C{index % 10}", alpha=0.85, label=name)
            if score:
                right.plot(*zip(*score), color=f"C{index % 10}", marker="o", label=name)
        left.set(xlabel="optimiser step", ylabel="training loss", title=f"{title} training loss".strip())
        right.set(xlabel="optimiser step", ylabel=f"validation {metric}", title=f"{title} validation {metric}".strip())
        for ax in (left, right):
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best", fontsize=8)
            else:
                ax.text(0.5, 0.5, "nothing was logged", ha="center", va="center", transform=ax.transAxes)
    return Path(path)


def compute_efficiency(achieved: dict[str, float], path: Path, *, peak: float,
                       estimated: Sequence[str] = ()) -> Path:
    """Achieved training FLOP/s per run as bars, against the matmul peak measured on the same machine.

    Args:
        achieved: ``{run label: training FLOP/s}``.
        path: the PNG to write.
        peak: the measured fp32 matmul FLOP/s, drawn as a vertical line.
        estimated: labels whose FLOPs are an estimate (hatched bars).

    Returns:
        ``path``.

    Example:
        >>> compute_efficiency({"spam / full": 2.1e10}, Path("efficiency.png"), peak=9.0e10)  # doctest: +SKIP
    """
    names = list(achieved)
    with _axes(path, size=(7.5, 2.0 + 0.45 * max(len(names), 1))) as ax:
        values = [achieved[name] / 1e9 for name in names]
        bars = ax.barh(range(len(names)), values, color="tab:blue")
        for bar, name, value in zip(bars, names, values):
            if name in estimated:
                bar.set_hatch("//")
                bar.set_alpha(0.6)
            ax.annotate(f"{100 * value * 1e9 / peak:.1f}%", (value, bar.get_y() + bar.get_height() / 2),
                        textcoords="offset points", xytext=(4, -3), fontsize=8)
        ax.axvline(peak / 1e9, color="tab:red", linestyle="--", linewidth=1,
                   label=f"fp32 matmul peak {peak / 1e9:.1f} GFLOP/s")
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set(xlabel="achieved training GFLOP/s (hatched: estimated FLOPs)",
               title="Training compute efficiency (share of the matmul peak)")
        ax.legend(loc="lower right", fontsize=8)
    return Path(path)
