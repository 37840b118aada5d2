"""Funnel: how many journeys go through chosen steps, in order, within a conversion window."""

from __future__ import annotations

import streamlit as st

from charts.funnel import funnel_breakdown_figure, funnel_figure, step_times_figure
from components.analysis_controls import clear_node_filter_button, render_analysis_controls
from components.bootstrap import bootstrap
from components.data_table import render_data_table
from components.errors import user_errors
from components.funnel_controls import breakdown_note, funnel_headline, render_funnel_controls

bootstrap("Funnel")
st.title("Funnel")
st.caption("Journeys that reach each step in turn, within a conversion window counted from the first step.")

with user_errors():
    view = render_analysis_controls()
    spec = None
    if view is not None:
        clear_node_filter_button(view)
        spec = render_funnel_controls(view)
    if view is not None and spec is not None:
        funnel = view.run("funnel", spec=spec)
        st.markdown(funnel_headline(funnel, spec))
        st.plotly_chart(funnel_figure(funnel), key="funnel")
        render_data_table(funnel, file_name="funnel.csv", key="funnel", download=spec.stated(funnel))

        st.subheader("Time between steps")
        st.plotly_chart(step_times_figure(funnel), key="step_times")

        if spec.breakdown:
            st.subheader(f"By {spec.breakdown}")
            per = view.run("funnel_breakdown", spec=spec)
            st.plotly_chart(funnel_breakdown_figure(per), key="funnel_breakdown")
            if note := breakdown_note(per):
                st.caption(note)
            render_data_table(
                per, file_name=f"funnel_by_{spec.breakdown}.csv", key="funnel_breakdown", download=spec.stated(per)
            )

        st.subheader("Journeys that dropped")
        dropped = view.run("dropped_journeys", spec=spec)
        st.caption(f"{len(dropped):,} journeys entered the funnel and did not complete it.")
        render_data_table(dropped, file_name="dropped_journeys.csv", key="dropped", max_rows=200)
