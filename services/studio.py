"""The journey map studio: a plain-data view of a whole map, and every versioned edit of its content.

Reading: :func:`get_map_view` returns a :class:`MapView` (frozen dataclasses and tuples, never ORM
objects): the map's fields, its stages in order with their touchpoints in order, its personas, lane
cells, pain points, opportunities, actions and metrics. Charts, exports and other services build on it.

Writing: every edit of a map or of anything in it goes through a function here that takes
``expected_version`` (the version the user started from; ``None`` skips the check, for scripts),
runs in one ``write_session`` (``BEGIN IMMEDIATE``), refuses a stale copy with ``ConflictError``,
validates every value first (``BadInputError`` naming the field, the value and what is expected;
nothing is written on any error) and bumps the map's version once. Each returns :class:`Saved`
(the new version, and the ids of rows it created).

Table edits come as :class:`RowEdits` (changed fields by row id, added rows, deleted ids): the shape
of a ``st.data_editor`` delta, so a save that met a conflict can be applied again onto the latest
version without losing what the user typed, and without undoing other people's changes to other rows.

Opportunity priority (:func:`opportunity_priority`)::

    priority = (customer_value + business_value) / 2 / effort × (1.5 if at a moment of truth else 1)

ranging from 0.2 (value 1, effort 5) to 7.5 (value 5, effort 1, at a moment of truth).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.errors import BadInputError, NotFoundError
from db import crud
from db.engine import read_session, write_session
from db.models import (
    Action,
    ActionStatus,
    CommitteeRole,
    JourneyMap,
    Lane,
    LaneCell,
    MapPersona,
    MapState,
    Metric,
    MetricValue,
    Opportunity,
    PainPoint,
    Persona,
    Stage,
    Touchpoint,
)
from services.maps import is_stale
from services.templates import TEMPLATES

MAX_TEXT_LENGTH = 4000
EMOTION_MIN, EMOTION_MAX = -2, 2
SCORE_MIN, SCORE_MAX = 1, 5
MOMENT_OF_TRUTH_WEIGHT = 1.5
DEFAULT_LANES = (Lane.THINKING.value, Lane.DOING.value, Lane.FEELING.value)
LANE_ORDER = tuple(lane.value for lane in Lane)


# --------------------------------------------------------------------------- the plain-data view


@dataclass(frozen=True)
class TouchpointView:
    id: int
    stage_id: int
    position: int
    name: str
    channel: str = ""
    owner_team: str = ""
    responsible: str = ""
    accountable: str = ""
    consulted: str = ""
    informed: str = ""
    moment_of_truth: bool = False
    activity_names: tuple[str, ...] = ()

    @property
    def raci(self) -> str:
        """Compact RACI text, e.g. ``R: Sales · A: CRO · C: Legal``; empty parts left out."""
        parts = [
            (label, value)
            for label, value in (
                ("R", self.responsible),
                ("A", self.accountable),
                ("C", self.consulted),
                ("I", self.informed),
            )
            if value
        ]
        return " · ".join(f"{label}: {value}" for label, value in parts)


@dataclass(frozen=True)
class StageView:
    id: int
    position: int
    name: str
    customer_goal: str = ""
    business_goal: str = ""
    outcomes: tuple[str, ...] = ()
    revisitable: bool = False
    touchpoints: tuple[TouchpointView, ...] = ()


@dataclass(frozen=True)
class PersonaView:
    id: int
    name: str
    description: str = ""
    demographics: str = ""
    job_title: str = ""
    company_size: str = ""
    industry: str = ""
    is_decision_maker: bool = False
    committee_role: str | None = None
    goals: str = ""
    pain_points: str = ""
    buying_behaviour: str = ""
    channels: str = ""
    is_demo: bool = False


@dataclass(frozen=True)
class LaneCellView:
    id: int
    stage_id: int
    touchpoint_id: int | None
    persona_id: int | None
    lane: str
    text: str = ""
    emotion: int | None = None


@dataclass(frozen=True)
class PainPointView:
    id: int
    stage_id: int
    touchpoint_id: int | None
    persona_id: int | None
    description: str
    severity: int


@dataclass(frozen=True)
class OpportunityView:
    id: int
    stage_id: int
    touchpoint_id: int | None
    description: str
    effort: int
    customer_value: int
    business_value: int
    moment_of_truth: bool = False

    @property
    def priority(self) -> float:
        return opportunity_priority(self.customer_value, self.business_value, self.effort, self.moment_of_truth)


@dataclass(frozen=True)
class ActionView:
    id: int
    stage_id: int | None
    touchpoint_id: int | None
    metric_id: int | None
    action: str
    owner: str = ""
    status: str = ActionStatus.OPEN.value
    due_date: date | None = None
    expected_effect: str = ""


@dataclass(frozen=True)
class MetricValueView:
    period: str
    value: float
    respondents: int | None = None
    computed: bool = False


@dataclass(frozen=True)
class MetricView:
    id: int
    stage_id: int | None
    touchpoint_id: int | None
    kind: str
    name: str
    unit: str = ""
    target: float | None = None
    direction: str = "higher"
    source: str = "manual"
    dataset_id: int | None = None
    values: tuple[MetricValueView, ...] = ()


@dataclass(frozen=True)
class MapView:
    """A whole journey map as plain data (see the module docstring)."""

    id: int
    name: str
    description: str = ""
    scenario: str = ""
    state: str = MapState.CURRENT.value
    owner: str = ""
    review_by: date | None = None
    template_key: str | None = None
    parent_map_id: int | None = None
    is_demo: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1
    stale: bool = False
    stages: tuple[StageView, ...] = ()
    personas: tuple[PersonaView, ...] = ()
    lane_cells: tuple[LaneCellView, ...] = ()
    pain_points: tuple[PainPointView, ...] = ()
    opportunities: tuple[OpportunityView, ...] = ()
    actions: tuple[ActionView, ...] = ()
    metrics: tuple[MetricView, ...] = ()

    @property
    def touchpoints(self) -> tuple[TouchpointView, ...]:
        """Every touchpoint in display order (stage order, then position)."""
        return tuple(tp for stage in self.stages for tp in stage.touchpoints)

    def stage(self, stage_id: int) -> StageView:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise NotFoundError("Stage", stage_id)

    def touchpoint(self, touchpoint_id: int) -> TouchpointView:
        for tp in self.touchpoints:
            if tp.id == touchpoint_id:
                return tp
        raise NotFoundError("Touchpoint", touchpoint_id)

    def persona(self, persona_id: int) -> PersonaView:
        for persona in self.personas:
            if persona.id == persona_id:
                return persona
        raise NotFoundError("Persona", persona_id)

    @property
    def lanes(self) -> tuple[str, ...]:
        """Lanes this map shows: thinking, doing, feeling, the template's lanes and any lane in use."""
        wanted = set(DEFAULT_LANES) | {cell.lane for cell in self.lane_cells}
        template = TEMPLATES.get(self.template_key or "")
        if template is not None:
            wanted |= set(template.lanes)
        return tuple(lane for lane in LANE_ORDER if lane in wanted)

    def cell(
        self, *, stage_id: int, touchpoint_id: int | None, persona_id: int | None, lane: str
    ) -> LaneCellView | None:
        for c in self.lane_cells:
            if (c.stage_id, c.touchpoint_id, c.persona_id, c.lane) == (stage_id, touchpoint_id, persona_id, lane):
                return c
        return None


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


