"""The engine factory's settings, migrations, the version counter and the map services."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, text

from core.errors import BadInputError, ConflictError
from db.engine import read_session, write_session
from db.models import JourneyMap, Stage
from services import maps as map_service
from services.templates import list_templates


def test_engine_pragmas(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_migrations_create_every_table(engine):
    tables = set(inspect(engine).get_table_names())
    expected = {
        "journey_map",
        "persona",
        "map_persona",
        "stage",
        "touchpoint",
        "lane_cell",
        "pain_point",
        "opportunity",
        "action",
        "metric",
        "metric_value",
        "snapshot",
        "dataset",
        "column_mapping_preset",
        "activity_link",
        "alembic_version",
    }
    assert expected <= tables


def test_every_template_creates_its_stages(engine):
    for template in list_templates():
        map_id = map_service.create_map_from_template(template_key=template.key, name=f"From {template.key}")
        summary = map_service.get_map_summary(map_id)
        assert summary.stages == len(template.stages)
        assert summary.touchpoints == sum(len(s["touchpoints"]) for s in template.stages)


def test_stale_save_is_refused(engine):
    map_id = map_service.create_map_from_template(template_key="b2b-4-stage", name="Shared")
    v1 = map_service.get_map_summary(map_id).version
    v2 = map_service.rename_map(map_id, "Renamed by Ana", expected_version=v1)
    assert v2 == v1 + 1
    with pytest.raises(ConflictError, match="changed by someone else"):
        map_service.rename_map(map_id, "Renamed by Ben from a stale copy", expected_version=v1)
    assert map_service.get_map_summary(map_id).name == "Renamed by Ana"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 10_000, "a\x00b"])
def test_bad_names_are_refused_and_nothing_written(engine, bad):
    with pytest.raises(BadInputError):
        map_service.create_map_from_template(template_key="b2b-4-stage", name=bad)
    assert map_service.list_map_summaries() == []


def test_unicode_names_are_kept(engine):
    for name in ("Hành trình khách hàng", "เส้นทางลูกค้า", "رحلة العميل", "Journey 🚀"):
        map_id = map_service.create_map_from_template(template_key=None, name=name)
        assert map_service.get_map_summary(map_id).name == name


def test_delete_cascades(engine):
    map_id = map_service.create_map_from_template(template_key="b2b-5-stage", name="To delete")
    map_service.delete_map(map_id)
    with read_session() as session:
        assert session.exec(text("SELECT count(*) FROM stage")).one()[0] == 0
        assert session.exec(text("SELECT count(*) FROM touchpoint")).one()[0] == 0


def test_stale_flag(engine):
    map_id = map_service.create_map_from_template(template_key=None, name="Old", review_by=date(2020, 1, 1))
    assert map_service.get_map_summary(map_id).stale
    assert not map_service.is_stale(date(2999, 1, 1))


def test_write_session_rolls_back_on_error(engine):
    with pytest.raises(RuntimeError), write_session() as session:
        session.add(JourneyMap(name="half"))
        session.flush()
        raise RuntimeError("boom")
    with read_session() as session:
        assert session.exec(text("SELECT count(*) FROM journey_map")).one()[0] == 0


def test_foreign_keys_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), write_session() as session:
        session.add(Stage(map_id=999, name="orphan"))
