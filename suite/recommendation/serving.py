"""Recommendation over HTTP: ``{"users": [...]}`` or ``{"histories": [[...], ...]}`` plus ``k`` in,
top-``k`` items per user or history out.

The serving shape every domain has (see :mod:`suite.serve.spec`): request and response
models, ``to_inputs``, ``predict``, ``to_response`` and ``example_request``. The
predictor takes strings (``user:<id>``, ``items:<a>|<b>``); this module writes them from
the request's lists. For the form of the served page (``page.js``), ``suggest`` offers known
users and catalogue titles as they are typed (``GET /suggest``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from suite.serve.schemas import Text
from suite.serve.spec import plain_predict

HISTORY_SEPARATOR = "|"    # how the predictor's ``items:`` strings separate items
PAGE_SCRIPT = "page.js"    # the form of suite serve's page, beside this module
SUGGEST_FIELDS = ("users", "items")

History = Annotated[list[Text], Field(min_length=1, description="Item ids of the catalogue or free item texts, "
                                                                "oldest first.")]


def example_request() -> dict:
    """A valid one-history request for any catalogue (a free item text needs no known id)."""
    return {"histories": [["a quiet film about the sea"]], "k": 10}


class PredictRequest(BaseModel):
    """Users of the training data, or histories of items (one of the two), and how many items each."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [example_request()]})
    users: list[Text] | None = Field(None, min_length=1, description="User ids of the training data.")
    histories: list[History] | None = Field(None, min_length=1, description="Histories of users the model may "
                                                                             "never have seen.")
    k: int | None = Field(None, ge=1, le=1000, description="Items per user or history (default: the run's, 10).")

    @model_validator(mode="after")
    def _one_kind(self) -> PredictRequest:
        if (self.users is None) == (self.histories is None):
            raise ValueError("give either 'users' or 'histories' (one of the two)")
        for i, user in enumerate(self.users or []):
            if not user.strip():
                raise ValueError(f"users[{i}]: empty user id")
        for i, history in enumerate(self.histories or []):
            for j, item in enumerate(history):
                if not item.strip() or HISTORY_SEPARATOR in item:
                    raise ValueError(f"histories[{i}][{j}]: an item must be non-empty and hold no "
                                     f"'{HISTORY_SEPARATOR}'")
        return self


class Recommendation(BaseModel):
    item: str = Field(description="Catalogue item id.")
    text: str = Field(description="The item's text.")
    score: float = Field(description="The model's score of the item for the user (higher ranks first).")
    rated: bool | None = Field(None, description="Whether any user of the training data rated the item (false: "
                                                 "ranked by its text alone).")


class Prediction(BaseModel):
    input: str = Field(description="The predictor's input: user:<id> or items:<a>|<b>|...")
    user: str | None = Field(description="The user id, for a user request.")
    history: list[str] | None = Field(description="The history, for a history request.")
    recommendations: list[Recommendation] = Field(description="Best first; the user's known items are left out.")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per user or history, in order.")


def to_inputs(request: PredictRequest) -> tuple[list[str], dict]:
    """``user:<id>`` or ``items:<a>|<b>|...`` strings, and the option ``k``."""
    if request.users is not None:
        inputs = [f"user:{user.strip()}" for user in request.users]
    else:
        inputs = ["items:" + HISTORY_SEPARATOR.join(item.strip() for item in h) for h in request.histories]
    return inputs, {"k": request.k}


predict = plain_predict      # one batch: predictor.predict(inputs, **options)


def to_response(predictions: list[dict], request: PredictRequest) -> PredictResponse:
    """The response for one request's predictions."""
    return PredictResponse(predictions=[Prediction(**p) for p in predictions])


def suggest(predictor: Any, field: str, query: str, limit: int) -> list[dict]:
    """Up to ``limit`` known users (``field="users"``: ids that start with ``query``) or catalogue items
    (``"items"``: titles that hold ``query``, those that start with it first), as ``{"value", "label"}``."""
    needle = query.casefold()
    if field == "users":
        users = [u for u in predictor.histories if u.casefold().startswith(needle)]
        return [{"value": u, "label": f"{len(predictor.histories[u])} items rated"} for u in users[:limit]]
    found = [(not text.casefold().startswith(needle), j) for j, text in enumerate(predictor.item_texts)
             if needle in text.casefold()]
    return [{"value": predictor.item_ids[j], "label": predictor.item_texts[j]} for _, j in sorted(found)[:limit]]
