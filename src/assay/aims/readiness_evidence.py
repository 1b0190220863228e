"""Ledger reads for readiness: the newest evidence per requirement, and its proof.

Kept apart from the rules in :mod:`assay.aims.readiness` so those stay pure.
:func:`collect_sightings` makes one pass over the ledger (filtered by AI
system in SQL) and keeps, for each requirement and evidence type, only the
newest entry by ``observed_at``: that is the entry a report cites. An entry
is first checked to be *about the right thing* (:func:`scope_refs`): a
register change supports only what its register documents (``by_register``),
a test only the requirements its test families cover (``test_families``), and
test, operation and monitoring evidence only what its type supports, whatever
its ``controls`` cite. The newest entry turned away for a requirement is kept
too, with the reason, so ``--explain`` can show it.
:func:`verify_citations` checks the checkpoint signature once, then proves each
cited entry's bytes into the signed tree (RFC 9162 inclusion, through
:meth:`Ledger.verified_inclusion`), so a report is
only as good as evidence an auditor could re-verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assay.catalogs import EvidenceType
from assay.errors import AssayError
from assay.ledger import InclusionProof, Ledger

__all__ = [
    "CheckpointInfo",
    "Sighting",
    "Verification",
    "collect_sightings",
    "parse_time",
    "scope_refs",
    "verify_citations",
]

_NO_CONTROLS = b'"controls":[]'


@dataclass(frozen=True)
class Sighting:
    """One ledger entry seen as evidence for one requirement."""

    seq: int
    type: str
    observed_at: datetime
    leaf_hash: str
    system: str | None
    by_type: bool
    """True when the entry's type supports the requirement; False when only ``controls`` cite it."""
    entry: bytes = b""
    """The entry's canonical JSON (its summary is read for the outcome)."""
    rejected: str | None = None
    """Why the entry does not count for this requirement (None: it may count)."""

    def summary(self) -> dict[str, Any]:
        """The entry's summary (empty when the entry was not kept)."""
        if not self.entry:
            return {}
        value = json.loads(self.entry).get("summary")
        return value if isinstance(value, dict) else {}

    def subject_version(self) -> str | None:
        """The version of the system the entry is about, when it names one."""
        if not self.entry:
            return None
        subject = json.loads(self.entry).get("subject")
        version = subject.get("version") if isinstance(subject, dict) else None
        return str(version) if version else None


@dataclass(frozen=True)
class CheckpointInfo:
    """The signed checkpoint a report's proofs are checked against."""

    tree_size: int
    root_hash: str
    note: str


@dataclass(frozen=True)
class Verification:
    """Which cited entries prove into the signed checkpoint, with their proofs."""

    checkpoint: CheckpointInfo | None
    proofs: Mapping[int, InclusionProof]
    failures: Mapping[int, str]

    def verified(self, seq: int) -> bool:
        return seq in self.proofs


