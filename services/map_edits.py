"""Editing a map: every versioned change of a map's content (its own fields, stages, touchpoints, lane
cells, pain points, opportunities, actions and its personas).

Every edit takes ``expected_version`` (the version the user started from; ``None`` skips the check,
for scripts), runs in one ``write_session`` (``BEGIN IMMEDIATE``), refuses a stale copy with
``ConflictError``, validates every value first through the input models of :mod:`db.inputs`
(``BadInputError`` naming the field, the value and what is expected; nothing is written on any
error) and bumps the map's version once. Each returns :class:`Saved` (the new version, and the ids of
rows it created).

Table edits come as :class:`RowEdits` (changed fields by row id, added rows, deleted ids): the shape
of a ``st.data_editor`` delta, so a save that met a conflict can be applied again onto the latest
version without losing what the user typed, and without undoing other people's changes to other rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.errors import BadInputError, NotFoundError
from db import crud
from db.engine import write_session
from db.inputs import (
    ActionInput,
    Input,
    LaneCellInput,
    MapUpdate,
    OpportunityInput,
    PainPointInput,
    StageCreate,
    StageUpdate,
    TouchpointCreate,
    TouchpointUpdate,
    clean_id,
    given,
    validate,
)
from db.models import (
    Action,
    JourneyMap,
    LaneCell,
    MapPersona,
    Metric,
    Opportunity,
    PainPoint,
    Persona,
    Stage,
    Touchpoint,
)

R = TypeVar("R", Stage, Touchpoint)


@dataclass(frozen=True)
class Saved:
    """The outcome of a versioned write: the map's new version and the ids of rows created, in order."""

    version: int
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RowEdits:
    """Edits of one table: changed fields by row id, new rows, deleted row ids."""

    updated: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    added: Sequence[Mapping[str, Any]] = ()
    deleted: Sequence[int] = ()

    @property
    def empty(self) -> bool:
        return not (self.updated or self.added or self.deleted)


@dataclass(frozen=True)
class LaneCellEdit:
    """Set (or clear) one lane cell: where, which lane, whose; ``text``/``emotion`` left as None are unchanged
    unless ``clear`` is set; an empty text with no emotion removes the cell."""

    stage_id: int
    touchpoint_id: int | None
    persona_id: int | None
    lane: str
    text: str | None = None
    emotion: int | None = None
    set_emotion: bool = False


# --------------------------------------------------------------------------- the versioned write


def _versioned(
    map_id: int,
    expected_version: int | None,
    engine: Engine | None,
    work: Callable[[Session, JourneyMap], Sequence[int] | None],
) -> Saved:
    """Run ``work`` in one write transaction after the version check; bump the version once."""
    with write_session(engine) as session:
        journey_map = crud.check_version(session=session, map_id=map_id, expected_version=expected_version)
        ids = work(session, journey_map) or ()
        crud.touch_map(session=session, journey_map=journey_map)
        return Saved(version=journey_map.version, ids=tuple(ids))


# --------------------------------------------------------------------------- the map's own fields


def update_map_details(
    map_id: int, *, expected_version: int | None, engine: Engine | None = None, **changes: Any
) -> Saved:
    """Change the map's name, description, scenario, state, owner or review-by date."""
    clean = given(validate(MapUpdate, changes))

    def work(session: Session, journey_map: JourneyMap) -> None:
        if "name" in clean and crud.name_key(clean["name"]) != crud.name_key(journey_map.name):
            clean["name"] = crud.map_name(session=session, name=clean["name"], map_id=journey_map.id)
        for key, value in clean.items():
            setattr(journey_map, key, value)
        session.add(journey_map)

    return _versioned(map_id, expected_version, engine, work)


# --------------------------------------------------------------------------- stages


