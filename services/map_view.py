"""Reading a map: the :class:`core.journey_map.MapView` of a map, built from the database.

:func:`get_map_view` opens its own read session; :func:`load_map_view` builds the view inside a
session the caller holds (services that write, snapshots, exports reuse it).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

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


def _template_lanes(template_key: str | None) -> tuple[str, ...]:
    template = TEMPLATES.get(template_key or "")
    return tuple(template.lanes) if template is not None else ()


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
        template_lanes=_template_lanes(m.template_key),
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


def get_map_version(map_id: int, *, engine: Engine | None = None) -> int:
    """The map's current version (a cheap read to tell a user their copy is out of date)."""
    with read_session(engine) as session:
        return crud.get_map(session=session, map_id=map_id).version
