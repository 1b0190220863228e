"""Pins: what a digest covers, how the file is kept, and a damaged file refused."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import mcp_types as types
import pytest

from assay.errors import Invalid
from assay.mcp import PinStore, definition_digest


def tool(description: str = "Current weather.", **changes: object) -> types.Tool:
    base = types.Tool(name="get_weather", description=description,
                      input_schema={"type": "object", "properties": {"city": {"type": "string"}}})
    return base.model_copy(update=changes)


def test_every_field_a_client_may_show_changes_the_digest() -> None:
    first = definition_digest(tool())
    assert definition_digest(tool()) == first
    assert definition_digest(tool("Current weather!")) != first
    assert definition_digest(tool(title="Weather")) != first
    assert definition_digest(tool(input_schema={"type": "object"})) != first
    assert definition_digest(tool(annotations=types.ToolAnnotations(read_only_hint=True))) != first


def test_pins_persist_and_a_second_store_sees_them(tmp_path: Path) -> None:
    store = PinStore(tmp_path)
    assert store.get("demo", "get_weather") is None
    made = store.pin("demo", tool(), actor="me@cli")
    assert made.digest == definition_digest(tool())
    again = PinStore(tmp_path).get("demo", "get_weather")
    assert again == made
    assert store.pins() == {"demo": {"get_weather": made}}


def test_concurrent_approvals_keep_each_others_pins(tmp_path: Path) -> None:
    stores = [PinStore(tmp_path) for _ in range(8)]
    threads = [threading.Thread(target=s.pin, args=(f"server-{i}", tool()),
                                kwargs={"actor": "me"}) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(PinStore(tmp_path).pins()) == 8


def test_a_damaged_pin_file_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    store = PinStore(tmp_path)
    store.pin("demo", tool(), actor="me")
    store.path.write_text(json.dumps({"schema": 1, "servers": {"demo": {"get_weather": {}}}}))
    with pytest.raises(Invalid):
        PinStore(tmp_path).get("demo", "get_weather")
    store.path.write_text("{not json")
    with pytest.raises(Invalid):
        PinStore(tmp_path).get("demo", "get_weather")


def test_a_bad_server_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Invalid):
        PinStore(tmp_path).pin("../etc", tool(), actor="me")
