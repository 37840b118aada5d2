"""From stored events to journeys: level, filters, node (touchpoint, stage or channel), repeats.

Every analysis starts from :func:`journey_steps`, so all views agree on what a journey is.

Semantics
- Level ``contact``: a journey is one ``journey_id``. Level ``account``: a journey is the
  time-ordered union of all events of an account's contacts (a buying committee moving together);
  order is timestamp, then position in the file.
- Order within a journey: timestamp, then position in the file (computed once at import as ``seq``
  and ``account_seq``), so ties never reorder between runs.
- Node: at ``touchpoint`` level, the touchpoint an activity is linked to (``touchpoint_of``), or the
  activity's own name where no link exists; at ``stage`` level, the linked stage (``stage_of``,
  keyed by touchpoint) or, where the activity's touchpoint has no stage, the event's ``stage``
  column; at ``channel`` level, the event's ``channel`` column. Events without a node are dropped
  (they take no step, and a journey made only of such events does not exist at that level).
- Filters: ``date_from``/``date_to`` (inclusive, UTC dates) keep the events in range; ``channels``,
  ``roles`` and ``segments`` keep matching events; ``outcomes`` keeps whole journeys that have one of
  the outcomes on any event; ``through`` keeps whole journeys that reach one of the named nodes
  (see :func:`reaching`), after the other filters.
- Repeats: with ``collapse_repeats`` (the default), consecutive events on the same node become one
  step (the first one's timestamp and attributes are kept); otherwise every event is a step.
- Reaching a node (goals, ``through``): a journey reaches a name when one of its kept events has that
  name as its activity, its touchpoint (after linking) or its stage (linked stage, else the ``stage``
  column), whatever the level of the analysis, so a goal can be a touchpoint, an activity or a stage
  (what converts: :mod:`analytics.conversion`).

Speed: nodes are carried as dense integer codes (``node_code``) through the window functions and
named only at the end; the names come from a small dictionary (:func:`node_labels`) built over the
unfiltered events, so codes are stable across filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from analytics.schema import (
    ACCOUNT_CODE,
    ACCOUNT_SEQ,
    ACTIVITY_CODE,
    FILE_ROW,
    FIRST_OF_ACTIVITY,
    FIRST_OF_PAIR,
    GAP_TO_NEXT,
    JOURNEY_CODE,
    JOURNEY_EVENTS,
    NEIGHBOUR_COLUMNS,
    NEXT_ACTIVITY_CODE,
    NEXT_STAGE,
    PREV_ACTIVITY_CODE,
    SEQ,
    STORED_COLUMN,
    EventSchema,
    Role,
    segment_column,
)
from core.errors import UnknownColumnError, close_names

Level = Literal["contact", "account"]
By = Literal["touchpoint", "stage", "channel"]
LEVELS: tuple[Level, ...] = ("contact", "account")
BYS: tuple[By, ...] = ("touchpoint", "stage", "channel")

# Columns of journey_steps().
JOURNEY = "journey"  # int code of the journey (journey_code or account_code)
JOURNEY_KEY = "journey_key"  # the journey's id as in the data (journey_id or account_id)
STEP = "step"  # 0-based step number within the journey
POSITION = "position"  # the step's place in the journey's stored event order (increasing, may skip)
NODE = "node"  # touchpoint, stage or channel name
NODE_CODE = "node_code"  # dense int code of the node (stable for a dataset and a labelling)
TS = "timestamp"

_ORDER = "_order"
_NULL_KEY = "\x00"  # stands for a missing stage in dictionary joins (null never equals null)


@dataclass(frozen=True)
class JourneyQuery:
    """What a journey is for an analysis; frozen and hashable, so it keys caches."""

    level: Level = "contact"
    by: By = "touchpoint"
    collapse_repeats: bool = True
    date_from: date | None = None
    date_to: date | None = None
    channels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    # (segment source name, allowed values) pairs.
    segments: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # activity → touchpoint name, from a dataset's link to a map.
    touchpoint_of: tuple[tuple[str, str], ...] = ()
    # touchpoint name → stage name, from the linked map.
    stage_of: tuple[tuple[str, str], ...] = ()
    # keep only journeys that reach one of these touchpoints or stages
    through: tuple[str, ...] = ()


def _require(schema: EventSchema, role: Role, why: str) -> str:
    if not schema.has(role):
        raise UnknownColumnError(f"{why} needs a {role.value} column, and this dataset has none")
    return schema.column(role)


def _lookup(column: ibis.Value, pairs: tuple[tuple[str, str], ...]) -> ibis.Value:
    """Relabel ``column`` through ``pairs`` (values not listed are kept)."""
    if not pairs:
        return column
    return column.substitute(dict(pairs))


def touchpoint_label(t: Table, query: JourneyQuery) -> ibis.Value:
    """The touchpoint name of each event: its linked touchpoint, else its activity."""
    return _lookup(t.activity, query.touchpoint_of)


def stage_label(t: Table, schema: EventSchema, query: JourneyQuery) -> ibis.Value | None:
    """The stage name of each event (linked stage, else the stage column), or None if there is none."""
    if query.stage_of:
        node = touchpoint_label(t, query).substitute(dict(query.stage_of), else_=ibis.null("string"))
        return node.coalesce(t.stage) if schema.has(Role.STAGE) else node
    if schema.has(Role.STAGE):
        return t.stage
    return None


def filter_events(events: Table, schema: EventSchema, query: JourneyQuery) -> Table:
    """Apply the event and journey filters of ``query`` (all but ``through``) to stored events."""
    t = events
    if query.date_from is not None:
        t = t.filter(t.timestamp >= ibis.literal(datetime.combine(query.date_from, time.min, tzinfo=UTC)))
    if query.date_to is not None:
        end = datetime.combine(query.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        t = t.filter(t.timestamp < ibis.literal(end))
    if query.channels:
        t = t.filter(t[_require(schema, Role.CHANNEL, "a channel filter")].isin(query.channels))
    if query.roles:
        t = t.filter(t[_require(schema, Role.ROLE, "a role filter")].isin(query.roles))
    for name, values in query.segments:
        if name not in schema.segments:
            raise UnknownColumnError(f"this dataset has no segment column {name!r}")
        t = t.filter(t[segment_column(name)].isin(values))
    if query.outcomes:
        col = _require(schema, Role.OUTCOME, "an outcome filter")
        key = ACCOUNT_CODE if query.level == "account" else JOURNEY_CODE
        keep = events.filter(events[col].isin(query.outcomes)).select(key).distinct()
        t = t.filter(t[key].isin(keep[key]))
    return t


def _journey_code(query: JourneyQuery) -> str:
    return ACCOUNT_CODE if query.level == "account" else JOURNEY_CODE


def order_column(query: JourneyQuery) -> str:
    """The stored event order of a journey at the query's level (what :func:`reaching` reports)."""
    return ACCOUNT_SEQ if query.level == "account" else SEQ


