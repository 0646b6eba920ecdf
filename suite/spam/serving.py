"""Spam over HTTP: ``{"texts": [...]}`` in, one spam probability and decision per text out.

The serving shape every domain has (see :mod:`suite.serve.spec`): request and response
models, ``to_inputs``, ``predict``, ``to_response`` and ``example_request``; and the form of the served
page (``page.js``), which sends a mail file to ``/inputs`` first (read as ``suite predict --input`` reads it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from suite.serve.schemas import Texts
from suite.serve.spec import plain_predict

PAGE_SCRIPT = "page.js"                                      # the form of suite serve's page, beside this module
INPUT_FILE_SUFFIXES = (".eml", ".mbox", ".txt")              # files the page reads into texts via /inputs


def example_request() -> dict:
    """A valid one-text request."""
    return {"texts": ["WIN a FREE cruise!!! Reply now to claim your prize"]}


class PredictRequest(BaseModel):
    """Messages to score."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [example_request()]})
    texts: Texts = Field(description="Messages (subject and body as one text), one or more.")


class Prediction(BaseModel):
    spam_probability: float = Field(description="P(spam) from the system served (the tuned model, or the hybrid).")
    label: Literal["spam", "ham"] = Field(description="spam when spam_probability >= threshold.")
    threshold: float = Field(description="The served system's operating threshold (chosen on validation for a "
                                         "target FPR, or by suite calibrate).")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per text, in order.")


def to_inputs(request: PredictRequest) -> tuple[list[str], dict]:
    """The predictor's inputs (the texts) and options (none)."""
    return list(request.texts), {}


predict = plain_predict      # one batch: predictor.predict(inputs, **options)


def to_response(predictions: list[dict], request: PredictRequest) -> PredictResponse:
    """The response for one request's predictions."""
    return PredictResponse(predictions=[Prediction(**p) for p in predictions])
