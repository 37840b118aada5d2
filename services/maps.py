"""Use cases on journey maps: create from a template or from scratch, list, rename, delete.

Every function opens its own short session; results are plain dataclasses (never ORM objects),
so pages can cache them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func
from sqlmodel import select

from db import crud
from db.access import AccessRole, require
from db.engine import read_session, write_session
from db.models import MapState, Stage, Touchpoint
from services.templates import get_template


@dataclass(frozen=True)
class MapSummary:
    id: int
    name: str
    description: str
    state: str
    owner: str
    review_by: date | None
    stages: int
    touchpoints: int
    updated_at: datetime
    version: int
    stale: bool


def is_stale(review_by: date | None, today: date | None = None) -> bool:
    """A map is stale when its review-by date has passed."""
    return review_by is not None and review_by < (today or date.today())


def create_map_from_template(
    *,
    template_key: str | None,
    name: str,
    description: str = "",
    owner: str = "",
    review_by: date | None = None,
    state: str = MapState.CURRENT.value,
    engine: Engine | None = None,
) -> int:
    """Create a map from a template's map document (``None``: an empty map). Returns its id.

    The document is written by the map document's one writer (``map_io.import_map_document``): checked
    whole, then written in one transaction.
    """
    # Imported here: map_io reads maps through the map view, which imports this module.
    from services import map_io

    template = get_template(template_key) if template_key else None
    document = copy.deepcopy(dict(template.document)) if template else map_io.empty_document()
    document["map"] = {
        **document["map"],
        "name": crud.clean_name(name, "map name"),
        "description": description or (template.description if template else ""),
        "owner": owner,
        "review_by": review_by.isoformat() if review_by else None,
        "state": state,
    }
    return map_io.import_map_document(document, name=name, engine=engine)  # a name another map has: refused


def list_map_summaries(*, engine: Engine | None = None, today: date | None = None) -> list[MapSummary]:
    """Every map with its counts of stages and touchpoints and its stale flag."""
    with read_session(engine) as session:
        stage_counts = dict(session.exec(select(Stage.map_id, func.count()).group_by(Stage.map_id)).all())
        tp_counts = dict(session.exec(select(Touchpoint.map_id, func.count()).group_by(Touchpoint.map_id)).all())
        return [
            MapSummary(
                id=m.id or 0,
                name=m.name,
                description=m.description,
                state=m.state,
                owner=m.owner,
                review_by=m.review_by,
                stages=stage_counts.get(m.id, 0),
                touchpoints=tp_counts.get(m.id, 0),
                updated_at=m.updated_at,
                version=m.version,
                stale=is_stale(m.review_by, today),
            )
            for m in crud.list_maps(session=session)
        ]


def get_map_summary(map_id: int, *, engine: Engine | None = None) -> MapSummary:
    for summary in list_map_summaries(engine=engine):
        if summary.id == map_id:
            return summary
    from core.errors import NotFoundError

    raise NotFoundError("Map", map_id)


def check_map_exists(map_id: int, *, engine: Engine | None = None) -> None:
    """Refuse a map id that does not exist, naming the maps there are (``services.context.check_map_id``,
    the one refusal every command shares): for commands that otherwise meet the id deep inside."""
    from services.context import check_map_id  # imported here: the context imports the analytics engine

    with read_session(engine) as session:
        check_map_id(session, map_id)


def rename_map(map_id: int, new_name: str, *, expected_version: int | None, engine: Engine | None = None) -> int:
    """Rename a map; refused with ConflictError if it changed since ``expected_version``. Returns the new version."""
    with write_session(engine) as session:
        return crud.update_map(session=session, map_id=map_id, expected_version=expected_version, name=new_name).version


def delete_map(map_id: int, *, expected_version: int | None = None, engine: Engine | None = None) -> None:
    """Delete a map with everything in it (stages, touchpoints, lanes, metrics, snapshots)."""
    require(AccessRole.ADMIN, "delete a map")
    with write_session(engine) as session:
        session.delete(crud.check_version(session=session, map_id=map_id, expected_version=expected_version))
        session.flush()
