"""The one engine factory, the data directory, sessions and migrations.

SQLite is tuned here and nowhere else:
- WAL journal with ``synchronous=FULL``: a killed writer loses no acknowledged commit;
- ``foreign_keys=ON`` on every connection (SQLite has them off per connection by default);
- ``busy_timeout`` so writers queue instead of failing;
- transactions opened with ``BEGIN IMMEDIATE`` by :func:`write_session`: a session that reads and
  then writes takes the write lock first, so a concurrent commit cannot make it fail with
  "database is locked" (SQLite ignores busy_timeout when a deferred reader upgrades to a writer);
- a pool large enough for every Streamlit session thread to hold a connection while it waits;
- SQLite's "locked / busy / full / read-only / I/O" errors reach callers as a typed
  :class:`core.errors.StorageError` (nothing saved, say why), never as a traceback;
- migrations run with foreign keys off (SQLite's own procedure for schema changes: batch mode
  drops and recreates tables, and with foreign keys on, dropping ``journey_map`` would cascade
  and delete every stage), inside one ``BEGIN IMMEDIATE`` transaction, checked with
  ``foreign_key_check`` before commit.

Durability: ``synchronous=FULL`` in WAL mode syncs the log on every commit, so a commit that
returned survives a killed process and a power cut (tests/db/test_crash_safety.py kills writers).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from core.errors import (
    DatabaseDamagedError,
    DatabaseLockedError,
    DataDirMissingError,
    DiskFullError,
    ReadOnlyError,
    StorageError,
)
from db import audit as _audit  # noqa: F401 - registers the audit trail's session events
from db.access import AccessRole, require

BUSY_TIMEOUT_MS = 30_000
DB_FILENAME = "journeylens.db"
# Streamlit runs each browser session's script in its own thread: size the pool so that many
# concurrent users wait on SQLite's lock (busy_timeout), not on the pool's 30 s checkout timeout.
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 60
# Keep the write-ahead log from growing without bound after a large import (bytes).
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

# SQLite messages that mean "the storage refused this write", each with its typed error and what
# the user should know and do.
_BUSY = (
    "The database is busy with other saves and did not answer in time. Nothing was saved; try again "
    "(a process holding it for long, such as a stuck import, may need to be stopped)."
)
_DAMAGED = (
    "The database file is damaged. Nothing was saved; run `python cli.py check`, then restore the last "
    "backup with `python cli.py restore BACKUP_DIR --force`."
)
_READ_ONLY = (
    "The data directory is read-only for this process. Nothing was saved; make it writable "
    "(or point JOURNEYLENS_DATA_DIR at a writable folder)."
)
_STORAGE_FAILURES: tuple[tuple[str, type[StorageError], str], ...] = (
    ("locked", DatabaseLockedError, _BUSY),
    ("busy", DatabaseLockedError, _BUSY),
    (
        "disk is full",
        DiskFullError,
        "The disk holding the data directory is full. Nothing was saved; free some space and try again.",
    ),
    ("readonly", ReadOnlyError, _READ_ONLY),
    ("read-only", ReadOnlyError, _READ_ONLY),
    ("malformed", DatabaseDamagedError, _DAMAGED),
    ("not a database", DatabaseDamagedError, _DAMAGED),
    (
        "disk i/o error",
        StorageError,
        "The disk holding the data directory reported an I/O error. Nothing was saved; check the disk.",
    ),
    (
        "unable to open database",
        DataDirMissingError,
        "The database file cannot be opened: check that the data directory exists and is writable "
        "(JOURNEYLENS_DATA_DIR).",
    ),
)

_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_lock = threading.Lock()


def data_dir() -> Path:
    """The directory holding the database and datasets: ``$JOURNEYLENS_DATA_DIR`` or ``./data``."""
    path = Path(os.environ.get("JOURNEYLENS_DATA_DIR") or "data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(directory: Path | None = None) -> str:
    return f"sqlite:///{(directory or data_dir()) / DB_FILENAME}"


def _ensure_wal(cur: sqlite3.Cursor) -> None:
    """Switch a database to WAL once. Converting takes an exclusive lock without waiting on
    busy_timeout, so two processes opening a new database together would get "database is
    locked": retry until the busy timeout instead (a database already in WAL is left alone)."""
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy not issue BEGIN itself; we emit BEGIN / BEGIN IMMEDIATE in "begin".
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _ensure_wal(cur)
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        # Functions in views/triggers of a tampered database file cannot run with side effects.
        cur.execute("PRAGMA trusted_schema=OFF")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.info.pop("begin_mode", None) or conn.get_execution_options().get("begin_mode")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


