"""A reference proxy for bench/gateway.py: the gateway's server stack with none of its work.

The same server (uvicorn with uvloop and httptools) and the same upstream
client as the gateway, but no authentication, parsing, guard, evidence or
drift: it forwards the body and returns the answer. Its added latency is the
floor for any Python proxy built this way on the machine that runs the bench.

    ASSAY_PASSTHROUGH_UPSTREAM=http://127.0.0.1:8001 \
        python -m uvicorn --app-dir bench passthrough:app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from assay.gateway.upstream import Upstream

Message = dict[str, Any]

UPSTREAM = os.environ.get("ASSAY_PASSTHROUGH_UPSTREAM", "http://127.0.0.1:8001")
_client = Upstream(timeout=60)


Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            reply = {"lifespan.startup": "startup", "lifespan.shutdown": "shutdown"}
            await send({"type": f"lifespan.{reply[message['type']]}.complete"})
            if message["type"] == "lifespan.shutdown":
                await _client.close()
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = await _client.request(
        scope["method"], UPSTREAM + scope["path"], {"content-type": "application/json"},
        body or None,
    )
    await send({"type": "http.response.start", "status": answer.status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer.content})
