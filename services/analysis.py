"""Running analyses on a dataset, and describing it for the controls of the analysis pages.

Every analysis is an entry of the one registry (:data:`analytics.registry.ANALYSES`); it runs on
the one context (:func:`services.context.open_context`): the dataset seen through its map, the
journey query and the conversion definition. Semantics of each analysis: its module's docstring.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from analytics.engine import execute_scalar
from analytics.journeys import JourneyQuery, resolve_column
from analytics.registry import ANALYSES, run_analysis
from analytics.schema import Role
from services.context import FILTER_CHOICES, AnalysisContext, list_column_values
from services.datasets import list_dataset_summaries

# Columns a user may filter on or break a funnel down by (besides segments), in display order.
FILTER_ROLES: tuple[Role, ...] = (Role.CHANNEL, Role.ROLE, Role.OUTCOME)
BREAKDOWN_ROLES: tuple[Role, ...] = (Role.CHANNEL, Role.ROLE, Role.OUTCOME, Role.STAGE, Role.CONTACT, Role.ACCOUNT)


def content_key(ctx: AnalysisContext) -> tuple[object, ...] | None:
    """What names the dataset's content: its events file with its size and modification time (any
    rewrite changes it); None for a table on another backend (nothing kept for it)."""
    path = ctx.source.parquet_path
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (ctx.dataset_id, path, stat.st_size, stat.st_mtime_ns)


def run(name: str, ctx: AnalysisContext, *, query: JourneyQuery | None = None, **params: Any) -> Any:
    """The analysis ``name`` of the registry on ``ctx`` (``query``: another query of the same dataset).
    An analysis that keeps its fitted model (the entry's ``keeps_fit``: the outlook) keeps it per
    dataset content (:func:`content_key`), definition, level, as-of date and active days, so a display
    setting does not refit."""
    if name in ANALYSES and ANALYSES[name].keeps_fit and "fit_key" not in params:
        params["fit_key"] = content_key(ctx)
    return run_analysis(name, ctx.inputs(query), **params)


def first_dataset_id(*, engine: Engine | None = None) -> int | None:
    """The id of the first dataset (pages open it when the URL names none), or None."""
    datasets = list_dataset_summaries(engine=engine)
    return datasets[0].id if datasets else None


# --------------------------------------------------------------------------- describing a dataset


def list_nodes(ctx: AnalysisContext) -> list[str]:
    """Node names at the context's level (touchpoints, stages or channels), most steps first."""
    volumes = run("node_volumes", ctx, query=replace(ctx.query, through=()))
    return volumes["node"].tolist()


def count_column_values(ctx: AnalysisContext, column: str) -> int:
    """How many distinct values a column (a role or a segment's name) has."""
    events = ctx.events()
    return int(execute_scalar(events[resolve_column(ctx.schema, column)].nunique()))


def list_breakdown_columns(ctx: AnalysisContext) -> list[str]:
    """Columns a funnel can be broken down by: the roles present, then the segments."""
    return [r.value for r in BREAKDOWN_ROLES if ctx.schema.has(r)] + list(ctx.schema.segments)


def list_filter_columns(ctx: AnalysisContext) -> list[str]:
    """Roles present that the filters can use (channel, role, outcome)."""
    return [r.value for r in FILTER_ROLES if ctx.schema.has(r)]


def list_levels(ctx: AnalysisContext) -> list[str]:
    """Node levels the dataset can be analysed at: touchpoint, stage (when known), channel (when present)."""
    return [
        "touchpoint",
        *(["stage"] if ctx.has_stages else []),
        *(["channel"] if ctx.schema.has(Role.CHANNEL) else []),
    ]


__all__ = [
    "FILTER_CHOICES",
    "count_column_values",
    "first_dataset_id",
    "list_breakdown_columns",
    "list_column_values",
    "list_filter_columns",
    "list_levels",
    "list_nodes",
    "run",
]
