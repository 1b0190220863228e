"""Every `assay …` command line in the docs and in the CLI's own help examples exists.

A user copies these lines; a renamed command or option must fail here, not in
their terminal (issue #18: tested docs). Each shell block of README.md and
docs/**/*.md is split like a shell would (continuations joined, comments and
pipes cut), and every `assay` invocation is walked through the real click tree:
each subcommand must exist and each `--option` must belong to the command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from assay.cli.main import app

ROOT = Path(__file__).parents[3]
_FENCE = re.compile(r"^```(\w*)\s*$")
_SHELL = {"sh", "bash", "shell", "console"}  # unlabelled blocks hold diagrams and output
_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&", "2>", "(", ")"}


def _shell_blocks(text: str) -> Iterator[str]:
    """The lines of fenced shell blocks, with backslash continuations joined."""
    language: str | None = None
    pending = ""
    for line in text.splitlines():
        fence = _FENCE.match(line.strip())
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language is None or language not in _SHELL:
            continue
        stripped = line.strip().removeprefix("$ ")
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        yield pending + stripped
        pending = ""


def _invocations(line: str) -> Iterator[list[str]]:
    """Each `assay …` command of one shell line, as argv without the program name."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote in prose-like lines: not a command
        return
    segment: list[str] = []
    for token in [*tokens, ";"]:
        if token in _OPERATORS or set(token) <= set("|&;<>()"):
            if segment[:1] == ["assay"]:
                yield segment[1:]
            segment = []
        else:
            segment.append(token)


def _doc_commands() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for line in _shell_blocks(path.read_text(encoding="utf-8")):
            found += [(f"{path.relative_to(ROOT)}: {line}", argv) for argv in _invocations(line)]
    return found


# Typer builds its commands on a click of its own: groups are told apart by their subcommands.
Command = Any


def _subcommands(command: Command) -> dict[str, Command] | None:
    commands = getattr(command, "commands", None)
    return commands if isinstance(commands, dict) else None


def _help_examples(command: Command, path: str = "assay") -> Iterator[tuple[str, str]]:
    for line in (command.help or "").splitlines():
        text = line.strip().removeprefix("Example:").strip()
        if text.startswith("assay "):
            yield path, text
    for name, sub in (_subcommands(command) or {}).items():
        yield from _help_examples(sub, f"{path} {name}")


ROOT_COMMAND = typer.main.get_command(app)


def _option_names(command: Command) -> dict[str, Any]:
    names: dict[str, Any] = {"--help": None}
    for param in command.params:
        for name in [*param.opts, *param.secondary_opts]:
            if name.startswith("-"):
                names[name] = param
    return names


def _problem(argv: list[str]) -> str | None:
    """Why ``assay argv`` would not parse, or None."""
    command: Command = ROOT_COMMAND
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--":
            return None  # the rest belongs to another program (e.g. an MCP server command)
        if word.startswith("-") and word != "-":  # "-" alone is stdin, an argument
            name = word.split("=", 1)[0]
            options = _option_names(command)
            if name not in options and not re.fullmatch(r"-[a-zA-Z]{2,}", name):
                return f"`{command.name}` has no option {name}"
            param = options.get(name)
            takes_value = param is not None and not getattr(param, "is_flag", True)
            if takes_value and "=" not in word and _subcommands(command) is not None and words:
                words.pop(0)  # a group option's value is not a subcommand
            continue
        subcommands = _subcommands(command)
        if subcommands is not None:
            if word not in subcommands:
                return f"`{command.name}` has no command {word!r}"
            command = subcommands[word]
    return None


DOC_COMMANDS = _doc_commands()


def test_the_docs_hold_commands() -> None:
    assert len(DOC_COMMANDS) > 60  # the walk sees the docs (a broken parser finds none)


@pytest.mark.parametrize(("where", "argv"), DOC_COMMANDS, ids=[w for w, _ in DOC_COMMANDS])
def test_documented_command_exists(where: str, argv: list[str]) -> None:
    assert _problem(argv) is None, f"{where}: {_problem(argv)}"


def test_help_examples_exist() -> None:
    examples = list(_help_examples(ROOT_COMMAND))
    assert len(examples) > 20
    problems = [
        f"{path}: {text}: {problem}"
        for path, text in examples
        for argv in _invocations(text)
        if (problem := _problem(argv)) is not None
    ]
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_wrong_command() -> None:
    assert _problem(["ledger", "verify"]) is None
    assert _problem(["ledger", "verifyy"]) is not None
    assert _problem(["comply", "export", "--frobnicate"]) is not None
    assert _problem(["--workspace", "ws", "ledger", "checkpoint"]) is None
