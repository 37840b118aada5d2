"""Which timestamps are read in the chosen zone (no offset of their own), and how a zone's clock
changes are told apart (:mod:`analytics.ingest.parse`), checked against DuckDB's own reading."""

from __future__ import annotations

import pytest

from analytics.engine import scratch_connection
from analytics.ingest.parse import (
    CLOCK_PLAIN,
    CLOCK_REPEATED,
    CLOCK_SKIPPED,
    clock_change_sql,
    date_parts_sql,
    sql_literal,
    timestamp_sql,
    wall_time_sql,
    without_offset_sql,
)

VALUES = [
    "2024-03-25 14:30",
    "2024-03-25T14:30:00",
    "2024-03-25T14:30:00.123456",
    "2024-3-5 4:30",
    "2024-03-25",
    "2024-03-25T14:30:00Z",
    "2024-03-25T14:30:00+01:00",
    "2024-03-25T14:30:00.5-05",
    "2024-03-25 14:30:00+0100",
    "2024-03-25 14:30:00 +01",
    "2024-03-25 14:30 UTC",
    "2024-03-25 14:30:00 GMT",
    "2024-03-25 14:30:00 EST",
    "2024-03-25 14:30:00 Europe/Paris",
    "25/03/2024 14:30",
    "25/03/2024 2:30 PM",
    "2024/03/25 14:30",
    "25 Mar 2024 14:30",
    "1711377000",
    "1711377000000",
]


def _read(zone: str, sql_of: object) -> list[object]:
    rows = ", ".join(f"({i}, {sql_literal(v)})" for i, v in enumerate(VALUES))
    with scratch_connection() as con:
        con.execute(f"SET TimeZone = {sql_literal(zone)}")
        found = con.execute(
            f"SELECT {sql_of} FROM (SELECT *, {date_parts_sql('v')} FROM (VALUES {rows}) t(i, v)) ORDER BY i"
        ).fetchall()
    return [r[0] for r in found]


def test_a_value_is_read_in_the_zone_exactly_when_its_instant_depends_on_the_zone():
    utc = _read("UTC", f"epoch_us({timestamp_sql('v', dayfirst=True, date_only=False)})")
    tokyo = _read("Asia/Tokyo", f"epoch_us({timestamp_sql('v', dayfirst=True, date_only=False)})")
    assert None not in utc  # every form is read
    naive = _read("UTC", without_offset_sql("v", date_only=False))
    assert naive == [a != b for a, b in zip(utc, tokyo, strict=True)], list(zip(VALUES, naive, strict=True))
    # With dates only every date is midnight in the zone, except an epoch instant's.
    assert _read("UTC", without_offset_sql("v", date_only=True)) == [not v.isdigit() for v in VALUES]


def test_the_wall_time_is_the_clock_time_written():
    walls = _read("Asia/Tokyo", f"strftime({wall_time_sql('v', dayfirst=True, date_only=False)}, '%Y-%m-%d %H:%M')")
    assert walls[:3] == ["2024-03-25 14:30"] * 3 and walls[3] == "2024-03-05 04:30"
    assert walls[-2:] == [None, None]  # epoch values are instants, not clock times


# Amsterdam's clocks: skipped on 2024-03-31 (02:00-03:00), shown twice on 2024-10-27 (02:00-03:00).
AMSTERDAM = {
    CLOCK_SKIPPED: ["2024-03-31 02:30"],
    CLOCK_REPEATED: ["2024-10-27 02:00", "2024-10-27 02:59:59.999999"],
    CLOCK_PLAIN: ["2024-03-31 01:59:59", "2024-03-31 03:00", "2024-10-27 03:00", "2024-10-27 01:59"]
    + ["2024-10-28 02:30", "2024-10-26 02:30"],
}
ELSEWHERE = [  # a change at 02:00 elsewhere, a half-hour change, a zone without changes
    ("America/New_York", "2024-11-03 01:30", CLOCK_REPEATED),
    ("Australia/Lord_Howe", "2024-10-06 02:15", CLOCK_SKIPPED),
    ("Asia/Tokyo", "2024-10-27 02:30", CLOCK_PLAIN),
]


@pytest.mark.parametrize(
    ("zone", "value", "code"),
    [("Europe/Amsterdam", v, code) for code, values in AMSTERDAM.items() for v in values] + ELSEWHERE,
)
def test_clock_changes_are_told_apart(zone, value, code):
    with scratch_connection() as con:
        con.execute(f"SET TimeZone = {sql_literal(zone)}")
        got = con.execute(
            f"SELECT {clock_change_sql('ts', 'wall', zone)} FROM (SELECT CAST(v AS TIMESTAMPTZ) AS ts, "
            f"CAST(v AS TIMESTAMP) AS wall FROM (VALUES ({sql_literal(value)})) t(v))"
        ).fetchone()[0]
    assert got == code
