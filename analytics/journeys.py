"""From stored events to journeys: level, filters, node (touchpoint or stage), repeats.

Every analysis starts from :func:`journey_steps`, so all views agree on what a journey is.

Semantics
- Level ``contact``: a journey is one ``journey_id``. Level ``account``: a journey is the
  time-ordered union of all events of an account's contacts (a buying committee moving together);
  order is timestamp, then position in the file.
- Order within a journey: timestamp, then position in the file (computed once at import as ``seq``
  and ``account_seq``), so ties never reorder between runs.
- Node: at ``touchpoint`` level, the touchpoint an activity is linked to (``touchpoint_of``), or the
  activity's own name where no link exists; at ``stage`` level, the linked stage (``stage_of``,
  keyed by touchpoint) or the event's ``stage`` column. Events without a node are dropped.
- Filters: ``date_from``/``date_to`` (inclusive, UTC dates) keep the events in range; ``channels``,
  ``roles`` and ``segments`` keep matching events; ``outcomes`` keeps whole journeys that have one of
  the outcomes on any event.
- Repeats: with ``collapse_repeats`` (the default), consecutive events on the same node become one
  step (the first one's timestamp is kept); otherwise every event is a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import ibis
from ibis.expr.types import Table

from analytics.errors import UnknownColumnError
from analytics.schema import ACCOUNT_CODE, ACCOUNT_SEQ, FILE_ROW, JOURNEY_CODE, SEQ, EventSchema, Role, segment_column

Level = Literal["contact", "account"]
By = Literal["touchpoint", "stage"]

# Columns of journey_steps().
JOURNEY = "journey"  # int code of the journey (journey_code or account_code)
JOURNEY_KEY = "journey_key"  # the journey's id as in the data (journey_id or account_id)
STEP = "step"  # 0-based step number within the journey
NODE = "node"  # touchpoint or stage name
TS = "timestamp"


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


def _require(schema: EventSchema, role: Role, why: str) -> str:
    if not schema.has(role):
        raise UnknownColumnError(f"{why} needs a {role.value} column, and this dataset has none")
    return schema.column(role)


def _lookup(column: ibis.Value, pairs: tuple[tuple[str, str], ...]) -> ibis.Value:
    """Relabel ``column`` through ``pairs`` (values not listed are kept)."""
    if not pairs:
        return column
    return column.substitute(dict(pairs))


def filter_events(events: Table, schema: EventSchema, query: JourneyQuery) -> Table:
    """Apply the event and journey filters of ``query`` to stored events."""
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


def journey_steps(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """Steps of every journey: columns ``journey, journey_key, step, timestamp, node, file_row``
    plus the stored columns (activity, channel, stage, outcome, value, scores, segments).

    See the module docstring for the exact semantics of level, order, node, filters and repeats.
    """
    t = filter_events(events, schema, query)
    if query.level == "account":
        t = t.mutate(**{JOURNEY: t[ACCOUNT_CODE], JOURNEY_KEY: t.account_id, "_order": t[ACCOUNT_SEQ]})
    else:
        t = t.mutate(**{JOURNEY: t[JOURNEY_CODE], JOURNEY_KEY: t.journey_id, "_order": t[SEQ]})

    touchpoint = _lookup(t.activity, query.touchpoint_of)
    if query.by == "stage":
        if query.stage_of:
            node = touchpoint.substitute(dict(query.stage_of), else_=ibis.null("string"))
            if schema.has(Role.STAGE):
                node = node.coalesce(t.stage)
        else:
            node = t[_require(schema, Role.STAGE, "stage level")]
    else:
        node = touchpoint
    t = t.mutate(**{NODE: node}).filter(ibis._[NODE].notnull())

    w = ibis.window(group_by=JOURNEY, order_by="_order")
    if query.collapse_repeats:
        t = t.mutate(_prev=t[NODE].lag().over(w))
        t = t.filter(t._prev.isnull() | (t._prev != t[NODE])).drop("_prev")
    t = t.mutate(**{STEP: ibis.row_number().over(w)})
    return t.drop("_order")


def journey_table(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """One row per journey: ``journey, journey_key, steps, first_timestamp, last_timestamp``."""
    s = journey_steps(events, schema, query)
    return s.group_by([JOURNEY, JOURNEY_KEY]).aggregate(
        steps=s.count(), first_timestamp=s[TS].min(), last_timestamp=s[TS].max()
    )


__all__ = [
    "JOURNEY",
    "JOURNEY_KEY",
    "NODE",
    "STEP",
    "TS",
    "FILE_ROW",
    "JourneyQuery",
    "filter_events",
    "journey_steps",
    "journey_table",
]
