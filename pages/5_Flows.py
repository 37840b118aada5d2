"""Flows: where journeys go step by step, how they move between stages (and back), the transition graph."""

from __future__ import annotations

import streamlit as st

from charts.flows import stage_flow_figure, step_sankey_figure
from components import loaders as L
from components.analysis_controls import (
    apply_node_click,
    clear_node_filter_button,
    no_transitions_reason,
    render_analysis_controls,
)
from components.bootstrap import bootstrap
from components.data_table import render_data_table
from components.errors import user_errors
from components.graph import render_transition_graph
from components.theme import is_dark
from components.url_select import query_choice, query_number, warn_link_values_left_out

bootstrap("Flows")
st.title("Flows")
st.caption("Where journeys go, step by step: true counts of journeys, never estimates.")

with user_errors():
    view = render_analysis_controls()
    if view is not None:
        clear_node_filter_button(view)
        summary = view.run("summary").iloc[0]
        c1, c2, c3 = st.columns(3)
        c1.metric("Journeys", f"{int(summary['journeys']):,}")
        c2.metric("Events", f"{int(summary['events']):,}")
        c3.metric("Accounts", f"{int(summary['accounts']):,}")

        st.subheader("Step by step")
        nodes = L.load_nodes(view.token, view.ctx.unfiltered())  # a filter never drops the link's anchor node
        c1, c2, c3, c4 = st.columns(4)
        steps = query_number(c1, "slider", "Steps shown", lo=2, hi=10, value=5, key="steps")
        top = query_number(
            c2, "slider", "Top nodes per step", lo=2, hi=20, value=8, key="top", help="The rest are merged into Other."
        )
        anchor = query_choice(
            c3,
            "Anchor",
            ["start", "end"],
            default="start",
            key="anchor",
            help="Start: steps counted from the start (or from the anchor node). End: the last steps before the end (or the anchor).",
        )
        warn_link_values_left_out("anchor_node", nodes)
        anchor_node = c4.selectbox(
            "Anchor node", nodes, index=None, key="anchor_node", bind="query-params", placeholder="Journey start or end"
        )
        links = view.run("sankey", steps=steps, top_per_step=top, anchor=anchor or "start", anchor_node=anchor_node)
        st.plotly_chart(step_sankey_figure(links, dark=is_dark()), key="step_sankey")
        with st.expander("Step Sankey data", expanded=False):
            render_data_table(links, file_name="step_sankey.csv", key="step_sankey")

        if view.ctx.has_stages:
            st.subheader("Stage flow")
            st.caption(
                "Moves between stages: forward in blue; red arcs beneath are moves back to an earlier stage (loops), with their count."
            )
            flow = view.run("stage_flow")
            st.plotly_chart(stage_flow_figure(flow, dark=is_dark()), key="stage_flow")
            with st.expander("Stage flow data", expanded=False):
                render_data_table(flow, file_name="stage_flow.csv", key="stage_flow")

        st.subheader("Transition graph")
        st.caption("Each arrow is how often one node follows another. Click a node to keep only journeys through it.")
        transitions = view.run("transition_graph")
        edges = query_number(st, "slider", "Arrows shown", lo=5, hi=150, value=40, key="edges")
        if transitions.empty:
            st.info(no_transitions_reason(view))
        else:
            selected = view.query.through[0] if view.query.through else None
            clicked = render_transition_graph(transitions, max_edges=edges, selected=selected)
            if view.query.by != "channel":
                apply_node_click(clicked, source="flows_graph")
        render_data_table(transitions, file_name="transitions.csv", key="transitions")
