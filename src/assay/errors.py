"""The errors users see: one base, :class:`AssayError`, and a few kinds under it.

A message says what is wrong, in one sentence; a separate ``hint`` may say what
to do about it, in the words of one face (the CLI's commands). Each face maps
the kinds once: the CLI to exit codes (``cli/main.py``), the web layer to HTTP
statuses (``web/app.py``); neither prints the other's advice. Services raise the
kind that fits, so faces and tests need not read message text.
"""

__all__ = ["AssayError", "Conflict", "Invalid", "NotFound", "UsageError", "VerificationFailed"]


class AssayError(Exception):
    """A failure with a message fit to show a user, and an optional hint for the CLI."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Invalid(AssayError):
    """What was given is not acceptable: a malformed value, an unknown field or option."""


class UsageError(Invalid):
    """The command was called wrongly."""


class NotFound(AssayError):
    """The thing named does not exist (a system, record, entry, user, framework …)."""


class Conflict(AssayError):
    """The request clashes with the current state: it exists already, it is closed or
    archived, or someone changed it meanwhile."""


class VerificationFailed(AssayError):
    """A signature, proof or checkpoint did not verify."""
