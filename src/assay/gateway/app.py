"""The OpenAI-compatible gateway: authenticate, guard input, call upstream, guard output.

Spec: OpenAI Chat Completions (JSON and SSE streaming), Completions,
Embeddings and Models. A block answers the OpenAI error shape with
``code: content_filter`` (HTTP 400), or for a stream an SSE error event and no
``[DONE]``. Upstream 429/5xx pass through with their headers. Every decision
becomes ``assay.dev/guard-decision/v1`` evidence through the ledger batcher;
the request path never waits on the database for it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from assay.drift import DriftMonitor
from assay.errors import AssayError
from assay.gateway.evidence import DecisionRecorder
from assay.gateway.guarding import (
    Decision,
    GuardPort,
    Origin,
    combined,
    load_guard,
    worst,
)
from assay.gateway.keys import KeyBinding, find_key, list_keys, resolve_credential
from assay.gateway.streaming import StreamGuard, parse_sse, sse_event
from assay.gateway.telemetry import Telemetry
from assay.gateway.upstream import Reply, StreamReply, Upstream, UpstreamError
from assay.guard.verdict import drift_signals
from assay.workspace import Workspace

__all__ = ["GatewaySettings", "create_gateway"]

#: What is sent upstream: re-encoded data when the guard changed it, else the raw bytes.
Payload = dict[str, Any] | bytes

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)


@dataclass
class GatewaySettings:
    """Defaults for keys that do not name their own policy or upstream."""

    policy: str | None = "default"
    upstream: str = "http://127.0.0.1:8001"
    upstream_credential: str | None = None
    body_limit: int = 10 * 1024 * 1024
    upstream_timeout: float = 60.0
    key_cache_seconds: float = 1.0
    store_content: bool = False
    record_drift_events: bool = False
    otlp_endpoint: str | None = None


@dataclass
class _Call:
    """One request's context, threaded through the handler's steps."""

    binding: KeyBinding
    guard: GuardPort
    upstream: str
    credential: str | None
    system_prompt: str | None = None
    model: str = ""
    usage: dict[str, Any] | None = None
    decisions: list[Decision] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    raw_body: bytes = b""  # the request as received: forwarded as is when nothing changed
    guard_ms: float = 0.0


def _error(
    message: str, status: int, code: str, kind: str = "invalid_request_error"
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


class Gateway:
    """Shared state of one gateway process (thread-safe by being async-only)."""

    def __init__(self, workspace: Workspace, settings: GatewaySettings) -> None:
        self.workspace = workspace
        self.settings = settings
        self.recorder = DecisionRecorder(workspace, store_content=settings.store_content)
        self.drift = DriftMonitor.from_workspace(
            workspace, batcher=self.recorder.writer, record=settings.record_drift_events
        )
        self._guards: dict[str | None, GuardPort] = {}
        self.drift_tap: Callable[[dict[str, Any]], None] | None = None  # sees every drift event
        self._keys: dict[str, tuple[float, KeyBinding | None]] = {}
        self.upstream = Upstream(settings.upstream_timeout)
        self.telemetry = Telemetry(settings.otlp_endpoint)

    def use_guard(self, policy: str, guard: GuardPort) -> None:
        """Serve ``policy`` with an already-built guard (embedding, tests)."""
        self._guards[policy] = guard

    def warm(self) -> None:
        """Build now every guard a live key can ask for, so that the first requests do not
        pay for loading models. A policy that fails to load is reported on its requests."""
        policies = {self.settings.policy} | {
            str(k["policy"]) for k in list_keys(self.workspace.store)
            if k["policy"] and not k["revoked"]
        }
        for policy in policies:
            with contextlib.suppress(AssayError, ImportError):
                self.guard_for(policy)

    def guard_for(self, policy: str | None) -> GuardPort:
        if policy not in self._guards:
            self._guards[policy] = load_guard(policy)
        return self._guards[policy]

    def binding(self, key: str) -> KeyBinding | None:
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is not None and now - cached[0] < self.settings.key_cache_seconds:
            return cached[1]
        found = find_key(self.workspace.store, key)
        self._keys[key] = (now, found)
        return found

    def observe(
        self, call: _Call, decisions: list[Decision], input_len: int, output_len: int
    ) -> None:
        """One drift event per request: guard scores, outcome, sizes and latency."""
        signals = drift_signals(
            (name for d in decisions for name in d.validators),
            ((f["validator"], f["score"]) for d in decisions for f in d.findings),
            blocked=any(d.action == "block" for d in decisions),
            redacted=any(d.action == "redact" for d in decisions),
            input_len=input_len, guard_ms=call.guard_ms)
        signals["output_len"] = float(output_len)
        event = {"ts": time.time(), "system": call.binding.system, "signals": signals}
        self.drift.observe(event)
        if self.drift_tap is not None:
            self.drift_tap(event)

    def record(
        self,
        call: _Call,
        direction: str,
        decision: Decision,
        request_body: dict[str, Any] | None = None,
    ) -> None:
        """Evidence for one decision; the request's span collects it too."""
        call.decisions.append(decision)
        self.recorder.record(call.binding, direction, decision, request_body=request_body)

    async def close(self) -> None:
        self.telemetry.close()
        await self.upstream.close()
        self.drift.close()
        self.recorder.close()

    # -- request steps ----------------------------------------------------------

    async def authenticate(self, request: Request) -> _Call | Response:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else ""
        binding = self.binding(key) if key else None
        if binding is None:
            return _error(
                "invalid or revoked Assay gateway key: create one with `assay gateway keys create`",
                401,
                "invalid_api_key",
                "authentication_error",
            )
        try:
            credential = resolve_credential(
                binding.upstream_credential or self.settings.upstream_credential
            )
            guard = self.guard_for(binding.policy or self.settings.policy)
        except (AssayError, ImportError) as exc:
            return _error(str(exc), 500, "gateway_misconfigured", "server_error")
        call = _Call(binding, guard, binding.upstream or self.settings.upstream, credential)
        request.state.assay_call = call
        return call

    async def read_json(self, request: Request) -> tuple[dict[str, Any], bytes] | Response:
        """The request's JSON object and its raw bytes, or the error response."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.settings.body_limit:
            return _error(f"request body over {self.settings.body_limit} bytes", 413, "too_large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.settings.body_limit:
                return _error(
                    f"request body over {self.settings.body_limit} bytes", 413, "too_large"
                )
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(f"request body is not valid JSON: {exc}", 400, "invalid_json")
        if not isinstance(data, dict):
            return _error("request body must be a JSON object", 400, "invalid_json")
        return data, bytes(body)

    def upstream_headers(self, call: _Call) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if call.credential:
            headers["authorization"] = f"Bearer {call.credential}"
        return headers


def _completion(upstream: Reply) -> tuple[dict[str, Any], list[Any]] | Response:
    """The upstream's JSON and its choices; its error passed through, or a 502 if unreadable."""
    if upstream.status >= 400:
        return _passthrough(upstream.status, upstream.headers, upstream.content)
    try:
        data = json.loads(upstream.content)
        choices = data["choices"]
    except (ValueError, KeyError, TypeError):
        choices = None
    if not isinstance(choices, list):
        return _error(
            "the upstream answered with an unreadable body", 502, "bad_upstream", "server_error"
        )
    return data, choices


