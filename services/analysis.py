"""Journey analytics on a stored dataset: given a dataset (and optionally a map) and parameters, DataFrames.

Every use case opens the dataset's events (:func:`services.datasets.get_event_source`), completes the
query with the dataset's link to a map (activity → touchpoint, touchpoint → stage, from
:func:`services.linking.get_journey_labels`: the given ``map_id``, else the dataset's own map) and
runs one analysis of :mod:`analytics`. The semantics of each analysis are in its module's docstring.

Stage order for "earlier" (non-linearity, stage flow): the linked map's stage order when there is
one; else the ``stage_order`` given; stages the order does not list follow in first-appearance order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd
from ibis.expr.types import Table
from sqlalchemy import Engine

from analytics import funnel as funnel_core
from analytics import nonlinearity as nonlinearity_core
from analytics import outcomes as outcomes_core
from analytics import paths as paths_core
from analytics import sankey as sankey_core
from analytics import summary as summary_core
from analytics import timing as timing_core
from analytics import transitions as transitions_core
from analytics.engine import events_table, execute
from analytics.funnel import FunnelSpec
from analytics.journeys import JourneyQuery, node_labels, resolve_column
from analytics.schema import EventSchema, Role
from db import crud
from db.engine import read_session
from services.datasets import get_event_source, list_dataset_summaries

try:  # The import engineer's link service; until it lands, datasets are analysed unlinked.
    from services.linking import get_journey_labels as _get_journey_labels
except ImportError:  # pragma: no cover - depends on what main holds
    _get_journey_labels = None

# Columns a user may filter on or break a funnel down by (besides segments), in display order.
FILTER_ROLES: tuple[Role, ...] = (Role.CHANNEL, Role.ROLE, Role.OUTCOME, Role.STAGE)
BREAKDOWN_ROLES: tuple[Role, ...] = (Role.CHANNEL, Role.ROLE, Role.OUTCOME, Role.STAGE, Role.CONTACT, Role.ACCOUNT)


@dataclass(frozen=True)
class Analysis:
    """What one use case runs on: the events, their schema, the completed query, the map's stages."""

    events: Table
    schema: EventSchema
    query: JourneyQuery
    map_id: int | None
    map_stage_order: tuple[str, ...]

    def stage_order(self, given: Sequence[str] | None = None) -> tuple[str, ...] | None:
        """The map's stage order when linked, else ``given`` (None: first-appearance order)."""
        if self.map_stage_order:
            return self.map_stage_order
        return tuple(given) if given else None


def journey_labels(dataset_id: int, map_id: int | None = None, *, engine: Engine | None = None) -> tuple[tuple, tuple]:
    """``(touchpoint_of, stage_of)`` of the dataset's link to a map, or two empty tuples."""
    if _get_journey_labels is None:
        return (), ()
    return _get_journey_labels(dataset_id, map_id, engine=engine)


def linked_map_id(dataset_id: int, map_id: int | None = None, *, engine: Engine | None = None) -> int | None:
    """``map_id`` if given, else the map the dataset is linked to (None when it has none)."""
    if map_id is not None:
        return map_id
    with read_session(engine) as session:
        return crud.get_dataset(session=session, dataset_id=dataset_id).map_id


def get_map_stage_order(map_id: int | None, *, engine: Engine | None = None) -> tuple[str, ...]:
    """The stage names of a map in their order (empty for no map)."""
    if map_id is None:
        return ()
    with read_session(engine) as session:
        crud.get_map(session=session, map_id=map_id)
        return tuple(s.name for s in crud.list_stages(session=session, map_id=map_id))


