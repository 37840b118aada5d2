"""JourneyLens entry point and Overview: the managers' page.

Every map with its health (conversion and NPS against target, worst friction hot spot, open and
overdue actions, stale badge), a portfolio heat map, trends since the previous period, and links
into each map (its studio, friction and metrics pages, each opened on that map with ``?map=<id>``).
The URL keeps the view: ``?trend=<kind>`` picks the metric of the trends chart.
"""

# ruff: noqa: E402 - the imports follow pause_gc() on purpose
from __future__ import annotations

from core.start_up import pause_gc

pause_gc()  # until the bootstrap: the first run imports everything (core.start_up)

import pandas as pd
import streamlit as st

from charts.labels import for_people
from charts.overview import portfolio_heatmap_figure, trends_figure
from components.badges import STATUS_BADGE
from components.bootstrap import bootstrap, demo_logs_pending, finish_first_start
from components.errors import user_errors
from components.loaders import load_dataset_summaries, load_map_summaries, load_portfolio, load_trends
from components.metrics_ui import page_exists, render_report_buttons
from components.safe_table import csv_download_button
from components.text import escape_markdown
from components.url_select import query_select
from services.csv_safety import to_safe_csv
from services.metrics import DEFAULT_NAMES
from services.overview import compute_portfolio_heatmap, compute_portfolio_table, heatmap_legend


def _measure_line(kind: str, m, log: float | None = None) -> str:  # noqa: ANN001 - services.overview.MeasureHealth
    """One measure of a map's card; ``log``: the linked log's conversion in %, said beside a hand-entered one
    (as the heat map does) so the two figures are never far apart unsaid."""
    if m.value is None:
        return f"{DEFAULT_NAMES[kind]}: no data"
    unit = "%" if kind in ("conversion", "csat") else ""
    label = escape_markdown(m.name) if m.name else DEFAULT_NAMES[kind]
    text = f"{label} **{m.value:.1f}{unit}**"
    if m.target is not None:
        text += f" vs target {m.target:.0f}{unit} {STATUS_BADGE.get(m.status, '')}"
    if m.change is not None:
        arrow = "▲" if m.change > 0 else ("▼" if m.change < 0 else "▶")
        text += f" {arrow} {m.change:+.1f} since {escape_markdown(m.previous_period)}"
    elif m.source == "dataset":
        text += " (whole log)"
    if m.by_hand:
        # The log's figure is its Conversion line: converted of every journey, over the whole log; a hand
        # entry may count otherwise (won of closed deals, one quarter), so the base is said with it.
        text += f" · {m.how}" + (
            f" (the log: {log:.1f}{unit} of all its journeys, whole log)" if log is not None else ""
        )
    return text


bootstrap("Overview", wait_for_demo=False)
st.title("Overview")
st.caption("Every journey map and event log in this workspace, with its health at a glance.")
importing_demo = demo_logs_pending()  # a first start: the demo's maps are in, its event logs coming
if importing_demo:
    st.info(
        "Importing the demo's event logs: each map's health follows in a few seconds.", icon=":material/hourglass_top:"
    )

maps = load_map_summaries()
if not maps:
    st.info("No journey maps yet. Open **Maps** to create one from a template, or run `python cli.py demo`.")
