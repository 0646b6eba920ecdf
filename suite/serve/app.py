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

from fastapi import FastAPI, HTTPException

from suite.core import saved_hybrid
from suite.core.errors import SuiteError
from suite.core.results import HYBRID, TUNED
from suite.core.runs import Run
from suite.serve.batcher import MicroBatcher
from suite.serve.errors import install_handlers, one_line
from suite.serve.info import run_info, threshold_of
from suite.serve.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit
from suite.serve.page import add_page_routes
from suite.serve.schemas import Health, Info, Stats
from suite.serve.spec import ServeError, serving_spec

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
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, loader: Callable[[Path], Any] | None = None,
               on_load_error: Callable[[str], None] | None = None, system: str = TUNED) -> FastAPI:
    """The FastAPI app serving the finished run in ``run_dir`` (uvicorn runs it; see :func:`suite.serve.serve`).

    Args:
        run_dir: a finished run folder (it holds metrics.json); opened read-only.
        max_batch: most inputs per predictor call; 1 turns micro-batching off.
        max_wait_ms: how long a request waits for others to share its batch.
        max_body_bytes: larger request bodies are refused with 413.
        loader: what loads the predictor from ``run_dir`` (default :func:`suite.load`).
        on_load_error: called (on the worker thread) with a one-line message if loading
            fails; without it the server stays up and ``/health`` reports the failure.
        system: ``tuned``, or ``hybrid``: the run's saved hybrid (checked here, before anything loads).

    Raises:
        RunError: not a run folder, the run has not finished, or it saved no hybrid (``system="hybrid"``).
        ServeError: the run's domain cannot be served, or a setting is out of range.

    Example:
        >>> app = create_app("runs/spam-tiny-20261126-140201", max_batch=16)
        >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    if max_batch < 1 or max_wait_ms < 0 or max_body_bytes < 1:
        raise ServeError(f"max_batch must be >= 1, max_wait_ms >= 0 and max_body_bytes >= 1 "
                         f"(got {max_batch}, {max_wait_ms}, {max_body_bytes})")
    run = Run.open(run_dir)
    run.require_complete()
    if system == HYBRID:
        saved_hybrid.require(run.path)
    info = run_info(run, system)
    spec = serving_spec(info["domain"])
    if loader is None:
        from suite.core import actions

        loader = functools.partial(actions.load, system=system)
    model = _Model(run.path, loader, on_load_error)
    batcher = MicroBatcher(lambda inputs, options: spec.predict(model.predictor, inputs, options),
                           max_batch=max_batch, max_wait_ms=max_wait_ms)
    settings = {"max_batch": max_batch, "max_wait_ms": max_wait_ms, "max_body_bytes": max_body_bytes}

    app = FastAPI(title=f"suite: {info['domain']} ({run.path.name})", version=_version(),
                  description=f"Predictions of the finished run {run.path.name} ({info['domain']}, "
                              f"recipe {info['recipe']}).", lifespan=_lifespan(model, batcher),
                  docs_url=None, redoc_url=None)        # /docs: suite.serve.page's listing (FastAPI's needs a CDN)
    app.add_middleware(BodySizeLimit, max_body_bytes=max_body_bytes)
    install_handlers(app)
    _add_status_routes(app, model, batcher, {**info, **settings})
    _add_predict_route(app, spec, model, batcher)
    add_page_routes(app, run=run, system=system, spec=spec, predictor=model.get, executor=batcher.executor,
                    max_body_bytes=max_body_bytes)
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


def _add_status_routes(app: FastAPI, model: _Model, batcher: MicroBatcher, info: dict) -> None:
    @app.get("/health", response_model=Health, responses={503: {"description": "the model is not loaded"}})
    async def health() -> dict:
        """200 once the model has loaded; 503 while it loads (or if it failed to load)."""
        model.get()
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


def _add_predict_route(app: FastAPI, spec: Any, model: _Model, batcher: MicroBatcher) -> None:
    request_model, response_model = spec.PredictRequest, spec.PredictResponse

    async def predict(request: request_model) -> Any:   # the domain's own models: validation and schema
        model.get()
        inputs, options = spec.to_inputs(request)
        predictions = await batcher.submit(inputs, options)
        return spec.to_response(predictions, request)

    predict.__doc__ = (spec.__doc__ or "Predictions for the inputs of the request.").strip().splitlines()[0]
    app.add_api_route("/predict", predict, methods=["POST"], response_model=response_model,
                      responses={400: {"description": "malformed JSON"}, 413: {"description": "body too large"},
                                 422: {"description": "invalid request, or inputs the model cannot take"},
                                 503: {"description": "the model is not loaded yet"}})


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("suite")
    except metadata.PackageNotFoundError:
        return "unknown"
