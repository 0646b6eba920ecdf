"""Error answers: every failed request gets a status and ``{"detail": "<one line>"}``; the server keeps serving.

- malformed JSON: 400;
- a body of the wrong shape (missing field, wrong type, empty list): 422, naming the field;
- input the model cannot take (the suite's :class:`SuiteError`: an unknown user, an
  undecodable image): 422 with the suite's own one-line message;
- a bug: 500 ``internal error`` (the traceback goes to the server log, never to the client).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from suite.core.errors import SuiteError

log = logging.getLogger("suite.serve")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def validation_message(errors: list[dict]) -> tuple[int, str]:
    """The status and one-line message for pydantic/FastAPI validation errors (the first error named)."""
    first = errors[0] if errors else {"msg": "invalid request", "loc": ()}
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "JSON decode error")
        return 400, f"malformed JSON: {reason} (at character {_last(first.get('loc'))})"
    where = _location(first.get("loc") or ())
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") in ("model_attributes_type", "dict_type") and not where:
        message = "expected a JSON object body (Content-Type: application/json)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return 422, one_line(f"{where + ': ' if where else ''}{message}{more}")


def _location(loc: tuple) -> str:
    parts = [p for p in loc if p != "body"]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _last(loc: Any) -> Any:
    return loc[-1] if loc else "?"


def install_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        status, message = validation_message(list(error.errors()))
        return JSONResponse({"detail": message}, status_code=status)

    @app.exception_handler(SuiteError)
    async def _rejected(request: Request, error: SuiteError) -> JSONResponse:
        return JSONResponse({"detail": one_line(str(error))}, status_code=422)

    @app.exception_handler(Exception)
    async def _bug(request: Request, error: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=error)
        return JSONResponse({"detail": "internal error (see the server log)"}, status_code=500)
