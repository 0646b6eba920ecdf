"""The request-size limit: a plain ASGI middleware that answers 413 before a large body is read.

A declared ``Content-Length`` over the limit is refused at once; a chunked body is
counted as it streams and refused as soon as it passes the limit, so the server never
holds more than ``max_body_bytes`` of one request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1_000_000

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