def _json_response(data: Any, original: bytes, changed: bool) -> Response:
    """The upstream's own bytes when the guard changed nothing (no re-encoding)."""
    if changed:
        return JSONResponse(data)
    return Response(original, media_type="application/json")


def _passthrough(status: int, headers: dict[str, str], content: bytes) -> Response:
    kept = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
    return Response(content, status_code=status, headers=kept)


def _upstream_failed(error: UpstreamError) -> JSONResponse:
    if error.kind == "timeout":
        return _error("the upstream model timed out", 504, "upstream_timeout", "server_error")
    return _error(
        f"the upstream model is unreachable ({error})", 502, "upstream_unreachable", "server_error"
    )


def _decision_headers(decision: str, guard_ms: float) -> dict[str, str]:
    return {"x-assay-decision": decision, "x-assay-guard-ms": f"{guard_ms:.2f}"}


def _blocked(decision: Decision, where: str, guard_ms: float) -> JSONResponse:
    names = ", ".join(sorted({str(f["validator"]) for f in decision.findings})) or "guard error"
    response = _error(
        f"the {where} was blocked by the Assay guard ({names})", 400, "content_filter"
    )
    response.headers.update(_decision_headers("block", guard_ms))
    return response


# -- message helpers ------------------------------------------------------------------


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: guard the text parts
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _guard_messages(call: _Call, messages: list[Any]) -> tuple[Decision, list[Any], str]:
    """Guard user and tool messages (the untrusted ones); redact in place; worst decision.

    System messages are the application's own instructions: they are not checked
    as input, but the output guard uses them to detect system-prompt leaks.
    """
    decisions: list[Decision] = []
    guarded: list[Any] = []
    prompt_parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") in ("assistant", "system"):
            guarded.append(message)
            continue
        text = _message_text(message)
        # tool and function results are content an attacker may have written into
        origin: Origin = "document" if message.get("role") in ("tool", "function") else None
        decision = call.guard.check_input(text, system=call.binding.system, origin=origin)
        call.guard_ms += decision.guard_ms
        decisions.append(decision)
        if decision.action == "redact" and isinstance(message.get("content"), str):
            message = {**message, "content": decision.text}
        guarded.append(message)
        prompt_parts.append(_message_text(message))
    return combined(decisions, call.guard_ms), guarded, "\n".join(prompt_parts)