else:
    portfolio = []
    if not importing_demo:
        with user_errors():
            portfolio = load_portfolio()
    health = {h.map_id: h for h in portfolio}
    stale = sum(m["stale"] for m in maps)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Journey maps", len(maps))
    # While the demo's logs import, health and datasets are not known yet: "—", not a misleading 0.
    off_target = "—" if importing_demo else sum(h.health == "red" for h in health.values())
    c2.metric("Off target", off_target, help="Maps with a metric in red")
    c3.metric("Stale maps", stale, help="Maps past their review-by date")
    c4.metric("Datasets", "—" if importing_demo else len(load_dataset_summaries()))

    st.subheader("Journey maps")
    cols = st.columns(3)
    for i, m in enumerate(maps):
        h = health.get(m["id"])
        with cols[i % 3].container(border=True):
            badges = ("  :orange-badge[stale]" if m["stale"] else "") + (
                f"  {STATUS_BADGE[h.health]}" if h is not None and h.health != "none" else ""
            )
            st.markdown(f"**{escape_markdown(m['name'])}**" + badges)
            st.caption(
                f"Owner: {escape_markdown(m['owner'] or '—')} · {m['stages']} stages · {m['touchpoints']} touchpoints"
                f" · updated {m['updated_at']:%Y-%m-%d}"
            )
            if h is not None:
                if h.dataset_error:
                    st.error(escape_markdown(h.dataset_error), icon=":material/broken_image:")
                if h.dataset_name:  # the numbers below come from this log (the map's newest linked one)
                    st.caption(f"From the event log {escape_markdown(h.dataset_name)}")
                if h.conversion_line:
                    st.caption(escape_markdown(h.conversion_line))
                # The three measures the health badge is the worst of: its cause is always on the card.
                st.markdown(
                    _measure_line("conversion", h.conversion, h.log_conversion)
                    + "  \n"
                    + _measure_line("nps", h.nps)
                    + "  \n"
                    + _measure_line("csat", h.csat)
                )
                if h.hot_spot:
                    st.markdown(
                        f"Worst hot spot: **{escape_markdown(h.hot_spot)}**"
                        + (f" ({escape_markdown(h.hot_spot_stage)})" if h.hot_spot_stage else "")
                        + f", friction {h.hot_spot_friction:.0f}"
                    )
                elif h.dataset_id is None:
                    st.caption("No event log linked: link one on the Data page to see its friction.")
                elif not h.dataset_error:
                    st.caption("No hot spot yet: no touchpoint is passed by enough journeys to tell.")
                st.markdown(
                    f"Actions: {h.open_actions} open"
                    + (f", :red[{h.overdue_actions} overdue]" if h.overdue_actions else ", none overdue")
                )
            with st.container(horizontal=True):
                if page_exists("pages/2_Map_studio.py"):
                    st.page_link("pages/2_Map_studio.py", label="Open map", query_params={"map": m["id"]})
                st.page_link("pages/12_Overlay.py", label="On the map", query_params={"map": m["id"]})
                st.page_link("pages/9_Friction.py", label="Friction", query_params={"map": m["id"]})
                st.page_link("pages/8_Metrics.py", label="Metrics", query_params={"map": m["id"]})
                render_report_buttons(int(m["id"]), key=f"card_report_{int(m['id'])}", compact=True)

    if health:
        st.subheader("Portfolio heat map")
        st.caption(heatmap_legend())
        heat = compute_portfolio_heatmap(portfolio)
        st.plotly_chart(portfolio_heatmap_figure(heat), width="stretch", key="portfolio_heat")
        table = compute_portfolio_table(portfolio)
        with st.expander("Portfolio table"):
            st.dataframe(for_people(table), hide_index=True, width="stretch")
        st.download_button("Download portfolio CSV", to_safe_csv(table), "portfolio.csv", "text/csv")

        trends = load_trends(tuple(health))
        st.subheader("Trends")
        if trends.empty:
            st.info("No metric has values over time yet: add metrics on the **Metrics** page.")
        else:
            kinds = list(dict.fromkeys(trends["kind"]))
            kind = query_select(
                "Metric", kinds, param="trend", widget="radio", format_func=lambda k: DEFAULT_NAMES.get(k, k)
            )
            st.plotly_chart(trends_figure(trends[trends["kind"] == kind]), width="stretch", key="trends")
            csv_download_button(
                trends[trends["kind"] == kind], file_name=f"trends_{kind}.csv", label="Download the chart's data"
            )

st.subheader("Event logs")
datasets = load_dataset_summaries()
if not datasets and not importing_demo:
    st.info("No event logs yet. Open **Data** to upload a CSV export.")
elif datasets:
    st.dataframe(for_people(datasets), hide_index=True, width="stretch")
    csv_download_button(pd.DataFrame(datasets), file_name="event_logs.csv", key="event_logs_csv")
else:
    st.caption("The demo's event logs are being imported; they are listed here once they are in.")

finish_first_start(importing_demo)