def _renumber(rows: list[Any], requested: Mapping[int, float | None]) -> None:
    """Set ``position`` 0..n-1: rows sorted by their requested position (moved rows before unmoved ones at
    the same place), otherwise keeping their current order; new rows without a position go last."""

    def key(item: tuple[int, Any]) -> tuple[float, int, int]:
        index, row = item
        wanted = requested.get(id(row))
        if wanted is None:
            return (float(index), 1, index)
        return (wanted - 0.5, 0, index)

    ordered = [row for _, row in sorted(enumerate(rows), key=key)]
    for pos, row in enumerate(ordered):
        row.position = pos


def _one_stage_per_name(stages: list[Stage]) -> None:
    """Refuse two stages of one map with one name (ignoring case and spaces at the ends): grids,
    exports, diffs and stage-level analyses name stages, and could not tell them apart."""
    seen: dict[str, str] = {}
    for stage in stages:
        key = crud.name_key(stage.name)
        if key in seen:
            raise BadInputError.invalid(
                "stage name", stage.name, f"a name no other stage of this map has (“{seen[key]}” is taken)"
            )
        seen[key] = stage.name


def apply_stage_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Rename, reorder, add and delete stages in one versioned save.

    ``position`` in an edit is the 0-based place the user asks for; all stages are then numbered
    0..n-1 (a moved stage goes before the one already at that place). Deleting a stage deletes its
    touchpoints, lane cells, pain points and opportunities; actions keep their text without a stage.
    """

    def work(session: Session, journey_map: JourneyMap) -> list[int]:
        stages = list(crud.list_stages(session=session, map_id=map_id))
        by_id = {s.id: s for s in stages}
        updated, added = _checked_rows(edits, by_id, StageUpdate, StageCreate, "stage")
        requested: dict[int, float | None] = {}
        for stage_id, values in updated.items():
            stage = by_id[stage_id]
            for key, value in values.items():
                if key == "position":
                    requested[id(stage)] = value
                else:
                    setattr(stage, key, value)
        for stage_id in edits.deleted:
            session.delete(by_id[stage_id])
            stages.remove(by_id[stage_id])
        new_rows = []
        for values in added:
            position = values.pop("position", None)
            stage = Stage(map_id=map_id, position=len(stages), **values)
            session.add(stage)
            stages.append(stage)
            new_rows.append(stage)
            if position is not None:
                requested[id(stage)] = position
        _one_stage_per_name(stages)
        _renumber(stages, requested)
        session.add_all(stages)
        session.flush()
        return [s.id or 0 for s in new_rows]

    return _versioned(map_id, expected_version, engine, work)


def add_stage(
    map_id: int,
    name: str,
    *,
    expected_version: int | None,
    engine: Engine | None = None,
    **fields: Any,
) -> Saved:
    """Add one stage (at the end unless ``position`` is given). ``Saved.ids`` holds its id."""
    return apply_stage_edits(
        map_id, RowEdits(added=[{"name": name, **fields}]), expected_version=expected_version, engine=engine
    )


def move_stage(
    map_id: int, stage_id: int, offset: int, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Move a stage ``offset`` places (−1: one to the left); clamped at both ends."""

    def work(session: Session, journey_map: JourneyMap) -> None:
        stages = list(crud.list_stages(session=session, map_id=map_id))
        stage = next((s for s in stages if s.id == stage_id), None)
        if stage is None:
            raise NotFoundError("Stage", stage_id)
        session.add_all(_move(stages, stage, offset))

    return _versioned(map_id, expected_version, engine, work)


# --------------------------------------------------------------------------- touchpoints


