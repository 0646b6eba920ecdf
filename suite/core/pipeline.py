"""The run, top to bottom, once for every domain: recipe in, run folder out.

:func:`tune` reads like a recipe script:

1. load and validate the recipe; the domain reads and checks its data; the model source is
   resolved and checked; the run folder's name is free (nothing loads before all of it passes);
2. the model is built (a source that does not load is one error line, and no folder is made);
3. a new run folder gets the resolved recipe and the environment;
4. :func:`run_sequence`: fit the classical baselines, score the model untuned where that means
   something, add LoRA adapters, train, save (adapters, merged model, predictor), score the tuned
   model on every evaluated part (timed), report every system, keep the hybrid where it can be used later;
5. the model card, then ``metrics.json`` (last, atomically: its presence marks the run complete).

A domain supplies only the hooks of :class:`suite.core.registry.Domain`; this module is the only
place the sequence exists. Its evaluation half, :func:`evaluate_systems`, is also what ``suite eval``
runs on a finished run. What later happens to a finished run (evaluate, calibrate, adapt, load) is in
:mod:`suite.core.actions`.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.core import (
    adapters,
    blend,
    distributed,
    interpolation,
    logs,
    memory,
    operating,
    paths,
    registry,
    report,
    saved_hybrid,
    sources,
    strategies,
    training,
)
from suite.core.errors import ModelSourceError, RecipeError, RunError, SuiteError, brief
from suite.core.label_budget import LabelBudget
from suite.core.optim import frozen_parameters
from suite.core.recipe import Recipe, load_recipe
from suite.core.registry import Domain, Model, Outputs
from suite.core.results import (
    HYBRID,
    STAGE,
    TUNED,
    ZERO_SHOT,
    RunResult,
    SystemResult,
    Throughput,
    baseline_name,
    baseline_system,
    role_of,
)
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
    data = _checked_data(domain, recipe)
    Run.check_available(recipe)
    distributed.init(cpu=recipe.train.use_cpu)
    _check_strategy_processes(recipe)
    _start(recipe)
    model = build_model(domain, recipe, data)
    check_model(recipe, model)
    run = Run.create(recipe)
    try:
        with _writing(run):
            if distributed.is_main_process():
                run.write_recipe(recipe)
                run.write_environment(recipe.seed)
                print(f"run folder: {run.path} (once it has saved a checkpoint, a stopped run continues with: "
                      f"suite train --resume {run.path})", file=sys.stderr)
            return _finish(domain, recipe, run, data, model, resume=False)
    except BaseException:
        # nothing worth keeping: leave no half-made folder (the main process owns the folder)
        if distributed.is_main_process() and not run.has_checkpoints():
            shutil.rmtree(run.path, ignore_errors=True)
            print(f"stopped before the first checkpoint: removed {run.path} (nothing to resume)", file=sys.stderr)
        raise


def resume(run_dir: str | Path) -> Run:
    """Continue an interrupted run from its newest checkpoint (or from the start if none).

    Raises:
        RunError: not a run folder, or the run already finished.
    """
    if Run.open(run_dir).is_complete:
        raise RunError(f"{Path(run_dir)}: the run already finished ({METRICS_FILE} exists); nothing to resume")
    run = Run.open_to_resume(run_dir)
    with _writing(run):
        recipe = run.recipe()
        domain = registry.get_domain(recipe.domain)
        data = _checked_data(domain, recipe)
        distributed.init(cpu=recipe.train.use_cpu)
        distributed.on_main_then_share(run.discard_incomplete_checkpoints)
        _check_strategy_processes(recipe)
        _start(recipe)
        model = build_model(domain, recipe, data)
        check_model(recipe, model)
        return _finish(domain, recipe, run, data, model, resume=True)


def _checked_data(domain: Domain, recipe: Recipe) -> Any:
    """Everything a run checks before the model loads (memory, the parent run, the data, the model source), and the
    prepared data."""
    memory.check(domain, recipe)
    check_parent(domain, recipe)
    data = domain.prepare_data(recipe)
    check_data(domain, recipe, data)
    _check_source(domain, recipe)
    _warn_remote_code(recipe)
    return data


def _writing(run: Run) -> contextlib.AbstractContextManager:
    """The run folder's lock, held by the process that writes it (the main one under torchrun)."""
    return run.locked() if distributed.is_main_process() else contextlib.nullcontext()