# -- handlers -------------------------------------------------------------------------


async def _begin(request: Request) -> tuple[Gateway, _Call, dict[str, Any]] | Response:
    """Authenticate and read the JSON body: the start every POST endpoint shares."""
    gateway: Gateway = request.app.state.gateway
    call = await gateway.authenticate(request)
    if isinstance(call, Response):
        return call
    read = await gateway.read_json(request)
    if isinstance(read, Response):
        return read
    body, call.raw_body = read
    call.model = str(body.get("model", ""))
    return gateway, call, body


async def _chat(request: Request) -> Response:
    begun = await _begin(request)
    if isinstance(begun, Response):
        return begun
    gateway, call, body = begun
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _error("'messages' must be a non-empty list", 400, "invalid_request")
    call.system_prompt = (
        "\n".join(
            _message_text(m) for m in messages if isinstance(m, dict) and m.get("role") == "system"
        )
        or None
    )
    decision, guarded, prompt = _guard_messages(call, messages)
    gateway.record(call, "input", decision, request_body=body)
    if decision.action == "block":
        gateway.observe(call, [decision], len(prompt), 0)
        return _blocked(decision, "request", call.guard_ms)
    changed = any(g is not m for g, m in zip(guarded, messages, strict=True))
    payload = {**body, "messages": guarded} if changed else call.raw_body
    if body.get("stream"):
        return await _chat_stream(gateway, call, payload, prompt, decision.action)
    return await _chat_once(gateway, call, payload, prompt, decision)


async def _post(gateway: Gateway, call: _Call, path: str, body: Payload) -> Reply | Response:
    try:
        return await gateway.upstream.request(
            "POST", f"{call.upstream}{path}", gateway.upstream_headers(call), body
        )
    except UpstreamError as exc:
        return _upstream_failed(exc)


async def _chat_once(
    gateway: Gateway, call: _Call, body: Payload, prompt: str, input_decision: Decision
) -> Response:
    upstream = await _post(gateway, call, "/v1/chat/completions", body)
    if isinstance(upstream, Response):
        return upstream
    parsed = _completion(upstream)
    if isinstance(parsed, Response):
        return parsed
    data, choices = parsed
    call.usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
    decisions = [input_decision]
    output_len = 0
    changed = False
    for choice in choices:
        message = choice.get("message") or {}
        text = message.get("content") or ""
        output_len += len(text)
        decision = call.guard.check_output(
            text, prompt=prompt, system=call.binding.system, system_prompt=call.system_prompt
        )
        call.guard_ms += decision.guard_ms
        decisions.append(decision)
        gateway.record(call, "output", decision)
        if decision.action == "block":
            gateway.observe(call, decisions, len(prompt), output_len)
            return _blocked(decision, "response", call.guard_ms)
        if decision.action == "redact":
            message["content"] = decision.text
            changed = True
    gateway.observe(call, decisions, len(prompt), output_len)
    response = _json_response(data, upstream.content, changed)
    response.headers.update(_decision_headers(worst(decisions).action, call.guard_ms))
    return response


