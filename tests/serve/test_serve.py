"""``suite serve``: every domain's tiny run behind a real HTTP server, called with a real client.

The server must answer what ``suite.load(run).predict`` answers, refuse bad requests
with a status and one line while it keeps serving, merge concurrent requests into
batches, leave the run folder as it was, and let an in-flight request finish on SIGTERM.
"""

import base64
import io
import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from live_server import LiveServer, wait_healthy

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane


def folder_listing(path):
    return sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob("*"))


@pytest.fixture(scope="module")
def listings_before_serving(serve_runs):
    return {domain: folder_listing(path) for domain, path in serve_runs.items()}


@pytest.fixture(scope="module")
def live(serve_runs, listings_before_serving):
    """``live(domain, **settings)``: a started server for that domain's tiny run, shared by the module's tests."""
    servers = {}

    def get(domain, **settings):
        key = (domain, tuple(sorted(settings.items())))
        if key not in servers:
            servers[key] = LiveServer(serve_runs[domain], **settings).start()
        return servers[key]

    yield get
    for server in servers.values():
        server.stop()


TEXTS = {"spam": ["WIN a FREE cruise!!! Click now", "Minutes of Tuesday's meeting attached", "cheap meds"],
         "translation": ["Delete %(name)s?", "Save changes", "{0} files selected"]}


