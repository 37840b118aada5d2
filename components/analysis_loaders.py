"""Cached loaders of the analysis pages: one per analysis, keyed by dataset, map, query and parameters.

``token`` names the dataset's version (its id and creation time), so a dataset deleted and imported
again under the same id never serves old results. Results are DataFrames (hashable inputs, plain
outputs); caches are bounded and cleared by ``components.loaders.clear_caches()`` after writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from analytics.funnel import FunnelSpec
from analytics.journeys import JourneyQuery
from services import analysis

CACHE = {"show_spinner": False, "ttl": 600, "max_entries": 48}


@st.cache_data(**CACHE)
def load_nodes(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery) -> list[str]:
    return analysis.list_nodes(dataset_id, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_default_funnel_steps(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery) -> list[str]:
    """At stage level, the stages in order (map order, else first appearance); else none."""
    if query.by != "stage":
        return []
    return analysis.compute_stage_order(dataset_id, map_id=map_id, query=query)[:6]


@st.cache_data(**CACHE)
def load_goal_candidates(dataset_id: int, token: str, map_id: int | None) -> list[str]:
    return analysis.list_goal_candidates(dataset_id, map_id=map_id)


@st.cache_data(**CACHE)
def load_default_goal(dataset_id: int, token: str, map_id: int | None) -> str | None:
    return analysis.default_goal(dataset_id, map_id=map_id)


@st.cache_data(**CACHE)
def load_column_values(dataset_id: int, token: str, column: str) -> list[str]:
    return analysis.list_column_values(dataset_id, column)


@st.cache_data(**CACHE)
def load_filter_columns(dataset_id: int, token: str) -> list[str]:
    return analysis.list_filter_columns(dataset_id)


@st.cache_data(**CACHE)
def load_breakdown_columns(dataset_id: int, token: str) -> list[str]:
    return analysis.list_breakdown_columns(dataset_id)


@st.cache_data(**CACHE)
def load_segments(dataset_id: int, token: str) -> list[str]:
    return list(analysis.get_schema(dataset_id).segments)


@st.cache_data(**CACHE)
def load_available_levels(dataset_id: int, token: str, map_id: int | None) -> list[str]:
    """Node levels this dataset can be analysed at: touchpoint, stage (when known), channel (when present)."""
    schema = analysis.get_schema(dataset_id)
    levels = ["touchpoint"]
    linked = bool(analysis.open_analysis(dataset_id, map_id=map_id).query.stage_of)
    if linked or schema.has(analysis.Role.STAGE):
        levels.append("stage")
    if schema.has(analysis.Role.CHANNEL):
        levels.append("channel")
    return levels


@st.cache_data(**CACHE)
def load_summary(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery) -> pd.DataFrame:
    return analysis.compute_summary(dataset_id, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_transitions(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery) -> pd.DataFrame:
    return analysis.compute_transition_graph(dataset_id, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_step_sankey(
    dataset_id: int,
    token: str,
    map_id: int | None,
    query: JourneyQuery,
    steps: int,
    top_per_step: int,
    anchor: str,
    anchor_node: str | None,
    goal: str | None,
) -> pd.DataFrame:
    return analysis.compute_step_sankey(
        dataset_id,
        map_id=map_id,
        query=query,
        steps=steps,
        top_per_step=top_per_step,
        anchor=anchor,  # type: ignore[arg-type]
        anchor_node=anchor_node,
        goal=goal,
    )


@st.cache_data(**CACHE)
def load_stage_flow(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, stage_order: tuple[str, ...]
) -> pd.DataFrame:
    return analysis.compute_stage_flow(dataset_id, map_id=map_id, query=query, stage_order=stage_order or None)


@st.cache_data(**CACHE)
def load_funnel(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, spec: FunnelSpec) -> pd.DataFrame:
    return analysis.compute_funnel(dataset_id, spec, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_funnel_breakdown(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, spec: FunnelSpec
) -> pd.DataFrame:
    return analysis.compute_funnel_breakdown(dataset_id, spec, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_dropped_journeys(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, spec: FunnelSpec
) -> pd.DataFrame:
    return analysis.compute_dropped_journeys(dataset_id, spec, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_variants(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, goal: str | None, top: int
) -> pd.DataFrame:
    return analysis.compute_variants(dataset_id, map_id=map_id, query=query, goal=goal, top=top, include_other=True)


@st.cache_data(**CACHE)
def load_nonlinearity(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, stage_order: tuple[str, ...]
) -> pd.DataFrame:
    return analysis.compute_nonlinearity(dataset_id, map_id=map_id, query=query, stage_order=stage_order or None)


@st.cache_data(**CACHE)
def load_top_loops(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, stage_order: tuple[str, ...], top: int
) -> pd.DataFrame:
    return analysis.compute_top_loops(dataset_id, map_id=map_id, query=query, stage_order=stage_order or None, top=top)


@st.cache_data(**CACHE)
def load_stage_order(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, stage_order: tuple[str, ...]
) -> list[str]:
    return analysis.compute_stage_order(dataset_id, map_id=map_id, query=query, stage_order=stage_order or None)


@st.cache_data(**CACHE)
def load_map_stage_order(dataset_id: int, token: str, map_id: int | None) -> list[str]:
    """The linked map's stage order (empty when the dataset is not linked to a map)."""
    return list(analysis.open_analysis(dataset_id, map_id=map_id).map_stage_order)


@st.cache_data(**CACHE)
def load_outcomes(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery) -> pd.DataFrame:
    return analysis.compute_outcomes(dataset_id, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_time_to_convert(
    dataset_id: int, token: str, map_id: int | None, query: JourneyQuery, goal: str
) -> pd.DataFrame:
    return analysis.compute_time_to_convert(dataset_id, goal, map_id=map_id, query=query)


@st.cache_data(**CACHE)
def load_time_in_stage(dataset_id: int, token: str, map_id: int | None, query: JourneyQuery) -> pd.DataFrame:
    return analysis.compute_time_in_stage(dataset_id, map_id=map_id, query=query)


def as_tuple(values: Sequence[str] | None) -> tuple[str, ...]:
    """Widget lists as hashable tuples (cache keys)."""
    return tuple(values or ())
