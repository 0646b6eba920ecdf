"""Benchmark plans: which runs ``suite bench`` makes for each domain, read from YAML.

A plan lists, per domain, the runs to make; each run is a recipe plus overrides, and the
run's tuned model is reported under the run's ``system`` label (``full``, ``lora``,
``scratch``, ``linear-probe``...). The other systems a run evaluates on the same split
(``baseline:<name>``, ``zero-shot``, ``hybrid``) are reported under their own names.
Overrides of a domain apply to every run of it, so all of a domain's systems share one
split. Bundled plans live in ``recipes/bench/`` (``suite bench --plan quick``)::

    name: quick
    seed: 0                       # optional: passed to every run as seed=0
    timeout_minutes: 15           # optional: a run that takes longer is stopped and reported failed
    domains:
      spam:
        overrides: {data.max_examples: 1500, train.epochs: 1}
        runs:
          - {system: full, recipe: spam/default, minutes: 2}
          - {system: lora, recipe: spam/lora, overrides: {evaluation.baselines: []}, minutes: 1.5}
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from suite.core import config, resources, yaml_text
from suite.core.errors import RecipeError

PLANS_DIR = resources.RECIPES_DIR / "bench"
DEFAULT_PLAN = "full"
"""What ``suite bench`` and ``suite.bench()`` run when no plan is named."""
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class RunPlan:
    """One run: a recipe with overrides; its tuned model is reported as ``system``."""

    system: str = field(metadata={"help": "Label of the run's tuned model (full, lora, scratch, linear-probe...)."})
    recipe: str = field(metadata={"help": "Bundled recipe name (spam/default) or a recipe YAML path."})
    overrides: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "Recipe keys to change for this run only, e.g. {model.pretrained: false}."})
    minutes: float = field(default=5.0, metadata={
        "help": "Expected wall minutes on two idle cores; only drives the time-left estimate."})
    budget_size: float | None = field(default=None, metadata={
        "help": "Set by a domain's budget: the training size this run has (null: all, or not a budget run)."})
    strategy: str | None = field(default=None, metadata={
        "help": "Set by a domain's budget: the name of the training strategy this run tries."})
    draw: int | None = field(default=None, metadata={
        "help": "Set by a domain's budget: which draw of the labelled examples this run has."})

    def __post_init__(self):
        if not _LABEL.match(self.system) or self.system.startswith("baseline"):
            raise ValueError(f"system: expected a plain label such as 'full' (letters, digits, . _ -; "
                             f"not 'baseline...'), got {self.system!r}")
        if self.minutes <= 0:
            raise ValueError(f"minutes: expected a positive number, got {self.minutes!r}")


@dataclass
class BudgetPlan:
    """A label-budget curve: one recipe trained on growing shares of the same training split (see budget.py)."""

    recipe: str = field(metadata={"help": "Bundled recipe name or a recipe YAML path."})
    key: str = field(metadata={"help": "The recipe key that sets the labelled examples, e.g. data.label_budget "
                                       "(spam, diagnostics: labels in all, validation included), "
                                       "data.max_train_examples (translation), data.max_train_per_user "
                                       "(recommendation)."})
    sizes: list[float | None] = field(metadata={"help": "Values of `key`, smallest first (null: all examples)."})
    overrides: dict[str, Any] = field(default_factory=dict, metadata={"help": "Recipe keys for every budget run."})
    minutes: float = field(default=2.0, metadata={"help": "Expected wall minutes of one budget run."})
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict, metadata={
        "help": "Training strategies tried at every size and draw, by name, each as recipe overrides, e.g. "
                "{lp-ft: {train.strategy: lp-ft}}; validation picks one per size and draw (empty: the recipe's "
                "own)."})
    draws: list[int] | int = field(default=1, metadata={
        "help": "Draws of the labelled examples at each size (one number for all, or one per size), every one "
                "with the baselines refitted on it: the curve shows the mean, its spread and paired differences."})
    draw_key: str = field(default="data.budget_draw", metadata={
        "help": "The recipe key that picks a draw of the labelled examples."})
    minutes_by_strategy: dict[str, float] = field(default_factory=dict, metadata={
        "help": "Expected wall minutes of a run of each strategy, where it differs from `minutes`."})
    strategies_up_to: float | None = field(default=None, metadata={
        "help": "The largest size at which every strategy is tried; larger sizes (and null, all examples) train "
                "the first strategy only, where a run costs most and validation is large enough to trust one "
                "(null: every strategy at every size)."})

    def __post_init__(self):
        if not self.sizes:
            raise ValueError("sizes: expected at least one size")
        if any(size is not None and size <= 0 for size in self.sizes):
            raise ValueError(f"sizes: expected positive sizes or null, got {self.sizes!r}")
        if self.minutes <= 0 or any(m <= 0 for m in self.minutes_by_strategy.values()):
            raise ValueError(f"minutes: expected positive numbers, got {self.minutes!r}")
        draws = self.draws if isinstance(self.draws, list) else [self.draws] * len(self.sizes)
        if len(draws) != len(self.sizes) or any(not 1 <= d <= 100 for d in draws):
            raise ValueError(f"draws: expected one number from 1 to 100, or one per size, got {self.draws!r}")
        bad = [name for name in self.strategies if not _LABEL.match(name)]
        if bad:
            raise ValueError(f"strategies: expected plain names (letters, digits, . _ -), got {bad[0]!r}")
        unknown = sorted(set(self.minutes_by_strategy) - set(self.strategies))
        if unknown:
            raise ValueError(f"minutes_by_strategy: {unknown[0]!r} is not one of the strategies")

    def draws_at(self) -> list[int]:
        """The number of draws at each size."""
        return self.draws if isinstance(self.draws, list) else [self.draws] * len(self.sizes)

    def runs(self) -> list[RunPlan]:
        """One run per size, draw and strategy, labelled ``budget-<size>`` (one draw, the recipe's strategy),
        else ``budget-<size>-<strategy>-d<draw>``."""
        from suite.bench.budget import run_label

        strategies = self.strategies or {None: {}}
        first = dict([next(iter(strategies.items()))])
        out = []
        for size, draws in zip(self.sizes, self.draws_at()):
            tried = strategies if self.strategies_up_to is None or (
                size is not None and size <= self.strategies_up_to) else first
            for draw in range(draws):
                for name, overrides in tried.items():
                    label = run_label(_whole(size), strategy=name, draw=draw if self.draws != 1 else None)
                    out.append(RunPlan(
                        system=label, recipe=self.recipe,
                        overrides={**self.overrides, **({self.key: _whole(size)} if size is not None else {}),
                                   **({self.draw_key: draw} if draws > 1 else {}), **overrides},
                        minutes=self.minutes_by_strategy.get(name, self.minutes), budget_size=size, strategy=name,
                        draw=draw))
        return out


def _whole(size: float | None) -> float | int | None:
    """Whole-number sizes as integers (counts), others as they are (shares)."""
    return int(size) if isinstance(size, float) and size.is_integer() and size >= 1 else size


@dataclass
class DomainPlan:
    """The runs of one domain, sharing ``overrides`` (and so one split), and optionally a label-budget curve."""

    runs: list[RunPlan] = field(default_factory=list, metadata={"help": "The runs to make, in order."})
    overrides: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "Recipe keys to change in every run of this domain."})
    budget: BudgetPlan | None = field(default=None, metadata={
        "help": "A label-budget curve of this domain (runs labelled budget-<size>)."})
    figure: str | None = field(default=None, metadata={
        "help": "The domain's operating figure, which the verdict quotes beside the primary metric (for the `full` "
                "run, or the largest budget run), e.g. recall_at_target_fpr, cold_ndcg@10, placeholders_kept."})

    def __post_init__(self):
        if not self.runs and self.budget is None:
            raise ValueError("runs: expected at least one run or a budget")
        labels = [run.system for run in self.all_runs()]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"runs: system labels must be unique, repeated: {', '.join(repeated)}")

    def all_runs(self) -> list[RunPlan]:
        """The listed runs, then the budget's."""
        return [*self.runs, *(self.budget.runs() if self.budget else [])]


@dataclass
class Plan:
    """A whole benchmark plan."""

    name: str = field(metadata={"help": "Plan name, used in the output folder's name."})
    domains: dict[str, DomainPlan] = field(metadata={"help": "Domain name -> its runs."})
    description: str = field(default="", metadata={"help": "What the plan is for."})
    seed: int | None = field(default=None, metadata={"help": "Seed given to every run (null: each recipe's)."})
    timeout_minutes: float | None = field(default=None, metadata={
        "help": "Stop a run that takes longer and report it failed (null: no limit)."})
    matmul_size: int = field(default=2048, metadata={
        "help": "Side of the square fp32 matrices timed for the machine's matmul peak."})
    origin: str = field(default="<dict>", metadata={"help": "Where the plan was read from."})

    def __post_init__(self):
        if not self.domains:
            raise ValueError("domains: expected at least one domain")
        if self.timeout_minutes is not None and self.timeout_minutes <= 0:
            raise ValueError(f"timeout_minutes: expected a positive number or null, got {self.timeout_minutes!r}")
        if self.matmul_size < 16:
            raise ValueError(f"matmul_size: expected an integer >= 16, got {self.matmul_size!r}")

    def only(self, domains: list[str]) -> Plan:
        """The same plan restricted to ``domains`` (in the plan's order).

        Raises:
            RecipeError: a name the plan does not have.
        """
        unknown = [name for name in domains if name not in self.domains]
        if unknown:
            raise RecipeError(f"--domains: '{unknown[0]}' is not in plan {self.name} "
                              f"(it has: {', '.join(self.domains)})")
        return dataclasses.replace(self, domains={k: v for k, v in self.domains.items() if k in domains})


def bundled_plans() -> dict[str, Path]:
    """Plans that ship in ``recipes/bench/``, by name."""
    return {p.stem: p for p in sorted(PLANS_DIR.glob("*.yaml"))}


def load_plan(plan: str | Path | dict) -> Plan:
    """Read and validate a plan.

    Args:
        plan: a bundled plan name (``"quick"``), a YAML path, or an already-parsed dict.

    Raises:
        RecipeError: no such plan, malformed YAML, an unknown key or a wrong value,
            naming the file and the key.

    Example:
        >>> load_plan("quick").domains["spam"].runs[0].system
        'full'
    """
    if isinstance(plan, dict):
        values, origin = plan, "<dict>"
    else:
        path = Path(plan).expanduser()
        if not path.is_file():
            path = bundled_plans().get(str(plan), path)
        if not path.is_file():
            raise RecipeError(f"{plan}: no such plan file or bundled plan "
                              f"(bundled: {', '.join(bundled_plans()) or 'none'})")
        try:
            values = yaml_text.load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise RecipeError(f"{path}: malformed plan: {str(error).splitlines()[0]}") from None
        origin = str(path)
    if not isinstance(values, dict) or not isinstance(values.get("domains"), dict):
        raise RecipeError(f"{origin}: expected a mapping with 'name' and 'domains' (domain name -> runs)")
    domains = {str(name): config.build(DomainPlan, runs, where=origin, prefix=f"domains.{name}.")
               for name, runs in values["domains"].items()}
    return config.build(Plan, {**values, "domains": domains, "origin": origin}, where=origin)


def child_overrides(domain: DomainPlan, run: RunPlan, *, seed: int | None) -> list[str]:
    """The run's overrides as ``key=value`` strings (the domain's first, then the run's)."""
    merged = {**domain.overrides, **run.overrides}
    if seed is not None:
        merged["seed"] = seed
    return [f"{key}={json.dumps(value)}" for key, value in merged.items()]   # JSON is YAML: parsed back exactly
