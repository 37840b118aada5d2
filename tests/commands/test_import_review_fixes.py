"""``import`` and ``analyze FILE`` say how the file was read: the zone of times without an offset,
clock changes, what ties count, the same facts in JSON as in text, and the dataset ``analyze`` made."""

from __future__ import annotations

import json

import cli

ROWS = (
    "journey,ts,act\n"
    "j1,2024-03-31 01:30,A\n"
    "j1,2024-03-31 02:30,B\n"  # not a Europe/Amsterdam time: the clocks skip it
    "j1,2024-03-31 03:30,C\n"
    "j2,2024-10-27 02:30,A\n"  # shown twice by Europe/Amsterdam clocks
    "j2,03/04/2024 10:00,B\n"  # reads both ways: month-first assumed
    "j3,2024-05-01T10:00:00Z,A\n"
)
COLUMNS = ["--journey", "journey", "--time", "ts", "--activity", "act"]


def _file(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(ROWS)
    return str(path)


def test_import_text_says_the_zone_the_clock_changes_and_what_ties_count(tmp_path, capsys):
    path = _file(tmp_path)
    assert cli.main(["import", path, *COLUMNS]) == 0
    out = capsys.readouterr().out
    assert "Ties: none (no event shares a timestamp with an earlier event of its journey).\n" in out
    assert (
        "5 of 6 timestamps have no offset and were read as UTC time (--tz or the page's time zone changes this); "
        "the others carry their own offset.\n" in out
    )
    assert "clocks" not in out

    assert cli.main(["import", path, *COLUMNS, "--tz", "Europe/Amsterdam"]) == 0
    out = capsys.readouterr().out
    assert "Ties: 1 event shares a timestamp with an earlier event of its journey (kept in file order).\n" in out
    assert "read as Europe/Amsterdam time (--tz or the page's time zone changes this)" in out
    assert (
        "1 time does not exist in Europe/Amsterdam (the clocks skip it): row 2 (line 3) '2024-03-31 02:30', moved "
        "forward by the gap and stored as 2024-03-31 01:30:00 UTC (03:30 CEST).\n" in out
    )
    assert (
        "1 time is ambiguous in Europe/Amsterdam (the clocks show it twice): row 4 (line 5) '2024-10-27 02:30'" in out
    )


def test_import_json_carries_the_notes_of_the_text_and_a_reimport_repeats_them(tmp_path, capsys):
    argv = ["import", _file(tmp_path), *COLUMNS, "--tz", "Europe/Amsterdam"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out.splitlines()
    assert cli.main([*argv, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["created"] is False
    assert summary["notes"][0] == "This file was already imported with these options: nothing was added."
    assert summary["notes"][1:] == text[2:]  # after the dataset line and the rows line: the same notes
    assert summary["ties_note"] in text[1]
    assert summary["day_order"]["basis"] == "assumed" and summary["encoding_label"] == "UTF-8"
    assert (summary["first_timestamp"], summary["last_timestamp"]) == (
        "2024-03-04T09:00:00+00:00",
        "2024-10-27T01:30:00+00:00",
    )
    local = summary["local_times"]
    assert (local["timezone"], local["events"], local["skipped"], local["repeated"]) == ("Europe/Amsterdam", 5, 1, 1)
    assert local["skipped_example"] == {"row": 2, "line": 3, "value": "2024-03-31 02:30",
                                        "stored": "2024-03-31T01:30:00+00:00"}  # fmt: skip

    assert cli.main(argv) == 0
    again = capsys.readouterr().out
    assert again.startswith("Already imported (nothing added): dataset ")
    assert "Dates like 03/04/2024 read month-first (assumed: every date reads both ways" in again
    assert "1 time does not exist in Europe/Amsterdam" in again


def test_analyze_file_names_its_dataset_and_the_notes_on_stderr(tmp_path, capsys):
    path = _file(tmp_path)
    argv = ["analyze", path, *COLUMNS, "--report", "summary"]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)  # the report stays clean JSON on stdout
    lines = err.splitlines()
    assert lines[0].startswith("log.csv: imported as dataset ") and "(--dataset " in lines[0]
    number = lines[0].removeprefix("log.csv: imported as dataset ").split(" ")[0]
    assert "Encoding UTF-8 (detected); delimiter comma (detected)." in lines
    assert any(line.startswith("Dates like 03/04/2024 read month-first (assumed") for line in lines)
    assert any(line.startswith("5 of 6 timestamps have no offset and were read as UTC time") for line in lines)
    assert any(line.startswith("Imported: 6 rows read, 6 events stored") for line in lines)

    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        f"log.csv: already imported as dataset {number} (--dataset {number} reads it without the file).\n"
    )
    assert "Dates like 03/04/2024 read month-first (assumed" in err
    assert "This file was already imported" not in err  # the first line says so
    assert cli.main(["analyze", "--dataset", number, "--report", "summary"]) == 0


def test_a_folder_given_as_the_file_is_said_to_be_a_folder(engine, tmp_path, capsys):
    # Before: "File not found" for a folder that exists.
    assert cli.main(["analyze", str(tmp_path), "--journey", "j", "--time", "t", "--activity", "a"]) == 2
    said = capsys.readouterr().err
    assert "This is a folder, not a file" in said and "File not found" not in said
