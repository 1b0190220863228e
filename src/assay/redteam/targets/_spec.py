"""Targets from the CLI's spec strings (demo, openai:MODEL@URL, http:FILE.yaml, python:mod:fn)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.redteam.targets._agent import AgentTarget, DemoAgentBackend, OpenAIAgentBackend
from assay.redteam.targets._base import Message, Target
from assay.redteam.targets._http import HTTPConfig, HTTPTarget
from assay.redteam.targets._local import CallableTarget, DemoTarget
from assay.redteam.targets._openai import OpenAITarget
from assay.yamlio import plain, read_yaml


def _load_callable(ref: str) -> Callable[[list[Message]], Any]:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise AssayError(f"python target {ref!r}: write it as 'python:package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AssayError(f"python target: cannot import {module_name}: {exc}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AssayError(f"python target: {module_name} has no callable {attr!r}")
    return fn  # type: ignore[no-any-return]


def target_from_spec(
    spec: str,
    *,
    system_prompt: str | None = None,
    secrets: Sequence[str] = (),
    base_url: str | None = None,
) -> Target:
    """Build a target from a CLI spec.

    ``demo`` · ``demo-agent`` (a tool-using agent) · ``agent:MODEL@URL`` ·
    ``openai:MODEL`` (base URL from ``base_url`` or ``$OPENAI_BASE_URL``; key from
    ``$OPENAI_API_KEY``)
    · ``openai:MODEL@http://host/v1`` · ``http:target.yaml`` · ``python:pkg.mod:fn``.
    """
    kind, _, rest = spec.partition(":")
    if spec == "demo":
        return DemoTarget(system_prompt)
    if spec == "demo-agent":
        return AgentTarget(DemoAgentBackend(), name="demo-agent", system_prompt=system_prompt)
    if kind in ("agent", "openai") and rest:
        model, url = _model_at(kind, rest, base_url)
        if kind == "agent":
            return AgentTarget(
                OpenAIAgentBackend(url, model), system_prompt=system_prompt, secrets=secrets
            )
        return OpenAITarget(url, model, system_prompt=system_prompt, secrets=secrets)
    if kind == "http" and rest:
        path = Path(rest)
        data = plain(read_yaml(path, allow_empty=True))
        if not isinstance(data, Mapping):
            raise AssayError(f"{path}: expected a mapping with at least 'url'")
        cfg = HTTPConfig.from_mapping(data, str(path))
        file_secrets = tuple(str(s) for s in data.get("secrets") or ())
        return HTTPTarget(
            cfg,
            name=data.get("name"),
            system_prompt=system_prompt or data.get("system_prompt"),
            secrets=(*secrets, *file_secrets),
        )
    if kind == "python" and rest:
        return CallableTarget(_load_callable(rest), system_prompt=system_prompt, secrets=secrets)
    raise AssayError(
        f"unknown target {spec!r}: use demo, demo-agent, openai:MODEL[@URL], "
        "agent:MODEL[@URL], http:FILE.yaml or python:module:function"
    )


def _model_at(kind: str, rest: str, base_url: str | None) -> tuple[str, str]:
    """``MODEL[@URL]`` of an OpenAI-compatible spec, the URL defaulting to ``base_url`` or
    ``$OPENAI_BASE_URL``; none of them is a usage error naming the three ways."""
    model, _, url = rest.partition("@")
    url = url or base_url or os.environ.get("OPENAI_BASE_URL") or ""
    if not url:
        raise AssayError(
            f"target '{kind}:{rest}' needs a base URL: write {kind}:{model}@http://HOST/v1, "
            "pass --base-url or set OPENAI_BASE_URL (the Assay gateway's URL works too)"
        )
    return model, url
