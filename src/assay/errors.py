"""The one exception type users see.

Every failure a user can cause or fix is raised as an :class:`AssayError` whose
message is one sentence naming the problem and the fix. The CLI prints it
without a traceback; library callers can catch it.
"""

__all__ = ["AssayError", "UsageError"]


class AssayError(Exception):
    """A failure with a message fit to show a user (exit code 1)."""

    exit_code = 1


class UsageError(AssayError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2
