"""Shared fixtures: every test gets its own data directory and database; nothing touches ./data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.engine import create_db_engine, dispose_engines, upgrade

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA_ENV = "JOURNEYLENS_SHARED_DATA"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh JOURNEYLENS_DATA_DIR for each test; engines are dropped afterwards."""
    directory = tmp_path / "data"
    directory.mkdir()
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(directory))
    yield directory
    dispose_engines()


@pytest.fixture
def engine(data_dir: Path) -> Engine:
    """The data directory's database, migrated, without the demo (services use it by default)."""
    from db.engine import get_engine

    return get_engine()


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    """An in-memory SQLite database (StaticPool), migrated."""
    eng = create_db_engine("sqlite://")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real logs of ../shared/data; tests using it skip with a message where it is absent."""
    path = Path(os.environ.get(SHARED_DATA_ENV) or ROOT.parent / "shared" / "data")
    if not (path / "bpic2012").is_dir():
        pytest.skip(f"real logs not found at {path}: set {SHARED_DATA_ENV} to the shared/data folder")
    return path
