"""Response models of the routes every served run has (``/health``, ``/info``, ``/stats``), for the OpenAPI schema.

The ``/predict`` models belong to each domain (``suite/<domain>/serving.py``); the
field types that several domains share are here too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field


def _unicode_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (it holds a lone surrogate escape such as \\ud800)") from None
    return text


Text = Annotated[str, AfterValidator(_unicode_text)]
"""A string that is valid Unicode (JSON lets a client send a lone surrogate, which no tokenizer takes)."""

Texts = Annotated[list[Text], Field(min_length=1, description="One or more texts.")]


class Health(BaseModel):
    status: str = Field(description="'ok' once the model has loaded.")


class Info(BaseModel):
    run: str = Field(description="The run folder's name.")
    domain: str
    recipe: str | None
    created: str | None = Field(description="When the run finished (UTC).")
    primary_metric: str | None
    greater_is_better: bool | None
    system: str = Field(description="The system served: 'tuned', or 'hybrid' (the run's saved blend).")
    engine: str = Field(description="'torch', or 'onnx': the run's ONNX export run by ONNX Runtime.")
    export: dict[str, Any] | None = Field(None, description="The ONNX export served (folder, int8, its self-check "
                                                           "against PyTorch on the test split); null with torch.")
    metrics: dict[str, float] = Field(description="The served system's headline metrics on the test split.")
    threshold: Any = Field(None, description="The operating threshold of the decisions, if the model has one.")
    packages: dict[str, str] = Field(description="Package versions the run was made with (environment.json).")
    python: str | None
    model_loaded: bool
    max_batch: int
    max_wait_ms: float
    max_body_bytes: int
    max_inputs: int
    max_queue: int


class Stats(BaseModel):
    requests: int = Field(description="Prediction requests accepted.")
    inputs: int = Field(description="Inputs in those requests.")
    batches: int = Field(description="Predictor calls made.")
    in_flight: int = Field(description="Requests waiting for their predictions now.")
    queued: int = Field(description="Inputs waiting for their predictions now (past --max-queue: /health 503).")
    dropped: int = Field(description="Requests whose client left before the answer; their waiting work was dropped.")
    batch_sizes: dict[str, int] = Field(description="How many predictor calls had each batch size.")
    largest_batch: int