def join_per_journey(t: Table, other: Table, *, how: Literal["left", "inner"] = "left") -> Table:
    """``t`` with ``other``'s columns, matched on the journey (``other`` has one row per journey)."""
    joined = t.join(other, JOURNEY, how=how)
    return joined.drop(f"{JOURNEY}_right") if f"{JOURNEY}_right" in joined.columns else joined


def _with_journey(t: Table, query: JourneyQuery) -> Table:
    if query.level == "account":
        return t.mutate(**{JOURNEY: t[ACCOUNT_CODE], _ORDER: t[ACCOUNT_SEQ]})
    return t.mutate(**{JOURNEY: t[JOURNEY_CODE], _ORDER: t[SEQ]})


def reaching(events: Table, schema: EventSchema, query: JourneyQuery, names: Sequence[str]) -> Table:
    """Journeys (at ``query.level``, after its filters but ``through``) that reach one of ``names``.

    Columns ``journey`` and ``reached_at`` (timestamp of the first event whose activity, touchpoint
    or stage is one of ``names``) and ``reached_order`` (that event's position in the journey's event
    order, an int64).
    """
    t = _with_journey(filter_events(events, schema, query), query)
    names = tuple(names)
    hit = touchpoint_label(t, query).isin(names)
    if query.touchpoint_of:  # an activity linked to a touchpoint is still reached by its own name
        hit = hit | t.activity.isin(names)
    stage = stage_label(t, schema, query)
    if stage is not None:
        hit = hit | stage.isin(names).fill_null(False)
    t = t.filter(hit)
    return t.group_by(JOURNEY).aggregate(reached_at=t[TS].min(), reached_order=t[_ORDER].min().cast("int64"))


