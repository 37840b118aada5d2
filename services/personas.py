"""Personas: create, edit, list and delete them (with their B2B buying-committee role).

Personas are shared by every map; a map attaches several (``services.map_edits.set_map_personas``).
Every field of PRODUCT.md is here: name, description, demographics, professional profile (job title,
company size, industry, decision maker or not), goals, pain points, buying behaviour, channels and
media, and the committee role (``db.models.CommitteeRole``). Results are plain ``PersonaView``s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import col, select

from core.errors import NotFoundError
from core.journey_map import PERSONA_FIELDS, MapView, PersonaView
from db import crud
from db.engine import read_session, write_session
from db.inputs import clean_persona_fields
from db.models import CommitteeRole, JourneyMap, MapPersona, Persona
from services.map_view import persona_view

COMMITTEE_ROLES: tuple[str, ...] = tuple(role.value for role in CommitteeRole)


def list_personas(*, engine: Engine | None = None) -> list[PersonaView]:
    """Every persona, by name."""
    with read_session(engine) as session:
        rows = session.exec(select(Persona).order_by(col(Persona.name), col(Persona.id))).all()
        return [persona_view(p) for p in rows]


def get_persona(persona_id: int, *, engine: Engine | None = None) -> PersonaView:
    with read_session(engine) as session:
        return persona_view(_persona(session, persona_id))


def create_persona(name: str, *, engine: Engine | None = None, **fields: Any) -> int:
    """Create a persona; returns its id."""
    clean = clean_persona_fields({"name": name, **fields}, new=True)
    with write_session(engine) as session:
        persona = Persona(**clean)  # PersonaCreate has cleaned the name (db.inputs.Name)
        session.add(persona)
        session.flush()
        return persona.id or 0


def update_persona(persona_id: int, *, engine: Engine | None = None, **changes: Any) -> PersonaView:
    """Change a persona's fields. Maps showing it get a new version (their content changed)."""
    clean = clean_persona_fields(changes, new=False)
    with write_session(engine) as session:
        persona = _persona(session, persona_id)
        for key, value in clean.items():
            setattr(persona, key, value)
        session.add(persona)
        _touch_maps_using(session, persona_id)
        session.flush()
        return persona_view(persona)


def delete_persona(persona_id: int, *, engine: Engine | None = None) -> None:
    """Delete a persona, its links to maps and its persona-specific cells and pain points on every map."""
    with write_session(engine) as session:
        persona = _persona(session, persona_id)
        _touch_maps_using(session, persona_id)
        session.delete(persona)


def _persona(session: Any, persona_id: int) -> Persona:
    persona = session.get(Persona, persona_id)
    if persona is None:
        raise NotFoundError("Persona", persona_id)
    return persona


def _touch_maps_using(session: Any, persona_id: int) -> None:
    map_ids = session.exec(select(MapPersona.map_id).where(MapPersona.persona_id == persona_id)).all()
    for map_id in map_ids:
        journey_map = session.get(JourneyMap, map_id)
        if journey_map is not None:
            crud.touch_map(session=session, journey_map=journey_map)


def list_persona_maps(*, engine: Engine | None = None) -> dict[int, list[str]]:
    """For each persona id, the names of the maps it is attached to."""
    with read_session(engine) as session:
        rows = session.exec(
            select(MapPersona.persona_id, JourneyMap.name).join(JourneyMap, JourneyMap.id == MapPersona.map_id)
        ).all()
    out: dict[int, list[str]] = {}
    for persona_id, name in rows:
        out.setdefault(persona_id, []).append(name)
    return {k: sorted(v) for k, v in out.items()}


ALL_ROLES, NONE_PLAYED = "all roles", "no role"  # the role filter's two choices beside the committee roles


def personas_of_role(table: pd.DataFrame, role: str) -> pd.DataFrame:
    """The rows of :func:`compute_persona_table` playing ``role`` (``ALL_ROLES``: every row; ``NONE_PLAYED``:
    those without one)."""
    if role == ALL_ROLES:
        return table
    return table[table["committee_role"] == ("" if role == NONE_PLAYED else role)]


def compute_persona_table(personas: Sequence[PersonaView], maps_by_persona: Mapping[int, list[str]]) -> pd.DataFrame:
    """One row per persona with every field and the maps it appears on (for display and download)."""
    rows = [
        {
            "id": p.id,
            "name": p.name,
            "committee_role": p.committee_role or "",
            "job_title": p.job_title,
            "company_size": p.company_size,
            "industry": p.industry,
            "is_decision_maker": p.is_decision_maker,
            "description": p.description,
            "demographics": p.demographics,
            "goals": p.goals,
            "pain_points": p.pain_points,
            "buying_behaviour": p.buying_behaviour,
            "channels": p.channels,
            "maps": ", ".join(maps_by_persona.get(p.id, [])),
        }
        for p in personas
    ]
    columns = [
        "id",
        "name",
        "committee_role",
        "job_title",
        "company_size",
        "industry",
        "is_decision_maker",
        "description",
        "demographics",
        "goals",
        "pain_points",
        "buying_behaviour",
        "channels",
        "maps",
    ]
    return pd.DataFrame(rows, columns=columns)


def find_identical_persona(session: Any, fields: Mapping[str, Any]) -> Persona | None:
    """An existing persona whose every field equals ``fields`` (imports reuse it instead of duplicating)."""
    candidates = session.exec(select(Persona).where(Persona.name == fields.get("name"))).all()
    for persona in candidates:
        if all(getattr(persona, key) == value for key, value in fields.items() if key in PERSONA_FIELDS):
            return persona
    return None


def compute_committee_matrix(*, engine: Engine | None = None) -> pd.DataFrame:
    """Maps × buying-committee roles: how many of each map's personas play each role (0 = missing).

    Columns: ``map_id, map`` then one column per role (in ``CommitteeRole`` order) and ``missing``
    (how many roles no persona covers).
    """
    with read_session(engine) as session:
        maps = crud.list_maps(session=session)
        links = session.exec(
            select(MapPersona.map_id, Persona.committee_role).join(Persona, Persona.id == MapPersona.persona_id)
        ).all()
    counts: dict[int, dict[str, int]] = {}
    for map_id, role in links:
        if role:
            counts.setdefault(map_id, {}).setdefault(role, 0)
            counts[map_id][role] += 1
    rows = []
    for m in maps:
        row: dict[str, Any] = {"map_id": m.id, "map": m.name}
        for role in COMMITTEE_ROLES:
            row[role] = counts.get(m.id or 0, {}).get(role, 0)
        row["missing"] = sum(1 for role in COMMITTEE_ROLES if row[role] == 0)
        rows.append(row)
    return pd.DataFrame(rows, columns=["map_id", "map", *COMMITTEE_ROLES, "missing"])


def compute_committee_coverage(view: MapView) -> pd.DataFrame:
    """One row per buying-committee role: covered or not, and which of the map's personas play it."""
    rows = []
    for role in COMMITTEE_ROLES:
        names = [p.name for p in view.personas if p.committee_role == role]
        rows.append({"committee_role": role, "covered": bool(names), "personas": ", ".join(names)})
    return pd.DataFrame(rows, columns=["committee_role", "covered", "personas"])
