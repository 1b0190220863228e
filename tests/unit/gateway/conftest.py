"""Real servers on loopback: the fake upstream and the gateway, driven by the openai client."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from assay.aims import add_system
from assay.gateway import GatewaySettings, create_fake_upstream, create_gateway
from assay.gateway.app import Gateway
from assay.gateway.guarding import Decision
from assay.gateway.keys import create_key
from assay.gateway.local import LocalServer
from assay.guard.policy import StreamSettings
from assay.workspace import Workspace

SECRET_RE = re.compile(r"sk-demo-[A-Za-z0-9]{20,}")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@dataclass
class RuleGuard:
    """A deterministic guard for testing the gateway's mechanics (not the validators)."""

    stream: StreamSettings = field(default_factory=StreamSettings)
    on_error: str = "block"
    fail: bool = False
    delay: float = 0.0  # seconds each check of a text containing "slow" takes
    origins: list[str | None] = field(default_factory=list)

    def _decide(self, text: str) -> Decision:
        if self.delay and "slow" in text:
            time.sleep(self.delay)
        if self.fail:
            return Decision("block", text, (), 0.1, "RuntimeError: validator crashed")
        if "ignore all previous instructions" in text.lower() or SECRET_RE.search(text):
            name = "secrets" if SECRET_RE.search(text) else "prompt_injection"
            return Decision(
                "block", text, ({"validator": name, "score": 1.0, "label": name, "spans": []},), 0.1
            )
        spans = [(m.start(), m.end()) for m in EMAIL_RE.finditer(text)]
        findings: list[dict[str, Any]] = []
        if "idiot" in text:  # a warn-only finding over the whole text (like toxicity)
            findings.append({"validator": "toxicity", "score": 0.9, "label": "toxic",
                             "spans": [(0, len(text))]})
        if spans:
            redacted = EMAIL_RE.sub("[REDACTED]", text)
            findings.append({"validator": "pii", "score": 1.0, "label": "EMAIL", "spans": spans})
            return Decision("redact", redacted, tuple(findings), 0.1, redact_spans=tuple(spans))
        return Decision("warn" if findings else "allow", text, tuple(findings), 0.1)

    def check_input(self, text: str, *, system: str, origin: str | None = None) -> Decision:
        self.origins.append(origin)
        return self._decide(text)

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision:
        return self._decide(text)

    tools: bool = False  # no tool policy (tests/unit/gateway/test_tools.py uses a real one)

    def check_tool_call(self, name: str, arguments: str, *, context: Any) -> Decision:
        return Decision("allow", arguments)

    def check_tool_definition(self, name: str, description: str, parameters: Any, *,
                              system: str) -> tuple[Decision, bool]:
        return Decision("allow", description), False


@dataclass
class Stack:
    url: str
    upstream: str
    key: str
    gateway: Gateway
    workspace: Workspace
    guard: RuleGuard
    upstream_app: Any  # the fake upstream: .state.received, .state.messages


@pytest.fixture
def stack(workspace: Workspace) -> Iterator[Stack]:
    upstream_app = create_fake_upstream()
    upstream = LocalServer(upstream_app)
    add_system(
        workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="CX", actor="t"
    )
    key = create_key(
        workspace.store, workspace.ledger, name="tests", system="bot", actor="t", policy="rules"
    )
    settings = GatewaySettings(policy="rules", upstream=upstream.url, key_cache_seconds=0)
    app = create_gateway(workspace, settings)
    gateway: Gateway = app.state.gateway
    guard = RuleGuard()
    gateway.use_guard("rules", guard)
    server = LocalServer(app, http="assay.gateway.http_server:HeadTimeoutProtocol")
    yield Stack(f"{server.url}/v1", upstream.url, key, gateway, workspace, guard, upstream_app)
    server.stop()
    upstream.stop()