def build_model(domain: Domain, recipe: Recipe, data: Any) -> Model:
    """The domain's model, its library noise kept off the terminal; a source that does not load is one line.

    Raises:
        ModelSourceError: ``model.source`` exists but holds no model this domain can load.
    """
    try:
        with logs.libraries_logging_to(None):
            return domain.build_model(recipe, data)
    except (OSError, ValueError, KeyError, RuntimeError, pickle.UnpicklingError, json.JSONDecodeError) as error:
        if isinstance(error, SuiteError):
            raise
        raise ModelSourceError(f"model.source '{paths.shorten(recipe.model.source, 80)}': cannot load a "
                               f"{domain.name} model from it ({type(error).__name__}: {brief(str(error), 140)})"
                               ) from None


def check_data(domain: Domain, recipe: Recipe, data: Any) -> None:
    """What only the prepared data can tell, before the model loads: data the strategy cannot use, an optimiser
    step larger than the training data.

    Raises:
        SuiteError: one line.
    """
    strategies.check_data(domain, recipe, data)
    if isinstance(domain, registry.CountsExamples):
        training.check_batch_fits(recipe.train, domain.training_examples(recipe, data))


def check_model(recipe: Recipe, model: Model) -> None:
    """What only the built model can tell: names in ``train.frozen`` and ``lora.target_modules`` that match
    nothing. Checked before the run folder is made, so a wrong name writes nothing.

    Raises:
        RecipeError: one line naming the key.
    """
    frozen_parameters(model.network, recipe.train.frozen)
    adapters.check_targets(model.network, recipe.lora, head=model.head)


def _check_source(domain: Domain, recipe: Recipe) -> None:
    """Resolve ``model.source`` and let the domain check it, before anything loads."""
    path = sources.resolve(recipe.model.source)
    if isinstance(domain, registry.ChecksSource):
        domain.check_source(recipe, path)


def run_sequence(domain: Domain, recipe: Recipe, run: Run, data: Any, model: Model, *,
                 resume: bool) -> tuple[RunResult, list]:
    """Baselines, the untuned model, adapters, training, saving, evaluation of every system: the whole run.

    Returns:
        The run's result and the domain's extra model-card sections.
    """
    frozen = frozen_parameters(model.network, recipe.train.frozen)
    untuned = interpolation.snapshot(model.network, model.head) if recipe.train.untuned_share else None
    outputs = baseline_outputs(domain, recipe, data)
    if model.zero_shot:
        outputs[ZERO_SHOT] = domain.outputs(domain.make_predictor(recipe, data, model, tuned=False), recipe, data)
    if recipe.lora.enabled:
        adapters.add_lora(model.network, recipe.lora, head=model.head)
    for parameter in frozen:
        parameter.requires_grad = False

    def score_stage(name: str) -> None:
        outputs[name] = domain.outputs(domain.make_predictor(recipe, data, model, tuned=True), recipe, data)

    trained = strategies.train(domain, recipe, run, data, model, resume=resume, score_stage=score_stage)
    with run.writing_model() as folder:
        adapters.save_lora_and_merge(model.network, folder)
        if untuned is not None:
            interpolation.mix(model.network, untuned, recipe.train.untuned_share)
        predictor = domain.make_predictor(recipe, data, model, tuned=True)
        predictor.save(folder)
    evaluation = evaluate_systems(domain, recipe, data, outputs, predictor, plots_dir=run.plots_dir,
                                  parts=("validation", "test"),
                                  training={**trained, "pretrained": recipe.model.pretrained,
                                            "lora": recipe.lora.enabled})
    save_hybrid(domain, recipe, baseline_data(domain, recipe, data), run, evaluation.hybrid)
    return evaluation.result, evaluation.sections


@dataclass
class Evaluation:
    """What :func:`evaluate_systems` measured: the result, the model card's extra sections, the hybrid."""

    result: RunResult
    sections: list[str]
    hybrid: blend.Hybrid | None


def evaluate_systems(domain: Domain, recipe: Recipe, data: Any, outputs: dict[str, Outputs], predictor: Any, *,
                     plots_dir: Path | None, parts: tuple[str, ...], training: dict | None) -> Evaluation:
    """The evaluation half, the same for a training run and for ``suite eval``: the tuned predictor's outputs on
    every part (timed), the hybrid, every system's report, the selection scores, the result and the tuned
    threshold's operating point on ``parts``.

    Args:
        outputs: the other systems' outputs (baselines, zero-shot, stages); the tuned and hybrid ones are added.
        plots_dir: where the report draws its plots (None: none).
        parts: the parts whose operating point is measured (``("test",)`` for new data).
        training: the training figures of the result (None: an evaluation of a finished run).
    """
    outputs[TUNED], inference = timed_outputs(domain, predictor, recipe, data)
    mixed = add_hybrid(domain, recipe, data, outputs)
    evaluation = report_with_hybrid(domain, recipe, data, outputs, mixed, predictor=predictor, plots_dir=plots_dir)
    add_selection_scores(domain, recipe, data, outputs, evaluation)
    result = result_of(domain, recipe, evaluation, training=training, inference=inference)
    result.operating_point = operating_point(domain, recipe, data, outputs[TUNED], predictor, parts=parts)
    chosen_here = result.operating_point and "validation" in result.operating_point    # not on new data alone
    sections = evaluation.sections + ([report.operating_section(result.operating_point)] if chosen_here else [])
    return Evaluation(result, sections, mixed)


