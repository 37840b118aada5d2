"""``python cli.py import``: flags, JSON output, idempotence, and the page's message on bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import cli
from tests import ROOT

LOG = "case:concept:name,concept:name,time:timestamp,lifecycle:transition,org:resource\n" + "".join(
    f"c{i % 3},{act},2024-01-0{1 + i % 5}T10:0{i % 10}:00+0000,{tr},r{i % 2}\n"
    for i, (act, tr) in enumerate([("A", "START"), ("A", "COMPLETE"), ("B", "COMPLETE"), ("C", "COMPLETE")] * 3)
)


def test_import_json_summary_and_reimport(tmp_path, capsys):
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(LOG.encode()))
    argv = ["import", str(path), "--name", "xes", "--journey", "case:concept:name", "--time", "time:timestamp",
            "--activity", "concept:name", "--segment", "org:resource", "--where", "lifecycle:transition=COMPLETE",
            "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"dataset_id", "created", "rows_read", "events", "journeys", "accounts", "activities",
                        "identical_rows", "identical_rows_dropped", "rows_filtered_out", "rejected_rows",
                        "rejected_problems", "rejected_reasons", "rejected",
                        # What the text output says besides the counts.
                        "first_timestamp", "last_timestamp", "ties", "ties_note", "kind", "sheet", "encoding",
                        "encoding_label", "encoding_detected", "delimiter", "delimiter_label", "delimiter_detected",
                        "gzip", "day_order", "timezone", "date_only", "local_times", "notes"}  # fmt: skip
    assert (out["rejected_problems"], out["rejected_reasons"], out["rejected"]) == (0, [], [])
    assert out["events"] == 9 and out["journeys"] == 3 and out["activities"] == 3 and out["rejected_rows"] == 0
    assert (out["rows_read"], out["rows_filtered_out"], out["created"], out["identical_rows"]) == (12, 3, True, 0)
    assert cli.main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["dataset_id"], again["created"], again["rows_read"]) == (out["dataset_id"], False, 12)
    assert cli.main(argv[:-2]) == 0
    assert "Already imported (nothing added)" in capsys.readouterr().out


def test_import_text_output_lists_rejected_rows(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("id;ts;what\n1;25/03/2024;Visit\n1;yesterday;Demo\n2;26/03/2024\n", encoding="cp1252")
    argv = ["import", str(path), "--journey", "id", "--time", "ts", "--activity", "what", "--dayfirst",
            "--tz", "Europe/Paris", "--delimiter", ";", "--encoding", "cp1252", "--allow-bad-rows"]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Imported: dataset 1: 1 event, 1 journey, 1 account, 1 activity, 2024-03-24 to 2024-03-24 (UTC)." in out
    assert "3 rows read, 1 event stored; no row repeats another in every column; 2 rows rejected." in out
    assert "row 2 (line 3) ts: Unreadable timestamp: 'yesterday'" in out


def test_identical_rows_counted_kept_and_dropped_on_request(tmp_path, capsys):
    path = tmp_path / "twice.csv"
    path.write_text("case,when,step,note\nc1,2024-01-01,A,x\nc1,2024-01-01,A,x\nc1,2024-01-01,A,y\n")
    argv = ["import", str(path), "--journey", "case", "--time", "when", "--activity", "step", "--format", "json"]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows_read"], out["events"], out["identical_rows"], out["identical_rows_dropped"]) == (3, 3, 1, 0)
    assert cli.main([*argv[:-2], "--drop-identical-rows"]) == 0
    text = capsys.readouterr().out
    assert "3 rows read, 2 events stored; 1 row repeats an earlier row in every column (all dropped)" in text


def test_analyze_file_says_what_became_of_the_rows_on_stderr(tmp_path, capsys):
    path = tmp_path / "twice.csv"
    path.write_text("case,when,step\nc1,2024-01-01,A\nc1,2024-01-01,A\nc1,2024-01-02,B\n")
    assert cli.main(["analyze", str(path), "--journey", "case", "--time", "when", "--activity", "step"]) == 0
    captured = capsys.readouterr()
    assert "Imported: 3 rows read, 3 events stored; 1 row repeats an earlier row in every column (kept" in captured.err
    assert json.loads(captured.out)  # the report itself stays clean JSON on stdout


def test_bad_input_exits_non_zero_with_the_pages_message(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("case,when,step\nc1,2024-01-01,A\n,2024-01-02,B\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "cli.py", "import", str(path), "--journey", "case", "--time", "when", "--activity", "step"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "JOURNEYLENS_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert (
        "Empty journey id at line 3 of the file (row 2; column 'case'; value ''; expected a journey id)" in proc.stderr
    )


def test_where_needs_col_equals_value(capsys, tmp_path):
    try:
        cli.main(
            ["import", str(tmp_path / "x.csv"), "--journey", "a", "--time", "b", "--activity", "c", "--where", "oops"]
        )
    except SystemExit as exc:
        assert exc.code == 2
    assert "expected COL=VALUE" in capsys.readouterr().err


def test_import_xlsx_sheet_by_name(tmp_path, capsys):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    ws = wb.create_sheet("Log")
    for row in (["case", "when", "step", "step"], ["c1", "2024-01-01", "A", "x"], ["c1", "2024-01-02", "B", "y"]):
        ws.append(row)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    argv = ["import", str(path), "--journey", "case", "--time", "when", "--activity", "step (2)", "--sheet", "Log",
            "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows_read"], out["events"], out["activities"]) == (2, 2, 2)
    assert cli.main([*argv[:-4], "--sheet", "Logs"]) == 2
    assert "Sheet not found in the workbook. The nearest is 'Log'" in capsys.readouterr().err


# 30 rows with an unreadable timestamp, then 20 good ones; every row's channel is "web".
MANY_BAD = "jid,ts,act,channel\n" + "".join(
    f"j{i % 5},{'notadate' if i < 30 else f'2024-01-{i - 29:02d} 10:00'},visit,web\n" for i in range(50)
)
MANY_ARGS = ["--journey", "jid", "--time", "ts", "--activity", "act", "--allow-bad-rows"]


def test_more_rejected_rows_than_listed_says_how_many_and_where_they_all_are(tmp_path, capsys):
    path = tmp_path / "many.csv"
    path.write_text(MANY_BAD)
    assert cli.main(["import", str(path), *MANY_ARGS]) == 0
    out = capsys.readouterr().out
    assert "Rejected rows (first 20 of 30):" in out
    assert "row 20 (line 21) ts: Unreadable timestamp: 'notadate'" in out and "row 21 (line 22)" not in out
    assert "  … and 10 more (--rejected-out FILE writes all 30 with their reasons as CSV).\n" in out

    report = tmp_path / "rejected.csv"
    assert cli.main(["import", str(path), *MANY_ARGS, "--rejected-out", str(report)]) == 0
    out = capsys.readouterr().out
    assert f"  … and 10 more (all in {report}).\nWrote 30 rejected rows with their reasons to {report}.\n" in out
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,line,column,value,reason" and len(lines) == 31
    assert lines[-1] == "30,31,ts,notadate,Unreadable timestamp"

    assert cli.main(["import", str(path), *MANY_ARGS, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rejected_rows"], summary["rejected_problems"], len(summary["rejected"])) == (30, 30, 20)
    assert summary["rejected"][0] == {"row": 1, "line": 2, "column": "ts", "value": "notadate",
                                      "reason": "Unreadable timestamp"}  # fmt: skip
    assert summary["rejected_reasons"] == [{"reason": "Unreadable timestamp", "column": "ts", "rows": 30}]


def test_a_filter_that_keeps_no_row_is_not_called_rejection_and_names_the_nearest_value(tmp_path, capsys):
    path = tmp_path / "many.csv"
    path.write_text(MANY_BAD + "j9,2024-02-01\n")  # a ragged row: rejected before the filter sees it
    assert cli.main(["import", str(path), *MANY_ARGS, "--where", "channel=webb"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: No row matches the filter: it left out 50 rows; 1 other row rejected (column 'channel'; "
        "value 'webb'; expected a value present in the column; nearest: 'web')\n"
    )
    assert cli.main(["import", str(path), *MANY_ARGS, "--where", "channel=web", "--where", "act=Vist"]) == 2
    assert "(column 'act'; value 'Vist'; expected a value present in the column; nearest: 'visit')" in (
        capsys.readouterr().err
    )


def test_every_row_rejected_says_why_and_can_write_them_all(tmp_path, capsys):
    path = tmp_path / "many.csv"
    path.write_text(MANY_BAD + "j9,2024-02-01\n")
    argv = ["import", str(path), "--journey", "jid", "--time", "jid", "--activity", "act", "--allow-bad-rows"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: No event left to import: every row was rejected (51 rows). Reasons: Unreadable timestamp in "
        "column 'jid': 50 rows; The row has 2 values but the header has 4 columns: 1 row. First rows: "
        "row 1 (line 2) jid: Unreadable timestamp: 'j0'; row 2 (line 3) jid: Unreadable timestamp: 'j1'; "
        "row 3 (line 4) jid: Unreadable timestamp: 'j2'. Expected a date and time such as"
    )
    assert err.endswith(" --rejected-out FILE writes every rejected row with its reason.\n") and err.count("\n") == 1
    report = tmp_path / "rejected.csv"
    assert cli.main([*argv, "--rejected-out", str(report)]) == 2
    assert capsys.readouterr().err.endswith(f"Every rejected row with its reason: {report}.\n")
    assert len(report.read_text(encoding="utf-8-sig").splitlines()) == 1 + 51
    # Without --allow-bad-rows the first bad row stops the import: the flag is refused, not ignored.
    strict = tmp_path / "strict.csv"
    assert cli.main([*argv[:-1], "--rejected-out", str(strict)]) == 2
    assert "--rejected-out writes the rows an import with --allow-bad-rows leaves out" in capsys.readouterr().err
    assert not strict.exists()


def test_a_delimiter_the_import_does_not_read_is_refused_at_once(tmp_path, capsys):
    argv = ["import", str(tmp_path / "not-read.csv"), "--journey", "a", "--time", "b", "--activity", "c"]
    assert cli.main([*argv, "--delimiter", "x"]) == 2
    assert capsys.readouterr().err == (
        "error: Unusable delimiter (value 'x'; expected one of comma (','), semicolon (';'), tab, pipe ('|'))\n"
    )


def test_an_unknown_map_is_refused_naming_the_real_ones(tmp_path, capsys):
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-4-stage", name="Real map")
    path = tmp_path / "many.csv"
    path.write_text(MANY_BAD)
    assert cli.main(["import", str(path), *MANY_ARGS, "--map", "9"]) == 2
    assert capsys.readouterr().err == f"error: There is no map 9; existing: '{map_id} (Real map)'\n"
