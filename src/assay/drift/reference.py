"""Frozen, versioned references: what "normal" looked like for one AI system.

A reference is built once from a stretch of real events (a JSONL file, or the
events a monitor recorded, filtered to a time range). It freezes the bin edges
the hot path uses, the reference histograms, reservoir samples, the embedding
centroid and the calibrated thresholds. It is stored as a JSON file under
``<workspace>/drift/references/<system>/v0001.json``; setting a new one adds a
version and makes it active, older versions stay for audit and rollback.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.drift import stats
from assay.drift.calibrate import CalibrationInput, Thresholds, calibrate
from assay.drift.events import BadEvent, event_time
from assay.drift.sketches import SketchPlan, bin_edges
from assay.errors import AssayError, NotFound
from assay.files import atomic_write

__all__ = [
    "FORMAT",
    "CategoricalRef",
    "EmbeddingRef",
    "NumericRef",
    "Reference",
    "ReferenceStore",
    "WindowSpec",
    "build_reference",
]

FORMAT = "assay.dev/drift-reference/v1"
MAX_CATEGORIES = 32
REF_SAMPLE = 2000
EMB_SAMPLE = 128
MIN_PRESENCE = 0.01
_SYSTEM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class WindowSpec:
    """How live traffic is cut: blocks of N events (or T seconds), windows of K blocks."""

    block_events: int = 250
    blocks: int = 8
    block_seconds: float = 300.0
    cooldown_seconds: float = 900.0
    reservoir: int = 512

    @property
    def window_events(self) -> int:
        return self.block_events * self.blocks

    @property
    def block_reservoir(self) -> int:
        return -(-self.reservoir // self.blocks)

    def check(self) -> None:
        if self.block_events < 10 or self.blocks < 2:
            raise AssayError("use at least 10 events per block and 2 blocks per window")
        if self.block_seconds <= 0 or self.cooldown_seconds < 0 or self.reservoir < 16:
            raise AssayError("block seconds must be > 0, cool-down ≥ 0 and reservoir ≥ 16")


@dataclass(frozen=True)
class NumericRef:
    """One numeric signal: frozen edges, reference histogram and sample."""

    name: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    sample: tuple[float, ...]
    mean: float
    std: float
    missing_rate: float
    thresholds: Mapping[str, Thresholds]


@dataclass(frozen=True)
class CategoricalRef:
    """One categorical signal: the known values (the rest count as "other")."""

    name: str
    values: tuple[str, ...]
    counts: tuple[int, ...]  # one per value, then "other"
    thresholds: Mapping[str, Thresholds]


@dataclass(frozen=True)
class EmbeddingRef:
    """The shared embedding: reference centroid, sample and frozen RBF bandwidth."""

    dim: int
    n: int
    centroid: tuple[float, ...]
    sample: tuple[tuple[float, ...], ...]
    rbf_gamma: float
    thresholds: Mapping[str, Thresholds]


@dataclass(frozen=True)
class Reference:
    """A frozen reference for one system (``version`` is 0 until stored)."""

    system: str
    created_at: str
    n_events: int
    first_ts: float
    last_ts: float
    window: WindowSpec
    numeric: tuple[NumericRef, ...]
    categorical: tuple[CategoricalRef, ...]
    embedding: EmbeddingRef | None
    source: Mapping[str, Any] = field(default_factory=dict)
    bad_events: Mapping[str, int] = field(default_factory=dict)
    version: int = 0

    @property
    def ref(self) -> str:
        return f"{self.system}@v{self.version}"

    def plan(self, *, record: bool = False) -> SketchPlan:
        """The sketch layout the hot path uses for this reference."""
        return SketchPlan(
            numeric=tuple(s.name for s in self.numeric),
            edges=tuple(s.edges for s in self.numeric),
            categorical=tuple(c.name for c in self.categorical),
            cat_values=tuple({v: i for i, v in enumerate(c.values)} for c in self.categorical),
            embedding_dim=self.embedding.dim if self.embedding else 0,
            block_reservoir=self.window.block_reservoir,
            record=record,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reference:
        """Load a stored reference; a malformed file is an error naming the fix."""
        if data.get("format") != FORMAT:
            raise AssayError(f"not a drift reference (expected format {FORMAT}); rebuild it")
        try:

            def th(raw: Mapping[str, Any]) -> dict[str, Thresholds]:
                return {k: Thresholds(**v) for k, v in raw.items()}

            emb = data["embedding"]
            return cls(
                system=data["system"],
                created_at=data["created_at"],
                n_events=int(data["n_events"]),
                first_ts=float(data["first_ts"]),
                last_ts=float(data["last_ts"]),
                window=WindowSpec(**data["window"]),
                numeric=tuple(
                    NumericRef(
                        name=s["name"],
                        edges=tuple(s["edges"]),
                        counts=tuple(s["counts"]),
                        sample=tuple(s["sample"]),
                        mean=s["mean"],
                        std=s["std"],
                        missing_rate=s["missing_rate"],
                        thresholds=th(s["thresholds"]),
                    )
                    for s in data["numeric"]
                ),
                categorical=tuple(
                    CategoricalRef(
                        name=c["name"],
                        values=tuple(c["values"]),
                        counts=tuple(c["counts"]),
                        thresholds=th(c["thresholds"]),
                    )
                    for c in data["categorical"]
                ),
                embedding=None
                if emb is None
                else EmbeddingRef(
                    dim=emb["dim"],
                    n=emb["n"],
                    centroid=tuple(emb["centroid"]),
                    sample=tuple(tuple(r) for r in emb["sample"]),
                    rbf_gamma=emb["rbf_gamma"],
                    thresholds=th(emb["thresholds"]),
                ),
                source=dict(data.get("source", {})),
                bad_events=dict(data.get("bad_events", {})),
                version=int(data.get("version", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AssayError(f"drift reference is malformed ({exc}); rebuild it") from None

    @classmethod
    def load(cls, path: Path) -> Reference:
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise AssayError(f"cannot read reference {path}: {exc.strerror}") from None
        except json.JSONDecodeError:
            raise AssayError(f"{path} is not JSON: pass a reference file or SYSTEM@vN") from None


@dataclass
class _Collected:
    ts: list[float] = field(default_factory=list)
    signals: list[Mapping[str, Any]] = field(default_factory=list)
    categories: list[Mapping[str, Any]] = field(default_factory=list)
    embeddings: list[Any] = field(default_factory=list)
    bad: Counter[str] = field(default_factory=Counter)


def _collect(
    events: Iterable[Mapping[str, Any]], system: str, since: float | None, until: float | None
) -> _Collected:
    out = _Collected()
    for event in events:
        if not isinstance(event, Mapping):
            out.bad["not an object"] += 1
            continue
        if event.get("system") != system:
            if not isinstance(event.get("system"), str):
                out.bad["missing system"] += 1
            continue
        try:
            ts = event_time(event.get("ts"))
        except BadEvent as exc:
            out.bad[str(exc)] += 1
            continue
        if (since is not None and ts < since) or (until is not None and ts >= until):
            continue
        signals = event.get("signals")
        if not isinstance(signals, Mapping):
            out.bad["signals not an object"] += 1
            continue
        out.ts.append(ts)
        out.signals.append(signals)
        cats = event.get("categories")
        out.categories.append(cats if isinstance(cats, Mapping) else {})
        out.embeddings.append(event.get("embedding"))
    return out


def _number(value: Any) -> float:
    if value is None or isinstance(value, str):
        return float("nan")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")
    return number if np.isfinite(number) else float("nan")


def _embedding_matrix(raw: list[Any]) -> NDArray[np.float64] | None:
    dims: Counter[int] = Counter()
    vectors: list[NDArray[np.float64] | None] = []
    for value in raw:
        try:
            vector = None if value is None else np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            vector = None
        if vector is not None and (vector.ndim != 1 or not np.all(np.isfinite(vector))):
            vector = None
        vectors.append(vector)
        if vector is not None:
            dims[vector.size] += 1
    if not dims:
        return None
    dim, count = dims.most_common(1)[0]
    if count < len(raw) / 2 or dim == 0:
        return None
    matrix = np.full((len(raw), dim), np.nan)
    for i, vector in enumerate(vectors):
        if vector is not None and vector.size == dim:
            matrix[i] = vector
    return matrix


def build_reference(
    events: Iterable[Mapping[str, Any]],
    system: str,
    *,
    window: WindowSpec | None = None,
    bins: int = 10,
    since: float | None = None,
    until: float | None = None,
    draws: int = 300,
    seed: int = 0,
    source: Mapping[str, Any] | None = None,
) -> Reference:
    """Freeze a reference for ``system`` from ``events`` (optionally within [since, until))."""
    window = window or WindowSpec()
    window.check()
    if not _SYSTEM_RE.fullmatch(system):
        raise AssayError(f"system id {system!r} is invalid: use letters, digits, '.', '_', '-'")
    got = _collect(events, system, since, until)
    n = len(got.ts)
    need = 2 * window.window_events
    if n < need:
        raise AssayError(
            f"only {n} usable events for {system!r}; a reference needs at least {need} "
            "(two windows): give more events or a smaller --block-events/--blocks"
        )
    order = np.argsort(np.asarray(got.ts), kind="stable")
    rng = np.random.default_rng(seed)
    keys: Counter[str] = Counter(k for s in got.signals for k in s)
    names = sorted(k for k, c in keys.items() if c >= MIN_PRESENCE * n)
    values = np.array(
        [[_number(got.signals[i].get(k)) for k in names] for i in order], dtype=np.float64
    ).reshape(n, len(names))
    numeric_edges, numeric_bins = [], []
    for s, _ in enumerate(names):
        column = values[:, s]
        edges = bin_edges(column[np.isfinite(column)], bins)
        idx = np.searchsorted(np.asarray(edges), column, side="right").astype(np.int64)
        idx[~np.isfinite(column)] = -1
        numeric_edges.append(edges)
        numeric_bins.append(idx)
    cat_keys: Counter[str] = Counter(
        k for c in got.categories for k, v in c.items() if isinstance(v, str)
    )
    cat_names = sorted(k for k, c in cat_keys.items() if c >= MIN_PRESENCE * n)
    cat_values, cat_idx = [], []
    for name in cat_names:
        raw = [got.categories[i].get(name) for i in order]
        freq = Counter(v for v in raw if isinstance(v, str))
        known = tuple(v for v, _ in freq.most_common(MAX_CATEGORIES))
        lookup = {v: i for i, v in enumerate(known)}
        cat_values.append(known)
        cat_idx.append(
            np.array(
                [lookup.get(v, len(known)) if isinstance(v, str) else -1 for v in raw],
                dtype=np.int64,
            )
        )
    emb = _embedding_matrix([got.embeddings[i] for i in order])
    emb_sample = np.zeros((0, 0))
    gamma = 1.0
    if emb is not None:
        present = np.flatnonzero(np.isfinite(emb[:, 0]))
        picks = rng.choice(present, size=min(EMB_SAMPLE, present.size), replace=False)
        emb_sample = emb[np.sort(picks)]
        gamma = stats.rbf_gamma(emb_sample)
    data = CalibrationInput(
        bins=numeric_bins,
        n_bins=[len(e) + 1 for e in numeric_edges],
        values=values,
        ref_sample_size=REF_SAMPLE,
        cats=cat_idx,
        n_cats=[len(v) + 1 for v in cat_values],
        embeddings=emb,
        emb_sample_size=EMB_SAMPLE,
        rbf_gamma=gamma,
        block_events=window.block_events,
        blocks=window.blocks,
        live_sample_size=min(window.reservoir, window.window_events),
        live_emb_sample_size=EMB_SAMPLE,
    )
    thresholds = calibrate(data, rng, draws=draws)
    numeric = []
    for s, name in enumerate(names):
        column = values[:, s]
        finite = column[np.isfinite(column)]
        sample = rng.choice(finite, size=min(REF_SAMPLE, finite.size), replace=False)
        numeric.append(
            NumericRef(
                name=name,
                edges=numeric_edges[s],
                counts=tuple(
                    int(c)
                    for c in np.bincount(
                        numeric_bins[s][numeric_bins[s] >= 0], minlength=len(numeric_edges[s]) + 1
                    )
                ),
                sample=tuple(float(v) for v in sample),
                mean=float(finite.mean()),
                std=float(finite.std()),
                missing_rate=float(1 - finite.size / n),
                thresholds=thresholds["numeric"][str(s)],
            )
        )
    categorical = [
        CategoricalRef(
            name=name,
            values=cat_values[c],
            counts=tuple(
                int(x)
                for x in np.bincount(cat_idx[c][cat_idx[c] >= 0], minlength=len(cat_values[c]) + 1)
            ),
            thresholds=thresholds["categorical"][str(c)],
        )
        for c, name in enumerate(cat_names)
    ]
    embedding = None
    if emb is not None:
        present_rows = emb[np.isfinite(emb[:, 0])]
        embedding = EmbeddingRef(
            dim=int(emb.shape[1]),
            n=int(present_rows.shape[0]),
            centroid=tuple(float(v) for v in present_rows.mean(axis=0)),
            sample=tuple(tuple(float(v) for v in row) for row in emb_sample),
            rbf_gamma=gamma,
            thresholds=thresholds["embedding"]["embedding"],
        )
    ts_sorted = np.asarray(got.ts)[order]
    return Reference(
        system=system,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        n_events=n,
        first_ts=float(ts_sorted[0]),
        last_ts=float(ts_sorted[-1]),
        window=window,
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        embedding=embedding,
        source=dict(source or {}),
        bad_events=dict(got.bad),
    )


class ReferenceStore:
    """Versioned reference files under ``<workspace>/drift/references/<system>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root / "references"

    def _dir(self, system: str) -> Path:
        if not _SYSTEM_RE.fullmatch(system):
            raise AssayError(f"system id {system!r} is invalid: use letters, digits, '.', '_', '-'")
        return self.root / system

    def systems(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "active").is_file())

    def versions(self, system: str) -> list[int]:
        folder = self._dir(system)
        if not folder.is_dir():
            return []
        return sorted(int(p.stem[1:]) for p in folder.glob("v[0-9]*.json"))

    def save(self, reference: Reference) -> Reference:
        """Store ``reference`` as the next version and make it active."""
        folder = self._dir(reference.system)
        folder.mkdir(parents=True, exist_ok=True)
        version = max(self.versions(reference.system), default=0) + 1
        stored = replace(reference, version=version)
        atomic_write(folder / f"v{version:04d}.json", json.dumps(stored.to_json()))
        self.activate(reference.system, version)
        return stored

    def activate(self, system: str, version: int) -> None:
        if version not in self.versions(system):
            raise NotFound(
                f"{system} has no reference v{version}",
                hint=f"see `assay drift reference show --system {system}` for the versions",
            )
        atomic_write(self._dir(system) / "active", f"{version}\n")

    def active_version(self, system: str) -> int | None:
        try:
            return int((self._dir(system) / "active").read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def load(self, system: str, version: int | None = None) -> Reference:
        """The given version, or the active one."""
        chosen = version if version is not None else self.active_version(system)
        if chosen is None:
            raise NotFound(
                f"no drift reference for {system!r}",
                hint="create one with "
                f"`assay drift reference set --system {system} --from events.jsonl`",
            )
        path = self._dir(system) / f"v{chosen:04d}.json"
        if not path.is_file():
            raise NotFound(f"{system} has no reference v{chosen}", hint="pick an existing version")
        return Reference.load(path)

    def active(self) -> list[Reference]:
        return [self.load(s) for s in self.systems()]

    def resolve(self, spec: str) -> Reference:
        """A reference from a file path, ``SYSTEM`` (active) or ``SYSTEM@vN``."""
        path = Path(spec)
        if path.suffix == ".json" or path.is_file():
            return Reference.load(path)
        system, _, version = spec.partition("@")
        if version and not re.fullmatch(r"v?\d+", version):
            raise AssayError(f"reference {spec!r}: use a file, SYSTEM or SYSTEM@vN")
        return self.load(system, int(version.lstrip("v")) if version else None)
