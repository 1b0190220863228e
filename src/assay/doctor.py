"""``assay doctor``: check an installation and a workspace, and say what to fix.

Each check returns a :class:`Diagnosis`: ``ok``, ``warn`` (worth a look, not broken) or
``fail`` (something will not work, or evidence is not where it should be), with the
fix in one sentence. Checks never change anything, and a check that crashes is a
``fail`` naming the exception, never a traceback.
"""

from __future__ import annotations

import importlib.util
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from assay.config import CONFIG_FILE, load_settings
from assay.errors import AssayError
from assay.store import Store
from assay.store.models import LedgerCheckpoint, LedgerEntry

__all__ = ["EXTRAS", "Diagnosis", "diagnose"]

#: The optional extras and the modules each brings.
EXTRAS = {"web": ("fastapi", "uvicorn", "prometheus_client"), "ml": ("onnxruntime",),
          "postgres": ("psycopg",), "reports": ("openpyxl",), "otel": ("opentelemetry.sdk",),
          "mcp": ("mcp",)}
CHECKPOINT_STALE = timedelta(days=7)
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Diagnosis:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def diagnose(root: Path, *, policy: str = "default",
             model_dir: Path | None = None) -> list[Diagnosis]:
    """Every check, in order; the workspace checks only when the workspace opens."""
    findings = [_python(), *_extras(), _run("models", lambda: _models(model_dir)),
                _run("policy", lambda: _policy(policy))]
    if not (root / CONFIG_FILE).is_file():
        findings.append(Diagnosis("workspace", "fail", f"no workspace at {root}",
                                "create one with `assay init`, or pass --workspace"))
        return findings
    try:
        settings = load_settings(root)
    except AssayError as exc:
        findings.append(Diagnosis("workspace", "fail", str(exc), "fix assay.toml"))
        return findings
    findings.append(Diagnosis("workspace", "ok", str(root)))
    findings += _keys(root)
    store = Store(settings.database_url)
    try:
        findings.append(_run("store", lambda: _store(store)))
        if findings[-1].status == "ok":
            findings.append(_run("schema", lambda: _schema(store)))
            if findings[-1].status == "ok":
                findings += _ledger(store)
    finally:
        store.close()
    findings.append(_spill(root / settings.ledger_spill_dir))
    return findings


def _run(name: str, check: Callable[[], Diagnosis]) -> Diagnosis:
    try:
        return check()
    except Exception as exc:  # a crashing check is a failed check, named
        return Diagnosis(name, "fail", f"{type(exc).__name__}: {exc}"[:300],
                       "run with --debug for the traceback")


def _python() -> Diagnosis:
    return Diagnosis("python", "ok", ".".join(map(str, sys.version_info[:3])))


def _extras() -> Iterator[Diagnosis]:
    for extra, modules in EXTRAS.items():
        missing = [m for m in modules if not _importable(m)]
        if missing:
            yield Diagnosis(f"extra:{extra}", "warn", f"{', '.join(missing)} not installed",
                          f"pip install 'assay[{extra}]' if you need it")
        else:
            yield Diagnosis(f"extra:{extra}", "ok", f"{', '.join(modules)} installed")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _models(model_dir: Path | None) -> Diagnosis:
    """Every model a card describes is there and loads (no pickles)."""
    import numpy as np

    from assay.validators.linear import MODEL_DIR

    directory = model_dir or MODEL_DIR
    expected = sorted({card.with_suffix(".npz") for card in directory.glob("*.md")
                       if card.stem != "guard_encoder"} | set(directory.glob("*.npz")))
    missing = [p.name for p in expected if not p.is_file()]
    if not expected or missing:
        return Diagnosis("models", "fail",
                       f"missing model file {', '.join(missing) or 'all'} in {directory}",
                       "reinstall Assay, or rebuild the models with `make models`")
    for path in expected:
        with np.load(path, allow_pickle=False) as data:
            data.files  # noqa: B018 - reading the index checks the archive
    encoder = _encoder(directory)
    if encoder is not None:
        return encoder
    return Diagnosis("models", "ok", f"{len(expected) + 1} model files in {directory} "
                   "(the guard encoder's SHA-256 checked)")


