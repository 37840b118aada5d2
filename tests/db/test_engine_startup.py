"""Start-up of a process on a database already at the newest migration: no Alembic import.

Every CLI command and every app start opens the engine; Alembic's import alone costs about a fifth
of a second, so a database at the head revision (and with its foreign keys holding) skips it.
Anything else (a new file, an older or newer schema, broken rows) takes Alembic's full path,
which tests/db/test_engine_hardening.py covers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import db.engine as db_engine
from core.errors import DatabaseDamagedError
from db.engine import create_db_engine, head_revision, upgrade
from tests import ROOT
from tests.factories import database_at

MIGRATIONS = Path(db_engine.__file__).parent / "migrations"


def _alembic_head(location: Path) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    return head


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    assert head_revision(MIGRATIONS) == _alembic_head(MIGRATIONS)


def test_a_new_migration_moves_the_head(tmp_path: Path) -> None:
    import shutil

    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    old = head_revision(MIGRATIONS)
    (location / "versions" / "9999_next.py").write_text(
        f'revision: str = "9999"\ndown_revision: str | None = {old!r}\n\n\ndef upgrade() -> None:\n    pass\n'
    )
    assert head_revision(location) == "9999" == _alembic_head(location)


def test_two_heads_leave_it_to_alembic(tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = None\n')
    assert head_revision(tmp_path / "migrations") is None


def _modules_of_a_start(data_dir: Path) -> set[str]:
    probe = (
        "import json, sys\nfrom db.engine import get_engine, read_session\n"
        "with read_session() as s:\n    pass\nprint(json.dumps(sorted(sys.modules)))"
    )
    env = {**os.environ, "JOURNEYLENS_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_database_at_the_head_opens_without_alembic(engine, data_dir: Path) -> None:
    assert "alembic" not in _modules_of_a_start(data_dir)


def test_an_older_database_is_still_migrated(data_dir: Path) -> None:
    eng = database_at(data_dir / "old.db", "0003")
    upgrade(eng)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [
            head_revision(MIGRATIONS)
        ]
    eng.dispose()


def test_broken_rows_at_the_head_are_still_refused(tmp_path: Path) -> None:
    eng = create_db_engine(f"sqlite:///{tmp_path / 'broken.db'}")
    upgrade(eng)
    raw = sqlite3.connect(tmp_path / "broken.db")  # foreign keys off: SQLite's default
    with raw:
        raw.execute(
            "INSERT INTO stage (map_id, name, position, customer_goal, business_goal, outcomes, revisitable) "
            "VALUES (424242, 'orphan', 0, '', '', '[]', 0)"
        )
    raw.close()
    with pytest.raises(DatabaseDamagedError):
        upgrade(eng)
    eng.dispose()