def opportunity_priority(customer_value: int, business_value: int, effort: int, moment_of_truth: bool) -> float:
    """Value over effort, moments of truth weighted up (formula in the module docstring)."""
    weight = MOMENT_OF_TRUTH_WEIGHT if moment_of_truth else 1.0
    return round((customer_value + business_value) / 2 / max(effort, 1) * weight, 4)


# --------------------------------------------------------------------------- reading


def persona_view(p: Persona) -> PersonaView:
    return PersonaView(
        id=p.id or 0,
        name=p.name,
        description=p.description,
        demographics=p.demographics,
        job_title=p.job_title,
        company_size=p.company_size,
        industry=p.industry,
        is_decision_maker=p.is_decision_maker,
        committee_role=p.committee_role,
        goals=p.goals,
        pain_points=p.pain_points,
        buying_behaviour=p.buying_behaviour,
        channels=p.channels,
        is_demo=p.is_demo,
    )


def load_map_view(session: Session, map_id: int, *, today: date | None = None) -> MapView:
    """Build the :class:`MapView` of ``map_id`` inside an open session (services that write reuse it)."""
    m = crud.get_map(session=session, map_id=map_id)
    stages = crud.list_stages(session=session, map_id=map_id)
    touchpoints = crud.list_touchpoints(session=session, map_id=map_id)
    by_stage: dict[int, list[TouchpointView]] = {}
    mot: dict[int, bool] = {}
    for tp in touchpoints:
        by_stage.setdefault(tp.stage_id, []).append(
            TouchpointView(
                id=tp.id or 0,
                stage_id=tp.stage_id,
                position=tp.position,
                name=tp.name,
                channel=tp.channel,
                owner_team=tp.owner_team,
                responsible=tp.responsible,
                accountable=tp.accountable,
                consulted=tp.consulted,
                informed=tp.informed,
                moment_of_truth=tp.moment_of_truth,
                activity_names=tuple(tp.activity_names or ()),
            )
        )
        mot[tp.id or 0] = tp.moment_of_truth
    stage_views = tuple(
        StageView(
            id=s.id or 0,
            position=s.position,
            name=s.name,
            customer_goal=s.customer_goal,
            business_goal=s.business_goal,
            outcomes=tuple(s.outcomes or ()),
            revisitable=s.revisitable,
            touchpoints=tuple(by_stage.get(s.id or 0, ())),
        )
        for s in stages
    )
    stage_order = {s.id: i for i, s in enumerate(stage_views)}
    tp_order = {tp.id: i for i, tp in enumerate(tp for s in stage_views for tp in s.touchpoints)}
    personas = crud.list_map_personas(session=session, map_id=map_id)
    persona_order = {p.id: i for i, p in enumerate(personas)}

    def where(stage_id: int | None, touchpoint_id: int | None) -> tuple[int, int]:
        return (
            stage_order.get(stage_id, len(stage_order)) if stage_id is not None else len(stage_order),
            -1 if touchpoint_id is None else tp_order.get(touchpoint_id, len(tp_order)),
        )

    cells = session.exec(select(LaneCell).where(LaneCell.map_id == map_id)).all()
    cells = sorted(
        cells,
        key=lambda c: (
            *where(c.stage_id, c.touchpoint_id),
            -1 if c.persona_id is None else persona_order.get(c.persona_id, len(persona_order)),
            LANE_ORDER.index(c.lane) if c.lane in LANE_ORDER else len(LANE_ORDER),
            c.id or 0,
        ),
    )
    pains = sorted(
        session.exec(select(PainPoint).where(PainPoint.map_id == map_id)).all(),
        key=lambda p: (*where(p.stage_id, p.touchpoint_id), p.id or 0),
    )
    opps = sorted(
        session.exec(select(Opportunity).where(Opportunity.map_id == map_id)).all(),
        key=lambda o: (*where(o.stage_id, o.touchpoint_id), o.id or 0),
    )
    actions = session.exec(select(Action).where(Action.map_id == map_id).order_by(col(Action.id))).all()
    metrics = session.exec(select(Metric).where(Metric.map_id == map_id).order_by(col(Metric.id))).all()
    metric_ids = [mt.id for mt in metrics]
    values: dict[int, list[MetricValueView]] = {}
    if metric_ids:
        for v in session.exec(
            select(MetricValue)
            .where(col(MetricValue.metric_id).in_(metric_ids))
            .order_by(col(MetricValue.metric_id), col(MetricValue.period))
        ).all():
            values.setdefault(v.metric_id, []).append(
                MetricValueView(period=v.period, value=v.value, respondents=v.respondents, computed=v.computed)
            )
    return MapView(
        id=m.id or 0,
        name=m.name,
        description=m.description,
        scenario=m.scenario,
        state=m.state,
        owner=m.owner,
        review_by=m.review_by,
        template_key=m.template_key,
        parent_map_id=m.parent_map_id,
        is_demo=m.is_demo,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=m.version,
        stale=is_stale(m.review_by, today),
        stages=stage_views,
        personas=tuple(persona_view(p) for p in personas),
        lane_cells=tuple(
            LaneCellView(
                id=c.id or 0,
                stage_id=c.stage_id,
                touchpoint_id=c.touchpoint_id,
                persona_id=c.persona_id,
                lane=c.lane,
                text=c.text,
                emotion=c.emotion,
            )
            for c in cells
        ),
        pain_points=tuple(
            PainPointView(
                id=p.id or 0,
                stage_id=p.stage_id,
                touchpoint_id=p.touchpoint_id,
                persona_id=p.persona_id,
                description=p.description,
                severity=p.severity,
            )
            for p in pains
        ),
        opportunities=tuple(
            OpportunityView(
                id=o.id or 0,
                stage_id=o.stage_id,
                touchpoint_id=o.touchpoint_id,
                description=o.description,
                effort=o.effort,
                customer_value=o.customer_value,
                business_value=o.business_value,
                moment_of_truth=bool(o.touchpoint_id is not None and mot.get(o.touchpoint_id, False)),
            )
            for o in opps
        ),
        actions=tuple(
            ActionView(
                id=a.id or 0,
                stage_id=a.stage_id,
                touchpoint_id=a.touchpoint_id,
                metric_id=a.metric_id,
                action=a.action,
                owner=a.owner,
                status=a.status,
                due_date=a.due_date,
                expected_effect=a.expected_effect,
            )
            for a in actions
        ),
        metrics=tuple(
            MetricView(
                id=mt.id or 0,
                stage_id=mt.stage_id,
                touchpoint_id=mt.touchpoint_id,
                kind=mt.kind,
                name=mt.name,
                unit=mt.unit,
                target=mt.target,
                direction=mt.direction,
                source=mt.source,
                dataset_id=mt.dataset_id,
                values=tuple(values.get(mt.id or 0, ())),
            )
            for mt in metrics
        ),
    )


