"""The toy over HTTP: ``{"numbers": [...], "decimals": 6}`` in, one probability and label per number out.

The serving shape of :mod:`suite.serve.spec`: request and response models, ``to_inputs``, ``predict``,
``to_response`` and ``example_request``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from suite.serve.spec import plain_predict


def example_request() -> dict:
    """A valid one-number request."""
    return {"numbers": [3.5]}


class PredictRequest(BaseModel):
    """Numbers to classify."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [example_request()]})
    numbers: list[FiniteFloat] = Field(min_length=1, max_length=1000, description="One or more numbers.")
    decimals: int = Field(default=6, ge=0, le=6, description="Round probabilities to this many decimals.")


class Prediction(BaseModel):
    number: float
    probability: float = Field(description="P(positive) from the tuned model.")
    label: Literal["negative", "positive"] = Field(description="positive when probability >= 0.5.")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per number, in order.")


def to_inputs(request: PredictRequest) -> tuple[list[float], dict]:
    """The predictor's inputs (the numbers) and options (``decimals``: requests with equal ones share a batch)."""
    return list(request.numbers), {"decimals": request.decimals}


predict = plain_predict      # one batch: predictor.predict(inputs, **options)


def to_response(predictions: list[dict], request: PredictRequest) -> PredictResponse:
    """The response for one request's predictions."""
    return PredictResponse(predictions=[Prediction(**p) for p in predictions])
