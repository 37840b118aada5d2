"""Friction: a 0–100 index per touchpoint and stage, its components, hot spots, validation."""

from __future__ import annotations

import streamlit as st

from components.analysis_controls import open_log_page, open_view, render_conversion_line
from components.errors import user_errors
from components.friction_view import (
    friction_footnote,
    load_weighted_friction,
    render_friction_level,
    render_hot_spots,
    render_validation,
    render_weights,
)
from components.url_select import query_tabs

dataset_id, token, map_id, level = open_log_page(
    "Friction",
    "Friction",
    (
        "Where buyers stall, loop back, repeat themselves, leave or complain: a 0–100 index per touchpoint and "
        "stage, computed from the event log alone, with the components that make it up."
    ),
)
view = open_view(dataset_id, token, map_id, level=level)
if view is None:
    st.stop()
render_conversion_line(view)

weights = render_weights()
with user_errors():
    result = load_weighted_friction(view, weights)
    if result.touchpoints.empty:
        st.info("This event log has no events to score.")
        st.stop()

    st.subheader("Hot spots")
    render_hot_spots(result)
    tab_tp, tab_stage, tab_valid = query_tabs(["By touchpoint", "By stage", "Survey scores agree?"], key="view")
    with tab_tp:
        render_friction_level(result, "touchpoint")
    with tab_stage:
        render_friction_level(result, "stage")
    with tab_valid:
        render_validation(result)
    st.caption(friction_footnote(result, lost_defined=view.ctx.conversion.lost_defined))
