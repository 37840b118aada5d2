"""The one-command demo: journey maps made from templates, filled with realistic content, and the
demo event logs imported and linked to their maps.

Content lives in ``sample_data/`` beside the seeded generator of the event logs: the maps,
personas, lanes, pain points, opportunities, actions and metrics in ``demo_maps.json``; the logs in
``b2b_saas_events.csv`` and ``pro_services_events.csv`` (see ``sample_data/generate.py`` for what
they contain and the effects planted in them).

- ``ensure_demo`` is idempotent: it seeds only a database that has never been seeded. A marker
  bit in SQLite's ``user_version`` header field records the first seeding, so a user who deletes
  the demo maps does not get them back at the next start (``python cli.py demo --reset`` does).
- ``reset_demo`` deletes every demo map, persona and dataset (with its stored events) and seeds
  again. User maps and datasets are never touched.

Dates that must stay meaningful whenever the demo is loaded (review-by dates, action due dates)
are relative to the day of seeding; per-period metric values match the months of the logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from analytics.conversion import NOT_DEFINED, Conversion
from analytics.schema import ColumnMapping
from db import crud
from db.access import AccessRole, require
from db.engine import read_session, write_session
from db.models import (
    Action,
    Dataset,
    JourneyMap,
    LaneCell,
    MapPersona,
    Metric,
    MetricValue,
    Opportunity,
    PainPoint,
    Persona,
    Stage,
    Touchpoint,
)
from services.conversion import set_conversion
from services.datasets import delete_dataset
from services.importer import import_event_log
from services.maps import create_map_from_template

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
CONTENT_FILE = SAMPLE_DATA / "demo_maps.json"
# Bit of SQLite's user_version header field set once the demo has been seeded.
SEEDED_FLAG = 1
EMOTION_WORDS = {-2: "Very negative", -1: "Negative", 0: "Neutral", 1: "Positive", 2: "Very positive"}


@dataclass(frozen=True)
class DemoDataset:
    """A demo event log and how its columns map to roles."""

    path: Path
    name: str
    columns: dict[str, str]
    segments: tuple[str, ...]
    conversion: Conversion = NOT_DEFINED


@cache
def load_demo_content() -> dict[str, Any]:
    """The demo's maps and personas as plain data (``sample_data/demo_maps.json``)."""
    return json.loads(CONTENT_FILE.read_text(encoding="utf-8"))


def demo_datasets() -> dict[str, DemoDataset]:
    """Demo event logs by the name of the map they belong to."""
    out = {}
    for spec in load_demo_content()["maps"]:
        ds = spec.get("dataset")
        if ds:
            out[spec["name"]] = DemoDataset(
                path=SAMPLE_DATA / ds["file"],
                name=ds["name"],
                columns=dict(ds["columns"]),
                segments=tuple(ds["segments"]),
                conversion=Conversion(**{k: v for k, v in ds.get("conversion", {}).items()}),
            )
    return out


# --------------------------------------------------------------------------- seeded marker


def _user_version(session: Session) -> int:
    return int(session.connection().exec_driver_sql("PRAGMA user_version").scalar() or 0)


def _has_demo_rows(session: Session) -> bool:
    return session.exec(select(JourneyMap.id).where(col(JourneyMap.is_demo))).first() is not None


def _mark_seeded(session: Session) -> None:
    session.connection().exec_driver_sql(f"PRAGMA user_version = {_user_version(session) | SEEDED_FLAG}")


def is_seeded(*, engine: Engine | None = None) -> bool:
    """True once the demo has been seeded in this database (even if its maps were deleted since)."""
    with read_session(engine) as session:
        return bool(_user_version(session) & SEEDED_FLAG) or _has_demo_rows(session)


