"""Recording evidence through the browser form: roles, CSRF, errors beside fields."""

from __future__ import annotations

import re
from urllib.parse import unquote

from fastapi.testclient import TestClient

from assay.ledger.evidence import EVAL_REPORT, NOTE
from assay.workspace import Workspace

Clients = dict[str, tuple[TestClient, str]]


def _form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, "type": NOTE, "title": "Model card reviewed", **fields}


def test_refused_below_the_aims_writing_roles_and_without_csrf(clients: Clients) -> None:
    for role in ("viewer", "engineer", "auditor"):
        client, csrf = clients[role]
        assert client.get("/evidence/new").status_code == 403, role
        refused = client.post("/evidence/new", data=_form(csrf), files={"file": ("", b"")})
        assert refused.status_code == 403, role
    client, _ = clients["compliance"]
    forged = client.post("/evidence/new", data=_form("wrong"), files={"file": ("", b"")})
    assert forged.status_code == 403 and "CSRF" in forged.text


def test_errors_are_shown_beside_their_fields(workspace: Workspace, clients: Clients) -> None:
    client, csrf = clients["compliance"]
    before = workspace.ledger.size()
    page = client.post(
        "/evidence/new",
        data=_form(csrf, title=" ", controls="iso42001:A.6.2.4 iso42001:A.99", system="ghost"),
        files={"file": ("", b"")},
    )
    assert page.status_code == 400
    field_error = r'<p class="error field-error" id="err-(\w+)" role="alert">([^<]+)</p>'
    errors = dict(re.findall(field_error, page.text))
    assert set(errors) == {"title", "controls", "system"}
    assert "A.99" in errors["controls"] and "A.6.2.4" not in errors["controls"]
    assert "ghost" in errors["system"]
    assert 'name="controls" type="text" value="iso42001:A.6.2.4 iso42001:A.99"' in page.text
    assert "3 fields need a change" in page.text
    assert 'aria-describedby="err-system"' in page.text
    assert workspace.ledger.size() == before  # nothing written


def test_recorded_with_the_user_as_actor_and_the_file_as_payload(
    workspace: Workspace, clients: Clients
) -> None:
    client, csrf = clients["compliance"]
    done = client.post(
        "/evidence/new",
        data=_form(
            csrf,
            type=EVAL_REPORT,
            controls="iso42001:A.6.2.4, nist-ai-rmf:MEASURE-2.7",
            system="bot",
            outcome="passed",
            statement="Bias evaluation on the Q3 set",
        ),
        files={"file": ("report.pdf", b"%PDF-1.7 ...", "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    seq = int(done.headers["location"].split("/")[2].split("?")[0])
    assert done.headers["location"].endswith("?notice=recorded")
    entry = workspace.ledger.get(seq).decoded()
    assert entry["type"] == EVAL_REPORT and entry["actor"] == "compliance@web"
    assert entry["controls"] == ["iso42001:A.6.2.4", "nist-ai-rmf:MEASURE-2.7"]
    assert entry["summary"] == {
        "title": "Model card reviewed",
        "statement": "Bias evaluation on the Q3 set",
        "passed": True,
    }
    assert entry["payload"]["media_type"] == "application/pdf"
    assert workspace.ledger.payload(seq) == b"%PDF-1.7 ..."
    assert "was recorded in the ledger" in client.get(done.headers["location"]).text


def test_gap_next_action_links_to_the_form(clients: Clients) -> None:
    compliance, _ = clients["compliance"]
    page = compliance.get("/controls", params={"framework": "iso42001", "system": "bot"}).text
    links = re.findall(r'<a href="(/evidence/new\?[^"]+)" class="next-form">', page)
    assert links and all("system=bot" in link for link in links)
    form = compliance.get(links[0].replace("&amp;", "&")).text
    control = re.search(r"control=([^&]+)", links[0])
    assert control is not None and unquote(control.group(1)) in form
    viewer, _ = clients["viewer"]
    assert 'class="next-form"' not in viewer.get("/controls").text
