"""``suite serve RUN_DIR``: the command-line entry, for ``suite/cli.py`` and ``python -m suite.serve``.

Imports nothing heavy: building the ``suite`` parser must not load FastAPI or torch.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suite.arguments import add_engine_argument, add_system_argument
from suite.core.errors import SuiteError
from suite.serve.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_INPUTS, DEFAULT_MAX_QUEUE, ServeLimits


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to the ``suite`` command's subcommands; its handler is :func:`run_serve`.

    Args:
        subparsers: what ``ArgumentParser.add_subparsers()`` returned.

    Example:
        >>> parser = argparse.ArgumentParser(prog="suite")
        >>> serve_parser = add_serve_parser(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["serve", "runs/x", "--port", "9000"]).port
        9000
    """
    parser = subparsers.add_parser("serve", help="put a finished run behind an HTTP API (POST /predict)",
                                   description="Serve a finished run over HTTP: POST /predict, GET /health, "
                                               "/info, /stats, /docs. Stops gracefully on SIGTERM or Ctrl-C.")
    add_arguments(parser)
    parser.set_defaults(handler=run_serve)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``suite serve`` on ``parser``."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder, or with --engine onnx a folder "
                                                           "'suite export --format onnx' wrote (only read)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--max-batch", type=int, default=32, help="most inputs per model call; 1 turns "
                                                                  "micro-batching off (default 32)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0,
                        help="how long a request waits for others to share its batch (default 5)")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES,
                        help=f"larger request bodies get 413 (default {DEFAULT_MAX_BODY_BYTES})")
    parser.add_argument("--max-inputs", type=int, default=DEFAULT_MAX_INPUTS,
                        help=f"a request with more inputs gets 413 (default {DEFAULT_MAX_INPUTS})")
    parser.add_argument("--max-queue", type=int, default=DEFAULT_MAX_QUEUE,
                        help=f"with more inputs waiting, GET /health answers 503 'degraded' (default "
                             f"{DEFAULT_MAX_QUEUE})")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                        help="server log level (default info: one line per request)")
    add_system_argument(parser)
    add_engine_argument(parser)


def run_serve(args: argparse.Namespace) -> int:
    """Handler of ``suite serve``: serve until SIGTERM or Ctrl-C; returns the exit status.

    Raises:
        SuiteError: a bad run folder or setting (the ``suite`` command prints it as one line).
    """
    from suite.serve.server import serve

    if not 0 <= args.port <= 65535:
        raise SuiteError(f"--port: expected 0..65535, got {args.port}")
    limits = ServeLimits(max_batch=args.max_batch, max_wait_ms=args.max_wait_ms, max_body_bytes=args.max_body_bytes,
                         max_inputs=args.max_inputs, max_queue=args.max_queue).check()
    serve(args.run_dir, host=args.host, port=args.port, log_level=args.log_level, system=args.system,
          engine=args.engine, **vars(limits))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m suite.serve RUN_DIR [options]``: the same as ``suite serve``."""
    parser = argparse.ArgumentParser(prog="python -m suite.serve", description="Serve a finished run over HTTP.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_serve(args)
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
