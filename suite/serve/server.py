"""``serve()``: run the app of :mod:`suite.serve.app` under uvicorn until SIGTERM or Ctrl-C.

Only the standard library is imported at module level, so ``import suite.serve`` stays
cheap; FastAPI and uvicorn load when a server starts.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

from suite.serve.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_INPUTS, DEFAULT_MAX_QUEUE
from suite.serve.spec import ServeError


def serve(run_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8000, max_batch: int = 32,
          max_wait_ms: float = 5, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_inputs: int = DEFAULT_MAX_INPUTS,
          max_queue: int = DEFAULT_MAX_QUEUE, log_level: str = "info", system: str = "tuned",
          engine: str = "torch") -> None:
    """Serve a finished run over HTTP until the process gets SIGTERM or SIGINT.

    ``POST /predict`` takes the domain's request (spam: ``{"texts": [...]}``); ``GET
    /health`` answers 503 until the model has loaded, then 200; ``GET /info`` describes the
    run; ``GET /stats`` shows the micro-batcher's batch sizes; ``/docs`` is the OpenAPI page.
    On SIGTERM the server stops accepting connections and lets in-flight requests finish
    (uvicorn's graceful shutdown), then exits.

    Args:
        run_dir: a finished run folder; it is only read.
        host: the address to bind; the default answers this machine only. The API has no
            authentication: bind another address only behind a proxy that adds it.
        port: the TCP port (0 picks a free one).
        max_batch: most inputs per predictor call; 1 turns micro-batching off.
        max_wait_ms: how long a request waits for others to share its batch.
        max_body_bytes: larger request bodies are refused with 413.
        max_inputs: a request with more inputs is refused with 413.
        max_queue: with more inputs waiting, ``/health`` answers 503 "degraded".
        log_level: uvicorn's log level (``info`` logs one line per request).
        system: ``tuned``, or ``hybrid``: the run's saved hybrid (see :func:`suite.load`).
        engine: ``torch``, or ``onnx``: the run's ONNX export (``run_dir`` may then be an exported folder).

    Raises:
        RunError: not a run folder, or the run has not finished.
        ServeError: the run's domain cannot be served, a setting is out of range, the
            address cannot be bound (a port in use), or the model failed to load.

    Example:
        >>> from suite.serve import serve
        >>> serve("runs/spam-tiny-20261126-140201", port=8000)   # blocks until SIGTERM or Ctrl-C
        >>> # curl -s localhost:8000/predict -H 'content-type: application/json' -d '{"texts": ["WIN a FREE cruise"]}'
    """
    import uvicorn

    from suite.serve.app import create_app

    failures: list[str] = []

    def stop_serving(message: str) -> None:       # a model that cannot load ends the server, with its reason
        failures.append(message)
        server.should_exit = True

    app = create_app(run_dir, max_batch=max_batch, max_wait_ms=max_wait_ms, max_body_bytes=max_body_bytes,
                     max_inputs=max_inputs, max_queue=max_queue, on_load_error=stop_serving, system=system,
                     engine=engine)
    listener = bind(host, port)
    if not _is_loopback(host):
        print(f"warning: serving on {host}, reachable from other machines; the API has no authentication",
              file=sys.stderr)
    bound = listener.getsockname()[1]
    url = f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
    print(f"serving {Path(run_dir).name} on {url}, its {system} system with {engine} (POST /predict; GET /health, "
          "/info, /stats, "
          "/docs); SIGTERM or Ctrl-C stops it", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound, log_level=log_level))
    server.run(sockets=[listener])
    if failures:
        raise ServeError(f"the model failed to load: {failures[0]}")


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one), for uvicorn to listen on.

    Raises:
        ServeError: the address cannot be bound (a port in use, an unknown host).
    """
    # proto IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every answer on a kept-alive connection waits ~40 ms for the client's delayed ACK (Nagle)
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return listener


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
