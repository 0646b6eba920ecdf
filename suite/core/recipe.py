"""Recipes: YAML files that say what to tune, on what data, and how.

A recipe has the same sections in every domain::

    domain: spam              # which domain module runs it
    name: default             # used in run folder names
    description: ...
    offline: true             # runs with no network (bundled data and weights)
    seed: 0
    parent: null              # a finished run this one continues on new data (suite adapt)
    data: {...}               # the domain's DataConfig
    model: {...}              # the domain's ModelConfig (always has `source`)
    evaluation: {...}         # the domain's EvalConfig
    train: {...}              # TrainConfig below, the same for every domain
    lora: {...}               # LoraConfig below
    output: {...}             # OutputConfig below

``load_recipe`` reads one, applies ``key=value`` overrides and validates everything
before any model or data is touched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from suite.core import config, interpolation, paths, registry, resources, strategies, yaml_text
from suite.core.config import SEED_BOUNDS, between
from suite.core.errors import RecipeError


@dataclass
class ModelConfig:
    """Where the weights come from; each domain extends this with its own fields."""

    source: str = field(default="", metadata={
        "help": "A bundled name (bundled:<name>; suite list shows them), a local folder or file, or a Hugging Face "
                "hub id. Each domain sets its default."})
    pretrained: bool = field(default=True, metadata={
        "help": "Load the pretrained weights; false builds the same architecture with random weights."})
    trust_remote_code: bool = field(default=False, metadata={
        "help": "Allow model code from the hub to run. Off unless you trust the source."})


STRATEGIES = ("fine-tune", "linear-probe", "lp-ft", "contrastive", "contrastive-lp-ft")


@dataclass
class ContrastiveConfig:
    """Contrastive tuning of a text encoder on pairs of labelled examples (``train.strategy: contrastive``)."""

    pairs_per_example: int = field(default=20, metadata={"bounds": between(1, 1000),
        "help": "For every training example, this many partners of its own class and as many of another class "
                "(SetFit's num_iterations): 2 x this x examples pairs in all, drawn again by the run's seed."})
    max_pairs: int = field(default=2560, metadata={"bounds": between(2, 10 ** 7),
        "help": "At most this many pairs (a large label budget needs fewer partners per example)."})
    epochs: float = field(default=1.0, metadata={
        "bounds": between(0, 100, low_open=True), "help": "Passes over the pairs."})
    learning_rate: float = field(default=2.0e-5, metadata={
        "bounds": between(0, 1, low_open=True), "help": "Peak learning rate of the encoder."})
    batch_size: int = field(default=16, metadata={"bounds": between(1, 65_536), "help": "Pairs per optimiser step."})


@dataclass
class TrainConfig:
    """How the shared Trainer runs; the same keys in every domain."""

    strategy: Literal[STRATEGIES] = field(default="fine-tune", metadata={
        "help": "fine-tune: a new head and the whole network trained together; linear-probe: only the head, "
                "fitted by logistic regression on the frozen pretrained features (no fine-tuning steps); lp-ft: "
                "that head first, then everything fine-tuned from it (Kumar et al. 2022); contrastive: the text "
                "encoder tuned on same/different-label pairs, then the head fitted on it (SetFit); "
                "contrastive-lp-ft: contrastive, then fine-tuning from there. linear-probe and lp-ft need a model "
                "with a classification head, contrastive a text encoder; a domain without one refuses them."})
    backbone_lr_scale: float = field(default=1.0, metadata={"bounds": between(0, 10, low_open=True),
        "help": "Weights outside the model's head learn at learning_rate x this (lp-ft: below 1 keeps the "
                "pretrained features close to where the probe found them)."})
    probe_c: float = field(default=0.1, metadata={"bounds": between(0, 10 ** 6, low_open=True),
        "help": "Inverse L2 strength of the probe's logistic regression, on centred features divided by one "
                "common scale (the classical 'logistic regression on frozen features' baselines use 0.1)."})
    contrastive: ContrastiveConfig = field(default_factory=ContrastiveConfig, metadata={
        "help": "Pairs and optimiser of the contrastive strategies."})
    epochs: float = field(default=3.0, metadata={
        "bounds": between(0, 10_000, low_open=True), "help": "Passes over the training data."})
    max_steps: int = field(default=-1, metadata={
        "bounds": between(1, 10 ** 9, special=(-1,)), "help": "Stop after this many optimiser steps (-1: use epochs)."})
    min_steps: int = field(default=0, metadata={"bounds": between(0, 10 ** 9),
        "help": "Train at least this many optimiser steps, more epochs than `epochs` if the data are small "
                "(0: off). Epoch-sized budgets underfit small data sets; early stopping still applies."})
    batch_size: int = field(default=16, metadata={
        "bounds": between(1, 65_536), "help": "Training examples per device per step."})
    eval_batch_size: int = field(default=64, metadata={
        "bounds": between(1, 65_536), "help": "Examples per batch when evaluating."})
    gradient_accumulation_steps: int = field(default=1, metadata={"bounds": between(1, 65_536),
        "help": "Accumulate gradients over this many batches before each optimiser step."})
    learning_rate: float = field(default=5e-5, metadata={
        "bounds": between(0, 1, low_open=True), "help": "Peak learning rate."})
    weight_decay: float = field(default=0.01, metadata={"bounds": between(0, 1), "help": "AdamW weight decay."})
    warmup_ratio: float = field(default=0.1, metadata={
        "bounds": between(0, 1, high_open=True), "help": "Share of steps with linear warm-up."})
    lr_scheduler: Literal["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                          "constant_with_warmup", "inverse_sqrt"] = field(default="linear", metadata={
        "help": "Learning-rate schedule after warm-up (transformers' scheduler of that name)."})
    max_grad_norm: float = field(default=1.0, metadata={
        "bounds": between(0, 10 ** 6, low_open=True), "help": "Gradient clipping norm."})
    early_stopping_patience: int | None = field(default=2, metadata={"bounds": between(0, 10_000),
        "help": "Stop after this many evaluations without improvement of the primary metric (null: never)."})
    evaluate_every: Literal["epoch"] | int = field(default="epoch", metadata={"bounds": between(1, 10 ** 9),
        "help": "Evaluate (and checkpoint) every epoch, or every N optimiser steps."})
    group_by_length: bool = field(default=True, metadata={
        "help": "Batch examples of similar length together, so dynamic padding wastes little."})
    logging_steps: int = field(default=10, metadata={
        "bounds": between(1, 65_536), "help": "Log the training loss every N steps."})
    save_total_limit: int = field(default=2, metadata={
        "bounds": between(1, 1000), "help": "Checkpoints kept (the best one is always kept)."})
    frozen: list[str] = field(default_factory=list, metadata={
        "help": "Parameters kept as loaded: names or name prefixes, e.g. [embed] (translation: the shared "
                "embedding of the Firefox Translations model). A name that matches no parameter is refused."})
    untuned_share: float = field(default=0.0, metadata={"bounds": between(0, 1, high_open=True),
        "help": "After training, mix this share of the untuned weights back in: each becomes (1 - share) x tuned + "
                "share x untuned (WiSE-FT, Wortsman et al. 2022), giving back part of what tuning forgot for part "
                "of what it gained; every figure of the run is the mixed model's (0: off; not with LoRA, nor "
                "from random weights)."})
    keep_checkpoints: bool = field(default=False, metadata={
        "help": "Keep the checkpoints once the run has finished (they are needed only to resume an unfinished "
                "run; a finished one keeps model/)."})
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field(default="auto", metadata={
        "help": "auto: fp32 on the CPU, bf16 on a GPU that supports it."})
    use_cpu: bool = field(default=False, metadata={"help": "Train on the CPU even when a GPU is present."})
    num_workers: int = field(default=0, metadata={"bounds": between(0, 256), "help": "Data-loader worker processes."})
    threads: int | None = field(default=None, metadata={"bounds": between(1, 1024),
        "help": "Torch CPU threads per process (null: torch's default; under torchrun, the cores divided "
                "among the processes on the machine)."})


@dataclass
class LoraConfig:
    """Low-rank adapters (PEFT LoRA) instead of updating every weight."""

    enabled: bool = field(default=False, metadata={"help": "Train LoRA adapters instead of the full model."})
    r: int = field(default=8, metadata={"bounds": between(1, 4096), "help": "Rank of the low-rank update."})
    alpha: int = field(default=16, metadata={
        "bounds": between(1, 65_536), "help": "Scaling numerator (the update is scaled by alpha / r)."})
    dropout: float = field(default=0.1, metadata={
        "bounds": between(0, 1, high_open=True), "help": "Dropout on the adapter input."})
    target_modules: list[str] | None = field(default=None, metadata={
        "help": "Module names to adapt; null picks the attention projections of the architecture."})


@dataclass
class OutputConfig:
    """Where the run folder goes."""

    runs_dir: str = field(default="runs", metadata={"help": "Folder that holds run folders."})
    name: str | None = field(default=None, metadata={
        "help": "Run folder name (default: <domain>-<recipe>-<timestamp>). An existing folder is never reused."})

    def __post_init__(self):
        if self.name is not None:
            _check(self.name and "/" not in self.name and self.name not in (".", ".."),
                   "name: expected a plain folder name", self.name)


@dataclass
class Recipe:
    """A whole, validated recipe. ``data``, ``model`` and ``evaluation`` are the domain's sections."""

    domain: str
    name: str
    data: Any
    model: Any
    evaluation: Any
    description: str = ""
    offline: bool = True
    seed: int = 0
    parent: str | None = field(default=None, metadata={
        "help": "A finished run this one continues on new labelled data (suite adapt): training starts from its "
                "tuned model, and its training data joins the new data for the baselines (null: none)."})
    train: TrainConfig = field(default_factory=TrainConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    origin: str = field(default="<dict>", metadata={"help": "File the recipe came from (not saved)."})

    def to_dict(self) -> dict:
        """The resolved recipe as plain data, loadable again by ``recipe_from_dict``."""
        values = config.to_dict(self)
        values.pop("origin")
        return values


_TOP_LEVEL = {"domain", "name", "description", "offline", "seed", "parent", "data", "model", "evaluation", "train",
              "lora", "output"}


def load_recipe(recipe: str | Path | dict, overrides: dict[str, Any] | list[str] | None = None) -> Recipe:
    """Read, override and validate a recipe.

    Args:
        recipe: a path to a YAML file, a bundled recipe name such as ``"spam/tiny"``
            (``"spam"`` means ``"spam/default"``), or an already-parsed dict.
        overrides: ``{"train.epochs": 1}`` or ``["train.epochs=1"]``; values given as
            strings are parsed as YAML, so ``"1e-4"`` is a number and ``"[a, b]"`` a list.

    Returns:
        The validated :class:`Recipe`.

    Raises:
        RecipeError: missing file, malformed YAML, unknown domain or key, wrong type.

    Example:
        >>> recipe = load_recipe("spam/tiny", ["train.epochs=1"])
        >>> recipe.train.epochs
        1.0
    """
    values, origin = _read(recipe)
    for key, value in _parse_overrides(overrides).items():
        _set_dotted(values, key, value, origin)
    return recipe_from_dict(values, origin=origin)


def recipe_from_dict(values: dict, *, origin: str = "<dict>") -> Recipe:
    """Validate a parsed recipe dict (see :func:`load_recipe`)."""
    if not isinstance(values, dict):
        raise RecipeError(f"{origin}: expected a mapping of recipe sections, got {type(values).__name__}")
    for key in values:
        if key not in _TOP_LEVEL:
            raise RecipeError(f"{origin}: unknown key '{key}'{config._suggest(key, _TOP_LEVEL)}")
    for key in ("domain", "name"):
        if not isinstance(values.get(key), str) or not values[key]:
            raise RecipeError(f"{origin}: '{key}' is required and must be a string")
    domain = registry.get_domain(values["domain"], where=origin)
    sections = {"data": domain.data_config, "model": domain.model_config, "evaluation": domain.eval_config,
                "train": TrainConfig, "lora": LoraConfig, "output": OutputConfig}
    built = {name: config.build(cls, values.get(name), where=origin, prefix=f"{name}.")
             for name, cls in sections.items()}
    for name in ("data", "model", "evaluation", "output"):
        _check_paths(config.to_dict(built[name]), f"{name}.", origin)
    scalars = config.build(_Scalars, {k: values[k] for k in ("description", "offline", "seed", "parent")
                                      if k in values}, where=origin)
    recipe = Recipe(domain=values["domain"], name=values["name"], origin=origin,
                    **dataclasses.asdict(scalars), **built)
    strategies.check(domain, recipe)
    interpolation.check(recipe)
    return recipe


@dataclass
class _Scalars:
    description: str = ""
    offline: bool = True
    seed: int = field(default=0, metadata={"bounds": SEED_BOUNDS, "help": "Seed of the whole run."})
    parent: str | None = None

    def __post_init__(self):
        _check(self.parent is None or (self.parent.strip() and not paths.problem(self.parent)),
               "parent: expected the folder of a finished run", self.parent)


def _read(recipe: str | Path | dict) -> tuple[dict, str]:
    if isinstance(recipe, dict):
        return _deep_copy(recipe), "<dict>"
    path = resources.find_recipe(recipe)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RecipeError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        values = yaml_text.load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise RecipeError(f"{path}: malformed YAML{where}: {problem}") from None
    if not isinstance(values, dict):
        raise RecipeError(f"{path}: expected a mapping of recipe sections, got {type(values).__name__}")
    return values, str(path)


def _parse_overrides(overrides: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    if overrides is None:
        return {}
    if isinstance(overrides, dict):
        return {key.replace("__", "."): _parse_value(v) for key, v in overrides.items()}
    parsed = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RecipeError(f"override '{item}': expected key=value, e.g. train.epochs=1")
        parsed[key.strip()] = _parse_value(value)
    return parsed


def _parse_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return yaml_text.load(value) if value.strip() else value
    except yaml.YAMLError:
        return value


def _set_dotted(values: dict, key: str, value: Any, origin: str) -> None:
    *parents, leaf = key.split(".")
    node = values
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise RecipeError(f"{origin}: override '{key}': '{part}' is not a section")
        node = child
    node[leaf] = value


def _deep_copy(values: Any) -> Any:
    if isinstance(values, dict):
        return {k: _deep_copy(v) for k, v in values.items()}
    if isinstance(values, list):
        return [_deep_copy(v) for v in values]
    return values


def _check_paths(values: dict, prefix: str, origin: str) -> None:
    """Refuse file names that no file system can hold (see :mod:`suite.core.paths`), key by key."""
    for key, value in values.items():
        if isinstance(value, dict):
            _check_paths(value, f"{prefix}{key}.", origin)
        elif isinstance(value, str) and paths.is_path_key(key) and paths.problem(value):
            raise RecipeError(f"{origin}: {prefix}{key}: {paths.shorten(value)} is {paths.problem(value)}")


def _check(ok: bool, message: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{message}, got {config.shown(value)}")
