"""Every report for a framework, rendered from one readiness run: for the CLI and audit packs.

:func:`render` produces one export format; :func:`report_files` produces the
set an audit pack carries under ``reports/`` (covered by its signed
manifest): the OSCAL catalog and the profile an SSP imports, assessment
results and POA&M, an SSP and a component definition per AI system, the
readiness JSON, and the SoA and gap report as XLSX and PDF.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from assay.aims import capa, soa
from assay.aims.inventory import get_system, list_systems
from assay.aims.readiness import Readiness, readiness
from assay.catalogs import Framework, framework
from assay.errors import AssayError
from assay.ledger import Ledger
from assay.reports.oscal import catalog_href, catalog_to_oscal, profile_href, profile_to_oscal
from assay.reports.oscal_assessment import assessment_results, poam
from assay.reports.oscal_system import component_definition, ssp
from assay.reports.pdf import readiness_pdf
from assay.reports.xlsx import readiness_workbook
from assay.store import Store

__all__ = ["FORMATS", "Sources", "pack_formats", "render", "report_files"]


class Sources(Protocol):
    """What the reports read: the store and the ledger (an open Workspace has both)."""

    @property
    def store(self) -> Store: ...

    @property
    def ledger(self) -> Ledger: ...


FORMATS = (
    "oscal-catalog",
    "oscal-profile",
    "oscal-ssp",
    "oscal-component",
    "oscal-ar",
    "oscal-poam",
    "xlsx",
    "pdf",
    "json",
)
_PER_SYSTEM = ("oscal-ssp", "oscal-component")


def _json(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _framework(value: str | Framework) -> Framework:
    return framework(value) if isinstance(value, str) else value


def render(workspace: Sources, result: Readiness, fmt: str, fw: Framework) -> bytes:
    """One export of an existing readiness result (``fmt`` is one of :data:`FORMATS`)."""
    store = workspace.store
    if fmt not in FORMATS:
        raise AssayError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if fmt in _PER_SYSTEM and result.system is None:
        raise AssayError(f"{fmt} describes one AI system: add --system")
    statement = _statement(workspace) if fw.id == "iso42001" else None
    if fmt == "oscal-catalog":
        return _json(catalog_to_oscal(fw))
    if fmt == "oscal-profile":
        return _json(profile_to_oscal(fw))
    if fmt == "oscal-ssp":
        return _json(ssp(result, get_system(store, str(result.system))))
    if fmt == "oscal-component":
        return _json(component_definition(result, get_system(store, str(result.system))))
    if fmt == "oscal-ar":
        return _json(assessment_results(result))
    if fmt == "oscal-poam":
        return _json(poam(result, _open_capas(workspace, result.system)))
    if fmt == "xlsx":
        return readiness_workbook(result, statement)
    if fmt == "pdf":
        return readiness_pdf(result, statement)
    return _json(result.as_json(with_proofs=True))


def _statement(workspace: Sources) -> soa.SoA | None:
    return soa.current(workspace.store, approved_only=True) or soa.current(workspace.store)


def _open_capas(workspace: Sources, system: str | None) -> list[tuple[str, capa.Capa]]:
    return [
        (record.id, record.data)
        for record in capa.list_capas(workspace.store)
        if record.status != "closed" and (system is None or record.system in (None, system))
    ]


def pack_formats() -> tuple[tuple[str, ...], str | None]:
    """The formats a pack can hold here, and why PDF is left out (None when it is not).

    PDF needs Pango, a system library; a machine without it still gets every
    other report rather than no pack at all.
    """
    from assay.reports.pdf import pdf_available

    problem = pdf_available()
    if problem is None:
        return tuple(FORMATS), None
    return tuple(f for f in FORMATS if f != "pdf"), problem


def report_files(
    workspace: Sources,
    framework_id: str | Framework,
    system: str | None = None,
    *,
    formats: Sequence[str] | None = None,
) -> dict[str, bytes]:
    """File name → content for an audit pack's ``reports/`` folder.

    Names carry the framework (and system) so several frameworks fit in one
    pack: ``oscal-ar-iso42001-support-bot.json``, ``soa-gap-iso42001.pdf``.
    Without ``system``, the organisation-wide view is reported and an SSP and
    component definition are written for every active AI system.
    """
    if formats is None:
        formats = pack_formats()[0]
    fw = _framework(framework_id)
    result = readiness(workspace.store, workspace.ledger, fw, system=system)
    suffix = f"{fw.id}-{system}" if system else fw.id
    names = {
        "oscal-catalog": catalog_href(fw.id),
        "oscal-profile": profile_href(fw.id),
        "oscal-ar": f"oscal-ar-{suffix}.json",
        "oscal-poam": f"oscal-poam-{suffix}.json",
        "xlsx": f"soa-gap-{suffix}.xlsx",
        "pdf": f"soa-gap-{suffix}.pdf",
        "json": f"readiness-{suffix}.json",
    }
    files = {names[f]: render(workspace, result, f, fw) for f in formats if f in names}
    wanted = [f for f in formats if f in _PER_SYSTEM]
    if wanted:
        systems = [system] if system else [s.id for s in list_systems(workspace.store)]
        for system_id in systems:
            scoped = (
                result
                if system_id == system
                else readiness(workspace.store, workspace.ledger, fw, system=system_id)
            )
            for fmt in wanted:
                kind = fmt.removeprefix("oscal-")
                files[f"oscal-{kind}-{fw.id}-{system_id}.json"] = render(workspace, scoped, fmt, fw)
    return files
