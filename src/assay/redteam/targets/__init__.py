"""Targets: what a scan attacks. Each is async ``send(conversation) -> Response``.

A conversation is a list of OpenAI Chat Completions messages. Every target
declares its :class:`Capabilities` (multi-turn, system-prompt control,
streaming, stateful) and a ``config()`` without secrets, which is part of an
attempt's identity (so ``--resume`` and ``replay`` know what was already run
against which target). Multi-turn attacks open a :class:`Session` so stateful
HTTP apps keep their cookies and session id across turns.

Kinds: the built-in demo chatbot, OpenAI-compatible endpoints (OpenAI Chat
Completions, incl. SSE streaming; works through the Assay gateway), generic
HTTP (templated JSON body, JSONPath-style reply extraction, headers, cookie and
session-id carry-over, SSE), Python callables (sync or async), and tool-using
agents (the demo agent, or any OpenAI-compatible model run in an agent loop
with simulated tools; judged from the calls it makes).
"""

from assay.redteam.targets._agent import AgentTarget, DemoAgentBackend, OpenAIAgentBackend
from assay.redteam.targets._base import (
    Capabilities,
    ContentFiltered,
    Message,
    Response,
    Session,
    Target,
    TargetError,
)
from assay.redteam.targets._http import HTTPConfig, HTTPTarget
from assay.redteam.targets._local import CallableTarget, DemoTarget
from assay.redteam.targets._openai import OpenAITarget
from assay.redteam.targets._spec import target_from_spec
from assay.redteam.targets._wire import extract_path

__all__ = [
    "AgentTarget",
    "CallableTarget",
    "Capabilities",
    "ContentFiltered",
    "DemoAgentBackend",
    "DemoTarget",
    "HTTPConfig",
    "HTTPTarget",
    "Message",
    "OpenAIAgentBackend",
    "OpenAITarget",
    "Response",
    "Session",
    "Target",
    "TargetError",
    "extract_path",
    "target_from_spec",
]
