"""Shared fixtures: every test gets its own data directory and database; nothing touches ./data.

Two templates are made once per run and copied per test, so no test pays for work another test
already did:
- ``migrated_database``: an empty database file at the newest migration (Alembic runs once per run,
  not once per test); ``engine`` copies it into the test's data directory.
- ``demo_data``: a data directory holding the demo as the app seeds it on first start (database and
  Parquet datasets); ``demo_engine`` and the browser tests' servers copy it instead of seeding again.
Each test works on its own copy: nothing written by one test is seen by another.

Native thread pools get one thread per process (unless the environment says otherwise): xdist
already runs a worker per core, and OpenMP (scikit-learn's gradient boosting, the outlook's model)
and OpenBLAS threads spin while they wait for work, so on a busy machine two threads per worker
burned twice the CPU for the same fit (measured: the outlook tests, 38.5 s of CPU -> 17.6 s). The
results do not depend on it: the boosted trees split work per feature and reduce in a fixed order.
"""

from __future__ import annotations

import os

from tests import ROOT

# Before numpy or scikit-learn is imported: their thread pools read these when they load.
for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import shutil  # noqa: E402
import sqlite3  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from db.engine import DB_FILENAME, create_db_engine, database_url, dispose_engines, get_engine, upgrade  # noqa: E402

SHARED_DATA_ENV = "JOURNEYLENS_SHARED_DATA"


def copy_data_dir(template: Path, target: Path) -> Path:
    """Copy a template data directory (database and datasets) into ``target``, which may exist empty."""
    shutil.copytree(template, target, dirs_exist_ok=True)
    return target


@contextmanager
def template_data_dir(tmp_path_factory: pytest.TempPathFactory, migrated_database: Path, name: str) -> Iterator[Path]:
    """A new data directory (a template, made once for a module or a run) on a copy of the migrated
    database, JOURNEYLENS_DATA_DIR while the block runs; its engines are closed when it ends."""
    directory = tmp_path_factory.mktemp(name) / "data"
    directory.mkdir()
    shutil.copyfile(migrated_database, directory / DB_FILENAME)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOURNEYLENS_DATA_DIR", str(directory))
        try:
            yield directory
        finally:
            dispose_engines()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file at the newest migration with no rows, made once per run."""
    directory = tmp_path_factory.mktemp("template-migrated")
    eng = create_db_engine(database_url(directory))
    upgrade(eng)
    eng.dispose()  # the last connection checkpoints the write-ahead log into the file
    path = directory / DB_FILENAME
    assert not path.with_name(DB_FILENAME + "-wal").exists(), "the template must be one self-contained file"
    return path


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory, migrated_database: Path) -> Path:
    """A data directory holding the demo, seeded once per run exactly as the app's first start does."""
    from db.access import as_system
    from services import demo

    # The data directory is where the import stores the Parquet files.
    with template_data_dir(tmp_path_factory, migrated_database, "template-demo") as directory:
        with as_system("first start"):  # as components.bootstrap seeds it
            assert demo.ensure_demo(engine=get_engine())
    assert not (directory / (DB_FILENAME + "-wal")).exists(), "the template must be self-contained"
    return directory


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh JOURNEYLENS_DATA_DIR for each test; engines are dropped afterwards."""
    directory = tmp_path / "data"
    directory.mkdir()
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(directory))
    yield directory
    dispose_engines()


@pytest.fixture
def engine(data_dir: Path, migrated_database: Path) -> Engine:
    """The data directory's database, migrated, without the demo (services use it by default)."""
    if not (data_dir / DB_FILENAME).exists():  # a test may have opened its database already
        shutil.copyfile(migrated_database, data_dir / DB_FILENAME)
    return get_engine()


@pytest.fixture
def dump(engine: Engine, data_dir: Path) -> Callable[[], str]:
    """The database's full SQL text: equal before and after means nothing was written."""

    def _dump() -> str:
        conn = sqlite3.connect(data_dir / DB_FILENAME)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()

    return _dump


@pytest.fixture
def demo_engine(data_dir: Path, demo_data: Path) -> Engine:
    """The data directory's database holding the demo (maps, personas, datasets), as after the app's
    first start: pages find it seeded and do not seed it again."""
    copy_data_dir(demo_data, data_dir)
    return get_engine()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real logs of ../shared/data; tests using it skip with a message where it is absent."""
    path = Path(os.environ.get(SHARED_DATA_ENV) or ROOT.parent / "shared" / "data")
    if not (path / "bpic2012").is_dir():
        pytest.skip(f"real logs not found at {path}: set {SHARED_DATA_ENV} to the shared/data folder")
    return path
