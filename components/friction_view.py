"""The Friction page's parts: the weights (kept in the URL), the hot spots, the index per touchpoint
or stage with its data twin, and the check against survey scores. Formula: :mod:`analytics.friction`."""

from __future__ import annotations

import streamlit as st

from analytics.friction import (
    COMPONENTS,
    HOT_SPOT_MIN_JOURNEYS,
    FrictionResult,
    FrictionWeights,
    compute_friction_validation,
    compute_hot_spots,
    reweight,
)
from charts.friction import COMPONENT_NAMES, FRICTION_BARS, friction_components_figure
from charts.labels import cut_note, for_people
from components.analysis_controls import AnalysisView
from components.loaders import load_friction
from components.safe_table import csv_download_button
from components.text import escape_markdown
from components.url_select import link_value, query_number
from services.csv_safety import to_safe_csv
from services.friction import compute_friction_table

WEIGHT_MAX = 10.0  # the largest weight the Friction page takes
WEIGHTS_FORMULA = (
    "friction = 100 × Σ weight × score / Σ weight over the components present. Scores (0–1): exit = exit "
    "rate above the base rate, scaled to what is left above it; backtrack = share of moves to an earlier "
    "stage; repeat = share of events that repeat or revisit the touchpoint; delay = 1 − stage median / "
    "touchpoint median of the time to the next event (0 when not slower); negative feedback = share of "
    "detractors (NPS 0–6), low CSAT (1–2) and high effort (≥ 5) among its responses."
)


def render_weights() -> FrictionWeights:
    """The component weights, adjustable and kept in the URL (``?w_exit=..``); a link's weight that
    cannot be used is named with the one shown (:func:`query_number`), and weights that are all 0 fall
    back to the defaults, with a warning."""
    defaults = FrictionWeights()
    linked = any(link_value(f"w_{key}") is not None for key in COMPONENTS)  # weights from a link are in sight
    with st.expander("Weights of the components (visible and adjustable)", expanded=linked):
        st.caption(WEIGHTS_FORMULA)
        cols = st.columns(len(COMPONENTS))
        chosen = {
            key: query_number(
                col,
                "number_input",
                COMPONENT_NAMES[key],
                lo=0.0,
                hi=WEIGHT_MAX,
                value=float(getattr(defaults, key)),
                key=f"w_{key}",
                step=0.05,
            )
            for col, key in zip(cols, COMPONENTS, strict=True)
        }
    if sum(chosen.values()) <= 0:
        st.warning("The weights are all 0; the default weights are used instead.")
        return defaults
    return FrictionWeights(**chosen)


def load_weighted_friction(view: AnalysisView, weights: FrictionWeights) -> FrictionResult:
    """The view's friction index under ``weights`` (computed once, reweighted without a query)."""
    return reweight(load_friction(view.token, view.ctx), weights)


def render_hot_spots(result: FrictionResult, top_n: int = 5) -> None:
    """The ``top_n`` touchpoints with the most friction, one line each with the reason."""
    hot = compute_hot_spots(result.touchpoints, top_n=top_n)
    eligible = int((result.touchpoints["journeys"] >= HOT_SPOT_MIN_JOURNEYS).sum())
    if hot.empty:
        st.info(
            f"No touchpoint is reached by at least {HOT_SPOT_MIN_JOURNEYS} journeys yet: more data in this event "
            "log (or the contact level, where there are more journeys) would give some."
        )
    else:
        left_out = len(result.touchpoints) - eligible
        st.caption(
            (
                f"The {len(hot)} touchpoints with the most friction"
                if len(hot) > 1
                else "The touchpoint with the most friction"
            )
            + f", each reached by at least {HOT_SPOT_MIN_JOURNEYS} journeys"
            + (f" ({left_out:,} of {len(result.touchpoints):,} touchpoints are reached by fewer)." if left_out else ".")
        )
    for rank, row in enumerate(hot.itertuples(index=False), start=1):
        stage = f" · {escape_markdown(row.stage)}" if isinstance(row.stage, str) else ""
        st.markdown(
            f"**{rank}. {escape_markdown(row.touchpoint)}**{stage} — friction **{row.friction:.0f}** "
            f"({row.journeys:,} journeys): {escape_markdown(row.reason)}"
        )


def render_friction_level(result: FrictionResult, level: str) -> None:
    """The index per touchpoint or per stage: chart, table (its data twin) and CSV."""
    if level == "stage" and result.stages.empty:
        st.info("No stage is known: link the log to a map, or import it with a stage column.")
        return
    frame = result.touchpoints if level == "touchpoint" else result.stages
    chart = (
        friction_components_figure(frame) if level == "touchpoint" else friction_components_figure(frame, label="stage")
    )
    st.plotly_chart(chart, width="stretch", key=f"friction_{'tp' if level == 'touchpoint' else 'stage'}")
    if note := cut_note(FRICTION_BARS, len(frame), f"{level}s with the most friction", "the table lists every one"):
        st.caption(note)
    table = compute_friction_table(result, level=level)
    st.dataframe(for_people(table), hide_index=True, width="stretch")
    if level == "touchpoint":
        st.download_button("Download CSV", to_safe_csv(table), "friction_touchpoints.csv", "text/csv")
    else:
        st.download_button("Download CSV", to_safe_csv(table), "friction_stages.csv", "text/csv", key="dl_st")


def render_validation(result: FrictionResult) -> None:
    """Spearman's ρ between the behavioural index and each survey score per touchpoint."""
    validation = compute_friction_validation(result)
    if validation.empty:
        st.info("This event log has no NPS, CSAT or effort scores to check the index against.")
        return
    st.caption(
        "Spearman's rank correlation between the behavioural index (negative feedback left out, so the "
        "survey does not check itself) and each mean score per touchpoint (touchpoints with ≥ 5 responses). "
        "Friction should run against satisfaction (ρ < 0 for NPS and CSAT) and with effort (ρ > 0)."
    )
    st.dataframe(for_people(validation), hide_index=True, width="stretch")
    csv_download_button(validation, file_name="friction_validation.csv", key="dl_valid")


def friction_footnote(result: FrictionResult, *, lost_defined: bool) -> str:
    """The stage order the index used and what counts as an exit (markdown)."""
    return (
        f"Stage order: {escape_markdown(' → '.join(result.stage_order) or '—')}. An exit is a journey ending at the "
        "touchpoint without converting (as the Conversion line above says"
        + ("; with lost defined, only journeys that were lost" if lost_defined else "")
        + ")."
    )