def png_base64(image: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def sample_images():
    rng = np.random.default_rng(0)
    return [(rng.random((48, 48)) * 255).astype(np.uint8), (rng.random((40, 56, 3)) * 255).astype(np.uint8)]


def assert_same(served, expected):
    """Equal JSON, floats to 1e-6 (a float that went through JSON may differ in its last bit)."""
    if isinstance(expected, float):
        assert math.isclose(served, expected, abs_tol=1e-6), (served, expected)
    elif isinstance(expected, dict):
        assert set(served) == set(expected), (served, expected)
        for key in expected:
            assert_same(served[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(served) == len(expected)
        for a, b in zip(served, expected):
            assert_same(a, b)
    else:
        assert served == expected


def post(server, body, **kwargs):
    return httpx.post(f"{server.url}/predict", json=body, timeout=60, **kwargs)


# -- the same answers as suite.load(run).predict -----------------------------------------------
@pytest.mark.parametrize("domain", ["spam", "translation"])
def test_texts_are_predicted_as_the_predictor_does(live, predictors, domain):
    response = post(live(domain), {"texts": TEXTS[domain]})
    assert response.status_code == 200, response.text
    assert_same(response.json()["predictions"], predictors(domain).predict(TEXTS[domain]))


def test_recommendations_for_users_and_histories(live, predictors):
    predictor = predictors("recommendation")
    users = list(predictor.histories)[:2]
    response = post(live("recommendation"), {"users": users, "k": 3})
    assert response.status_code == 200, response.text
    assert_same(response.json()["predictions"], predictor.predict([f"user:{u}" for u in users], k=3))
    histories = [predictor.item_ids[:2], ["a quiet film about the sea"]]
    response = post(live("recommendation"), {"histories": histories})
    assert response.status_code == 200, response.text
    expected = predictor.predict(["items:" + "|".join(h) for h in histories])
    assert_same(response.json()["predictions"], expected)
    assert all(len(p["recommendations"]) == 10 for p in response.json()["predictions"])


def test_images_are_predicted_as_the_predictor_does_and_saliency_comes_inline(live, predictors):
    from PIL import Image

    images = sample_images()
    server = live("diagnostics")
    response = post(server, {"images": [png_base64(im) for im in images]})
    assert response.status_code == 200, response.text
    served = [{k: v for k, v in p.items() if k != "saliency"} for p in response.json()["predictions"]]
    assert_same(served, predictors("diagnostics").predict(images))
    response = post(server, {"images": [png_base64(images[1])], "saliency": True})
    assert response.status_code == 200, response.text
    saliency = Image.open(io.BytesIO(base64.b64decode(response.json()["predictions"][0]["saliency"])))
    assert saliency.format == "PNG" and saliency.size[0] >= 16


# -- health, info, schema -------------------------------------------------------------------------
@pytest.mark.parametrize("domain", ["spam", "recommendation", "translation", "diagnostics"])
def test_health_and_info_describe_the_run(live, serve_runs, domain):
    server = live(domain)
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    info = httpx.get(f"{server.url}/info").json()
    metrics = json.loads((serve_runs[domain] / "metrics.json").read_text())
    assert (info["domain"], info["recipe"], info["model_loaded"]) == (domain, "tiny", True)
    assert info["metrics"][metrics["primary_metric"]] == metrics["models"]["tuned"][metrics["primary_metric"]]
    assert "torch" in info["packages"] and info["max_batch"] == 32
    assert (info["threshold"] is not None) == (domain in ("spam", "diagnostics"))


def test_the_saved_hybrid_is_served_as_suite_load_gives_it(live, serve_runs):
    import suite

    server = live("spam", system="hybrid")
    response = post(server, {"texts": TEXTS["spam"]})
    assert response.status_code == 200, response.text
    hybrid = suite.load(serve_runs["spam"], system="hybrid")
    assert_same(response.json()["predictions"], hybrid.predict(TEXTS["spam"]))
    info = httpx.get(f"{server.url}/info").json()
    metrics = json.loads((serve_runs["spam"] / "metrics.json").read_text())
    assert info["system"] == "hybrid" and info["threshold"] == hybrid.threshold
    assert info["metrics"]["f1"] == metrics["models"]["hybrid"]["f1"]


def test_openapi_schema_names_the_domain_fields(live):
    schema = httpx.get(f"{live('recommendation').url}/openapi.json").json()
    request = schema["components"]["schemas"]["PredictRequest"]["properties"]
    assert {"users", "histories", "k"} <= set(request)


def test_health_is_503_until_the_model_has_loaded(serve_runs):
    import suite

    release = threading.Event()

    def slow_loader(run_dir):
        release.wait(60)
        return suite.load(run_dir)

    server = LiveServer(serve_runs["spam"], loader=slow_loader).start(wait_for_model=False)
    try:
        health = httpx.get(f"{server.url}/health")
        assert health.status_code == 503 and "loading" in health.json()["detail"]
        assert post(server, {"texts": ["hello"]}).status_code == 503
        assert httpx.get(f"{server.url}/info").json()["model_loaded"] is False
        release.set()
        wait_healthy(server.url, timeout=60)
        assert post(server, {"texts": ["hello"]}).status_code == 200
    finally:
        release.set()
        server.stop()


def test_a_model_that_fails_to_load_is_reported(serve_runs):
    from suite import DataError

    failures = []

    def broken_loader(run_dir):
        raise DataError(f"{run_dir}/model: weights missing")

    server = LiveServer(serve_runs["spam"], loader=broken_loader, on_load_error=failures.append)
    server.start(wait_for_model=False)
    try:
        wait_until(lambda: failures)
        health = httpx.get(f"{server.url}/health")
        assert health.status_code == 503 and health.json()["detail"].startswith("the model failed to load: ")
        assert failures == [f"{serve_runs['spam']}/model: weights missing"]
    finally:
        server.stop()


# -- bad requests: a status, one line, and the server keeps serving ---------------------------------
BAD = [
    ("spam", b'{"texts": ["unclosed"', 400, "malformed JSON"),
    ("spam", b'{"texts": "one string"}', 422, "texts: Input should be a valid list"),
    ("spam", b'{"texts": [1, 2]}', 422, "texts[0]: Input should be a valid string"),
    ("spam", b'{"texts": []}', 422, "texts: List should have at least 1 item"),
    ("spam", b'{"text": ["typo"]}', 422, "texts: Field required"),
    ("spam", b'[1, 2]', 422, "expected a JSON object body"),
    ("spam", b'{"texts": ["\\ud800"]}', 422, "texts[0]: not valid Unicode text"),
    ("translation", b'{"texts": ["Save", "  "]}', 422, "texts[1]: empty string: nothing to translate"),
    ("recommendation", b'{"users": ["no-such-user"]}', 422, "unknown user 'no-such-user'"),
    ("recommendation", b'{}', 422, "give either 'users' or 'histories'"),
    ("recommendation", b'{"histories": [["x"]], "k": 0}', 422, "k: Input should be greater than or equal to 1"),
    ("recommendation", b'{"histories": [["a|b"]]}', 422, "histories[0][0]: an item must be non-empty"),
    ("diagnostics", b'{"images": ["not base64!"]}', 422, "images[0]: not valid base64"),
    ("diagnostics", b'{"images": ["aGVsbG8gd29ybGQ="]}', 422, "images[0]: not a PNG or JPEG image"),
    ("diagnostics", b'{"images": ["/etc/passwd"]}', 422, "images[0]: not"),
]
GOOD = {"spam": {"texts": ["hello"]}, "translation": {"texts": ["Save"]},
        "recommendation": {"histories": [["x"]]}, "diagnostics": None}


@pytest.mark.parametrize("domain,body,status,message", BAD, ids=[f"{d}-{i}" for i, (d, *_) in enumerate(BAD)])
def test_bad_request_gets_its_status_and_one_line(live, domain, body, status, message):
    server = live(domain)
    response = httpx.post(f"{server.url}/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and message in detail, detail
    good = GOOD[domain] or {"images": [png_base64(sample_images()[0])]}
    assert post(server, good).status_code == 200


def test_one_bad_request_in_a_shared_batch_fails_alone(live, predictors):
    server = live("recommendation", max_wait_ms=200)
    known = list(predictors("recommendation").histories)
    bodies = [{"users": [known[0]]}, {"users": ["no-such-user"]}, {"users": [known[1]]}]
    with ThreadPoolExecutor(len(bodies)) as pool:
        statuses = [r.status_code for r in pool.map(lambda body: post(server, body), bodies)]
    assert statuses == [200, 422, 200]


def test_a_10_mb_body_gets_413_and_the_server_keeps_serving(live):
    server = live("spam")
    try:
        response = httpx.post(f"{server.url}/predict", content=b'{"texts": ["' + b"a" * 10_000_000 + b'"]}',
                              headers={"content-type": "application/json"}, timeout=60)
        assert response.status_code == 413 and "limit is 1000000 bytes" in response.json()["detail"]
    except (httpx.RemoteProtocolError, httpx.WriteError):
        # The server answers 413 and closes without reading the 10 MB; when the client is still sending,
        # the peer's reset can destroy the answer before it is read (RFC 9112, section 9.6). Either way the
        # body was refused unread, and the server must go on serving (below).
        pass
    chunks = iter([b'{"texts": ["'] + [b"a" * 100_000] * 20 + [b'"]}'])        # no Content-Length: counted
    response = httpx.post(f"{server.url}/predict", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert post(server, {"texts": ["hello"]}).status_code == 200


# -- micro-batching ---------------------------------------------------------------------------------
@pytest.mark.parametrize("max_batch", [32, 1])
def test_concurrent_requests_share_batches_unless_batching_is_off(live, predictors, max_batch):
    server = live("spam", max_batch=max_batch, max_wait_ms=50)
    texts = [f"message number {i}: WIN money now" if i % 2 else f"meeting {i} moved" for i in range(16)]
    start = threading.Barrier(len(texts))

    def one(text):
        start.wait()
        return post(server, {"texts": [text]})

    with ThreadPoolExecutor(len(texts)) as pool:
        responses = list(pool.map(one, texts))
    expected = predictors("spam").predict(texts)
    for response, want in zip(responses, expected):
        assert response.status_code == 200     # padding differs with the batch: equal to float precision
        assert abs(response.json()["predictions"][0]["spam_probability"] - want["spam_probability"]) < 1e-4
    stats = httpx.get(f"{server.url}/stats").json()
    assert stats["requests"] == len(texts) and stats["in_flight"] == 0
    assert (stats["largest_batch"] > 1) == (max_batch > 1), stats
    assert stats["largest_batch"] <= max_batch


# -- graceful shutdown ------------------------------------------------------------------------------
@pytest.mark.slow
def test_sigterm_lets_the_in_flight_request_finish(serve_runs):
    process = subprocess.Popen([sys.executable, "-m", "suite.serve", str(serve_runs["translation"]), "--port", "0",
                                "--max-batch", "1"], stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        url = server_url(process)
        wait_healthy(url)
        texts = [f"Delete {i} files from %(name)s?" for i in range(40)]      # 40 batches of 1: a few seconds
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(httpx.post, f"{url}/predict", json={"texts": texts}, timeout=120)
            wait_until(lambda: httpx.get(f"{url}/stats").json()["in_flight"] == 1)
            process.send_signal(signal.SIGTERM)
            response = pending.result()
        assert response.status_code == 200 and len(response.json()["predictions"]) == len(texts)
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)      # uvicorn re-raises the signal it handled
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/health", timeout=5)
    finally:
        process.kill()
        process.wait()


def server_url(process, timeout=120):
    """The address the server prints on start (``--port 0`` picks a free port), waiting at most ``timeout``
    seconds for it even if the server prints nothing more."""
    lines = queue.Queue()

    def read():                      # keeps the pipe drained after the address, too
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"the server did not say where it listens within {timeout} s") from None
        if line is None:
            raise AssertionError(f"the server exited with {process.wait()} before it started")
        found = re.search(r"serving \S+ on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return found.group(1)


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- the serving contract ---------------------------------------------------------------------------
@pytest.mark.parametrize("domain", ["spam", "recommendation", "translation", "diagnostics"])
def test_each_domain_example_request_is_valid(live, domain):
    from suite.serve.spec import serving_spec

    response = post(live(domain), serving_spec(domain).example_request())
    assert response.status_code == 200 and len(response.json()["predictions"]) == 1, response.text


@pytest.mark.parametrize("domain", ["spam", "recommendation", "translation", "diagnostics"])
def test_serving_leaves_the_run_folder_as_it_was(live, listings_before_serving, serve_runs, domain):
    live(domain)
    assert folder_listing(serve_runs[domain]) == listings_before_serving[domain]


def test_loadtest_table_has_both_settings_side_by_side():
    from suite.serve.loadtest import markdown_table, percentile

    assert percentile([0.1, 0.2, 0.3, 0.4], 50) == 0.2 and percentile([0.1, 0.2, 0.3, 0.4], 99) == 0.4
    cell = {"rps": 10.0, "p50": 1.0, "p99": 2.0, "mean_batch": 1.0}
    table = markdown_table({(s, c): cell for s in ("on", "off") for c in (1, 8)}, [1, 8]).splitlines()
    assert "req/s (on)" in table[0] and "req/s (off)" in table[0] and len(table) == 4


def test_accepted_connections_send_small_answers_at_once():
    """The listener is a TCP socket by its protocol number, so asyncio turns Nagle off (TCP_NODELAY) on
    every connection: without it each answer on a kept-alive connection waited ~40 ms for a delayed ACK."""
    import asyncio

    from suite.serve.server import bind

    async def nodelay_of_an_accepted_connection() -> int:
        accepted = asyncio.get_running_loop().create_future()

        def on_connect(reader, writer):
            accepted.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=bind("127.0.0.1", 0))
        async with server:
            _, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
            flag = await asyncio.wait_for(accepted, 30)
            writer.close()
        return flag

    assert asyncio.run(nodelay_of_an_accepted_connection()) != 0


def test_the_load_generator_counts_answers_and_batches(live):
    import asyncio

    from suite.serve.loadtest import measure

    server = live("spam")
    result = asyncio.run(measure(server.url, {"texts": ["cheap meds now"]}, requests=24, concurrency=8))
    assert result["rps"] > 0 and 0 < result["p50"] <= result["p99"]
    assert 1 <= result["mean_batch"] <= 8                  # eight clients: at most eight per batch
    with pytest.raises(RuntimeError, match="/predict answered 422"):
        asyncio.run(measure(server.url, {"texts": []}, requests=2, concurrency=1))


def test_a_domain_without_a_serving_module_is_refused_clearly():
    from toy_domain import TOY

    from suite.core import registry
    from suite.serve.spec import ServeError, serving_spec

    registry.register(TOY)                       # a domain that declares no serving module
    with pytest.raises(ServeError, match=r"domain 'toy' cannot be served: it names no serving module"):
        serving_spec("toy")


def test_serve_subcommand_parses_its_options():
    import argparse

    from suite.serve.cli import add_serve_parser, run_serve

    parser = argparse.ArgumentParser(prog="suite")
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "runs/x", "--port", "9000", "--max-batch", "1", "--max-wait-ms", "0"])
    assert (args.run_dir, args.host, args.port, args.max_batch, args.max_wait_ms) == ("runs/x", "127.0.0.1", 9000,
                                                                                      1, 0.0)
    assert args.handler is run_serve


# -- the work of one request is bounded -------------------------------------------------------------
class _Slow:
    """A loaded predictor whose every batch takes ``seconds`` longer, to hold work in the queue."""

    def __init__(self, predictor, seconds):
        self._predictor, self._seconds, self.calls = predictor, seconds, 0

    def __getattr__(self, name):
        return getattr(self._predictor, name)

    def predict(self, inputs, **options):
        self.calls += 1
        time.sleep(self._seconds)
        return self._predictor.predict(inputs, **options)


def test_a_request_over_the_input_cap_gets_413_naming_the_option(live):
    server = live("spam", max_inputs=4)
    answer = post(server, {"texts": ["hello"] * 5})
    assert answer.status_code == 413
    assert answer.json()["detail"] == "5 inputs in one request; the limit is 4 (suite serve --max-inputs)"
    assert post(server, {"texts": ["hello"] * 4}).status_code == 200


def test_health_is_degraded_while_the_queue_is_past_its_bound_and_work_of_a_client_that_left_is_dropped(serve_runs):
    import suite

    slow = {}

    def loader(run_dir):
        slow["predictor"] = _Slow(suite.load(run_dir), 0.3)
        return slow["predictor"]

    server = LiveServer(serve_runs["spam"], loader=loader, max_batch=1, max_queue=3).start()
    client = ThreadPoolExecutor(1)
    try:       # 40 inputs, one per batch: ~12 s; the client leaves after 3 s
        leaving = client.submit(httpx.post, f"{server.url}/predict", json={"texts": ["hello"] * 40}, timeout=3.0)
        time.sleep(1.0)
        health = httpx.get(f"{server.url}/health")
        assert health.status_code == 503 and health.json()["detail"].startswith("degraded: "), health.text
        with pytest.raises(httpx.ReadTimeout):
            leaving.result()
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/stats").json()["dropped"] < 1:
            assert time.monotonic() < deadline, "the work of the client that left was not dropped"
            time.sleep(0.1)
        time.sleep(1.0)
        assert slow["predictor"].calls < 20                     # the rest of the 40 never ran
        wait_healthy(server.url, timeout=10)
        assert httpx.get(f"{server.url}/stats").json()["queued"] == 0
    finally:
        client.shutdown()
        server.stop()
