"""Translation over HTTP: ``{"texts": [...]}`` in, one translation per interface string out.

The serving shape every domain has (see :mod:`suite.serve.spec`): request and response
models, ``to_inputs``, ``predict``, ``to_response`` and ``example_request``; and the form of the served
page (``page.js``): strings typed, or a ``.po`` read through ``/inputs`` and filled through ``/output``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from suite.serve.schemas import Text
from suite.serve.spec import plain_predict

PAGE_SCRIPT = "page.js"              # the form of suite serve's page, beside this module
INPUT_FILE_SUFFIXES = (".po",)       # the page reads a catalog's strings via /inputs and fills it via /output


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty string: nothing to translate")
    return text


SourceTexts = Annotated[list[Annotated[Text, AfterValidator(_not_blank)]], Field(min_length=1)]


def example_request() -> dict:
    """A valid one-string request."""
    return {"texts": ["Delete %(name)s?"]}


class PredictRequest(BaseModel):
    """Interface strings to translate (placeholders such as %s or {0} are kept)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [example_request()]})
    texts: SourceTexts = Field(description="Source strings, one or more, none blank.")


class Prediction(BaseModel):
    source: str = Field(description="The source string, as given.")
    translation: str = Field(description="Its translation.")
    placeholders_kept: bool = Field(description="Whether every placeholder of the source is in the translation.")
    accelerator_kept: bool | None = Field(None, description="Whether the translation has the source's keyboard "
                                                            "accelerator (_Open, &File); null when the source has "
                                                            "none.")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per text, in order.")


def to_inputs(request: PredictRequest) -> tuple[list[str], dict]:
    """The predictor's inputs (the strings) and options (none)."""
    return list(request.texts), {}


predict = plain_predict      # one batch: predictor.predict(inputs, **options)


def to_response(predictions: list[dict], request: PredictRequest) -> PredictResponse:
    """The response for one request's predictions."""
    return PredictResponse(predictions=[Prediction(**p) for p in predictions])
