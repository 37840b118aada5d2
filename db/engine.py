"""The one engine factory, the data directory, sessions and migrations.

SQLite is tuned here and nowhere else:
- WAL journal with ``synchronous=FULL``: a killed writer loses no acknowledged commit;
- ``foreign_keys=ON`` on every connection (SQLite has them off per connection by default);
- ``busy_timeout`` so writers queue instead of failing;
- transactions opened with ``BEGIN IMMEDIATE`` by :func:`write_session`: a session that reads and
  then writes takes the write lock first, so a concurrent commit cannot make it fail with
  "database is locked" (SQLite ignores busy_timeout when a deferred reader upgrades to a writer).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

BUSY_TIMEOUT_MS = 30_000
DB_FILENAME = "journeylens.db"

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


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy not issue BEGIN itself; we emit BEGIN / BEGIN IMMEDIATE in "begin".
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        mode = conn.info.pop("begin_mode", None) or conn.get_execution_options().get("begin_mode")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


def create_db_engine(url: str) -> Engine:
    """Build a tuned engine for ``url`` (a file URL, or ``sqlite://`` for an in-memory database)."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
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


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (start-up keeps a user's maps across upgrades)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reads (deferred transaction)."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A short write transaction opened with ``BEGIN IMMEDIATE``; commits on success, rolls back on error."""
    engine = engine or get_engine()
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={"begin_mode": "immediate"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