def get_map_view(map_id: int, *, engine: Engine | None = None, today: date | None = None) -> MapView:
    """The whole map ``map_id`` as plain data (raises ``NotFoundError`` if it does not exist)."""
    with read_session(engine) as session:
        return load_map_view(session, map_id, today=today)


# --------------------------------------------------------------------------- validation of user values


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict | set) else False
    except (TypeError, ValueError):
        return False


def clean_text(value: Any, field_name: str, *, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Optional free text: stripped; refused over ``max_length`` characters, with NUL characters or
    with lone surrogates (not storable as UTF-8)."""
    if _is_blank(value):
        return ""
    text = str(value).strip()
    if len(text) > max_length:
        raise BadInputError.invalid(field_name, value, f"at most {max_length} characters (got {len(text)})")
    if "\x00" in text:
        raise BadInputError.invalid(field_name, value, "text without NUL characters")
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise BadInputError.invalid(field_name, value, "valid Unicode text (no lone surrogates)")
    return text


def clean_int_range(value: Any, field_name: str, low: int, high: int, *, allow_none: bool = False) -> int | None:
    """A whole number from ``low`` to ``high`` (accepts 3, 3.0, "3", "+2"); refused otherwise."""
    expected = f"a whole number from {low} to {high}"
    if _is_blank(value) or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise BadInputError.invalid(field_name, value, expected)
    if isinstance(value, bool):
        raise BadInputError.invalid(field_name, value, expected)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError.invalid(field_name, value, expected) from None
    if not number.is_integer() or not low <= number <= high:
        raise BadInputError.invalid(field_name, value, expected)
    return int(number)


def clean_emotion(value: Any, field_name: str = "emotion") -> int | None:
    """An emotion score −2..+2, or None (no score)."""
    return clean_int_range(value, field_name, EMOTION_MIN, EMOTION_MAX, allow_none=True)


def clean_score(value: Any, field_name: str) -> int:
    """A 1–5 score (severity, effort, customer value, business value)."""
    result = clean_int_range(value, field_name, SCORE_MIN, SCORE_MAX)
    assert result is not None
    return result


def clean_date(value: Any, field_name: str) -> date | None:
    """A calendar date (a date, a datetime, or ISO text ``YYYY-MM-DD``), or None."""
    if _is_blank(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise BadInputError.invalid(field_name, value, "a date as YYYY-MM-DD") from None


def clean_bool(value: Any, field_name: str) -> bool:
    if _is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y", "x", "✓"):
        return True
    if text in ("false", "no", "0", "n", ""):
        return False
    raise BadInputError.invalid(field_name, value, "yes or no")


def clean_list(value: Any, field_name: str) -> list[str]:
    """A list of short texts: a list, or text separated by semicolons or line breaks; blanks dropped."""
    if _is_blank(value):
        return []
    if isinstance(value, str):
        items: Iterable[Any] = value.replace("\n", ";").split(";")
    elif isinstance(value, Iterable):
        items = value
    else:
        raise BadInputError.invalid(field_name, value, "a list of names")
    out: list[str] = []
    for item in items:
        text = clean_text(item, field_name, max_length=crud.MAX_NAME_LENGTH)
        if text and text not in out:
            out.append(text)
    return out


def clean_choice(value: Any, field_name: str, choices: Sequence[str], *, allow_none: bool = False) -> str | None:
    if _is_blank(value) or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise BadInputError.invalid(field_name, value, "one of: " + ", ".join(choices))
    text = str(value).strip()
    if text not in choices:
        raise BadInputError.invalid(field_name, value, "one of: " + ", ".join(choices))
    return text


def _clean_id(value: Any, field_name: str) -> int | None:
    if _is_blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError.invalid(field_name, value, "the id of an existing item") from None
    if not number.is_integer():
        raise BadInputError.invalid(field_name, value, "the id of an existing item")
    return int(number)


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


MAP_FIELDS = ("name", "description", "scenario", "state", "owner", "review_by")


def clean_map_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            out[key] = crud.clean_name(value, "map name")
        elif key in ("description", "scenario"):
            out[key] = clean_text(value, key)
        elif key == "owner":
            out[key] = clean_text(value, "owner", max_length=crud.MAX_NAME_LENGTH)
        elif key == "state":
            out[key] = clean_choice(value, "state", [s.value for s in MapState])
        elif key == "review_by":
            out[key] = clean_date(value, "review-by date")
        else:
            raise BadInputError.invalid(key, value, "one of the map's fields: " + ", ".join(MAP_FIELDS))
    return out


def update_map_details(
    map_id: int, *, expected_version: int | None, engine: Engine | None = None, **changes: Any
) -> Saved:
    """Change the map's name, description, scenario, state, owner or review-by date."""
    clean = clean_map_fields(changes)

    def work(session: Session, journey_map: JourneyMap) -> None:
        for key, value in clean.items():
            setattr(journey_map, key, value)
        session.add(journey_map)

    return _versioned(map_id, expected_version, engine, work)


# --------------------------------------------------------------------------- stages

STAGE_FIELDS = ("name", "position", "customer_goal", "business_goal", "outcomes", "revisitable")


def _clean_stage_fields(values: Mapping[str, Any], *, row: str, new: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if new and "name" not in values:
        raise BadInputError.invalid(f"{row}: stage name", None, "a non-empty name")
    for key, value in values.items():
        if key == "name":
            out[key] = crud.clean_name(value, f"{row}: stage name")
        elif key == "position":
            out[key] = None if _is_blank(value) else _clean_position(value, f"{row}: order")
        elif key in ("customer_goal", "business_goal"):
            out[key] = clean_text(value, f"{row}: {key.replace('_', ' ')}")
        elif key == "outcomes":
            out[key] = clean_list(value, f"{row}: outcomes")
        elif key == "revisitable":
            out[key] = clean_bool(value, f"{row}: revisitable")
        elif key == "id":
            continue
        else:
            raise BadInputError.invalid(key, value, "a field of a stage: " + ", ".join(STAGE_FIELDS))
    return out


def _clean_position(value: Any, field_name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError.invalid(field_name, value, "a number") from None
    if math.isnan(number) or math.isinf(number):
        raise BadInputError.invalid(field_name, value, "a number")
    return number


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
        for stage_id in [*(int(i) for i in edits.updated), *edits.deleted]:
            if stage_id not in by_id:
                raise NotFoundError("Stage", stage_id)
        # Validate everything before changing anything; rows are named as the user sees them.
        updated = {
            int(i): _clean_stage_fields(v, row=f"stage “{by_id[int(i)].name}”", new=False)
            for i, v in (edits.updated or {}).items()
        }
        added = [_clean_stage_fields(v, row=f"new stage {n + 1}", new=True) for n, v in enumerate(edits.added)]
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
        index = next((i for i, s in enumerate(stages) if s.id == stage_id), None)
        if index is None:
            raise NotFoundError("Stage", stage_id)
        stage = stages.pop(index)
        stages.insert(max(0, min(len(stages), index + offset)), stage)
        for pos, s in enumerate(stages):
            s.position = pos
        session.add_all(stages)

    return _versioned(map_id, expected_version, engine, work)


# --------------------------------------------------------------------------- touchpoints

TOUCHPOINT_FIELDS = (
    "stage_id",
    "name",
    "position",
    "channel",
    "owner_team",
    "responsible",
    "accountable",
    "consulted",
    "informed",
    "moment_of_truth",
    "activity_names",
)


def _clean_touchpoint_fields(values: Mapping[str, Any], *, row: str, new: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if new:
        for required in ("name", "stage_id"):
            if _is_blank(values.get(required)):
                label = "touchpoint name" if required == "name" else "stage"
                raise BadInputError.invalid(f"{row}: {label}", values.get(required), "a value")
    for key, value in values.items():
        if key == "name":
            out[key] = crud.clean_name(value, f"{row}: touchpoint name")
        elif key == "stage_id":
            out[key] = _clean_id(value, f"{row}: stage")
            if out[key] is None:
                raise BadInputError.invalid(f"{row}: stage", value, "a stage of this map")
        elif key == "position":
            out[key] = None if _is_blank(value) else _clean_position(value, f"{row}: order")
        elif key in ("channel", "owner_team", "responsible", "accountable", "consulted", "informed"):
            out[key] = clean_text(value, f"{row}: {key.replace('_', ' ')}", max_length=crud.MAX_NAME_LENGTH)
        elif key == "moment_of_truth":
            out[key] = clean_bool(value, f"{row}: moment of truth")
        elif key == "activity_names":
            out[key] = clean_list(value, f"{row}: activity names")
        elif key == "id":
            continue
        else:
            raise BadInputError.invalid(key, value, "a field of a touchpoint: " + ", ".join(TOUCHPOINT_FIELDS))
    return out


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
        for tp_id in [*(int(i) for i in edits.updated), *edits.deleted]:
            if tp_id not in by_id:
                raise NotFoundError("Touchpoint", tp_id)
        updated = {
            int(i): _clean_touchpoint_fields(v, row=f"touchpoint “{by_id[int(i)].name}”", new=False)
            for i, v in (edits.updated or {}).items()
        }
        added = [
            _clean_touchpoint_fields(v, row=f"new touchpoint {n + 1}", new=True) for n, v in enumerate(edits.added)
        ]
        for values in [*updated.values(), *added]:
            if "stage_id" in values and values["stage_id"] not in stages:
                raise BadInputError.invalid("stage", values["stage_id"], "a stage of this map")
        requested: dict[int, float | None] = {}
        for tp_id, values in updated.items():
            tp = by_id[tp_id]
            for key, value in values.items():
                if key == "position":
                    requested[id(tp)] = value
                elif key == "stage_id" and value != tp.stage_id:
                    tp.stage_id = value
                    requested.setdefault(id(tp), None)
                    _move_touchpoint_children(session, tp_id, value)
                else:
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
            if position is not None:
                requested[id(tp)] = position
        for stage_id in stages:
            _renumber([tp for tp in touchpoints if tp.stage_id == stage_id], requested)
        session.add_all(touchpoints)
        session.flush()
        return [tp.id or 0 for tp in new_rows]

    return _versioned(map_id, expected_version, engine, work)


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
        index = siblings.index(tp)
        siblings.pop(index)
        siblings.insert(max(0, min(len(siblings), index + offset)), tp)
        for pos, t in enumerate(siblings):
            t.position = pos
        session.add_all(siblings)

    return _versioned(map_id, expected_version, engine, work)


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
    tp_id = _clean_id(touchpoint_id, f"{row}: touchpoint")
    st_id = _clean_id(stage_id, f"{row}: stage")
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
    pid = _clean_id(persona_id, f"{row}: persona")
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
    lanes = [lane.value for lane in Lane]
    cleaned = []
    for n, e in enumerate(edits):
        row = f"cell {n + 1}"
        lane = clean_choice(e.lane, f"{row}: lane", lanes)
        text = None if e.text is None else clean_text(e.text, f"{row}: {lane}")
        emotion = clean_emotion(e.emotion, f"{row}: emotion (−2..+2)") if e.set_emotion else None
        if e.set_emotion and emotion is not None and lane != Lane.FEELING.value:
            raise BadInputError.invalid(f"{row}: emotion", e.emotion, "an emotion score on the feeling lane only")
        cleaned.append((e, lane, text, emotion))

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
    model: type,
    kind: str,
    edits: RowEdits,
    clean: Callable[[Session, Mapping[str, Any], str, bool], dict[str, Any]],
    *,
    expected_version: int | None,
    engine: Engine | None,
) -> Saved:
    def work(session: Session, journey_map: JourneyMap) -> list[int]:
        rows = {r.id: r for r in session.exec(select(model).where(model.map_id == map_id)).all()}
        for row_id in list(edits.updated) + list(edits.deleted):
            if int(row_id) not in rows:
                raise NotFoundError(kind.capitalize(), row_id)
        changes = []
        for row_id, values in edits.updated.items():
            row = rows[int(row_id)]
            merged = {**row.model_dump(), **values}
            label = getattr(row, "description", None) or getattr(row, "action", None) or row_id
            changes.append((row, clean(session, merged, f"{kind} “{_short(label)}”", False)))
        additions = [clean(session, values, f"new {kind} {n + 1}", True) for n, values in enumerate(edits.added)]
        for row, values in changes:
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
        for row_id in edits.deleted:
            session.delete(rows[int(row_id)])
        new_rows = []
        for values in additions:
            item = model(map_id=map_id, **values)
            session.add(item)
            new_rows.append(item)
        session.flush()
        return [r.id or 0 for r in new_rows]

    return _versioned(map_id, expected_version, engine, work)


def _short(text: Any, length: int = 40) -> str:
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


def _place_fields(session: Session, map_id: int, values: Mapping[str, Any], row: str, *, required: bool) -> dict:
    stage_id, tp_id = _resolve_place(
        session, map_id, values.get("stage_id"), values.get("touchpoint_id"), row=row, required=required
    )
    return {"stage_id": stage_id, "touchpoint_id": tp_id}


def _clean_pain_point(session: Session, values: Mapping[str, Any], row: str, new: bool) -> dict[str, Any]:
    map_id = values["_map_id"]
    return {
        **_place_fields(session, map_id, values, row, required=True),
        "persona_id": _resolve_persona(session, map_id, values.get("persona_id"), row=row),
        "description": _required_text(values.get("description"), f"{row}: description"),
        "severity": clean_score(values.get("severity", 3), f"{row}: severity (1–5)"),
    }


def _clean_opportunity(session: Session, values: Mapping[str, Any], row: str, new: bool) -> dict[str, Any]:
    map_id = values["_map_id"]
    return {
        **_place_fields(session, map_id, values, row, required=True),
        "description": _required_text(values.get("description"), f"{row}: description"),
        "effort": clean_score(values.get("effort", 3), f"{row}: effort (1–5)"),
        "customer_value": clean_score(values.get("customer_value", 3), f"{row}: customer value (1–5)"),
        "business_value": clean_score(values.get("business_value", 3), f"{row}: business value (1–5)"),
    }


def _clean_action(session: Session, values: Mapping[str, Any], row: str, new: bool) -> dict[str, Any]:
    map_id = values["_map_id"]
    metric_id = _clean_id(values.get("metric_id"), f"{row}: metric")
    if metric_id is not None:
        metric = session.get(Metric, metric_id)
        if metric is None or metric.map_id != map_id:
            raise BadInputError.invalid(f"{row}: metric", values.get("metric_id"), "a metric of this map")
    return {
        **_place_fields(session, map_id, values, row, required=False),
        "metric_id": metric_id,
        "action": _required_text(values.get("action"), f"{row}: action"),
        "owner": clean_text(values.get("owner"), f"{row}: owner", max_length=crud.MAX_NAME_LENGTH),
        "status": clean_choice(
            values.get("status") or ActionStatus.OPEN.value, f"{row}: status", [s.value for s in ActionStatus]
        ),
        "due_date": clean_date(values.get("due_date"), f"{row}: due date"),
        "expected_effect": clean_text(values.get("expected_effect"), f"{row}: expected effect"),
    }


def _required_text(value: Any, field_name: str) -> str:
    text = clean_text(value, field_name)
    if not text:
        raise BadInputError.invalid(field_name, value, "a non-empty text")
    return text


def _with_map(map_id: int, edits: RowEdits) -> RowEdits:
    return RowEdits(
        updated={int(k): {**v, "_map_id": map_id} for k, v in (edits.updated or {}).items()},
        added=[{**v, "_map_id": map_id} for v in edits.added],
        deleted=[int(i) for i in edits.deleted],
    )


def apply_pain_point_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Add, change and delete pain points (stage or touchpoint, optional persona, description, severity 1–5)."""
    return _apply_item_edits(
        map_id, PainPoint, "pain point", _with_map(map_id, edits), _clean_pain_point,
        expected_version=expected_version, engine=engine,
    )  # fmt: skip


def apply_opportunity_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Add, change and delete opportunities (stage or touchpoint, description, effort/customer/business value 1–5)."""
    return _apply_item_edits(
        map_id, Opportunity, "opportunity", _with_map(map_id, edits), _clean_opportunity,
        expected_version=expected_version, engine=engine,
    )  # fmt: skip


def apply_action_edits(
    map_id: int, edits: RowEdits, *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Add, change and delete action-plan lines (action, owner, status, due date, stage/touchpoint, metric)."""
    return _apply_item_edits(
        map_id, Action, "action", _with_map(map_id, edits), _clean_action,
        expected_version=expected_version, engine=engine,
    )  # fmt: skip


# --------------------------------------------------------------------------- personas on a map


def attach_personas(
    map_id: int, persona_ids: Sequence[int], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Attach personas to a map (already attached ones are left alone)."""

    def work(session: Session, journey_map: JourneyMap) -> None:
        for pid in persona_ids:
            if session.get(Persona, pid) is None:
                raise NotFoundError("Persona", pid)
            if session.get(MapPersona, (map_id, pid)) is None:
                session.add(MapPersona(map_id=map_id, persona_id=pid))

    return _versioned(map_id, expected_version, engine, work)


def detach_personas(
    map_id: int, persona_ids: Sequence[int], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Detach personas from a map; their persona-specific cells and pain points on this map are removed."""

    def work(session: Session, journey_map: JourneyMap) -> None:
        for pid in persona_ids:
            link = session.get(MapPersona, (map_id, pid))
            if link is None:
                continue
            session.delete(link)
            for model in (LaneCell, PainPoint):
                for row in session.exec(select(model).where(model.map_id == map_id, model.persona_id == pid)).all():
                    session.delete(row)

    return _versioned(map_id, expected_version, engine, work)


def set_map_personas(
    map_id: int, persona_ids: Sequence[int], *, expected_version: int | None, engine: Engine | None = None
) -> Saved:
    """Make exactly ``persona_ids`` the map's personas (attach the new ones, detach the others)."""

    def work(session: Session, journey_map: JourneyMap) -> None:
        wanted = list(dict.fromkeys(int(p) for p in persona_ids))
        current = {link.persona_id for link in session.exec(select(MapPersona).where(MapPersona.map_id == map_id))}
        for pid in wanted:
            if session.get(Persona, pid) is None:
                raise NotFoundError("Persona", pid)
            if pid not in current:
                session.add(MapPersona(map_id=map_id, persona_id=pid))
        for pid in current - set(wanted):
            session.delete(session.get(MapPersona, (map_id, pid)))
            for model in (LaneCell, PainPoint):
                for row in session.exec(select(model).where(model.map_id == map_id, model.persona_id == pid)).all():
                    session.delete(row)

    return _versioned(map_id, expected_version, engine, work)


# --------------------------------------------------------------------------- derived tables


def compute_committee_coverage(view: MapView) -> pd.DataFrame:
    """One row per buying-committee role: covered or not, and which of the map's personas play it."""
    rows = []
    for role in CommitteeRole:
        names = [p.name for p in view.personas if p.committee_role == role.value]
        rows.append({"committee_role": role.value, "covered": bool(names), "personas": ", ".join(names)})
    return pd.DataFrame(rows, columns=["committee_role", "covered", "personas"])


def compute_opportunity_ranking(view: MapView) -> pd.DataFrame:
    """Opportunities ranked by priority (module docstring formula), best first.

    Ties: higher customer value first, then lower effort, then the older opportunity (lower id).
    """
    columns = [
        "rank",
        "id",
        "stage",
        "touchpoint",
        "description",
        "effort",
        "customer_value",
        "business_value",
        "moment_of_truth",
        "priority",
    ]
    stage_names = {s.id: s.name for s in view.stages}
    tp_names = {tp.id: tp.name for tp in view.touchpoints}
    ordered = sorted(view.opportunities, key=lambda o: (-o.priority, -o.customer_value, o.effort, o.id))
    rows = [
        {
            "rank": rank,
            "id": o.id,
            "stage": stage_names.get(o.stage_id, ""),
            "touchpoint": tp_names.get(o.touchpoint_id, "") if o.touchpoint_id else "",
            "description": o.description,
            "effort": o.effort,
            "customer_value": o.customer_value,
            "business_value": o.business_value,
            "moment_of_truth": o.moment_of_truth,
            "priority": o.priority,
        }
        for rank, o in enumerate(ordered, start=1)
    ]
    return pd.DataFrame(rows, columns=columns)


def compute_action_plan(view: MapView, *, today: date | None = None) -> pd.DataFrame:
    """The action plan with where each action sits, its metric and whether it is overdue (not done, past due)."""
    today = today or date.today()
    stage_names = {s.id: s.name for s in view.stages}
    tp_names = {tp.id: tp.name for tp in view.touchpoints}
    metric_names = {m.id: m.name for m in view.metrics}
    rows = [
        {
            "id": a.id,
            "action": a.action,
            "owner": a.owner,
            "status": a.status,
            "due_date": a.due_date,
            "overdue": bool(a.due_date and a.due_date < today and a.status != ActionStatus.DONE.value),
            "stage": stage_names.get(a.stage_id, "") if a.stage_id else "",
            "touchpoint": tp_names.get(a.touchpoint_id, "") if a.touchpoint_id else "",
            "metric": metric_names.get(a.metric_id, "") if a.metric_id else "",
            "expected_effect": a.expected_effect,
        }
        for a in view.actions
    ]
    columns = [
        "id",
        "action",
        "owner",
        "status",
        "due_date",
        "overdue",
        "stage",
        "touchpoint",
        "metric",
        "expected_effect",
    ]
    return pd.DataFrame(rows, columns=columns)


MAP_MEASURES: dict[str, str] = {
    "emotion": "Emotion (everyone, −2..+2)",
    "pain_severity": "Worst pain point (severity 1–5)",
    "pain_points": "Pain points (count)",
    "opportunity_priority": "Best opportunity (priority)",
    "open_actions": "Open actions (count)",
}


def compute_map_measure(view: MapView, measure: str) -> pd.DataFrame:
    """A measure from the map itself, per touchpoint, in the overlay shape of ``charts.map_grid``.

    Columns ``touchpoint_id, value, label``; ``frame.attrs["name"]`` is the measure's name. Only what
    sits on a touchpoint counts (items on a whole stage do not). Touchpoints without any value are
    left out ("no data" on the grid). Measures: ``emotion`` (the feeling lane for everyone, else the
    mean over personas), ``pain_severity`` (the highest severity), ``pain_points`` (how many),
    ``opportunity_priority`` (the best priority), ``open_actions`` (actions not done).
    """
    if measure not in MAP_MEASURES:
        raise BadInputError.invalid("measure", measure, "one of: " + ", ".join(MAP_MEASURES))
    rows = []
    for tp in view.touchpoints:
        value: float | None = None
        if measure == "emotion":
            cells = [
                c for c in view.lane_cells if c.touchpoint_id == tp.id and c.lane == "feeling" and c.emotion is not None
            ]
            shared = [c.emotion for c in cells if c.persona_id is None]
            scores = shared or [c.emotion for c in cells]
            value = float(sum(scores) / len(scores)) if scores else None  # type: ignore[arg-type]
        elif measure in ("pain_severity", "pain_points"):
            pains = [p.severity for p in view.pain_points if p.touchpoint_id == tp.id]
            if pains:
                value = float(max(pains)) if measure == "pain_severity" else float(len(pains))
        elif measure == "opportunity_priority":
            priorities = [o.priority for o in view.opportunities if o.touchpoint_id == tp.id]
            value = max(priorities) if priorities else None
        else:
            value = float(
                sum(1 for a in view.actions if a.touchpoint_id == tp.id and a.status != ActionStatus.DONE.value)
            )
        if value is None:
            continue
        label = (
            f"{value:+.1f}"
            if measure == "emotion"
            else (f"{value:.2f}" if measure == "opportunity_priority" else f"{value:.0f}")
        )
        rows.append({"touchpoint_id": tp.id, "value": value, "label": label})
    frame = pd.DataFrame(rows, columns=["touchpoint_id", "value", "label"])
    frame.attrs["name"] = MAP_MEASURES[measure]
    return frame


def get_map_version(map_id: int, *, engine: Engine | None = None) -> int:
    """The map's current version (a cheap read to tell a user their copy is out of date)."""
    with read_session(engine) as session:
        return crud.get_map(session=session, map_id=map_id).version


RACI_ROLES = (("R", "responsible"), ("A", "accountable"), ("C", "consulted"), ("I", "informed"))


def _teams(text: str) -> list[str]:
    """Team names in a RACI field: separated by commas, semicolons or slashes."""
    out: list[str] = []
    for part in text.replace(";", ",").replace("/", ",").split(","):
        name = part.strip()
        if name and name not in out:
            out.append(name)
    return out


def compute_raci_matrix(view: MapView) -> pd.DataFrame:
    """Teams × touchpoints with each team's RACI letters (e.g. "R", "A/C"), plus the owner team as "O".

    Rows are teams (alphabetical), columns ``Stage › Touchpoint`` in map order; an empty cell means the
    team has no part there. A team named in several RACI fields gets all its letters, in R, A, C, I order.
    """
    columns = [f"{s.name} › {t.name}" for s in view.stages for t in s.touchpoints]
    letters: dict[str, dict[str, list[str]]] = {}
    for s in view.stages:
        for t in s.touchpoints:
            column = f"{s.name} › {t.name}"
            for team in _teams(t.owner_team):
                letters.setdefault(team, {}).setdefault(column, []).append("O")
            for letter, attr in RACI_ROLES:
                for team in _teams(getattr(t, attr)):
                    cell = letters.setdefault(team, {}).setdefault(column, [])
                    if letter not in cell:
                        cell.append(letter)
    rows = [
        {"team": team, **{c: "/".join(letters[team].get(c, [])) for c in columns}}
        for team in sorted(letters, key=str.casefold)
    ]
    return pd.DataFrame(rows, columns=["team", *columns])


def compute_ownership_gaps(view: MapView) -> pd.DataFrame:
    """Touchpoints whose ownership is incomplete: no owner team, no one accountable, or more than one
    accountable team (RACI allows exactly one). Moments of truth are listed first."""
    rows = []
    for s in view.stages:
        for t in s.touchpoints:
            problems = []
            if not t.owner_team:
                problems.append("no owner team")
            accountable = _teams(t.accountable)
            if not accountable:
                problems.append("no one accountable")
            elif len(accountable) > 1:
                problems.append(f"{len(accountable)} teams accountable")
            if problems:
                rows.append(
                    {
                        "stage": s.name,
                        "touchpoint": t.name,
                        "moment_of_truth": t.moment_of_truth,
                        "gaps": ", ".join(problems),
                    }
                )
    frame = pd.DataFrame(rows, columns=["stage", "touchpoint", "moment_of_truth", "gaps"])
    return frame.sort_values("moment_of_truth", ascending=False, kind="stable").reset_index(drop=True)
