"""A self-contained HTML report of one journey map, and the CSVs of every table in it.

The report holds: the map's health (conversion, NPS, CSAT against target, worst hot spot, actions),
the whole stage × touchpoint grid (fitted to the page, as on screen) with a measure laid over it, the stage flow Sankey with its loops, the
stage funnel, the metrics with their trends, the friction hot spots, the action plan, and designed
vs observed. Plotly figures are embedded with plotly.js inline (once), so the file opens offline;
every user text (names, descriptions, actions, table cells) is HTML-escaped.

Without a linked dataset the report still has the map, its metrics and its action plan; the
data sections say that no event log is linked.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Engine

from analytics.conversion import for_one_run
from analytics.friction import compute_hot_spots
from charts.friction import friction_components_figure
from charts.labels import for_people
from charts.map_grid_html import map_grid_html
from charts.metrics import metric_trend_figure
from core.errors import BadInputError
from services.context import AnalysisContext, open_context, override_conversion
from services.conversion import SCOPE_WORDS, compute_conversion_line
from services.csv_safety import to_safe_csv
from services.friction import compute_context_friction, compute_friction_table
from services.linking import foreign_map_note
from services.metrics import compute_metric_history, compute_metric_table, list_metrics
from services.overlay import (
    ATTRIBUTION_MEASURES,
    MEASURES,
    compute_attribution_overlay,
    compute_designed_vs_observed,
    compute_overlay,
    measure_phrase,
)
from services.overview import compute_map_health, map_log

REPORT_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1200px;color:#1f2430;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:1px solid #d8dce6;padding-bottom:.3rem}
.muted{color:#667085}.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{border:1px solid #d8dce6;border-radius:8px;padding:.8rem 1rem;min-width:200px}
.card b{font-size:1.4rem;display:block}
.status-green{color:#2e7d32}.status-amber{color:#b26a00}.status-red{color:#c62828}.status-none{color:#667085}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}th,td{border:1px solid #d8dce6;padding:.25rem .5rem;text-align:left}
th{background:#f4f5f7}.scroll{overflow-x:auto}
.note{border-left:4px solid #b26a00;background:#fff8e6;padding:.5rem .8rem}
"""


@dataclass
class MapReport:
    """The report's HTML and the tables it shows (each one a CSV of the download)."""

    html: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    title: str = ""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _table(df: pd.DataFrame, *, max_rows: int = 50) -> str:
    if df is None or df.empty:
        return '<p class="muted">Nothing to show.</p>'
    # Written for people (charts.labels); the CSVs beside the report keep the machine names and values.
    shown = for_people(df.head(max_rows))
    more = f'<p class="muted">{len(df) - max_rows} more rows in the CSV.</p>' if len(df) > max_rows else ""
    return '<div class="scroll">' + shown.to_html(index=False, escape=True, na_rep="–") + "</div>" + more


