"""Cached loaders of the analysis pages: the context, any analysis of the registry, and what the
controls offer. One cache-key rule: ``token`` names the dataset's version (its id and creation time),
then the context (frozen: dataset, map, query, conversion) and the analysis's parameters.

Results are plain data; caches are bounded and cleared by ``components.loaders.clear_caches()``
after writes (a conversion definition saved, a link changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from analytics.conversion import Conversion, KnownNames
from analytics.journeys import JourneyQuery
from services import analysis
from services.context import AnalysisContext, context_names, open_context
from services.conversion import ConversionLine, Suggestion, compute_conversion_line, suggest_conversions

CACHE = {"show_spinner": False, "ttl": 600, "max_entries": 48}


@st.cache_data(**CACHE)
def load_context(
    dataset_id: int,
    token: str,
    map_id: int | None,
    query: JourneyQuery,
    conversion: Conversion | None = None,
    stage_order: tuple[str, ...] = (),
) -> AnalysisContext:
    """The one analysis context (unknown dataset, map, goal or ``through`` names are refused)."""
    return open_context(dataset_id, map_id, query=query, conversion=conversion, stage_order=stage_order or None)


@st.cache_data(**CACHE)
def load_analysis(name: str, token: str, ctx: AnalysisContext, params: tuple[tuple[str, Any], ...] = ()) -> Any:
    """The analysis ``name`` of the registry on ``ctx`` (``params`` as sorted ``(name, value)`` pairs)."""
    return analysis.run(name, ctx, **dict(params))


def run(name: str, token: str, ctx: AnalysisContext, **params: Any) -> Any:
    """:func:`load_analysis` with keyword parameters."""
    return load_analysis(name, token, ctx, tuple(sorted(params.items())))


@st.cache_data(**CACHE)
def load_conversion_line(token: str, ctx: AnalysisContext) -> ConversionLine:
    return compute_conversion_line(ctx)


@st.cache_data(**CACHE)
def load_names(token: str, ctx: AnalysisContext) -> KnownNames:
    return context_names(ctx)


@st.cache_data(**CACHE)
def load_suggestions(token: str, ctx: AnalysisContext) -> list[Suggestion]:
    return suggest_conversions(ctx)


@st.cache_data(**CACHE)
def load_nodes(token: str, ctx: AnalysisContext) -> list[str]:
    return analysis.list_nodes(ctx)


@st.cache_data(**CACHE)
def load_column_values(token: str, ctx: AnalysisContext, column: str) -> list[str]:
    return analysis.list_column_values(ctx, column)


def as_tuple(values: Sequence[str] | None) -> tuple[str, ...]:
    """Widget lists as hashable tuples (cache keys)."""
    return tuple(values or ())