def _node_dictionary(events: Table, schema: EventSchema, query: JourneyQuery) -> tuple[Table, tuple[str, ...]]:
    """(dictionary, join keys): one row per distinct key with ``node`` and ``node_code``."""
    if query.by == "channel":
        _require(schema, Role.CHANNEL, "channel level")
        d = events.select(_k_channel=events.channel).distinct()
        d = d.mutate(**{NODE: d._k_channel})
        keys: tuple[str, ...] = ("_k_channel",)
    elif query.by == "stage":
        if not query.stage_of:
            _require(schema, Role.STAGE, "stage level")
            d = events.select(_k_stage=events.stage).distinct()
            d = d.mutate(**{NODE: d._k_stage})
            keys = ("_k_stage",)
        elif schema.has(Role.STAGE):
            d = events.select(
                _k_act=events[ACTIVITY_CODE], activity=events.activity, _k_stage=events.stage.fill_null(_NULL_KEY)
            ).distinct()
            linked = touchpoint_label(d, query).substitute(dict(query.stage_of), else_=ibis.null("string"))
            d = d.mutate(**{NODE: linked.coalesce(d._k_stage.nullif(_NULL_KEY))})
            keys = ("_k_act", "_k_stage")
        else:
            d = events.select(_k_act=events[ACTIVITY_CODE], activity=events.activity).distinct()
            d = d.mutate(
                **{NODE: touchpoint_label(d, query).substitute(dict(query.stage_of), else_=ibis.null("string"))}
            )
            keys = ("_k_act",)
    else:
        d = events.select(_k_act=events[ACTIVITY_CODE], activity=events.activity).distinct()
        d = d.mutate(**{NODE: touchpoint_label(d, query)})
        keys = ("_k_act",)
    d = d.filter(d[NODE].notnull())
    names = d.select(NODE).distinct()
    names = names.mutate(**{NODE_CODE: ibis.dense_rank().over(order_by=names[NODE]).cast("int32")})
    d = d.join(names, NODE).select(*keys, NODE, NODE_CODE)
    return d, keys


def _drops_inner_events(query: JourneyQuery) -> bool:
    """True when a filter may drop an event that a kept one of its journey follows (``date_to``
    only cuts journeys' ends; ``outcomes`` and ``through`` keep or drop whole journeys)."""
    return bool(query.date_from is not None or query.channels or query.roles or query.segments)


def _drops_events(query: JourneyQuery) -> bool:
    """True when a filter may drop single events (not whole journeys)."""
    return _drops_inner_events(query) or query.date_to is not None


def _previous_stored(events: Table, query: JourneyQuery) -> bool:
    """True when the stored ``prev_activity_code`` is the previous kept event of each journey: the
    facts are there, journeys are contacts, nodes are touchpoints, and no kept event lost its
    predecessor to a filter."""
    return _facts_stored(events, query) and query.by == "touchpoint" and not _drops_inner_events(query)


def _facts_stored(events: Table, query: JourneyQuery) -> bool:
    """True when ``events`` carries the neighbour facts and the journeys are contacts (the facts
    describe contact journeys)."""
    return all(c in events.columns for c in NEIGHBOUR_COLUMNS) and query.level == "contact"


def _direct_codes(query: JourneyQuery) -> bool:
    """True when the node code is the stored activity code (no join needed)."""
    return query.by == "touchpoint" and not query.touchpoint_of


def _keeps_every_event(query: JourneyQuery) -> bool:
    """True when every stored event of a kept journey is a step (so ``seq`` is the step number)."""
    return _direct_codes(query) and not query.collapse_repeats and not _drops_events(query)


def _through(t: Table, events: Table, schema: EventSchema, query: JourneyQuery) -> Table:
    """``t`` (with a ``journey`` column) cut to the journeys that reach ``query.through``, if any."""
    if not query.through:
        return t
    keep = reaching(events, schema, query, query.through)
    return t.filter(t[JOURNEY].isin(keep[JOURNEY]))


