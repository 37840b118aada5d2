"""The managers' view: every map's health at a glance, a portfolio heat map, trends.

Health of a map (:class:`MapHealth`):
- conversion and NPS (and CSAT): the latest stored value of the map's metric of that kind (the
  map-wide one, else the first bound to a stage, else to a touchpoint), with its target,
  red/amber/green status and the change since the previous period; a map with a
  linked dataset but no such metric shows the value computed over the whole log (no target, no
  trend);
- the worst friction hot spot: the touchpoint with the highest friction index among those at least
  :data:`analytics.friction.HOT_SPOT_MIN_JOURNEYS` journeys reached, in the map's most recent linked dataset;
- open actions (not done) and overdue actions (not done, due date passed);
- stale: the review-by date has passed.
``health`` is the worst status among conversion, NPS and CSAT (red > amber > green), ``none``
when none of them has a status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import select

from analytics import friction as af
from analytics import metrics as am
from analytics.conversion import Conversion
from core.errors import EventsFileError
from db import crud
from db.engine import read_session
from db.models import Action, ActionStatus, Dataset
from services.context import open_context
from services.conversion import ConversionLine, compute_conversion_line
from services.datasets import newest_linked
from services.friction import compute_context_friction
from services.maps import list_map_summaries
from services.metrics import ComputeOptions, MetricRow, compute_for_context, list_metrics

HEALTH_MEASURES: tuple[str, ...] = ("conversion", "nps", "csat")
_ALL_PERIOD = ComputeOptions(period="all")


@dataclass(frozen=True)
class MeasureHealth:
    value: float | None = None
    target: float | None = None
    direction: str = "higher"
    status: str = "none"
    period: str | None = None
    change: float | None = None  # since the previous period
    previous_period: str | None = None
    source: str = ""  # "metric" or "dataset"
    name: str = ""  # the metric's name ("" when computed from the dataset)
    scope: str = ""  # "whole map", "stage: X" or "touchpoint: Y"
    by_hand: bool = False  # a metric entered by hand, not computed from the event log

    @property
    def how(self) -> str:
        """The words said beside such a metric's value wherever it is shown ("entered by hand"), else ""."""
        return "entered by hand" if self.by_hand else ""


@dataclass(frozen=True)
class MapHealth:
    map_id: int
    name: str
    owner: str
    stale: bool
    review_by: date | None
    dataset_id: int | None
    dataset_name: str | None
    conversion: MeasureHealth
    nps: MeasureHealth
    csat: MeasureHealth
    hot_spot: str | None
    hot_spot_stage: str | None
    hot_spot_friction: float | None
    hot_spot_reason: str | None
    open_actions: int
    overdue_actions: int
    health: str
    # "Conversion: <definition> · N of M journeys (x%)" of the linked event log, as every page says it.
    conversion_line: str | None = None
    log_conversion: float | None = None  # the linked log's conversion rate in % (its Conversion line)
    # Set when the linked dataset's events file is missing or damaged: what is wrong and what to do.
    dataset_error: str | None = None

    @property
    def studio_link(self) -> str:
        return f"pages/2_Map_studio.py?map={self.map_id}"


def _from_metric(row: MetricRow) -> MeasureHealth:
    return MeasureHealth(
        value=row.latest_value,
        target=row.target,
        direction=row.direction,
        status=row.status,
        period=row.latest_period,
        change=row.change,
        previous_period=row.previous_period,
        source="metric",
        name=row.name,
        scope=row.scope,
        by_hand=row.source != "dataset",
    )


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: am.STATUS_RANK.get(s, 0)) if statuses else "none"


