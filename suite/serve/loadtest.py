"""A bounded load test of ``suite serve`` on this machine: micro-batching on and off (or two engines), side by side.

For each setting (``max_batch`` 32 and 1; with ``--engines torch,onnx`` the PyTorch model and
the run's ONNX export, both batching) it starts ``python -m suite.serve RUN_DIR`` on a
free 127.0.0.1 port, sends ``--requests`` one-input requests (the domain's
``example_request``) at each concurrency (1, 8, 32 clients, each sending its next request
when the previous one is answered), stops the server and prints one Markdown table:
requests per second, p50 and p99 latency, and the mean batch the server formed.

It only talks to the server it started, on the loopback address, and every loop is
bounded by ``--requests``. The server inherits this process's environment (set
``OMP_NUM_THREADS`` to fix its torch threads).

Example::

    python -m suite.serve.loadtest runs/spam-tiny-20261126-140201 --requests 400
    python -m suite.serve.loadtest runs/spam-tiny-20261126-140201 --requests 400 --engines torch,onnx
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from suite.core.errors import SuiteError

SETTINGS = (("on", 32, "torch"), ("off", 1, "torch"))      # (label, max_batch, engine)
MAX_REQUESTS = 100_000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server(run_dir: Path, *, max_batch: int, max_wait_ms: float, engine: str = "torch",
           start_timeout: float = 300) -> Iterator[str]:
    """A ``python -m suite.serve`` subprocess on 127.0.0.1; yields its URL once ``/health`` is 200."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "suite.serve", str(run_dir), "--host", "127.0.0.1", "--port", str(port),
               "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms), "--log-level", "warning",
               "--engine", engine]
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                last = ([line for line in log.read().splitlines() if line.strip()] or ["(no output)"])[-1]
                raise RuntimeError(f"the server exited with status {process.returncode}: {last}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not become healthy in {start_timeout} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class _Connection:
    """One kept-alive HTTP/1.1 connection that POSTs JSON and reads the answer: a load generator as lean as
    the standard library allows, because it shares the machine's cores with the server it measures (httpx's
    async client cost about as much CPU per request as the server itself)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> _Connection:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        return cls(*await asyncio.open_connection(host.strip("[]"), int(port)))

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """Status and body of ``POST path`` (the server answers with a Content-Length, as uvicorn does)."""
        self.writer.write(f"POST {path} HTTP/1.1\r\nhost: loadtest\r\ncontent-type: application/json\r\n"
                          f"content-length: {len(body)}\r\n\r\n".encode() + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        if "content-length" not in headers:
            raise RuntimeError(f"{path} answered without a Content-Length: {head[0]}")
        return int(head[0].split()[1]), await self.reader.readexactly(int(headers["content-length"]))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def measure(url: str, body: dict, *, requests: int, concurrency: int) -> dict:
    """Send ``requests`` requests from ``concurrency`` clients; requests/s and latency percentiles (ms).

    Each client holds one kept-alive connection and sends its next request when the previous
    one is answered.

    Raises:
        RuntimeError: a request did not answer 200.
    """
    import httpx

    latencies: list[float] = []
    left, payload = requests, json.dumps(body).encode()

    async def client() -> None:
        nonlocal left
        connection = await _Connection.open(url)
        try:
            while left > 0:
                left -= 1
                start = time.perf_counter()
                status, answer = await connection.post("/predict", payload)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    raise RuntimeError(f"/predict answered {status}: {answer[:200].decode(errors='replace')}")
        finally:
            await connection.close()

    before = httpx.get(f"{url}/stats", timeout=30).json()
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    after = httpx.get(f"{url}/stats", timeout=30).json()
    latencies.sort()
    batches = max(after["batches"] - before["batches"], 1)
    return {"rps": requests / elapsed, "p50": 1000 * percentile(latencies, 50), "p99": 1000 * percentile(latencies, 99),
            "mean_batch": (after["inputs"] - before["inputs"]) / batches}


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-th percentile of sorted values (nearest rank)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def run(run_dir: Path, *, requests: int, concurrencies: list[int], max_wait_ms: float,
        settings: tuple = SETTINGS) -> dict:
    """Results by (setting label, concurrency): each setting on the same run, one after the other."""
    from suite.core.actions import open_source
    from suite.serve.spec import serving_spec

    engines = {engine for _, _, engine in settings}
    domain = {engine: open_source(run_dir, engine=engine).domain for engine in engines}   # refused before starting
    body = serving_spec(next(iter(domain.values()))).example_request()
    results = {}
    for label, max_batch, engine in settings:
        with server(run_dir, max_batch=max_batch, max_wait_ms=max_wait_ms, engine=engine) as url:
            asyncio.run(measure(url, body, requests=min(requests, 8), concurrency=1))      # warm-up
            for concurrency in concurrencies:
                results[label, concurrency] = asyncio.run(measure(url, body, requests=requests,
                                                                  concurrency=concurrency))
    return results


def engine_settings(engines: str) -> tuple:
    """``"torch,onnx"`` -> one batching setting per engine, labelled by it."""
    names = [name.strip() for name in engines.split(",") if name.strip()]
    return tuple((name, 32, name) for name in names)


def markdown_table(results: dict, concurrencies: list[int], settings: tuple = SETTINGS) -> str:
    """One row per concurrency; the settings side by side."""
    head = ["clients"] + [f"{name} ({label})" for label, *_ in settings
                          for name in ("req/s", "p50 ms", "p99 ms", "mean batch")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for concurrency in concurrencies:
        cells = [str(concurrency)]
        for label, *_ in settings:
            r = results[label, concurrency]
            cells += [f"{r['rps']:.1f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}", f"{r['mean_batch']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m suite.serve.loadtest RUN_DIR --requests N``: print the Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m suite.serve.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run folder")
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency and setting")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated client counts (default 1,8,32)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="the batching server's max_wait_ms")
    parser.add_argument("--engines", help="compare engines instead of batching on and off, each batching: torch,onnx "
                                          "(onnx: the run's newest ONNX export, see suite export --format onnx)")
    args = parser.parse_args(argv)
    settings = engine_settings(args.engines) if args.engines else SETTINGS
    if any(engine not in ("torch", "onnx") for _, _, engine in settings) or not settings:
        parser.error("--engines: expected a comma-separated list of torch and onnx")
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not 1 <= args.requests <= MAX_REQUESTS or not all(1 <= c <= 256 for c in concurrencies):
        parser.error(f"--requests must be in 1..{MAX_REQUESTS} and each concurrency in 1..256")
    try:
        results = run(args.run_dir, requests=args.requests, concurrencies=concurrencies,
                      max_wait_ms=args.max_wait_ms, settings=settings)
    except (SuiteError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.run_dir.name}: {args.requests} one-input requests per cell, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, max_wait_ms={args.max_wait_ms}\n")
    print(markdown_table(results, concurrencies, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