def node_labels(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """The node dictionary of ``query``'s level: columns ``node_code`` and ``node`` (one row per node).

    Built over all stored events (filters do not change codes); join it to coded results to name them.
    """
    if _direct_codes(query):
        return events.select(**{NODE_CODE: events[ACTIVITY_CODE], NODE: events.activity}).distinct()
    d, _ = _node_dictionary(events, schema, query)
    return d.select(NODE_CODE, NODE).distinct()


def _key_columns(t: Table, keys: tuple[str, ...]) -> dict[str, ibis.Value]:
    source = {"_k_act": t[ACTIVITY_CODE], "_k_stage": None, "_k_channel": None}
    if "_k_stage" in keys:
        source["_k_stage"] = t.stage.fill_null(_NULL_KEY) if "_k_act" in keys else t.stage
    if "_k_channel" in keys:
        source["_k_channel"] = t.channel
    return {k: source[k] for k in keys}


def _stored_columns(schema: EventSchema) -> list[str]:
    cols = [STORED_COLUMN[r] for r in Role if r is not Role.TIMESTAMP]
    return [*cols, *schema.segment_columns()]


def resolve_column(schema: EventSchema, name: str) -> str:
    """The stored column for ``name``: a role (``channel``), a segment's source name, or a stored name."""
    try:
        role = Role(name)
    except ValueError:
        role = None
    if role is not None:
        return _require(schema, role, f"the column {name!r}")
    if name in schema.segments:
        return segment_column(name)
    if name in schema.segment_columns():
        return name
    roles = sorted(r.value for r in schema.roles)
    nearest = close_names(name, [*roles, *schema.segments], n=3)
    raise UnknownColumnError(
        f"this dataset has no column {name!r} (roles: {', '.join(roles)}"
        + (f"; segments: {', '.join(schema.segments)}" if schema.segments else "")
        + ")"
        + (f"; nearest: {', '.join(repr(n) for n in nearest)}" if nearest else "")
    )


def journey_steps(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    columns: Sequence[str] | None = None,
    labelled: bool = True,
    numbered: bool = True,
) -> Table:
    """Steps of every journey: ``journey, step, position, timestamp, node_code`` and ``node`` (when
    ``labelled``).

    ``position`` orders the steps of a journey (it is the stored event order of the step's first
    event: increasing, not contiguous); ``step`` numbers them 0, 1, 2... With ``numbered=False`` there
    is no ``step`` column (one window function less: order by ``position`` instead).

    ``columns``: the stored columns to carry along (``journey_key`` for the journey's id as in the
    data); ``None`` carries ``journey_key``, ``file_row`` and every stored column. Ask only for what
    you need: every carried column slows the window functions. With ``labelled=False`` the result has
    codes only; name them at the end with :func:`node_labels` (much faster on large logs).

    See the module docstring for the exact semantics of level, order, node, filters and repeats.
    """
    t = filter_events(events, schema, query)
    # Repeats collapse on the stored previous activity where it is the journey's previous event.
    prev = query.collapse_repeats and _previous_stored(events, query)
    if _direct_codes(query):
        t = t.mutate(**{NODE_CODE: t[ACTIVITY_CODE]})
        if prev:
            t = t.mutate(_prev_node=t[PREV_ACTIVITY_CODE])
    else:
        d, keys = _node_dictionary(events, schema, query)
        t = t.mutate(**_key_columns(t, keys))
        t = t.join(d.select(*keys, NODE_CODE), list(keys)).drop(*keys)
        if prev:  # touchpoint level: the dictionary is keyed by activity code alone
            before = d.select(_k_prev=d._k_act, _prev_node=d[NODE_CODE])
            t = t.left_join(before, t[PREV_ACTIVITY_CODE] == before._k_prev).drop("_k_prev")
    t = _with_journey(t, query)

    t = _through(t, events, schema, query)

    wanted = [JOURNEY_KEY, FILE_ROW, *_stored_columns(schema)] if columns is None else list(columns)
    extra: dict[str, ibis.Value] = {}
    for name in dict.fromkeys(wanted):
        if name == JOURNEY_KEY:
            extra[JOURNEY_KEY] = t.account_id if query.level == "account" else t.journey_id
        elif name not in (JOURNEY, STEP, TS, NODE_CODE, NODE):
            extra[name] = t[name]
    t = t.select(JOURNEY, _ORDER, TS, NODE_CODE, *(["_prev_node"] if prev else []), **extra)

    w = ibis.window(group_by=JOURNEY, order_by=_ORDER)
    if query.collapse_repeats:
        if not prev:
            t = t.mutate(_prev_node=t[NODE_CODE].lag().over(w))
        t = t.filter(t._prev_node.isnull() | (t._prev_node != t[NODE_CODE])).drop("_prev_node")
    t = t.mutate(**{POSITION: t[_ORDER].cast("int64")})
    if numbered:
        if _keeps_every_event(query):
            # The stored order is already 0..n-1 within each journey: no window needed.
            t = t.mutate(**{STEP: t[_ORDER].cast("int64")})
        else:
            t = t.mutate(**{STEP: ibis.row_number().over(w).cast("int64")})
    t = t.drop(_ORDER)
    if labelled:
        t = t.join(node_labels(events, schema, query), NODE_CODE)
    front = [JOURNEY, *([STEP] if numbered else []), POSITION, TS, NODE_CODE] + ([NODE] if labelled else [])
    return t.select(*front, *extra)


# Columns of event_neighbours().
NEXT_CODE = "next_code"  # node code of the journey's next event; null at its last event
GAP = "gap_seconds"  # seconds to the journey's next event (epoch seconds apart); null at its last event
NEXT_STAGE_COLUMN = "next_stage"  # stage column of the next event (with a stage column)
CONSECUTIVE = "consecutive"  # the previous event of the journey is on the same node
FIRST_VISIT = "first_visit"  # the journey's first event on this node
FIRST_PAIR = "first_pair"  # the journey's first event with this (node, next node) pair
LAST_STEP = "last_step"  # step number of the journey's last event


def _activity_nodes(events: Table, schema: EventSchema, query: JourneyQuery) -> dict[int, int] | None:
    """Activity code → touchpoint node code when no two activities share a touchpoint ({} when the
    node code is the activity code), else None."""
    if _direct_codes(query):
        return {}
    return _touchpoint_codes(events, schema, query.touchpoint_of)


# Above this many activities, relabelled touchpoints take the window functions: the relabelling
# array is written into the query, and compiling a huge query costs more than the windows save.
MAX_RELABELLED = 256


@lru_cache(maxsize=32)
def _touchpoint_codes(
    events: Table, schema: EventSchema, touchpoint_of: tuple[tuple[str, str], ...]
) -> dict[int, int] | None:
    # Cached per table object: an analysis asks first whether the facts apply, then reads them.
    from analytics.engine import execute

    d, _ = _node_dictionary(events, schema, JourneyQuery(touchpoint_of=touchpoint_of))
    pairs = execute(d.select("_k_act", NODE_CODE))
    if pairs[NODE_CODE].duplicated().any() or len(pairs) > MAX_RELABELLED:
        return None
    return {int(a): int(n) for a, n in zip(pairs["_k_act"], pairs[NODE_CODE], strict=True)}


def _relabel(codes: ibis.Value, nodes: dict[int, int]) -> ibis.Value:
    """Activity codes → node codes by position in one array (constant time per row, however many
    activities: a CASE over thousands of them is slow)."""
    table = [nodes.get(code) for code in range(max(nodes) + 1)]
    return ibis.literal(table, type="array<int32>")[codes]


def _stored_nodes(events: Table, schema: EventSchema, query: JourneyQuery) -> dict[int, int] | None:
    """:func:`_activity_nodes` where the stored neighbour facts answer ``query`` at touchpoint level
    (they are there, the journeys are contacts and every event of a kept journey stays), else None."""
    if not _facts_stored(events, query) or _drops_events(query):
        return None
    return _activity_nodes(events, schema, query)


def stored_steps(events: Table, query: JourneyQuery) -> Table | None:
    """:func:`journey_steps` (``journey, position, timestamp``, ``activity``, ``node_code``) read
    straight from the stored columns where they are its steps: contact journeys, nodes that are
    activities, no filter, and repeats kept or collapsed on the stored previous activity. Else None.
    A smaller query than the general one, which costs more to build and compile than to run here;
    its rows come in the stored order (by journey, then position) unless the engine reorders them
    (:func:`journey_arrays` puts them back in order)."""
    plain = JourneyQuery(level="contact", by="touchpoint", collapse_repeats=query.collapse_repeats)
    if query != plain:
        return None
    t = events
    if query.collapse_repeats:
        if not all(c in events.columns for c in NEIGHBOUR_COLUMNS):
            return None
        t = t.filter(t[PREV_ACTIVITY_CODE].isnull() | (t[PREV_ACTIVITY_CODE] != t[ACTIVITY_CODE]))
    return t.select(
        **{
            JOURNEY: t[JOURNEY_CODE],
            POSITION: t[SEQ].cast("int64"),
            TS: t[TS],
            "activity": t.activity,
            NODE_CODE: t[ACTIVITY_CODE],
        }
    )


def journey_arrays(table: pa.Table, *columns: str) -> tuple[np.ndarray, ...]:
    """``journey`` and ``columns`` (no nulls) of an Arrow result holding ``journey`` and
    ``position``, as numpy arrays by journey, then position: as they come when the engine kept the
    stored order (a scan of contact journeys), else sorted."""
    journey, position = table.column(JOURNEY).to_numpy(), table.column(POSITION).to_numpy()
    arrays = [table.column(c).to_numpy() for c in columns]
    dj = np.diff(journey)
    if len(journey) > 1 and not ((dj >= 0).all() and ((dj > 0) | (np.diff(position) > 0)).all()):
        order = np.lexsort((position, journey))  # a journey's steps together, in order
        journey, arrays = journey[order], [a[order] for a in arrays]
    return (journey, *arrays)


def whole_log_nodes(events: Table, schema: EventSchema, query: JourneyQuery) -> dict[int, int] | None:
    """Where ``query`` keeps every event of every contact journey (no filter of any kind) at
    touchpoint level, each touchpoint one activity: activity code → node code ({} when they are the
    same), to read the facts of the whole log the import stored (:mod:`analytics.file_facts`);
    None otherwise."""
    if query.by != "touchpoint" or query.level != "contact" or _drops_events(query):
        return None
    if query.outcomes or query.through:
        return None
    return _activity_nodes(events, schema, query)


def load_labels(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> pd.DataFrame:
    """:func:`node_labels` as a frame (``node_code``, ``node``): read from the file's stored
    activity dictionary where the nodes are the activities themselves, else queried."""
    from analytics.engine import execute

    stored = stored_labels(events, query)
    return stored if stored is not None else execute(node_labels(events, schema, query))


def stored_labels(events: Table, query: JourneyQuery) -> pd.DataFrame | None:
    """The node dictionary (``node_code``, ``node``, by code) from the activity dictionary the
    import stored in the file (:mod:`analytics.file_facts`), where the nodes are the activities
    themselves; else None."""
    from analytics.file_facts import read_file_facts

    if not _direct_codes(query):
        return None
    facts = read_file_facts(events)
    return None if facts is None else facts.labels.copy()


def neighbours_stored(events: Table, schema: EventSchema, query: JourneyQuery) -> bool:
    """True when :func:`event_neighbours` reads the stored facts for ``query`` (no window function)."""
    return _stored_nodes(events, schema, replace(query, by="touchpoint")) is not None


def event_neighbours(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    columns: Sequence[str] = (),
    pairs: bool = False,
) -> Table:
    """Every event of every journey at touchpoint level, repeats kept (``query.by`` and
    ``collapse_repeats`` are ignored), with what its neighbours say: ``journey, step, timestamp,
    node_code, next_code, gap_seconds, consecutive, first_visit, last_step``; ``next_stage``
    where the dataset has a stage column; ``first_pair`` with ``pairs``; and ``columns``.

    Same values either way: from the facts the import stored
    (:data:`analytics.schema.NEIGHBOUR_COLUMNS`, no window function) when the query keeps every
    event of a contact journey and each touchpoint is one activity; else from window functions over
    :func:`journey_steps`.
    """
    q = replace(query, by="touchpoint", collapse_repeats=False)
    has_stage = schema.has(Role.STAGE)
    nodes = _stored_nodes(events, schema, q)
    if nodes is None:
        carried = list(dict.fromkeys([*columns, *(["stage"] if has_stage else [])]))
        t = journey_steps(events, schema, q, columns=carried, labelled=False)
        w = ibis.window(group_by=JOURNEY, order_by=STEP)
        t = t.mutate(
            **{
                NEXT_CODE: t[NODE_CODE].lead().over(w),
                GAP: (t[TS].lead().over(w).epoch_seconds() - t[TS].epoch_seconds()).cast("float64"),
                **({NEXT_STAGE_COLUMN: t.stage.lead().over(w)} if has_stage else {}),
                CONSECUTIVE: (t[NODE_CODE].lag().over(w) == t[NODE_CODE]).fill_null(False),
                FIRST_VISIT: ibis.row_number().over(ibis.window(group_by=[JOURNEY, NODE_CODE], order_by=STEP)) == 0,
                LAST_STEP: t[STEP].max().over(w),
            }
        )
        if pairs:
            by_pair = ibis.window(group_by=[JOURNEY, NODE_CODE, NEXT_CODE], order_by=STEP)
            t = t.mutate(**{FIRST_PAIR: ibis.row_number().over(by_pair) == 0})
    else:
        t = filter_events(events, schema, q)  # only journey filters: every event of a kept journey stays
        node, following, previous = t[ACTIVITY_CODE], t[NEXT_ACTIVITY_CODE], t[PREV_ACTIVITY_CODE]
        if nodes:
            node, following, previous = (_relabel(c, nodes) for c in (node, following, previous))
        t = t.mutate(
            **{
                JOURNEY: t[JOURNEY_CODE],
                STEP: t[SEQ].cast("int64"),
                NODE_CODE: node,
                NEXT_CODE: following,
                GAP: t[GAP_TO_NEXT],
                **({NEXT_STAGE_COLUMN: t[NEXT_STAGE]} if has_stage else {}),
                CONSECUTIVE: (previous == node).fill_null(False),
                FIRST_VISIT: t[FIRST_OF_ACTIVITY],
                LAST_STEP: (t[JOURNEY_EVENTS] - 1).cast("int64"),
                **({FIRST_PAIR: t[FIRST_OF_PAIR]} if pairs else {}),
                **({JOURNEY_KEY: t.journey_id} if JOURNEY_KEY in columns else {}),
            }
        )
        t = _through(t, events, schema, q)
    front = [JOURNEY, STEP, TS, NODE_CODE, NEXT_CODE, GAP, *([NEXT_STAGE_COLUMN] if has_stage else [])]
    front += [CONSECUTIVE, FIRST_VISIT, LAST_STEP, *([FIRST_PAIR] if pairs else [])]
    return t.select(*front, *[c for c in dict.fromkeys(columns) if c not in front])


def journey_table(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """One row per journey: ``journey, journey_key, steps, first_timestamp, last_timestamp``."""
    s = journey_steps(events, schema, query, columns=[JOURNEY_KEY], labelled=False, numbered=False)
    return s.group_by([JOURNEY, JOURNEY_KEY]).aggregate(
        steps=s.count(), first_timestamp=s[TS].min(), last_timestamp=s[TS].max()
    )


def last_event_times(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """One row per journey (at ``query.level``, after its filters but ``through``): ``journey`` and
    ``last_event`` (the time of its last event of any kind, whether or not repeats are collapsed and
    whether or not the event has a node at the query's level)."""
    t = _with_journey(filter_events(events, schema, query), query)
    return t.group_by(JOURNEY).aggregate(last_event=t[TS].max())


def journey_keys(events: Table, query: JourneyQuery = JourneyQuery()) -> Table:
    """``journey`` code → ``journey_key`` (the id as in the data) at ``query.level``."""
    code = _journey_code(query)
    key = events.account_id if query.level == "account" else events.journey_id
    return events.select(**{JOURNEY: events[code], JOURNEY_KEY: key}).distinct()


def stack(tables: Sequence[Table], *, as_type: str | None = None) -> Table:
    """The rows of differently shaped tables in one (UNION ALL), so one query can return several
    results that share their inputs (the engine computes the shared part once).

    Every column of any table is in the result; a table without it gives typed nulls (the type of
    the first table that has it). ``as_type`` casts every column to one type instead.
    """
    types: dict[str, Any] = {}
    for t in tables:
        for name, dtype in t.schema().items():
            types.setdefault(name, dtype)
    out: Table | None = None
    for t in tables:
        cols = [(t[c] if c in t.columns else ibis.null(types[c])) for c in types]
        shaped = t.select(*[(v.cast(as_type) if as_type else v).name(c) for v, c in zip(cols, types, strict=True)])
        out = shaped if out is None else out.union(shaped, distinct=False)
    assert out is not None, "stack() needs at least one table"
    return out


__all__ = [
    "BYS",
    "JOURNEY",
    "JOURNEY_KEY",
    "LEVELS",
    "NODE",
    "NODE_CODE",
    "POSITION",
    "STEP",
    "TS",
    "FILE_ROW",
    "By",
    "JourneyQuery",
    "Level",
    "event_neighbours",
    "filter_events",
    "neighbours_stored",
    "journey_keys",
    "journey_steps",
    "journey_table",
    "last_event_times",
    "node_labels",
    "load_labels",
    "stored_steps",
    "journey_arrays",
    "stored_labels",
    "whole_log_nodes",
    "reaching",
    "resolve_column",
    "stack",
    "stage_label",
    "touchpoint_label",
]