def _actions(engine: Engine | None, today: date) -> dict[int, tuple[int, int]]:
    with read_session(engine) as session:
        rows = session.exec(select(Action.map_id, Action.status, Action.due_date)).all()
    out: dict[int, list[int]] = {}
    for map_id, status, due in rows:
        if status == ActionStatus.DONE.value:
            continue
        counts = out.setdefault(map_id, [0, 0])
        counts[0] += 1
        if due is not None and due < today:
            counts[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def _linked(engine: Engine | None) -> dict[int, tuple[int, str]]:
    with read_session(engine) as session:
        rows = session.exec(select(Dataset.id, Dataset.name, Dataset.map_id, Dataset.created_at)).all()
    return newest_linked(rows)


def map_log(map_id: int, *, engine: Engine | None = None) -> tuple[int, str] | None:
    """``(id, name)`` of the event log a map's pages and report read by default (its newest linked), or None."""
    return _linked(engine).get(map_id)


def _dataset_health(
    dataset_id: int,
    map_id: int,
    measures: dict[str, MeasureHealth],
    engine: Engine | None,
    conversion: Conversion | None = None,
) -> tuple[ConversionLine, tuple]:
    """The conversion line and worst hot spot of a map's linked dataset; fills ``measures`` it lacks."""
    hot = (None, None, None, None)
    ctx = open_context(dataset_id, map_id, conversion=conversion, engine=engine)
    conversion_line = compute_conversion_line(ctx)
    friction = compute_context_friction(ctx)
    spots = af.compute_hot_spots(friction.touchpoints, top_n=1)
    if len(spots):
        s = spots.iloc[0]
        hot = (s.touchpoint, s.stage if isinstance(s.stage, str) else None, float(s.friction), s.reason)
    for kind in HEALTH_MEASURES:
        if kind in measures or kind not in am.available_kinds(ctx.schema):
            continue
        if kind == "conversion" and not ctx.conversion.defined:
            continue
        df = compute_for_context(ctx, kind, options=_ALL_PERIOD)
        value = float(df["value"].iloc[0]) if len(df) and not pd.isna(df["value"].iloc[0]) else None
        measures[kind] = MeasureHealth(value=value, period="all", source="dataset")
    return conversion_line, hot


def compute_map_health(
    map_id: int,
    *,
    today: date | None = None,
    engine: Engine | None = None,
    dataset_id: int | None = None,
    conversion: Conversion | None = None,
    _summary=None,  # noqa: ANN001 - internal: a MapSummary already loaded
    _actions_of=None,  # noqa: ANN001
    _dataset=None,  # noqa: ANN001
) -> MapHealth:
    """The health of one map (see the module docstring), from the event log ``dataset_id`` seen
    through the map when given (a report of the map with another log), else the map's newest linked
    one; ``conversion`` replaces its saved definition (a report's ``--goal``), as :func:`open_context` does."""
    today = today or date.today()
    if dataset_id is not None:
        with read_session(engine) as session:
            _dataset = (dataset_id, crud.get_dataset(session=session, dataset_id=dataset_id).name)
    summary = _summary or next(m for m in list_map_summaries(engine=engine, today=today) if m.id == map_id)
    open_n, overdue_n = (_actions_of or _actions(engine, today)).get(map_id, (0, 0))
    dataset = _dataset if _dataset is not None else _linked(engine).get(map_id)
    # Map-wide metrics first, then stage-bound, then touchpoint-bound (a map's headline conversion is
    # often bound to its conversion stage).
    metric_rows = sorted(
        list_metrics(map_id, engine=engine), key=lambda r: (r.touchpoint_id is not None, r.stage_id is not None, r.id)
    )
    measures: dict[str, MeasureHealth] = {}
    for kind in HEALTH_MEASURES:
        rows = [r for r in metric_rows if r.kind == kind and r.latest_value is not None]
        if rows:
            measures[kind] = _from_metric(rows[0])
    hot = (None, None, None, None)
    line = None
    dataset_error = None
    try:
        if dataset:
            line, hot = _dataset_health(dataset[0], map_id, measures, engine, conversion)
    except EventsFileError as exc:  # one damaged dataset: this map says so, the portfolio goes on
        dataset_error = str(exc)
    empty = MeasureHealth()
    converting, nps, csat = (measures.get(k, empty) for k in HEALTH_MEASURES)
    return MapHealth(
        map_id=map_id,
        name=summary.name,
        owner=summary.owner,
        stale=summary.stale,
        review_by=summary.review_by,
        dataset_id=dataset[0] if dataset else None,
        dataset_name=dataset[1] if dataset else None,
        conversion=converting,
        nps=nps,
        csat=csat,
        hot_spot=hot[0],
        hot_spot_stage=hot[1],
        hot_spot_friction=hot[2],
        hot_spot_reason=hot[3],
        open_actions=open_n,
        overdue_actions=overdue_n,
        health=_worst([converting.status, nps.status, csat.status]),
        conversion_line=line.text if line is not None else None,
        log_conversion=None if line is None or line.rate is None else 100 * line.rate,
        dataset_error=dataset_error,
    )


def data_version(*, today: date | None = None, engine: Engine | None = None) -> tuple[str, int, int]:
    """What the portfolio depends on, as a cache key: the day (stale maps and overdue actions move
    with it) and the audit trail's newest id and length (every change to a map, its metrics and
    actions, a dataset, a link or a conversion definition adds a row, in its own transaction)."""
    from sqlalchemy import func

    from db.models import AuditEvent

    with read_session(engine) as session:
        newest, rows = session.exec(select(func.max(AuditEvent.id), func.count(AuditEvent.id))).one()
    return ((today or date.today()).isoformat(), int(newest or 0), int(rows or 0))


def compute_portfolio(*, today: date | None = None, engine: Engine | None = None) -> list[MapHealth]:
    """The health of every map, worst first (then by name)."""
    today = today or date.today()
    actions = _actions(engine, today)
    linked = _linked(engine)
    out = [
        compute_map_health(
            m.id, today=today, engine=engine, _summary=m, _actions_of=actions, _dataset=linked.get(m.id, ())
        )
        for m in list_map_summaries(engine=engine, today=today)
    ]
    return sorted(out, key=lambda h: (-am.STATUS_RANK.get(h.health, 0), not h.stale, h.name.lower(), h.map_id))


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def compute_portfolio_table(portfolio: list[MapHealth]) -> pd.DataFrame:
    """One row per map: the table beside the portfolio heat map (and its CSV)."""
    rows = []
    for h in portfolio:
        row = {"map_id": h.map_id, "map": h.name, "owner": h.owner, "health": h.health, "stale": h.stale}
        for kind in HEALTH_MEASURES:
            m: MeasureHealth = getattr(h, kind)
            row |= {
                f"{kind}": m.value,
                f"{kind}_target": m.target,
                f"{kind}_status": m.status,
                f"{kind}_period": m.period,
                f"{kind}_change": m.change,
                f"{kind}_source": m.how or ("computed" if m.value is not None else ""),
            }
        row |= {
            "hot_spot": h.hot_spot,
            "hot_spot_stage": h.hot_spot_stage,
            "hot_spot_friction": h.hot_spot_friction,
            "open_actions": h.open_actions,
            "overdue_actions": h.overdue_actions,
            "dataset": h.dataset_name,
        }
        rows.append(row)
    return pd.DataFrame(rows)


HEATMAP_MEASURES: tuple[tuple[str, str], ...] = (
    ("conversion", "Conversion %"),
    ("nps", "NPS"),
    ("csat", "CSAT %"),
    ("friction", "Worst friction"),
    ("overdue", "Overdue actions"),
    ("stale", "Review"),
)


def heatmap_legend() -> str:
    """What the portfolio heat map's colours mean, with the friction thresholds it uses."""
    return (
        "Each cell is coloured by its status: metrics against their targets (value / target (change since the "
        f"previous period)); worst friction red from {af.FRICTION_RED:.0f}, amber from {af.FRICTION_AMBER:.0f}; "
        "overdue actions; review date."
    )


def compute_portfolio_heatmap(portfolio: list[MapHealth]) -> pd.DataFrame:
    """Maps × measures for the heat map: ``map_id, map, measure, value, label, status``.

    Colour is the status: metrics against their targets; friction by :func:`analytics.friction.friction_status`;
    overdue actions red when any; review red when the map is stale.
    """
    rows = []
    for h in portfolio:
        for key, title in HEATMAP_MEASURES:
            if key in HEALTH_MEASURES:
                m: MeasureHealth = getattr(h, key)
                value, status = m.value, m.status
                label = _fmt(value)
                if m.target is not None:
                    label += f" / {_fmt(m.target)}"
                if m.change is not None:
                    label += f" ({m.change:+.0f})"
                if m.by_hand and value is not None:
                    label += " · by hand"
                    if key == "conversion" and h.log_conversion is not None:  # both figures, side by side
                        label += f" (log {h.log_conversion:.1f} of all journeys)"
            elif key == "friction":
                value = h.hot_spot_friction
                status = af.friction_status(value)
                label = f"{_fmt(value)} {h.hot_spot}" if value is not None else "–"
            elif key == "overdue":
                value = float(h.overdue_actions)
                status = "red" if h.overdue_actions else ("green" if h.open_actions else "none")
                label = f"{h.overdue_actions} of {h.open_actions} open"
            else:
                value = 1.0 if h.stale else 0.0
                status = "red" if h.stale else "green"
                label = "stale" if h.stale else "up to date"
            rows.append(
                {"map_id": h.map_id, "map": h.name, "measure": title, "value": value, "label": label, "status": status}
            )
    return pd.DataFrame(rows, columns=["map_id", "map", "measure", "value", "label", "status"])


def compute_trends(portfolio: list[MapHealth], *, engine: Engine | None = None) -> pd.DataFrame:
    """Every metric's values over time, for the trends chart:
    ``map_id, map, metric, kind, period, value, target, status``.
    """
    rows = []
    for h in portfolio:
        for r in list_metrics(h.map_id, engine=engine):
            for period, value, _base, _computed in r.values:
                rows.append(
                    {
                        "map_id": h.map_id,
                        "map": h.name,
                        "metric": r.name,
                        "kind": r.kind,
                        "period": period,
                        "value": value,
                        "target": r.target,
                        "status": am.metric_status(value, r.target, r.direction),
                    }
                )
    return pd.DataFrame(rows, columns=["map_id", "map", "metric", "kind", "period", "value", "target", "status"])