def open_analysis(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> Analysis:
    """The events and the completed query of a dataset (links of the map, when there is one)."""
    source, schema = get_event_source(dataset_id, engine=engine)
    the_map = linked_map_id(dataset_id, map_id, engine=engine)
    touchpoint_of, stage_of = journey_labels(dataset_id, the_map, engine=engine) if the_map is not None else ((), ())
    if touchpoint_of or stage_of:
        query = replace(query, touchpoint_of=tuple(touchpoint_of), stage_of=tuple(stage_of))
    return Analysis(
        events=events_table(source),
        schema=schema,
        query=query,
        map_id=the_map,
        map_stage_order=get_map_stage_order(the_map, engine=engine) if stage_of else (),
    )


def first_dataset_id(*, engine: Engine | None = None) -> int | None:
    """The id of the first dataset (pages open it when the URL names none), or None."""
    datasets = list_dataset_summaries(engine=engine)
    return datasets[0].id if datasets else None


# --------------------------------------------------------------------------- describing a dataset


def get_schema(dataset_id: int, *, engine: Engine | None = None) -> EventSchema:
    return get_event_source(dataset_id, engine=engine)[1]


def list_nodes(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> list[str]:
    """Node names at the query's level (touchpoints, stages or channels), most steps first."""
    a = open_analysis(dataset_id, map_id=map_id, query=replace(query, through=()), engine=engine)
    volumes = transitions_core.compute_node_volumes(a.events, a.schema, a.query)
    return volumes["node"].tolist()


def list_goal_candidates(dataset_id: int, *, map_id: int | None = None, engine: Engine | None = None) -> list[str]:
    """Names a goal can take: stages first (map order, then the data's), then touchpoints."""
    a = open_analysis(dataset_id, map_id=map_id, engine=engine)
    names: list[str] = list(a.map_stage_order)
    if a.schema.has(Role.STAGE) or a.query.stage_of:
        names += execute(node_labels(a.events, a.schema, replace(a.query, by="stage")))["node"].sort_values().tolist()
    names += execute(node_labels(a.events, a.schema, replace(a.query, by="touchpoint")))["node"].sort_values().tolist()
    return list(dict.fromkeys(n for n in names if n))


def default_goal(dataset_id: int, *, map_id: int | None = None, engine: Engine | None = None) -> str | None:
    """The linked map's last stage, or None."""
    stages = get_map_stage_order(linked_map_id(dataset_id, map_id, engine=engine), engine=engine)
    return stages[-1] if stages else None


def has_stages(dataset_id: int, *, map_id: int | None = None, engine: Engine | None = None) -> bool:
    """True when the dataset can be analysed at stage level (a stage column, or a link to a map)."""
    a = open_analysis(dataset_id, map_id=map_id, engine=engine)
    return a.schema.has(Role.STAGE) or bool(a.query.stage_of)


def list_column_values(dataset_id: int, column: str, *, limit: int = 200, engine: Engine | None = None) -> list[str]:
    """Distinct values of a column (a role or a segment's name), most events first, at most ``limit``."""
    source, schema = get_event_source(dataset_id, engine=engine)
    events = events_table(source)
    col = resolve_column(schema, column)
    t = events.filter(events[col].notnull())
    counts = execute(t.group_by(col).aggregate(n=t.count()).order_by([t.count().desc(), col]).limit(limit))
    return counts[col].astype(str).tolist()


def list_breakdown_columns(dataset_id: int, *, engine: Engine | None = None) -> list[str]:
    """Columns a funnel can be broken down by: the roles present, then the segments."""
    schema = get_schema(dataset_id, engine=engine)
    return [r.value for r in BREAKDOWN_ROLES if schema.has(r)] + list(schema.segments)


def list_filter_columns(dataset_id: int, *, engine: Engine | None = None) -> list[str]:
    """Roles present that the filters can use (channel, role, outcome)."""
    schema = get_schema(dataset_id, engine=engine)
    return [r.value for r in FILTER_ROLES if r is not Role.STAGE and schema.has(r)]


# --------------------------------------------------------------------------- the analyses


def compute_summary(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return summary_core.compute_summary(a.events, a.schema, a.query)


def compute_transitions(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    include_entry_exit: bool = True,
    top: int | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return transitions_core.compute_transitions(
        a.events, a.schema, a.query, include_entry_exit=include_entry_exit, top=top
    )


def compute_transition_graph(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    stage_order: Sequence[str] | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Transitions (with entry and exit) and each one's ``direction`` (forward, backward to an
    earlier stage, repeat, entry, exit): the data of the transition graph."""
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    t = transitions_core.compute_transitions(a.events, a.schema, a.query)
    return nonlinearity_core.mark_directions(t, a.events, a.schema, a.query, a.stage_order(stage_order))


def compute_node_volumes(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return transitions_core.compute_node_volumes(a.events, a.schema, a.query)


def compute_step_sankey(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    steps: int = 5,
    top_per_step: int = 8,
    anchor: sankey_core.Anchor = "start",
    anchor_node: str | None = None,
    goal: str | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return sankey_core.compute_step_sankey(
        a.events,
        a.schema,
        a.query,
        steps=steps,
        top_per_step=top_per_step,
        anchor=anchor,
        anchor_node=anchor_node,
        goal=goal,
    )


def compute_stage_flow(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    stage_order: Sequence[str] | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return sankey_core.compute_stage_flow(a.events, a.schema, a.query, stage_order=a.stage_order(stage_order))


def compute_funnel(
    dataset_id: int,
    spec: FunnelSpec,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return funnel_core.compute_funnel(a.events, a.schema, a.query, spec)


def compute_funnel_breakdown(
    dataset_id: int,
    spec: FunnelSpec,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    top: int = 10,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return funnel_core.compute_funnel_breakdown(a.events, a.schema, a.query, spec, top=top)


def compute_dropped_journeys(
    dataset_id: int,
    spec: FunnelSpec,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return funnel_core.compute_dropped_journeys(a.events, a.schema, a.query, spec)


def compute_variants(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(by="stage"),
    goal: str | None = None,
    top: int | None = 20,
    include_other: bool = False,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return paths_core.compute_variants(a.events, a.schema, a.query, goal=goal, top=top, include_other=include_other)


def compute_nonlinearity(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    stage_order: Sequence[str] | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return nonlinearity_core.compute_nonlinearity(a.events, a.schema, a.query, stage_order=a.stage_order(stage_order))


def compute_top_loops(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    stage_order: Sequence[str] | None = None,
    top: int | None = 10,
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return nonlinearity_core.compute_top_loops(
        a.events, a.schema, a.query, stage_order=a.stage_order(stage_order), top=top
    )


def compute_stage_order(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    stage_order: Sequence[str] | None = None,
    engine: Engine | None = None,
) -> list[str]:
    """The stage order the non-linearity and stage-flow views use for this dataset."""
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    q = replace(a.query, by="stage", collapse_repeats=True)
    return nonlinearity_core.resolve_stage_order(a.events, a.schema, q, a.stage_order(stage_order))


def compute_outcomes(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return outcomes_core.compute_outcomes(a.events, a.schema, a.query)


def compute_time_to_convert(
    dataset_id: int,
    goal: str,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return timing_core.compute_time_to_convert(a.events, a.schema, a.query, goal)


def compute_time_in_stage(
    dataset_id: int,
    *,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(by="stage"),
    engine: Engine | None = None,
) -> pd.DataFrame:
    a = open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)
    return timing_core.compute_time_in_stage(a.events, a.schema, a.query)