def baseline_outputs(domain: Domain, recipe: Recipe, data: Any) -> dict[str, Outputs]:
    """Every baseline the recipe names, fitted on what it learns from (:func:`baseline_data`), by system name."""
    return {baseline_system(name): out
            for name, out in domain.fit_baselines(recipe, baseline_data(domain, recipe, data)).items()}


def _finish(domain: Domain, recipe: Recipe, run: Run, data: Any, model: Model, *, resume: bool) -> Run:
    try:
        with logs.libraries_logging_to(run.logs_dir / logs.LOG_FILE):
            result, sections = run_sequence(domain, recipe, run, data, model, resume=resume)
    except distributed.WorkerFinished:
        return run            # another process's part ends with training; the main one writes the run
    distributed.leave()
    document = result.to_json()
    plots = sorted(str(p.relative_to(run.path)) for p in run.plots_dir.glob("*.png"))
    run.write_text("README.md", report.model_card(document, recipe.to_dict(), plots=plots, sections=sections,
                                                  usage=_usage(run)))
    run.write_json(METRICS_FILE, document)  # last: its presence marks the run complete
    if not recipe.train.keep_checkpoints:
        run.discard_checkpoints()
    return run


def baseline_data(domain: Domain, recipe: Recipe, data: Any) -> Any:
    """What the classical baselines learn from: the run's data, and for a run that continues a parent on new data
    (``recipe.parent``, ``suite adapt``) the parent's training data too, and its parent's, so that the baselines
    see every label the tuned model has seen."""
    if recipe.parent is None:
        return data
    parent = Run.open(recipe.parent).recipe()
    return domain.with_earlier_training(data, baseline_data(domain, parent, domain.prepare_data(parent)))


def check_parent(domain: Domain, recipe: Recipe) -> None:
    """A run that continues a parent: the parent must be a finished run of the same domain, which can adapt.

    Raises:
        RunError: one line naming the folder.
    """
    if recipe.parent is None:
        return
    if not isinstance(domain, registry.Adapts):
        raise RunError(f"parent: {domain.name} runs cannot be continued on new data")
    parent = Run.open(recipe.parent)
    parent.require_complete()
    if parent.recipe().domain != domain.name:
        raise RunError(f"parent: {parent.path} is a {parent.recipe().domain} run, not a {domain.name} one")


def add_selection_scores(domain: Domain, recipe: Recipe, data: Any, outputs: dict[str, Outputs],
                         evaluation: registry.Report) -> None:
    """What chooses between training strategies (``suite bench``) without looking at test, for the tuned model
    and each stage: ``validation_score``, the domain's validation metric of its validation outputs (blending
    domains), and ``validation_log_loss``, which separates systems that score the same on a small validation
    part (binary domains: a few validation examples give every good system a perfect F1)."""
    from suite.core.metrics.classification import log_loss

    for name, metrics in evaluation.metrics.items():
        if role_of(name) not in (TUNED, STAGE) or name not in outputs:
            continue
        if isinstance(domain, registry.Blends):
            metrics["validation_score"] = float(domain.validation_score(recipe, data, outputs[name]["validation"]))
        if isinstance(domain, registry.Thresholded) and domain.operating_target(recipe, data) is not None:
            labels, scores = domain.labelled_scores(data, outputs[name], "validation")
            metrics["validation_log_loss"] = log_loss(labels, scores)


def add_hybrid(domain: Domain, recipe: Recipe, data: Any, outputs: dict[str, Outputs]) -> blend.Hybrid | None:
    """Add the ``hybrid`` system to ``outputs``: the tuned model blended with the baselines the recipe names,
    weights chosen on validation (domains that blend; None otherwise)."""
    if not isinstance(domain, registry.Blends):
        return None
    with_, steps = domain.hybrid_settings(recipe)
    systems = [TUNED, *(baseline_system(name) for name in with_)]
    if not steps or any(system not in outputs for system in systems):
        return None
    mixed = blend.hybrid({system: outputs[system] for system in systems},
                         lambda scores: domain.validation_score(recipe, data, scores), steps, domain.blend_space)
    outputs[HYBRID] = mixed.outputs
    return mixed


