"""A deterministic OpenAI-compatible server for tests, demos and benchmarks.

It answers with the deliberately vulnerable :class:`DemoChatbot` (so it can leak
its canary and fake secret when attacked) — or, when the request declares
``tools``, with the deliberately vulnerable :class:`DemoAgentModel` (it obeys
instructions found in tool results and tool descriptions) — streams like OpenAI,
and can be told to misbehave per request with headers:

* ``x-fake-status: 429|500|503`` — answer with that error (and a retry-after);
* ``x-fake-stall: SECONDS`` — wait before answering (``LOW-HIGH``: a wait
  drawn uniformly from that range, from a seeded generator, as a model's
  answer time varies);
* ``x-fake-die-after: N`` — stream N chunks, then drop the connection;
* ``x-fake-pace: SECONDS`` — wait that long before each streamed chunk (a slow stream);
* ``x-fake-reply: TEXT`` — answer exactly TEXT (for output-guard tests);
* ``x-fake-tools: N`` — answer with an assistant message asking for N tool calls
  (``get_weather``; for the gateway's tool-policy benchmark).

The same directives work inside the model name, so they pass through a
gateway untouched: ``assay-demo-1:status=500``, ``…:stall=2``,
``…:die-after=3``, ``…:tools=3`` (several joined with ``,``; ``reply=TEXT`` comes last and
may itself contain commas).

For tests it also records the last request bodies it received
(``app.state.received``) and their ``x-request-id`` headers (``app.state.request_ids``),
and answers chat completions with scripted
assistant messages when ``app.state.messages`` is set — one choice per message,
with any of ``content``, ``refusal``, ``reasoning_content``, ``tool_calls`` and the
legacy ``function_call`` (finish reason ``tool_calls`` when it calls a tool), or a
function of the request body returning such a list (an agent's turn-by-turn script);
streamed, each text field (and each tool call's ``arguments``) arrives in 8-character
deltas and the choices' events interleave.

Spec: OpenAI Chat Completions, Completions, Embeddings and Models (the JSON
and SSE shapes that the official ``openai`` client parses).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import math
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from assay.redteam.demo_agent import DemoAgentModel
from assay.redteam.demo_target import DemoChatbot

__all__ = ["MODEL", "chunk_text", "create_fake_upstream", "tool_calls_message"]

MODEL = "assay-demo-1"
_AGENT = DemoAgentModel()
_EMBED_DIM = 64


def chunk_text(text: str, size: int = 8) -> list[str]:
    """Split a reply into stream deltas of ``size`` characters (deterministic)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _usage(prompt: str, reply: str) -> dict[str, int]:
    p, c = max(1, len(prompt) // 4), max(1, len(reply) // 4)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _embedding(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest() * 2
    vector = [(b - 127.5) / 127.5 for b in digest[:_EMBED_DIM]]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _directives(request: Request, body: dict[str, Any]) -> dict[str, str]:
    """Misbehaviour asked for by ``x-fake-*`` headers or the model name's suffix."""
    found: dict[str, str] = {}
    _, _, suffix = str(body.get("model", "")).partition(":")
    suffix, _, reply = suffix.partition("reply=")  # reply= is last and keeps its commas
    if reply:
        found["reply"] = reply
    for item in filter(None, suffix.split(",")):
        name, _, value = item.partition("=")
        found[name.strip()] = value.strip()
    for name in ("status", "stall", "die-after", "pace", "reply", "tools"):
        header = request.headers.get(f"x-fake-{name}")
        if header is not None:
            found[name] = header
    return found


def _stall_seconds(value: str, rng: random.Random) -> float:
    low, _, high = value.partition("-")
    return rng.uniform(float(low), float(high)) if high else float(low)


async def _misbehave(request: Request, body: dict[str, Any]) -> Response | None:
    directives = _directives(request, body)
    stall = directives.get("stall")
    if stall:
        await asyncio.sleep(_stall_seconds(stall, request.app.state.rng))
    status = directives.get("status")
    if status:
        return JSONResponse(
            {"error": {"message": f"fake upstream error {status}", "type": "server_error"}},
            status_code=int(status),
            headers={"retry-after": "1", "x-fake-upstream": "1"},
        )
    return None


def _reply(
    request: Request, body: dict[str, Any], messages: list[dict[str, str]], bot: DemoChatbot
) -> str:
    forced = _directives(request, body).get("reply")
    return forced if forced is not None else bot.reply(messages)


async def _chat(request: Request) -> Response:
    request.app.state.received.append(await request.body())
    request.app.state.request_ids.append(request.headers.get("x-request-id"))
    body = await request.json()
    if (error := await _misbehave(request, body)) is not None:
        return error
    scripted = request.app.state.messages
    if callable(scripted):  # a script that answers per request (agent loops in tests)
        scripted = scripted(body)
    calls = _directives(request, body).get("tools")
    if scripted is None and calls:
        scripted = [tool_calls_message(int(calls))]
    if scripted is None and isinstance(body.get("tools"), list) and body["tools"]:
        # a client that declares tools gets the deliberately vulnerable demo agent model
        scripted = [_AGENT.reply(body.get("messages") or [], body["tools"])]
    if scripted is not None:
        return _scripted(scripted, bool(body.get("stream")))
    messages = body.get("messages") or []
    reply = _reply(request, body, messages, request.app.state.bot)
    prompt = " ".join(str(m.get("content", "")) for m in messages)
    ident = "chatcmpl-" + hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    if body.get("stream"):
        directives = _directives(request, body)
        die_after = directives.get("die-after")
        pace = float(directives.get("pace") or 0)
        return StreamingResponse(
            _chat_stream(ident, reply, int(die_after) if die_after else None, pace),
            media_type="text/event-stream",
        )
    return JSONResponse(
        {
            "id": ident,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", MODEL),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(prompt, reply),
        }
    )


async def _chat_stream(
    ident: str, reply: str, die_after: int | None, pace: float = 0.0
) -> AsyncIterator[bytes]:
    created = int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    yield event({"role": "assistant", "content": ""})
    for n, piece in enumerate(chunk_text(reply)):
        if die_after is not None and n >= die_after:
            raise ConnectionResetError("fake upstream dropped the stream")
        yield event({"content": piece})
        await asyncio.sleep(pace)
    yield event({}, "stop")
    yield b"data: [DONE]\n\n"


def tool_calls_message(count: int) -> dict[str, Any]:
    """An assistant message asking for ``count`` ordinary tool calls (``tools=N``)."""
    cities = ("Paris", "Oslo", "Lisbon", "Kyoto", "Lima", "Accra")
    calls = [{"id": f"call_{i}", "type": "function", "function": {
        "name": "get_weather",
        "arguments": json.dumps({"city": cities[i % len(cities)], "unit": "celsius",
                                 "days": 1 + i % 5})}} for i in range(max(0, min(count, 64)))]
    return {"content": None, "tool_calls": calls}


def _scripted(messages: list[dict[str, Any]], stream: bool) -> Response:
    """Answer with the scripted assistant messages, one choice each."""
    if not stream:
        choices = [{"index": i, "message": _message(m), "finish_reason": _finish(m),
                    "logprobs": _logprobs(m)} for i, m in enumerate(messages)]
        answer = {"id": "chatcmpl-scripted", "object": "chat.completion", "created": 0,
                  "model": MODEL, "choices": choices}
        return Response(json.dumps(answer).encode(), media_type="application/json")
    return StreamingResponse(_scripted_stream(messages), media_type="text/event-stream")


def _finish(scripted: Any) -> str:
    calls = isinstance(scripted, dict) and (scripted.get("tool_calls")
                                            or scripted.get("function_call"))
    return "tool_calls" if calls else "stop"


def _message(scripted: Any) -> Any:
    """A scripted message as the answer's message (``logprobs: true`` asks for token
    log-probabilities of its content, on the choice)."""
    if not isinstance(scripted, dict):
        return scripted
    return {"role": "assistant", **{k: v for k, v in scripted.items() if k != "logprobs"}}


def _logprobs(scripted: Any, text: str | None = None) -> dict[str, Any] | None:
    if not isinstance(scripted, dict) or not scripted.get("logprobs"):
        return None
    text = text if text is not None else str(scripted.get("content") or "")
    return {"content": [{"token": piece, "logprob": -0.1, "bytes": None, "top_logprobs": []}
                        for piece in chunk_text(text, 4)]}


def _scripted_deltas(message: dict[str, Any]) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [{"role": "assistant"}]
    for key in ("reasoning_content", "content", "refusal"):
        if isinstance(message.get(key), str):
            deltas += [{key: piece} for piece in chunk_text(message[key])]
    for j, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        deltas.append({"tool_calls": [{"index": j, "id": call.get("id", f"call_{j}"),
                                       "type": "function", "function": {
                                           "name": function["name"], "arguments": ""}}]})
        deltas += [{"tool_calls": [{"index": j, "function": {"arguments": piece}}]}
                   for piece in chunk_text(function["arguments"])]
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        deltas.append({"function_call": {"name": legacy["name"], "arguments": ""}})
        deltas += [{"function_call": {"arguments": piece}}
                   for piece in chunk_text(legacy["arguments"])]
    return deltas


async def _scripted_stream(messages: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    streams = [_scripted_deltas(m) for m in messages]
    for n in range(max(map(len, streams)) + 1):
        for i, deltas in enumerate(streams):
            if n < len(deltas):
                text = deltas[n].get("content")
                choice = {"index": i, "delta": deltas[n], "finish_reason": None,
                          "logprobs": _logprobs(messages[i], text) if text else None}
            elif n == len(deltas):
                reason = _finish(messages[i])
                choice = {"index": i, "delta": {}, "finish_reason": reason}
            else:
                continue
            chunk = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk",
                     "created": 0, "model": MODEL, "choices": [choice]}
            yield f"data: {json.dumps(chunk)}\n\n".encode()
    yield b"data: [DONE]\n\n"


async def _completions(request: Request) -> Response:
    request.app.state.received.append(await request.body())
    request.app.state.request_ids.append(request.headers.get("x-request-id"))
    body = await request.json()
    if (error := await _misbehave(request, body)) is not None:
        return error
    prompt = body.get("prompt", "")
    prompt = prompt if isinstance(prompt, str) else " ".join(map(str, prompt))
    reply = _reply(request, body, [{"role": "user", "content": prompt}], request.app.state.bot)
    digest = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()
    return JSONResponse(
        {
            "id": "cmpl-" + digest[:24],
            "object": "text_completion",
            "created": int(time.time()),
            "model": body.get("model", MODEL),
            "choices": [{"index": 0, "text": reply, "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(prompt, reply),
        }
    )


async def _embeddings(request: Request) -> Response:
    request.app.state.received.append(await request.body())
    request.app.state.request_ids.append(request.headers.get("x-request-id"))
    body = await request.json()
    if (error := await _misbehave(request, body)) is not None:
        return error
    inputs = body.get("input", "")
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": _embedding(t)}
                for i, t in enumerate(texts)
            ],
            "model": body.get("model", MODEL),
            "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
        }
    )


async def _models(_request: Request) -> Response:
    return JSONResponse(
        {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "assay"}],
        }
    )


def create_fake_upstream() -> Starlette:
    """The ASGI app; run it with uvicorn (``assay gateway fake-upstream``)."""
    app = Starlette(
        routes=[
            Route("/v1/chat/completions", _chat, methods=["POST"]),
            Route("/v1/completions", _completions, methods=["POST"]),
            Route("/v1/embeddings", _embeddings, methods=["POST"]),
            Route("/v1/models", _models, methods=["GET"]),
        ]
    )
    app.state.bot = DemoChatbot()
    app.state.rng = random.Random(0)  # noqa: S311 -- stall times, reproducible run to run
    app.state.received = collections.deque(maxlen=16)  # the last request bodies (tests)
    app.state.request_ids = collections.deque(maxlen=16)  # their x-request-id headers
    app.state.messages = None  # scripted answers (tests); see the module docstring
    return app
