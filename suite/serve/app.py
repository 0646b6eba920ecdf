"""The HTTP app that puts one finished run behind ``/predict``, ``/health``, ``/info`` and ``/stats``,
and a page to try it at ``/`` (:mod:`suite.serve.page`).

Why FastAPI: the request and response of ``/predict`` are pydantic models that each
domain declares once, and FastAPI turns the same models into request validation (a
wrong field is refused with its name before the model sees it) and into the OpenAPI
schema (``/openapi.json``, ``/docs``). Its endpoints are ``async``, so hundreds of waiting
requests cost no thread each while the micro-batcher gathers them; it runs on uvicorn,
whose SIGTERM handling lets in-flight requests finish; and its middleware and exception
handlers are public Starlette APIs. Flask (WSGI: a thread per waiting request, no schema)
and model servers with their own packaging formats (TorchServe, BentoML, Ray Serve) fit
less well for one run folder on a CPU.

The run folder is only read: the model once, in the background after start-up (``/health``
answers 503 until then), and ``metrics.json`` / ``environment.json`` for ``/info``.
Requests carry their inputs in the body, never paths, so no request makes the server
open another file.
"""

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from suite.core.errors import SuiteError
from suite.core.results import TUNED
from suite.serve.batcher import MicroBatcher
from suite.serve.errors import install_handlers, one_line
from suite.serve.info import run_info, threshold_of
from suite.serve.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_INPUTS, DEFAULT_MAX_QUEUE, BodySizeLimit, ServeLimits
from suite.serve.page import add_page_routes
from suite.serve.schemas import Health, Info, Stats
from suite.serve.spec import serving_spec

log = logging.getLogger("suite.serve")


class _Model:
    """The predictor, loaded once in the background; ``get()`` answers 503 until it is ready."""

    def __init__(self, run_dir: Path, loader: Callable[[Path], Any], on_load_error: Callable[[str], None] | None):
        self.run_dir, self.loader, self.on_load_error = run_dir, loader, on_load_error
        self.predictor: Any = None
        self.error: str | None = None

    def load(self) -> None:
        try:
            self.predictor = self.loader(self.run_dir)
            log.info("model of %s loaded", self.run_dir)
        except Exception as error:  # noqa: BLE001 - reported by /health and on_load_error
            self.error = one_line(str(error) if isinstance(error, SuiteError) else
                                  f"{type(error).__name__}: {error}")
            log.error("the model of %s failed to load: %s", self.run_dir, self.error)
            if self.on_load_error is not None:
                self.on_load_error(self.error)

    def get(self) -> Any:
        if self.predictor is not None:
            return self.predictor
        detail = f"the model failed to load: {self.error}" if self.error else "the model is loading; retry shortly"
        raise HTTPException(status_code=503, detail=detail, headers={"Retry-After": "1"})


