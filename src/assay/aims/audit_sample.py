"""The auditor's sample: a reproducible random draw of requirements and evidence entries.

An auditor at Stage 2 tests a sample, not everything, and must be able to show
that the sample was not chosen by the auditee (ISO/IEC 42001 9.2.2 asks for
audit methods that are objective and impartial; ISO 19011 6.3.3 describes
sampling). The draw here is a pure function of a seed and the population:

* the population of requirements is every applicable requirement of the
  framework (for the organisation, or one AI system); the population of
  entries is every ledger entry the readiness result cites for them;
* each member is ranked by ``SHA-256(seed ":" member)`` and the lowest ranks
  are drawn (method ``sha256-rank/v1``), so anyone can recompute the sample
  with any SHA-256 tool, on any Python version, from the recorded seed and the
  population digest;
* the draw is recorded as ``assay.dev/audit-sample/v1`` evidence (seed,
  populations and their digests, the sample), so it cannot be redrawn quietly
  until a convenient sample comes up: every draw is in the ledger.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from assay.aims.readiness import readiness
from assay.errors import Invalid
from assay.ledger import Evidence, Ledger, Subject
from assay.ledger.evidence import AUDIT_SAMPLE
from assay.store import Store

__all__ = ["METHOD", "AuditSample", "draw_sample", "population_digest", "rank_sample"]

METHOD = "sha256-rank/v1"
_MAX_DRAW = 500


@dataclass(frozen=True)
class AuditSample:
    """One recorded draw: what was drawn, from what, with which seed."""

    framework: str
    system: str | None
    seed: str
    requirements: tuple[str, ...]
    entries: tuple[int, ...]
    requirement_population: int
    entry_population: int
    population_digest: str
    seq: int  # the ledger entry recording this draw

    def as_json(self) -> dict[str, object]:
        return {
            "method": METHOD,
            "framework": self.framework,
            "system": self.system,
            "seed": self.seed,
            "requirements": list(self.requirements),
            "entries": list(self.entries),
            "requirement_population": self.requirement_population,
            "entry_population": self.entry_population,
            "population_digest": self.population_digest,
            "seq": self.seq,
        }


def rank_sample(members: Sequence[str], seed: str, n: int) -> list[str]:
    """The ``n`` members with the lowest ``SHA-256(seed ":" member)``, in rank order."""

    def rank(member: str) -> bytes:
        return hashlib.sha256(f"{seed}:{member}".encode()).digest()

    return sorted(dict.fromkeys(members), key=rank)[: max(0, n)]


def population_digest(requirements: Sequence[str], entries: Sequence[int]) -> str:
    """SHA-256 over the sorted populations (one member per line, requirements first)."""
    lines = sorted(requirements) + ["--"] + [str(seq) for seq in sorted(entries)]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def draw_sample(
    store: Store,
    ledger: Ledger,
    framework: str,
    *,
    actor: str,
    system: str | None = None,
    seed: str | None = None,
    requirements: int = 10,
    entries: int = 10,
) -> AuditSample:
    """Draw and record a sample of applicable requirements and the entries they cite."""
    for name, value in (("requirements", requirements), ("entries", entries)):
        if not 0 <= value <= _MAX_DRAW:
            raise Invalid(f"--{name} must be between 0 and {_MAX_DRAW}, not {value}")
    seed = seed if seed is not None else secrets.token_hex(8)
    if not seed.strip() or len(seed) > 100:
        raise Invalid("the seed must be 1 to 100 characters")
    result = readiness(store, ledger, framework, system=system, sign=False)
    applicable = [item for item in result.items if item.applicable]
    req_population = [item.ref for item in applicable]
    entry_population = sorted({c.seq for item in applicable for c in item.evidence})
    drawn_reqs = rank_sample(req_population, seed, requirements)
    drawn_entries = [int(s) for s in rank_sample([str(s) for s in entry_population], seed, entries)]
    digest = population_digest(req_population, entry_population)
    summary = {
        "method": METHOD,
        "framework": result.framework,
        "seed": seed,
        "requirement_population": len(req_population),
        "entry_population": len(entry_population),
        "population_digest": digest,
        "requirements": drawn_reqs,
        "entries": drawn_entries,
    }
    subject = Subject(system) if system else None
    (receipt,) = ledger.append([Evidence(AUDIT_SAMPLE, actor, summary, subject)])
    return AuditSample(
        result.framework, system, seed, tuple(drawn_reqs), tuple(drawn_entries),
        len(req_population), len(entry_population), digest, receipt.seq,
    )
