"""Named-entity PII from the guard encoder's token head (issue #23).

The sentences, names, product names and code identifiers below were written for
these tests; none is in the head's training lists (``training/pii_synth.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.guard import Guard
from assay.validators import get_validator, names
from assay.validators.encoder import get_encoder
from assay.validators.names import NameTagger
from assay.validators.pii import PiiValidator

#: One sentence per language, with the person's name it must find.
FOUR_LANGUAGES = [
    ("Can you remind Wilhelmina Castellanos about the dentist appointment?",
     "Wilhelmina Castellanos"),
    ("Bitte leite die Kündigung an Hans-Jörg Wendler weiter, er wohnt in Regensburg.",
     "Hans-Jörg Wendler"),
    ("Le dossier de Bérénice Lagarde est incomplet, il manque son justificatif.",
     "Bérénice Lagarde"),
    ("Ayer hablé con Esperanza Villalobos sobre el presupuesto.", "Esperanza Villalobos"),
]

#: Capitalised words that are not personal data: products, tools, code identifiers.
NOT_NAMES = [
    "How do I migrate from Jenkins to GitHub Actions without breaking the Gradle build?",
    "Our Kubernetes pods crash when Redis Sentinel fails over; Prometheus shows nothing.",
    "Write a TypeScript function parseInvoiceLine(line: string): InvoiceLine with Zod.",
    "Compare Adobe Photoshop, Affinity Photo and GIMP for RAW editing.",
    "The UserAccountService.resetPassword() call throws NullPointerException in Spring Boot.",
    "Is the Samsung Galaxy Tab S9 better than the Apple iPad Air for note taking?",
    "Explain what React.useEffect does and when StrictMode calls it twice.",
    "Convert this pandas DataFrame to Apache Arrow and write it to Parquet.",
    "Wie konfiguriere ich Nginx als Reverse Proxy für Grafana?",
    "¿Cómo instalo PostgreSQL y pgAdmin en Ubuntu Server?",
]
_NAME_LIKE = {"PERSON", "LOCATION", "ADDRESS"}


@pytest.fixture(scope="module")
def pii() -> PiiValidator:
    return PiiValidator(names=True)


@pytest.mark.parametrize(("text", "name"), FOUR_LANGUAGES)
def test_names_in_four_languages_are_found(pii: PiiValidator, text: str, name: str) -> None:
    found = [(text[s:e], ent) for s, e, ent, _ in pii.spans(text)]
    assert (name, "PERSON") in found


@pytest.mark.parametrize(("text", "name"), FOUR_LANGUAGES)
def test_default_policy_redacts_names_span_exact(text: str, name: str) -> None:
    verdict = Guard.default().check_input(text)
    assert verdict.action == "redact"
    assert verdict.redacted_text == text.replace(name, "[REDACTED]")


def test_redaction_maps_through_normalisation(pii: PiiValidator) -> None:
    # zero-width characters inside the name and a full-width comma: the normalised text
    # differs, the span still covers the original characters exactly
    text = "Contact Ma\u200brgarethe Oberhol\u200czer\uff0c she handles refunds."
    spans = [(s, e) for s, e, ent, _ in pii.spans(text) if ent == "PERSON"]
    assert [text[s:e] for s, e in spans] == ["Ma\u200brgarethe Oberhol\u200czer"]


@pytest.mark.parametrize("text", NOT_NAMES)
def test_product_names_and_identifiers_are_not_names(pii: PiiValidator, text: str) -> None:
    found = [(text[slice(*f.spans[0])], f.label) for f in pii.check(text)
             if f.label in _NAME_LIKE]
    assert found == []


def test_checksummed_identifiers_win_overlaps(pii: PiiValidator) -> None:
    text = "Refund card 4539 1488 0343 6467 for Rosalind Featherstone, please."
    found = {ent: text[s:e] for s, e, ent, _ in pii.spans(text)}
    assert found["CREDIT_CARD"] == "4539 1488 0343 6467"
    assert found["PERSON"] == "Rosalind Featherstone"


def test_one_forward_pass_serves_classifiers_and_names() -> None:
    text = "Please ask Cornelius Abernathy to review the contract before Monday."
    guard = Guard.default()
    model = get_encoder()
    before = model.runs
    verdict = guard.check_input(text)
    assert model.runs - before == 1
    assert "PERSON" in {f.label for f in verdict.findings}


def test_entities_pick_what_is_reported() -> None:
    text = "Lorenza Quintero moved to Valparaíso; mail lq@example.org"
    only_person = get_validator("pii", entities=["PERSON"])
    assert {f.label for f in only_person.check(text)} == {"PERSON"}
    assert get_validator("pii").tier == 0  # identifiers alone: no model
    assert only_person.tier == 2
    assert {f.label for f in get_validator("pii").check(text)} == {"EMAIL_ADDRESS"}


def test_unknown_entity_is_refused() -> None:
    with pytest.raises(AssayError, match="does not know"):
        get_validator("pii", entities=["PERSONS"])


# -- the head file ----------------------------------------------------------------------

def _copy_head(tmp_path: Path) -> tuple[Path, Path]:
    head, card = tmp_path / "pii_head.npz", tmp_path / "pii_head.json"
    shutil.copyfile(names.HEAD_FILE, head)
    shutil.copyfile(names.CARD_FILE, card)
    return head, card


def test_tampered_head_is_refused(tmp_path: Path) -> None:
    head, card = _copy_head(tmp_path)
    data = bytearray(head.read_bytes())
    data[len(data) // 2] ^= 0xFF
    head.write_bytes(bytes(data))
    with pytest.raises(AssayError, match="damaged"):
        NameTagger(head, card)


def test_missing_head_is_refused(tmp_path: Path) -> None:
    _, card = _copy_head(tmp_path)
    with pytest.raises(AssayError, match="missing"):
        NameTagger(tmp_path / "absent.npz", card)


def test_head_for_another_encoder_is_refused(tmp_path: Path) -> None:
    head, card = _copy_head(tmp_path)
    card.write_text(card.read_text().replace(
        names._read_card(card)["encoder_sha256"], "0" * 64))
    with pytest.raises(AssayError, match="another guard encoder"):
        NameTagger(head, card)


def test_a_head_that_cannot_load_fails_closed(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(names, "HEAD_FILE", tmp_path / "absent.npz")
    monkeypatch.setattr(names, "_TAGGER", [])
    policy = ("version: 1\non_error: {on_error}\ninput:\n  - validator: pii\n"
              "    action: redact\n    entities: [PERSON]\n")
    blocked = Guard.from_yaml(policy.format(on_error="block")).check_input("Ask Ida Nørgaard")
    assert blocked.action == "block"
    assert blocked.error is not None and "missing" in blocked.error
    allowed = Guard.from_yaml(policy.format(on_error="allow")).check_input("Ask Ida Nørgaard")
    assert allowed.action == "allow"
    assert allowed.error is not None  # recorded, never silent


# -- per-entity actions in a policy ----------------------------------------------------

_ACTIONS = """version: 1
input:
  - validator: pii
    action: redact
    entities:
      PERSON: redact
      DATE_TIME: warn
      LOCATION: off
