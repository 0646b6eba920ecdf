"""The ways to train (``train.strategy``): which phases run, in which order, on the same model.

====================  ==========================================  ============================================
strategy              phases                                      for
====================  ==========================================  ============================================
``fine-tune``         fine-tune                                   a new head and the network trained together
``linear-probe``      probe                                       the head alone, on the frozen features
``lp-ft``             probe, fine-tune                            Kumar et al. 2022: fine-tuning from a fitted
                                                                  head distorts the pretrained features less
``contrastive``       contrastive, probe                          SetFit (Tunstall et al. 2022): few labels
``contrastive-lp-ft`` contrastive, probe, fine-tune               SetFit, then fine-tuning from its head
====================  ==========================================  ============================================

- *contrastive*: the text encoder tuned on pairs of labelled examples (:mod:`suite.core.contrastive`);
- *probe*: the head fitted by logistic regression on the network's features as they stand
  (:mod:`suite.core.probe`): the frozen pretrained ones, or the contrastively tuned ones;
- *fine-tune*: the shared Trainer (:mod:`suite.core.training`), with everything outside the head at
  ``train.backbone_lr_scale`` times the learning rate. After a probe, dropout and batch normalisation stay in
  eval mode (:func:`pin_eval_mode`), and the weights it starts from compete with its checkpoints on validation
  and are kept where none beats them (fine-tuning never loses what the probe had, as far as validation can
  tell).

Where fine-tuning follows a probe, the model as the probe left it is also scored, as the system
``stage:<strategy>`` (``stage:linear-probe``, ``stage:contrastive``): one run gives both curves of a label-budget
benchmark, and validation can choose between them. Every phase's time and FLOPs are recorded in the run's
``training.phases``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from suite.core import registry
from suite.core.errors import RecipeError

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

FINE_TUNE, PROBE, CONTRASTIVE = "fine-tune", "probe", "contrastive"
PHASES: dict[str, tuple[str, ...]] = {
    "fine-tune": (FINE_TUNE,),
    "linear-probe": (PROBE,),
    "lp-ft": (PROBE, FINE_TUNE),
    "contrastive": (CONTRASTIVE, PROBE),
    "contrastive-lp-ft": (CONTRASTIVE, PROBE, FINE_TUNE),
}
STAGE_NAMES = {(PROBE,): "linear-probe", (CONTRASTIVE, PROBE): "contrastive"}
"""The strategy a run's phases before fine-tuning amount to: the name of its ``stage:`` system."""


def check(domain: Any, recipe: Recipe) -> None:
    """Refuse a strategy the domain cannot run, before anything loads.

    Raises:
        RecipeError: one line naming the key and what would work.
    """
    strategy, phases = recipe.train.strategy, PHASES[recipe.train.strategy]
    if PROBE in phases and not isinstance(domain, registry.FitsHead):
        raise RecipeError(f"{recipe.origin}: train.strategy: {strategy} fits a classification head, and the "
                          f"{domain.name} model has none; use fine-tune")
    if CONTRASTIVE in phases and not isinstance(domain, registry.TunesEncoder):
        raise RecipeError(f"{recipe.origin}: train.strategy: {strategy} tunes a text encoder on pairs of labelled "
                          f"examples, which the {domain.name} domain has not; use fine-tune, linear-probe or lp-ft"
                          if isinstance(domain, registry.FitsHead) else
                          f"{recipe.origin}: train.strategy: {strategy} needs a text classifier; use fine-tune")
    if recipe.lora.enabled and FINE_TUNE not in phases:
        raise RecipeError(f"{recipe.origin}: lora.enabled: train.strategy {strategy} trains no weights but the "
                          "head's; turn LoRA off, or use lp-ft")
    if recipe.lora.enabled and CONTRASTIVE in phases:
        raise RecipeError(f"{recipe.origin}: lora.enabled: train.strategy {strategy} tunes the encoder in full on "
                          "pairs; turn LoRA off, or use lp-ft")


def check_data(domain: Any, recipe: Recipe, data: Any) -> None:
    """Refuse, before the model loads, training data the strategy cannot use (contrastive: a class without a
    partner of its own).

    Raises:
        DataError: one line.
    """
    if CONTRASTIVE in PHASES[recipe.train.strategy]:
        from suite.core import contrastive

        contrastive.check_labels(domain.pair_examples(recipe, data)[1])


_STOCHASTIC = ("Dropout", "BatchNorm", "DropPath")