def save_hybrid(domain: Domain, recipe: Recipe, data: Any, run: Run, mixed: blend.Hybrid | None) -> None:
    """Keep the hybrid for predict, serve and calibrate (``hybrid/``; domains whose baselines can score new inputs):
    the blended baselines fitted again as the run fitted them, and the hybrid's own threshold, chosen on
    validation for the run's target where the domain decides at one."""
    if mixed is None or not isinstance(domain, registry.SavesBaselines):
        return
    scorers = {system: domain.baseline_scorer(recipe, data, baseline_name(system))
               for system, weight in mixed.weights.items() if weight and system != TUNED}
    target = domain.operating_target(recipe, data) if isinstance(domain, registry.Thresholded) else None
    threshold = operating.choose(*domain.labelled_scores(data, mixed.outputs, "validation"), target) \
        if target is not None else None
    saved_hybrid.save(run, mixed, scorers, threshold=threshold)


def report_with_hybrid(domain: Domain, recipe: Recipe, data: Any, outputs: dict[str, Outputs],
                       mixed: blend.Hybrid | None, *, predictor: Any, plots_dir: Path | None) -> registry.Report:
    """The domain's report, with the hybrid's weights beside its metrics and their choice in the model card."""
    evaluation = domain.report(recipe, data, outputs, predictor=predictor, plots_dir=plots_dir)
    if mixed is not None and HYBRID in evaluation.metrics:
        evaluation.metrics[HYBRID].update(mixed.weight_metrics())
        evaluation.sections.append(report.hybrid_section(mixed))
        evaluation.notes.append(f"Hybrid: {mixed.describe()}; the weights were chosen on validation only.")
    return evaluation


def operating_point(domain: Domain, recipe: Recipe, data: Any, outputs: Outputs, predictor: Any, *,
                     parts: tuple[str, ...]) -> dict | None:
    """The tuned threshold's rates with intervals on each part (binary domains; None otherwise)."""
    if not isinstance(domain, registry.Thresholded):
        return None
    target = domain.operating_target(recipe, data)
    if target is None:
        return None
    return {part: operating.measure(*domain.labelled_scores(data, outputs, part), predictor.threshold,
                                    target).to_json() for part in parts}


def timed_outputs(domain: Domain, predictor: Any, recipe: Recipe, data: Any) -> tuple[Outputs, Throughput]:
    """The tuned predictor's outputs on every part, and how many examples it scored per second."""
    start = time.perf_counter()
    outputs = domain.outputs(predictor, recipe, data)
    seconds = max(time.perf_counter() - start, 1e-9)
    examples = sum(len(value) for value in outputs.values())
    return outputs, Throughput(round(examples / seconds, 2), domain.example_unit)


def result_of(domain: Domain, recipe: Recipe, evaluation: registry.Report, *, training: dict | None,
            inference: Throughput | None) -> RunResult:
    systems = {name: SystemResult(name, role_of(name), metrics) for name, metrics in evaluation.metrics.items()}
    data = dict(evaluation.data)
    if isinstance(recipe.data, LabelBudget) and recipe.data.label_budget is not None:
        data.update(label_budget=recipe.data.label_budget, budget_draw=recipe.data.budget_draw)
    return RunResult(domain=domain.name, recipe=recipe.name, primary_metric=domain.primary_metric,
                     greater_is_better=domain.greater_is_better, headline_metrics=evaluation.headline_metrics,
                     systems=systems, data=data, training=training, inference=inference,
                     comparisons=evaluation.comparisons, notes=evaluation.notes)


def _check_strategy_processes(recipe: Recipe) -> None:
    """A strategy that trains twice (contrastive, then fine-tuning) runs in one process only."""
    if distributed.world_size() > 1 and strategies.trainings(recipe.train.strategy) > 1:
        raise RecipeError(f"train.strategy {recipe.train.strategy} trains twice, which a torchrun / accelerate "
                          "launch cannot; run it in one process")


def _start(recipe: Recipe) -> None:
    """Seeds and CPU threads, before anything random or parallel happens."""
    from transformers import set_seed

    training.apply_threads(recipe.train)
    set_seed(recipe.seed)


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
    hybrid = (f"suite predict {run.path} \"some input\" --system hybrid    # the tuned model blended with the "
              "baselines\n") if saved_hybrid.exists(run.path) else ""
    return (f"suite predict {run.path} \"some input\"\n{hybrid}"
            f"python -c \"import suite; print(suite.load('{run.path}').predict(['some input']))\"")
