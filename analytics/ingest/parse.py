"""Parsing values: timestamps, numbers and yes/no flags as DuckDB expressions, and the day order of dates.

Each function returns SQL for :func:`analytics.ingest.store.build_event_store` to run over the
staged text; an unreadable value becomes NULL, which the build reports as a rejected row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    """How dates like 03/04/2024 are read: ``dayfirst``, whether the data showed it, and why."""

    dayfirst: bool
    detected: bool
    note: str


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


def timestamp_sql(v: str, *, dayfirst: bool, date_only: bool, iso_only: bool = False) -> str:
    """A DuckDB expression turning text ``v`` into TIMESTAMPTZ (NULL when unreadable).

    Values with an offset (``Z``, ``+01:00``, ``+0100``) are absolute; the others are read in the
    connection's TimeZone (the import sets it to the chosen zone). ``date_only`` keeps the date
    and reads it as midnight. Epoch seconds (10 digits) and milliseconds (13 digits) are UTC.
    The expression expects columns ``_dmy`` and ``_ymd`` (see :func:`date_parts_sql`) unless
    ``iso_only`` (every value starts like 2024-03-25).
    """
    iso = (
        f"coalesce(try_cast({v} AS TIMESTAMPTZ), "
        f"try_cast(regexp_replace({v}, '\\s+(Z|UTC|GMT|[+-]\\d{{2}}(:?\\d{{2}})?)$', '\\1') AS TIMESTAMPTZ))"
    )
    if date_only:
        iso = f"try_cast(try_cast(regexp_extract({v}, '{ISO_PREFIX}') AS DATE) AS TIMESTAMPTZ)"
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
                f"try_cast({s}.{d} AS INT)) AS DATE) AS TIMESTAMPTZ)"
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
        return f"try_cast({text} AS TIMESTAMPTZ)"

    day, month = ("a", "b") if dayfirst else ("b", "a")
    dmy = canonical("_dmy", "yy", month, day)
    ymd = canonical("_ymd", "yy", "mo", "dd")
    fmts = "[" + ", ".join(sql_literal(f) for f in TEXT_FORMATS) + "]"
    text = f"try_cast(try_strptime({v}, {fmts}) AS TIMESTAMPTZ)"
    epoch_s = f"to_timestamp(try_cast({v} AS DOUBLE))"
    epoch_ms = f"to_timestamp(try_cast({v} AS DOUBLE) / 1000.0)"
    if date_only:
        text, epoch_s, epoch_ms = (f"date_trunc('day', {e})" for e in (text, epoch_s, epoch_ms))
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN regexp_matches({v}, '{ISO_PREFIX}') THEN {iso} "
        f"WHEN _ymd.yy <> '' THEN {ymd} "
        f"WHEN _dmy.a <> '' THEN {dmy} "
        f"WHEN regexp_full_match({v}, '\\d{{10}}(\\.\\d+)?') THEN {epoch_s} "
        f"WHEN regexp_full_match({v}, '\\d{{13}}') THEN {epoch_ms} "
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
