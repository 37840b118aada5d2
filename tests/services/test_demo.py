"""The demo: seeded once, filled with realistic content, restored by a reset."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from db.engine import DB_FILENAME, get_engine, read_session, write_session
from db.models import (
    Action,
    ActionStatus,
    ActivityLink,
    CommitteeRole,
    Dataset,
    Direction,
    JourneyMap,
    LaneCell,
    MapPersona,
    Metric,
    MetricKind,
    MetricValue,
    Opportunity,
    PainPoint,
    Persona,
)
from services import demo
from services import maps as map_service
from tests.conftest import copy_data_dir, template_data_dir

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, migrated_database: Path) -> tuple[Path, list[int]]:
    """A data directory with the demo seeded on TODAY (``seed_demo``), made once for the module, and
    the ids of its maps. Tests get their own copy (``seeded``), never this directory."""
    with template_data_dir(tmp_path_factory, migrated_database, "demo-today") as directory:
        ids = demo.seed_demo(engine=get_engine(), today=TODAY)
    assert not (directory / (DB_FILENAME + "-wal")).exists(), "the template must be self-contained"
    return directory, ids


@pytest.fixture
def seeded(data_dir: Path, seeded_template: tuple[Path, list[int]]) -> list[int]:
    """This test's own copy of the demo seeded on TODAY, as ``demo.seed_demo(today=TODAY)`` leaves it
    in a new database; returns the ids ``seed_demo`` returned."""
    template, ids = seeded_template
    copy_data_dir(template, data_dir)
    return ids


def _demo_maps() -> dict[str, int]:
    with read_session() as session:
        return {m.name: m.id for m in session.exec(select(JourneyMap).where(col(JourneyMap.is_demo))).all()}


def _rows(model, map_id: int) -> list:
    with read_session() as session:
        return list(session.exec(select(model).where(model.map_id == map_id)).all())


def _personas(map_id: int) -> list[Persona]:
    with read_session() as session:
        return list(
            session.exec(
                select(Persona)
                .join(MapPersona, col(MapPersona.persona_id) == col(Persona.id))
                .where(MapPersona.map_id == map_id)
            ).all()
        )


def test_seed_creates_the_three_template_maps_with_content(seeded):
    ids = seeded
    maps = _demo_maps()
    assert sorted(maps.values()) == sorted(ids)
    assert set(maps) == {"B2B SaaS buyer journey", "Enterprise buying committee", "Advisory client lifecycle"}
    summaries = {s.name: s for s in map_service.list_map_summaries(today=TODAY)}
    assert summaries["B2B SaaS buyer journey"].touchpoints == 21
    assert all(s.owner for s in summaries.values())
    # One demo map is already past its review date.
    assert [name for name, s in summaries.items() if s.stale] == ["Advisory client lifecycle"]
    with read_session() as session:
        assert all(m.scenario for m in session.exec(select(JourneyMap)).all())

    for name, map_id in maps.items():
        personas = _personas(map_id)
        assert len(personas) >= 3, name
        for p in personas:
            assert p.is_demo
            for field in ("description", "demographics", "job_title", "company_size", "industry", "goals"):
                assert getattr(p, field), (p.name, field)
            for field in ("pain_points", "buying_behaviour", "channels", "committee_role"):
                assert getattr(p, field), (p.name, field)

        cells = _rows(LaneCell, map_id)
        assert {"thinking", "doing", "feeling"} <= {c.lane for c in cells}, name
        feelings = [c for c in cells if c.lane == "feeling"]
        assert all(c.emotion is not None and -2 <= c.emotion <= 2 for c in feelings)
        assert min(c.emotion for c in feelings) < 0 < max(c.emotion for c in feelings)  # a curve with ups and downs
        assert all(c.emotion is None for c in cells if c.lane != "feeling")
        assert len({c.stage_id for c in cells}) == summaries[name].stages  # every stage has lanes

        pains = _rows(PainPoint, map_id)
        assert len(pains) >= 5 and all(1 <= p.severity <= 5 for p in pains)
        assert max(p.severity for p in pains) >= 4
        opportunities = _rows(Opportunity, map_id)
        assert len(opportunities) >= 5
        for o in opportunities:
            assert all(1 <= v <= 5 for v in (o.effort, o.customer_value, o.business_value))

        actions = _rows(Action, map_id)
        assert len(actions) >= 5
        assert all(a.owner and a.due_date and a.touchpoint_id for a in actions)
        assert {a.status for a in actions} <= {s.value for s in ActionStatus}
        overdue = [a for a in actions if a.status != ActionStatus.DONE and a.due_date < TODAY]
        assert overdue, f"{name} has no overdue action"
        assert any(a.metric_id for a in actions)

        metrics = _rows(Metric, map_id)
        assert len(metrics) >= 4
        with read_session() as session:
            for m in metrics:
                assert m.target is not None and m.direction in {d.value for d in Direction}
                values = session.exec(select(MetricValue).where(MetricValue.metric_id == m.id)).all()
                assert len(values) >= 4, m.name  # enough periods for a trend


def test_buying_committee_map_has_one_persona_per_role_with_lanes(seeded):
    map_id = _demo_maps()["Enterprise buying committee"]
    personas = _personas(map_id)
    assert sorted(p.committee_role for p in personas) == sorted(r.value for r in CommitteeRole)
    decision_makers = {p.committee_role for p in personas if p.is_decision_maker}
    assert "decision maker" in decision_makers
    cells = _rows(LaneCell, map_id)
    for p in personas:
        mine = [c for c in cells if c.persona_id == p.id]
        assert {"thinking", "doing", "feeling", "your goal"} <= {c.lane for c in mine}, p.name
        assert len({c.stage_id for c in mine if c.lane == "feeling"}) == 4  # an emotion curve per persona


def test_lane_cells_are_unique_and_personas_attached(seeded):
    """A cell is (stage, touchpoint or none, persona or none, lane), as the studio edits it, and
    every persona the content names is one of the map's personas."""
    for name, map_id in _demo_maps().items():
        cells = _rows(LaneCell, map_id)
        keys = [(c.stage_id, c.touchpoint_id, c.persona_id, c.lane) for c in cells]
        assert len(keys) == len(set(keys)), name
        attached = {p.id for p in _personas(map_id)}
        used = {c.persona_id for c in cells} | {p.persona_id for p in _rows(PainPoint, map_id)}
        assert used - {None} <= attached, name


