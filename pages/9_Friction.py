"""Friction: a 0–100 index per touchpoint and stage, its components, hot spots, validation."""

from __future__ import annotations

import streamlit as st

from analytics.friction import COMPONENTS, FrictionWeights, compute_friction_validation, compute_hot_spots, reweight
from charts.friction import COMPONENT_NAMES, friction_components_figure
from components.bootstrap import bootstrap
from components.errors import user_errors
from components.metrics_ui import (
    load_datasets,
    load_friction,
    load_goal_options,
    load_maps,
    query_select,
    weights_from_url,
)
from components.text import escape_markdown
from services.csv_safety import to_safe_csv
from services.friction import compute_friction_table

bootstrap("Friction")
st.title("Friction")
st.caption(
    "Where buyers stall, loop back, repeat themselves, leave or complain: a 0–100 index per touchpoint and "
    "stage, computed from the event log alone, with the components that make it up."
)

datasets = load_datasets()
if not datasets:
    st.info("No event logs yet. Open **Data** to upload a CSV export, or run `python cli.py demo`.")
    st.stop()
ds_names = {d[0]: d[1] for d in datasets}
ds_map = {d[0]: d[2] for d in datasets}
maps = dict(load_maps())

c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
with c1:
    dataset_id = query_select("Event log", list(ds_names), param="dataset", format_func=lambda i: ds_names[i])
with c2:
    map_options = [None, *maps]
    map_id = query_select(
        "Seen through the map",
        map_options,
        param="map",
        default=ds_map.get(dataset_id),
        format_func=lambda i: "No map (activities as they are)" if i is None else maps[i],
    )
with c3:
    level = query_select(
        "Journeys of",
        ["contact", "account"],
        param="level",
        format_func=lambda v: "contacts" if v == "contact" else "accounts (buying committees)",
    )
map_id = None if map_id in (None, "None") else map_id
with c4:
    goals = load_goal_options(map_id) if map_id is not None else []
    goal = query_select(
        "Goal (converts when reached)",
        [None, *goals],
        param="goal",
        format_func=lambda g: "the map's last stage" if g is None else g,
    )
goal = None if goal in (None, "None") else goal

weights = weights_from_url()
with st.expander("Weights of the components (visible and adjustable)", expanded=False):
    st.caption(
        "friction = 100 × Σ weight × score / Σ weight over the components present. Scores (0–1): exit = exit "
        "rate above the base rate, scaled to what is left above it; backtrack = share of moves to an earlier "
        "stage; repeat = share of events that repeat or revisit the touchpoint; delay = 1 − stage median / "
        "touchpoint median of the time to the next event (0 when not slower); negative feedback = share of "
        "detractors (NPS 0–6), low CSAT (1–2) and high effort (≥ 5) among its responses."
    )
    cols = st.columns(len(COMPONENTS))
    chosen = {}
    for col, key in zip(cols, COMPONENTS, strict=True):
        chosen[key] = col.number_input(
            COMPONENT_NAMES[key],
            min_value=0.0,
            max_value=10.0,
            step=0.05,
            value=float(getattr(weights, key)),
            key=f"w_{key}",
        )
    if chosen != weights.as_dict():
        for key, value in chosen.items():
            st.query_params[f"w_{key}"] = f"{value:g}"
        if sum(chosen.values()) > 0:
            weights = FrictionWeights(**chosen)
        else:
            st.warning("At least one weight must be above 0; the default weights are used.")

with user_errors():
    result = reweight(load_friction(dataset_id, map_id, level, goal), weights)
    tp = result.touchpoints
    if tp.empty:
        st.info("This event log has no events to score.")
        st.stop()

    st.subheader("Hot spots")
    hot = compute_hot_spots(tp, top_n=5)
    if hot.empty:
        st.info("No touchpoint is reached by at least 5 journeys yet.")
    for rank, row in enumerate(hot.itertuples(index=False), start=1):
        stage = f" · {escape_markdown(row.stage)}" if isinstance(row.stage, str) else ""
        st.markdown(
            f"**{rank}. {escape_markdown(row.touchpoint)}**{stage} — friction **{row.friction:.0f}** "
            f"({row.journeys:,} journeys): {escape_markdown(row.reason)}"
        )

    tab_tp, tab_stage, tab_valid = st.tabs(["By touchpoint", "By stage", "Survey scores agree?"])
    with tab_tp:
        st.plotly_chart(friction_components_figure(tp), width="stretch", key="friction_tp")
        table = compute_friction_table(result)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download CSV", to_safe_csv(table), "friction_touchpoints.csv", "text/csv")
    with tab_stage:
        if result.stages.empty:
            st.info("No stage is known: link the log to a map, or import it with a stage column.")
        else:
            st.plotly_chart(
                friction_components_figure(result.stages, label="stage"), width="stretch", key="friction_stage"
            )
            stages = compute_friction_table(result, level="stage")
            st.dataframe(stages, hide_index=True, width="stretch")
            st.download_button("Download CSV", to_safe_csv(stages), "friction_stages.csv", "text/csv", key="dl_st")
    with tab_valid:
        validation = compute_friction_validation(result)
        if validation.empty:
            st.info("This event log has no NPS, CSAT or effort scores to check the index against.")
        else:
            st.caption(
                "Spearman's rank correlation between the behavioural index (negative feedback left out, so the "
                "survey does not check itself) and each mean score per touchpoint (touchpoints with ≥ 5 responses). "
                "Friction should run against satisfaction (ρ < 0 for NPS and CSAT) and with effort (ρ > 0)."
            )
            st.dataframe(validation, hide_index=True, width="stretch")
    st.caption(
        f"Stage order: {escape_markdown(' → '.join(result.stage_order) or '—')}. "
        + ("A journey converts when it reaches " + (escape_markdown(goal) if goal else "the map's last stage") + ".")
    )
