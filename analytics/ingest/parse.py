"""Parsing values: timestamps, numbers and yes/no flags as DuckDB expressions, and the day order of dates.

Each function returns SQL for :func:`analytics.ingest.store.build_event_store` to run over the
staged text; an unreadable value becomes NULL, which the build reports as a rejected row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics.schema import Role


def sql_literal(text: str) -> str:
    """SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """SQL quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- timestamps

# Date first with separators: 25/03/2024, 03-25-24, 25.03.2024 14:30, 3/5/2024 1:05 PM.
DMY_RE = (
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp]\.?[Mm]\.?)?)?$"
)
YMD_SLASH_RE = r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$"
ISO_PREFIX = r"^\d{4}-\d{1,2}-\d{1,2}"
TEXT_FORMATS = (
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y %H:%M:%S",
    "%d %B %Y %H:%M",
    "%d %B %Y",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y %H:%M:%S",
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y",
    "%a, %d %b %Y %H:%M:%S",
    "%a %b %d %H:%M:%S %Y",
)
TIMESTAMP_EXPECTED = (
    "a date and time such as 2024-03-25T14:30:00+01:00 (ISO 8601), 2024-03-25 14:30, {dmy} or 25 Mar 2024 14:30"
)
_PY_DMY = re.compile(DMY_RE)


@dataclass(frozen=True)
class DayOrder:
    """How dates like 03/04/2024 are read: ``dayfirst``, whether the data showed it, and why.
    ``assumed``: no date told (every one reads both ways), so the order is a guess."""

    dayfirst: bool
    detected: bool
    note: str
    assumed: bool = False

    @property
    def basis(self) -> str:
        """``chosen``, ``detected`` or ``assumed`` (empty when the file has no dates like 03/04/2024)."""
        if not self.note:
            return ""
        return "assumed" if self.assumed else "detected" if self.detected else "chosen"

    def to_json(self) -> dict[str, object] | None:
        """The facts of the order (None when the file has no dates like 03/04/2024)."""
        if not self.note:
            return None
        return {"dayfirst": self.dayfirst, "basis": self.basis, "note": self.note}


@dataclass(frozen=True)
class SlashedDates:
    """What a column's dates like 03/04/2024 show: how many there are, how many read only day-first
    (first number over 12) or only month-first (second number over 12), and the first of each."""

    slashed: int = 0
    first_over_12: int = 0
    second_over_12: int = 0
    example_first: str | None = None
    example_second: str | None = None


def decide_day_order(dates: SlashedDates, *, dayfirst: bool | None, delimiter: str) -> DayOrder:
    """Pick day-first or month-first for slashed dates: as chosen; else the order some date can only
    be read in (the more frequent when both occur); else day-first after a ; or tab delimiter,
    month-first otherwise (every date reads both ways)."""
    if dayfirst is not None:
        return DayOrder(dayfirst, False, "day-first (as chosen)" if dayfirst else "month-first (as chosen)")
    if not dates.slashed:
        return DayOrder(False, False, "")
    first, second = dates.first_over_12, dates.second_over_12
    if first and (not second or first >= second):
        return DayOrder(True, True, f"day-first (detected: {dates.example_first!r} can only be day-first)")
    if second:
        return DayOrder(False, True, f"month-first (detected: {dates.example_second!r} can only be month-first)")
    guess = delimiter in (";", "\t")
    return DayOrder(
        guess,
        True,
        ("day-first" if guess else "month-first")
        + " (assumed: every date reads both ways, e.g. 03/04; say which if this is wrong)",
        assumed=True,
    )


def detect_day_order(values: list[str], *, dayfirst: bool | None = None, delimiter: str = ",") -> DayOrder:
    """:func:`decide_day_order` on a list of raw values (the preview's sample)."""
    first = second = slashed = 0
    ex_first = ex_second = None
    for v in values:
        m = _PY_DMY.match(str(v).strip())
        if not m:
            continue
        slashed += 1
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12:
            first += 1
            ex_first = ex_first or v
        if b > 12:
            second += 1
            ex_second = ex_second or v
    dates = SlashedDates(slashed, first, second, ex_first, ex_second)
    return decide_day_order(dates, dayfirst=dayfirst, delimiter=delimiter)


# An ISO 8601 value that carries its own zone after the time of day: ``Z``, ``+01:00``, ``+0100``,
# ``-05``, `` UTC``, `` GMT``, a name (``Europe/Paris``) or an abbreviation (``EST``), which DuckDB
# reads. A date alone (``2024-03-25``) carries none: its ``-25`` is the day.
ZONED_ISO_RE = r"\d:\d{2}(:\d{2}([.,]\d+)?)?\s*(Z|[A-Za-z][A-Za-z0-9_/+\-]*|[+-]\d{1,2}(:?\d{2})?)$"
EPOCH_SECONDS_RE = r"\d{10}(\.\d+)?"
EPOCH_MILLISECONDS_RE = r"\d{13}"

# How a time without an offset met the zone's clock changes (the ``_clock`` code of the import).
CLOCK_PLAIN = 0  # the zone's clock showed it once
CLOCK_SKIPPED = 1  # the clocks went forward over it (a gap): it never showed
CLOCK_REPEATED = 2  # the clocks went back over it (an overlap): it showed twice
# The rule DuckDB's ICU applies to such times, which the import keeps (and the tests hold).
CLOCK_CHANGE_RULE = (
    "a time the clocks skip is moved forward by the gap (02:30 on a spring-forward night is stored as 03:30 "
    "summer time); a time the clocks show twice is read as the second one (after the clocks went back)"
)


@dataclass(frozen=True)
class ClockExample:
    """One event whose time the zone's clocks skipped or repeated: where it is and what was stored."""

    row: int  # the data row of the file (1 = the first after the header)
    line: int  # the line of the file
    value: str  # the timestamp as written
    stored: datetime  # the instant stored (UTC)

    def to_json(self) -> dict[str, object]:
        return {"row": self.row, "line": self.line, "value": self.value, "stored": self.stored.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ClockExample | None:
        if not data:
            return None
        stored = datetime.fromisoformat(str(data["stored"]))
        return cls(int(data["row"]), int(data["line"]), str(data["value"]), stored)


@dataclass(frozen=True)
class LocalTimes:
    """How the stored events' timestamps without an offset were read: in ``timezone``, by
    :data:`CLOCK_CHANGE_RULE` where its clocks change. Counts are of stored events."""

    timezone: str = "UTC"
    events: int = 0  # events whose timestamp carries no offset (read in ``timezone``)
    skipped: int = 0  # of those, times the clocks skipped (spring forward)
    repeated: int = 0  # of those, times the clocks showed twice (fall back)
    skipped_example: ClockExample | None = None  # the first in the file
    repeated_example: ClockExample | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "timezone": self.timezone,
            "events": self.events,
            "skipped": self.skipped,
            "repeated": self.repeated,
            "skipped_example": self.skipped_example.to_json() if self.skipped_example else None,
            "repeated_example": self.repeated_example.to_json() if self.repeated_example else None,
            "rule": CLOCK_CHANGE_RULE,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalTimes:
        return cls(
            timezone=str(data.get("timezone", "UTC")),
            events=int(data.get("events", 0)),
            skipped=int(data.get("skipped", 0)),
            repeated=int(data.get("repeated", 0)),
            skipped_example=ClockExample.from_json(data.get("skipped_example")),
            repeated_example=ClockExample.from_json(data.get("repeated_example")),
        )


def timestamp_sql(v: str, *, dayfirst: bool, date_only: bool, iso_only: bool = False) -> str:
    """A DuckDB expression turning text ``v`` into TIMESTAMPTZ (NULL when unreadable).

    Values with an offset (``Z``, ``+01:00``, ``+0100``) are absolute; the others are read in the
    connection's TimeZone (the import sets it to the chosen zone), by :data:`CLOCK_CHANGE_RULE`
    where the zone's clocks change. ``date_only`` keeps the date and reads it as midnight. Epoch
    seconds (10 digits) and milliseconds (13 digits) are UTC. The expression expects columns
    ``_dmy`` and ``_ymd`` (see :func:`date_parts_sql`) unless ``iso_only`` (every value starts
    like 2024-03-25).
    """
    return _parsed_sql(v, dayfirst=dayfirst, date_only=date_only, iso_only=iso_only, sql_type="TIMESTAMPTZ")


def wall_time_sql(v: str, *, dayfirst: bool, date_only: bool, iso_only: bool = False) -> str:
    """The clock time the text ``v`` shows, as a TIMESTAMP (no zone): what :func:`timestamp_sql`
    reads in the chosen zone for a value without an offset. NULL for epoch values (they are instants)."""
    return _parsed_sql(v, dayfirst=dayfirst, date_only=date_only, iso_only=iso_only, sql_type="TIMESTAMP")


def without_offset_sql(v: str, *, date_only: bool, iso_only: bool = False) -> str:
    """A DuckDB BOOLEAN: does :func:`timestamp_sql` read ``v`` in the chosen zone (it carries no
    offset or zone of its own)? NULL for a missing value. Epoch values are UTC instants (FALSE);
    with ``date_only`` every date is midnight in the zone (TRUE). Dates like 25/03/2024, 2024/03/25
    and the text forms (25 Mar 2024) never carry an offset (TRUE)."""
    iso = "TRUE" if date_only else f"NOT regexp_matches({v}, {sql_literal(ZONED_ISO_RE)})"
    if iso_only:
        return f"CASE WHEN {v} IS NULL THEN NULL ELSE {iso} END"
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN regexp_matches({v}, '{ISO_PREFIX}') THEN {iso} "
        f"WHEN _ymd.yy <> '' OR _dmy.a <> '' THEN TRUE "
        f"WHEN regexp_full_match({v}, '{EPOCH_SECONDS_RE}') OR regexp_full_match({v}, '{EPOCH_MILLISECONDS_RE}') "
        "THEN FALSE ELSE TRUE END"
    )


def clock_change_sql(ts: str, wall: str, timezone: str) -> str:
    """A DuckDB TINYINT for a time read in ``timezone``: :data:`CLOCK_PLAIN`, :data:`CLOCK_SKIPPED`
    (the clock time ``wall`` never showed: the instant ``ts`` shows a later one) or
    :data:`CLOCK_REPEATED` (it showed twice: ``ts`` is the second, and the zone's offset a day
    before, in force until the clocks went back, shows ``wall`` at an earlier instant too).

    Microsecond arithmetic on purpose: an interval of days on a TIMESTAMPTZ follows the calendar
    of the session's zone, hours do not."""
    zone = sql_literal(timezone)
    local = f"timezone({zone}, {ts})"
    day_before = f"({ts} - INTERVAL 24 HOUR)"
    # How much further ahead of UTC the zone's clocks were a day before than at ``ts`` (> 0 after they went back).
    offset_drop = (
        f"((epoch_us(timezone({zone}, {day_before})) - epoch_us({day_before})) - (epoch_us({local}) - epoch_us({ts})))"
    )
    return (
        f"(CASE WHEN {wall} IS NULL THEN {CLOCK_PLAIN} "
        f"WHEN {local} <> {wall} THEN {CLOCK_SKIPPED} "
        f"WHEN {offset_drop} > 0 AND timezone({zone}, {ts} - to_microseconds({offset_drop})) = {wall} "
        f"THEN {CLOCK_REPEATED} ELSE {CLOCK_PLAIN} END)::TINYINT"
    )


def _parsed_sql(v: str, *, dayfirst: bool, date_only: bool, iso_only: bool, sql_type: str) -> str:
    """:func:`timestamp_sql` (``sql_type`` TIMESTAMPTZ) or :func:`wall_time_sql` (TIMESTAMP): one
    reading of the text, so the two agree on every form."""
    as_type = f"AS {sql_type}"
    iso = (
        f"coalesce(try_cast({v} {as_type}), "
        f"try_cast(regexp_replace({v}, '\\s+(Z|UTC|GMT|[+-]\\d{{2}}(:?\\d{{2}})?)$', '\\1') {as_type}))"
    )
    if date_only:
        iso = f"try_cast(try_cast(regexp_extract({v}, '{ISO_PREFIX}') AS DATE) {as_type})"
    if iso_only:
        return iso

    def canonical(s: str, y: str, m: str, d: str) -> str:
        year = (
            f"CASE WHEN length({s}.{y}) = 2 THEN (CASE WHEN try_cast({s}.{y} AS INT) < 69 THEN 2000 ELSE 1900 END)"
            f" + try_cast({s}.{y} AS INT) ELSE try_cast({s}.{y} AS INT) END"
        )
        if date_only:
            return (
                f"try_cast(try_cast(printf('%04d-%02d-%02d', {year}, try_cast({s}.{m} AS INT), "
                f"try_cast({s}.{d} AS INT)) AS DATE) {as_type})"
            )
        hour = f"coalesce(try_cast(nullif({s}.hh, '') AS INT), 0)"
        if s == "_dmy":
            pm = f"upper(left({s}.ap, 1))"
            hour = (
                f"(CASE WHEN {pm} = 'P' AND {hour} < 12 THEN {hour} + 12 "
                f"WHEN {pm} = 'A' AND {hour} = 12 THEN 0 ELSE {hour} END)"
            )
        frac = f"CASE WHEN {s}.fr <> '' THEN '.' || {s}.fr ELSE '' END"
        minute = f"coalesce(try_cast(nullif({s}.mi, '') AS INT), 0)"
        second = f"coalesce(try_cast(nullif({s}.ss, '') AS INT), 0)"
        text = (
            f"printf('%04d-%02d-%02d %02d:%02d:%02d', {year}, try_cast({s}.{m} AS INT), try_cast({s}.{d} AS INT), "
            f"{hour}, {minute}, {second}) || {frac}"
        )
        return f"try_cast({text} {as_type})"

    day, month = ("a", "b") if dayfirst else ("b", "a")
    dmy = canonical("_dmy", "yy", month, day)
    ymd = canonical("_ymd", "yy", "mo", "dd")
    fmts = "[" + ", ".join(sql_literal(f) for f in TEXT_FORMATS) + "]"
    text = f"try_cast(try_strptime({v}, {fmts}) {as_type})"
    if sql_type == "TIMESTAMPTZ":
        epoch_s = f"to_timestamp(try_cast({v} AS DOUBLE))"
        epoch_ms = f"to_timestamp(try_cast({v} AS DOUBLE) / 1000.0)"
    else:  # an instant shows no clock time of its own
        epoch_s = epoch_ms = f"NULL::{sql_type}"
    if date_only:
        text, epoch_s, epoch_ms = (f"date_trunc('day', {e})" for e in (text, epoch_s, epoch_ms))
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN regexp_matches({v}, '{ISO_PREFIX}') THEN {iso} "
        f"WHEN _ymd.yy <> '' THEN {ymd} "
        f"WHEN _dmy.a <> '' THEN {dmy} "
        f"WHEN regexp_full_match({v}, '{EPOCH_SECONDS_RE}') THEN {epoch_s} "
        f"WHEN regexp_full_match({v}, '{EPOCH_MILLISECONDS_RE}') THEN {epoch_ms} "
        f"ELSE {text} END"
    )


