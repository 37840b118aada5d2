"""Streamlit pieces of the Attribution and Outlook pages: cached loaders and URL-kept choices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import streamlit as st

from analytics.attribution import AttributionResult
from analytics.journeys import JourneyQuery
from analytics.outlook import OutlookResult
from services import attribution as attribution_service
from services.attribution import GoalOptions


@st.cache_data(show_spinner="Crediting conversions…", ttl=600, max_entries=32)
def load_attribution(
    dataset_id: int,
    goal: str,
    by: str,
    level: str,
    map_id: int | None,
    collapse_repeats: bool,
    lost: tuple[str, ...],
) -> AttributionResult:
    return attribution_service.compute_attribution(
        dataset_id,
        goal=goal,
        by=by,  # type: ignore[arg-type]
        map_id=map_id,
        query=JourneyQuery(level=level, collapse_repeats=collapse_repeats),  # type: ignore[arg-type]
        lost=lost,
    )


@st.cache_data(show_spinner="Fitting the journey chain…", ttl=600, max_entries=32)
def load_outlook(
    dataset_id: int,
    goal: str,
    lost: tuple[str, ...],
    as_of: date | None,
    active_days: int,
    level: str,
    map_id: int | None,
    min_transitions: int,
) -> OutlookResult:
    return attribution_service.compute_outlook(
        dataset_id,
        goal=goal,
        lost=lost,
        as_of=as_of,
        active_days=active_days,
        map_id=map_id,
        query=JourneyQuery(level=level),  # type: ignore[arg-type]
        min_transitions=min_transitions,
    )


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def load_goal_options(dataset_id: int, map_id: int | None, level: str) -> GoalOptions:
    return attribution_service.list_goal_options(
        dataset_id,
        map_id=map_id,
        query=JourneyQuery(level=level),  # type: ignore[arg-type]
    )


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def load_has_channel(dataset_id: int) -> bool:
    return attribution_service.has_channel(dataset_id)


def select_id(
    label: str,
    options: Sequence[tuple[int | None, str]],
    *,
    param: str,
    default: int | None = None,
    help: str | None = None,
) -> int | None:
    """A selectbox over ``(id, name)`` pairs whose choice is kept in the URL as ``?<param>=<id>``.

    (A widget bound to the URL would store the displayed name; links carry ids.)
    """
    ids = [i for i, _ in options]
    names = dict(options)
    wanted: Any = st.query_params.get(param)
    try:
        wanted = int(wanted) if wanted not in (None, "") else default
    except ValueError:
        wanted = default
    index = ids.index(wanted) if wanted in ids else (ids.index(default) if default in ids else 0)
    chosen = st.selectbox(label, ids, index=index, format_func=lambda i: names[i], help=help, key=f"_select_{param}")
    if chosen is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(chosen)
    return chosen


def formula_list(formulas: dict[str, str], labels: dict[str, str], render: Callable[[str], Any] = st.markdown) -> None:
    """Show each model's formula, one line each."""
    render("\n".join(f"- **{labels[k]}**: {v}" for k, v in formulas.items()))


def goal_select(options: GoalOptions, *, label: str, help: str) -> str:  # noqa: A002 - Streamlit's name
    """The goal, offered among ``options`` (the suggested one first chosen), kept in the URL as ``?goal=``."""
    return st.selectbox(
        label,
        options.names,
        index=options.names.index(options.goal) if options.goal in options.names else 0,
        key="goal",
        bind="query-params",
        help=help,
    )


def lost_select(options: GoalOptions, goal: str, *, label: str, help: str) -> list[str]:  # noqa: A002
    """Lost touchpoints (any but the goal; the suggested ones chosen), kept in the URL as ``?lost=``."""
    return st.multiselect(
        label,
        [t for t in options.names if t != goal],
        default=[t for t in options.lost if t != goal],
        key="lost",
        bind="query-params",
        help=help,
    )
