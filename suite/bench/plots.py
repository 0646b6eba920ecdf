"""PNG figures of a benchmark: metric against training time, learning curves side by side, compute efficiency.

Drawn like the run folders' plots (:mod:`suite.core.plots`): matplotlib's object-oriented
``Figure`` rendered to PNG, never ``pyplot``, each figure written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from suite.core.plots import axes as _axes
from suite.core.plots import panels as _panels


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
