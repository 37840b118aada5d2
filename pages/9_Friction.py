"""Friction: a 0–100 index per touchpoint and stage, its components, hot spots, validation."""

from __future__ import annotations

import streamlit as st

from analytics.friction import COMPONENTS, FrictionWeights, compute_friction_validation, compute_hot_spots, reweight
from analytics.journeys import JourneyQuery
from charts.friction import COMPONENT_NAMES, friction_components_figure
from charts.labels import for_people
from components.analysis_controls import INVALID, open_view, pick_dataset, pick_map, render_conversion_line
from components.bootstrap import bootstrap
from components.errors import user_errors
from components.metrics_ui import load_friction, weights_from_url
from components.text import escape_markdown
from components.url_select import query_select
from services.csv_safety import to_safe_csv
from services.friction import compute_friction_table

bootstrap("Friction")
st.title("Friction")
st.caption(
    "Where buyers stall, loop back, repeat themselves, leave or complain: a 0–100 index per touchpoint and "
    "stage, computed from the event log alone, with the components that make it up."
)

picked = pick_dataset(label="Event log")
if picked is None:
    st.stop()
dataset_id, token, _name = picked
c1, c2 = st.columns([2, 1])
with c1:
    map_id = pick_map(label="Seen through the map", none_label="The event log's own link (if any)")
if isinstance(map_id, type(INVALID)):
    st.stop()
with c2:
    level = query_select(
        "Journeys of",
        ["contact", "account"],
        param="level",
        format_func=lambda v: "contacts" if v == "contact" else "accounts (buying committees)",
    )
view = open_view(dataset_id, token, map_id, JourneyQuery(level=level or "contact"))
if view is None:
    st.stop()
render_conversion_line(view)

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
    result = reweight(load_friction(view.token, view.ctx), weights)
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
        st.dataframe(for_people(table), hide_index=True, width="stretch")
        st.download_button("Download CSV", to_safe_csv(table), "friction_touchpoints.csv", "text/csv")
    with tab_stage:
        if result.stages.empty:
            st.info("No stage is known: link the log to a map, or import it with a stage column.")
        else:
            st.plotly_chart(
                friction_components_figure(result.stages, label="stage"), width="stretch", key="friction_stage"
            )
            stages = compute_friction_table(result, level="stage")
            st.dataframe(for_people(stages), hide_index=True, width="stretch")
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
            st.dataframe(for_people(validation), hide_index=True, width="stretch")
    st.caption(
        f"Stage order: {escape_markdown(' → '.join(result.stage_order) or '—')}. An exit is a journey ending at the "
        "touchpoint without converting (as the Conversion line above says"
        + ("; with lost defined, only journeys that were lost" if view.ctx.conversion.lost_defined else "")
        + ")."
    )
