"""What one request may cost: the server's settings checked in range, and the request-size limit.

:class:`ServeLimits` holds the settings that bound the work (``--max-batch``, ``--max-wait-ms``,
``--max-body-bytes``, ``--max-inputs``, ``--max-queue``), each refused outside its range in one
line before anything loads. :class:`BodySizeLimit` is a plain ASGI middleware that answers 413
before a large body is read: a declared ``Content-Length`` over the limit is refused at once; a
chunked body is counted as it streams and refused as soon as it passes the limit, so the server
never holds more than ``max_body_bytes`` of one request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any

from suite.serve.spec import ServeError

DEFAULT_MAX_BODY_BYTES = 1_000_000
DEFAULT_MAX_INPUTS = 1024       # inputs in one request: 1,024 short mails take ~10 s on two cores
DEFAULT_MAX_QUEUE = 4096        # inputs waiting: past it /health says degraded


@dataclass(frozen=True)
class ServeLimits:
    """The work one server takes on, and its ranges (``--max-batch`` ...); :meth:`check` refuses a value outside."""

    max_batch: int = 32
    max_wait_ms: float = 5.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_inputs: int = DEFAULT_MAX_INPUTS
    max_queue: int = DEFAULT_MAX_QUEUE

    RANGES = {"max_batch": (1, 4096), "max_wait_ms": (0, 10_000), "max_body_bytes": (1, 2 ** 30),
              "max_inputs": (1, 10 ** 6), "max_queue": (1, 10 ** 7)}

    def check(self) -> ServeLimits:
        """Return self, or raise :class:`ServeError` naming the first option out of range (``--max-wait-ms inf``
        would leave a lone request unanswered and hang the shutdown).

        Raises:
            ServeError: one line naming the option.
        """
        for f in fields(self):
            value, (low, high) = getattr(self, f.name), self.RANGES[f.name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not low <= value <= high or (f.type == "int" and value != int(value)):
                raise ServeError(f"--{f.name.replace('_', '-')}: expected a number from {low:,} to {high:,}, "
                                 f"got {value}")
        return self

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BodySizeLimit:
    """Refuse HTTP request bodies over ``max_body_bytes`` with 413 and a one-line JSON ``detail``.

    Args:
        app: the ASGI application to protect.
        max_body_bytes: the largest body accepted, in bytes.
    """

    def __init__(self, app: Any, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(send)
            return
        received, refused = 0, False

        async def counting_receive() -> dict:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes and not refused:
                    refused = True
                    await self._refuse(send)
            return {"type": "http.disconnect"} if refused else message   # the app stops reading

        async def guarded_send(message: dict) -> None:
            if not refused:       # after the 413 the app's own answer is dropped
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body too large: the limit is {self.max_body_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
