"""How the server finds a domain's HTTP shape: the one place that maps a domain name to its serving module.

A domain is served when it has a module with the shape of :class:`ServingSpec`
(``suite/<domain>/serving.py``): pydantic request and response models naming the
domain's own fields, three functions between them and the domain's predictor, and an
example request.
The domain object names it (the :class:`suite.core.registry.Serves` capability:
``serving_module = "suite.spam.serving"``), so a domain from another package serves the same way.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from suite.core.errors import SuiteError


class ServeError(SuiteError):
    """A run that cannot be served (its domain has no serving module), or bad server settings."""


@runtime_checkable
class ServingSpec(Protocol):
    """What a domain's serving module defines.

    ``to_inputs`` turns a validated request into the predictor's inputs and keyword
    options (hashable values: requests with equal options may share one batch);
    ``predict`` runs the predictor on a batch; ``to_response`` turns one request's
    predictions (in input order) back into the response model.
    """

    PredictRequest: type
    PredictResponse: type

    def to_inputs(self, request: Any) -> tuple[list, dict]:
        """Predictor inputs and options for one request; raise DataError for content it cannot take."""

    def predict(self, predictor: Any, inputs: list, options: dict) -> list[dict]:
        """One prediction dict per input, in order."""

    def to_response(self, predictions: list[dict], request: Any) -> Any:
        """The response model for one request."""

    def example_request(self) -> dict:
        """A valid one-input request body for any run of the domain (the schema's example, load tests)."""


def plain_predict(predictor: Any, inputs: list, options: dict) -> list[dict]:
    """``predict`` for a domain whose batch is exactly ``predictor.predict(inputs, **options)``
    (a serving module writes ``predict = plain_predict``)."""
    return predictor.predict(inputs, **options)


_REQUIRED = ("PredictRequest", "PredictResponse", "to_inputs", "predict", "to_response", "example_request")


def serving_spec(domain: str) -> ModuleType:
    """The serving module the domain ``domain`` names.

    Args:
        domain: a domain name, as a run's recipe names it.

    Raises:
        ServeError: the domain declares no serving module, or the module lacks part of the shape.

    Example:
        >>> serving_spec("spam").PredictRequest(texts=["WIN a FREE cruise"]).texts
        ['WIN a FREE cruise']
    """
    from suite.core import registry

    definition = registry.get_domain(domain)
    if not isinstance(definition, registry.Serves):
        raise ServeError(f"domain '{domain}' cannot be served: it names no serving module")
    module = importlib.import_module(definition.serving_module)
    missing = [attr for attr in _REQUIRED if not hasattr(module, attr)]
    if missing:
        raise ServeError(f"{definition.serving_module} cannot serve: it does not define {', '.join(missing)}")
    return module
