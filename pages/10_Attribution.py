"""Attribution: conversions credited to touchpoints and channels by five models, side by side."""

from __future__ import annotations

import streamlit as st

from charts.attribution import REMOVAL_BARS, attribution_figure, credit_bars_note, removal_effect_figure
from charts.labels import cut_note, for_people
from components.analysis_controls import open_log_page, open_view, render_conversion_line
from components.attribution import render_model_formulas
from components.errors import user_errors
from components.url_select import query_choice, query_toggle
from services.analysis import list_levels
from services.attribution import compute_top_transitions
from services.csv_safety import to_safe_csv

dataset_id, token, map_id, level = open_log_page(
    "Attribution",
    "Attribution",
    (
        "Which touchpoints earn the conversions? Five models credit every conversion to the touchpoints "
        "(or channels) before it; compare them side by side."
    ),
)

with user_errors():
    c3, c4 = st.columns([2, 2])
    with c4:
        collapse = query_toggle(
            st,
            "Collapse consecutive repeats",
            value=True,
            key="repeats",
            help="A run of the same touchpoint counts as one visit.",
        )
    view = open_view(dataset_id, token, map_id, level=level, collapse_repeats=collapse)
    if view is None:
        st.stop()
    with c3:
        by = query_choice(
            st,
            "Credit each",
            list_levels(view.ctx),
            default="touchpoint",
            key="by",
            help="Channels and stages appear when the event log (or its map) has them.",
        )
    render_conversion_line(view)
    if not view.ctx.conversion.defined:
        st.stop()

    result = view.run("attribution", by=by or "touchpoint")
    by = result.by

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Journeys", f"{result.journeys:,}")
    m2.metric("Conversions credited", f"{result.conversions:,}")
    m3.metric(
        "Conversion probability",
        f"{result.conversion_probability:.1%}",
        help="Probability that a journey, from its start, converts (Markov chain).",
    )
    m4.metric(
        "Not credited",
        f"{result.uncredited_conversions:,}",
        help="Converting journeys with no touchpoint before their conversion (their first step is the goal).",
    )
    if result.conversions == 0:
        st.warning("No journey converts after a touchpoint: nothing to credit.")
        st.stop()

    left, right = st.columns([3, 2])
    with left:
        st.subheader(f"Conversions credited per {by}")
        st.plotly_chart(attribution_figure(result.table, by), key="credits_chart")
        if note := credit_bars_note(result.table, by):
            st.caption(note)
    with right:
        st.subheader("Removal effect")
        st.caption("Share of the conversion probability lost if the journey could not pass through it.")
        st.plotly_chart(removal_effect_figure(result.table, by), key="removal_chart")
        losing = int((result.table["removal_effect"] > 0).sum())
        if note := cut_note(
            REMOVAL_BARS, losing, f"{by}s whose removal loses the most", "the table below has every one"
        ):
            st.caption(note)

    st.subheader("The models")
    render_model_formulas()
    st.dataframe(
        for_people(
            result.table,
            labels={"position_based": "Position-based", "journeys": "Journeys through it"},
            kinds={"removal_effect": "fraction"},
        ),
        hide_index=True,
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
        st.dataframe(for_people(compute_top_transitions(result)), hide_index=True)
        st.download_button(
            "Download the transitions (CSV)",
            to_safe_csv(result.transitions),
            file_name=f"attribution_transitions_{dataset_id}.csv",
            mime="text/csv",
        )
