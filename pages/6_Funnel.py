"""Funnel: how many journeys go through chosen steps, in order, within a conversion window."""

from __future__ import annotations

import streamlit as st

from analytics.funnel import FunnelSpec, parse_step_windows
from charts.funnel import funnel_breakdown_figure, funnel_figure, step_times_figure
from components import analysis_loaders as L
from components.analysis_controls import clear_node_filter_button, render_analysis_controls
from components.bootstrap import bootstrap
from components.data_table import render_data_table
from components.errors import user_errors
from components.text import escape_markdown
from services.analysis import list_breakdown_columns

MODES = {
    "ordered": "in order, anything in between",
    "strict": "in order, no other funnel step in between",
    "immediate": "each step right after the previous one",
    "any": "in any order",
}

bootstrap("Funnel")
st.title("Funnel")
st.caption("Journeys that reach each step in turn, within a conversion window counted from the first step.")

with user_errors():
    view = render_analysis_controls()
    if view is not None:
        clear_node_filter_button(view)
        nodes = L.load_nodes(view.token, view.ctx)
        # At stage level, the stages in order (the map's, else first appearance); else none.
        default_steps = view.run("stage_order")[:6] if view.query.by == "stage" else []
        steps = st.multiselect(
            "Funnel steps, in order",
            nodes,
            default=[s for s in default_steps if s in nodes],
            key="steps",
            bind="query-params",
            help="Pick the steps in the order journeys should take them.",
        )
        c1, c2, c3 = st.columns([2, 1, 1])
        mode = c1.segmented_control(
            "Order",
            list(MODES),
            default="ordered",
            required=True,
            key="mode",
            bind="query-params",
            help="; ".join(f"{k}: {v}" for k, v in MODES.items()),
        )
        window = c2.number_input(
            "Window (days)", 1, 3650, 90, key="window", bind="query-params", help="From the first step."
        )
        windows_text = c3.text_input(
            "Per-step windows (days)",
            key="step_windows",
            bind="query-params",
            placeholder="e.g. 7,,30",
            help="Days allowed from each step to the next, comma-separated; empty for no limit.",
        )
        c1, c2, c3 = st.columns([2, 1, 1])
        exclusions = c1.multiselect(
            "Exclusion steps",
            [n for n in nodes if n not in steps],
            key="exclude",
            bind="query-params",
            help="Journeys doing one of these between their first and last step (or inside the window) leave the funnel.",
        )
        breakdown = c2.selectbox(
            "Breakdown",
            list_breakdown_columns(view.ctx),
            index=None,
            key="breakdown",
            bind="query-params",
            placeholder="None",
        )
        attribution = c3.segmented_control(
            "Breakdown value from",
            ["first", "last"],
            default="first",
            required=True,
            key="attribution",
            bind="query-params",
            help="first: the value at step 1; last: at the last step reached.",
        )
        if len(steps) < 2:
            st.info("Pick at least two steps to draw a funnel.", icon=":material/filter_alt:")
        else:
            spec = FunnelSpec(
                steps=tuple(steps),
                mode=mode or "ordered",
                window_days=float(window),
                step_windows_days=parse_step_windows(windows_text, len(steps)),
                exclusions=tuple(exclusions),
                breakdown=breakdown,
                attribution=attribution or "first",
            )
            funnel = view.run("funnel", spec=spec)
            first, last = int(funnel["journeys"].iloc[0]), int(funnel["journeys"].iloc[-1])
            st.markdown(
                f"**{last:,} of {first:,} journeys** that reach *{escape_markdown(steps[0])}* go on to "
                f"*{escape_markdown(steps[-1])}* within **{float(window):g} days** of it ({MODES[spec.mode]}): "
                "a funnel window, not the all-time conversion of the line above."
            )
            st.plotly_chart(funnel_figure(funnel), key="funnel")
            render_data_table(funnel, file_name="funnel.csv", key="funnel")

            st.subheader("Time between steps")
            st.plotly_chart(step_times_figure(funnel), key="step_times")

            if breakdown:
                st.subheader(f"By {breakdown}")
                per = view.run("funnel_breakdown", spec=spec)
                st.plotly_chart(funnel_breakdown_figure(per), key="funnel_breakdown")
                render_data_table(per, file_name=f"funnel_by_{breakdown}.csv", key="funnel_breakdown")

            st.subheader("Journeys that dropped")
            dropped = view.run("dropped_journeys", spec=spec)
            st.caption(f"{len(dropped):,} journeys entered the funnel and did not complete it.")
            render_data_table(dropped, file_name="dropped_journeys.csv", key="dropped", max_rows=200)
