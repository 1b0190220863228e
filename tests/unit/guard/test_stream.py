"""Streamed output: a secret or an e-mail split across chunks is caught at every split point."""

from __future__ import annotations

from typing import Any

import pytest

from assay.guard import DecisionContext, Guard, StreamChecker, Verdict

POLICY = """\
version: 1
latency_budget_ms: null
output:
  - validator: secrets
    action: block
  - validator: pii
    action: redact
stream: {mode: windowed, window: 40, overlap: 28}
"""
EMAIL = "jo.smith@example.com"
SECRET = "AKIAIOSFODNN7EXAMPLE"
EMAIL_TEXT = (f"Thanks for asking. You can write to {EMAIL} and our team "
              "will answer within two working days; have a good afternoon.")
SECRET_TEXT = (f"Sure, here is the configuration: the access key is {SECRET} and the "
               "region is eu-west-1, as discussed earlier today.")


def run(checker: StreamChecker, chunks: list[str]) -> tuple[str, list[str]]:
    released: list[str] = []
    for chunk in chunks:
        update = checker.feed(chunk)
        released.append(update.text)
        if update.blocked:
            break
    released.append(checker.finish().text)
    return "".join(released), [r for r in released if r]


def splits(text: str) -> list[list[str]]:
    """Every two-way split, and every three-way split with a 9-character middle."""
    out = [[text[:i], text[i:]] for i in range(len(text) + 1)]
    out += [[text[:i], text[i:i + 9], text[i + 9:]] for i in range(len(text) - 8)]
    return out


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard.from_yaml(POLICY)


def test_email_split_anywhere_is_redacted_before_release(guard: Guard) -> None:
    expected = EMAIL_TEXT.replace(EMAIL, "[REDACTED]")
    for chunks in splits(EMAIL_TEXT):
        released, _ = run(guard.stream(), chunks)
        assert released == expected, chunks


def test_secret_split_anywhere_blocks_and_is_never_released(guard: Guard) -> None:
    for chunks in splits(SECRET_TEXT):
        checker = guard.stream()
        released, _ = run(checker, chunks)
        assert checker.action == "block", chunks
        assert "AKIA" not in released, chunks
        assert SECRET_TEXT.startswith(released)


def test_char_by_char_releases_early_and_in_order(guard: Guard) -> None:
    checker = guard.stream()
    released, pieces = run(checker, list(EMAIL_TEXT))
    assert released == EMAIL_TEXT.replace(EMAIL, "[REDACTED]")
    assert len(pieces) > 3  # text went out before the end of the stream
    verdict = checker.verdict
    assert verdict.action == "redact"
    assert verdict.redacted_text == released
    emails = [f for f in verdict.findings if f.label == "EMAIL_ADDRESS"]
    assert len(emails) == 1
    (start, end), = emails[0].spans
    assert EMAIL_TEXT[start:end] == EMAIL  # offsets into the whole stream


def test_buffer_mode_releases_only_at_the_end(guard: Guard) -> None:
    checker = guard.stream(mode="buffer")
    pieces = [checker.feed(c).text for c in (EMAIL_TEXT[:30], EMAIL_TEXT[30:])]
    assert pieces == ["", ""]
    assert checker.finish().text == EMAIL_TEXT.replace(EMAIL, "[REDACTED]")


def test_flag_mode_releases_at_once_and_flags(guard: Guard) -> None:
    checker = guard.stream(mode="flag")
    chunks = [EMAIL_TEXT[i:i + 7] for i in range(0, len(EMAIL_TEXT), 7)]
    released, _ = run(checker, chunks)
    assert released == EMAIL_TEXT
    assert checker.action == "redact"
    assert any(f.label == "EMAIL_ADDRESS" for f in checker.verdict.findings)


def test_one_decision_per_stream() -> None:
    decisions: list[tuple[Verdict, DecisionContext]] = []
    guard = Guard.from_yaml(POLICY, on_decision=lambda v, d: decisions.append((v, d)))
    run(guard.stream(prompt="q"), [EMAIL_TEXT[i:i + 5] for i in range(0, len(EMAIL_TEXT), 5)])
    assert len(decisions) == 1
    verdict, decision = decisions[0]
    assert decision.stream and decision.direction == "output" and decision.text == EMAIL_TEXT
    assert verdict.action == "redact"
    decisions.clear()
    run(guard.stream(), [SECRET_TEXT[i:i + 5] for i in range(0, len(SECRET_TEXT), 5)])
    assert len(decisions) == 1 and decisions[0][0].action == "block"


def test_empty_stream_and_feeding_after_finish(guard: Guard) -> None:
    checker = guard.stream()
    assert checker.finish().text == ""
    assert checker.feed("late").text == ""
    assert checker.action == "allow"


def test_bad_settings_are_refused(guard: Guard) -> None:
    kwargs: dict[str, Any]
    for kwargs in ({"mode": "teleport"}, {"window": 32, "overlap": 32}):
        with pytest.raises(ValueError, match="stream"):
            guard.stream(**kwargs)


JWT = ("eyJ" + ("hbGciOiJIUzI1NiJ9x" * 30)[:400] + ".eyJ" + ("zdWIiOiIxMjM0NTY3ODkwIn0y" * 30)[:600]
       + "." + ("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c" * 4)[:164])


def test_windowed_holds_a_token_longer_than_the_window() -> None:
    """Issue #19 item 4: a 1,172-character JWT streamed through windowed mode with allow."""
    assert len(JWT) == 1172
    guard = Guard.from_yaml(POLICY.replace("window: 40, overlap: 28", "window: 256, overlap: 64"))
    text = "Here is the session token you asked for: " + JWT + " and that is all."
    checker = guard.stream()
    released, _ = run(checker, [text[i:i + 8] for i in range(0, len(text), 8)])
    assert checker.action == "block"
    assert "eyJ" not in released and text.startswith(released)


def test_windowed_redacts_only_spans_of_redact_rules() -> None:
    """Issue #19 item 5: a warn-only finding must not cut text out of the stream."""
    policy = POLICY.replace("validator: pii\n    action: redact",
                            "validator: pii\n    action: warn\n"
                            "  - validator: banned_substrings\n    substrings: [refunds]\n"
                            "    action: redact")
    text = "Write to jo.smith@example.com about refunds, we answer within two working days."
    chunks = [text[i:i + 5] for i in range(0, len(text), 5)]
    released, _ = run(Guard.from_yaml(policy).stream(), chunks)
    assert released == text.replace("refunds", "[REDACTED]")


def test_checks_on_tells_which_chunk_runs_a_check(guard: Guard) -> None:
    checker = guard.stream()  # windowed, window 40
    assert not checker.checks_on(39) and checker.checks_on(40)
    checker.feed("x" * 30)
    assert not checker.checks_on(9) and checker.checks_on(10)
    assert not guard.stream(mode="buffer").checks_on(10_000)  # buffer checks only at the end
