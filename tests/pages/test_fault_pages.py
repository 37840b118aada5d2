"""A dataset whose events file is missing or damaged: every page says so and keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest

from services import maps as map_service
from tests.factories import b2b_log, create_dataset
from tests.pages.conftest import run_page


@pytest.fixture
def broken(engine, data_dir: Path, monkeypatch) -> tuple[int, int]:
    """A map linked to a dataset ("Web log") whose Parquet file was deleted, and a healthy one."""
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    map_id = map_service.create_map_from_template(template_key=None, name="Linked map")
    bad = create_dataset(b2b_log(journeys=30), name="Web log", map_id=map_id)
    create_dataset(b2b_log(journeys=20, seed=3), name="Healthy log")
    (data_dir / "datasets" / str(bad) / "events.parquet").unlink()
    return map_id, bad


def _errors(at) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error]


def test_overview_lists_the_damaged_dataset_and_the_map_says_so(broken):
    at = run_page("app.py")
    assert [t.value for t in at.title] == ["Overview"]
    assert any("Web log" in e and "missing" in e for e in _errors(at))
    table = at.dataframe[-1].value
    status = dict(zip(table["Name"], table["Status"], strict=True))
    assert status == {"Web log": "missing", "Healthy log": "ok"}


@pytest.mark.parametrize("page", ["pages/4_Data.py", "pages/5_Flows.py", "pages/9_Friction.py", "pages/8_Metrics.py"])
def test_pages_show_the_error_instead_of_crashing(broken, page):
    map_id, bad = broken
    at = run_page(page, query={"dataset": str(bad), "map": str(map_id)})
    errors = _errors(at)
    assert any("Web log" in e and "missing" in e and "Re-import" in e for e in errors), errors


def test_a_damaged_database_file_gives_a_message_on_every_page(engine, data_dir: Path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from db.engine import dispose_engines
    from tests.pages.conftest import ROOT

    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    dispose_engines()
    db_file = data_dir / "journeylens.db"
    for extra in ("-wal", "-shm"):
        Path(str(db_file) + extra).unlink(missing_ok=True)
    db_file.write_bytes(b"not a database " * 500)
    for page in ("app.py", "pages/5_Flows.py"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        if page != "app.py":
            at.switch_page(page)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("database file is damaged" in e.value and "restore" in e.value for e in at.error)
    assert db_file.read_bytes() == b"not a database " * 500


def test_the_data_page_lists_the_dataset_as_missing(broken):
    _map_id, bad = broken
    at = run_page("pages/4_Data.py", query={"dataset": str(bad)})
    table = next(d.value for d in at.dataframe if "Events file" in d.value.columns)
    assert dict(zip(table["Dataset"], table["Events file"], strict=True)) == {"Web log": "missing", "Healthy log": "ok"}
