"""Seconds between two timestamps: DuckDB's fast path (epoch microseconds) gives the calendar's
``date_diff`` exactly, for time-zone-aware and naive timestamps, across zones' daylight saving
changes, to the microsecond, and null where either side is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import ibis

from analytics.engine import execute
from analytics.timing import seconds_between


def _frame(tz: str | None) -> ibis.Table:
    rng = random.Random(11)
    start = datetime(2023, 3, 20, tzinfo=UTC)  # spans the daylight saving changes of 2023 and 2024
    rows = []
    for _ in range(500):
        a = start + timedelta(microseconds=rng.randrange(0, 600 * 86400 * 10**6))
        b = a + timedelta(microseconds=rng.randrange(-40 * 86400 * 10**6, 400 * 86400 * 10**6))
        rows.append({"a": a.isoformat(), "b": b.isoformat()})
    rows.append({"a": None, "b": start.isoformat()})
    rows.append({"a": start.isoformat(), "b": None})
    t = ibis.memtable(rows)
    kind = ibis.expr.datatypes.Timestamp(timezone=tz, scale=6)
    return t.mutate(a=t.a.cast(kind), b=t.b.cast(kind))


def test_the_fast_path_is_the_calendar_difference() -> None:
    for tz in ("UTC", "Europe/Paris", None):
        t = _frame(tz)
        calendar = t.b.delta(t.a, unit="microsecond").cast("float64") / 1_000_000
        fast = seconds_between(t.a, t.b)
        assert "EPOCH_US" in str(ibis.to_sql(fast)).upper(), tz
        got = execute(t.select(fast=fast, calendar=calendar))
        assert got["fast"].isna().sum() == 2
        assert got["fast"].fillna(-1.5).tolist() == got["calendar"].fillna(-1.5).tolist(), tz
        # and the figure itself: microseconds, not whole seconds
        assert (got["fast"].dropna() % 1 != 0).any()
