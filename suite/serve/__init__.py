"""Serve a finished run over HTTP: ``suite serve RUN_DIR`` or ``suite.serve.serve(run_dir)``.

The package names no domain: it finds a run's request and response models through
:func:`suite.serve.spec.serving_spec` (``suite/<domain>/serving.py``).

- ``serve(run_dir, *, host, port, max_batch, max_wait_ms, max_body_bytes)``: run the server
  (uvicorn) until SIGTERM;
- ``create_app(run_dir, ...)``: the FastAPI app, for tests or another ASGI server;
- ``add_serve_parser(subparsers)``: the ``suite serve`` subcommand for ``suite/cli.py``.

Importing this package loads only the standard library; FastAPI loads with ``create_app``.
"""

from __future__ import annotations

from typing import Any

from suite.serve.cli import add_serve_parser
from suite.serve.server import serve

__all__ = ["serve", "create_app", "add_serve_parser"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from suite.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'suite.serve' has no attribute '{name}'")
