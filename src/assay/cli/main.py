"""The root `assay` command: global options, error handling, command groups.

Errors are one sentence on stderr with the fix; exit code 2 for usage errors,
1 for failures; a traceback only with ``--debug`` (or ``ASSAY_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from assay import __version__
from assay.cli._common import err_console, options
from assay.errors import AssayError, Conflict, Invalid, NotFound, VerificationFailed

__all__ = ["app", "run"]

app = typer.Typer(
    name="assay",
    help="Assay: test, guard and prove your AI systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"assay {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace", "-w", help="Workspace directory (default: $ASSAY_HOME or ./.assay)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Assay: test, guard and prove your AI systems."""
    options.workspace = workspace
    options.debug = debug or options.debug


def _register_groups() -> None:
    """Attach every command group; each lives in its own module."""
    from assay.cli import (
        aims,
        audits,
        capa,
        comply,
        db,
        demo,
        doctor,
        drift,
        gateway,
        guard,
        impact,
        init,
        ledger,
        mcp,
        objectives,
        pack,
        policies,
        review,
        risks,
        roles,
        scan,
        serve,
        soa,
        systems,
    )
    from assay.cli import eval as eval_

    init.register(app)
    demo.register(app)
    serve.register(app)
    eval_.register(app)
    doctor.register(app)
    groups = {
        "db": db, "systems": systems, "ledger": ledger, "pack": pack, "gateway": gateway,
        "comply": comply, "guard": guard, "drift": drift, "scan": scan, "mcp": mcp,
        # The AIMS registers (docs/aims.md).
        "aims": aims, "policies": policies, "roles": roles, "risks": risks, "impact": impact,
        "soa": soa, "objectives": objectives, "audits": audits, "capa": capa, "review": review,
    }  # fmt: skip
    for name, module in groups.items():
        app.add_typer(module.app, name=name)


_register_groups()


#: Exit code per kind of error (the first that matches); other failures exit 1.
#: 3 is taken: `assay guard check` exits 3 when the policy blocks.
EXIT_CODES: tuple[tuple[type[AssayError], int], ...] = (
    (Invalid, 2),
    (NotFound, 4),
    (Conflict, 5),
    (VerificationFailed, 1),
)


def exit_code(exc: AssayError) -> int:
    """The exit code for an error that ends a command."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), 1)


def describe(exc: AssayError) -> str:
    """The message and, when there is one, what to do about it at the command line."""
    return f"{exc.message}: {exc.hint}" if exc.hint else str(exc)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (see :data:`EXIT_CODES`; failures 1)."""
    args = sys.argv[1:] if argv is None else argv
    options.debug = "--debug" in args or os.environ.get("ASSAY_DEBUG") == "1"
    try:
        app(args=args, prog_name="assay")  # standalone: usage errors print and exit 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except AssayError as exc:
        if options.debug:
            raise
        err_console.print(f"error: {describe(exc)}", markup=False)
        return exit_code(exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if options.debug:
            raise
        err_console.print(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            markup=False,
        )
        return 1
    return 0


def console_script() -> None:
    """``assay`` on the PATH."""
    sys.exit(run())