"""


def test_per_entity_actions() -> None:
    guard = Guard.from_yaml(_ACTIONS)
    text = ("Remind Gwendolyn Ashcombe about the dentist on 14 March 2025 in Porto, "
            "card 4539148803436467.")
    verdict = guard.check_input(text)
    labels = {f.label for f in verdict.findings}
    assert {"PERSON", "DATE_TIME", "CREDIT_CARD"} <= labels
    assert "LOCATION" not in labels
    assert verdict.action == "redact"
    assert verdict.redacted_text is not None
    assert "Gwendolyn Ashcombe" not in verdict.redacted_text
    assert "4539148803436467" not in verdict.redacted_text  # identifiers keep the rule's action
    assert "14 March 2025" in verdict.redacted_text  # warned, not redacted
    warned = Guard.from_yaml(_ACTIONS).check_input("We meet on 14 March 2025.")
    assert warned.action == "warn"


def test_bad_entity_action_names_the_line() -> None:
    bad = _ACTIONS.replace("DATE_TIME: warn", "DATE_TIME: shout")
    with pytest.raises(AssayError, match=r"<policy>:7: input\[0\]\.entities\.DATE_TIME"):
        Guard.from_yaml(bad)


# -- token states over windows ------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "a", "Anna"])
def test_tiny_texts_do_not_fail(pii: PiiValidator, text: str) -> None:
    for s, e, _, _ in pii.spans(text):
        assert 0 <= s < e <= len(text)


def test_long_texts_keep_offsets_on_the_original() -> None:
    model = get_encoder()
    filler = "The quarterly figures were discussed at length without any decision. "
    text = filler * 30 + "Please call Cornelius Abernathy tomorrow. " + filler * 30
    states = model.token_states(text, 8)  # ~4,400 characters: more than 8 windows' worth
    assert len(states.words) == len(states.offsets) == len(states.states)
    assert all(0 <= s <= e <= len(text) for s, e in states.offsets.tolist())
    huge = filler * 400  # 28,000 characters: sampled windows
    sampled = model.token_states(huge, 8)
    assert not sampled.complete and len(sampled.words) <= 8 * 126
    assert all(0 <= s <= e <= len(huge) for s, e in sampled.offsets.tolist())
    found = PiiValidator(names=True).spans(text)
    assert all(0 <= s < e <= len(text) for s, e, _, _ in found)


def test_overlapping_windows_give_each_piece_one_state() -> None:
    model = get_encoder()
    text = " ".join(f"word{i}" for i in range(400))  # several overlapping windows, complete
    states = model.token_states(text, 64)
    assert states.complete
    starts = states.offsets[:, 0].tolist()
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert (abs(states.states.astype("float32")).sum(axis=1) > 0).all()  # no piece left out