def ensure_demo(*, engine: Engine | None = None) -> bool:
    """Seed the demo if this database was never seeded. Returns True when it seeded.

    The check and the marker are written in one immediate transaction, so two processes starting
    together (the app and the CLI) seed once.
    """
    with write_session(engine) as session:
        if _user_version(session) & SEEDED_FLAG or _has_demo_rows(session):
            return False
        _mark_seeded(session)
    seed_demo(engine=engine)
    return True


# --------------------------------------------------------------------------- seeding


def seed_demo(*, engine: Engine | None = None, today: date | None = None) -> list[int]:
    """Create the demo personas and maps with their content, then import the demo event logs as
    demo datasets linked to their maps. Returns the new map ids."""
    content = load_demo_content()
    today = today or date.today()
    with write_session(engine) as session:
        personas = _create_personas(session, content["personas"])
        _mark_seeded(session)
    map_ids: dict[str, int] = {}
    for spec in content["maps"]:
        map_id = create_map_from_template(
            template_key=spec["template"],
            name=spec["name"],
            description=spec["description"],
            owner=spec["owner"],
            review_by=today + timedelta(days=spec["review_in_days"]),
            engine=engine,
        )
        with write_session(engine) as session:
            _fill_map(session, map_id, spec, personas, today)
        map_ids[spec["name"]] = map_id
    for map_name, dataset in demo_datasets().items():
        import_demo_dataset(dataset, map_ids[map_name], engine=engine)
    return list(map_ids.values())


def import_demo_dataset(dataset: DemoDataset, map_id: int, *, engine: Engine | None = None) -> int:
    """Import one demo event log as a demo dataset and link its activities to the map's touchpoints."""
    mapping = ColumnMapping.of(segments=dataset.segments, **dataset.columns)
    result = import_event_log(
        dataset.path,
        name=dataset.name,
        mapping=mapping,
        source_name=dataset.path.name,
        is_demo=True,
        map_id=map_id,  # the import links a new dataset to the map (activities matched by name)
        engine=engine,
    )
    # created is False when a user imported the very same file with the same options: that dataset
    # is theirs and stays as it is (linked to their map, its definition theirs, never deleted by a reset).
    if result.created and dataset.conversion.defined:
        set_conversion(result.dataset_id, dataset.conversion, engine=engine)
    return result.dataset_id


def reset_demo(*, engine: Engine | None = None) -> list[int]:
    """Delete every demo map, persona and dataset (with its stored events), then seed the demo again."""
    require(AccessRole.ADMIN, "reset the demo")
    with read_session(engine) as session:
        dataset_ids = [i for i in session.exec(select(Dataset.id).where(col(Dataset.is_demo))).all() if i is not None]
    for dataset_id in dataset_ids:
        delete_dataset(dataset_id, engine=engine)
    with write_session(engine) as session:
        for model in (JourneyMap, Persona):
            for row in session.exec(select(model).where(col(model.is_demo))).all():
                session.delete(row)
    return seed_demo(engine=engine)


def _create_personas(session: Session, specs: list[dict[str, Any]]) -> dict[str, int]:
    ids = {}
    for spec in specs:
        fields = {k: v for k, v in spec.items() if k != "key"}
        persona = Persona(is_demo=True, **fields)
        session.add(persona)
        session.flush()
        assert persona.id is not None
        ids[spec["key"]] = persona.id
    return ids


