"""Summary of a dataset under a query: events, journeys, accounts, activities, time range.

Semantics: counted over the events the query's filters keep (date range, channels, roles,
segments, outcomes, ``through``), before any node or repeat rule: ``events`` rows; ``journeys``
distinct journeys at the query's level (accounts at account level); ``accounts`` distinct
accounts; ``activities`` distinct activity names; first and last timestamps (UTC); ``converted``:
the journeys among them that convert (:mod:`analytics.conversion`; null when conversion is not
defined). "Conversion: … N of M journeys" on every page is ``converted`` of ``journeys``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import NOT_DEFINED, Conversion, converted_journeys
from analytics.engine import execute
from analytics.journeys import JOURNEY, JourneyQuery, _with_journey, filter_events, reaching
from analytics.schema import ACCOUNT_CODE, ACTIVITY_CODE, EventSchema

SUMMARY_KEYS = ("events", "journeys", "accounts", "activities", "first_timestamp", "last_timestamp", "converted")
COUNTS = ("events", "journeys", "accounts", "activities")


def compute_summary(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), conversion: Conversion = NOT_DEFINED
) -> pd.DataFrame:
    """One row with ``events, journeys, accounts, activities, first_timestamp, last_timestamp, converted``."""
    t = _with_journey(filter_events(events, schema, query), query)
    if query.through:
        keep = reaching(events, schema, query, query.through)
        t = t.filter(t[JOURNEY].isin(keep[JOURNEY]))
    converted = {}
    if conversion.defined:
        conv = converted_journeys(events, schema, query, conversion)
        t = t.mutate(_conv=t[JOURNEY].isin(conv[JOURNEY]))
        converted = {"converted": t[JOURNEY].nunique(where=t._conv)}
    agg = t.aggregate(
        **converted,
        events=t.count(),
        journeys=t[JOURNEY].nunique(),
        accounts=t[ACCOUNT_CODE].nunique(),
        activities=t[ACTIVITY_CODE].nunique(),
        first_timestamp=t.timestamp.min(),
        last_timestamp=t.timestamp.max(),
    )
    frame = execute(agg)
    for key in (*COUNTS, *converted):
        frame[key] = frame[key].fillna(0).astype("int64")
    if not converted:
        frame["converted"] = None
    return frame[list(SUMMARY_KEYS)]


def summary_record(frame: pd.DataFrame) -> dict[str, Any]:
    """The summary row as a plain dict (timestamps as ``datetime`` or None)."""
    row = frame.iloc[0].to_dict()
    for key in ("first_timestamp", "last_timestamp"):
        value = row.get(key)
        row[key] = None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()
    for key in COUNTS:
        row[key] = int(row[key])
    converted = row.get("converted")
    row["converted"] = None if converted is None or pd.isna(converted) else int(converted)
    return row