def test_every_map_has_map_wide_health_metrics(seeded):
    """The Overview's health reads the map-wide conversion, NPS and CSAT metrics."""
    for name, map_id in _demo_maps().items():
        wide = {m.kind for m in _rows(Metric, map_id) if m.stage_id is None and m.touchpoint_id is None}
        assert {"conversion", "nps", "csat"} <= wide, name


def test_metric_kinds_cover_the_product_metrics(seeded):
    map_id = _demo_maps()["B2B SaaS buyer journey"]
    metrics = _rows(Metric, map_id)
    kinds = {m.kind for m in metrics}
    assert {k.value for k in MetricKind} - {"custom"} <= kinds
    ces = next(m for m in metrics if m.kind == "ces")
    assert ces.direction == Direction.LOWER
    assert any(m.touchpoint_id for m in metrics) and any(m.stage_id for m in metrics)


def test_ensure_demo_seeds_once_and_respects_deletions(engine):
    assert not demo.is_seeded()
    assert demo.ensure_demo() is True
    first = _demo_maps()
    with read_session() as session:
        personas = len(session.exec(select(Persona)).all())
    assert demo.ensure_demo() is False
    assert _demo_maps() == first
    # A user who deletes the demo does not get it back at the next start.
    for map_id in first.values():
        map_service.delete_map(map_id)
    assert demo.is_seeded()
    assert demo.ensure_demo() is False
    assert _demo_maps() == {}
    with read_session() as session:
        assert len(session.exec(select(Persona)).all()) == personas


def test_reset_restores_the_demo_and_keeps_user_work(demo_engine):
    # demo_engine: a copy of a database demo.ensure_demo() seeded (tests/conftest.py, demo_data).
    before = _demo_maps()
    mine = map_service.create_map_from_template(template_key="b2b-4-stage", name="My own map")
    with write_session() as session:
        session.add(Persona(name="My persona"))
    victim = before["B2B SaaS buyer journey"]
    map_service.rename_map(victim, "Scribbled on", expected_version=None)
    map_service.delete_map(before["Advisory client lifecycle"])

    ids = demo.reset_demo()
    after = _demo_maps()
    assert set(after) == set(before)
    assert sorted(after.values()) == sorted(ids)
    assert mine in {s.id for s in map_service.list_map_summaries()}
    with read_session() as session:
        personas = session.exec(select(Persona)).all()
        assert [p.name for p in personas if not p.is_demo] == ["My persona"]
        demo_personas = [p for p in personas if p.is_demo]
        assert len(demo_personas) == len(demo.load_demo_content()["personas"])  # no duplicates


def test_ensure_demo_sets_the_seeded_marker(demo_engine):
    # demo_engine: a copy of a database demo.ensure_demo() seeded; demo_data asserts it returned True.
    with read_session() as session:
        version = session.connection().exec_driver_sql("PRAGMA user_version").scalar()
    assert version & demo.SEEDED_FLAG


def test_demo_datasets_are_imported_and_fully_linked(seeded, data_dir):
    maps = _demo_maps()
    with read_session() as session:
        datasets = session.exec(select(Dataset).where(col(Dataset.is_demo))).all()
        assert {d.map_id for d in datasets} == {maps["B2B SaaS buyer journey"], maps["Advisory client lifecycle"]}
        for d in datasets:
            assert d.events > 1000 and d.journeys > 100
            links = session.exec(select(ActivityLink).where(ActivityLink.dataset_id == d.id)).all()
            assert links and all(link.touchpoint_id is not None for link in links), d.name
            assert len(links) == d.activities
    sizes = {d.name: d.events for d in datasets}
    assert sizes["Demo: B2B SaaS event log"] > 40_000

    # A reset removes the demo datasets' stored events and imports them again.
    assert all((data_dir / d.storage_path).exists() for d in datasets)
    marker = data_dir / datasets[0].storage_path
    marker.parent.joinpath("left-over").write_text("from before the reset")
    demo.reset_demo()
    with read_session() as session:
        again = session.exec(select(Dataset).where(col(Dataset.is_demo))).all()
    assert sorted(d.name for d in again) == sorted(d.name for d in datasets)
    assert all((data_dir / d.storage_path).exists() for d in again)
    assert not marker.parent.joinpath("left-over").exists()
    # No stored events without a dataset row.
    dirs = {p for p in (data_dir / "datasets").iterdir()}
    assert dirs == {(data_dir / d.storage_path).parent for d in again}


def test_action_due_dates_are_relative_to_the_seeding_day(seeded):
    map_id = _demo_maps()["B2B SaaS buyer journey"]
    dues = sorted(a.due_date for a in _rows(Action, map_id))
    assert dues[0] < TODAY < dues[-1]
    assert dues[-1] <= TODAY + timedelta(days=365)
