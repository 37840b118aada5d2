"""What an import says about how it read the file: the zone of times without an offset, the times
its clocks skip or repeat, the day order on a re-import, what ``ties`` counts, and the JSON summary
carrying the same facts as the text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analytics.schema import ColumnMapping
from db.engine import data_dir, read_session
from db.models import Dataset
from services import importer
from services.importer import ImportOptions, import_event_log

MINIMAL = ColumnMapping.of(journey="case", timestamp="when", activity="step")
HINT = "(--tz or the page's time zone changes this)"


def _import(rows: str, **options: object) -> importer.ImportResult:
    return import_event_log(
        ("case,when,step\n" + rows).encode(), name="t", mapping=MINIMAL, options=ImportOptions(**options)
    )


def _stored(result: importer.ImportResult) -> pd.DataFrame:
    with read_session() as session:
        path = data_dir() / session.get(Dataset, result.dataset_id).storage_path
    return pd.read_parquet(path).sort_values("file_row")


def test_times_without_an_offset_say_the_zone_they_were_read_in(engine):
    naive = _import("j1,2024-05-01 10:00,A\nj1,2024-05-01 11:00,B\n")
    assert f"Times without an offset read as UTC time {HINT}." in naive.notes
    assert (naive.local_times.timezone, naive.local_times.events) == ("UTC", 2)

    paris = _import("j1,2024-05-01 10:00,A\n", timezone="Europe/Paris")
    assert f"Times without an offset read as Europe/Paris time {HINT}." in paris.notes

    # Offsets, zone names and epoch seconds carry their own zone: nothing was assumed, nothing said.
    zoned = _import("j1,2024-05-01T10:00:00Z,A\nj1,2024-05-01 11:00:00 +0200,B\nj1,1714557600,C\n")
    assert zoned.local_times.events == 0
    assert not any("offset" in n for n in zoned.notes)

    mixed = _import("j1,2024-05-01T10:00:00+02:00,A\nj1,2024-05-01 11:00,B\nj1,01/05/2024 12:00,C\n")
    assert mixed.local_times.events == 2
    assert (
        f"2 of 3 timestamps have no offset and were read as UTC time {HINT}; the others carry their own offset."
        in mixed.notes
    )

    dates = _import("j1,2024-05-01T10:00:00Z,A\n", timezone="America/New_York", date_only=True)
    assert f"Dates read as midnight in America/New_York {HINT}." in dates.notes


def test_a_rejected_row_is_not_counted_as_read_in_the_zone(engine):
    result = _import("j1,2024-05-01 10:00,A\n,2024-05-01 11:00,B\nj1,2024-05-01T12:00:00Z,C\n", allow_bad_rows=True)
    assert (result.events, result.local_times.events) == (2, 1)
    assert f"1 of 2 timestamps have no offset and were read as UTC time {HINT}; the others carry their own offset." in (
        result.notes
    )


AMSTERDAM = (
    "j1,2024-03-31 01:30,A\n"
    "j1,2024-03-31 02:30,B\n"  # the clocks go from 02:00 to 03:00: this time never shows
    "j1,2024-03-31 03:30,C\n"
    "j2,2024-10-27 02:30,A\n"  # the clocks go from 03:00 back to 02:00: this time shows twice
    "j2,2024-10-27 03:30,B\n"
)


def test_times_the_clocks_skip_or_repeat_are_reported_with_the_rule_and_the_first_row(engine):
    result = _import(AMSTERDAM, timezone="Europe/Amsterdam")
    local = result.local_times
    assert (local.events, local.skipped, local.repeated) == (5, 1, 1)
    assert (local.skipped_example.row, local.skipped_example.line, local.skipped_example.value) == (
        2,
        3,
        "2024-03-31 02:30",
    )
    assert (local.repeated_example.row, local.repeated_example.line) == (4, 5)
    assert (
        "1 time does not exist in Europe/Amsterdam (the clocks skip it): row 2 (line 3) '2024-03-31 02:30', "
        "moved forward by the gap and stored as 2024-03-31 01:30:00 UTC (03:30 CEST)." in result.notes
    )
    assert (
        "1 time is ambiguous in Europe/Amsterdam (the clocks show it twice): row 4 (line 5) '2024-10-27 02:30', "
        "read as the second (after the clocks went back) and stored as 2024-10-27 01:30:00 UTC (02:30 CET)."
        in result.notes
    )
    # The rule the notes state is the one applied: the gap time is 03:30 summer time (= the next row's
    # instant, so they tie), the repeated one the second 02:30.
    stored = _stored(result)["timestamp"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert stored == [
        "2024-03-31 00:30",
        "2024-03-31 01:30",
        "2024-03-31 01:30",
        "2024-10-27 01:30",
        "2024-10-27 02:30",
    ]
    assert result.ties == 1

    # Several: counted, the first named; in UTC nothing is skipped or repeated.
    more = _import(AMSTERDAM + "j3,2024-03-31 02:05,A\nj3,2024-10-27 02:59,B\n", timezone="Europe/Amsterdam")
    assert (more.local_times.skipped, more.local_times.repeated) == (2, 2)
    assert any(n.startswith("2 times do not exist in Europe/Amsterdam (the clocks skip them)") for n in more.notes)
    assert any(
        n.startswith("2 times are ambiguous in Europe/Amsterdam (the clocks show them twice)") for n in more.notes
    )
    utc = _import(AMSTERDAM)
    assert (utc.local_times.skipped, utc.local_times.repeated) == (0, 0)
    assert not any("clocks" in n for n in utc.notes)


@pytest.mark.parametrize(
    ("zone", "skipped", "repeated", "plain"),
    [
        ("America/New_York", "2024-03-10 02:30", "2024-11-03 01:30", "2024-11-03 02:30"),
        ("Australia/Sydney", "2024-10-06 02:30", "2024-04-07 02:30", "2024-04-07 03:00"),
        ("Australia/Lord_Howe", "2024-10-06 02:15", "2024-04-07 01:45", "2024-04-07 02:00"),  # 30-minute changes
        ("America/Sao_Paulo", "2018-11-04 00:00", "2019-02-16 23:30", "2019-02-17 00:00"),  # midnight changes
    ],
)
def test_the_clock_change_rule_holds_in_every_zone(engine, zone, skipped, repeated, plain):
    result = _import(f"j1,{skipped},A\nj1,{repeated},B\nj1,{plain},C\n", timezone=zone)
    assert (result.local_times.skipped, result.local_times.repeated) == (1, 1)
    tz = ZoneInfo(zone)

    def expected(text: str, fold: int) -> datetime:  # fold 0: the offset before the change; 1: after
        return datetime.fromisoformat(text).replace(tzinfo=tz, fold=fold).astimezone(UTC)

    stored = _stored(result)["timestamp"].tolist()
    # Skipped: read with the offset before the change (moved forward by the gap); repeated: the second.
    assert stored == [expected(skipped, 0), expected(repeated, 1), expected(plain, 0)]


def test_a_reimport_repeats_what_governs_the_stored_data(engine):
    rows = "j1,03/04/2024 10:00,A\nj1,03/05/2024 10:00,B\n"
    first = _import(rows, timezone="Europe/Paris")
    again = _import(rows, timezone="Europe/Paris")
    assert (again.created, again.dataset_id) == (False, first.dataset_id)
    assert again.notes[0] == importer.ALREADY_IMPORTED
    assert list(again.notes[1:]) == list(first.notes)
    assert any("read month-first (assumed" in n for n in again.notes)
    assert f"Times without an offset read as Europe/Paris time {HINT}." in again.notes
    assert again.day_order == first.day_order and again.day_order.basis == "assumed"
    assert again.local_times == first.local_times
    assert again.summary()["notes"] == list(again.notes)


def test_the_json_summary_carries_the_facts_of_the_text(engine):
    result = _import("j1,03/04/2024 10:00,A\nj1,03/04/2024 10:00,B\nj2,2024-03-05T10:00:00Z,A\n")
    summary = result.summary()
    assert summary["notes"] == list(result.notes)
    assert summary["ties"] == 1
    assert summary["ties_note"] == result.ties_line()
    assert (summary["first_timestamp"], summary["last_timestamp"]) == (
        "2024-03-04T10:00:00+00:00",
        "2024-03-05T10:00:00+00:00",
    )
    assert (summary["encoding"], summary["encoding_label"], summary["encoding_detected"]) == ("utf-8", "UTF-8", True)
    assert (summary["delimiter"], summary["delimiter_label"], summary["delimiter_detected"]) == (",", "comma", True)
    assert summary["day_order"] == {
        "dayfirst": False,
        "basis": "assumed",
        "note": "month-first (assumed: every date reads both ways, e.g. 03/04; say which if this is wrong)",
    }
    assert (summary["timezone"], summary["local_times"]["events"], summary["local_times"]["skipped"]) == ("UTC", 2, 0)
    assert "moved forward by the gap" in summary["local_times"]["rule"]
    chosen = _import("j1,03/04/2024 10:00,A\n", dayfirst=True, encoding="utf-8", delimiter=",").summary()
    assert (chosen["day_order"]["basis"], chosen["encoding_detected"], chosen["delimiter_detected"]) == (
        "chosen",
        False,
        False,
    )
    assert _import("j1,2024-03-05T10:00:00Z,A\n").summary()["day_order"] is None


def test_ties_say_what_they_count(engine):
    # j1: three events at 10:00 (two tie with an earlier one), j2 at the same instant (another journey: no tie).
    result = _import("j1,2024-05-01T10:00:00Z,A\nj1,2024-05-01T10:00:00Z,B\nj2,2024-05-01T10:00:00Z,A\n"
                     "j1,2024-05-01T10:00:00Z,C\nj1,2024-05-01T11:00:00Z,D\n")  # fmt: skip
    assert result.ties == 2
    assert result.ties_line() == (
        "Ties: 2 events share a timestamp with an earlier event of their journey (kept in file order)."
    )
    assert importer.describe_ties(1) == (
        "Ties: 1 event shares a timestamp with an earlier event of its journey (kept in file order)."
    )
    assert importer.describe_ties(0) == "Ties: none (no event shares a timestamp with an earlier event of its journey)."
    assert importer.describe_ties(13_993).startswith("Ties: 13,993 events share a timestamp")