async def _chat_stream(
    gateway: Gateway, call: _Call, body: Payload, prompt: str, input_action: str
) -> Response:
    try:
        upstream = await gateway.upstream.stream(
            f"{call.upstream}/v1/chat/completions", gateway.upstream_headers(call), body
        )
    except UpstreamError as exc:
        return _upstream_failed(exc)
    if upstream.status >= 400:
        content = await upstream.read()
        upstream.close()
        return _passthrough(upstream.status, upstream.headers, content)
    stream_guard = StreamGuard(
        call.guard, prompt=prompt, system=call.binding.system, system_prompt=call.system_prompt
    )
    if stream_guard.settings.mode == "buffer":
        return await _buffered_stream(gateway, call, upstream, stream_guard, input_action)
    headers = _decision_headers(
        f"{input_action}; output={stream_guard.settings.mode}", call.guard_ms
    )
    return StreamingResponse(
        _released(gateway, call, upstream, stream_guard),
        media_type="text/event-stream",
        headers=headers,
    )


async def _buffered_stream(
    gateway: Gateway,
    call: _Call,
    upstream: StreamReply,
    stream_guard: StreamGuard,
    input_action: str,
) -> Response:
    """Buffer mode: read the whole output, check it, then release it or refuse it."""
    events: list[dict[str, Any]] = []
    try:
        async for event in parse_sse(upstream.lines()):
            events.append(event)
    except UpstreamError as exc:
        upstream.close()
        return _error(f"the upstream stream broke ({exc})", 502, "upstream_broken", "server_error")
    upstream.close()
    text = "".join(_delta(e) for e in events)
    decision = call.guard.check_output(
        text,
        prompt=stream_guard.prompt,
        system=call.binding.system,
        system_prompt=call.system_prompt,
    )
    call.guard_ms += decision.guard_ms
    gateway.record(call, "output", decision)
    gateway.observe(call, [decision], len(stream_guard.prompt), len(text))
    headers = _decision_headers(
        worst([decision, Decision(input_action, "")]).action,
        call.guard_ms,
    )

    async def replay() -> AsyncIterator[bytes]:
        if decision.action == "block":
            yield _stream_error(decision)
            return
        if decision.action == "redact":
            yield sse_event(_with_content(events[0] if events else {}, decision.text))
        else:
            for event in events:
                yield sse_event(event)
        yield b"data: [DONE]\n\n"

    return StreamingResponse(replay(), media_type="text/event-stream", headers=headers)


async def _released(
    gateway: Gateway, call: _Call, upstream: StreamReply, stream_guard: StreamGuard
) -> AsyncIterator[bytes]:
    """Windowed and flag modes: release text as the guard allows, stop on a block."""
    template: dict[str, Any] = {}
    try:
        async for event in parse_sse(upstream.lines()):
            template = template or event
            for piece in stream_guard.feed(_delta(event)):
                yield sse_event(_with_content(event, piece))
            if stream_guard.blocked is not None:
                gateway.record(call, "output", stream_guard.blocked)
                yield _stream_error(stream_guard.blocked)
                return
        for piece in stream_guard.finish():
            yield sse_event(_with_content(template, piece))
    except UpstreamError as exc:
        yield _stream_error(None, f"the upstream stream broke ({exc})")
        return
    finally:
        upstream.close()
    final = stream_guard.final_decision()
    gateway.record(call, "output", final)
    call.guard_ms += stream_guard.guard_ms
    gateway.observe(call, [final], len(stream_guard.prompt), len(stream_guard.text))
    if stream_guard.blocked is not None:
        yield _stream_error(stream_guard.blocked)
        return
    yield b"data: [DONE]\n\n"


def _delta(event: dict[str, Any]) -> str:
    try:
        return str(event["choices"][0]["delta"].get("content") or "")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""


def _with_content(event: dict[str, Any], text: str) -> dict[str, Any]:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": None}
    return {**event, "choices": [choice]}