def create_app(run_dir: str | Path, *, max_batch: int = 32, max_wait_ms: float = 5,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_inputs: int = DEFAULT_MAX_INPUTS,
               max_queue: int = DEFAULT_MAX_QUEUE, loader: Callable[[Path], Any] | None = None,
               on_load_error: Callable[[str], None] | None = None, system: str = TUNED,
               engine: str = "torch") -> FastAPI:
    """The FastAPI app serving the finished run in ``run_dir`` (uvicorn runs it; see :func:`suite.serve.serve`).

    Args:
        run_dir: a finished run folder (it holds metrics.json), or with ``engine="onnx"`` an exported folder;
            opened read-only.
        max_batch: most inputs per predictor call; 1 turns micro-batching off.
        max_wait_ms: how long a request waits for others to share its batch.
        max_body_bytes: larger request bodies are refused with 413.
        max_inputs: a request with more inputs is refused with 413, naming ``--max-inputs``.
        max_queue: while more inputs than this wait, ``/health`` answers 503 "degraded".
        loader: what loads the predictor from ``run_dir`` (default :func:`suite.load`).
        on_load_error: called (on the worker thread) with a one-line message if loading
            fails; without it the server stays up and ``/health`` reports the failure.
        system: ``tuned``, or ``hybrid``: the run's saved hybrid (checked here, before anything loads).
        engine: ``torch``, or ``onnx``: the run's ONNX export run by ONNX Runtime (see :func:`suite.load`).

    Raises:
        RunError: not a run folder, the run has not finished, it saved no hybrid (``system="hybrid"``), or it has no
            ONNX export (``engine="onnx"``).
        ModelSourceError: the ONNX export's graph is corrupted.
        ServeError: the run's domain cannot be served, or a setting is out of range.

    Example:
        >>> app = create_app("runs/spam-tiny-20261126-140201", max_batch=16)
        >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    limits = ServeLimits(max_batch=max_batch, max_wait_ms=max_wait_ms, max_body_bytes=max_body_bytes,
                         max_inputs=max_inputs, max_queue=max_queue).check()
    from suite.core import actions

    source = actions.open_source(run_dir, engine=engine, system=system)
    info = run_info(source, system, engine)
    spec = serving_spec(info["domain"])
    if loader is None:
        loader = functools.partial(actions.load, system=system, engine=engine)
    model = _Model(source.path, loader, on_load_error)
    batcher = MicroBatcher(lambda inputs, options: spec.predict(model.predictor, inputs, options),
                           max_batch=max_batch, max_wait_ms=max_wait_ms)
    settings = {"max_batch": max_batch, "max_wait_ms": max_wait_ms, "max_body_bytes": max_body_bytes,
                "max_inputs": max_inputs, "max_queue": max_queue}

    page = source.run is not None          # the page shows a run's card; an exported folder has none
    app = FastAPI(title=f"suite: {info['domain']} ({info['run']})", version=_version(),
                  description=f"Predictions of the finished run {info['run']} ({info['domain']}, "
                              f"recipe {info['recipe']}).", lifespan=_lifespan(model, batcher),
                  # /docs: suite.serve.page's listing (FastAPI's own page needs a CDN)
                  **({"docs_url": None, "redoc_url": None} if page else {}))
    app.add_middleware(BodySizeLimit, max_body_bytes=max_body_bytes)
    install_handlers(app)
    _add_status_routes(app, model, batcher, {**info, **settings}, limits)
    _add_predict_route(app, spec, model, batcher, limits)
    if page:
        add_page_routes(app, run=source.run, system=system, spec=spec, predictor=model.get,
                        executor=batcher.executor, max_body_bytes=max_body_bytes)
    return app


def _lifespan(model: _Model, batcher: MicroBatcher):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        loading = asyncio.get_running_loop().run_in_executor(batcher.executor, model.load)  # same thread as predict
        yield
        await asyncio.gather(loading, return_exceptions=True)
        await batcher.stop()

    return lifespan


def _add_status_routes(app: FastAPI, model: _Model, batcher: MicroBatcher, info: dict, limits: ServeLimits) -> None:
    @app.get("/health", response_model=Health, responses={503: {"description": "not loaded, or degraded"}})
    async def health() -> dict:
        """200 once the model has loaded; 503 while it loads (or if it failed to load), and 503 "degraded" while
        more inputs wait than ``--max-queue``."""
        model.get()
        queued = batcher.stats.queued
        if queued > limits.max_queue:
            raise HTTPException(status_code=503, headers={"Retry-After": "1"},
                                detail=f"degraded: {queued:,} inputs wait, more than the {limits.max_queue:,} of "
                                       f"suite serve --max-queue")
        return {"status": "ok"}

    @app.get("/info", response_model=Info)
    async def run_information() -> dict:
        """The run: domain, recipe, headline metrics of the tuned system, threshold, package versions."""
        loaded = model.predictor is not None
        return {**info, "model_loaded": loaded, "threshold": threshold_of(model.predictor) if loaded else None}

    @app.get("/stats", response_model=Stats)
    async def stats() -> dict:
        """Requests served and the batch sizes the micro-batcher formed."""
        return batcher.stats.to_dict()


def _add_predict_route(app: FastAPI, spec: Any, model: _Model, batcher: MicroBatcher, limits: ServeLimits) -> None:
    request_model, response_model = spec.PredictRequest, spec.PredictResponse

    async def predict(request: request_model, connection: Request) -> Any:   # the domain's own models
        model.get()
        inputs, options = spec.to_inputs(request)
        if len(inputs) > limits.max_inputs:
            raise HTTPException(status_code=413, detail=f"{len(inputs):,} inputs in one request; the limit is "
                                                        f"{limits.max_inputs:,} (suite serve --max-inputs)")
        predictions = await _unless_client_leaves(batcher.submit(inputs, options), connection, batcher)
        return spec.to_response(predictions, request)

    predict.__doc__ = (spec.__doc__ or "Predictions for the inputs of the request.").strip().splitlines()[0]
    app.add_api_route("/predict", predict, methods=["POST"], response_model=response_model,
                      responses={400: {"description": "malformed JSON"}, 413: {"description": "body too large"},
                                 422: {"description": "invalid request, or inputs the model cannot take"},
                                 503: {"description": "the model is not loaded yet"}})


async def _unless_client_leaves(work: Any, connection: Request, batcher: MicroBatcher, poll_s: float = 0.25) -> Any:
    """Await ``work``, but drop it when the client disconnects: its inputs not yet in a batch are never run."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=poll_s)
        if done:
            return task.result()
        if await connection.is_disconnected():
            task.cancel()
            batcher.stats.dropped += 1
            raise HTTPException(status_code=499, detail="the client disconnected; its work was dropped")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("suite")
    except metadata.PackageNotFoundError:
        return "unknown"
