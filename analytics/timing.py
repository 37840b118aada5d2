"""Time: how long journeys take to convert, and how long they stay in each stage.

Semantics
- Time to convert: for each journey of the query that converts (``conversion``, the dataset's
  definition, :mod:`analytics.conversion`), the seconds from its first step to its point of
  conversion (its first goal event; with an outcome, its last event). Journeys that do not convert
  are counted in ``journeys`` but have no time.
- Time in stage (or at a touchpoint, with a touchpoint query): the query's steps with repeats
  collapsed, so a step is a visit; a visit lasts from its first event to the first event of the
  next visit of the same journey. A journey's last visit has no end and is left out of the times
  (counted in ``open_visits``).
- Medians and p90 are exact, linearly interpolated quantiles (pandas' default, DuckDB's
  ``quantile_cont``) over the durations in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import Conversion, converted_journeys
from analytics.engine import execute, runs_on_duckdb
from analytics.journeys import JOURNEY, NODE, NODE_CODE, POSITION, TS, JourneyQuery, journey_steps, load_labels
from analytics.schema import EventSchema
from analytics.transitions import name_codes


def seconds_between(start: ibis.Value, end: ibis.Value) -> ibis.Value:
    """Seconds from ``start`` to ``end`` (timestamps) as a float, to the microsecond, on every backend
    (a date difference in microseconds: Spark's ``datediff``; on DuckDB the difference of the two
    instants in microseconds since the epoch, the same number: DuckDB's ``date_diff`` on a
    time-zone-aware timestamp goes through the calendar, about 30 times slower)."""
    if start.type().is_timestamp() and end.type().is_timestamp() and runs_on_duckdb(start):
        return (epoch_us(end) - epoch_us(start)).cast("float64") / 1_000_000
    return end.delta(start, unit="microsecond").cast("float64") / 1_000_000


_EPOCH_US: dict[dt.DataType, Any] = {}


def epoch_us(value: ibis.Value) -> ibis.Value:
    """DuckDB's ``epoch_us``: microseconds since the epoch of a timestamp of any precision or zone."""
    dtype = value.type()
    fn = _EPOCH_US.get(dtype)
    if fn is None:

        @ibis.udf.scalar.builtin(name="epoch_us", signature=((dtype,), dt.int64))
        def _builtin(ts):  # noqa: ANN001, ANN202
            """DuckDB builtin."""

        fn = _EPOCH_US[dtype] = _builtin
    return fn(value)


def duration_stats(values: ibis.Value) -> dict[str, ibis.Value]:
    """count, median, p90 and mean of a column of seconds (names end in ``_seconds``)."""
    return {
        "median_seconds": values.quantile(0.5),
        "p90_seconds": values.quantile(0.9),
        "mean_seconds": values.mean(),
    }


def conversion_times(events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion) -> Table:
    """One row per journey: ``journey, first_timestamp, converted_at`` (null when not converted),
    ``seconds_to_convert``."""
    s = journey_steps(events, schema, query, columns=(), labelled=False, numbered=False)
    first = s.group_by(JOURNEY).aggregate(first_timestamp=s[TS].min())
    reached = converted_journeys(events, schema, query, conversion).select(JOURNEY, converted_at="reached_at")
    j = first.left_join(reached, JOURNEY).select(JOURNEY, "first_timestamp", "converted_at")
    return j.mutate(seconds_to_convert=seconds_between(j.first_timestamp, j.converted_at))


def compute_time_to_convert(
    events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion
) -> pd.DataFrame:
    """One row: ``journeys, converted, conversion_rate, median_seconds, p90_seconds, mean_seconds``."""
    j = conversion_times(events, schema, query, conversion)
    secs = j.seconds_to_convert
    agg = j.aggregate(
        journeys=j.count(), converted=j.converted_at.notnull().cast("int64").sum(), **duration_stats(secs)
    )
    frame = execute(agg)
    frame["journeys"] = frame["journeys"].fillna(0).astype("int64")
    frame["converted"] = frame["converted"].fillna(0).astype("int64")
    frame["conversion_rate"] = frame["converted"] / frame["journeys"].where(frame["journeys"] > 0)
    return frame[["journeys", "converted", "conversion_rate", "median_seconds", "p90_seconds", "mean_seconds"]]


def compute_time_in_stage(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    stage_order: Sequence[str] = (),
    touchpoint_order: Sequence[str] = (),
) -> pd.DataFrame:
    """Per node (stage by default for the product; the query's ``by`` decides): ``node, visits,
    timed_visits, open_visits, median_seconds, p90_seconds, mean_seconds``. Sorted by visits
    descending, then name; at stage level with a ``stage_order`` (the linked map's, or one given),
    and at touchpoint level with a ``touchpoint_order`` (the linked map's touchpoints, stage by
    stage), the nodes of that order come first, in it, and any other after them in that sort.
    Semantics in the module docstring."""
    q = replace(query, collapse_repeats=True)
    s = journey_steps(events, schema, q, columns=(), labelled=False, numbered=False)
    w = ibis.window(group_by=JOURNEY, order_by=POSITION)
    s = s.mutate(_end=s[TS].lead().over(w))
    s = s.mutate(_secs=seconds_between(s[TS], s._end))
    agg = s.group_by(NODE_CODE).aggregate(
        visits=s.count(), timed_visits=s._end.notnull().cast("int64").sum(), **duration_stats(s._secs)
    )
    coded = execute(agg)
    out = name_codes(coded, load_labels(events, schema, q), {NODE_CODE: NODE})
    out["visits"] = out["visits"].astype("int64")
    out["timed_visits"] = out["timed_visits"].astype("int64")
    out["open_visits"] = out["visits"] - out["timed_visits"]
    out = out.sort_values(["visits", NODE], ascending=[False, True], kind="stable")
    order = {"stage": stage_order, "touchpoint": touchpoint_order}.get(q.by, ())
    if order:
        rank = {name: i for i, name in enumerate(dict.fromkeys(order))}
        out = out.iloc[out[NODE].map(lambda n: rank.get(n, len(rank))).argsort(kind="stable")]
    cols = [NODE, "visits", "timed_visits", "open_visits", "median_seconds", "p90_seconds", "mean_seconds"]
    return out[cols].reset_index(drop=True)
