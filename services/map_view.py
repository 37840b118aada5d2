"""Reading a map: the :class:`core.journey_map.MapView` of a map, built from the database.

:func:`get_map_view` opens its own read session; :func:`load_map_view` builds the view inside a
session the caller holds (services that write, snapshots, exports reuse it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from typing import Any, TypeVar, cast

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from core.journey_map import (
    LANE_ORDER,
    ActionView,
    LaneCellView,
    MapView,
    MetricValueView,
    MetricView,
    OpportunityView,
    PainPointView,
    PersonaView,
    StageView,
    TouchpointView,
)
from db import crud
from db.engine import read_session
from db.models import Action, LaneCell, Metric, MetricValue, Opportunity, PainPoint, Persona
from services.maps import is_stale
from services.templates import TEMPLATES

_T = TypeVar("_T", bound=SQLModel)


def _template_lanes(template_key: str | None) -> tuple[str, ...]:
    template = TEMPLATES.get(template_key or "")
    return tuple(template.lanes) if template is not None else ()


V = TypeVar("V")


def _view(cls: type[V], row: SQLModel, **overrides: Any) -> V:
    """A view dataclass from a table row: each of the view's fields the row has (lists as tuples, a missing id
    as 0), then ``overrides`` (read first, so relationships are never loaded)."""
    values: dict[str, Any] = {}
    for f in fields(cast(Any, cls)):
        if f.name in overrides or not hasattr(row, f.name):
            continue
        value = getattr(row, f.name)
        if f.name == "id":
            value = value or 0
        elif isinstance(value, list) or (value is None and f.default == ()):
            value = tuple(value or ())
        elif isinstance(value, dict):  # a JSON column: the view's own copy, never the row's
            value = dict(value)
        values[f.name] = value
    return cls(**values, **overrides)


def persona_view(p: Persona) -> PersonaView:
    return _view(PersonaView, p)


def load_map_view(session: Session, map_id: int, *, today: date | None = None) -> MapView:
    """Build the :class:`MapView` of ``map_id`` inside an open session (services that write reuse it)."""
    m = crud.get_map(session=session, map_id=map_id)
    by_stage: dict[int, list[TouchpointView]] = {}
    for tp in crud.list_touchpoints(session=session, map_id=map_id):
        by_stage.setdefault(tp.stage_id, []).append(_view(TouchpointView, tp))
    stage_views = tuple(
        _view(StageView, s, touchpoints=tuple(by_stage.get(s.id or 0, ())))
        for s in crud.list_stages(session=session, map_id=map_id)
    )
    mot = {tp.id: tp.moment_of_truth for s in stage_views for tp in s.touchpoints}
    stage_order = {s.id: i for i, s in enumerate(stage_views)}
    tp_order = {tp_id: i for i, tp_id in enumerate(mot)}
    personas = crud.list_map_personas(session=session, map_id=map_id)
    persona_order = {p.id: i for i, p in enumerate(personas)}

    def where(item: LaneCell | PainPoint | Opportunity) -> tuple[int, int]:
        return (
            stage_order.get(item.stage_id, len(stage_order)),
            -1 if item.touchpoint_id is None else tp_order.get(item.touchpoint_id, len(tp_order)),
        )

    def rows(table: type[_T]) -> Sequence[_T]:
        return session.exec(select(table).where(cast(Any, table).map_id == map_id)).all()

    cells = sorted(
        rows(LaneCell),
        key=lambda c: (
            *where(c),
            -1 if c.persona_id is None else persona_order.get(c.persona_id, len(persona_order)),
            LANE_ORDER.index(c.lane) if c.lane in LANE_ORDER else len(LANE_ORDER),
            c.id or 0,
        ),
    )
    pains = sorted(rows(PainPoint), key=lambda p: (*where(p), p.id or 0))
    opps = sorted(rows(Opportunity), key=lambda o: (*where(o), o.id or 0))
    actions = sorted(rows(Action), key=lambda a: a.id or 0)
    metrics = sorted(rows(Metric), key=lambda mt: mt.id or 0)
    values: dict[int, list[MetricValueView]] = {}
    if metrics:
        for v in session.exec(
            select(MetricValue)
            .where(col(MetricValue.metric_id).in_([mt.id for mt in metrics]))
            .order_by(col(MetricValue.metric_id), col(MetricValue.period))
        ).all():
            values.setdefault(v.metric_id, []).append(_view(MetricValueView, v))
    return _view(
        MapView,
        m,
        stale=is_stale(m.review_by, today),
        template_lanes=_template_lanes(m.template_key),
        stages=stage_views,
        personas=tuple(persona_view(p) for p in personas),
        lane_cells=tuple(_view(LaneCellView, c) for c in cells),
        pain_points=tuple(_view(PainPointView, p) for p in pains),
        opportunities=tuple(
            _view(OpportunityView, o, moment_of_truth=bool(o.touchpoint_id is not None and mot.get(o.touchpoint_id)))
            for o in opps
        ),
        actions=tuple(_view(ActionView, a) for a in actions),
        metrics=tuple(_view(MetricView, mt, values=tuple(values.get(mt.id or 0, ()))) for mt in metrics),
    )


def get_map_view(map_id: int, *, engine: Engine | None = None, today: date | None = None) -> MapView:
    """The whole map ``map_id`` as plain data (raises ``NotFoundError`` if it does not exist)."""
    with read_session(engine) as session:
        return load_map_view(session, map_id, today=today)


def get_map_version(map_id: int, *, engine: Engine | None = None) -> int:
    """The map's current version (a cheap read to tell a user their copy is out of date)."""
    with read_session(engine) as session:
        return crud.get_map(session=session, map_id=map_id).version
