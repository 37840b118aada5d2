"""The engine factory's hardening: safe migrations, typed storage errors, pool and pragmas."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

import db.engine as db_engine
from core.errors import JourneyLensError, StorageError
from db import audit
from db.engine import create_db_engine, database_url, read_session, upgrade, write_session
from services import maps as map_service
from tests.factories import database_at

MIGRATIONS = Path(db_engine.__file__).parent / "migrations"

# A later migration that recreates journey_map, as batch mode does for most ALTERs on SQLite.
RECREATE_MIGRATION = """
from alembic import op

revision = "ffff_recreate"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journey_map", recreate="always"):
        pass


def downgrade() -> None:
    pass
"""


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    return head


def _migrations_with_recreate(tmp_path: Path) -> Path:
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "ffff_recreate.py").write_text(RECREATE_MIGRATION.format(head=_head()))
    return location


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()


def test_extra_pragmas(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA trusted_schema").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == db_engine.JOURNAL_SIZE_LIMIT


def test_pool_holds_many_concurrent_sessions(engine):
    assert engine.pool.size() + engine.pool._max_overflow >= 50  # type: ignore[attr-defined]


def test_migration_that_recreates_a_parent_table_keeps_its_children(engine, tmp_path):
    map_id = map_service.create_map_from_template(template_key="b2b-5-stage", name="Survives upgrades")
    stages = _count(engine, "stage")
    assert stages == 5
    upgrade(engine, script_location=_migrations_with_recreate(tmp_path))
    assert _count(engine, "stage") == stages
    assert map_service.get_map_summary(map_id).touchpoints > 0
    # Every pooled connection has foreign keys back on.
    conns = [engine.connect() for _ in range(3)]
    try:
        assert all(c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1 for c in conns)
    finally:
        for c in conns:
            c.close()


def test_the_same_migration_with_foreign_keys_on_would_delete_the_children(tmp_path):
    """Why upgrade() switches foreign keys off: the naive way loses every stage."""
    from alembic import command
    from alembic.config import Config

    eng = create_db_engine(f"sqlite:///{tmp_path / 'naive.db'}")
    upgrade(eng)
    map_service.create_map_from_template(template_key="b2b-5-stage", name="Lost", engine=eng)
    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_with_recreate(tmp_path)))
    with eng.begin() as conn:  # foreign keys on, as every pooled connection has them
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert _count(eng, "stage") == 0
    eng.dispose()


def test_upgrade_from_the_first_schema_keeps_every_row_and_ids_are_never_reused(tmp_path):
    """Migration 0002 recreates journey_map and dataset with AUTOINCREMENT on a database of 0001."""
    eng = database_at(tmp_path / "old.db", "0001")
    with audit.suspended():  # schema 0001 has no audit_event table yet (migration 0004)
        kept = map_service.create_map_from_template(template_key="b2b-5-stage", name="Kept", engine=eng)
        newest = map_service.create_map_from_template(template_key="b2b-5-stage", name="Newest", engine=eng)
    tables = ("journey_map", "stage", "touchpoint", "lane_cell", "metric", "persona")
    before = {t: _count(eng, t) for t in tables}
    upgrade(eng)
    assert {t: _count(eng, t) for t in tables} == before
    with eng.connect() as conn:
        ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'journey_map'").scalar()
        assert "AUTOINCREMENT" in ddl
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    assert map_service.get_map_summary(kept, engine=eng).touchpoints > 0
    map_service.delete_map(newest, engine=eng)
    again = map_service.create_map_from_template(template_key=None, name="After the delete", engine=eng)
    assert again > newest
    with eng.connect() as conn:  # 0004: the trail starts with the upgrade; datasets start "ok"
        trail = conn.exec_driver_sql("SELECT action, object_id FROM audit_event ORDER BY id").fetchall()
        assert [tuple(r) for r in trail] == [("delete", newest), ("create", again)]
        columns = {r[1]: r[4] for r in conn.exec_driver_sql("PRAGMA table_info(dataset)")}
        assert columns["status"] == "'ok'"
    eng.dispose()


def test_upgrade_to_0005_keeps_metrics_and_says_their_options_were_not_recorded(tmp_path):
    from services import metrics as metric_service

    eng = database_at(tmp_path / "old.db", "0004")
    map_id = map_service.create_map_from_template(template_key=None, name="Old metrics", engine=eng)
    with eng.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO metric (map_id, kind, name, unit, direction, source) "
            "VALUES (?, 'nps', 'NPS', '', 'higher', 'dataset')",
            (map_id,),
        )
        conn.exec_driver_sql(
            "INSERT INTO metric_value (metric_id, period, value, computed) VALUES (1, '2026-01', 12, 1)"
        )
    upgrade(eng)
    row = metric_service.list_metrics(map_id, engine=eng)[0]
    assert (row.latest_value, row.computed_options, row.computed_with) == (12, (), "options not recorded")
    eng.dispose()


@pytest.mark.parametrize("round_", range(8))
def test_several_processes_opening_a_new_database_at_once(tmp_path, round_):
    """Engines (as the app and the CLI started together) open and upgrade the same new file:
    converting to WAL and migrating must queue, not fail with "database is locked"."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    engines = [create_db_engine(url) for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def run(eng):
        barrier.wait()
        try:
            upgrade(eng)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [_head()]
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    for e in engines:
        e.dispose()


def test_database_from_a_newer_version_gets_a_clear_message(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'zz_from_the_future'")
    with pytest.raises(StorageError, match="newer version of JourneyLens"):
        upgrade(engine)


def test_busy_database_reaches_the_caller_as_a_typed_error(engine, monkeypatch, data_dir):
    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_MS", 150)
    impatient = create_db_engine(database_url(data_dir))
    holder = sqlite3.connect(data_dir / db_engine.DB_FILENAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StorageError, match="busy") as info:
            map_service.create_map_from_template(template_key=None, name="Waits", engine=impatient)
        assert isinstance(info.value, JourneyLensError)  # pages show it with user_errors()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.dispose()
    assert map_service.list_map_summaries() == []


def test_other_operational_errors_are_not_hidden(engine):
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError, match="no such table"), read_session() as session:
        session.exec(text("SELECT * FROM no_such_table"))


def test_write_session_still_commits_and_rolls_back(engine):
    with write_session() as session:
        session.exec(
            text(
                "INSERT INTO persona (name, description, demographics, job_title, company_size, industry,"
                " is_decision_maker, is_demo, goals, pain_points, buying_behaviour, channels, created_at)"
                " VALUES ('p', '', '', '', '', '', 0, 0, '', '', '', '', '2026-01-01')"
            )
        )
    assert _count(engine, "persona") == 1
