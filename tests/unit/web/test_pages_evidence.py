"""The evidence entry page: labelled fields, controls with titles, payload by role."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from assay.ledger import Evidence, Subject
from assay.ledger.evidence import GUARD_DECISION, NOTE
from assay.web.queries import shown_controls, summary_fields
from assay.workspace import Workspace

Clients = dict[str, tuple[TestClient, str]]


def _with_payload(ws: Workspace) -> int:
    seq = ws.ledger.size()
    ws.ledger.append(
        [
            Evidence(
                NOTE,
                "setup",
                {"title": "DPIA", "window": {"events": 2000}, "signals": [{"signal": "blocked"}]},
                Subject("bot"),
                controls=("iso42001:A.6.2.4", "iso42001:Z.9"),
                payload=json.dumps({"private": "pseudonymised list"}).encode(),
            )
        ]
    )
    ws.ledger.checkpoint()
    return seq


def test_summary_fields_are_labelled_and_flat() -> None:
    fields = summary_fields(
        {
            "level": "alert",
            "window": {"events": 10},
            "signals": [{"signal": "x", "ok": True}],
            "names": ["a", "b"],
            "none": None,
        }
    )
    assert fields == [
        ("level", "alert"),
        ("window › events", "10"),
        ("signals [1] › signal", "x"),
        ("signals [1] › ok", "yes"),
        ("names", "a, b"),
        ("none", "—"),
    ]
    many = summary_fields({f"k{i}": i for i in range(1000)})
    assert len(many) == 301 and many[-1][0] == "…"


def test_controls_with_titles_and_by_type_for_entries_citing_none(workspace: Workspace) -> None:
    cited, uncited = shown_controls(
        workspace,
        [
            {"type": NOTE, "controls": ["iso42001:A.6.2.4", "iso42001:Z.9"]},
            {"type": GUARD_DECISION, "controls": []},
        ],
    )
    assert cited[0]["title"] and not cited[0]["by_type"]
    assert cited[1] == {"ref": "iso42001:Z.9", "title": None, "by_type": False}
    assert {c["ref"] for c in uncited} >= {"iso42001:A.6.2.6", "eu-ai-act:Art.12(2)"}
    assert all(c["by_type"] and c["title"] for c in uncited)


def test_payload_shown_to_pack_exporting_roles_only(workspace: Workspace, clients: Clients) -> None:
    seq = _with_payload(workspace)
    for role in ("auditor", "compliance", "admin"):
        client, _ = clients[role]
        page = client.get(f"/evidence/{seq}").text
        assert "pseudonymised list" in page and "Download the payload" in page, role
        download = client.get(f"/evidence/{seq}/payload")
        assert download.status_code == 200 and b"pseudonymised list" in download.content
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment")
    for role in ("viewer", "engineer"):
        client, _ = clients[role]
        page = client.get(f"/evidence/{seq}").text
        assert "pseudonymised" not in page and "may not see payload content" in page, role
        assert client.get(f"/evidence/{seq}/payload").status_code == 403
    auditor, _ = clients["auditor"]
    page = auditor.get(f"/evidence/{seq}").text
    assert "window › events" in page and "(not in the catalogs)" in page
    assert 'id="proof-data"' in page
    assert '<script type="module" src="/static/entry-page.js">' in page
    assert auditor.get("/evidence/0/payload").status_code == 404
