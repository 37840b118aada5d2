"""Shared controls of the analysis pages (Flows, Funnel, Paths), every one kept in the URL.

The dataset and the map are read from ``?dataset=<id>`` and ``?map=<id>`` (default: the first
dataset, and the map the dataset is linked to) and written back when the user picks another; every
other control is a widget bound to a query parameter of its own key, so a link reproduces the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from analytics.journeys import JourneyQuery
from components import analysis_loaders as L
from components.loaders import load_dataset_summaries, load_map_summaries
from components.text import escape_markdown

# Bound option widgets put the shown option in the URL, so options are shown as their plain values.
LEVEL_LABELS = {"contact": "Contact", "account": "Account (buying committee)"}
THROUGH_KEY = "through"
_PENDING = "_pending_through"


@dataclass(frozen=True)
class AnalysisView:
    """What the controls chose: the dataset (and its cache token), the map, the query, the goal."""

    dataset_id: int
    token: str
    dataset_name: str
    map_id: int | None
    query: JourneyQuery
    goal: str | None


def _int_param(name: str) -> int | None:
    value = st.query_params.get(name)
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def pick_dataset() -> tuple[int, str, str] | None:
    """The dataset of ``?dataset=`` (else the first); None, with an empty state, when there is none.

    Returns (dataset id, cache token, name)."""
    datasets = load_dataset_summaries()
    if not datasets:
        st.info(
            "No dataset yet: import an event log on the **Data** page, then come back here.",
            icon=":material/upload_file:",
        )
        st.page_link("pages/4_Data.py", label="Open the Data page", icon=":material/upload_file:")
        return None
    by_id = {int(d["id"]): d for d in datasets}
    requested = _int_param("dataset")
    current = requested if requested in by_id else next(iter(by_id))
    ids = list(by_id)
    chosen = st.selectbox(
        "Dataset",
        ids,
        index=ids.index(current),
        format_func=lambda i: f"{by_id[i]['name']} · {by_id[i]['events']:,} events",
        help="The event log to analyse (kept in the URL as ?dataset=).",
    )
    st.query_params["dataset"] = str(chosen)
    d = by_id[chosen]
    return int(chosen), f"{chosen}:{d['created_at']}", str(d["name"])


def pick_map(dataset_id: int) -> int | None:
    """The map of ``?map=`` (None: the map the dataset is linked to, if any)."""
    maps = load_map_summaries()
    options: list[int | None] = [None, *[int(m["id"]) for m in maps]]
    names = {int(m["id"]): m["name"] for m in maps}
    requested = _int_param("map")
    current = requested if requested in names else None
    chosen = st.selectbox(
        "Journey map",
        options,
        index=options.index(current),
        format_func=lambda i: "The dataset's own link" if i is None else names[i],
        help="Touchpoints and stages come from this map's links to the dataset's activities.",
    )
    if chosen is None:
        st.query_params.pop("map", None)
    else:
        st.query_params["map"] = str(chosen)
    return chosen


def _filters(dataset_id: int, token: str, map_id: int | None) -> dict:
    """Date range, channel, role, outcome, segments, through: each a bound widget."""
    columns = L.load_filter_columns(dataset_id, token)
    out: dict = {}
    with st.expander("Filters", expanded=bool(st.query_params.get(THROUGH_KEY))):
        c1, c2 = st.columns(2)
        out["date_from"] = c1.date_input("From", value=None, key="from", bind="query-params", format="YYYY-MM-DD")
        out["date_to"] = c2.date_input("To", value=None, key="to", bind="query-params", format="YYYY-MM-DD")
        c1, c2, c3 = st.columns(3)
        for col, role, label in (
            (c1, "channel", "Channels"),
            (c2, "role", "Contact roles"),
            (c3, "outcome", "Outcomes"),
        ):
            if role in columns:
                out[role] = col.multiselect(
                    label, L.load_column_values(dataset_id, token, role), key=role, bind="query-params"
                )
        segments = []
        for name in L.load_segments(dataset_id, token):
            values = st.multiselect(
                f"Segment: {name}",
                L.load_column_values(dataset_id, token, name),
                key=f"seg_{name}",
                bind="query-params",
            )
            if values:
                segments.append((name, tuple(values)))
        out["segments"] = tuple(segments)
        if _PENDING in st.session_state:  # a graph click, applied before the widget exists
            st.session_state[THROUGH_KEY] = st.session_state.pop(_PENDING)
        out["through"] = st.multiselect(
            "Only journeys through",
            L.load_goal_candidates(dataset_id, token, map_id),
            key=THROUGH_KEY,
            bind="query-params",
            help="Keep journeys that reach any of these touchpoints or stages (a click on a graph node sets it).",
        )
    return out


def render_analysis_controls(*, default_by: str = "touchpoint", show_goal: bool = True) -> AnalysisView | None:
    """Draw the dataset, map, level, node, repeats, filters and goal controls; None when no dataset."""
    picked = pick_dataset()
    if picked is None:
        return None
    dataset_id, token, name = picked
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1.4])
    with c1:
        map_id = pick_map(dataset_id)
    levels = L.load_available_levels(dataset_id, token, map_id)
    level = c2.segmented_control(
        "Journey level",
        list(LEVEL_LABELS),
        default="contact",
        required=True,
        key="level",
        bind="query-params",
        help="Account level merges an account's contacts into one journey (a buying committee).",
    )
    by_default = default_by if default_by in levels else "touchpoint"
    by = c3.segmented_control("Nodes", levels, default=by_default, required=True, key="by", bind="query-params")
    collapse = c4.toggle(
        "Collapse repeats",
        value=True,
        key="collapse",
        bind="query-params",
        help="Consecutive events on one node count once.",
    )
    f = _filters(dataset_id, token, map_id)
    goal = None
    if show_goal:
        candidates = L.load_goal_candidates(dataset_id, token, map_id)
        default_goal = L.load_default_goal(dataset_id, token, map_id)
        goal = st.selectbox(
            "Conversion goal",
            candidates,
            index=candidates.index(default_goal) if default_goal in candidates else None,
            key="goal",
            bind="query-params",
            placeholder="No goal (pick a touchpoint or stage)",
            help="A journey converts when it reaches this touchpoint or stage.",
        )
    query = JourneyQuery(
        level=level or "contact",
        by=by or by_default,
        collapse_repeats=bool(collapse),
        date_from=f["date_from"] if isinstance(f["date_from"], date) else None,
        date_to=f["date_to"] if isinstance(f["date_to"], date) else None,
        channels=tuple(f.get("channel") or ()),
        roles=tuple(f.get("role") or ()),
        outcomes=tuple(f.get("outcome") or ()),
        segments=f["segments"],
        through=tuple(f["through"] or ()),
    )
    return AnalysisView(dataset_id=dataset_id, token=token, dataset_name=name, map_id=map_id, query=query, goal=goal)


def apply_node_click(clicked: str | None, *, source: str) -> None:
    """Filter the views to journeys through ``clicked`` (a graph node), once per click, and rerun.

    The graph keeps returning its last click on every rerun; ``source`` names the graph so that only
    a new click acts."""
    memo = f"_last_click_{source}"
    if clicked is None or st.session_state.get(memo) == clicked:
        return
    st.session_state[memo] = clicked
    if clicked in ("(entry)", "(exit)"):
        return
    st.session_state[_PENDING] = [clicked]
    st.rerun()


def _clear_through() -> None:
    st.session_state[THROUGH_KEY] = []


def clear_node_filter_button(view: AnalysisView) -> None:
    """A caption naming the "journeys through" filter, with a button to clear it, when it is set."""
    if view.query.through:
        c1, c2 = st.columns([4, 1])
        c1.caption(
            "Showing only journeys through " + ", ".join(f"**{escape_markdown(n)}**" for n in view.query.through)
        )
        c2.button("Clear node filter", icon=":material/filter_alt_off:", on_click=_clear_through)
