"""Files from the page, read and written as ``suite predict --input FILE [--output FILE]`` reads and writes them.

- ``POST /inputs?name=mail.eml`` (the file's bytes as the body): the inputs the domain's ``read_inputs``
  finds in it, ``{"inputs": [...]}``, for the page to send on to ``/predict``. Only the suffixes the domain's
  serving module lists in ``INPUT_FILE_SUFFIXES`` are taken (a domain whose inputs are file paths, such as
  images, lists none: its page sends the files' contents to ``/predict`` itself).
- ``POST /output`` (``{"name": "app.po", "content": base64, "predictions": [...]}``): the file the domain's
  ``write_output`` makes from it and ``/predict``'s answers (translation: the ``.po`` with its untranslated
  entries filled), as ``suite predict --input app.po --output filled.po`` writes it.

An upload lives in a temporary folder for the length of its request; the run folder is never written. Error
messages name the file as the client named it, never the temporary path.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError

from suite.core import registry
from suite.core.errors import DataError, SuiteError
from suite.core.inputs import Inputs
from suite.serve.errors import validation_message

_NAME = re.compile(r"^[\w][\w .()+,-]{0,150}$")


class FileInputs(BaseModel):
    inputs: list[str] = Field(description="The inputs found in the file, as suite predict --input reads them.")


class OutputRequest(BaseModel):
    name: str = Field(description="The file's name (its suffix picks the format, e.g. app.po).")
    content: str = Field(description="The file's bytes, base64.")
    predictions: list[dict[str, Any]] = Field(description="/predict's predictions for the file's inputs, in order.")


def add_file_routes(app: FastAPI, *, spec: Any, domain: Any, model_dir: Path, predictor: Callable[[], Any],
                    executor: Executor) -> None:
    """``POST /inputs`` and, for a domain that writes its own output format, ``POST /output``.

    Args:
        spec: the domain's serving module (``INPUT_FILE_SUFFIXES``, ``PredictResponse``).
        domain: the domain object (``read_inputs``; ``write_output`` where it is ``WritesOwnOutput``).
        model_dir: the run's model folder, for ``read_inputs``.
        predictor: returns the loaded predictor (answers 503 while it loads).
        executor: the predictor's one worker thread (``write_output`` may translate).
    """
    readable = tuple(getattr(spec, "INPUT_FILE_SUFFIXES", ()))

    @app.post("/inputs", response_model=FileInputs, responses={413: {"description": "body too large"},
                                                           422: {"description": "a file this model cannot read"}})
    async def read_file(request: Request, name: str = Query(description="the file's name, e.g. mail.eml")) -> dict:
        """The inputs in an uploaded file (the body), read as ``suite predict --input FILE`` reads it."""
        _require_suffix(name, readable, domain.name)
        data = await request.body()
        inputs = await asyncio.to_thread(_read_inputs, domain, model_dir, name, data)
        return {"inputs": [str(x) for x in inputs]}

    if not isinstance(domain, registry.WritesOwnOutput):
        return

    @app.post("/output", response_class=Response,
              responses={200: {"description": "the filled file"}, 413: {"description": "body too large"},
                         422: {"description": "a file or predictions this model cannot use"}})
    async def write_file(body: OutputRequest) -> Response:
        """The file ``suite predict --input NAME --output NAME`` writes, from the file and ``/predict``'s answers."""
        _require_suffix(body.name, tuple(domain.output_suffixes), domain.name)
        data = _base64(body.content)
        predictions = _predictions(spec, body.predictions)
        current = predictor()
        filled, summary = await asyncio.get_running_loop().run_in_executor(
            executor, _write_output, domain, model_dir, current, body.name, data, predictions)
        return Response(filled, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{body.name}"',
                                 "X-Suite-Summary": summary.encode("ascii", "replace").decode()})


def _require_suffix(name: str, suffixes: tuple[str, ...], domain: str) -> None:
    if not _NAME.match(name) or "/" in name or "\\" in name:
        raise DataError(f"file name '{name[:80]}': expected a plain file name such as app.po")
    suffix = Path(name).suffix.lower()
    if not suffixes:
        raise DataError(f"a {domain} model reads no files here; send its inputs to /predict")
    if suffix not in suffixes:
        raise DataError(f"{name}: a {domain} model takes {', '.join(suffixes)} files here, not "
                        f"'{suffix or 'no suffix'}'")


def _read_inputs(domain: Any, model_dir: Path, name: str, data: bytes) -> list:
    with _uploaded(name, data) as path:
        inputs = Inputs.of(domain.read_inputs(model_dir, inline=[], path=path), path)
    if not inputs:
        raise DataError(f"{name}: holds no inputs")
    return inputs.values


def _write_output(domain: Any, model_dir: Path, predictor: Any, name: str, data: bytes,
                  predictions: list[dict]) -> tuple[bytes, str]:
    with _uploaded(name, data) as path:
        domain.read_inputs(model_dir, inline=[], path=path)           # the checks suite predict makes first
        output = path.parent.parent / "out" / name
        output.parent.mkdir()
        summary = domain.write_output(predictor, predictions, output, input=path)
        return output.read_bytes(), _scrub(summary, path.parent.parent)


@contextmanager
def _uploaded(name: str, data: bytes) -> Iterator[Path]:
    """``data`` as the file ``name`` in a temporary folder; a SuiteError raised inside names the file, not
    the folder."""
    with tempfile.TemporaryDirectory(prefix="suite-serve-") as folder:
        path = Path(folder) / "in" / name
        path.parent.mkdir()
        path.write_bytes(data)
        try:
            yield path
        except SuiteError as error:
            raise type(error)(_scrub(str(error), Path(folder))) from None


def _scrub(message: str, folder: Path) -> str:
    return re.sub(re.escape(str(folder)) + r"[/\\](in|out)[/\\]", "", message)


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text.split(",", 1)[1] if text.startswith("data:") else text, validate=True)
    except (binascii.Error, ValueError):
        raise DataError("content: not valid base64") from None


def _predictions(spec: Any, predictions: list[dict]) -> list[dict]:
    """The predictions as the domain's response model reads them (what /predict answered), as plain dicts."""
    try:
        response = spec.PredictResponse.model_validate({"predictions": predictions})
    except ValidationError as error:
        raise DataError(validation_message(list(error.errors()))[1]) from None
    return [p.model_dump() for p in response.predictions]
