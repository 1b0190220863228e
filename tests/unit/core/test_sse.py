"""The one event-stream reader: WHATWG HTML §9.2.6, the data field."""

from __future__ import annotations

from assay.sse import EventStream, events


def test_events_are_dispatched_by_blank_lines_and_joined() -> None:
    lines = [": a comment", "data: {\"a\": 1}", "", "data:one", "data: two", "id: 7", "",
             "event: ping", "", "data: [DONE]", ""]
    assert list(events(lines)) == ['{"a": 1}', "one\ntwo", "[DONE]"]


def test_an_unfinished_event_is_discarded_and_crlf_is_stripped() -> None:
    assert list(events(["data: complete\r", "\r", "data: half"])) == ["complete"]
    stream = EventStream()
    assert stream.feed("data:  two spaces") is None
    assert stream.feed("") == " two spaces"  # only one space after the colon is dropped
    assert stream.feed("") is None  # a blank line with no data dispatches nothing
