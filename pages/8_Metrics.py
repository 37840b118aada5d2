"""Metrics: success metrics of a map against their targets, over time; outcomes of stages."""

from __future__ import annotations

import streamlit as st

from components.access import editing_allowed
from components.analysis_controls import INVALID, open_view, pick_map, render_conversion_line
from components.bootstrap import bootstrap
from components.loaders import dataset_token, load_dataset_summaries, load_map_summaries, load_metrics
from components.metrics_ui import render_report_buttons
from components.scorecard import (
    render_add_metric,
    render_metric_card,
    render_metric_trend,
    render_metric_values,
    render_outcomes,
)
from components.text import escape_markdown
from components.url_select import query_tabs, say_unused
from services import metrics as metric_service
from services.csv_safety import to_safe_csv
from services.datasets import newest_linked

bootstrap("Metrics")
st.title("Metrics")
st.caption(
    "NPS, CSAT, CES, FCR, retention, CLV, conversion and your own metrics, bound to the map, a stage or a "
    "touchpoint, with a target and a direction. Green: meets the target; amber: misses it by at most 10 % "
    "of the target; red: misses it by more."
)

if not load_map_summaries():
    st.info("No journey maps yet. Open **Maps** to create one.")
    st.stop()
map_id = pick_map(required=True)
if isinstance(map_id, type(INVALID)) or map_id is None:
    st.stop()
datasets = load_dataset_summaries()
dataset_names = {d["id"]: d["name"] for d in datasets}
linked = [d["id"] for d in datasets if d["map_id"] == map_id]
# The newest linked log gives the conversion line and the outcomes, as on the Overview and in the report.
newest = newest_linked((d["id"], d["name"], d["map_id"], d["created_at"]) for d in datasets).get(map_id)

# The page reads the map's newest linked log: a link naming another is said to be unused, never followed silently.
asked = st.query_params.get_all("dataset")
if asked and (newest is None or asked != [str(newest[0])]):
    say_unused(
        "dataset",
        f"this page reads the newest event log linked to the map ({newest[1]}, dataset {newest[0]}); open the "
        "analysis pages for another log"
        if newest
        else "no event log is linked to this map (link one on the Data page)",
    )

rows = load_metrics(map_id)
# The conversion rate is computed from the linked event log's conversion definition, stated here once.
linked_view = None
if newest is not None:
    token = dataset_token(newest[0])
    linked_view = open_view(newest[0], token, map_id) if token else None
    if linked_view is not None:
        others = f" (the newest of the {len(linked)} linked to this map)" if len(linked) > 1 else ""
        st.caption(f"From the event log {escape_markdown(newest[1])}{others}")
        render_conversion_line(linked_view)

render_report_buttons(map_id)

editor = editing_allowed("add metrics or enter values")  # viewers: no editing tabs
tabs = query_tabs(
    ["Scorecard", "Trends", *(["Add a metric", "Enter or compute values"] if editor else []), "Outcomes"], key="tab"
)
tab_cards, tab_trend, tab_outcomes = tabs[0], tabs[1], tabs[-1]

with tab_cards:
    if not rows:
        st.info(
            "This map has no metrics yet: add one in **Add a metric**."
            if editor
            else "This map has no metrics yet: an editor of this map can add them."
        )
    cols = st.columns(3)
    for i, r in enumerate(rows):
        with cols[i % 3].container(border=True):
            render_metric_card(r, editor=editor)
    if rows:
        table = metric_service.compute_metric_table(rows)
        st.download_button("Download CSV", to_safe_csv(table), "metrics.csv", "text/csv")

with tab_trend:
    if not rows:
        st.info("No metrics yet: add one in **Add a metric**." if editor else "No metrics yet.")
    else:
        render_metric_trend(rows)

if editor:
    with tabs[2]:
        render_add_metric(map_id, linked, dataset_names, rows)
    with tabs[3]:
        if not rows:
            st.info("No metrics yet: add one in **Add a metric**." if editor else "No metrics yet.")
        else:
            render_metric_values(map_id, rows)

with tab_outcomes:
    render_outcomes(map_id, linked_view)
