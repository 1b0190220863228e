"""Helpers every command group shares: global options, output, workspace access."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.console import Console

from assay.config import resolve_workspace
from assay.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from assay.guard import Guard
    from assay.ledger import Batcher

__all__ = [
    "GlobalOptions",
    "Printable",
    "actor",
    "console",
    "done",
    "err_console",
    "open_ws",
    "options",
    "print_json",
    "workspace",
    "workspace_path",
]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class GlobalOptions:
    """Options given before the command (``assay --workspace W ledger tail``)."""

    workspace: Path | None = None
    debug: bool = False


options = GlobalOptions()


def workspace_path() -> Path:
    """The workspace selected by ``--workspace``, ``ASSAY_HOME`` or the default."""
    return resolve_workspace(options.workspace)


class Printable(Protocol):
    """A record that can show itself as JSON."""

    def as_json(self) -> dict[str, Any]: ...


def done(record: Printable, json_output: bool, message: str) -> None:
    """After a change: the record as JSON with ``--json``, else a one-line message."""
    if json_output:
        print_json(record.as_json())
    else:
        console.print(message, markup=False)


def print_json(value: Any) -> None:
    """Machine output for ``--json``: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def open_ws() -> Workspace:
    """Open the selected workspace (clear error if there is none)."""
    return open_workspace(workspace_path())


@contextmanager
def workspace() -> Iterator[Workspace]:
    """The selected workspace, closed afterwards."""
    ws = open_ws()
    try:
        yield ws
    finally:
        ws.close()


def actor() -> str:
    """Who is acting: ``ASSAY_ACTOR``, else the OS user at the CLI."""
    return os.environ.get("ASSAY_ACTOR") or f"{getpass.getuser()}@cli"


# Options shared by the two servers (`assay gateway`, `assay serve`).
MetricsOption = Annotated[
    bool, typer.Option(help="Serve /metrics in Prometheus text format (no content).")]
LogFormatOption = Annotated[
    str, typer.Option(help="Request and server logs as 'text' or 'json' (one line each).")]
DrainOption = Annotated[
    int, typer.Option(min=0, help="On SIGTERM, seconds requests and streams in flight may "
                                  "take to finish before they are cut.")]


def load_guard(policy: str, on_decision: Any = None) -> Guard:
    """The guard for ``--policy``: a YAML file, or ``default`` for the built-in policy."""
    from assay.guard import Guard

    if policy == "default":
        return Guard.default(on_decision=on_decision)
    return Guard.from_policy(Path(policy), on_decision=on_decision)


def evidence_batcher(ws: Workspace) -> Batcher:
    """A batcher for a command's evidence that signs checkpoints as the workspace asks."""
    from assay.ledger import Batcher

    return Batcher.for_workspace(ws.ledger, ws.spill_dir, ws.settings)
