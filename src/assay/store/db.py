"""Engines, sessions and migrations for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL`` so a
committed evidence batch survives a crash. Writers that must be serialised
(the ledger's sequencer) take ``BEGIN IMMEDIATE`` on SQLite and a transaction
advisory lock on PostgreSQL, so several processes never fork the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from assay.errors import AssayError

__all__ = ["Store", "redact_url"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_SEQUENCER_LOCK = 0x4153_5341_5900  # an arbitrary, fixed advisory-lock key ("ASSAY")


def redact_url(url: str) -> str:
    """The database URL without its password, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Store:
    """The one store layer: an engine, a session factory and schema management."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def serialized(self) -> Iterator[Session]:
        """A write transaction that excludes every other serialised writer.

        SQLite: ``BEGIN IMMEDIATE`` takes the write lock up front. PostgreSQL:
        ``pg_advisory_xact_lock`` is held until commit or rollback.
        """
        connection = self.engine.connect()
        if self.is_sqlite:
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        try:
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                if not self.is_sqlite:
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEQUENCER_LOCK}
                    )
                yield session
        finally:
            connection.close()

    # -- schema ---------------------------------------------------------------

    def upgrade(self) -> None:
        """Apply every pending migration (the same scripts on SQLite and PostgreSQL)."""
        from alembic import command  # imported here: alembic is slow to import

        self.check_schema(allow_behind=True)
        with self._connect() as connection, connection.begin():
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def check_schema(self, *, allow_behind: bool = False) -> None:
        """Refuse a database written by a newer Assay, or one that needs migrating."""
        known, head = _revisions()
        with self._connect() as connection:
            current = _current_revision(connection)
        if current is not None and current not in known:
            raise AssayError(
                f"the database at {redact_url(self.url)} has schema revision {current}, "
                f"newer than this Assay knows (up to {head}): upgrade Assay"
            )
        if current != head and not allow_behind:
            raise AssayError(
                f"the database at {redact_url(self.url)} is at schema revision "
                f"{current or 'none'}, this Assay needs {head}: run `assay db upgrade`"
            )

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except OperationalError as exc:
            raise AssayError(
                f"cannot open the database at {redact_url(self.url)} ({exc.orig}): "
                "check that it exists and is reachable, or fix ASSAY_DATABASE_URL"
            ) from exc


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


_REVISION_RE = re.compile(r'^(down_revision|revision) = (None|"([^"]+)")$', re.M)


def _revisions() -> tuple[set[str], str]:
    """Known revisions and the head, read from the migration scripts without alembic.

    Opening a workspace checks the schema on every command; importing alembic
    for that would cost more than the command itself.
    """
    parents: dict[str, str | None] = {}
    for script in _MIGRATIONS.glob("versions/*.py"):
        found = {m.group(1): m.group(3) for m in _REVISION_RE.finditer(script.read_text())}
        if found.get("revision"):
            parents[str(found["revision"])] = found.get("down_revision")
    referenced = {parent for parent in parents.values() if parent}
    heads = sorted(set(parents) - referenced)
    if len(heads) != 1:
        raise AssayError(f"the migration scripts have {len(heads)} heads ({heads}): fix the chain")
    return set(parents), heads[0]


def _current_revision(connection: Connection) -> str | None:
    try:
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        connection.rollback()
        return None
    return None if row is None else str(row[0])


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise AssayError(
            f"invalid database URL {url!r}: use sqlite:///path or postgresql+psycopg://host/db"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise AssayError(
                "PostgreSQL support is not installed: pip install 'assay[postgres]'"
            ) from exc
    raise AssayError(
        f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred only).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
    except Exception as exc:
        raise AssayError(
            f"cannot configure SQLite ({exc}): check the workspace is writable"
        ) from exc
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
