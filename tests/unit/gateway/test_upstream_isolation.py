"""One upstream session serves every client: nothing one client's call left behind (a
cookie the upstream set) may ride along on another client's request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from assay.aims import add_system
from assay.gateway import GatewaySettings, create_gateway
from assay.gateway.keys import create_key
from assay.gateway.local import LocalServer
from assay.workspace import Workspace

SEEN: list[str | None] = []


async def _chat(request: Request) -> JSONResponse:
    SEEN.append(request.headers.get("cookie"))
    response = JSONResponse({
        "id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "hello"}}],
    })
    response.set_cookie("upstream_session", "tenant-a-secret")
    return response


@pytest.fixture
def gateway_url(workspace: Workspace) -> Iterator[tuple[str, str]]:
    upstream = LocalServer(Starlette(routes=[Route("/v1/chat/completions", _chat,
                                                   methods=["POST"])]))
    add_system(workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="CX",
               actor="t")
    key = create_key(workspace.store, workspace.ledger, name="k", system="bot", actor="t",
                     policy="off")
    # a host name, not an IP: cookie jars keep cookies only for named hosts
    named = upstream.url.replace("127.0.0.1", "localhost")
    server = LocalServer(create_gateway(workspace, GatewaySettings(policy="off", upstream=named)))
    yield f"{server.url}/v1/chat/completions", key
    server.stop()
    upstream.stop()


def test_upstream_cookies_are_not_replayed_on_later_requests(
    gateway_url: tuple[str, str],
) -> None:
    url, key = gateway_url
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    SEEN.clear()
    for _ in range(2):
        reply = httpx.post(url, json=body, headers={"authorization": f"Bearer {key}"})
        assert reply.status_code == 200
    assert SEEN == [None, None]