def apply_touchpoint_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Rename, move (to another stage or place), add and delete touchpoints in one versioned save.

    ``position`` is the 0-based place within its stage; every stage's touchpoints are then numbered
    0..n-1. A new touchpoint's activity names default to its name (so event data links by name).
    """

    def work(session: Session, journey_map: JourneyMap) -> list[int]:
        stages = {s.id: s for s in crud.list_stages(session=session, map_id=map_id)}
        touchpoints = list(crud.list_touchpoints(session=session, map_id=map_id))
        by_id = {tp.id: tp for tp in touchpoints}
        updated, added = _checked_rows(edits, by_id, TouchpointUpdate, TouchpointCreate, "touchpoint")
        for values in [*updated.values(), *added]:
            if "stage_id" in values and values["stage_id"] not in stages:
                raise BadInputError.invalid("stage", values["stage_id"], "a stage of this map")
        requested: dict[int, float | None] = {}
        named: set[int] = set()  # touchpoints given a name in a stage by this save: added, renamed, moved
        for tp_id, values in updated.items():
            tp = by_id[tp_id]
            for key, value in values.items():
                if key == "position":
                    requested[id(tp)] = value
                elif key == "stage_id" and value != tp.stage_id:
                    tp.stage_id = value
                    requested.setdefault(id(tp), None)
                    named.add(id(tp))
                    _move_touchpoint_children(session, tp_id, value)
                else:
                    if key == "name" and value != tp.name:
                        named.add(id(tp))
                    setattr(tp, key, value)
        for tp_id in edits.deleted:
            session.delete(by_id[tp_id])
            touchpoints.remove(by_id[tp_id])
        new_rows = []
        for values in added:
            position = values.pop("position", None)
            values.setdefault("activity_names", [values["name"]])
            tp = Touchpoint(map_id=map_id, position=10**6, **values)
            session.add(tp)
            touchpoints.append(tp)
            new_rows.append(tp)
            named.add(id(tp))
            if position is not None:
                requested[id(tp)] = position
        _one_touchpoint_per_name(touchpoints, stages, named)
        for stage_id in stages:
            _renumber([tp for tp in touchpoints if tp.stage_id == stage_id], requested)
        session.add_all(touchpoints)
        session.flush()
        return [tp.id or 0 for tp in new_rows]

    return _versioned(map_id, expected_version, engine, work)


def _one_touchpoint_per_name(touchpoints: list[Touchpoint], stages: Mapping[Any, Stage], named: set[int]) -> None:
    """Refuse a touchpoint this save names (adds, renames or moves) with the name of another touchpoint
    of its stage (ignoring case and spaces at the ends, as stage names): grids, exports, diffs and links
    name touchpoints within their stage, and could not tell them apart. Checked once every edit is made
    (a swap of two names is fine); other stages may share the name. Only names this save gives are
    checked, so two touchpoints that shared a name before this rule do not block edits elsewhere."""
    for n, tp in enumerate(touchpoints):
        if id(tp) not in named:
            continue
        key = crud.name_key(tp.name)
        # Of two named by this save, the later is refused (naming the earlier).
        other = next(
            (
                t
                for m, t in enumerate(touchpoints)
                if m != n
                and t.stage_id == tp.stage_id
                and crud.name_key(t.name) == key
                and (m < n or id(t) not in named)
            ),
            None,
        )
        if other is not None:
            stage = stages[tp.stage_id].name
            raise BadInputError.invalid(
                "touchpoint name",
                tp.name,
                f"a name no other touchpoint of stage “{stage}” has (“{other.name}” is taken)",
            )


def _move_touchpoint_children(session: Session, touchpoint_id: int, stage_id: int) -> None:
    """A touchpoint moved to another stage takes its cells, pain points, opportunities and actions along."""
    for model in (LaneCell, PainPoint, Opportunity, Action):
        for row in session.exec(select(model).where(model.touchpoint_id == touchpoint_id)).all():
            row.stage_id = stage_id
            session.add(row)


def add_touchpoint(
    map_id: int,
    stage_id: int,
    name: str,
    *,
    expected_version: int | None,
    engine: Engine | None = None,
    **fields: Any,
) -> Saved:
    """Add one touchpoint to a stage (at its end unless ``position`` is given). ``Saved.ids`` holds its id."""
    return apply_touchpoint_edits(
        map_id,
        RowEdits(added=[{"stage_id": stage_id, "name": name, **fields}]),
        expected_version=expected_version,
        engine=engine,
    )


def move_touchpoint(
    map_id: int, touchpoint_id: int, offset: int, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Move a touchpoint ``offset`` places within its stage; clamped at both ends."""

    def work(session: Session, journey_map: JourneyMap) -> None:
        tp = session.get(Touchpoint, touchpoint_id)
        if tp is None or tp.map_id != map_id:
            raise NotFoundError("Touchpoint", touchpoint_id)
        siblings = [t for t in crud.list_touchpoints(session=session, map_id=map_id) if t.stage_id == tp.stage_id]
        session.add_all(_move(siblings, tp, offset))

    return _versioned(map_id, expected_version, engine, work)


