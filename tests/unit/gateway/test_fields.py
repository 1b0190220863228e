"""Redactions over a message's joined parts are cut back to each part exactly."""

from __future__ import annotations

from assay.gateway.fields import Slot, joined, message_slots, redacted_texts


def test_spans_map_back_to_each_part_including_across_the_joint() -> None:
    message = {"role": "user", "content": ["call jane", {"type": "text", "text": "doe now"},
                                           {"type": "image_url"}]}
    slots = message_slots(message)
    text = joined(slots)
    assert text == "call jane\ndoe now"
    start = text.index("jane")
    spans = [(start, text.index(" now"))]  # "jane\ndoe" spans both parts
    assert redacted_texts(slots, spans, None) == ["call [REDACTED]", "[REDACTED] now"]


def test_without_spans_several_parts_are_replaced_whole() -> None:
    holder = ["a", "", "b"]
    slots = [Slot(holder, i) for i in range(3)]
    assert redacted_texts(slots, [], "ignored") == ["[REDACTED]", "", "[REDACTED]"]
    assert redacted_texts(slots[:1], [], "x") == ["x"]