def _stream_error(decision: Decision | None, message: str | None = None) -> bytes:
    if decision is not None:
        names = ", ".join(sorted({str(f["validator"]) for f in decision.findings})) or "guard error"
        message = f"the response was blocked by the Assay guard ({names})"
        code = "content_filter"
    else:
        code = "upstream_broken"
    return sse_event(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "code": code,
                "param": None,
            }
        }
    )


async def _completions(request: Request) -> Response:
    begun = await _begin(request)
    if isinstance(begun, Response):
        return begun
    gateway, call, body = begun
    prompt = body.get("prompt", "")
    text = prompt if isinstance(prompt, str) else "\n".join(map(str, prompt))
    decision = call.guard.check_input(text, system=call.binding.system)
    call.guard_ms += decision.guard_ms
    gateway.record(call, "input", decision, request_body=body)
    if decision.action == "block":
        return _blocked(decision, "request", call.guard_ms)
    payload = {**body, "prompt": decision.text} if decision.action == "redact" else call.raw_body
    upstream = await _post(gateway, call, "/v1/completions", payload)
    if isinstance(upstream, Response):
        return upstream
    parsed = _completion(upstream)
    if isinstance(parsed, Response):
        return parsed
    data, choices = parsed
    changed = False
    for choice in choices:
        out = call.guard.check_output(
            str(choice.get("text", "")), prompt=text, system=call.binding.system
        )
        call.guard_ms += out.guard_ms
        gateway.record(call, "output", out)
        if out.action == "block":
            return _blocked(out, "response", call.guard_ms)
        if out.action == "redact":
            choice["text"] = out.text
            changed = True
    response = _json_response(data, upstream.content, changed)
    response.headers.update(_decision_headers(decision.action, call.guard_ms))
    return response


async def _embeddings(request: Request) -> Response:
    begun = await _begin(request)
    if isinstance(begun, Response):
        return begun
    gateway, call, body = begun
    inputs = body.get("input", "")
    texts = (
        [inputs]
        if isinstance(inputs, str)
        else [str(t) for t in inputs]
        if isinstance(inputs, list)
        else []
    )
    checked = [call.guard.check_input(text, system=call.binding.system) for text in texts]
    call.guard_ms += sum(d.guard_ms for d in checked)
    decision = worst(checked)
    gateway.record(call, "input", decision, request_body=body)
    if decision.action == "block":
        return _blocked(decision, "request", call.guard_ms)
    upstream = await _post(gateway, call, "/v1/embeddings", call.raw_body)
    if isinstance(upstream, Response):
        return upstream
    response = _passthrough(upstream.status, upstream.headers, upstream.content)
    response.headers.update(_decision_headers(decision.action, call.guard_ms))
    return response


async def _models(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    call = await gateway.authenticate(request)
    if isinstance(call, Response):
        return call
    try:
        reply = await gateway.upstream.request(
            "GET", f"{call.upstream}/v1/models", gateway.upstream_headers(call)
        )
    except UpstreamError as exc:
        return _upstream_failed(exc)
    return _passthrough(reply.status, reply.headers, reply.content)


def _traced(operation: str, handler: Callable[[Request], Awaitable[Response]]) -> Any:
    """Wrap a handler so each finished request becomes one GenAI span (when enabled)."""

    async def endpoint(request: Request) -> Response:
        started = time.time_ns()
        response = await handler(request)
        gateway: Gateway = request.app.state.gateway
        call: _Call | None = getattr(request.state, "assay_call", None)
        if call is not None and gateway.telemetry.enabled:
            gateway.telemetry.record(
                operation=operation,
                model=call.model,
                upstream=call.upstream,
                system=call.binding.system,
                decisions=call.decisions,
                usage=call.usage,
                status=response.status_code,
                started_ns=started,
                ended_ns=time.time_ns(),
            )
        return response

    return endpoint


def create_gateway(workspace: Workspace, settings: GatewaySettings | None = None) -> Starlette:
    """The gateway ASGI app for ``workspace``."""
    gateway = Gateway(workspace, settings or GatewaySettings())

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.close()

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", _traced("chat", _chat), methods=["POST"]),
            Route("/v1/completions", _traced("text_completion", _completions), methods=["POST"]),
            Route("/v1/embeddings", _traced("embeddings", _embeddings), methods=["POST"]),
            Route("/v1/models", _models, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
