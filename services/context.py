"""The one analysis context: a dataset seen through a map, with its conversion definition.

Every analysis (the registry :mod:`analytics.registry`), page, CLI command and report starts from
:func:`open_context`, so they all agree on the events, the map's touchpoint labels and stage order,
and what "converted" means.

- Dataset and map: the ids given, refused with the nearest real ones when they do not exist
  (never replaced by another dataset or map). Without a map id, the map the dataset is linked to.
- Relabelling: activities → the map's touchpoint labels → the map's stages
  (:func:`services.linking.get_journey_labels`), written into the query.
- Stage order: the linked map's stages in order; without a map, the order the caller gives
  (``stage_order``), else none (analyses then use the data's first-appearance order).
- Conversion (:mod:`services.conversion`): the definition saved for this dataset seen through this
  map, else the dataset's own, else not defined; an ``override`` (``--goal`` in the CLI, ``?goal=``
  on a page) replaces it for one view, its names checked first.
- ``through`` nodes are checked against the dataset's names, like goals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ibis.expr.types import Table
from sqlalchemy import Engine

from analytics.conversion import NOT_DEFINED, Conversion, KnownNames, check_conversion, check_names, known_names
from analytics.engine import EventSource, events_table
from analytics.journeys import JourneyQuery
from analytics.registry import Inputs
from analytics.schema import EventSchema, Role
from core.errors import BadInputError, UnknownNameError
from db import crud
from db.engine import read_session
from db.models import ConversionDefinition
from services.linking import TouchpointRef, get_journey_labels, map_touchpoints

ConversionScope = Literal["map", "dataset", "override", "none"]


@dataclass(frozen=True)
class AnalysisContext:
    """What every analysis of a dataset runs on (hashable: it keys caches)."""

    dataset_id: int
    dataset_name: str
    map_id: int | None
    source: EventSource
    schema: EventSchema
    query: JourneyQuery
    stage_order: tuple[str, ...] = ()
    touchpoints: tuple[TouchpointRef, ...] = ()
    stages: tuple[tuple[str, int], ...] = ()  # the map's (stage name, stage id), in order
    conversion: Conversion = NOT_DEFINED
    conversion_scope: ConversionScope = "none"

    def events(self) -> Table:
        return events_table(self.source)

    def inputs(self, query: JourneyQuery | None = None) -> Inputs:
        """The analytics inputs of this context (optionally with another query of the same dataset)."""
        return Inputs(
            events=self.events(),
            schema=self.schema,
            query=query if query is not None else self.query,
            conversion=self.conversion,
            stage_order=self.stage_order,
            touchpoint_order=tuple(t.label for t in self.touchpoints),
        )

    def with_query(self, **changes: object) -> AnalysisContext:
        """The same context with some query fields changed (level, by, repeats, filters)."""
        return replace(self, query=replace(self.query, **changes))  # type: ignore[arg-type]

    def unfiltered(self) -> AnalysisContext:
        """The same context with no filter (dates, channels, roles, outcomes, segments, ``through``): the
        names a control offers, so a filter that keeps no journey at a node never drops the node."""
        return self.with_query(
            date_from=None, date_to=None, channels=(), roles=(), outcomes=(), segments=(), through=()
        )

    @property
    def has_stages(self) -> bool:
        """True when the dataset can be analysed at stage level (a stage column, or a link to a map)."""
        return self.schema.has(Role.STAGE) or bool(self.query.stage_of)


def _dataset_choices(session) -> list[str]:  # noqa: ANN001
    return [f"{d.id} ({d.name})" for d in crud.list_datasets(session=session)]


def _map_choices(session) -> list[str]:  # noqa: ANN001
    return [f"{m.id} ({m.name})" for m in crud.list_maps(session=session)]


def _no_such(what: str, given: int, choices: list[str], none_yet: str) -> UnknownNameError:
    """The refusal of a ``what`` id that does not exist: five of the real ones, and how many more."""
    return UnknownNameError(
        what,
        given,
        choices[:5],
        message=f"There is no {what} {given}" + ("" if choices else f" ({none_yet})"),
        more=len(choices) - 5,
    )


def check_dataset_id(session, dataset_id: int) -> None:  # noqa: ANN001
    """Refuse a dataset id that does not exist, naming the datasets there are."""
    from db.models import Dataset

    if session.get(Dataset, dataset_id) is None:
        raise _no_such("dataset", dataset_id, _dataset_choices(session), "no dataset is imported yet")


def check_map_id(session, map_id: int) -> None:  # noqa: ANN001
    """Refuse a map id that does not exist, naming the maps there are."""
    from db.models import JourneyMap

    if session.get(JourneyMap, map_id) is None:
        raise _no_such("map", map_id, _map_choices(session), "no map yet")


def saved_conversion(
    session,
    dataset_id: int,
    map_id: int | None,  # noqa: ANN001
) -> tuple[Conversion, ConversionScope]:
    """The definition in effect for a dataset seen through a map: the map's, else the dataset's."""
    from sqlmodel import select

    rows = session.exec(select(ConversionDefinition).where(ConversionDefinition.dataset_id == dataset_id)).all()
    by_map = {r.map_id: r for r in rows}
    row, scope = (by_map.get(map_id), "map") if map_id is not None else (None, "map")
    if row is None:
        row, scope = by_map.get(None), "dataset"
    if row is None:
        return NOT_DEFINED, "none"
    definition = Conversion(
        goals=tuple(row.goals),
        outcomes=tuple(row.outcomes),
        within_days=row.within_days,
        lost_goals=tuple(row.lost_goals),
        lost_outcomes=tuple(row.lost_outcomes),
    )
    return definition, scope  # type: ignore[return-value]


def open_context(
    dataset_id: int,
    map_id: int | None = None,
    *,
    query: JourneyQuery | None = None,
    conversion: Conversion | None = None,
    stage_order: Sequence[str] | None = None,
    engine: Engine | None = None,
) -> AnalysisContext:
    """The context of ``dataset_id`` seen through ``map_id`` (default: the map it is linked to).

    ``query`` brings the level, node, repeats and filters (its relabelling is replaced by the map's
    links); ``conversion`` overrides the saved definition for this context; ``stage_order`` orders
    the stages of a log seen through no map (:func:`_check_stage_order`: refused where a map gives
    the order, or where it names a stage the log lacks). Raises :class:`UnknownNameError` for an
    unknown dataset, map, goal, stage, ``through`` node or filter value (:func:`check_filter_values`),
    :class:`BadInputError` for a stage order that cannot be used.
    """
    from services.datasets import get_event_source

    with read_session(engine) as session:
        check_dataset_id(session, dataset_id)
        dataset = crud.get_dataset(session=session, dataset_id=dataset_id)
        if map_id is not None:
            check_map_id(session, map_id)
        the_map = map_id if map_id is not None else dataset.map_id
        name = dataset.name
        stage_rows = list(crud.list_stages(session=session, map_id=the_map)) if the_map is not None else []
        saved, scope = saved_conversion(session, dataset_id, the_map)
    source, schema = get_event_source(dataset_id, engine=engine)
    touchpoint_of, stage_of = (
        get_journey_labels(dataset_id, the_map, engine=engine) if the_map is not None else ((), ())
    )
    base = query if query is not None else JourneyQuery()
    q = replace(base, touchpoint_of=tuple(touchpoint_of), stage_of=tuple(stage_of))
    map_order = tuple(s.name for s in stage_rows) if stage_of else ()
    ctx = AnalysisContext(
        dataset_id=dataset_id,
        dataset_name=name,
        map_id=the_map,
        source=source,
        schema=schema,
        query=q,
        stage_order=map_order or tuple(stage_order or ()),
        touchpoints=map_touchpoints(the_map, engine=engine) if the_map is not None else (),
        stages=tuple((s.name, s.id or 0) for s in stage_rows),
        conversion=saved,
        conversion_scope=scope,
    )
    if stage_order:
        _check_stage_order(ctx, tuple(stage_order), map_order)
    names = context_names(ctx) if conversion is not None or q.through else None
    if q.through:
        check_names(q.through, names.nodes, "touchpoint, activity or stage")  # type: ignore[union-attr]
    check_filter_values(ctx)
    if conversion is not None:
        ctx = override_conversion(ctx, conversion, names)
    return ctx


def _check_stage_order(ctx: AnalysisContext, order: tuple[str, ...], map_order: tuple[str, ...]) -> None:
    """Refuse a stage order of the caller's that would be ignored (the map gives the order) or that
    names a stage the log does not have (with the nearest real ones)."""
    if map_order:
        raise BadInputError(
            f"the stage order comes from the map's stages ({' → '.join(map_order)}); a stage order of your own "
            "is for a log linked to no map",
            value=", ".join(order),
            expected="no stage order: the map's stages give it (reorder them in the Map studio)",
        )
    if not ctx.schema.has(Role.STAGE):
        raise BadInputError(
            "this log has no stage column and is seen through no map, so it has no stages to order",
            value=", ".join(order),
            expected="a log with a stage column, or one linked to a map",
        )
    if not set(order) <= values_present(ctx, Role.STAGE.value, order):
        check_names(order, sorted(list_column_values(ctx, Role.STAGE.value, limit=None)), "stage")


def check_column(ctx: AnalysisContext, column: str) -> str:
    """The stored column of ``column`` (a role or a segment's name); a name that is neither is refused
    with the nearest real one (:func:`analytics.journeys.resolve_column`), as every unknown name is."""
    from analytics.journeys import resolve_column

    return resolve_column(ctx.schema, column)


def values_present(ctx: AnalysisContext, column: str, values: Sequence[str]) -> set[str]:
    """Those of ``values`` that ``column`` (a role or a segment's name) holds, read with one query over
    just them (a column may hold millions of others)."""
    from analytics.engine import execute

    if not values:
        return set()
    col = check_column(ctx, column)
    events = ctx.events()
    found = execute(events.filter(events[col].cast("string").isin(list(values))).select(col).distinct())
    return set(found[col].astype(str))


FILTER_CHOICES = 200  # values a filter offers at most (the most frequent)


def list_column_values(ctx: AnalysisContext, column: str, *, limit: int | None = FILTER_CHOICES) -> list[str]:
    """Distinct values of a column (a role or a segment's name), most events first, at most ``limit``
    (a link's other values: :func:`values_present`; ``limit`` None: every one)."""
    from analytics.engine import execute

    events = ctx.events()
    col = check_column(ctx, column)
    t = events.filter(events[col].notnull())
    counts = execute(t.group_by(col).aggregate(n=t.count()).order_by([t.count().desc(), col]).limit(limit))
    return counts[col].astype(str).tolist()


def check_filter_values(ctx: AnalysisContext) -> None:
    """Refuse a filter value the dataset does not have (a channel, contact role, outcome or segment
    value), with the nearest real ones: a misspelt value would otherwise keep no journey, silently."""

    q = ctx.query
    asked = [
        ("channel", q.channels, "channel"),
        ("role", q.roles, "contact role"),
        ("outcome", q.outcomes, "outcome"),
        *((name, values, f"value of {name}") for name, values in q.segments),
    ]
    for column, values, what in asked:
        if set(values) <= values_present(ctx, column, values):
            continue
        # The whole column is read for the nearest names only when a value is missing.
        check_names(values, sorted(list_column_values(ctx, column, limit=None)), what)


def override_conversion(
    ctx: AnalysisContext, conversion: Conversion, names: KnownNames | None = None
) -> AnalysisContext:
    """``ctx`` converting as ``conversion`` says for this view only (its names checked first)."""
    names = names or context_names(ctx)
    check_conversion(conversion, names, has_outcome=ctx.schema.has(Role.OUTCOME))
    return replace(ctx, conversion=conversion, conversion_scope="override" if conversion.defined else "none")


def context_names(ctx: AnalysisContext) -> KnownNames:
    """Every touchpoint, activity, stage and outcome name of the context's dataset."""
    return known_names(ctx.events(), ctx.schema, ctx.query)


__all__ = [
    "AnalysisContext",
    "ConversionScope",
    "check_column",
    "context_names",
    "open_context",
    "override_conversion",
    "saved_conversion",
]
