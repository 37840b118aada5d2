"""What an import says about how it read a file, in words: one sentence per choice or assumption
(the sheet, encoding and delimiter, the day order, the zone of times without an offset and the times
its clocks skip or repeat, the row filter, renamed headers), what became of the rows, and what the
tie count counts.

The same sentences for a new import and for a re-import of the same file (the choices still govern
the stored events); the CLI's text, its JSON (``notes``) and the Data page show them alike.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from analytics.formats import XLSX, FileKind
from analytics.ingest.parse import DayOrder, LocalTimes
from analytics.ingest.sniff import DELIMITER_NAMES, encoding_label, generated_names
from analytics.numbers import plural

# How to change the zone of times without an offset, said wherever one was assumed.
TIMEZONE_HINT = "--tz or the page's time zone changes this"
ALREADY_IMPORTED = "This file was already imported with these options: nothing was added."


def reading_notes(
    *,
    kind: FileKind,
    sheet: str | None,
    sheet_chosen: bool,
    encoding: str,
    encoding_detected: bool,
    delimiter: str,
    delimiter_detected: bool,
    is_gzip: bool,
    day_order: DayOrder,
    local_times: LocalTimes | None,
    events: int,
    timezone: str,
    date_only: bool,
    where: tuple[tuple[str, str], ...],
    filtered_out: int,
    headers: list[str],
) -> tuple[str, ...]:
    """What the reading chose or assumed, one sentence each. ``local_times`` None: an import from
    before times without an offset were counted (the zone is said with "if any")."""
    notes = []
    if kind.kind == XLSX:
        first = " (the first)" if not sheet_chosen and len(kind.sheets) > 1 else ""
        notes.append(f"Excel workbook: sheet {sheet!r}{first} of {len(kind.sheets)}.")
    elif kind.converted:
        notes.append(f"{kind.label}: every column read as text, then checked like a CSV's.")
    else:
        notes.append(
            f"Encoding {encoding_label(encoding)} ({'detected' if encoding_detected else 'as chosen'}); delimiter "
            f"{DELIMITER_NAMES.get(delimiter, delimiter)} ({'detected' if delimiter_detected else 'as chosen'})"
            f"{'; gzip-compressed' if is_gzip else ''}."
        )
    if day_order.note:
        notes.append(f"Dates like 03/04/2024 read {day_order.note}.")
    notes.extend(_local_time_notes(local_times, events=events, timezone=timezone, date_only=date_only))
    if where:
        cond = " and ".join(f"{c} = {v!r}" for c, v in where)
        notes.append(f"{filtered_out:,} rows left out by the filter {cond}.")
    renamed = generated_names(headers)
    if renamed:
        shown = ", ".join(f"{h!r} (column {headers.index(h) + 1})" for h in renamed[:10])
        more = f" and {len(renamed) - 10:,} more" if len(renamed) > 10 else ""
        notes.append(f"Repeated or empty header names were kept under distinct names: {shown}{more}.")
    return tuple(notes)


def describe_ties(ties: int) -> str:
    """``Ties: 2 events share a timestamp with an earlier event of their journey (kept in file order).``
    A journey's k events at one instant count k - 1 (:func:`analytics.ingest.store.build_event_store`)."""
    if not ties:
        return "Ties: none (no event shares a timestamp with an earlier event of its journey)."
    if ties == 1:
        return "Ties: 1 event shares a timestamp with an earlier event of its journey (kept in file order)."
    return f"Ties: {ties:,} events share a timestamp with an earlier event of their journey (kept in file order)."


# What became of a file's rows: the counts :func:`describe_rows` speaks of.
ROW_FATES = ("rows_read", "events", "identical_rows", "identical_rows_dropped", "rejected_rows", "rows_filtered_out")


def describe_rows(
    *,
    rows_read: int,
    events: int,
    identical_rows: int,
    identical_rows_dropped: int,
    rejected_rows: int,
    rows_filtered_out: int,
) -> str:
    """``21,348 rows read, 21,348 events stored; 127 rows repeat an earlier row in every column
    (kept); 0 rows rejected.``"""
    parts = [f"{plural(rows_read, 'row')} read, {plural(events, 'event')} stored"]
    if identical_rows:
        verb = "repeats" if identical_rows == 1 else "repeat"
        fate = (
            "all dropped"
            if identical_rows_dropped == identical_rows
            else f"{identical_rows_dropped:,} dropped"
            if identical_rows_dropped
            else "kept; the import's “drop rows identical in every column” (--drop-identical-rows) drops them"
        )
        parts.append(f"{plural(identical_rows, 'row')} {verb} an earlier row in every column ({fate})")
    else:
        parts.append("no row repeats another in every column")
    if rows_filtered_out:
        parts.append(f"{plural(rows_filtered_out, 'row')} left out by the filter")
    parts.append(f"{plural(rejected_rows, 'row')} rejected")
    return "; ".join(parts) + "."


def _local_time_notes(local: LocalTimes | None, *, events: int, timezone: str, date_only: bool) -> list[str]:
    """The zone times without an offset were read in (only when some were), and the times its
    clocks skip or show twice, each with the rule applied and the first row."""
    if local is None:  # imported before they were counted
        return [f"Times without an offset, if any, were read as {timezone} time ({TIMEZONE_HINT})."]
    if not local.events:
        return []
    zone = local.timezone
    if local.events == events:
        what = f"Dates read as midnight in {zone}" if date_only else f"Times without an offset read as {zone} time"
        notes = [f"{what} ({TIMEZONE_HINT})."]
    else:
        notes = [
            f"{local.events:,} of {events:,} timestamps have no offset and were read as {zone} time "
            f"({TIMEZONE_HINT}); the others carry their own offset."
        ]
    cases = (
        (local.skipped, local.skipped_example, "does not exist", "do not exist", "the clocks skip",
         "moved forward by the gap"),
        (local.repeated, local.repeated_example, "is ambiguous", "are ambiguous", "the clocks show",
         "read as the second (after the clocks went back)"),
    )  # fmt: skip
    for count, ex, is_, are, clocks, rule in cases:
        if not count or ex is None:
            continue
        where = f"row {ex.row} (line {ex.line}) {ex.value!r}"
        stored = f"stored as {ex.stored:%Y-%m-%d %H:%M:%S} UTC ({_wall_clock(ex.stored, zone)})"
        notes.append(
            f"1 time {is_} in {zone} ({clocks} it{' twice' if 'show' in clocks else ''}): {where}, {rule} and {stored}."
            if count == 1
            else f"{count:,} times {are} in {zone} ({clocks} them{' twice' if 'show' in clocks else ''}), each {rule}; "
            f"the first: {where}, {stored}."
        )
    return notes


def _wall_clock(instant: datetime, zone: str) -> str:
    """``03:30 CEST``: what the zone's clocks showed at ``instant``."""
    return f"{instant.astimezone(zoneinfo.ZoneInfo(zone)):%H:%M %Z}"
