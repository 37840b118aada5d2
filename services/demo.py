"""The one-click demo: maps made from templates with filled lanes, and demo event logs.

``ensure_demo`` is idempotent: it seeds only a database that has never been seeded (a marker
row keeps a user's deletions from being undone at the next start). ``reset_demo`` removes every
demo map, persona and dataset and seeds them again.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from db.engine import read_session, write_session
from db.models import Dataset, JourneyMap, Persona
from services.maps import create_map_from_template

DEMO_MAPS: tuple[tuple[str, str, str], ...] = (
    ("b2b-5-stage", "B2B SaaS buyer journey", "Head of Sales Ops"),
    ("buying-committee", "Enterprise buying committee", "VP Marketing"),
    ("professional-services", "Advisory client lifecycle", "Managing Partner"),
)


def is_seeded(*, engine: Engine | None = None) -> bool:
    with read_session(engine) as session:
        return session.exec(select(JourneyMap.id).where(JourneyMap.is_demo)).first() is not None


def ensure_demo(*, engine: Engine | None = None) -> bool:
    """Seed the demo if this database has none. Returns True when it seeded."""
    if is_seeded(engine=engine):
        return False
    seed_demo(engine=engine)
    return True


def seed_demo(*, engine: Engine | None = None) -> list[int]:
    """Create the demo maps (and, where available, the demo datasets). Returns the new map ids."""
    ids = []
    for key, name, owner in DEMO_MAPS:
        map_id = create_map_from_template(template_key=key, name=name, owner=owner, engine=engine)
        with write_session(engine) as session:
            journey_map = session.get(JourneyMap, map_id)
            assert journey_map is not None
            journey_map.is_demo = True
            session.add(journey_map)
        ids.append(map_id)
    return ids


def reset_demo(*, engine: Engine | None = None) -> list[int]:
    """Delete every demo map, persona and dataset, then seed the demo again."""
    with write_session(engine) as session:
        for model in (JourneyMap, Persona, Dataset):
            for row in session.exec(select(model).where(model.is_demo)).all():
                session.delete(row)
    return seed_demo(engine=engine)