def create_db_engine(url: str) -> Engine:
    """Build a tuned engine for ``url`` (a file URL, or ``sqlite://`` for an in-memory database)."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    else:
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=POOL_SIZE,
            max_overflow=POOL_MAX_OVERFLOW,
        )
    _tune_sqlite(engine)
    return engine


def get_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The process-wide engine for ``url`` (default: the data directory's database), migrated once."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_db_engine(url)
            _engines[url] = engine
        if migrate and url not in _migrated:
            with _storage_errors():
                upgrade(engine)
            _migrated.add(url)
    return engine


def dispose_engines() -> None:
    """Close every cached engine (tests and the CLI's backup/restore)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


def upgrade(engine: Engine, *, script_location: Path | None = None) -> None:
    """Apply every Alembic migration not yet applied (start-up keeps a user's maps across upgrades).

    One ``BEGIN IMMEDIATE`` transaction (two processes starting together queue, the second finds
    nothing to do); foreign keys off while tables are recreated, ``foreign_key_check`` before commit.
    Foreign keys are switched back on before the connection returns to the pool.
    """
    location = script_location or Path(__file__).parent / "migrations"
    if _at_head(engine, location):
        return  # nothing to apply: Alembic (a fifth of a second to import) is not needed
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        # Outside any transaction: SQLite ignores this pragma inside one.
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            conn.execution_options(begin_mode="immediate")
            with _storage_errors(), conn.begin():
                cfg.attributes["connection"] = conn
                try:
                    command.upgrade(cfg, "head")
                except CommandError as exc:
                    raise StorageError(
                        "This database was written by a newer version of JourneyLens "
                        f"({exc}); upgrade JourneyLens or restore a backup made by this version."
                    ) from exc
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise DatabaseDamagedError(
                        f"The database has {len(broken)} rows pointing at rows that do not exist "
                        f"(first: {tuple(broken[0])}); nothing was changed. Run `python cli.py check`, "
                        "then restore the last backup (`python cli.py restore BACKUP_DIR --force`)."
                    )
        finally:
            # Restore foreign keys on this pooled connection (an in-memory database lives on it,
            # so it cannot simply be thrown away); discard it if that does not stick.
            try:
                raw.execute("PRAGMA foreign_keys=ON")
                restored = raw.execute("PRAGMA foreign_keys").fetchone() == (1,)
            except Exception:  # any failure here means: do not reuse the connection
                restored = False
            if not restored:
                conn.invalidate()


_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['"]([^'"]+)['"]|None)\s*$""", re.M)


def head_revision(script_location: Path) -> str | None:
    """The newest migration's revision, read from the scripts' text without importing Alembic;
    None when the scripts do not name exactly one head (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (script_location / "versions").glob("*.py"):
        found = dict((key, value) for key, value in _REVISION.findall(script.read_text(encoding="utf-8")))
        if not found.get("revision"):
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _at_head(engine: Engine, script_location: Path) -> bool:
    """True when the database is at the newest migration and its foreign keys hold: the start-up of
    every process (CLI, app) then skips Alembic. Anything else takes the full path of :func:`upgrade`."""
    head = head_revision(script_location)
    if head is None:
        return False
    with engine.connect() as conn:
        try:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
        except DBAPIError as exc:
            if "no such table" in str(exc.orig).lower():
                return False  # a new database: Alembic creates it
            raise
        if [tuple(row) for row in versions] != [(head,)]:
            return False
        return not conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()


def storage_error(exc: BaseException) -> StorageError | None:
    """The typed error for a SQLite storage failure (locked, full, read-only, damaged, I/O), else None."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).lower()
    for needle, kind, message in _STORAGE_FAILURES:
        if needle in text:
            return kind(f"{message} (SQLite: {text})")
    return None


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        typed = storage_error(exc)
        if typed is None:
            raise
        raise typed from exc


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reads (deferred transaction)."""
    with _storage_errors(), Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A short write transaction opened with ``BEGIN IMMEDIATE``; commits on success, rolls back on error.

    Refused (:class:`db.access.AccessDeniedError`) for a viewer: every change needs the editor role.
    """
    require(AccessRole.EDITOR, "change anything in this workspace")
    engine = engine or get_engine()
    with _storage_errors(), Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={"begin_mode": "immediate"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
