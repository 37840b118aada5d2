"""Keyword-only CRUD over the tables of :mod:`db.models`; every function takes the session.

Callers (services) open the session per use case with ``db.engine.write_session`` /
``read_session``; nothing here commits.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from typing import Any

from sqlmodel import Session, col, select

from core.errors import BadInputError, ConflictError, NotFoundError
from db.models import Dataset, JourneyMap, MapPersona, Persona, Snapshot, Stage, Touchpoint, utcnow

MAX_NAME_LENGTH = 200


# Characters that show nothing on their own: a name made only of these is empty to a reader.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def name_key(name: str) -> str:
    """A name as names are compared (a stage's, a touchpoint's within its stage, a snapshot's within its
    map): spaces at the ends and case ignored."""
    return name.strip().casefold()


def unique_name(name: str, taken: Collection[str]) -> str:
    """``name`` (cut to ``MAX_NAME_LENGTH``), or with " (2)", " (3)" … when ``taken`` (keys of
    :func:`name_key`) has it, still within ``MAX_NAME_LENGTH``: for names JourneyLens gives by itself."""
    candidate, n = name[:MAX_NAME_LENGTH], 1
    while name_key(candidate) in taken:
        n += 1
        suffix = f" ({n})"
        candidate = name[: MAX_NAME_LENGTH - len(suffix)] + suffix
    return candidate


def clean_name(value: str | None, field: str = "name") -> str:
    """Strip a name and refuse empty or over-long ones (clear message, nothing written).

    Also refused: names of invisible characters only (zero-width spaces...), control characters
    (line breaks would forge lines in the CLI's one-per-line output, escape sequences would drive
    a terminal) and lone surrogates (not storable as UTF-8).
    """
    text = (value or "").strip()
    if not text or all(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in text):
        raise BadInputError.invalid(field, value, "a non-empty name")
    if len(text) > MAX_NAME_LENGTH:
        raise BadInputError.invalid(field, value, f"at most {MAX_NAME_LENGTH} characters (got {len(text)})")
    if "\x00" in text:
        raise BadInputError.invalid(field, value, "text without NUL characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise BadInputError.invalid(field, value, "one line of text without control characters")
    if any(unicodedata.category(c) == "Cs" for c in text):
        raise BadInputError.invalid(field, value, "valid Unicode text (no lone surrogates)")
    return text


# --------------------------------------------------------------------------- maps


def map_name(*, session: Session, name: str, numbered: bool = False, map_id: int | None = None) -> str:
    """``name`` cleaned (:func:`clean_name`) and checked against every other map's (``map_id``: the map
    being renamed, left out): a name another map has is refused naming that map, or, with ``numbered``
    (a name from a file or the app's own), told apart by " (2)", " (3)" …. Maps that shared a name
    before this rule keep it until renamed."""
    text = clean_name(name, "map name")
    others = {
        name_key(other.name): other
        for other in session.exec(select(JourneyMap)).all()
        if map_id is None or other.id != map_id
    }
    taken = others.get(name_key(text))
    if taken is None:
        return text
    if numbered:
        return unique_name(text, others)
    raise BadInputError.invalid("map name", name, f"a name no other map has (“{taken.name}” is map {taken.id})")


def create_map(*, session: Session, name: str, numbered: bool = False, **fields: Any) -> JourneyMap:
    """A new map named ``name`` (:func:`map_name`: a taken name is refused, or numbered)."""
    journey_map = JourneyMap(name=map_name(session=session, name=name, numbered=numbered), **fields)
    session.add(journey_map)
    session.flush()
    return journey_map


def get_map(*, session: Session, map_id: int) -> JourneyMap:
    journey_map = session.get(JourneyMap, map_id)
    if journey_map is None:
        raise NotFoundError("Map", map_id)
    return journey_map


def list_maps(*, session: Session) -> Sequence[JourneyMap]:
    return session.exec(select(JourneyMap).order_by(col(JourneyMap.name), col(JourneyMap.id))).all()


def check_version(*, session: Session, map_id: int, expected_version: int | None) -> JourneyMap:
    """Load a map for writing and refuse if it moved past ``expected_version`` (None: no check)."""
    journey_map = get_map(session=session, map_id=map_id)
    if expected_version is not None and journey_map.version != expected_version:
        raise ConflictError(map_id, expected_version, journey_map.version)
    return journey_map


def touch_map(*, session: Session, journey_map: JourneyMap) -> JourneyMap:
    """Record a change of the map or of anything in it: bump the version, stamp the time."""
    journey_map.version += 1
    journey_map.updated_at = utcnow()
    session.add(journey_map)
    session.flush()
    return journey_map


def update_map(*, session: Session, map_id: int, expected_version: int | None, **changes: Any) -> JourneyMap:
    journey_map = check_version(session=session, map_id=map_id, expected_version=expected_version)
    if "name" in changes and name_key(str(changes["name"] or "")) != name_key(journey_map.name):
        changes["name"] = map_name(session=session, name=changes["name"], map_id=map_id)
    elif "name" in changes:
        changes["name"] = clean_name(changes["name"], "map name")
    for key, value in changes.items():
        if not hasattr(journey_map, key) or key in ("id", "version", "created_at"):
            raise BadInputError.invalid(key, value, "a field of a journey map")
        setattr(journey_map, key, value)
    return touch_map(session=session, journey_map=journey_map)


# --------------------------------------------------------------------------- stages and touchpoints


def list_stages(*, session: Session, map_id: int) -> Sequence[Stage]:
    return session.exec(select(Stage).where(Stage.map_id == map_id).order_by(col(Stage.position), col(Stage.id))).all()


def list_touchpoints(*, session: Session, map_id: int) -> Sequence[Touchpoint]:
    """Touchpoints of a map in display order: by stage position, then their own position."""
    return session.exec(
        select(Touchpoint)
        .join(Stage, col(Stage.id) == col(Touchpoint.stage_id))
        .where(Touchpoint.map_id == map_id)
        .order_by(col(Stage.position), col(Stage.id), col(Touchpoint.position), col(Touchpoint.id))
    ).all()


def create_stage(*, session: Session, map_id: int, name: str, **fields: Any) -> Stage:
    stage = Stage(map_id=map_id, name=clean_name(name, "stage name"), **fields)
    session.add(stage)
    session.flush()
    return stage


def create_touchpoint(*, session: Session, stage: Stage, name: str, **fields: Any) -> Touchpoint:
    assert stage.id is not None, "create_touchpoint needs a flushed stage"
    touchpoint = Touchpoint(map_id=stage.map_id, stage_id=stage.id, name=clean_name(name, "touchpoint name"), **fields)
    session.add(touchpoint)
    session.flush()
    return touchpoint


# --------------------------------------------------------------------------- datasets


def list_datasets(*, session: Session) -> Sequence[Dataset]:
    return session.exec(select(Dataset).order_by(col(Dataset.created_at), col(Dataset.id))).all()


def get_dataset(*, session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFoundError("Dataset", dataset_id)
    return dataset


# --------------------------------------------------------------------------- personas (studio)


def list_map_personas(*, session: Session, map_id: int) -> Sequence[Persona]:
    """The personas attached to a map, by name then id."""
    return session.exec(
        select(Persona)
        .join(MapPersona, col(MapPersona.persona_id) == col(Persona.id))
        .where(MapPersona.map_id == map_id)
        .order_by(col(Persona.name), col(Persona.id))
    ).all()


def get_snapshot(*, session: Session, snapshot_id: int) -> Snapshot:
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NotFoundError("Snapshot", snapshot_id)
    return snapshot
