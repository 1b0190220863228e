"""OSCAL catalog exports validate against compliance-trestle's OSCAL models."""

from __future__ import annotations

import copy
import json

import pytest

trestle_catalog = pytest.importorskip("trestle.oscal.catalog")
from pydantic import ValidationError  # noqa: E402

from assay.reports.oscal import catalog_to_oscal, oscal_token  # noqa: E402


def _all_ids(node: dict) -> list[str]:
    ids = [node["id"]] if "id" in node else []
    for key in ("groups", "controls"):
        for child in node.get(key, []):
            ids += _all_ids(child)
    return ids


@pytest.mark.parametrize("framework_id", ["iso42001", "eu-ai-act", "nist-ai-rmf", "fca", "sec"])
def test_catalog_validates_with_trestle(framework_id: str) -> None:
    doc = catalog_to_oscal(framework_id)
    model = trestle_catalog.Catalog.model_validate(doc["catalog"])
    assert model.metadata.oscal_version.root.root == "1.1.2"
    ids = _all_ids(doc["catalog"])
    assert len(ids) == len(set(ids))
    assert json.loads(json.dumps(doc)) == doc  # plain JSON, reproducible
    assert catalog_to_oscal(framework_id) == doc


def test_iso_export_has_every_control_with_label() -> None:
    doc = catalog_to_oscal("iso42001")
    labels = json.dumps(doc)
    assert doc["catalog"]["metadata"]["title"].startswith("ISO/IEC 42001")
    for control in ("A.2.2", "A.6.2.4", "A.10.4"):
        assert f'"value": "{control}"' in labels


def test_trestle_rejects_a_broken_document() -> None:
    doc = copy.deepcopy(catalog_to_oscal("eu-ai-act"))
    doc["catalog"]["groups"][0]["id"] = "Art.9(2)"  # parentheses are not an OSCAL token
    with pytest.raises(ValidationError):
        trestle_catalog.Catalog.model_validate(doc["catalog"])


def test_oscal_token() -> None:
    assert oscal_token("Art.9(2)(a)") == "Art.9_2_a"
    assert oscal_token("6.1.3") == "c6.1.3"
    assert oscal_token("GOVERN-1.1") == "GOVERN-1.1"
