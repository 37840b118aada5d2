"""Overlay: a measure laid over the stage × touchpoint grid, and designed vs observed."""

from __future__ import annotations

import streamlit as st

from charts.labels import for_people
from components.analysis_controls import (
    DATASET_PICKER,
    INVALID,
    logs_linked_first,
    open_view,
    pick_dataset,
    pick_map,
    render_conversion_line,
    say_filters_unused,
    say_foreign_map,
)
from components.bootstrap import bootstrap
from components.data_table import render_data_table
from components.errors import user_errors
from components.loaders import (
    cached_map_view,
    load_designed_vs_observed,
    load_map_summaries,
    load_overlay,
)
from components.map_grid_view import render_map_grid
from components.metrics_ui import page_exists, render_report_buttons
from components.text import escape_markdown
from components.url_select import link_value, query_select, query_tabs
from services.csv_safety import to_safe_csv
from services.overlay import ATTRIBUTION_MEASURES, MEASURES, measure_phrase

bootstrap("Overlay")
st.title("Map overlay")
st.caption(
    "The journey map held against what really happened: pick a measure to see it as a heat map over the "
    "touchpoints, with targets where the map has them; below, where the data departs from the design."
)

if not load_map_summaries():
    st.info("No journey maps yet. Open **Maps** to create one.")
    st.stop()
c1, c2 = st.columns(2)
linked_map = link_value("map")  # the map of the link, before the picker writes its choice there
with c1:
    map_id = pick_map(required=True)
if isinstance(map_id, type(INVALID)) or map_id is None:
    st.stop()
ids, note = logs_linked_first(map_id)
own = [i for i in ids if note(i) == ""]  # the logs linked to this map
shown = link_value("dataset")
switched = (
    linked_map in {str(m["id"]) for m in load_map_summaries()}  # a real map before (not a refused link's)
    and linked_map != str(map_id)
    and bool(own)  # a map with no log of its own keeps the log shown
    and shown not in {str(i) for i in own}  # already one of its own: nothing to change
)
if switched:
    # The user picked another map: the log follows, the one a fresh link to that map opens (its own
    # first; the old map's log would show "no data" almost everywhere). A log picked after this is
    # kept. Set through the widget's state, so the browser shows it too.
    st.query_params["dataset"] = str(ids[0])
    st.session_state[DATASET_PICKER] = ids[0]
with c2:
    picked = pick_dataset(ids=ids, note=note)
    if switched and picked is not None:
        st.caption(escape_markdown(f"The map changed: the event log is now “{picked[2]}”, the one linked to this map."))
measure = query_select("Measure", list(MEASURES), param="measure", format_func=MEASURES.get, widget="radio")

with user_errors():
    view = cached_map_view(map_id)
    if picked is None and ids:  # logs exist, none chosen (the link's is refused above): nothing else is shown
        st.stop()
    if picked is None:
        st.caption("The map without a measure, until an event log is imported (see above).")
        render_map_grid(view, key="grid_plain", zoom_param="zoom")
        render_report_buttons(map_id, version=view.version, key="overlay_report")
        st.stop()
    dataset_id, token, _name = picked
    say_filters_unused()
    say_foreign_map(dataset_id, map_id)
    analysis_view = open_view(dataset_id, token, map_id)
    if analysis_view is None:
        st.stop()
    render_conversion_line(analysis_view)
    token, ctx = analysis_view.token, analysis_view.ctx
    if measure in ATTRIBUTION_MEASURES:
        if not ctx.conversion.defined:
            st.info("The attribution measures credit conversions: define conversion on the line above.")
            st.stop()
        st.caption(
            "Conversions credited by the Markov model over contact journeys, consecutive repeats collapsed. The "
            "five models side by side, with their formulas, are on the **Attribution** page."
        )
        if page_exists("pages/10_Attribution.py"):
            st.page_link(
                "pages/10_Attribution.py",
                label="Open the Attribution page on this dataset",
                query_params={"dataset": str(dataset_id), "map": str(map_id)},
            )
    overlay = load_overlay(token, ctx, measure)
    ranked = overlay.dropna(subset=["value"]).sort_values("value", ascending=False).head(3)
    if len(ranked):
        st.markdown(
            f"Highest {escape_markdown(measure_phrase(measure))}: "
            + ", ".join(
                f"**{escape_markdown(r.touchpoint)}** ({escape_markdown(r.label)})" for r in ranked.itertuples()
            )
        )
    render_map_grid(view, overlay, key="overlay_grid", overlay_name=MEASURES[measure], zoom_param="zoom")
    render_report_buttons(map_id, dataset_id=dataset_id, measure=measure, version=view.version, key="overlay_report")
    with st.expander("Overlay data", expanded=False):
        st.dataframe(
            for_people(overlay.drop(columns=["touchpoint_id", "value"]), labels={"label": MEASURES[measure]}),
            hide_index=True,
            width="stretch",
        )
        st.download_button("Download CSV", to_safe_csv(overlay), f"overlay_{measure}.csv", "text/csv")

    st.subheader("Designed vs observed")
    dvo = load_designed_vs_observed(token, ctx)
    a, b, c = st.columns(3)
    a.metric("Touchpoints no journey reached", f"{len(dvo.unreached_touchpoints):,}")
    b.metric("Activities the map does not know", f"{len(dvo.unknown_activities):,}")
    c.metric("Transitions against the stage order", f"{int(dvo.backward_transitions['transitions'].sum()):,}")
    t1, t2, t3 = query_tabs(["Not reached", "Unknown activities", "Against the designed order"], key="view")
    with t1:
        render_data_table(
            dvo.unreached_touchpoints, file_name="unreached_touchpoints.csv", key="unreached", max_rows=200
        )
    with t2:
        st.caption("Activities in the log that no touchpoint of the map claims: link them on the **Data** page.")
        render_data_table(dvo.unknown_activities, file_name="unknown_activities.csv", key="unknown", max_rows=200)
    with t3:
        st.caption("Moves from a touchpoint to the journey's next event in an earlier stage of the map.")
        render_data_table(dvo.backward_transitions, file_name="backward_transitions.csv", key="dl_bt", max_rows=200)
