"""Write-time checks on evidence: cited controls are known requirements, the subject a known system.

The ledger is append-only, so a typo (an Annex A control that does not
exist) or a system that was never registered (``ghost-system``) would stay in
it for ever and be cited by nobody. :func:`check_references` refuses them
before anything is written, with a "did you mean" when a close match exists;
requirements of imported custom frameworks are accepted once the framework is
imported. :func:`append_checked` is the one entry point the faces use
(``assay ledger append``, ``POST /api/v1/ledger/entries``); producers inside
Assay build their references from the catalogs and the inventory already.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

from assay.aims.inventory import list_systems
from assay.catalogs import Framework, resolve
from assay.errors import AssayError, Invalid
from assay.ledger import Evidence, Ledger
from assay.store import Store

__all__ = ["append_checked", "check_references"]


def check_references(
    evidence: Evidence,
    *,
    systems: Collection[str],
    frameworks: Mapping[str, Framework] | None = None,
) -> Evidence:
    """The evidence with canonical control references, or an AssayError naming the bad one."""
    canonical: list[str] = []
    for control in evidence.controls:
        try:
            canonical.append(resolve(control, extra=frameworks).ref)
        except AssayError as exc:
            raise Invalid(f"control {control!r}: {exc}".rstrip(".")) from None
    if evidence.subject is not None and evidence.subject.system not in systems:
        name = evidence.subject.system
        close = difflib.get_close_matches(name, list(systems), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise Invalid(
            f"no AI system {name!r} in the inventory{hint}",
            hint=f"register it first with `assay systems add {name} --name … --owner …`, "
            "or leave --system out for organisation-wide evidence",
        )
    return Evidence(
        type=evidence.type,
        actor=evidence.actor,
        summary=evidence.summary,
        subject=evidence.subject,
        controls=tuple(dict.fromkeys(canonical)),
        observed_at=evidence.observed_at,
        payload=evidence.payload,
        payload_media_type=evidence.payload_media_type,
    )


def append_checked(
    store: Store,
    ledger: Ledger,
    evidence: Evidence,
    *,
    frameworks: Mapping[str, Framework] | None = None,
) -> tuple[int, str]:
    """Check the references, then append; returns ``(seq, leaf hash hex)``."""
    known = {s.id for s in list_systems(store, include_archived=True)}
    checked = check_references(evidence, systems=known, frameworks=frameworks)
    checked.check()
    (receipt,) = ledger.append([checked])
    return receipt.seq, receipt.leaf_hash.hex()
