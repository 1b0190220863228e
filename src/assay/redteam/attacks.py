"""Attacks as data: the schema of one attack, attack families, and the corpus loader.

An attack is ``{id, family, objective, technique, prompt | turns, converters,
tags: {owasp_llm, mitre_atlas, controls}, detector, source, licence}`` (the
"Red-team attack" contract). Corpus files under ``redteam/corpus/`` are YAML
with ``defaults`` (merged into every attack), optional ``templates`` crossed
with a named ``objectives`` set (so one jailbreak template covers many
requests without copying it), and explicit ``attacks``. ``{objective}`` in a
prompt or turn is replaced by the attack's objective.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.yamlio import load_yaml, plain, read_yaml

__all__ = [
    "FAMILIES",
    "Attack",
    "DetectorSpec",
    "Family",
    "Tags",
    "attack_from_dict",
    "load_corpus",
    "load_file",
    "select",
]


@dataclass(frozen=True, slots=True)
class Tags:
    """Where an attack sits in the threat taxonomies and which requirements it tests."""

    owasp_llm: tuple[str, ...] = ()
    mitre_atlas: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    owasp_agentic: tuple[str, ...] = ()  # OWASP Top 10 for Agentic Applications 2026 (ASI01..10)

    def as_dict(self) -> dict[str, list[str]]:
        out = {
            "owasp_llm": list(self.owasp_llm),
            "mitre_atlas": list(self.mitre_atlas),
            "controls": list(self.controls),
        }
        if self.owasp_agentic:  # only then: other attacks keep their digests
            out["owasp_agentic"] = list(self.owasp_agentic)
        return out


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """Which detector judges the response, with its parameters (e.g. a marker string)."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Attack:
    """One attack: a prompt (or scripted turns) plus how to tell whether it worked."""

    id: str
    family: str
    objective: str
    technique: str
    prompt: str | None
    turns: tuple[str, ...]
    converters: tuple[str, ...]
    tags: Tags
    detector: DetectorSpec
    source: str
    licence: str
    severity: str = "medium"
    # An agent attack's world: pages, inbox, files, poisoned tool descriptions (demo_agent.py).
    environment: Mapping[str, Any] | None = field(default=None, compare=False)

    def messages(self) -> list[str]:
        """The user turns to send, with ``{objective}`` filled in."""
        raw = self.turns if self.turns else (self.prompt or "",)
        return [t.replace("{objective}", self.objective) for t in raw]

    def as_dict(self) -> dict[str, Any]:
        out = self._core()
        if self.environment is not None:  # only then: chat attacks keep their digests
            out["environment"] = dict(self.environment)
        return out

    def _core(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "family": self.family,
            "objective": self.objective,
            "technique": self.technique,
            "prompt": self.prompt,
            "turns": list(self.turns),
            "converters": list(self.converters),
            "tags": self.tags.as_dict(),
            "detector": self.detector.as_dict(),
            "source": self.source,
            "licence": self.licence,
            "severity": self.severity,
        }

    def digest(self) -> str:
        """A stable hash of everything that changes what is sent or how it is judged."""
        body = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Family:
    """An attack family; ``inverted`` families succeed when the target *refuses* (over-refusal)."""

    id: str
    title: str
    owasp_llm: tuple[str, ...]
    mitre_atlas: tuple[str, ...]
    inverted: bool = False
    agent: bool = False  # needs a tool-using agent target (judged from its tool calls)
    owasp_agentic: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {
    f.id: f
    for f in (
        Family("prompt_injection", "Direct prompt injection", ("LLM01:2025",), ("AML.T0051.000",)),
        Family(
            "indirect_prompt_injection",
            "Indirect prompt injection",
            ("LLM01:2025",),
            ("AML.T0051.001",),
        ),
        Family("jailbreak_roleplay", "Role-play jailbreak", ("LLM01:2025",), ("AML.T0054",)),
        Family("jailbreak_dan", "DAN-style jailbreak", ("LLM01:2025",), ("AML.T0054",)),
        Family(
            "jailbreak_refusal_suppression", "Refusal suppression", ("LLM01:2025",), ("AML.T0054",)
        ),
        Family("jailbreak_hypothetical", "Hypothetical framing", ("LLM01:2025",), ("AML.T0054",)),
        Family("jailbreak_many_shot", "Many-shot jailbreak", ("LLM01:2025",), ("AML.T0054",)),
        Family(
            "jailbreak_template", "Published jailbreak templates", ("LLM01:2025",), ("AML.T0054",)
        ),
        Family("crescendo", "Multi-turn escalation (Crescendo)", ("LLM01:2025",), ("AML.T0054",)),
        Family("iterative", "Attacker-model search (PAIR/TAP)", ("LLM01:2025",), ("AML.T0054",)),
        Family(
            "system_prompt_extraction",
            "System-prompt extraction",
            ("LLM07:2025",),
            ("AML.T0056",),
        ),
        Family(
            "secret_exfiltration",
            "PII and secret exfiltration",
            ("LLM02:2025",),
            ("AML.T0057",),
        ),
        Family("harmful_request", "Harmful-request compliance", ("LLM01:2025",), ("AML.T0054",)),
        Family("toxicity", "Toxicity elicitation", ("LLM05:2025",), ("AML.T0048.002",)),
        Family("encoding", "Encoding and obfuscation", ("LLM01:2025",), ("AML.T0068",)),
        Family("over_refusal", "Over-refusal of benign look-alikes", (), (), inverted=True),
        Family("silent_failure", "Silent failures", ("LLM09:2025",), ("AML.T0062",)),
        Family(
            "agent_indirect_injection",
            "Agent: instructions injected through tool output",
            ("LLM01:2025", "LLM06:2025"),
            ("AML.T0051.001", "AML.T0053"),
            agent=True,
            owasp_agentic=("ASI01:2026", "ASI02:2026"),
        ),
        Family(
            "agent_tool_poisoning",
            "Agent: instructions hidden in a tool's description",
            ("LLM01:2025", "LLM06:2025"),
            ("AML.T0051.001", "AML.T0053"),
            agent=True,
            owasp_agentic=("ASI04:2026", "ASI01:2026"),
        ),
        Family(
            "agent_exfiltration",
            "Agent: data sent outside through a tool call",
            ("LLM02:2025", "LLM06:2025"),
            ("AML.T0057", "AML.T0053"),
            agent=True,
            owasp_agentic=("ASI02:2026", "ASI01:2026"),
        ),
    )
}


