"""The domain registry: each domain module registers itself; the core never imports one.

A domain is any object that satisfies :class:`Domain`. ``suite/<domain>/__init__.py``
calls :func:`register` at import time; :func:`load_builtin_domains` imports the
domains that ship with the suite (those listed in ``BUILTIN_DOMAINS``), tolerating a
missing optional dependency so that one broken domain never hides the others.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from suite.core.errors import RecipeError

BUILTIN_DOMAINS = ("spam", "recommendation", "translation", "diagnostics")


@runtime_checkable
class Predictor(Protocol):
    """What ``suite.load(run_dir)`` returns: a trained system ready for new inputs.

    A predictor may also define ``write_output(predictions, output, *, input) -> bool`` to
    write ``suite predict --output`` in its own format (translation fills a ``.po``);
    returning False leaves the CLI to write JSON lines or CSV.
    """

    def predict(self, inputs: list[Any]) -> list[dict]:
        """One JSON-ready dict per input, in order."""

    def read_inputs(self, path: Path) -> list[Any]:
        """Read inputs from a file given to ``suite predict --input``."""


@runtime_checkable
class Domain(Protocol):
    """The contract between the core and a domain module."""

    name: str
    description: str
    primary_metric: str          # key in each system's metrics, e.g. "f1"
    greater_is_better: bool
    data_config: type            # dataclass for the recipe's `data` section
    model_config: type           # dataclass for `model` (extends core.recipe.ModelConfig)
    eval_config: type            # dataclass for `evaluation`

    def prepare_data(self, recipe: Any) -> Any:
        """Read, validate and split the data (raise DataError) before any model loads."""

    def tune(self, recipe: Any, run: Any, data: Any, *, resume: bool = False) -> dict:
        """Train and evaluate every system on the same test split; save the model with
        ``run.writing_model()``; return ``{"models": {system: metrics}, ...}`` (see core.report)."""

    def evaluate(self, run: Any, data: str | None = None) -> dict:
        """Evaluate a finished run on its test split, or on other data; same return as ``tune``."""

    def load(self, run: Any) -> Predictor:
        """Load a finished run's model for prediction."""


_DOMAINS: dict[str, Domain] = {}
_FAILED: dict[str, str] = {}


def register(domain: Domain) -> Domain:
    """Make ``domain`` available to recipes under ``domain.name``."""
    if not isinstance(domain, Domain):
        raise TypeError(f"{domain!r} does not implement the suite Domain protocol")
    _DOMAINS[domain.name] = domain
    return domain


def load_builtin_domains() -> None:
    """Import every built-in domain module once, remembering why any could not load."""
    for name in BUILTIN_DOMAINS:
        if name in _DOMAINS or name in _FAILED:
            continue
        try:
            importlib.import_module(f"suite.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"suite.{name}":
                continue  # not installed in this build
            _FAILED[name] = f"needs the package '{error.name}' (pip install -e . installs it)"
        except Exception as error:  # noqa: BLE001 - one broken domain must not hide the others
            _FAILED[name] = f"failed to import: {type(error).__name__}: {error}"


def get_domain(name: str, *, where: str = "recipe") -> Domain:
    """Return the registered domain ``name``.

    Raises:
        RecipeError: no such domain, naming the ones that exist.
    """
    load_builtin_domains()
    if name in _DOMAINS:
        return _DOMAINS[name]
    if name in _FAILED:
        raise RecipeError(f"{where}: domain '{name}' cannot load: it {_FAILED[name]}")
    known = ", ".join(sorted(_DOMAINS)) or "none"
    raise RecipeError(f"{where}: unknown domain '{name}' (known: {known})")


def list_domains() -> dict[str, Domain]:
    """All domains that loaded, by name."""
    load_builtin_domains()
    return dict(sorted(_DOMAINS.items()))


def failed_domains() -> dict[str, str]:
    """Built-in domains that could not load, with the reason."""
    load_builtin_domains()
    return dict(_FAILED)
