"""Attribution: conversions credited to touchpoints and channels by five models, side by side."""

from __future__ import annotations

import streamlit as st

from analytics.attribution import MODEL_FORMULAS, MODEL_LABELS, compute_credit_bars
from charts.attribution import attribution_figure, removal_effect_figure
from components.attribution import (
    formula_list,
    goal_select,
    load_attribution,
    load_goal_options,
    load_has_channel,
    lost_select,
    select_id,
)
from components.bootstrap import bootstrap
from components.errors import user_errors
from components.loaders import load_dataset_summaries, load_map_summaries
from components.text import escape_markdown
from services.attribution import compute_top_transitions
from services.csv_safety import to_safe_csv

bootstrap("Attribution")
st.title("Attribution")
st.caption(
    "Which touchpoints earn the conversions? Five models credit every conversion to the touchpoints "
    "(or channels) before it; compare them side by side."
)

datasets = load_dataset_summaries()
if not datasets:
    st.info("No event logs yet. Open **Data** to upload a CSV export, then come back to credit its conversions.")
    st.stop()

with user_errors():
    c1, c2, c3 = st.columns([2, 2, 2])
    with c1:
        dataset_id = select_id("Event log", [(d["id"], d["name"]) for d in datasets], param="dataset")
    dataset = next(d for d in datasets if d["id"] == dataset_id)
    maps = load_map_summaries()
    with c2:
        map_id = select_id(
            "Journey map",
            [(None, "The event log's own link (if any)"), *((m["id"], m["name"]) for m in maps)],
            param="map",
            default=dataset.get("map_id"),
            help="Through a map, activities count as the touchpoints they are linked to, and a goal can be a "
            "touchpoint or a stage of the map.",
        )
    with c3:
        level = st.segmented_control(
            "Journey of a",
            ["contact", "account"],
            default="contact",
            key="level",
            bind="query-params",
            required=True,
        )
    options = load_goal_options(dataset_id, map_id, level)
    if not options.names:
        st.info("This event log has no touchpoints to credit.")
        st.stop()
    c4, c5, c6 = st.columns([2, 2, 2])
    with c4:
        goal = goal_select(
            options,
            label="Goal (a conversion)",
            help="A journey converts when it reaches this touchpoint (or stage); the steps before it share the credit.",
        )
    with c5:
        lost = lost_select(
            options,
            goal,
            label="Lost touchpoints (optional)",
            help="A journey that has not converted ends at the first of these (declined, cancelled…).",
        )
    with c6:
        credit_options = ["touchpoint"] + (["stage"] if options.stages else [])
        credit_options += ["channel"] if load_has_channel(dataset_id) else []
        by = st.segmented_control(
            "Credit each",
            credit_options,
            default="touchpoint",
            key="by",
            bind="query-params",
            required=True,
            help="Channels and stages appear when the event log (or its map) has them.",
        )
        collapse = st.toggle(
            "Collapse consecutive repeats",
            value=True,
            key="repeats",
            bind="query-params",
            help="A run of the same touchpoint counts as one visit.",
        )

    result = load_attribution(dataset_id, goal, by, level, map_id, collapse, tuple(lost))
    by = result.by

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Journeys", f"{result.journeys:,}")
    m2.metric("Conversions credited", f"{result.conversions:,}")
    m3.metric(
        "Conversion probability",
        f"{result.conversion_probability:.1%}",
        help="Probability that a journey, from its start, is absorbed in the goal (Markov chain).",
    )
    m4.metric(
        "Not credited",
        f"{result.uncredited_conversions:,}",
        help="Journeys whose very first step is the goal: no touchpoint came before it.",
    )
    if result.conversions == 0:
        st.warning(f"No journey reaches **{escape_markdown(goal)}** after a touchpoint: nothing to credit.")
        st.stop()

    left, right = st.columns([3, 2])
    with left:
        st.subheader(f"Conversions credited per {by}")
        bars = compute_credit_bars(result.table, by)
        st.plotly_chart(attribution_figure(bars, by), key="credits_chart")
    with right:
        st.subheader("Removal effect")
        st.caption("Share of the conversion probability lost if the journey could not pass through it.")
        st.plotly_chart(removal_effect_figure(result.table, by), key="removal_chart")

    st.subheader("The models")
    formula_list(MODEL_FORMULAS, MODEL_LABELS)
    st.dataframe(
        result.table,
        hide_index=True,
        column_config={
            by: st.column_config.TextColumn(by.capitalize()),
            "first_touch": st.column_config.NumberColumn("First touch", format="%.1f"),
            "last_touch": st.column_config.NumberColumn("Last touch", format="%.1f"),
            "linear": st.column_config.NumberColumn("Linear", format="%.1f"),
            "position_based": st.column_config.NumberColumn("Position-based", format="%.1f"),
            "removal_effect": st.column_config.ProgressColumn(
                "Removal effect", format="percent", min_value=0.0, max_value=1.0
            ),
            "markov": st.column_config.NumberColumn("Markov", format="%.1f"),
            "journeys": st.column_config.NumberColumn("Journeys through it", format="%d"),
        },
    )
    st.download_button(
        "Download the table (CSV)",
        to_safe_csv(result.table),
        file_name=f"attribution_{by}_{dataset_id}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    with st.expander("Markov chain transitions"):
        st.caption(
            f"Counted moves between states: (start), each {by}, (conversion) and (null); the "
            f"{min(200, len(result.transitions))} most frequent of {len(result.transitions):,} shown, all in the download."
        )
        st.dataframe(compute_top_transitions(result), hide_index=True)
        st.download_button(
            "Download the transitions (CSV)",
            to_safe_csv(result.transitions),
            file_name=f"attribution_transitions_{dataset_id}.csv",
            mime="text/csv",
        )
