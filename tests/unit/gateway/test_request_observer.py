"""RequestObserver: one x-request-id per response, the app's own kept under another name."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from assay.ops.requests import RequestObserver, current_request_id


async def _echo(_request: Request) -> Response:
    return Response(str(current_request_id()), headers={"x-request-id": "upstream-1"})


def test_one_request_id_per_response() -> None:
    app = Starlette(routes=[Route("/x", _echo)])
    app.add_middleware(RequestObserver)
    response = TestClient(app).get("/x", headers={"x-request-id": "mine"})
    assert response.headers.get_list("x-request-id") == ["mine"]
    assert response.headers["x-upstream-request-id"] == "upstream-1"
    assert response.text == "mine"  # the handler sees the id through the context variable


def test_a_client_chosen_model_name_cannot_forge_log_lines() -> None:
    from assay.gateway.observe import _plain

    assert _plain("gpt-4o-mini") == "gpt-4o-mini"
    assert _plain("x\nlevel=error forged") == "x?level?error forged"
    assert len(_plain("m" * 500)) == 100
