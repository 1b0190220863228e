"""Real servers on loopback: the fake upstream and the gateway, driven by the openai client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from assay.aims import add_system
from assay.gateway import GatewaySettings, create_fake_upstream, create_gateway
from assay.gateway.app import Gateway
from assay.gateway.guarding import Decision, StreamSettings
from assay.gateway.keys import create_key
from assay.gateway.local import LocalServer
from assay.workspace import Workspace

SECRET_RE = re.compile(r"sk-demo-[A-Za-z0-9]{20,}")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@dataclass
class RuleGuard:
    """A deterministic guard for testing the gateway's mechanics (not the validators)."""

    stream: StreamSettings = field(default_factory=StreamSettings)
    fail: bool = False
    origins: list[str | None] = field(default_factory=list)

    def _decide(self, text: str) -> Decision:
        if self.fail:
            return Decision("block", text, (), 0.1, "RuntimeError: validator crashed")
        if "ignore all previous instructions" in text.lower() or SECRET_RE.search(text):
            name = "secrets" if SECRET_RE.search(text) else "prompt_injection"
            return Decision(
                "block", text, ({"validator": name, "score": 1.0, "label": name, "spans": []},), 0.1
            )
        spans = [[m.start(), m.end()] for m in EMAIL_RE.finditer(text)]
        if spans:
            redacted = EMAIL_RE.sub("[REDACTED]", text)
            finding = {"validator": "pii", "score": 1.0, "label": "EMAIL", "spans": spans}
            return Decision("redact", redacted, (finding,), 0.1)
        return Decision("allow", text, (), 0.1)

    def check_input(self, text: str, *, system: str, origin: str | None = None) -> Decision:
        self.origins.append(origin)
        return self._decide(text)

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision:
        return self._decide(text)


@dataclass
class Stack:
    url: str
    upstream: str
    key: str
    gateway: Gateway
    workspace: Workspace
    guard: RuleGuard


@pytest.fixture
def stack(workspace: Workspace) -> Iterator[Stack]:
    upstream = LocalServer(create_fake_upstream())
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
    server = LocalServer(app)
    yield Stack(f"{server.url}/v1", upstream.url, key, gateway, workspace, guard)
    server.stop()
    upstream.stop()
