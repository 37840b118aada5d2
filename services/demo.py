"""The one-command demo: journey maps with realistic content, and the demo event logs imported and
linked to their maps.

Content lives in ``sample_data/`` beside the seeded generator of the event logs: the demo's
personas and its maps as map documents (``services.map_io``, written by its one writer; see
:func:`demo_map_documents`) in ``demo_maps.json``; the logs in
``b2b_saas_events.csv`` and ``pro_services_events.csv`` (see ``sample_data/generate.py`` for what
they contain and the effects planted in them).

- ``ensure_demo`` is idempotent: it seeds only a database that has never been seeded (in two
  parts, ``ensure_demo_maps`` then ``seed_demo_logs``, so the app can import the logs in the
  background). A marker
  bit in SQLite's ``user_version`` header field records the first seeding, so a user who deletes
  the demo maps does not get them back at the next start (``python cli.py demo --reset`` does).
- ``reset_demo`` deletes every demo map, persona and dataset (with its stored events) and seeds
  again. User maps and datasets are never touched.

Dates that must stay meaningful whenever the demo is loaded (review-by dates, action due dates)
are relative to the day of seeding; per-period metric values match the months of the logs.
"""

from __future__ import annotations

import copy
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
from db.access import AccessRole, require
from db.engine import read_session, write_session
from db.models import Dataset, JourneyMap, Persona
from services.conversion import save_conversion
from services.datasets import delete_dataset
from services.importer import import_event_log
from services.map_io import import_map_document

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
CONTENT_FILE = SAMPLE_DATA / "demo_maps.json"
# Bit of SQLite's user_version header field set once the demo has been seeded.
SEEDED_FLAG = 1


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


def demo_map_documents(today: date) -> list[dict[str, Any]]:
    """The demo's maps as complete map documents (``services.map_io``), dated from ``today``.

    In ``demo_maps.json`` each map is a map document with two shorthands, resolved here: its personas
    are listed by their key among the demo's personas (the key is their ref in the document), and
    dates are days from the day of seeding (``map.review_in_days``, each action's ``due_in_days``).
    """
    content = load_demo_content()
    personas = {p["key"]: {k: v for k, v in p.items() if k != "key"} for p in content["personas"]}
    documents = []
    for spec in content["maps"]:
        document = copy.deepcopy(spec["document"])
        document["personas"] = [{"ref": key, **personas[key]} for key in document.get("personas", [])]
        document["map"]["review_by"] = _days_from(today, document["map"].pop("review_in_days"))
        for action in document.get("actions", []):
            action["due_date"] = _days_from(today, action.pop("due_in_days"))
        documents.append(document)
    return documents


def _days_from(today: date, days: int | None) -> str | None:
    return None if days is None else (today + timedelta(days=days)).isoformat()


def demo_datasets() -> dict[str, DemoDataset]:
    """Demo event logs by the name of the map they belong to."""
    out = {}
    for spec in load_demo_content()["maps"]:
        ds = spec.get("dataset")
        if ds:
            out[spec["document"]["map"]["name"]] = DemoDataset(
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
    map_ids = ensure_demo_maps(engine=engine)
    if map_ids is None:
        return False
    seed_demo_logs(map_ids, engine=engine)
    return True


def ensure_demo_maps(*, engine: Engine | None = None) -> dict[str, int] | None:
    """The first part of :func:`ensure_demo`: if this database was never seeded, mark it and create
    the demo's personas and maps; their ids by map name, whose event logs :func:`seed_demo_logs`
    then imports (the app's first start does it in the background, the Overview drawn meanwhile).
    None when the database was seeded before."""
    with write_session(engine) as session:
        if _user_version(session) & SEEDED_FLAG or _has_demo_rows(session):
            return None
        _mark_seeded(session)
    return seed_demo_maps(engine=engine)


# --------------------------------------------------------------------------- seeding


def seed_demo(*, engine: Engine | None = None, today: date | None = None) -> list[int]:
    """Create the demo personas and maps with their content, then import the demo event logs as
    demo datasets linked to their maps. Returns the new map ids."""
    map_ids = seed_demo_maps(engine=engine, today=today)
    seed_demo_logs(map_ids, engine=engine)
    return list(map_ids.values())


def seed_demo_maps(*, engine: Engine | None = None, today: date | None = None) -> dict[str, int]:
    """Create the demo personas and maps with their content; the new map ids by map name."""
    with write_session(engine) as session:
        persona_ids = _create_personas(session, load_demo_content()["personas"])
        _mark_seeded(session)
    map_ids: dict[str, int] = {}
    for document in demo_map_documents(today or date.today()):
        map_ids[document["map"]["name"]] = import_map_document(
            document, persona_ids=persona_ids, is_demo=True, engine=engine
        )
    return map_ids


def seed_demo_logs(map_ids: dict[str, int], *, engine: Engine | None = None) -> list[int]:
    """Import the demo event logs as demo datasets linked to their maps (``map_ids``: by map name,
    as :func:`seed_demo_maps` gives them). Returns the dataset ids."""
    return [
        import_demo_dataset(dataset, map_ids[map_name], engine=engine) for map_name, dataset in demo_datasets().items()
    ]


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
        save_conversion(result.dataset_id, dataset.conversion, engine=engine)
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
