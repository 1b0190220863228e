"""Names in four languages are redacted before the upstream model sees them (issue #23).

A round trip with the official ``openai`` client through the gateway and the shipped default
policy; the fake upstream records the body it received.
"""

from __future__ import annotations

import json

import openai
import pytest

MODEL = "assay-demo-1"
NAMES = [
    ("Write a short thank-you note to Theodora Blackwood for the flowers.", "Theodora Blackwood"),
    ("Hier ist die Adresse von Mechthild Oberländer, bitte schick ihr das Paket.",
     "Mechthild Oberländer"),
    ("Le dossier de Bérénice Lagarde est incomplet, il manque son justificatif.",
     "Bérénice Lagarde"),
    ("Por favor, reenvía la factura a Esperanza Villalobos antes del viernes.",
     "Esperanza Villalobos"),
]


@pytest.fixture
def client(stack):  # type: ignore[no-untyped-def]
    from assay.gateway.guarding import load_guard

    stack.gateway.use_guard("rules", load_guard("default"))
    return openai.OpenAI(base_url=stack.url, api_key=stack.key, max_retries=0, timeout=30)


@pytest.mark.parametrize(("prompt", "name"), NAMES)
def test_names_are_redacted_before_the_upstream(stack, client, prompt: str,  # type: ignore[no-untyped-def]
                                                name: str) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=f"{MODEL}:reply=ok", messages=[{"role": "user", "content": prompt}])
    assert raw.headers["x-assay-decision"] == "redact"
    sent = json.loads(stack.upstream_app.state.received[-1])
    assert sent["messages"][-1]["content"] == prompt.replace(name, "[REDACTED]")
