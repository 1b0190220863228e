"""The OpenAI-compatible gateway: authenticate, guard input, call upstream, guard output.

Spec: OpenAI Chat Completions (JSON and SSE streaming), Completions,
Embeddings and Models. A block answers the OpenAI error shape with
``code: content_filter`` (HTTP 400), or for a stream an SSE error event and no
``[DONE]``. Upstream 429/5xx pass through with their headers. Every decision
becomes ``assay.dev/guard-decision/v1`` evidence through the ledger batcher;
the request path never waits on the database for it.

Every text field a request or an answer carries is guarded
(:mod:`assay.gateway.fields`); what goes upstream is either the bytes as received
(nothing changed) or the checked data re-encoded, never the original of a text
the guard rewrote. Guard work runs in a thread pool under a hard deadline
(:mod:`assay.gateway.runner`), so no single request holds the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from assay.drift import DriftMonitor
from assay.errors import AssayError
from assay.gateway.evidence import DecisionRecorder, body_bytes
from assay.gateway.fields import (
    BodyError,
    Slot,
    ToolCall,
    choice_slots,
    declared_tools,
    joined,
    message_slots,
    redacted_texts,
    remove_tool_calls,
    text_list_slots,
)
from assay.gateway.guarding import (
    Decision,
    GuardPort,
    Origin,
    ToolContext,
    combined,
    decision_of,
    finding_names,
    load_guard,
    open_stream,
    worst,
)
from assay.gateway.keys import (
    KEY_PREFIX,
    KeyBinding,
    find_key,
    list_keys,
    resolve_credential,
)
from assay.gateway.observe import instrument
from assay.gateway.runner import GuardRunner, GuardTimeout
from assay.gateway.streaming import StreamRewriter, parse_sse, sse_event
from assay.gateway.telemetry import Telemetry
from assay.gateway.tools import (
    Declared,
    answer_calls,
    check_answer_calls,
    check_definitions,
    request_context,
    stream_tool_check,
    stripped_header,
)
from assay.gateway.upstream import Reply, StreamReply, Upstream, UpstreamError
from assay.guard.tools import definition_evidence_text
from assay.guard.verdict import Verdict, drift_signals
from assay.ops.requests import current_request_id
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
    body_timeout: float = 30.0  # seconds for the whole request body to arrive (else 408)
    upstream_timeout: float = 60.0
    key_cache_seconds: float = 1.0
    key_cache_size: int = 4096  # keys (known or not) held in the cache at most
    store_content: bool = False
    record_drift_events: bool = False
    otlp_endpoint: str | None = None
    guard_timeout: float = 2.0  # hard deadline of one guard step (input, output, stream event)
    guard_threads: int = 8  # the guard's thread pool
    metrics: bool = False  # serve /metrics (Prometheus text format)


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
    request_id: str | None = None  # also sent upstream and written into the evidence
    raw_body: bytes = b""  # the request as received: forwarded as is when nothing changed
    guard_ms: float = 0.0
    streamed: bool = False  # answered as an SSE stream
    stream_outcome: str | None = None  # completed, blocked, upstream_broken, guard_timeout, …
    tools: ToolContext | None = None  # the conversation's tool context (a tool policy is on)


#: Longer bearer tokens are refused unread (keys are ``agw_`` and 43 characters).
_MAX_KEY_CHARS = 128
#: Bodies smaller than this are parsed on the event loop (a thread hop costs more).
_INLINE_PARSE = 64 * 1024


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object with each key once: with duplicates, the guard would read one value
    and the upstream, given the raw bytes, perhaps another (issue #19 item 19)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        twice = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise ValueError(f"duplicate key {twice!r}")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def _parse_json(raw: bytes) -> Any:
    """The parsed body, or a string saying why it is not a JSON text we forward."""
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        return "nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return str(exc)


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
        self.runner = GuardRunner(settings.guard_threads, settings.guard_timeout)
        self.on_guard_loaded: Callable[[GuardPort], None] | None = None  # metrics hook

    @property
    def loaded_policies(self) -> set[str | None]:
        """The policies whose guards are built (readiness)."""
        return set(self._guards)

    def use_guard(self, policy: str, guard: GuardPort) -> None:
        """Serve ``policy`` with an already-built guard (embedding, tests)."""
        self._guards[policy] = guard
        if self.on_guard_loaded is not None:
            self.on_guard_loaded(guard)

    def warm(self) -> None:
        """Build now every guard a live key can ask for, so that the first requests do not
        pay for loading models. A policy that fails to load stops the start (issue #19
        item 19): a gateway that would answer every request with a 500 must not serve."""
        policies = {self.settings.policy} | {
            str(k["policy"]) for k in list_keys(self.workspace.store)
            if k["policy"] and not k["revoked"]
        }
        for policy in sorted(policies, key=str):
            try:
                self.guard_for(policy)
            except ImportError as exc:
                raise AssayError(f"policy {policy}: {exc}") from exc

    def guard_for(self, policy: str | None) -> GuardPort:
        if policy not in self._guards:
            self._guards[policy] = load_guard(policy)
            if self.on_guard_loaded is not None:
                self.on_guard_loaded(self._guards[policy])
        return self._guards[policy]

    def binding(self, key: str) -> KeyBinding | None:
        """The key's binding, cached ``key_cache_seconds``; the cache holds at most
        ``key_cache_size`` keys, oldest out first, and a string that cannot be a key is
        refused before any lookup, so unknown keys cannot grow it (issue #19 item 11)."""
        if not key.startswith(KEY_PREFIX) or len(key) > _MAX_KEY_CHARS:
            return None
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is not None and now - cached[0] < self.settings.key_cache_seconds:
            return cached[1]
        found = find_key(self.workspace.store, key)
        self._keys.pop(key, None)
        self._keys[key] = (now, found)
        while len(self._keys) > self.settings.key_cache_size:
            del self._keys[next(iter(self._keys))]  # dicts keep insertion order
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
        self.recorder.record(call.binding, direction, decision, request_body=request_body,
                             request_id=call.request_id)

    def record_tool(self, call: _Call, kind: str, decision: Decision, tool: str,
                    text: str) -> None:
        """Evidence for a tool-call or tool-definition decision (its drift signals count
        with the request's); a call names the taints it was checked under."""
        call.decisions.append(decision)
        taints = tuple(t.digest for t in call.tools.taints) \
            if call.tools is not None and kind == "tool_call" else ()
        self.recorder.record_tool(call.binding, kind, decision, tool=tool, text=text,
                                  tainted_by=taints, request_id=call.request_id)

    async def record_request(self, call: _Call, decision: Decision, body: dict[str, Any]) -> None:
        """Evidence for the input decision with the request's digest; a large body is
        serialised in the pool (``json.dumps`` of 10 MB held the event loop ~0.1 s)."""
        dump = functools.partial(body_bytes, body)
        raw = dump() if len(call.raw_body) < _INLINE_PARSE else await self.runner.call(dump)
        call.decisions.append(decision)
        self.recorder.record(call.binding, "input", decision, request_json=raw,
                             request_id=call.request_id)

    async def checks(
        self, call: _Call, work: Callable[[], list[Decision]], count: int
    ) -> list[Decision]:
        """``count`` decisions from ``work`` run off the event loop; when the deadline
        passes, ``count`` decisions that follow the policy's ``on_error``."""
        try:
            decisions = await self.runner.run(work)
        except GuardTimeout as exc:
            action = "block" if call.guard.on_error == "block" else "allow"
            call.guard_ms += self.runner.timeout * 1000
            return [Decision(action, "", (), 0.0, str(exc))] * count
        call.guard_ms += sum(d.guard_ms for d in decisions)
        return decisions

    async def close(self) -> None:
        self.runner.close()
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
        call.request_id = current_request_id()
        request.state.assay_call = call
        return call

    async def read_json(self, request: Request) -> tuple[dict[str, Any], bytes] | Response:
        """The request's JSON object and its raw bytes, or the error response."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.settings.body_limit:
            return _error(f"request body over {self.settings.body_limit} bytes", 413, "too_large")
        body = bytearray()
        try:
            async with asyncio.timeout(self.settings.body_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > self.settings.body_limit:
                        return _error(
                            f"request body over {self.settings.body_limit} bytes", 413,
                            "too_large",
                        )
        except TimeoutError:
            return _error(f"request body not received within {self.settings.body_timeout:g} s",
                          408, "body_timeout")
        raw = bytes(body)
        parse = functools.partial(_parse_json, raw)
        data = parse() if len(raw) < _INLINE_PARSE else await self.runner.call(parse)
        if isinstance(data, str):
            return _error(f"request body is not valid JSON: {data}", 400, "invalid_json")
        if not isinstance(data, dict):
            return _error("request body must be a JSON object", 400, "invalid_json")
        return data, raw

    def upstream_headers(self, call: _Call) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if call.credential:
            headers["authorization"] = f"Bearer {call.credential}"
        return headers


async def _completion(
    gateway: Gateway, upstream: Reply
) -> tuple[dict[str, Any], list[Any]] | Response:
    """The upstream's JSON and its choices; its error passed through, or a 502 if unreadable.
    A large answer is parsed in the pool."""
    if upstream.status >= 400:
        return _passthrough(upstream.status, upstream.headers, upstream.content)
    parse = functools.partial(_parse_json, upstream.content)
    data = parse() if len(upstream.content) < _INLINE_PARSE else await gateway.runner.call(parse)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        return _bad_upstream()
    return data, choices


def _bad_upstream() -> JSONResponse:
    return _error(
        "the upstream answered with an unreadable body", 502, "bad_upstream", "server_error"
    )


def _json_response(data: Any, original: bytes, changed: bool) -> Response:
    """The upstream's own bytes when the guard changed nothing (no re-encoding); else the
    data re-encoded as ASCII JSON (a lone surrogate the upstream escaped stays escaped)."""
    if changed:
        return Response(json.dumps(data).encode(), media_type="application/json")
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
    response = _error(
        f"the {where} was blocked by the Assay guard ({finding_names(decision)})", 400,
        "content_filter"
    )
    response.headers.update(_decision_headers("block", guard_ms))
    return response


# -- rewriting --------------------------------------------------------------------------


def _rewrite(groups: Sequence[Sequence[Slot]], decisions: Sequence[Decision]) -> bool:
    """Write each redacting decision into its group's slots; whether anything changed."""
    changed = False
    for slots, decision in zip(groups, decisions, strict=True):
        if decision.action != "redact":
            continue
        for slot, text in zip(slots, redacted_texts(slots, decision.redact_spans, decision.text),
                              strict=True):
            if text != slot.text:
                slot.set(text)
                changed = True
    return changed


def _choice_message(choice: dict[str, Any]) -> dict[str, Any]:
    message = choice.get("message")
    if not isinstance(message, dict):
        raise BodyError("a choice has no message object")
    return message


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


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
    guarded = await _guard_messages(gateway, call, body)
    if isinstance(guarded, Response):
        return guarded
    decision, prompt, payload = guarded
    if body.get("stream"):
        return await _chat_stream(gateway, call, payload, prompt, decision.action)
    return await _chat_once(gateway, call, payload, prompt, decision)


async def _guard_messages(
    gateway: Gateway, call: _Call, body: dict[str, Any]
) -> tuple[Decision, str, Payload] | Response:
    """Check the untrusted messages; the decision, the prompt the output guard sees and
    what to forward (the raw bytes, or the body with redactions written in)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _error("'messages' must be a non-empty list", 400, "invalid_request")
    try:
        slots = [message_slots(m) for m in messages]
    except BodyError as exc:
        return _error(str(exc), 400, "invalid_request")
    roles = [_role(m) for m in messages]
    call.system_prompt = "\n".join(
        joined(g) for g, role in zip(slots, roles, strict=True) if role == "system"
    ) or None
    # system and assistant messages are the application's own; the rest is untrusted
    checked = [(g, r) for g, r in zip(slots, roles, strict=True)
               if r not in ("assistant", "system") and g]
    try:
        declared: list[Declared] = declared_tools(body) if call.guard.tools else []
    except BodyError as exc:
        return _error(str(exc), 400, "invalid_request")
    fresh: list[bool] = []  # per declared tool: checked now (not remembered)
    decisions = await gateway.checks(  # the messages, then the declared tools: one step
        call, functools.partial(_check_request, call, checked, declared, fresh),
        len(checked) + len(declared))
    decisions, definitions = decisions[:len(checked)], decisions[len(checked):]
    decision = combined(decisions, call.guard_ms)
    await gateway.record_request(call, decision, body)
    if decision.action == "block":
        gateway.observe(call, [decision], sum(len(joined(g)) for g, _ in checked), 0)
        return _blocked(decision, "request", call.guard_ms)
    if call.guard.tools:
        call.tools = request_context(call.binding.system, messages, checked, decisions,
                                     gateway.recorder.digest)
        refused = _guard_definitions(gateway, call, declared, definitions, fresh)
        if refused is not None:
            return refused
    changed = _rewrite([g for g, _ in checked], decisions)
    prompt = "\n".join(joined(g) for g, _ in checked)
    return decision, prompt, body if changed else call.raw_body


def _guard_definitions(gateway: Gateway, call: _Call, declared: list[Declared],
                       decisions: list[Decision], fresh: list[bool]) -> Response | None:
    """Record the declared tools' decisions (each once while remembered, every non-allow
    one); a refusal when one is poisoned, or None."""
    if len(fresh) != len(declared):  # the deadline passed: every decision is new
        fresh = [True] * len(declared)
    for (name, description, parameters), decision, new in zip(declared, decisions, fresh,
                                                              strict=True):
        if new or decision.action != "allow":
            gateway.record_tool(call, "tool_definition", decision, name,
                                definition_evidence_text(name, description, parameters))
    blocked = next(((d, name) for d, (name, _, _) in zip(decisions, declared, strict=True)
                    if d.action == "block"), None)
    if blocked is None:
        return None
    gateway.observe(call, decisions, 0, 0)
    return _blocked(blocked[0], f"tool definition {blocked[1]!r}", call.guard_ms)


def _check_request(call: _Call, checked: list[tuple[list[Slot], Any]],
                   declared: list[Declared], fresh: list[bool]) -> list[Decision]:
    """The messages' decisions, then the declared tools'; runs in the pool."""
    decisions = _check_messages(call, checked)
    if declared:
        decisions += check_definitions(call.guard, declared, call.binding.system, fresh)
    return decisions


def _check_messages(call: _Call, checked: list[tuple[list[Slot], Any]]) -> list[Decision]:
    """One decision per untrusted message (its text fields joined); runs in the pool."""
    decisions = []
    for slots, role in checked:
        # tool and function results are content an attacker may have written into
        origin: Origin = "document" if role in ("tool", "function") else None
        decisions.append(
            call.guard.check_input(joined(slots), system=call.binding.system, origin=origin)
        )
    return decisions


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
    parsed = await _completion(gateway, upstream)
    if isinstance(parsed, Response):
        return parsed
    data, choices = parsed
    call.usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
    try:
        groups = [choice_slots(_choice_message(c)) for c in choices]
    except BodyError:
        return _bad_upstream()
    return await _guard_answer(gateway, call, data, groups, prompt, input_decision, upstream)


async def _guard_answer(
    gateway: Gateway,
    call: _Call,
    data: dict[str, Any],
    groups: list[list[Slot]],
    prompt: str,
    input_decision: Decision,
    upstream: Reply,
) -> Response:
    """Check every choice's texts and (with a tool policy) its tool calls, in one guard
    step; block, or answer with them (redacted where decided, stripped calls removed)."""
    messages = [_choice_message(c) for c in data["choices"]] if call.tools is not None else []
    calls = answer_calls(messages)  # (a completions answer has no messages: none)
    count = sum(map(len, calls))
    decisions = await gateway.checks(
        call, functools.partial(_check_outputs, call, groups, prompt, calls), len(groups) + count
    )
    decisions, judged = decisions[:len(groups)], decisions[len(groups):]
    for decision in decisions:
        gateway.record(call, "output", decision)
    output_len = sum(len(joined(g)) for g in groups)
    blocked = next((d for d in decisions if d.action == "block"), None)
    tools = _guard_calls(gateway, call, data["choices"], messages, calls, judged)
    gateway.observe(call, [input_decision, *decisions, *tools.decisions], len(prompt),
                    output_len)
    if blocked is not None:
        return _blocked(blocked, "response", call.guard_ms)
    if tools.refusal is not None:
        return tools.refusal
    changed = _rewrite(groups, decisions) or bool(tools.stripped)
    for choice, decision in zip(data["choices"], decisions, strict=True):
        if decision.action == "redact" and choice.get("logprobs") is not None:
            choice["logprobs"] = None  # its tokens spell out the text before redaction
            changed = True
    response = _json_response(data, upstream.content, changed)
    kept = [d for d in tools.decisions if not d.strip]
    response.headers.update(_decision_headers(
        worst([input_decision, *decisions, *kept]).action + tools.stripped, call.guard_ms))
    return response


@dataclass
class _CallsChecked:
    """The answer's tool calls after the tool policy: every decision, the header suffix
    naming the calls stripped (``""``: none), and the refusal when one was blocked."""

    decisions: list[Decision]
    stripped: str
    refusal: Response | None


def _guard_calls(gateway: Gateway, call: _Call, choices: list[dict[str, Any]],
                 messages: list[dict[str, Any]], calls: list[list[ToolCall]],
                 decisions: list[Decision]) -> _CallsChecked:
    """Record every tool call's decision; strip in place what the policy says to strip
    (all or nothing: a block refuses the whole answer)."""
    if not decisions:
        return _CallsChecked([], "", None)
    judged = iter(decisions)
    refusal: Response | None = None
    stripped: list[tuple[str, Decision]] = []
    removals: list[tuple[dict[str, Any], dict[str, Any], list[ToolCall]]] = []
    for message, choice_calls, choice in zip(messages, calls, choices, strict=True):
        removals.append((choice, message, []))
        for tool_call in choice_calls:
            decision = next(judged)
            gateway.record_tool(call, "tool_call", decision, tool_call.name,
                                tool_call.arguments)
            if decision.action != "block":
                continue
            if not decision.strip:
                refusal = refusal or _blocked(decision, f"tool call {tool_call.name!r}",
                                              call.guard_ms)
            stripped.append((tool_call.name, decision))
            removals[-1][2].append(tool_call)
    if refusal is None:
        for choice, message, removed in removals:
            if removed:
                remove_tool_calls(message, removed)
                _finish_without_calls(choice, message)
    return _CallsChecked(decisions, stripped_header(stripped) if stripped else "", refusal)


def _finish_without_calls(choice: dict[str, Any], message: dict[str, Any]) -> None:
    """A choice whose every call was stripped finishes as a plain answer."""
    if not message.get("tool_calls") and not message.get("function_call") \
            and choice.get("finish_reason") in ("tool_calls", "function_call"):
        choice["finish_reason"] = "stop"


def _check_outputs(call: _Call, groups: list[list[Slot]], prompt: str,
                   calls: list[list[ToolCall]]) -> list[Decision]:
    """One decision per choice (every text field it returns, joined), then one per tool
    call of each choice; runs in the pool."""
    decisions = [
        call.guard.check_output(
            joined(slots), prompt=prompt, system=call.binding.system,
            system_prompt=call.system_prompt,
        )
        for slots in groups
    ]
    if call.tools is not None and calls:
        decisions += check_answer_calls(call.guard, calls, call.tools)
    return decisions


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
    call.streamed = True
    rewriter = StreamRewriter(functools.partial(
        open_stream, call.guard, prompt=prompt, system=call.binding.system,
        system_prompt=call.system_prompt,
    ), stream_tool_check(call.guard, call.tools) if call.tools is not None else None)
    mode = call.guard.stream.mode
    if mode == "buffer":
        return await _buffered_stream(gateway, call, upstream, rewriter, input_action, prompt)
    headers = _decision_headers(f"{input_action}; output={mode}", call.guard_ms)
    return StreamingResponse(
        _released(gateway, call, upstream, rewriter, prompt),
        media_type="text/event-stream",
        headers=headers,
    )


def _stream_decision(
    verdicts: list[tuple[Verdict, str]], error: str | None = None
) -> Decision:
    """The one output decision of a stream (every text stream's verdict combined). After
    a deadline the rewriter is not read (its step may still run): the error decides."""
    if error is not None:
        return Decision("block", "", (), 0.0, error)
    decisions = [decision_of(v, text, v.total_ms) for v, text in verdicts]
    return combined(decisions, sum(d.guard_ms for d in decisions))


def _rewrite_all(rewriter: StreamRewriter, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Buffer mode: every event through the rewriter at once (one guard step)."""
    out: list[dict[str, Any]] = []
    for event in events:
        out += rewriter.process(event)
        if rewriter.blocked is not None:
            return []
    return out + rewriter.close()


async def _buffered_stream(
    gateway: Gateway,
    call: _Call,
    upstream: StreamReply,
    rewriter: StreamRewriter,
    input_action: str,
    prompt: str,
) -> Response:
    """Buffer mode: read the whole output, check it, then release it or refuse it."""
    events: list[dict[str, Any]] = []
    try:
        async for event in parse_sse(upstream.lines()):
            events.append(event)
    except UpstreamError as exc:
        call.stream_outcome = "upstream_broken"
        return _error(f"the upstream stream broke ({exc})", 502, "upstream_broken", "server_error")
    finally:
        upstream.close()
    original = [sse_event(e) for e in events]  # the upstream's events, before any rewrite
    error = None
    try:
        out = await gateway.runner.run(functools.partial(_rewrite_all, rewriter, events))
    except BodyError:
        call.stream_outcome = "bad_upstream"
        return _bad_upstream()
    except GuardTimeout as exc:
        out, error = [], str(exc)
    verdicts = rewriter.verdicts() if error is None else []
    decision = _stream_decision(verdicts, error)
    if error is not None and call.guard.on_error != "block":
        decision = Decision("allow", "", (), 0.0, error)
    call.guard_ms += decision.guard_ms
    gateway.record(call, "output", decision)
    tools = _record_stream_calls(gateway, call, rewriter) if error is None else []
    gateway.observe(call, [decision, *tools], len(prompt), sum(len(t) for _, t in verdicts))
    kept = [d for d in tools if not d.strip]
    headers = _decision_headers(
        worst([decision, Decision(input_action, ""), *kept]).action + _stripped(rewriter),
        call.guard_ms)
    changed = decision.action == "redact" or bool(tools)
    body = [sse_event(e) for e in out] if changed else original
    refusal = _stream_refusal(decision, rewriter)
    if refusal is not None:
        decision = refusal
        body = [_stream_error(decision)]
    call.stream_outcome = ("guard_timeout" if error is not None
                           else "blocked" if decision.action == "block" else "completed")

    async def replay() -> AsyncIterator[bytes]:
        for event in body:
            yield event
        if decision.action != "block":
            yield b"data: [DONE]\n\n"

    return StreamingResponse(replay(), media_type="text/event-stream", headers=headers)


async def _released(
    gateway: Gateway, call: _Call, upstream: StreamReply, rewriter: StreamRewriter, prompt: str
) -> AsyncIterator[bytes]:
    """Windowed and flag modes: release text as the guard allows, stop on a block.

    A guard step past its deadline ends the stream with an error event whatever
    ``on_error`` says: the text the checkers hold cannot be released unchecked."""
    error: str | None = None
    try:
        async for event in parse_sse(upstream.lines()):
            step = functools.partial(rewriter.process, event)
            # a thread hop costs ~0.1 ms: only events that run a check leave the loop
            for out in step() if rewriter.cheap(event) else await gateway.runner.run(step):
                yield sse_event(out)
            if rewriter.blocked is not None:
                break
        else:
            for out in await gateway.runner.run(rewriter.close):
                yield sse_event(out)
    except UpstreamError as exc:
        call.stream_outcome = "upstream_broken"
        yield _stream_error(None, f"the upstream stream broke ({exc})")
        return
    except BodyError:
        call.stream_outcome = "bad_upstream"
        yield _stream_error(None, "the upstream sent an unreadable event")
        return
    except GuardTimeout as exc:
        error = str(exc)
    finally:
        upstream.close()
    verdicts = rewriter.verdicts() if error is None else []
    final = _stream_decision(verdicts, error)
    gateway.record(call, "output", final)
    call.guard_ms += final.guard_ms
    tools = _record_stream_calls(gateway, call, rewriter) if error is None else []
    gateway.observe(call, [final, *tools], len(prompt), sum(len(t) for _, t in verdicts))
    final = _stream_refusal(final, rewriter) or final
    if rewriter.stripped:  # the headers are gone: an SSE comment names what was removed
        yield f": assay{_stripped(rewriter)}\n\n".encode()
    if final.action == "block":
        call.stream_outcome = "guard_timeout" if error is not None else "blocked"
        yield _stream_error(final)
        return
    call.stream_outcome = "completed"
    yield b"data: [DONE]\n\n"


def _record_stream_calls(gateway: Gateway, call: _Call,
                        rewriter: StreamRewriter) -> list[Decision]:
    """Evidence for every streamed tool call the rewriter checked; their decisions."""
    decisions = []
    for held, verdict in rewriter.tool_verdicts:
        decision = decision_of(verdict, held.arguments, verdict.total_ms)
        call.guard_ms += decision.guard_ms
        gateway.record_tool(call, "tool_call", decision, held.name, held.arguments)
        decisions.append(decision)
    return decisions


def _stream_refusal(text: Decision, rewriter: StreamRewriter) -> Decision | None:
    """The decision that ends a stream with an error: the text's block, or a tool call's
    (the rewriter stopped on it; the text checkers may have found nothing)."""
    if text.action == "block":
        return text
    if rewriter.blocked is not None:
        return decision_of(rewriter.blocked, "", rewriter.blocked.total_ms)
    return None


def _stripped(rewriter: StreamRewriter) -> str:
    stripped = [(held.name, decision_of(v, "", v.total_ms)) for held, v in rewriter.stripped]
    return stripped_header(stripped) if stripped else ""


def _stream_error(decision: Decision | None, message: str | None = None) -> bytes:
    if decision is not None:
        message = f"the response was blocked by the Assay guard ({finding_names(decision)})"
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


async def _guard_texts(
    gateway: Gateway, call: _Call, body: dict[str, Any], key: str
) -> tuple[Decision, list[Slot], Payload] | Response:
    """Completions' ``prompt`` and Embeddings' ``input``: check each text (a list holds
    independent prompts or documents), record one decision, block or rewrite."""
    try:
        slots = text_list_slots(body, key)
    except BodyError as exc:
        return _error(str(exc), 400, "invalid_request")
    groups = [[slot] for slot in slots]
    decisions = await gateway.checks(
        call, functools.partial(_check_texts, call, slots), len(groups)
    )
    decision = combined(decisions, call.guard_ms)
    await gateway.record_request(call, decision, body)
    if decision.action == "block":
        return _blocked(decision, "request", call.guard_ms)
    changed = _rewrite(groups, decisions)
    return decision, slots, body if changed else call.raw_body


def _check_texts(call: _Call, slots: list[Slot]) -> list[Decision]:
    """One decision per text; runs in the pool."""
    return [call.guard.check_input(slot.text, system=call.binding.system) for slot in slots]


async def _completions(request: Request) -> Response:
    begun = await _begin(request)
    if isinstance(begun, Response):
        return begun
    gateway, call, body = begun
    guarded = await _guard_texts(gateway, call, body, "prompt")
    if isinstance(guarded, Response):
        return guarded
    decision, slots, payload = guarded
    upstream = await _post(gateway, call, "/v1/completions", payload)
    if isinstance(upstream, Response):
        return upstream
    parsed = await _completion(gateway, upstream)
    if isinstance(parsed, Response):
        return parsed
    data, choices = parsed
    if not all(isinstance(c.get("text"), str) for c in choices):
        return _bad_upstream()
    groups = [[Slot(c, "text")] for c in choices]
    return await _guard_answer(gateway, call, data, groups, joined(slots), decision, upstream)


async def _embeddings(request: Request) -> Response:
    begun = await _begin(request)
    if isinstance(begun, Response):
        return begun
    gateway, call, body = begun
    guarded = await _guard_texts(gateway, call, body, "input")
    if isinstance(guarded, Response):
        return guarded
    decision, _, payload = guarded
    upstream = await _post(gateway, call, "/v1/embeddings", payload)
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
    instrument(app, gateway)  # /healthz, /readyz, /metrics, request ids and logs
    return app
