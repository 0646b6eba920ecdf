"""What happens to a finished run later: load it, evaluate it again, re-set its threshold.

Each action opens the run read-only and adds files beside what the run wrote, never over it:
``evaluations/<timestamp>.json`` (:func:`evaluate`) and ``calibrations/<timestamp>.json``
(:func:`calibrate`). :func:`load` returns the tuned predictor (or the run's saved hybrid) with the
newest calibration's threshold in effect, which is what ``suite predict``, ``suite serve`` and
:func:`evaluate` use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.core import calibration, logs, onnx_engine, operating, registry, saved_files, saved_hybrid
from suite.core.errors import DataError, RunError
from suite.core.pipeline import baseline_outputs, build_model, evaluate_systems
from suite.core.results import HYBRID, SERVABLE, TUNED, ZERO_SHOT, RunResult
from suite.core.runs import Run

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

EVALUATIONS_FOLDER = "evaluations"


@dataclass
class ModelSource:
    """What ``predict`` and ``serve`` load from, checked before any model loads (see :func:`open_source`).

    Attributes:
        path: the folder given: a finished run, or an exported folder.
        domain: its domain's name.
        model_dir: the settings ``read_inputs`` reads (the run's ``model/``, or the export's).
        run: the run folder (None for an exported folder given directly).
        exported: the ONNX export used (None with the PyTorch engine).
    """

    path: Path
    domain: str
    model_dir: Path
    run: Run | None
    exported: onnx_engine.Exported | None


def open_source(path: str | Path, *, engine: str = onnx_engine.TORCH, system: str = TUNED) -> ModelSource:
    """Check what ``load`` will load, before anything loads: a finished run (PyTorch, or with ``engine="onnx"`` its
    newest ONNX export), or an exported folder (ONNX only).

    Raises:
        RunError: an unknown engine or system, not a finished run or an exported folder, a run without an ONNX
            export (``engine="onnx"``), an exported folder with the PyTorch engine, or no saved hybrid.
        ModelSourceError: the export's graph is corrupted.
    """
    if engine not in onnx_engine.ENGINES:
        raise RunError(f"engine: expected one of {', '.join(onnx_engine.ENGINES)}, got {engine!r}")
    if system not in SERVABLE:
        raise RunError(f"system: expected one of {', '.join(SERVABLE)}, got {system!r}")
    if onnx_engine.is_export(path):
        if engine != onnx_engine.ONNX:
            raise RunError(f"{path}: an ONNX export holds no PyTorch model; use --engine onnx (or the run folder it "
                           "came from)")
        exported = onnx_engine.Exported.open(path)
        source = ModelSource(exported.path, exported.domain, exported.model_dir, None, exported)
    else:
        run = _finished(path)
        domain = run.recipe().domain
        exported = onnx_engine.export_of(run, domain) if engine == onnx_engine.ONNX else None
        source = ModelSource(run.path, domain, exported.model_dir if exported else run.model_dir, run, exported)
    if system == HYBRID:
        saved_hybrid.require(source.exported.path if source.exported else source.path)
    return source


def load(run_dir: str | Path, system: str = TUNED, *, engine: str = onnx_engine.TORCH) -> registry.Predictor:
    """Load a finished run's model, ready for ``predict`` (with the newest calibration's threshold, if any).

    Args:
        run_dir: a finished run folder, or (with ``engine="onnx"``) a folder ``suite export --format onnx`` wrote.
        system: ``tuned`` (the tuned model) or ``hybrid`` (the tuned model blended with baselines, where the
            run saved it: see :mod:`suite.core.saved_hybrid`).
        engine: ``torch``, or ``onnx``: the run's newest ONNX export run by ONNX Runtime (see
            :mod:`suite.core.onnx_engine`); its predictions have the same form and threshold.

    Raises:
        RunError: not a finished run folder, an unknown system or engine, a hybrid the run did not save,
            ``engine="onnx"`` for a run never exported to ONNX, or a damaged weights or calibration file (named).
        ModelSourceError: a corrupted ONNX graph.
    """
    source = open_source(run_dir, engine=engine, system=system)
    if source.run is not None:
        _check_saved_files(source.run, system, weights=source.exported is None)
    with logs.libraries_logging_to(None):
        if source.exported is not None:
            predictor = onnx_engine.load(source.exported, system)
        else:
            predictor = registry.get_domain(source.domain).load_predictor(source.model_dir)
            if system == HYBRID:
                predictor = saved_hybrid.load(source.path, predictor)
    if source.run is not None:
        calibration.apply_latest(predictor, source.run.path, system)
    return predictor


def evaluate(run_dir: str | Path, data: str | None = None) -> dict:
    """Evaluate a finished run again, on its own test split or on every labelled example of ``data``.

    Every system of the run is scored again (baselines refitted on the run's training split, the
    tuned model loaded from ``model/`` with its threshold in effect). For a binary domain the
    document also holds ``operating_point``: the rates that threshold gives on the test data, the
    reference it was chosen with, and ``drift``: a one-line warning when the new rates leave that
    reference's interval (None otherwise). The document is written to
    ``evaluations/<timestamp>.json`` in the run folder and returned in the ``metrics.json`` format.

    Raises:
        RunError: not a finished run folder.
        DataError: ``data`` cannot be read or used.
    """
    run = _finished(run_dir)
    _check_saved_files(run, TUNED)
    recipe = run.recipe()
    domain = registry.get_domain(recipe.domain)
    with logs.libraries_logging_to(None):
        document = _evaluate(domain, recipe, run, data)
    document["evaluated_on"] = data or "test split"
    run.write_json(f"{EVALUATIONS_FOLDER}/{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.json", document)
    return document


def _evaluate(domain: Any, recipe: Recipe, run: Run, data: str | None) -> dict:
    prepared = domain.prepare_data(recipe)
    if data is not None:
        prepared = domain.with_test_data(recipe, prepared, data)
    outputs = baseline_outputs(domain, recipe, prepared)
    if ZERO_SHOT in RunResult.from_json(run.metrics()).systems:
        untuned = domain.make_predictor(recipe, prepared, build_model(domain, recipe, prepared), tuned=False)
        outputs[ZERO_SHOT] = domain.outputs(untuned, recipe, prepared)
    evaluation = evaluate_systems(domain, recipe, prepared, outputs, load(run.path), plots_dir=None, parts=("test",),
                                  training=None)
    document = evaluation.result.to_json()
    point = evaluation.result.operating_point
    if point:
        reference = reference_point(run)
        document["operating_point"] = {**point, "reference": reference,
                                       "drift": operating.drift(operating.OperatingPoint(**point["test"]), reference)
                                       if reference else None}
    return document


def reference_point(run: Run) -> dict | None:
    """The operating point the threshold in effect was chosen with: the newest calibration's, else the run's
    own on its validation split."""
    found = calibration.latest(run.path)
    if found is not None:
        return found[1]["operating_point"]
    return (run.metrics().get("operating_point") or {}).get("validation")


def calibrate(run_dir: str | Path, data: str, *, target: operating.Target | None = None,
              system: str = TUNED) -> dict:
    """Re-pick the tuned model's (or the saved hybrid's) threshold on the labelled examples of ``data``; write it
    beside the run.

    Args:
        run_dir: a finished run of a binary domain (spam, binary diagnostics).
        data: labelled examples read like the recipe's ``data.source`` (every one of them is used).
        target: the rate to choose the threshold for (default: the run's own target).
        system: ``tuned`` or ``hybrid`` (see :func:`load`); each keeps its own calibrations.

    Returns:
        The calibration record (also in ``calibrations/<timestamp>.json``): the new threshold, the previous
        one, and the operating point it gives on ``data`` with 95% intervals.

    Raises:
        RunError: not a finished run, or a run whose domain decides without a threshold.
        DataError: ``data`` cannot be read, or lacks the negatives (positives) the target needs.

    Example:
        >>> calibrate("runs/spam-default-...", "labelled-new-mail.csv", target=Target("fpr", 0.001))["threshold"]
        0.9981
    """
    run = _finished(run_dir)
    recipe = run.recipe()
    domain = registry.get_domain(recipe.domain)
    with logs.libraries_logging_to(None):
        prepared = domain.with_test_data(recipe, domain.prepare_data(recipe), data)
        target = target or (domain.operating_target(recipe, prepared) if isinstance(domain, registry.Thresholded)
                            else None)
        if target is None:
            raise RunError(f"{run.path}: a {domain.name} run of this kind decides without a threshold; "
                           "there is nothing to calibrate")
        predictor = load(run.path, system)
        labels, scores = domain.labelled_scores(prepared, domain.outputs(predictor, recipe, prepared), "test")
    try:
        threshold = operating.choose(labels, scores, target)
    except ValueError as error:
        raise DataError(f"--data {data}: cannot choose a threshold for {target.describe()} ({error})") from None
    point = operating.measure(labels, scores, threshold, target).to_json()
    record = calibration.record(threshold=threshold, previous=predictor.threshold, point=point, data=str(data),
                                system=system)
    run.write_json(calibration.file_name(), record)
    return record


ADAPT_STRATEGY = "lp-ft"


def adapt(run_dir: str | Path, data: str, *, strategy: str = ADAPT_STRATEGY,
          overrides: dict | list[str] | None = None) -> Run:
    """Continue a finished run's tuned model on newly labelled examples; a new run, the old one unchanged.

    The new run's recipe is the parent's with ``parent`` set to it, ``model.source`` its tuned model (head
    included), ``data.source`` the new examples (split into training, validation and test as the parent's data
    section says), and ``train.strategy`` the few-label ``strategy``: by default ``lp-ft``, the head fitted again
    on the new examples, then everything fine-tuned from there, keeping the start where validation prefers it.
    Its baselines learn from the parent's training data and the new training data together; its thresholds (the
    tuned model's and the hybrid's) are chosen on the new validation data.

    Args:
        run_dir: a finished run of a domain that adapts (spam, diagnostics).
        data: the new labelled examples, read like the recipe's ``data.source``.
        strategy: ``train.strategy`` of the new run.
        overrides: recipe keys to change beside these (``{"train.learning_rate": 1e-5}``).

    Raises:
        RunError: not a finished run, or of a domain that cannot adapt.
        SuiteError: a recipe, data or model problem of the new run, before any model loads.
    """
    from suite.core import pipeline
    from suite.core.recipe import load_recipe

    parent = _finished(run_dir)
    recipe = parent.recipe()
    if not isinstance(registry.get_domain(recipe.domain), registry.Adapts):
        raise RunError(f"{parent.path}: {recipe.domain} runs cannot be continued on new data")
    values = recipe.to_dict()
    values.update(parent=str(parent.path.resolve()), name=f"{recipe.name}-adapted")
    values["model"].update(source=str(parent.model_dir.resolve()), pretrained=True)
    values["data"].update(source=str(data), label_budget=None)
    values["train"]["strategy"] = strategy
    values["output"]["name"] = None
    return pipeline.tune(load_recipe(values, overrides))


def _check_saved_files(run: Run, system: str, *, weights: bool = True) -> None:
    """Read what a later action needs of the run's own files before any work: its metrics, the newest
    calibration of ``system`` and (``weights``) the headers of its weights; a damaged one is one RunError line
    naming it."""
    run.metrics()
    calibration.latest(run.path, system)
    if weights:
        saved_files.check_weights(run.model_dir)


def _finished(run_dir: str | Path) -> Run:
    run = Run.open(run_dir)
    run.require_complete()
    return run