def _move(rows: list[R], row: R, offset: int) -> list[R]:
    """``rows`` with ``row`` moved ``offset`` places (clamped at both ends), numbered 0..n-1 again."""
    index = rows.index(row)
    rows.pop(index)
    rows.insert(max(0, min(len(rows), index + offset)), row)
    for position, r in enumerate(rows):
        r.position = position
    return rows


# --------------------------------------------------------------------------- where an item sits


def _resolve_place(
    session: Session,
    map_id: int,
    stage_id: Any,
    touchpoint_id: Any,
    *,
    row: str,
    required: bool = True,
) -> tuple[int | None, int | None]:
    """(stage id, touchpoint id) of an item: a touchpoint implies its stage; refused outside this map."""
    tp_id = clean_id(touchpoint_id, f"{row}: touchpoint")
    st_id = clean_id(stage_id, f"{row}: stage")
    if tp_id is not None:
        tp = session.get(Touchpoint, tp_id)
        if tp is None or tp.map_id != map_id:
            raise BadInputError.invalid(f"{row}: touchpoint", touchpoint_id, "a touchpoint of this map")
        return tp.stage_id, tp_id
    if st_id is not None:
        stage = session.get(Stage, st_id)
        if stage is None or stage.map_id != map_id:
            raise BadInputError.invalid(f"{row}: stage", stage_id, "a stage of this map")
        return st_id, None
    if required:
        raise BadInputError.invalid(f"{row}: stage / touchpoint", None, "the stage or touchpoint it belongs to")
    return None, None


def _resolve_persona(session: Session, map_id: int, persona_id: Any, *, row: str) -> int | None:
    pid = clean_id(persona_id, f"{row}: persona")
    if pid is None:
        return None
    linked = session.get(MapPersona, (map_id, pid))
    if linked is None:
        raise BadInputError.invalid(f"{row}: persona", persona_id, "a persona attached to this map")
    return pid


# --------------------------------------------------------------------------- lane cells


