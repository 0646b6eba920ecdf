"""suite: fine-tune pretrained models for spam filtering, recommendation, translation and diagnostics.

Public API (the ``suite`` command line mirrors it)::

    import suite
    run = suite.tune("spam/tiny", train__epochs=1)   # recipe name or path, then overrides
    predictor = suite.load(run.path)
    predictor.predict(["Cheap meds, click now"])
    suite.evaluate(run.path)                          # metrics.json format
    suite.bench(plan="quick", domains=["spam"])       # baselines, scratch, full, LoRA: one table
    suite.list_domains()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.core.errors import DataError, ModelSourceError, RecipeError, RunError, SuiteError

__version__ = "0.1.0"
__all__ = ["tune", "resume", "load", "evaluate", "bench", "list_domains", "SuiteError", "RecipeError", "DataError",
           "ModelSourceError", "RunError"]


def tune(recipe: str | Path | dict, **overrides: Any):
    """Tune a model as ``recipe`` says and return the finished run folder.

    Args:
        recipe: a recipe YAML path, a bundled recipe name (``"spam/tiny"``; ``"spam"``
            means ``"spam/default"``), or a recipe dict.
        **overrides: recipe keys to change, with ``__`` between section and key
            (``train__epochs=1``) or dotted keys via ``**{"train.epochs": 1}``.

    Returns:
        A :class:`suite.core.runs.Run`; ``run.path`` is the folder, ``run.metrics()``
        the evaluation of the tuned model and every baseline on the same test split.

    Raises:
        SuiteError: a bad recipe, data or model source, found before any model loads.

    Example:
        >>> run = suite.tune("spam/tiny", train__epochs=1)
        >>> sorted(run.metrics()["models"])
        ['baseline:naive-bayes', 'baseline:tfidf-logreg', 'tuned']
    """
    from suite.core import pipeline

    return pipeline.tune(recipe, overrides)


def resume(run_dir: str | Path):
    """Continue an interrupted run from its newest checkpoint; returns the finished run."""
    from suite.core import pipeline

    return pipeline.resume(run_dir)


def load(run_dir: str | Path):
    """Load a finished run's model; the returned predictor has ``predict(inputs) -> list[dict]``.

    Raises:
        RunError: not a run folder, or the run has not finished.
    """
    from suite.core import pipeline

    return pipeline.load(run_dir)


def evaluate(run_dir: str | Path, *, data: str | None = None) -> dict:
    """Evaluate a finished run again (its test split, or ``data``); returns a metrics.json document."""
    from suite.core import pipeline

    return pipeline.evaluate(run_dir, data)


def bench(*, plan: str | Path | dict = "quick", domains: list[str] | None = None, out: str | Path | None = None):
    """Run a benchmark plan (``recipes/bench/<plan>.yaml``): every system of every domain on one split.

    Args:
        plan: ``"quick"``, ``"full"``, ``"tiny"``, a plan YAML path, or a plan dict.
        domains: run only these domains (default: every domain of the plan).
        out: an empty or new folder for results.json, results.md, report.html and plots/.

    Returns:
        The results document (also in ``out/results.json``, beside the Markdown and HTML reports).

    Raises:
        SuiteError: an unknown plan or domain, or an ``out`` folder that is not empty.
    """
    from suite.core import bench as harness
    from suite.core import bench_report

    path = harness.run_plan(plan=plan, domains=domains, out=out)
    bench_report.write_reports(path)
    return bench_report.load_results(path)


def list_domains() -> list[str]:
    """Names of the domains that are installed and loaded."""
    from suite.core import registry

    return list(registry.list_domains())
