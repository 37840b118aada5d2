"""The data of one journey map's report, and the CSVs of every table in it.

:func:`build_map_report_data` gathers what the report shows (:class:`core.map_report.MapReportData`):
the map's health (conversion, NPS, CSAT against target, worst hot spot, actions), the measure laid
over the stage × touchpoint grid, the stage flow with its loops, the stage funnel, the metrics with
their trends, the friction hot spots, designed vs observed and the action plan.
``charts.map_report_html`` renders it as HTML; :func:`report_csv_zip` and
:func:`write_report_csvs` write its tables as CSVs (formulas neutralised).

Without a linked dataset the report still has the map, its metrics and its action plan.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from analytics.conversion import for_one_run
from analytics.friction import compute_hot_spots
from analytics.funnel import DEFAULT_WINDOW_DAYS, FunnelSpec
from analytics.map_tables import compute_action_plan
from core.errors import BadInputError, ConversionUndefinedError
from core.map_report import (
    HealthCard,
    MapReport,
    MapReportData,
    MetricTrend,
    ReportConversion,
    ReportFlow,
    ReportFriction,
    ReportHealth,
    ReportOverlay,
)
from services import analysis
from services.context import AnalysisContext, open_context, override_conversion
from services.conversion import SCOPE_WORDS, compute_conversion_line
from services.csv_safety import to_safe_csv
from services.friction import compute_context_friction, compute_friction_table
from services.linking import foreign_map_note
from services.map_view import get_map_view
from services.metrics import compute_metric_history, compute_metric_table, list_metrics
from services.overlay import (
    ATTRIBUTION_MEASURES,
    CONVERSION_MEASURES,
    MEASURES,
    compute_attribution_overlay,
    compute_designed_vs_observed,
    compute_overlay,
    measure_phrase,
)
from services.overview import MapHealth, compute_map_health, map_log


def _health(health: MapHealth) -> ReportHealth:
    cards = []
    for title, m, unit in (("Conversion", health.conversion, "%"), ("NPS", health.nps, ""), ("CSAT", health.csat, "%")):
        cards.append(
            HealthCard(
                # A metric of the map is named as it is (a hand-entered "Win rate" is not the Conversion line).
                title=m.name if m.source == "metric" and m.name else title,
                value=m.value,
                unit=unit,
                target=m.target,
                period=m.period,
                how=m.how if m.value is not None else "",
                status=m.status,
            )
        )
    return ReportHealth(
        measures=tuple(cards),
        hot_spot=health.hot_spot,
        hot_spot_friction=health.hot_spot_friction,
        open_actions=health.open_actions,
        overdue_actions=health.overdue_actions,
    )


def _flow(ctx: AnalysisContext) -> ReportFlow:
    """Stage flow and stage funnel of the context."""
    stage_order = ctx.stage_order
    flow = analysis.run("stage_flow", ctx, query=replace(ctx.query, by="stage"))
    # The funnel's steps: the stages in order that some journey reaches (a map's stage no event of
    # this log is at, as when the log is seen through another map, is named, not counted as a drop to 0).
    reached = set(analysis.run("node_volumes", ctx, query=replace(ctx.query, by="stage"))["node"].astype(str))
    steps = tuple(s for s in stage_order if s in reached)
    funnel = None
    if len(steps) >= 2:
        funnel = analysis.run("funnel", ctx, query=replace(ctx.query, by="stage"), spec=FunnelSpec(steps=steps))
    return ReportFlow(
        stage_flow=flow,
        funnel=funnel,
        window_days=DEFAULT_WINDOW_DAYS,
        unreached_stages=tuple(s for s in stage_order if s not in reached),
        stage_count=len(stage_order),
    )


def build_map_report_data(
    map_id: int,
    *,
    dataset_id: int | None = None,
    measure: str = "friction",
    goals: Sequence[str] = (),
    lost: Sequence[str] = (),
    today: date | None = None,
    refuse_undefined: bool = False,
    engine: Engine | None = None,
) -> MapReportData:
    """The data of the report of ``map_id`` (see the module docstring); ``dataset_id`` defaults to
    the map's most recent linked dataset, ``measure`` is the one laid over the grid. Conversion is the
    dataset's definition through the map (``goals`` and ``lost`` override it for this report as
    ``analyze --goal/--lost`` do: :func:`analytics.conversion.for_one_run`), stated in one line at the
    top with the event log it comes from. ``refuse_undefined`` (the CLI): a ``measure`` that needs conversion
    (:data:`CONVERSION_MEASURES`) is refused where it is not defined, instead of drawn as "not defined".
    """
    today = today or date.today()
    view = get_map_view(map_id, engine=engine, today=today)
    if dataset_id is None:
        linked = map_log(map_id, engine=engine)
        dataset_id = linked[0] if linked else None
    if dataset_id is None and (goals or lost):  # never ignored without a word
        raise BadInputError(
            f"a conversion for this report needs an event log, and map {map_id} has none linked",
            expected="--dataset ID, or a dataset linked to the map",
        )
    ctx = None
    if dataset_id is not None:
        ctx = open_context(dataset_id, map_id, engine=engine)
        override = for_one_run(ctx.conversion, goals, lost)
        ctx = ctx if override is None else override_conversion(ctx, override)
    if refuse_undefined and ctx is not None and measure in CONVERSION_MEASURES and not ctx.conversion.defined:
        raise ConversionUndefinedError(
            f"the report's {measure} overlay of dataset {dataset_id}",
            how=f'python cli.py conversion set --dataset {dataset_id} --goal "A,B", or --goal "A,B" for this report',
        )
    # The health cards come from the report's own event log and conversion (as the sections below).
    health = compute_map_health(
        map_id,
        today=today,
        engine=engine,
        dataset_id=dataset_id,
        conversion=ctx.conversion if ctx is not None and ctx.conversion_scope == "override" else None,
    )
    generated_at = datetime.now(UTC)

    conversion: ReportConversion | None = None
    overlay: ReportOverlay | None = None
    flow: ReportFlow | None = None
    friction_data: ReportFriction | None = None
    friction = None
    if ctx is not None and dataset_id is not None:
        line = compute_conversion_line(ctx)
        conversion = ReportConversion(
            dataset_name=ctx.dataset_name,
            line=line.text,
            scope_words="" if line.scope == "none" else SCOPE_WORDS[line.scope],  # the line says "not defined"
            foreign_note=foreign_map_note(dataset_id, map_id, engine=engine),
        )
        friction = compute_context_friction(ctx)
        title = measure_phrase(measure)
        credited = None
        if measure in ATTRIBUTION_MEASURES:
            credited = compute_attribution_overlay(ctx)
            title += f" ({credited.conversion.describe()})"
        table = compute_overlay(ctx, friction, measure, None if credited is None else credited.frame)
        overlay = ReportOverlay(title=title, name=MEASURES[measure], table=table)
        flow = _flow(ctx)

    rows = list_metrics(map_id, engine=engine)
    trends = []
    for r in rows:
        history = compute_metric_history(r)
        if len(history):
            trends.append(MetricTrend(name=r.name, scope=r.scope, unit=r.unit, history=history))
    metric_values = (
        pd.concat([t.history.assign(metric=t.name, scope=t.scope) for t in trends], ignore_index=True)
        if trends
        else None
    )

    if ctx is not None and friction is not None:
        dvo = compute_designed_vs_observed(ctx, friction)
        friction_data = ReportFriction(
            components=friction.touchpoints,
            touchpoints=compute_friction_table(friction),
            stages=compute_friction_table(friction, level="stage"),
            hot_spots=compute_hot_spots(friction.touchpoints, top_n=10),
            unreached_touchpoints=dvo.unreached_touchpoints,
            unknown_activities=dvo.unknown_activities,
            backward_transitions=dvo.backward_transitions,
        )

    return MapReportData(
        view=view,
        generated_at=generated_at,
        health=_health(health),
        conversion=conversion,
        overlay=overlay,
        flow=flow,
        metrics=compute_metric_table(rows),
        trends=tuple(trends),
        metric_values=metric_values,
        friction=friction_data,
        action_plan=compute_action_plan(view, today=today),
    )


def report_csv_zip(report: MapReportData | MapReport) -> bytes:
    """Every table of the report as a CSV (formulas neutralised), in one ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, table in report.tables.items():
            zf.writestr(f"{name}.csv", to_safe_csv(table))
    return buffer.getvalue()


def write_report_csvs(report: MapReportData | MapReport, directory: str | Path) -> None:
    """One CSV per table of the report (formulas neutralised) in ``directory``, made if missing."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for name, table in report.tables.items():
        (path / f"{name}.csv").write_bytes(to_safe_csv(table))