def _fill_map(session: Session, map_id: int, spec: dict[str, Any], personas: dict[str, int], today: date) -> None:
    """Personas, RACI, lanes, pain points, opportunities, metrics and actions of one demo map."""
    journey_map = crud.get_map(session=session, map_id=map_id)
    journey_map.is_demo = True
    journey_map.scenario = spec.get("scenario", "")
    session.add(journey_map)
    stages: dict[str, Stage] = {s.name: s for s in crud.list_stages(session=session, map_id=map_id)}
    touchpoints: dict[str, Touchpoint] = {t.name: t for t in crud.list_touchpoints(session=session, map_id=map_id)}

    def stage_id(name: str) -> int:
        sid = stages[name].id
        assert sid is not None
        return sid

    def where(item: dict[str, Any]) -> dict[str, int | None]:
        """stage_id/touchpoint_id of an item naming a touchpoint or a stage."""
        if item.get("touchpoint"):
            tp = touchpoints[item["touchpoint"]]
            return {"stage_id": tp.stage_id, "touchpoint_id": tp.id}
        if item.get("stage"):
            return {"stage_id": stage_id(item["stage"]), "touchpoint_id": None}
        return {"stage_id": None, "touchpoint_id": None}

    def persona_id(item: dict[str, Any]) -> int | None:
        return personas[item["persona"]] if item.get("persona") else None

    for key in spec.get("personas", []):
        session.add(MapPersona(map_id=map_id, persona_id=personas[key]))
    for name, raci in spec.get("raci", {}).items():
        tp = touchpoints[name]
        for field_name, value in raci.items():
            setattr(tp, field_name, value)
        session.add(tp)

    cells: list[LaneCell] = []

    def add_lanes(stage_name: str, lanes: dict[str, Any], persona: int | None) -> None:
        for lane, value in lanes.items():
            text, emotion = (value[0], int(value[1])) if lane == "feeling" else (value, None)
            cells.append(
                LaneCell(
                    map_id=map_id,
                    stage_id=stage_id(stage_name),
                    persona_id=persona,
                    lane=lane,
                    text=text,
                    emotion=emotion,
                )
            )

    for stage_name, lanes in spec.get("stage_lanes", {}).items():
        add_lanes(stage_name, lanes, None)
    for key, by_stage in spec.get("persona_lanes", {}).items():
        for stage_name, lanes in by_stage.items():
            add_lanes(stage_name, lanes, personas[key])
    for key, by_stage in spec.get("persona_stage_feelings", {}).items():
        for stage_name, emotion in by_stage.items():
            cells.append(
                LaneCell(
                    map_id=map_id,
                    stage_id=stage_id(stage_name),
                    persona_id=personas[key],
                    lane="feeling",
                    text=EMOTION_WORDS[int(emotion)],
                    emotion=int(emotion),
                )
            )
    for item in spec.get("touchpoint_lanes", []):
        place = where(item)
        cells.append(
            LaneCell(
                map_id=map_id,
                stage_id=place["stage_id"],
                touchpoint_id=place["touchpoint_id"],
                persona_id=persona_id(item),
                lane=item["lane"],
                text=item["text"],
                emotion=item.get("emotion"),
            )
        )
    session.add_all(cells)

    for item in spec.get("pain_points", []):
        session.add(
            PainPoint(
                map_id=map_id,
                persona_id=persona_id(item),
                description=item["description"],
                severity=item["severity"],
                **where(item),
            )
        )
    for item in spec.get("opportunities", []):
        session.add(
            Opportunity(
                map_id=map_id,
                description=item["description"],
                effort=item["effort"],
                customer_value=item["customer_value"],
                business_value=item["business_value"],
                **where(item),
            )
        )

    metric_ids: dict[str, int] = {}
    for item in spec.get("metrics", []):
        metric = Metric(
            map_id=map_id,
            kind=item["kind"],
            name=item["name"],
            unit=item.get("unit", ""),
            target=item["target"],
            direction=item["direction"],
            source="manual",
            **where(item),
        )
        session.add(metric)
        session.flush()
        assert metric.id is not None
        metric_ids[item["key"]] = metric.id
        session.add_all(
            MetricValue(metric_id=metric.id, period=period, value=float(value))
            for period, value in item["values"].items()
        )
    for item in spec.get("actions", []):
        session.add(
            Action(
                map_id=map_id,
                metric_id=metric_ids[item["metric"]] if item.get("metric") else None,
                action=item["action"],
                owner=item["owner"],
                status=item["status"],
                due_date=today + timedelta(days=item["due_in_days"]),
                expected_effect=item.get("expected_effect", ""),
                **where(item),
            )
        )