def _tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise AssayError(f"{where}: expected a string or a list of strings, got {value!r}")


def attack_from_dict(data: Mapping[str, Any], where: str = "attack") -> Attack:
    """Validate one attack mapping (after defaults are merged); errors name the field."""
    for key in ("id", "family", "detector", "source", "licence"):
        if not data.get(key):
            raise AssayError(f"{where}: missing required field '{key}'")
    if not data.get("prompt") and not data.get("turns"):
        raise AssayError(f"{where}: an attack needs 'prompt' or 'turns'")
    family = str(data["family"])
    fam = FAMILIES.get(family)
    tags = data.get("tags") or {}
    if not isinstance(tags, Mapping):
        raise AssayError(f"{where}: 'tags' must be a mapping")
    detector = data["detector"]
    if isinstance(detector, str):
        spec = DetectorSpec(detector)
    elif isinstance(detector, Mapping) and isinstance(detector.get("name"), str):
        params = {k: v for k, v in detector.items() if k not in ("name", "params")}
        nested = detector.get("params")
        if isinstance(nested, Mapping):
            params.update(nested)
        spec = DetectorSpec(detector["name"], params)
    else:
        raise AssayError(f"{where}: 'detector' must be a name or a mapping with 'name'")
    owasp = _tuple(tags.get("owasp_llm"), where) or (fam.owasp_llm if fam else ())
    atlas = _tuple(tags.get("mitre_atlas"), where) or (fam.mitre_atlas if fam else ())
    prompt = data.get("prompt")
    environment = data.get("environment")
    if environment is not None and not isinstance(environment, Mapping):
        raise AssayError(f"{where}: 'environment' must be a mapping (pages, inbox, files, ...)")
    if fam is not None and fam.agent and environment is None:
        raise AssayError(f"{where}: an {family} attack needs an 'environment'")
    return Attack(
        id=str(data["id"]),
        family=family,
        objective=str(data.get("objective") or ""),
        technique=str(data.get("technique") or family),
        prompt=str(prompt) if prompt else None,
        turns=_tuple(data.get("turns"), where),
        converters=_tuple(data.get("converters"), where),
        tags=Tags(owasp, atlas, _tuple(tags.get("controls"), where),
                  _tuple(tags.get("owasp_agentic"), where) or (fam.owasp_agentic if fam else ())),
        detector=spec,
        source=str(data["source"]),
        licence=str(data["licence"]),
        severity=str(data.get("severity") or "medium"),
        environment=dict(environment) if environment is not None else None,
    )