def pin_eval_mode(network: Any) -> int:
    """Keep the layers that behave differently in training (dropout, batch normalisation, stochastic depth) in
    eval mode for good, so that fine-tuning from a fitted head sees the features the head was fitted on.

    Augmentation stays: it is part of the data, not of the network. Measured on the synthetic scans at 200
    labels (one draw): the head fitted on eval-mode features, then fine-tuned with batch statistics and dropout,
    scored test AUROC 0.739 (the probe 0.758); with them pinned, 0.778. Returns how many layers were pinned.
    """
    import types

    pinned = 0
    for module in network.modules():
        if any(kind in type(module).__name__ for kind in _STOCHASTIC):
            module.train(False)
            module.train = types.MethodType(lambda self, mode=True: self, module)
            pinned += 1
    return pinned


def head_dropout(recipe: Recipe, dropout: float) -> float:
    """The dropout a domain puts before its head: none where the strategy fits the head by the probe, whose
    weights read the features as eval mode gives them (see :func:`pin_eval_mode`)."""
    return 0.0 if PROBE in PHASES[recipe.train.strategy] else dropout


def trainings(strategy: str) -> int:
    """How many Trainer runs the strategy makes (more than one cannot share a torchrun launch)."""
    return sum(phase in (FINE_TUNE, CONTRASTIVE) for phase in PHASES[strategy])


def train(domain: Any, recipe: Recipe, run: Any, data: Any, model: Any, *, resume: bool,
          score_stage: Callable[[str], None]) -> dict:
    """Run the recipe's strategy on ``model``, in place; return the figures that go under ``training``.

    Args:
        domain, recipe, run, data, model: as the pipeline has them (adapters added, frozen weights frozen).
        resume: go on from the newest checkpoint of the phase a killed run was in.
        score_stage: called with ``stage:<name>`` once the phases before fine-tuning have run, to score the
            model as they left it.

    Returns:
        ``{"strategy", "phases": [{"phase", "seconds", "steps", "examples", "flops"}...], "train_seconds",
        "training_flops", ...}`` and, where fine-tuning ran, the Trainer's figures (steps, best checkpoint...).
    """
    from suite.core import training

    strategy = recipe.train.strategy
    phases = PHASES[strategy]
    done: list[dict] = []
    figures: dict = {}
    for index, phase in enumerate(phases):
        if phase == CONTRASTIVE:
            from suite.core import contrastive

            texts, labels = domain.pair_examples(recipe, data)
            done.append(contrastive.tune_encoder(encoder=domain.encoder(model), texts=texts, labels=labels,
                                                 recipe=recipe, run=run, resume=resume))
        elif phase == PROBE:
            done.append(fit_head(domain, recipe, data, model))
        else:
            if index:
                score_stage(f"stage:{STAGE_NAMES[phases[:index]]}")
                pin_eval_mode(model.network)
            result = training.train(recipe=recipe, run=run, model=model,
                                    inputs=domain.training_inputs(recipe, data, model),
                                    primary_metric=domain.primary_metric, greater_is_better=domain.greater_is_better,
                                    resume=resume, start_is_candidate=index > 0)
            figures = result.summary()
            done.append({"phase": FINE_TUNE, "seconds": result.train_seconds, "steps": result.steps,
                         "examples": training.samples_trained(result.trainer), "flops": result.training_flops,
                         "kept_start": result.kept_start})
    seconds = round(sum(p["seconds"] for p in done), 2)
    flops = [p["flops"] for p in done]
    return {**figures, "strategy": strategy, "phases": done, "train_seconds": seconds,
            "training_flops": sum(flops) if all(f for f in flops) else None, "steps": figures.get("steps", 0),
            "trainable_parameters": figures.get("trainable_parameters") or _changed(domain, model, phases),
            "total_parameters": training.count_parameters(model.network)[1], "peak_rss_mb": training.peak_rss_mb()}


def _changed(domain: Any, model: Any, phases: tuple[str, ...]) -> int:
    """Parameters a strategy without fine-tuning changed: the head's, and the encoder's where it was tuned."""
    from suite.core import training

    changed = sum(p.numel() for p in domain.head_layer(model).parameters())
    if CONTRASTIVE in phases:
        changed += training.count_parameters(domain.encoder(model))[0]
    return changed


def fit_head(domain: Any, recipe: Recipe, data: Any, model: Any) -> dict:
    """The probe phase: the head fitted by logistic regression on the training part's features, as they stand;
    its time and the FLOPs of the forward passes that made the features (counted by torch)."""
    import numpy as np
    from torch.utils.flop_counter import FlopCounterMode

    from suite.core import probe

    start = time.perf_counter()
    with FlopCounterMode(display=False) as counter:
        features, labels = domain.head_features(recipe, data, model)
    layer = domain.head_layer(model)
    fitted = probe.fit_logistic(features, np.asarray(labels), outputs=layer.out_features, C=recipe.train.probe_c,
                                seed=recipe.seed)
    probe.write_head(layer, fitted)
    return {"phase": PROBE, "seconds": round(time.perf_counter() - start, 2), "steps": None,
            "examples": int(len(features)), "flops": float(counter.get_total_flops()) or None}

