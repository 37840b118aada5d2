"""The demo seeded in two parts (maps, then event logs), as the app's first start does, gives what
``ensure_demo`` gives, and seeds once."""

from __future__ import annotations

from sqlmodel import col, select

from db.engine import read_session
from db.models import Dataset, JourneyMap
from services import demo


def _demo_rows() -> tuple[dict[str, int], list[tuple[str, int | None]]]:
    with read_session() as session:
        maps = {m.name: m.id for m in session.exec(select(JourneyMap).where(col(JourneyMap.is_demo))).all()}
        datasets = [(d.name, d.map_id) for d in session.exec(select(Dataset).where(col(Dataset.is_demo))).all()]
    return maps, sorted(datasets)


def test_maps_first_then_logs(engine):
    map_ids = demo.ensure_demo_maps(engine=engine)
    assert map_ids is not None and len(map_ids) == 3
    maps, datasets = _demo_rows()
    assert maps == map_ids
    assert datasets == []  # the logs are not in yet
    assert demo.ensure_demo_maps(engine=engine) is None  # seeded once: the marker is set
    assert demo.ensure_demo(engine=engine) is False
    dataset_ids = demo.seed_demo_logs(map_ids, engine=engine)
    assert len(dataset_ids) == 2
    _, datasets = _demo_rows()
    expected = {map_ids[name]: d.name for name, d in demo.demo_datasets().items()}
    assert sorted((name, map_id) for map_id, name in expected.items()) == datasets


def test_ensure_demo_does_both_parts(engine):
    assert demo.ensure_demo(engine=engine) is True
    maps, datasets = _demo_rows()
    expected = sorted((d.name, maps[name]) for name, d in demo.demo_datasets().items())
    assert len(maps) == 3 and datasets == expected
