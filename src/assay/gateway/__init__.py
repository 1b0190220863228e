"""OpenAI-compatible gateway with inline, streaming-safe guardrails."""

from assay.gateway.app import GatewaySettings, create_gateway
from assay.gateway.fake_upstream import create_fake_upstream
from assay.gateway.keys import create_key, find_key, list_keys, revoke_key

__all__ = [
    "GatewaySettings",
    "create_fake_upstream",
    "create_gateway",
    "create_key",
    "find_key",
    "list_keys",
    "revoke_key",
]
