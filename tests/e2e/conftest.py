"""A real `assay serve` process and a real Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assay import accounts
from assay.workspace import init_workspace

CHROMIUM = os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"


@dataclass
class Server:
    url: str
    workspace: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    ws = init_workspace(tmp_path / "ws")
    for role in ("admin", "compliance", "auditor", "engineer"):
        accounts.add_user(
            ws.store, ws.ledger, username=role, password=PASSWORD, role=role, actor="setup"
        )
    ws.close()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "assay", "--workspace", str(ws.root), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("assay serve did not start")
    yield Server(url, ws.root)
    process.terminate()
    process.wait(10)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("ASSAY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def shot():  # type: ignore[no-untyped-def]
    """Save a full-page screenshot as a test artifact (test-artifacts/, not committed)."""

    def take(page, name: str) -> None:  # type: ignore[no-untyped-def]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def accessibility():  # type: ignore[no-untyped-def]
    """axe-core (as vendored by axe-playwright-python) on the page: the serious and critical
    violations of WCAG 2.1 A and AA, as readable lines (empty when there are none)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

    def check(page) -> list[str]:  # type: ignore[no-untyped-def]
        found = axe.run(page, options=options).response["violations"]
        return [
            f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in found
            if v["impact"] in ("serious", "critical")
        ]

    return check


@pytest.fixture
def login(server: Server):  # type: ignore[no-untyped-def]
    """Log a page in through the real form."""

    def log_in(page, user: str, start: str = "/systems") -> None:  # type: ignore[no-untyped-def]
        page.goto(f"{server.url}{start}")
        assert "/login" in page.url
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server.url}{start}")

    return log_in