class _Figures:
    """Embeds figures; plotly.js goes inline with the first one only."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: go.Figure, *, full_width: bool = True) -> str:
        fig.update_layout(template="plotly_white")
        out = fig.to_html(
            full_html=False,
            include_plotlyjs="inline" if self.first else False,
            config={"displaylogo": False, "responsive": True},
            default_width="100%" if full_width else None,
        )
        self.first = False
        return '<div class="scroll">' + out + "</div>"


def _card(title: str, value: str, note: str = "", status: str = "none") -> str:
    return (
        f'<div class="card"><span class="muted">{_e(title)}</span><b class="status-{_e(status)}">{_e(value)}</b>'
        f'<span class="muted">{_e(note)}</span></div>'
    )


def _analysis_sections(ctx: AnalysisContext, figure: _Figures) -> tuple[str, dict]:
    """Stage flow Sankey and stage funnel of the context."""
    from analytics.funnel import DEFAULT_WINDOW_DAYS, FunnelSpec
    from charts.flows import stage_flow_figure
    from charts.funnel import funnel_figure
    from services import analysis

    parts, tables = [], {}
    stage_order = ctx.stage_order
    flow = analysis.run("stage_flow", ctx, query=replace(ctx.query, by="stage"))
    tables["stage_flow"] = flow
    parts.append(
        "<h2>Stage flow</h2><p class='muted'>Journeys moving between stages; backward links (loops) apart.</p>"
    )
    parts.append(figure(stage_flow_figure(flow)) if len(flow) else '<p class="muted">No stage flow.</p>')
    # The funnel's steps: the stages in order that some journey reaches (a map's stage no event of
    # this log is at, as when the log is seen through another map, is named, not counted as a drop to 0).
    reached = set(analysis.run("node_volumes", ctx, query=replace(ctx.query, by="stage"))["node"].astype(str))
    steps = tuple(s for s in stage_order if s in reached)
    missing = [s for s in stage_order if s not in reached]
    plural = len(missing) > 1
    unreached = f"No journey of this log reaches the stage{'s' if plural else ''} {', '.join(missing)}"
    if len(steps) >= 2:
        funnel = analysis.run("funnel", ctx, query=replace(ctx.query, by="stage"), spec=FunnelSpec(steps=steps))
        tables["funnel"] = funnel
        left_out = f" {unreached}, so the funnel leaves {'them' if plural else 'it'} out." if missing else ""
        parts.append(
            "<h2>Funnel</h2><p class='muted'>Journeys reaching each stage in order, within "
            f"{DEFAULT_WINDOW_DAYS:g} days of the first (a funnel window, not the all-time conversion).{_e(left_out)}</p>"
        )
        parts.append(figure(funnel_figure(funnel)) + _table(funnel))
    elif len(stage_order) >= 2:
        parts.append(
            f"<h2>Funnel</h2><p class='muted'>No funnel. {_e(unreached)}: fewer than two of the map's stages are "
            "left to count.</p>"
        )
    return "".join(parts), tables


def build_map_report(
    map_id: int,
    *,
    dataset_id: int | None = None,
    measure: str = "friction",
    goals: Sequence[str] = (),
    lost: Sequence[str] = (),
    today: date | None = None,
    engine: Engine | None = None,
) -> MapReport:
    """The report of ``map_id`` (see the module docstring); ``dataset_id`` defaults to the map's
    most recent linked dataset, ``measure`` is the one laid over the grid. Conversion is the
    dataset's definition through the map (``goals`` and ``lost`` override it for this report as
    ``analyze --goal/--lost`` do: :func:`analytics.conversion.for_one_run`), stated in one line at the
    top with the event log it comes from.
    """
    from analytics.map_tables import compute_action_plan
    from services.map_view import get_map_view

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
    # The health cards come from the report's own event log and conversion (as the sections below).
    health = compute_map_health(
        map_id,
        today=today,
        engine=engine,
        dataset_id=dataset_id,
        conversion=ctx.conversion if ctx is not None and ctx.conversion_scope == "override" else None,
    )
    figure = _Figures()
    tables: dict[str, pd.DataFrame] = {}
    body: list[str] = []

    body.append(f"<h1>{_e(view.name)}</h1>")
    meta = [f"Owner: {view.owner or '—'}", f"state: {view.state}"]
    meta.append(f"review by {view.review_by.isoformat()}" if view.review_by else "no review date")
    if view.stale:
        meta.append("STALE: past its review-by date")
    meta.append(f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    body.append(f"<p class='muted'>{_e(' · '.join(meta))}</p>")
    if view.description:
        body.append(f"<p>{_e(view.description)}</p>")

    # Health.
    cards = []
    for title, m, unit in (("Conversion", health.conversion, "%"), ("NPS", health.nps, ""), ("CSAT", health.csat, "%")):
        value = "–" if m.value is None else f"{m.value:.1f}{unit}"
        note = (f"target {m.target:g}{unit}" if m.target is not None else "no target") + (
            f" · {m.period}" if m.period else ""
        )
        if m.by_hand and m.value is not None:
            note += f" · {m.how}"
        # A metric of the map is named as it is (a hand-entered "Win rate" is not the Conversion line above).
        cards.append(_card(m.name if m.source == "metric" and m.name else title, value, note, m.status))
    if health.hot_spot:
        cards.append(_card("Worst hot spot", health.hot_spot, f"friction {health.hot_spot_friction:.0f}", "red"))
    cards.append(_card("Actions", f"{health.open_actions} open", f"{health.overdue_actions} overdue"))
    body.append("<h2>Health</h2><div class='cards'>" + "".join(cards) + "</div>")

    # Grid with overlay, friction, designed vs observed.
    friction = None
    if ctx is not None and dataset_id is not None:
        line = compute_conversion_line(ctx)
        body.insert(
            2,
            f"<p class='conversion'>From the event log {_e(ctx.dataset_name)}: {_e(line.text)} "
            f"({_e(SCOPE_WORDS[line.scope])})</p>",
        )
        foreign = foreign_map_note(dataset_id, map_id, engine=engine)
        if foreign:
            body.insert(3, f"<p class='note'>{_e(foreign)}</p>")
        friction = compute_context_friction(ctx)
        title = measure_phrase(measure)
        credited = None
        if measure in ATTRIBUTION_MEASURES:
            credited = compute_attribution_overlay(ctx)
            title += f" ({credited.conversion.describe()})"
        overlay = compute_overlay(ctx, friction, measure, None if credited is None else credited.frame)
        tables["overlay"] = overlay
        body.append(f"<h2>The map with {_e(title)}</h2>")
        body.append(map_grid_html(view, overlay, overlay_name=MEASURES[measure], background="#ffffff"))
    else:
        body.append(
            "<h2>The map</h2><p class='muted'>No event log is linked to this map: no measure to lay over it.</p>"
        )
        body.append(map_grid_html(view, background="#ffffff"))

    if dataset_id is not None and ctx is not None:
        sections, extra = _analysis_sections(ctx, figure)
        body.append(sections)
        tables.update(extra)

    # Metrics.
    rows = list_metrics(map_id, engine=engine)
    metric_table = compute_metric_table(rows)
    tables["metrics"] = metric_table
    body.append("<h2>Metrics</h2>")
    body.append(
        "<p class='muted'>Green: meets the target; amber: misses it by at most 10 % of the target; red: misses it "
        "by more.</p>"
    )
    body.append(_table(metric_table.drop(columns=["id"])))
    values = []
    for r in rows:
        history = compute_metric_history(r)
        if len(history):
            values.append(history.assign(metric=r.name, scope=r.scope))
            if len(history) > 1:
                body.append(figure(metric_trend_figure(history, name=f"{r.name} ({r.scope})", unit=r.unit)))
    if values:
        tables["metric_values"] = pd.concat(values, ignore_index=True)

    # Friction.
    if friction is not None:
        touchpoints = compute_friction_table(friction)
        stages = compute_friction_table(friction, level="stage")
        hot = compute_hot_spots(friction.touchpoints, top_n=10)
        tables |= {"friction_touchpoints": touchpoints, "friction_stages": stages, "hot_spots": hot}
        body.append("<h2>Friction hot spots</h2>")
        body.append(
            "<p class='muted'>friction = 100 × Σ weight × component score / Σ weight (exit above base, backtrack, "
            "repeat, delay against the stage, negative feedback), from the event log alone.</p>"
        )
        items = "".join(
            f"<li><b>{_e(r.touchpoint)}</b> ({_e(r.stage if isinstance(r.stage, str) else '—')}): friction "
            f"{r.friction:.0f}, {r.journeys:,} journeys. {_e(r.reason)}</li>"
            for r in hot.itertuples(index=False)
        )
        body.append(f"<ol>{items}</ol>")
        body.append(figure(friction_components_figure(friction.touchpoints)))
        body.append(_table(touchpoints))

        dvo = compute_designed_vs_observed(ctx, friction)  # type: ignore[arg-type]
        tables |= {
            "unreached_touchpoints": dvo.unreached_touchpoints,
            "unknown_activities": dvo.unknown_activities,
            "backward_transitions": dvo.backward_transitions,
        }
        body.append("<h2>Designed vs observed</h2>")
        body.append("<h3>Touchpoints no journey reached</h3>" + _table(dvo.unreached_touchpoints))
        body.append("<h3>Activities the map does not know</h3>" + _table(dvo.unknown_activities))
        body.append("<h3>Transitions against the designed stage order</h3>" + _table(dvo.backward_transitions))

    # Action plan.
    actions = compute_action_plan(view, today=today)
    tables["action_plan"] = actions
    body.append("<h2>Action plan</h2>" + _table(actions, max_rows=200))

    title = f"{view.name} · JourneyLens report"
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{REPORT_STYLE}</style></head><body>" + "".join(body) + "</body></html>"
    )
    return MapReport(html=doc, tables=tables, title=title)


def report_csv_zip(report: MapReport) -> bytes:
    """Every table of the report as a CSV (formulas neutralised), in one ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, table in report.tables.items():
            zf.writestr(f"{name}.csv", to_safe_csv(table))
    return buffer.getvalue()


def write_map_report(
    map_id: int,
    out: str | Path,
    *,
    dataset_id: int | None = None,
    csv_dir: str | Path | None = None,
    measure: str = "friction",
    goals: Sequence[str] = (),
    lost: Sequence[str] = (),
    engine: Engine | None = None,
) -> MapReport:
    """Write the HTML report to ``out`` and, with ``csv_dir``, one CSV per table there."""
    report = build_map_report(map_id, dataset_id=dataset_id, measure=measure, goals=goals, lost=lost, engine=engine)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.html, encoding="utf-8")
    if csv_dir is not None:
        directory = Path(csv_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in report.tables.items():
            (directory / f"{name}.csv").write_bytes(to_safe_csv(table))
    return report
