"""A real server for tests: ``create_app(run_dir, **settings)`` under uvicorn in a thread, on a free localhost port
(tests/serve/test_serve.py, tests/serve/test_page.py)."""

import threading
import time

import httpx


class LiveServer:
    """``create_app(run_dir, **settings)`` served by uvicorn in a thread; ``url`` is its address."""

    def __init__(self, run_dir, **settings):
        import uvicorn

        from suite.serve import create_app
        from suite.serve.server import bind

        self.socket = bind("127.0.0.1", 0)          # the listener suite serve makes
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(run_dir, **settings), log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self, *, wait_for_model: bool = True) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        if wait_for_model:
            wait_healthy(self.url)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.socket.close()


def wait_healthy(url: str, timeout: float = 120) -> None:
    """Poll ``/health`` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy in {timeout} s")
