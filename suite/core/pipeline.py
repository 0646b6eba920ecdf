"""Recipe in, run folder out: the steps every domain shares around its own training.

1. load and validate the recipe (nothing loads before it passes);
2. the domain reads and checks its data; the model source is resolved;
3. a new run folder gets the resolved recipe and the environment;
4. the domain trains, evaluates every system on the same test split and saves the model;
5. ``metrics.json`` (last, atomically) and the model card are written.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any

from suite.core import distributed, registry, report, sources
from suite.core.errors import RunError, SuiteError
from suite.core.recipe import Recipe, load_recipe
from suite.core.runs import METRICS_FILE, Run


def tune(recipe: str | Path | dict | Recipe, overrides: dict | list[str] | None = None) -> Run:
    """Run a recipe end to end and return its finished run folder.

    Args:
        recipe: a YAML path, a bundled name (``"spam/tiny"``), a dict or a Recipe.
        overrides: ``{"train.epochs": 1}`` or ``["train.epochs=1"]``.

    Under ``torchrun`` / ``accelerate launch`` every process calls this; they share one
    run folder, and only the main process evaluates and writes it: on the others the
    returned run is not complete (see :mod:`suite.core.distributed`).

    Raises:
        SuiteError: bad recipe, data or model source (before any model loads), or a
            run folder that already exists.
    """
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe, overrides)
    domain = registry.get_domain(recipe.domain)
    data = domain.prepare_data(recipe)
    sources.resolve(recipe.model.source)
    _warn_remote_code(recipe)
    distributed.init(cpu=recipe.train.use_cpu)
    run = Run.create(recipe)
    try:
        if distributed.is_main_process():
            run.write_recipe(recipe)
        _start(recipe)
        if distributed.is_main_process():
            run.write_environment(recipe.seed)
        return _train_and_finish(domain, recipe, run, data, resume=False)
    except BaseException:
        # nothing worth keeping: leave no half-made folder (the main process owns the folder)
        if distributed.is_main_process() and run.last_checkpoint() is None:
            shutil.rmtree(run.path, ignore_errors=True)
        raise


def resume(run_dir: str | Path) -> Run:
    """Continue an interrupted run from its newest checkpoint (or from the start if none).

    Raises:
        RunError: not a run folder, or the run already finished.
    """
    run = Run.open(run_dir)
    if run.is_complete:
        raise RunError(f"{run.path}: the run already finished ({METRICS_FILE} exists); nothing to resume")
    recipe = run.recipe()
    domain = registry.get_domain(recipe.domain)
    data = domain.prepare_data(recipe)
    _warn_remote_code(recipe)
    distributed.init(cpu=recipe.train.use_cpu)
    distributed.on_main_then_share(run.discard_incomplete_checkpoints)
    _start(recipe)
    return _train_and_finish(domain, recipe, run, data, resume=True)


def evaluate(run_dir: str | Path, data: str | None = None) -> dict:
    """Evaluate a finished run again, on its own test split or on ``data``.

    The result is written to ``evaluations/<timestamp>.json`` in the run folder and
    returned in the ``metrics.json`` format; ``metrics.json`` itself is never changed.
    """
    run = Run.open(run_dir)
    run.require_complete()
    recipe = run.recipe()
    domain = registry.get_domain(recipe.domain)
    result = domain.evaluate(run, data)
    result.pop("card_sections", None)
    result = _document(domain, recipe, result)
    result["evaluated_on"] = data or "test split"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    run.write_json(f"evaluations/{stamp}.json", result)
    return result


def load(run_dir: str | Path) -> registry.Predictor:
    """Load a finished run's model, ready for ``predict``."""
    run = Run.open(run_dir)
    run.require_complete()
    return registry.get_domain(run.recipe().domain).load(run)


def _start(recipe: Recipe) -> None:
    """Seeds and CPU threads, before anything random or parallel happens."""
    from transformers import set_seed

    from suite.core import training

    training.apply_threads(recipe.train)
    set_seed(recipe.seed)


def _train_and_finish(domain: Any, recipe: Recipe, run: Run, data: Any, *, resume: bool) -> Run:
    try:
        result = domain.tune(recipe, run, data, resume=resume)
    except distributed.WorkerFinished:
        return run            # another process's part ends with training; the main one writes the run
    distributed.leave()
    sections = result.pop("card_sections", [])
    metrics = _document(domain, recipe, result)
    plots = sorted(str(p.relative_to(run.path)) for p in run.plots_dir.glob("*.png"))
    run.write_text("README.md", report.model_card(metrics, recipe.to_dict(), plots=plots, sections=sections,
                                                  usage=_usage(run)))
    run.write_json(METRICS_FILE, metrics)  # last: its presence marks the run complete
    if not recipe.train.keep_checkpoints:
        run.discard_checkpoints()
    return run


def _document(domain: Any, recipe: Recipe, result: dict) -> dict:
    if not result.get("models"):
        raise SuiteError(f"domain '{domain.name}' evaluated no system")
    return {"domain": domain.name, "recipe": recipe.name, "primary_metric": domain.primary_metric,
            "greater_is_better": domain.greater_is_better, **result,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def is_main_process() -> bool:
    """Whether this process writes run folders and prints results (see :mod:`suite.core.distributed`)."""
    return distributed.is_main_process()


_warned_remote_code: set[str] = set()


def _warn_remote_code(recipe: Recipe) -> None:
    """One line on stderr, once per source, when a recipe lets a model run its own code."""
    source = recipe.model.source
    if getattr(recipe.model, "trust_remote_code", False) and source not in _warned_remote_code:
        _warned_remote_code.add(source)
        if distributed.is_main_process():
            print(f"warning: model.trust_remote_code is on: code shipped with '{source}' will run on this "
                  "machine; turn it on only for sources you trust", file=sys.stderr)


def _usage(run: Run) -> str:
    return (f"suite predict {run.path} \"some input\"\n"
            f"python -c \"import suite; print(suite.load('{run.path}').predict(['some input']))\"")
