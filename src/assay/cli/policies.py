"""``assay policies``: AI policies (ISO/IEC 42001 5.2, A.2): versioned, approved, reviewed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from assay.aims import policy
from assay.cli._common import actor, done, workspace
from assay.cli.aims import JsonFlag, emit, parse_date
from assay.errors import UsageError

__all__ = ["app"]

app = typer.Typer(help="AI policies: add, update, approve, list.", no_args_is_help=True)
COLUMNS = ("id", "status", "revision", "title", "approved_by", "review_due")


@app.command("add")
def add(
    title: Annotated[str, typer.Option(help="Policy title.")],
    body: Annotated[str, typer.Option(help="Text (or a summary).")] = "",
    document: Annotated[str, typer.Option(help="Link to the authoritative document.")] = "",
    owner: Annotated[str, typer.Option(help="Policy owner.")] = "",
    review_due: Annotated[str | None, typer.Option(help="Next review YYYY-MM-DD.")] = None,
    aligned_with: Annotated[
        list[str] | None, typer.Option("--aligned-with", help="Related policy; repeat.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Add a policy (draft, revision 1).

    Example: assay policies add --title "AI policy" --owner CISO --review-due 2027-01-31
    """
    due = parse_date(review_due, "--review-due")
    fields: dict[str, Any] = {
        "title": title,
        "body": body,
        "document": document,
        "owner": owner,
        "review_due": due,
        "aligned_with": aligned_with or [],
    }
    with workspace() as ws:
        made = policy.add_policy(ws.store, ws.ledger, fields, actor=actor())
    done(made, json_output, f"Added {made.id} (draft)")


@app.command("update")
def update(
    policy_id: Annotated[str, typer.Argument(help="Policy ID, e.g. POL-001.")],
    title: Annotated[str | None, typer.Option(help="Title.")] = None,
    body: Annotated[str | None, typer.Option(help="Text.")] = None,
    document: Annotated[str | None, typer.Option(help="Link.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner.")] = None,
    review_due: Annotated[str | None, typer.Option(help="Next review YYYY-MM-DD.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Change a policy: a new revision, draft until approved.

    Example: assay policies update POL-001 --body "..." --review-due 2027-06-30
    """
    changes: dict[str, Any] = {
        k: v
        for k, v in (("title", title), ("body", body), ("document", document), ("owner", owner))
        if v is not None
    }
    if review_due:
        changes["review_due"] = parse_date(review_due, "--review-due")
    if not changes:
        raise UsageError("nothing to change: give at least one option (see --help)")
    with workspace() as ws:
        made = policy.update_policy(ws.store, ws.ledger, policy_id, changes, actor=actor())
    done(made, json_output, f"{made.id} revision {made.data.revision} (draft)")


@app.command("approve")
def approve(
    policy_id: Annotated[str, typer.Argument(help="Policy ID.")], json_output: JsonFlag = False
) -> None:
    """Approve the current revision.

    Example: ASSAY_ACTOR=ceo@example.com assay policies approve POL-001
    """
    with workspace() as ws:
        made = policy.approve_policy(ws.store, ws.ledger, policy_id, actor=actor())
    done(made, json_output, f"{made.id} revision {made.data.revision} approved by {actor()}")


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List policies.

    Example: assay policies list --json
    """
    with workspace() as ws:
        emit(policy.list_policies(ws.store), json_output, COLUMNS)


@app.command("show")
def show(
    policy_id: Annotated[str, typer.Argument(help="Policy ID.")], json_output: JsonFlag = False
) -> None:
    """Show one policy.

    Example: assay policies show POL-001
    """
    with workspace() as ws:
        emit(policy.get_policy(ws.store, policy_id), json_output)