def _encoder(directory: Path) -> Diagnosis | None:
    """The guard encoder loads and its SHA-256 matches its card (None when it does)."""
    from assay.errors import AssayError
    from assay.validators.encoder import EncoderModel

    try:
        EncoderModel(directory / "guard_encoder.onnx", directory / "guard_encoder.json")
    except AssayError as exc:
        return Diagnosis("models", "fail", str(exc).split(";")[0],
                       "reinstall Assay, or rebuild the models with `make models`")
    return None


def _policy(policy: str) -> Diagnosis:
    from assay.gateway.guarding import load_guard

    if policy in ("off", "none"):
        return Diagnosis("policy", "ok", "guard off")
    load_guard(policy)
    return Diagnosis("policy", "ok", f"{policy} loads (its validators and models built)")


def _keys(root: Path) -> list[Diagnosis]:
    folder = root / "keys"
    found = []
    if not (folder / "ledger.key").is_file():
        found.append(Diagnosis("keys", "fail", f"no signing key at {folder / 'ledger.key'}",
                             "restore it from your backup: checkpoints cannot be signed"))
    for path in sorted(folder.glob("*")):
        if path.suffix == ".pub" or not path.is_file():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            problem = f"{path} has mode {mode:04o}: others can read it"
            found.append(Diagnosis("keys", "fail", problem, f"chmod 600 {path}"))
    return found or [Diagnosis("keys", "ok", f"private keys in {folder} are mode 0600")]


def _store(store: Store) -> Diagnosis:
    with store.session() as session:
        session.execute(text("SELECT 1"))
    return Diagnosis("store", "ok", "the database answers")


def _schema(store: Store) -> Diagnosis:
    try:
        store.check_schema()
    except AssayError as exc:
        return Diagnosis("schema", "fail", str(exc), "run `assay db upgrade`")
    return Diagnosis("schema", "ok", "migrated to the latest revision")


def _ledger(store: Store) -> list[Diagnosis]:
    with store.session() as session:
        last = session.scalar(select(func.max(LedgerEntry.seq)))
        row = session.execute(select(LedgerCheckpoint.tree_size, LedgerCheckpoint.created_at)
                              .order_by(LedgerCheckpoint.tree_size.desc()).limit(1)).first()
    size = 0 if last is None else int(last) + 1
    now = datetime.now(UTC)
    if row is None:
        status = "warn" if size else "ok"
        return [Diagnosis("checkpoint", status, f"{size} entries, no checkpoint yet",
                        "sign one with `assay ledger checkpoint`" if size else "")]
    tree_size, created = int(row[0]), row[1]
    created = created if created.tzinfo else created.replace(tzinfo=UTC)
    found = []
    if created - now > CLOCK_SLACK:
        found.append(Diagnosis("clock", "fail",
                             f"the latest checkpoint is dated {created:%Y-%m-%d %H:%M}Z, "
                             "in this machine's future", "set the clock right (NTP)"))
    else:
        found.append(Diagnosis("clock", "ok", "no checkpoint from the future"))
    age = now - created
    if size > tree_size and age > CHECKPOINT_STALE:
        found.append(Diagnosis("checkpoint", "warn",
                             f"{size - tree_size} entries wait; the latest checkpoint is "
                             f"{age.days} days old", "sign one with `assay ledger checkpoint`"))
    else:
        found.append(Diagnosis("checkpoint", "ok",
                             f"{size} entries, {size - tree_size} after the latest checkpoint"))
    return found


def _spill(spill_dir: Path) -> Diagnosis:
    files = sorted(spill_dir.glob("*.jsonl")) + sorted(spill_dir.glob("*.claimed-*"))
    if files:
        return Diagnosis("spill", "fail",
                       f"{len(files)} spill file(s) in {spill_dir} hold evidence not yet in "
                       "the ledger",
                       "stop the gateways (they replay spill files on shutdown), or with none "
                       "running: `assay doctor --replay-spill`")
    return Diagnosis("spill", "ok", "no evidence waiting on disk")