def _merge(defaults: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in item.items():
        if key == "tags" and isinstance(value, Mapping) and isinstance(merged.get("tags"), Mapping):
            merged["tags"] = {**merged["tags"], **value}
        else:
            merged[key] = value
    return merged


def _objective_sets() -> dict[str, list[dict[str, Any]]]:
    raw = _read_yaml_resource("objectives.yaml")
    sets = raw.get("sets") if isinstance(raw, Mapping) else None
    if not isinstance(sets, Mapping):
        raise AssayError("corpus objectives.yaml: missing 'sets'")
    return {str(k): list(v) for k, v in sets.items()}


def _expand(doc: Mapping[str, Any], where: str) -> list[Attack]:
    defaults = doc.get("defaults") or {}
    out: list[Attack] = []
    templates = doc.get("templates") or []
    if templates:
        set_names = _tuple(doc.get("objectives"), where)
        if not set_names:
            raise AssayError(f"{where}: 'templates' need an 'objectives' set name")
        sets = _objective_sets()
        objectives: list[dict[str, Any]] = []
        for name in set_names:
            if name not in sets:
                raise AssayError(f"{where}: unknown objectives set '{name}'")
            objectives.extend(sets[name])
        limit = doc.get("objectives_per_template")
        for template in templates:
            chosen = objectives[: int(limit)] if limit else objectives
            for obj in chosen:
                item = _merge(defaults, template)
                item["id"] = f"{template['id']}:{obj['id']}"
                item["objective"] = obj["text"]
                if obj.get("source") and template.get("source") is None:
                    item["source"] = f"{defaults.get('source', 'assay')} + {obj['source']}"
                    item["licence"] = f"{defaults.get('licence', 'Apache-2.0')} + {obj['licence']}"
                out.append(attack_from_dict(item, f"{where}: {item['id']}"))
    for i, raw in enumerate(doc.get("attacks") or []):
        item = _merge(defaults, raw)
        out.append(attack_from_dict(item, f"{where}: attacks[{i}]"))
    return out


def _read_yaml_resource(name: str) -> Any:
    text = resources.files("assay.redteam").joinpath("corpus", name).read_text(encoding="utf-8")
    return plain(load_yaml(text, f"corpus/{name}", allow_empty=True))


def load_file(path: Path) -> list[Attack]:
    """Load a user's corpus file (same YAML format as the built-in corpus)."""
    doc = plain(read_yaml(path, allow_empty=True))
    if not isinstance(doc, Mapping):
        raise AssayError(f"{path}: expected a mapping with 'attacks' or 'templates'")
    return _expand(doc, str(path))


@lru_cache(maxsize=1)
def _builtin() -> tuple[Attack, ...]:
    folder = resources.files("assay.redteam").joinpath("corpus")
    attacks: list[Attack] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name == "objectives.yaml":
            continue
        text = entry.read_text(encoding="utf-8")
        doc = plain(load_yaml(text, f"corpus/{entry.name}", allow_empty=True))
        attacks.extend(_expand(doc, f"corpus/{entry.name}"))
    ids = [a.id for a in attacks]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise AssayError(f"built-in corpus has duplicate attack ids: {dupes[:5]}")
    return tuple(attacks)


def load_corpus(extra: Iterable[Path] = ()) -> list[Attack]:
    """The built-in corpus plus any user files."""
    attacks = list(_builtin())
    for path in extra:
        attacks.extend(load_file(path))
    return attacks


def select(
    attacks: Iterable[Attack],
    families: Iterable[str] | None = None,
    limit: int | None = None,
    *,
    agent: bool = False,
) -> list[Attack]:
    """Attacks of the given families, at most ``limit`` per family.

    Without ``families``: every family the target can be judged on — the agent
    families only for an ``agent`` target (one that runs tools). Named families
    are always taken (an agent family against a chat target is then unassessed).
    """
    attacks = list(attacks)
    wanted = set(families) if families else None
    if wanted is None and not agent:
        attacks = [a for a in attacks if not (a.family in FAMILIES and FAMILIES[a.family].agent)]
    if wanted:
        unknown = wanted - {a.family for a in attacks} - set(FAMILIES)
        if unknown:
            raise AssayError(
                f"unknown attack families: {', '.join(sorted(unknown))} "
                f"(choose from {', '.join(FAMILIES)})"
            )
    counts: dict[str, int] = {}
    out: list[Attack] = []
    for attack in attacks:
        if wanted is not None and attack.family not in wanted:
            continue
        n = counts.get(attack.family, 0)
        if limit is not None and n >= limit:
            continue
        counts[attack.family] = n + 1
        out.append(attack)
    return out
