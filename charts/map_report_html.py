"""The self-contained HTML report of one journey map, rendered from its data.

:func:`render_map_report` turns a :class:`core.map_report.MapReportData` (gathered by
``services.map_report``) into a :class:`core.map_report.MapReport`: the map's health, the whole
stage × touchpoint grid (fitted to the page, as on screen) with a measure laid over it, the stage
flow Sankey with its loops, the stage funnel, the metrics with their trends, the friction hot spots,
designed vs observed and the action plan. Plotly figures are embedded with plotly.js inline (once),
so the file opens offline; every user text (names, descriptions, actions, table cells) is HTML-escaped.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from charts.flows import stage_flow_figure
from charts.friction import friction_components_figure
from charts.funnel import funnel_figure
from charts.labels import for_people
from charts.map_grid_html import map_grid_html
from charts.metrics import metric_trend_figure
from core.map_report import MapReport, MapReportData, ReportFlow, ReportFriction

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


def _health(data: MapReportData) -> str:
    health = data.health
    cards = []
    for m in health.measures:
        value = "–" if m.value is None else f"{m.value:.1f}{m.unit}"
        note = (f"target {m.target:g}{m.unit}" if m.target is not None else "no target") + (
            f" · {m.period}" if m.period else ""
        )
        if m.how:
            note += f" · {m.how}"
        cards.append(_card(m.title, value, note, m.status))
    if health.hot_spot:
        cards.append(_card("Worst hot spot", health.hot_spot, f"friction {health.hot_spot_friction:.0f}", "red"))
    cards.append(_card("Actions", f"{health.open_actions} open", f"{health.overdue_actions} overdue"))
    return "<h2>Health</h2><div class='cards'>" + "".join(cards) + "</div>"


def _flow(flow: ReportFlow, figure: _Figures) -> str:
    """Stage flow Sankey and stage funnel."""
    parts = [
        "<h2>Stage flow</h2><p class='muted'>Journeys moving between stages; backward links (loops) apart.</p>",
        figure(stage_flow_figure(flow.stage_flow)) if len(flow.stage_flow) else '<p class="muted">No stage flow.</p>',
    ]
    missing = flow.unreached_stages
    plural = len(missing) > 1
    unreached = f"No journey of this log reaches the stage{'s' if plural else ''} {', '.join(missing)}"
    if flow.funnel is not None:
        left_out = f" {unreached}, so the funnel leaves {'them' if plural else 'it'} out." if missing else ""
        parts.append(
            "<h2>Funnel</h2><p class='muted'>Journeys reaching each stage in order, within "
            f"{flow.window_days:g} days of the first (a funnel window, not the all-time conversion).{_e(left_out)}</p>"
        )
        parts.append(figure(funnel_figure(flow.funnel)) + _table(flow.funnel))
    elif flow.stage_count >= 2:
        parts.append(
            f"<h2>Funnel</h2><p class='muted'>No funnel. {_e(unreached)}: fewer than two of the map's stages are "
            "left to count.</p>"
        )
    return "".join(parts)


def _friction(friction: ReportFriction, figure: _Figures) -> str:
    """Friction hot spots, then designed vs observed."""
    items = "".join(
        f"<li><b>{_e(r.touchpoint)}</b> ({_e(r.stage if isinstance(r.stage, str) else '—')}): friction "
        f"{r.friction:.0f}, {r.journeys:,} journeys. {_e(r.reason)}</li>"
        for r in friction.hot_spots.itertuples(index=False)
    )
    return "".join(
        (
            "<h2>Friction hot spots</h2>",
            "<p class='muted'>friction = 100 × Σ weight × component score / Σ weight (exit above base, backtrack, "
            "repeat, delay against the stage, negative feedback), from the event log alone.</p>",
            f"<ol>{items}</ol>",
            figure(friction_components_figure(friction.components)),
            _table(friction.touchpoints),
            "<h2>Designed vs observed</h2>",
            "<h3>Touchpoints no journey reached</h3>" + _table(friction.unreached_touchpoints),
            "<h3>Activities the map does not know</h3>" + _table(friction.unknown_activities),
            "<h3>Transitions against the designed stage order</h3>" + _table(friction.backward_transitions),
        )
    )


def render_map_report(data: MapReportData) -> MapReport:
    """The report's HTML (see the module docstring) beside the tables of ``data``."""
    view = data.view
    figure = _Figures()  # called in the order the figures appear: plotly.js goes with the first
    body: list[str] = [f"<h1>{_e(view.name)}</h1>"]
    meta = [f"Owner: {view.owner or '—'}", f"state: {view.state}"]
    meta.append(f"review by {view.review_by.isoformat()}" if view.review_by else "no review date")
    if view.stale:
        meta.append("STALE: past its review-by date")
    meta.append(f"generated {data.generated_at:%Y-%m-%d %H:%M} UTC")
    body.append(f"<p class='muted'>{_e(' · '.join(meta))}</p>")
    if data.conversion is not None:
        c = data.conversion
        body.append(
            f"<p class='conversion'>From the event log {_e(c.dataset_name)}: {_e(c.line)}"
            + (f" ({_e(c.scope_words)})" if c.scope_words else "")
            + "</p>"
        )
        if c.foreign_note:
            body.append(f"<p class='note'>{_e(c.foreign_note)}</p>")
    if view.description:
        body.append(f"<p>{_e(view.description)}</p>")

    body.append(_health(data))

    if data.overlay is not None:
        body.append(f"<h2>The map with {_e(data.overlay.title)}</h2>")
        body.append(map_grid_html(view, data.overlay.table, overlay_name=data.overlay.name, background="#ffffff"))
    else:
        body.append(
            "<h2>The map</h2><p class='muted'>No event log is linked to this map: no measure to lay over it.</p>"
        )
        body.append(map_grid_html(view, background="#ffffff"))
    if data.flow is not None:
        body.append(_flow(data.flow, figure))

    body.append("<h2>Metrics</h2>")
    body.append(
        "<p class='muted'>Green: meets the target; amber: misses it by at most 10 % of the target; red: misses it "
        "by more.</p>"
    )
    body.append(_table(data.metrics.drop(columns=["id"])))
    for t in data.trends:
        if len(t.history) > 1:
            body.append(figure(metric_trend_figure(t.history, name=f"{t.name} ({t.scope})", unit=t.unit)))

    if data.friction is not None:
        body.append(_friction(data.friction, figure))

    body.append("<h2>Action plan</h2>" + _table(data.action_plan, max_rows=200))

    title = f"{view.name} · JourneyLens report"
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{REPORT_STYLE}</style></head><body>" + "".join(body) + "</body></html>"
    )
    return MapReport(html=doc, tables=data.tables, title=title)
