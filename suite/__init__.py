"""suite: fine-tune pretrained models for spam filtering, recommendation, translation and diagnostics.

Public API (the ``suite`` command line mirrors it)::

    import suite
    run = suite.tune("spam/tiny", train__epochs=1)   # recipe name or path, then overrides
    predictor = suite.load(run.path)
    predictor.predict(["Cheap meds, click now"])
    suite.evaluate(run.path)                          # metrics.json format
    suite.calibrate(run.path, data="new-mail.csv")    # re-set the threshold on your labelled sample
    suite.bench(plan="quick", domains=["spam"])       # baselines, scratch, full, LoRA: one table
    suite.list_domains()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.core.errors import DataError, ModelSourceError, RecipeError, RunError, SuiteError

__version__ = "0.1.0"
__all__ = ["tune", "resume", "load", "evaluate", "calibrate", "adapt", "bench", "serve", "list_domains",
           "SuiteError", "RecipeError", "DataError", "ModelSourceError", "RunError"]


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


def load(run_dir: str | Path, system: str = "tuned", *, engine: str = "torch"):
    """Load a finished run's model; the returned predictor has ``predict(inputs) -> list[dict]``.

    A threshold re-set by :func:`calibrate` is in effect (the newest calibration of that system).

    Args:
        system: ``"tuned"``, or ``"hybrid"``: the tuned model blended with the classical baselines at the
            weights and threshold the run chose on validation (spam runs save it in ``hybrid/``).
        engine: ``"torch"``, or ``"onnx"``: the run's newest ONNX export (``suite export RUN OUT --format onnx``)
            run by ONNX Runtime, same answers' form and threshold; ``run_dir`` may then be the exported folder.

    Raises:
        RunError: not a run folder, the run has not finished, it saved no hybrid, or it has no ONNX export.
        ModelSourceError: the ONNX export's graph is corrupted.

    Example:
        >>> suite.load("runs/spam-tiny-20261126-120000").predict(["WIN a FREE cruise!!!"])
        [{'spam_probability': 0.97, 'label': 'spam', 'threshold': 0.91}]
    """
    from suite.core import actions

    return actions.load(run_dir, system, engine=engine)


def evaluate(run_dir: str | Path, *, data: str | None = None) -> dict:
    """Evaluate every system of a finished run again, on its test split or on the labelled examples of ``data``.

    Returns the ``metrics.json`` document of this evaluation (also written to the run's ``evaluations/``);
    for binary domains ``operating_point`` holds the rates at the threshold in effect and a ``drift`` line
    when they leave the interval the threshold was chosen with.

    Raises:
        RunError: not a finished run folder.
        DataError: ``data`` cannot be read or used.
    """
    from suite.core import actions

    return actions.evaluate(run_dir, data)


def calibrate(run_dir: str | Path, *, data: str, target_fpr: float | None = None,
              target_sensitivity: float | None = None, system: str = "tuned") -> dict:
    """Re-pick a binary run's threshold on your labelled sample ``data``, written beside the run (never over it).

    Args:
        run_dir: a finished spam or binary diagnostics run.
        data: labelled examples, read like the recipe's ``data.source``.
        target_fpr: flag at most this share of negatives (default: the run's own target).
        target_sensitivity: instead, find at least this share of positives.
        system: ``"tuned"`` or ``"hybrid"`` (see :func:`load`); each system keeps its own calibrations.

    Returns:
        The calibration record: ``threshold``, ``previous_threshold`` and ``operating_point`` (rates on
        ``data`` with 95% Clopper-Pearson intervals).

    Raises:
        SuiteError: not a finished binary run, unreadable data, or two targets.
    """
    from suite.core import actions
    from suite.core.errors import SuiteError
    from suite.core.operating import Target

    if target_fpr is not None and target_sensitivity is not None:
        raise SuiteError("calibrate: give target_fpr or target_sensitivity, not both")
    target = Target("fpr", target_fpr) if target_fpr is not None else \
        Target("tpr", target_sensitivity) if target_sensitivity is not None else None
    return actions.calibrate(run_dir, data, target=target, system=system)


def adapt(run_dir: str | Path, *, data: str, strategy: str = "lp-ft", **overrides: Any):
    """Continue a finished run's tuned model on newly labelled examples ``data``, as a new run (the old one stays).

    The new run starts from the run's tuned model (head included), trains with the few-label ``strategy`` on the
    new examples (default ``lp-ft``: the head fitted again, then fine-tuning from there), chooses its thresholds
    on the new validation data, and refits the baselines on the old training data and the new together. Its
    ``recipe.yaml`` names the run it continues (``parent``).

    Args:
        run_dir: a finished spam or diagnostics run.
        data: the new labelled examples, read like the recipe's ``data.source``.
        strategy: ``train.strategy`` of the new run.
        **overrides: recipe keys of the new run, with ``__`` for dots (``train__learning_rate=1e-5``).

    Returns:
        The new, finished :class:`suite.core.runs.Run`.

    Raises:
        SuiteError: not a finished run of a domain that adapts, or a problem with the new data or recipe.

    Example:
        >>> adapted = suite.adapt("runs/spam-default-...", data="labelled-new-mail.csv")
        >>> suite.load(adapted.path).predict(["WIN a FREE cruise"])
    """
    from suite.core import actions

    return actions.adapt(run_dir, data, strategy=strategy, overrides=overrides or None)


def bench(*, plan: str | Path | dict | None = None, domains: list[str] | None = None, out: str | Path | None = None):
    """Run a benchmark plan (``recipes/bench/<plan>.yaml``): every system of every domain on one split.

    Args:
        plan: ``"full"`` (the default, as ``suite bench``), ``"quick"``, ``"budget"``, ``"demo"``, ``"tiny"``, a
            plan YAML path, or a plan dict.
        domains: run only these domains (default: every domain of the plan).
        out: an empty or new folder for results.json, results.md, report.html and plots/.

    Returns:
        The results document (also in ``out/results.json``, beside the Markdown and HTML reports).

    Raises:
        SuiteError: an unknown plan or domain, or an ``out`` folder that is not empty.
    """
    from suite.bench import report as bench_report
    from suite.bench import runner as harness

    path = harness.run_plan(**({"plan": plan} if plan is not None else {}), domains=domains, out=out)
    bench_report.write_reports(path)
    return bench_report.load_results(path)


def list_domains() -> list[str]:
    """Names of the domains that are installed and loaded."""
    from suite.core import registry

    return list(registry.list_domains())


# ``suite.serve(run_dir)`` starts the HTTP server; binding the function over the subpackage's name
# keeps it the function after ``suite.serve`` (the package) is first imported (``from suite.serve
# import create_app`` still reaches the package's other entry points).
from suite.serve import serve  # noqa: E402