def parse_time(text: str) -> datetime:
    """An entry's RFC 3339 ``observed_at`` as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scope_refs(
    evidence_type: EvidenceType | None, entry: bytes, typed: set[str], cited: set[str]
) -> tuple[set[str], set[str], dict[str, str]]:
    """Which of the ``typed`` and ``cited`` requirements an entry really supports; pure.

    Returns ``(typed, cited, rejected)`` where ``rejected`` maps each requirement
    turned away to the reason.
    """
    rejected: dict[str, str] = {}
    if evidence_type is None:
        return typed, cited, rejected
    name = evidence_type.type.split("/")[1]
    if evidence_type.about_a_system:
        for ref in sorted(cited - set(evidence_type.supports)):
            rejected[ref] = (
                f"{name} is {evidence_type.kind} evidence; it does not support {ref} "
                "whatever its controls cite"
            )
        cited = cited & set(evidence_type.supports)
    if evidence_type.by_register is not None:
        register = str(_summary(entry).get("register", ""))
        allowed = set(evidence_type.by_register.get(register, ()))
        for ref in sorted(typed - allowed):
            rejected[ref] = (
                f"a change to the {register or 'unnamed'} register does not document {ref}"
            )
        typed = typed & allowed
    if evidence_type.test_families:
        families = _summary(entry).get("families")
        covered = set(families) if isinstance(families, dict) else set()
        for ref in sorted((typed | cited) & set(evidence_type.test_families)):
            wanted = set(evidence_type.test_families[ref])
            if not covered & wanted:
                tested = ", ".join(sorted(covered)) or "no family named"
                rejected[ref] = f"the test covered {tested}: none of the families {ref} needs"
        typed, cited = typed - set(rejected), cited - set(rejected)
    return typed, cited, rejected


def _summary(entry: bytes) -> dict[str, Any]:
    value = json.loads(entry).get("summary")
    return value if isinstance(value, dict) else {}


def collect_sightings(
    ledger: Ledger,
    wanted: Iterable[str],
    types: Mapping[str, EvidenceType],
    *,
    system: str | None = None,
) -> dict[str, dict[str, Sighting]]:
    """Newest entry per (requirement, evidence type) for the ``wanted`` references.

    With ``system``, entries about that system and organisation-wide entries
    (no subject) count; entries about other systems do not. An entry turned
    away by :func:`scope_refs` is kept under the key ``"<type> (rejected)"``
    when no counting entry of its type is newer.
    """
    refs = set(wanted)
    by_type = {uri: refs.intersection(et.supports) for uri, et in types.items()}
    scoped = {
        uri
        for uri, et in types.items()
        if et.by_register is not None or et.test_families or et.about_a_system
    }
    best: dict[str, dict[str, Sighting]] = {}
    for stored in ledger.entries(system=system, org_wide=True):
        type_uri, entry = stored.type, stored.entry
        typed = by_type.get(type_uri, set())
        cited = refs.intersection(_controls(entry)) - typed
        if not typed and not cited:
            continue
        rejected: dict[str, str] = {}
        if type_uri in scoped:
            typed, cited, rejected = scope_refs(types.get(type_uri), entry, typed, cited)
        moment = parse_time(stored.observed_at)
        seen = (stored.seq, type_uri, moment, stored.leaf_hash, stored.system, entry)
        for ref in typed:
            _keep(best, ref, type_uri, seen, True, None)
        for ref in cited:
            _keep(best, ref, type_uri, seen, False, None)
        for ref, reason in rejected.items():
            _keep(best, ref, f"{type_uri} (rejected)", seen, True, reason)
    for slots in best.values():  # a rejected entry older than a counting one is not news
        for key in [k for k in slots if k.endswith(" (rejected)")]:
            counting = slots.get(key.removesuffix(" (rejected)"))
            if counting is not None and counting.observed_at >= slots[key].observed_at:
                del slots[key]
    return best


_Seen = tuple[int, str, datetime, bytes, str | None, bytes]


def _keep(
    best: dict[str, dict[str, Sighting]],
    ref: str,
    key: str,
    seen: _Seen,
    by_type: bool,
    rejected: str | None,
) -> None:
    """Keep the entry for ``(ref, key)`` when it is the newest so far (built only then)."""
    seq, type_uri, moment, leaf, subject, entry = seen
    slot = best.setdefault(ref, {})
    old = slot.get(key)
    if old is None or (moment, seq) > (old.observed_at, old.seq):
        slot[key] = Sighting(seq, type_uri, moment, leaf.hex(), subject, by_type, entry, rejected)


def _controls(entry: bytes) -> list[str]:
    if _NO_CONTROLS in entry:  # canonical JSON: the common case needs no parse
        return []
    value = json.loads(entry).get("controls")
    return [str(c) for c in value] if isinstance(value, list) else []


def verify_citations(ledger: Ledger, seqs: Iterable[int], *, sign: bool = True) -> Verification:
    """Prove each cited entry into the newest signed checkpoint.

    ``sign`` first signs a checkpoint over the current tree (a no-op when the
    newest checkpoint already covers it), so fresh evidence can be proven.
    The checkpoint's signature is checked once; each entry's stored bytes are
    hashed and proven against the signed root.
    """
    if sign:
        ledger.checkpoint()
    wanted = sorted(set(seqs))
    try:
        checkpoint = ledger.verified_checkpoint()
    except AssayError as exc:
        return Verification(None, {}, dict.fromkeys(wanted, _reason(exc)))
    note = ledger.checkpoint_at(checkpoint.tree_size)
    info = CheckpointInfo(checkpoint.tree_size, checkpoint.root_hash.hex(), note)
    proofs: dict[int, InclusionProof] = {}
    failures: dict[int, str] = {}
    for seq in wanted:
        try:
            proofs[seq] = ledger.verified_inclusion(seq, checkpoint)
        except AssayError as exc:
            failures[seq] = _reason(exc)
    return Verification(info, proofs, failures)


def _reason(exc: AssayError) -> str:
    """Why a citation is not proven, with what to do (shown by the CLI and the dashboard)."""
    return f"{exc.message}: {exc.hint}" if exc.hint else exc.message