def date_parts_sql(v: str) -> str:
    """Columns ``_dmy`` and ``_ymd``: the parts of dates like 25/03/2024 and 2024/03/25 (only
    computed for values that do not start like ISO 8601)."""
    not_iso = f"{v} IS NOT NULL AND NOT regexp_matches({v}, '{ISO_PREFIX}')"
    return (
        f"CASE WHEN {not_iso} THEN regexp_extract({v}, {sql_literal(DMY_RE)}, {_DMY_FIELDS!r}) END AS _dmy, "
        f"CASE WHEN {not_iso} THEN regexp_extract({v}, {sql_literal(YMD_SLASH_RE)}, {_YMD_FIELDS!r}) END AS _ymd"
    )


_DMY_FIELDS = ["a", "b", "yy", "hh", "mi", "ss", "fr", "ap"]
_YMD_FIELDS = ["yy", "mo", "dd", "hh", "mi", "ss", "fr"]


# --------------------------------------------------------------------------- numbers and flags

TRUE_WORDS = ("1", "true", "t", "yes", "y", "ja", "oui", "si", "sí", "wahr", "x")
FALSE_WORDS = ("0", "false", "f", "no", "n", "nein", "non", "falsch")
NUMBER_RANGES: dict[Role, tuple[float | None, float | None, str]] = {
    Role.VALUE: (None, None, "a number such as 1234.5 or 1234,5"),
    Role.NPS: (0, 10, "an NPS score from 0 to 10"),
    Role.CSAT: (1, 5, "a CSAT score from 1 to 5"),
    Role.EFFORT: (None, None, "an effort score (a number)"),
}


def number_sql(v: str) -> str:
    """Text to DOUBLE: ``1234.5``, ``-3``, ``1e3``, decimal comma ``1234,5``, grouped ``1,234.5`` or
    ``1.234,5``; NULL when unreadable."""
    return (
        f"coalesce(try_cast({v} AS DOUBLE), "
        f"CASE WHEN regexp_full_match({v}, '[+-]?\\d+,\\d+') THEN try_cast(replace({v}, ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({v}, '[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?') THEN try_cast(replace({v}, ',', '') AS DOUBLE) "
        f"WHEN regexp_full_match({v}, '[+-]?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?') "
        f"THEN try_cast(replace(replace({v}, '.', ''), ',', '.') AS DOUBLE) END)"
    )


def flag_sql(v: str) -> str:
    trues = ", ".join(sql_literal(w) for w in TRUE_WORDS)
    falses = ", ".join(sql_literal(w) for w in FALSE_WORDS)
    return f"CASE WHEN lower({v}) IN ({trues}) THEN TRUE WHEN lower({v}) IN ({falses}) THEN FALSE END"
