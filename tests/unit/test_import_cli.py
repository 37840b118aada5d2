"""``python cli.py import``: flags, JSON output, idempotence, and the page's message on bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import cli

ROOT = Path(__file__).resolve().parents[2]
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
    assert set(out) == {"dataset_id", "events", "journeys", "accounts", "activities", "rejected_rows"}
    assert out["events"] == 9 and out["journeys"] == 3 and out["activities"] == 3 and out["rejected_rows"] == 0
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["dataset_id"] == out["dataset_id"]
    assert cli.main(argv[:-2]) == 0
    assert "Already imported (nothing added)" in capsys.readouterr().out


def test_import_text_output_lists_rejected_rows(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("id;ts;what\n1;25/03/2024;Visit\n1;yesterday;Demo\n2;26/03/2024\n", encoding="cp1252")
    argv = ["import", str(path), "--journey", "id", "--time", "ts", "--activity", "what", "--dayfirst",
            "--tz", "Europe/Paris", "--delimiter", ";", "--encoding", "cp1252", "--allow-bad-rows"]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Imported: dataset 1: 1 events, 1 journeys, 1 accounts, 1 activities, 2024-03-24 to 2024-03-24 (UTC)." in out
    assert "rejected rows: 2" in out
    assert "row 2 (line 3) ts: Unreadable timestamp: 'yesterday'" in out


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
