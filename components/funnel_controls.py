"""The Funnel page's controls: its steps and rules, each kept in the URL, made into a FunnelSpec."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.funnel import OTHER_VALUES, FunnelSpec, parse_step_windows
from components import loaders as L
from components.analysis_controls import AnalysisView
from components.text import escape_markdown, escape_markup
from components.url_select import (
    link_refused,
    query_choice,
    query_multiselect,
    query_number,
    warn_link_values_left_out,
)
from services.analysis import list_breakdown_columns, list_levels

MODE_WORDS = {
    "ordered": "in order, anything in between",
    "strict": "in order, no other funnel step in between",
    "immediate": "each step right after the previous one",
    "any": "in any order",
}


def _say_stage_steps(view: AnalysisView, nodes: list[str]) -> list[str]:
    """Where the link's steps left out are stages while the nodes are touchpoints (or channels): say
    which level takes them (``?by=stage``); the steps so explained."""
    left_out = [v for v in st.query_params.get_all("steps") if v not in nodes]
    if not left_out or view.query.by == "stage" or "stage" not in list_levels(view.ctx):
        return []
    stages = set(view.run("stage_order"))
    if named := [v for v in left_out if v in stages]:
        st.info(
            escape_markup(
                f"{', '.join(named)}: {'a stage' if len(named) == 1 else 'stages'} of this log. Choose "
                "“stage” under Nodes (by=stage in the link) to count the funnel by stage."
            ),
            icon=":material/lightbulb:",
        )
    return named


def render_funnel_controls(view: AnalysisView) -> FunnelSpec | None:
    """The funnel of the controls (steps, order, windows, exclusions, breakdown); None, with a hint,
    until at least two steps are picked."""
    # Every node of the log, not only those the filters keep: a filter never drops a step from the link.
    nodes = L.load_nodes(view.token, view.ctx.unfiltered())
    # At stage level, the stages in order (the map's, else first appearance); else none.
    default_steps = view.run("stage_order")[:6] if view.query.by == "stage" else []
    explained = _say_stage_steps(view, nodes)  # before the steps' widget, which drops the link's steps it lacks
    steps = query_multiselect(
        st,
        "Funnel steps, in order",
        nodes,
        explained=explained,
        default=[s for s in default_steps if s in nodes],
        key="steps",
        refuse=True,
        help="Pick the steps in the order journeys should take them.",
    )
    c1, c2, c3 = st.columns([2, 1, 1])
    mode = query_choice(
        c1,
        "Order",
        list(MODE_WORDS),
        default="ordered",
        key="mode",
        help="; ".join(f"{k}: {v}" for k, v in MODE_WORDS.items()),
    )
    window = query_number(
        c2, "number_input", "Window (days)", lo=1, hi=3650, value=90, key="window", help="From the first step."
    )
    windows_text = c3.text_input(
        "Per-step windows (days)",
        key="step_windows",
        bind="query-params",
        placeholder="e.g. 7,,30",
        help="Days allowed from each step to the next, comma-separated; empty for no limit.",
    )
    c1, c2, c3 = st.columns([2, 1, 1])
    exclusions = query_multiselect(
        c1,
        "Exclusion steps",
        [n for n in nodes if n not in steps],
        key="exclude",
        refuse=True,
        help="Journeys doing one of these between their first and last step (or inside the window) leave the funnel.",
    )
    breakdown_columns = list_breakdown_columns(view.ctx)
    warn_link_values_left_out("breakdown", breakdown_columns)
    breakdown = c2.selectbox(
        "Breakdown",
        breakdown_columns,
        index=None,
        key="breakdown",
        bind="query-params",
        placeholder="None",
    )
    attribution = query_choice(
        c3,
        "Breakdown value from",
        ["first", "last"],
        default="first",
        key="attribution",
        help="first: the value at step 1; last: at the last step reached.",
    )
    if link_refused("steps", "exclude"):  # a step or exclusion the link names that the log lacks: said above
        return None
    if len(steps) < 2:
        st.info("Pick at least two steps to draw a funnel.", icon=":material/filter_alt:")
        return None
    return FunnelSpec(
        steps=tuple(steps),
        mode=mode or "ordered",
        window_days=float(window),
        step_windows_days=parse_step_windows(windows_text, len(steps)),
        exclusions=tuple(exclusions),
        breakdown=breakdown,
        attribution=attribution or "first",
    )


def funnel_headline(funnel: pd.DataFrame, spec: FunnelSpec) -> str:
    """The funnel in one sentence (markdown): N of M journeys that reach the first step go on to the
    last within the window."""
    first, last = int(funnel["journeys"].iloc[0]), int(funnel["journeys"].iloc[-1])
    return (
        f"**{last:,} of {first:,} journeys** that reach *{escape_markdown(spec.steps[0])}* go on to "
        f"*{escape_markdown(spec.steps[-1])}* within **{spec.window_days:g} day{'' if spec.window_days == 1 else 's'}** of it ({MODE_WORDS[spec.mode]}): "
        "a funnel window, not the all-time conversion of the line above."
    )


def breakdown_note(per: pd.DataFrame) -> str | None:
    """What a funnel breakdown leaves out: None when every value has its own row, else that the
    values past the first ones are added up as one row."""
    if not (per["breakdown"] == OTHER_VALUES).any():
        return None
    shown = per.loc[per["breakdown"] != OTHER_VALUES, "breakdown"].nunique()  # a row per value and step
    return (
        f"The {shown} values with the most journeys at step 1 are shown one by one; the other values "
        f"are added up as {OTHER_VALUES}."
    )