def set_lane_cells(
    map_id: int, edits: Sequence[LaneCellEdit], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Write lane cells (create, change or, when left with no text and no emotion, remove) in one save.

    A cell is identified by (stage, touchpoint or none for the whole stage, persona or none for
    everyone, lane). Emotion scores (−2..+2) belong to the feeling lane only.
    """
    cleaned = []
    for n, e in enumerate(edits):
        values = {"lane": e.lane, "text": e.text, **({"emotion": e.emotion} if e.set_emotion else {})}
        cell = validate(LaneCellInput, values, row=f"cell {n + 1}")
        cleaned.append((e, cell.lane, cell.text, cell.emotion))

    def work(session: Session, journey_map: JourneyMap) -> list[int]:
        ids = []
        for n, (e, lane, text, emotion) in enumerate(cleaned):
            row = f"cell {n + 1}"
            stage_id, tp_id = _resolve_place(session, map_id, e.stage_id, e.touchpoint_id, row=row)
            persona_id = _resolve_persona(session, map_id, e.persona_id, row=row)
            cell = session.exec(
                select(LaneCell).where(
                    LaneCell.map_id == map_id,
                    LaneCell.stage_id == stage_id,
                    LaneCell.touchpoint_id == tp_id if tp_id is not None else col(LaneCell.touchpoint_id).is_(None),
                    LaneCell.persona_id == persona_id if persona_id is not None else col(LaneCell.persona_id).is_(None),
                    LaneCell.lane == lane,
                )
            ).first()
            if cell is None:
                cell = LaneCell(
                    map_id=map_id, stage_id=stage_id or 0, touchpoint_id=tp_id, persona_id=persona_id, lane=lane
                )
            if text is not None:
                cell.text = text
            if e.set_emotion:
                cell.emotion = emotion
            if not cell.text and cell.emotion is None:
                if cell.id is not None:
                    session.delete(cell)
                continue
            session.add(cell)
            session.flush()
            ids.append(cell.id or 0)
        return ids

    return _versioned(map_id, expected_version, engine, work)


def set_lane_cell(
    map_id: int,
    *,
    stage_id: int,
    touchpoint_id: int | None,
    lane: str,
    text: str | None = None,
    emotion: int | None = None,
    set_emotion: bool = False,
    persona_id: int | None = None,
    expected_version: int | None,
    engine: Engine | None = None,
) -> Saved:
    """Write one lane cell (see :func:`set_lane_cells`)."""
    edit = LaneCellEdit(stage_id, touchpoint_id, persona_id, lane, text, emotion, set_emotion)
    return set_lane_cells(map_id, [edit], expected_version=expected_version, engine=engine)


# --------------------------------------------------------------------------- pain points, opportunities, actions


def _apply_item_edits(
    map_id: int,
    table: type[PainPoint] | type[Opportunity] | type[Action],
    inputs: type[PainPointInput] | type[OpportunityInput] | type[ActionInput],
    edits: RowEdits,
    *,
    expected_version: int | None,
    engine: Engine | None,
) -> Saved:
    kind = inputs.kind

    def work(session: Session, journey_map: JourneyMap) -> list[int]:
        found = session.exec(select(table).where(table.map_id == map_id)).all()
        rows = {r.id: r for r in cast(Sequence[PainPoint | Opportunity | Action], found)}
        for row_id in list(edits.updated) + list(edits.deleted):
            if int(row_id) not in rows:
                raise NotFoundError(kind.capitalize(), row_id)
        changes = []
        for row_id, values in edits.updated.items():
            row = rows[int(row_id)]
            merged = {**row.model_dump(), **values}
            label = getattr(row, "description", None) or getattr(row, "action", None) or row_id
            changes.append((row, _clean_item(session, map_id, inputs, merged, f"{kind} “{_short(label)}”")))
        additions = [
            _clean_item(session, map_id, inputs, values, f"new {kind} {n + 1}") for n, values in enumerate(edits.added)
        ]
        for row, values in changes:
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
        for row_id in edits.deleted:
            session.delete(rows[int(row_id)])
        new_rows: list[PainPoint | Opportunity | Action] = []
        for values in additions:
            item = table(map_id=map_id, **values)
            session.add(item)
            new_rows.append(item)
        session.flush()
        return [r.id or 0 for r in new_rows]

    return _versioned(map_id, expected_version, engine, work)


def _short(text: Any, length: int = 40) -> str:
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


def _clean_item(
    session: Session, map_id: int, inputs: type[Input], values: Mapping[str, Any], row: str
) -> dict[str, Any]:
    """An item's values checked by its input model, then its place, persona and metric checked on this map."""
    clean = validate(inputs, values, row=row).model_dump()
    clean["stage_id"], clean["touchpoint_id"] = _resolve_place(
        session, map_id, clean["stage_id"], clean["touchpoint_id"], row=row, required=inputs is not ActionInput
    )
    if "persona_id" in clean:
        clean["persona_id"] = _resolve_persona(session, map_id, clean["persona_id"], row=row)
    if clean.get("metric_id") is not None:
        metric = session.get(Metric, clean["metric_id"])
        if metric is None or metric.map_id != map_id:
            raise BadInputError.invalid(f"{row}: metric", values.get("metric_id"), "a metric of this map")
    return clean


def apply_pain_point_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Add, change and delete pain points (stage or touchpoint, optional persona, description, severity 1–5)."""
    return _apply_item_edits(map_id, PainPoint, PainPointInput, edits, expected_version=expected_version, engine=engine)


def apply_opportunity_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Add, change and delete opportunities (stage or touchpoint, description, effort/customer/business value 1–5)."""
    return _apply_item_edits(
        map_id, Opportunity, OpportunityInput, edits, expected_version=expected_version, engine=engine
    )


def apply_action_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Add, change and delete action-plan lines (action, owner, status, due date, stage/touchpoint, metric)."""
    return _apply_item_edits(map_id, Action, ActionInput, edits, expected_version=expected_version, engine=engine)


def _checked_rows(
    edits: RowEdits, by_id: Mapping[Any, Any], update: type[Input], create: type[Input], noun: str
) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """The changed and added rows of a stage or touchpoint table, validated before anything changes:
    an edit naming a row not on the map is refused, and rows are named as the user sees them."""
    for row_id in [*(int(i) for i in edits.updated), *edits.deleted]:
        if row_id not in by_id:
            raise NotFoundError(noun.capitalize(), row_id)
    updated = {
        int(i): given(validate(update, _without_id(v), row=f"{noun} “{by_id[int(i)].name}”"))
        for i, v in (edits.updated or {}).items()
    }
    added = [given(validate(create, _without_id(v), row=f"new {noun} {n + 1}")) for n, v in enumerate(edits.added)]
    return updated, added


def _without_id(values: Mapping[str, Any]) -> dict[str, Any]:
    """A table row's values without its ``id`` column (the row is named by the edit, not by its values)."""
    return {k: v for k, v in values.items() if k != "id"}


# --------------------------------------------------------------------------- personas on a map


def _attach(session: Session, map_id: int, persona_id: int) -> None:
    if session.get(Persona, persona_id) is None:
        raise NotFoundError("Persona", persona_id)
    if session.get(MapPersona, (map_id, persona_id)) is None:
        session.add(MapPersona(map_id=map_id, persona_id=persona_id))


def _detach(session: Session, map_id: int, persona_id: int) -> None:
    """Unlink a persona from the map, with its persona-specific cells and pain points there."""
    link = session.get(MapPersona, (map_id, persona_id))
    if link is None:
        return
    session.delete(link)
    for model in (LaneCell, PainPoint):
        for row in session.exec(select(model).where(model.map_id == map_id, model.persona_id == persona_id)).all():
            session.delete(row)


def _for_each(
    map_id: int, persona_ids: Sequence[int], step: Callable[[Session, int, int], None]
) -> Callable[[Session, JourneyMap], None]:
    def work(session: Session, journey_map: JourneyMap) -> None:
        for pid in persona_ids:
            step(session, map_id, pid)

    return work


def attach_personas(
    map_id: int, persona_ids: Sequence[int], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Attach personas to a map (already attached ones are left alone)."""
    return _versioned(map_id, expected_version, engine, _for_each(map_id, persona_ids, _attach))


def detach_personas(
    map_id: int, persona_ids: Sequence[int], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Detach personas from a map; their persona-specific cells and pain points on this map are removed."""
    return _versioned(map_id, expected_version, engine, _for_each(map_id, persona_ids, _detach))


def set_map_personas(
    map_id: int, persona_ids: Sequence[int], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Make exactly ``persona_ids`` the map's personas (attach the new ones, detach the others)."""

    def work(session: Session, journey_map: JourneyMap) -> None:
        wanted = list(dict.fromkeys(int(p) for p in persona_ids))
        current = {link.persona_id for link in session.exec(select(MapPersona).where(MapPersona.map_id == map_id))}
        for pid in wanted:
            _attach(session, map_id, pid)
        for pid in current - set(wanted):
            _detach(session, map_id, pid)

    return _versioned(map_id, expected_version, engine, work)
