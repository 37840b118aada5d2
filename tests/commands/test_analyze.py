"""`python cli.py analyze`: every report's JSON shape, CSV output, errors, and the report registry."""

from __future__ import annotations

import argparse
import csv
import io
import json

import pytest

import cli
from commands.analyze import ANALYZE_REPORTS, AnalyzeReport
from services.reports import ReportOutput
from tests.factories import b2b_log, create_dataset, log_frame


@pytest.fixture
def dataset(engine) -> int:
    return create_dataset(b2b_log(), segments=["region"], name="Pipeline")


def _run(capsys, *argv) -> object:
    assert cli.main(["analyze", *map(str, argv)]) == 0
    return json.loads(capsys.readouterr().out)


def test_summary(capsys, dataset):
    out = _run(capsys, "--dataset", dataset)
    assert set(out) == {
        "events", "journeys", "accounts", "activities", "first_timestamp", "last_timestamp", "converted", "conversion",
    }  # fmt: skip
    assert out["journeys"] == 60 and out["accounts"] == 20
    assert out["converted"] is None and out["conversion"].startswith("Conversion: not defined")
    assert out["first_timestamp"].startswith("2025-01-01")


def test_transitions_shape_and_top(capsys, dataset):
    out = _run(capsys, "--dataset", dataset, "--report", "transitions", "--top", "5")
    assert len(out) == 5 and all(
        set(r) == {"source", "target", "count", "journeys", "share"} for r in out
    )  # as the CSV
    assert out[0]["count"] >= out[-1]["count"]
    staged = _run(capsys, "--dataset", dataset, "--report", "transitions", "--by", "stage")
    assert sum(r["count"] for r in staged if r["source"] == "(entry)") == 60


def test_funnel_shape_with_breakdown(capsys, dataset):
    out = _run(
        capsys, "--dataset", dataset, "--report", "funnel", "--by", "stage",
        "--steps", "Awareness,Consideration,Decision", "--breakdown", "region", "--attribution", "last",
    )  # fmt: skip
    keys = {
        "step", "journeys", "conversion_from_start", "conversion_from_previous", "dropped",
        "median_seconds_from_previous", "p90_seconds_from_previous",
    }  # fmt: skip
    assert [s["step"] for s in out["steps"]] == ["Awareness", "Consideration", "Decision"]
    assert all(set(s) == keys for s in out["steps"])
    assert out["steps"][0]["journeys"] == 60 and out["steps"][0]["median_seconds_from_previous"] is None
    assert out["window_days"] == 90 and out["mode"] == "ordered"  # the window is stated with the numbers
    assert 0 <= out["steps"][2]["conversion_from_start"] <= 1
    assert set(out["breakdown"]) == {"EMEA", "NA"}
    assert sum(v[0]["journeys"] for v in out["breakdown"].values()) == 60


def test_funnel_modes_windows_and_exclusions(capsys, engine):
    rows = [("a", 0, "A"), ("a", 1, "X"), ("a", 2, "B"), ("b", 0, "A"), ("b", 40, "B")]
    dataset_id = create_dataset(log_frame(rows), name="tiny")
    base = ["--dataset", dataset_id, "--report", "funnel", "--steps", "A,B"]
    assert [s["journeys"] for s in _run(capsys, *base)["steps"]] == [2, 2]
    assert [s["journeys"] for s in _run(capsys, *base, "--window-days", "30")["steps"]] == [2, 1]
    assert [s["journeys"] for s in _run(capsys, *base, "--mode", "immediate")["steps"]] == [2, 1]
    assert [s["journeys"] for s in _run(capsys, *base, "--exclude", "X")["steps"]] == [1, 1]
    assert [s["journeys"] for s in _run(capsys, *base, "--step-windows-days", "1.5")["steps"]] == [2, 0]


def test_variants_outcomes_nonlinearity(capsys, dataset):
    v = _run(capsys, "--dataset", dataset, "--report", "variants", "--goal", "Decision", "--top", "3")
    assert len(v) == 3 and set(v[0]) == {
        "path",
        "journeys",
        "share",
        "conversion_rate",
        "distinct_paths",
        "total_journeys",
        "by",
        "conversion",
    }  # the CSV's fields: the cut to the top N is seen in JSON too
    assert v[0]["conversion"] == "reaching Decision"
    assert isinstance(v[0]["path"], list) and v[0]["path"][0] == "Awareness"  # stage level by default
    assert v[0]["by"] == "stage"
    o = _run(capsys, "--dataset", dataset, "--report", "outcomes")
    assert {r["outcome"] for r in o} <= {"won", "lost", "open"} and sum(r["journeys"] for r in o) == 60
    assert all(set(r) == {"outcome", "journeys", "share"} for r in o)
    n = _run(
        capsys,
        "--dataset",
        dataset,
        "--report",
        "nonlinearity",
        "--stage-order",
        "Awareness,Consideration,Decision,Onboarding",
    )
    assert n["journeys"] == 60 and 0 <= n["share_moving_back"] <= 1
    assert n["stage_order"] == ["Awareness", "Consideration", "Decision", "Onboarding"]
    assert all({"from_stage", "to_stage", "moves"} <= set(r) for r in n["top_loops"])


def test_level_filters_and_csv(capsys, dataset):
    acc = _run(capsys, "--dataset", dataset, "--level", "account")
    assert acc["journeys"] == 20
    emea = _run(capsys, "--dataset", dataset, "--filter-segment", "region=EMEA")
    assert emea["journeys"] == 30
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "outcomes", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert set(rows[0]) == {"outcome", "journeys", "share"}


def test_errors_exit_2_with_a_message(capsys, dataset):
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "funnel"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert cli.main(["analyze"]) == 2  # said as it is (before: "(not both)" when neither was given)
    assert "analyze reads a FILE or a stored --dataset ID: neither was given" in capsys.readouterr().err
    funnel = ["analyze", "--dataset", str(dataset), "--report", "funnel", "--steps", "A,B"]
    assert cli.main([*funnel, "--mode", "any", "--step-windows-days", "3"]) == 2
    assert "any-order" in capsys.readouterr().err


def test_another_report_plugs_in_with_its_flags(capsys, dataset, monkeypatch):
    def handler(rin):
        return ReportOutput({"dataset": rin.ctx.dataset_id, "knob": rin.args.knob, "level": rin.ctx.query.level}, None)

    def flags(parser):
        parser.add_argument("--knob")

    monkeypatch.setitem(ANALYZE_REPORTS, "plugged", AnalyzeReport(handler, "test report", flags))
    out = _run(capsys, "--dataset", dataset, "--report", "plugged", "--knob", "7", "--level", "account")
    assert out == {"dataset": dataset, "knob": "7", "level": "account"}


def test_analyze_file_imports_it_first(capsys, engine, tmp_path):
    pytest.importorskip("services.importer", reason="the importer has not landed on this branch yet")
    path = tmp_path / "log.csv"
    path.write_text("case,when,what\nc1,2025-01-01T10:00:00Z,A\nc1,2025-01-02T10:00:00Z,B\nc2,2025-01-01T10:00:00Z,A\n")
    out = _run(capsys, path, "--journey", "case", "--time", "when", "--activity", "what", "--report", "transitions")
    assert {(r["source"], r["target"]): r["count"] for r in out}[("A", "B")] == 1


def _fails(capsys, *argv) -> str:
    assert cli.main([*map(str, argv)]) == 2
    return capsys.readouterr().err


def test_names_that_do_not_exist_are_refused_with_the_nearest(capsys, dataset):
    err = _fails(capsys, "analyze", "--dataset", 999, "--report", "summary")
    assert f"There is no dataset 999; existing: '{dataset} (Pipeline)'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--map", 77)
    assert "There is no map 77" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--report", "funnel", "--steps", "Demo,Deal Won")
    assert "No touchpoint (funnel step) is named 'Deal Won'" in err and "nearest:" in err
    err = _fails(
        capsys,
        "analyze",
        "--dataset",
        dataset,
        "--report",
        "funnel",
        "--steps",
        "Demo,Contract signed",
        "--exclude",
        "Prcing page",
    )
    assert "No touchpoint (exclusion step) is named 'Prcing page' in this dataset; nearest: 'Pricing page'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--through", "demo")
    assert "No touchpoint, activity or stage is named 'demo' in this dataset; nearest: 'Demo'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--report", "variants", "--goal", "Decisoin")
    assert "nearest: 'Decision'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--report", "sankey", "--anchor-node", "Dmo")
    assert "nearest: 'Demo'" in err
    err = _fails(capsys, "conversion", "set", "--dataset", dataset, "--outcome", "Won")
    assert "No outcome is named 'Won' in this dataset; nearest: 'won'" in err
    err = _fails(capsys, "conversion", "show", "--dataset", 999)
    assert "There is no dataset 999" in err


def test_filter_values_and_counts_that_cannot_be_used_are_refused(capsys, dataset):
    # A misspelt filter value would keep no journey and print an empty report: it is refused instead.
    err = _fails(capsys, "analyze", "--dataset", dataset, "--filter-channel", "emial")
    assert "No channel is named 'emial' in this dataset; nearest: 'email'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--filter-segment", "region=EMAE")
    assert "No value of region is named 'EMAE' in this dataset; nearest: 'EMEA'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--filter-outcome", "Won")
    assert "nearest: 'won'" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--filter-segment", "region=")
    assert "--filter-segment takes NAME=V1,V2" in err
    err = _fails(capsys, "analyze", "--dataset", dataset, "--report", "funnel", "--steps", "Demo,,Pricing page")
    assert "a list of names has an empty one (value 'Demo,,Pricing page'" in err
    with pytest.raises(SystemExit) as stop:  # a list flag parsed by argparse refuses the same way
        cli.main(["analyze", "--dataset", str(dataset), "--report", "friction", "--weights", "exit=0.3,"])
    assert stop.value.code == 2 and "a list of names has an empty one" in capsys.readouterr().err
    for flag in ("--top", "--sankey-steps", "--active-days", "--min-transitions"):
        with pytest.raises(SystemExit) as stop:  # argparse's own refusal
            cli.main(["analyze", "--dataset", str(dataset), flag, "0"])
        assert stop.value.code == 2
        assert f"argument {flag}: must be at least 1: '0'" in capsys.readouterr().err
    # Values the dataset has are taken as before.
    assert _run(capsys, "--dataset", dataset, "--filter-segment", "region=EMEA", "--filter-channel", "email")["events"]


def test_conversion_show_set_and_clear(capsys, dataset):
    shown = _run_cli(capsys, "conversion", "show", "--dataset", dataset, "--format", "json")
    assert shown["definition"]["goals"] == [] and shown["converted"] is None and shown["journeys"] == 60
    assert shown["text"].startswith("Conversion: not defined")
    saved = _run_cli(
        capsys,
        "conversion",
        "set",
        "--dataset",
        dataset,
        "--outcome",
        "won",
        "--lost-outcome",
        "lost",
        "--format",
        "json",
    )
    outcomes = _run(capsys, "--dataset", dataset, "--report", "outcomes")
    won = next(r["journeys"] for r in outcomes if r["outcome"] == "won")
    assert saved["converted"] == won and saved["journeys"] == 60 and saved["scope"] == "dataset"
    assert (
        saved["text"]
        == f"Conversion: outcome is won; lost: outcome is lost · {won:,} of 60 journeys ({100 * won / 60:.1f}%)"
    )
    summary = _run(capsys, "--dataset", dataset)
    assert summary["converted"] == won and summary["conversion"] == saved["text"]
    # Every report reads the saved definition; --goal overrides it for one run only.
    timing = _run(capsys, "--dataset", dataset, "--report", "time")
    assert timing["time_to_convert"]["converted"] == won
    assert _run(capsys, "--dataset", dataset, "--report", "time", "--goal", "Decision")["conversion"] == (
        "reaching Decision; lost: outcome is lost"
    )
    assert _run_cli(capsys, "conversion", "show", "--dataset", dataset, "--format", "json")["converted"] == won
    within = _run_cli(
        capsys, "conversion", "set", "--dataset", dataset, "--goal", "Decision,Onboarding", "--within-days", "30",
        "--format", "json",
    )  # fmt: skip
    assert within["definition"]["within_days"] == 30 and "within 30 days" in within["text"]
    assert cli.main(["conversion", "clear", "--dataset", str(dataset)]) == 0
    assert "Cleared" in capsys.readouterr().out
    assert _run_cli(capsys, "conversion", "show", "--dataset", dataset, "--format", "json")["converted"] is None


def test_conversion_suggestions_name_the_outcome(capsys, dataset):
    suggestions = _run_cli(capsys, "conversion", "suggest", "--dataset", dataset, "--format", "json")
    assert suggestions[0]["definition"]["outcomes"] == ["won"]
    assert suggestions[0]["definition"]["lost_outcomes"] == ["lost"]


def _run_cli(capsys, *argv) -> object:
    assert cli.main([*map(str, argv)]) == 0
    return json.loads(capsys.readouterr().out)


def _analyze_parser():
    parser = cli.build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["analyze"]


REPEATS_NOTE = "note: consecutive repeats of a node count once (--keep-repeats keeps them)"


def _notes(err: str) -> list[str]:
    """The notes on standard error, but the repeats rule's (said by every report that reads repeats,
    tests/commands/test_cli_review_fixes.py checks it)."""
    return [line for line in err.splitlines() if line.startswith("note: ") and line != REPEATS_NOTE]


def test_options_the_report_does_not_use_are_noted(capsys, dataset):
    cases = [
        (["--report", "summary", "--steps", "Blgo,Store"], "note: --steps is not used by the summary report (it is used by: funnel)"),
        (["--report", "transitions", "--anchor-node", "Blgo"], "note: --anchor-node is not used by the transitions report (it is used by: sankey)"),
        (["--report", "transitions", "--window-days", "5"], "note: --window-days is not used by the transitions report (it is used by: funnel)"),
        (["--report", "transitions", "--window", "90"], "note: --window-days is not used by the transitions report (it is used by: funnel)"),
        (["--report", "outcomes", "--goal", "Decision"], "note: --goal is not used by the outcomes report (it is used by: summary, "),
        (["--journey", "jid"], "note: --journey is not used with --dataset (it reads a FILE being analysed)"),
    ]  # fmt: skip
    for argv, note in cases:
        assert cli.main(["analyze", "--dataset", str(dataset), *argv]) == 0
        out, err = capsys.readouterr()
        json.loads(out)  # the command still runs
        assert len(_notes(err)) == 1 and _notes(err)[0].startswith(note), (argv, err)
    # Options the report does use, and the common ones, are not noted.
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "funnel", "--steps", "Demo,Pricing page",
                     "--window-days", "30", "--top", "3", "--level", "account", "--by", "touchpoint"]) == 0  # fmt: skip
    assert _notes(capsys.readouterr().err) == []


def test_every_analyze_option_says_which_reports_use_it():
    from commands.analyze import _CONVERSION_REPORTS, COMMON_OPTIONS, OPTION_REPORTS, READING_OPTIONS
    from services.reports import REPORTS

    dests = {a.dest for a in _analyze_parser()._actions}
    unplaced = dests - set(OPTION_REPORTS) - COMMON_OPTIONS - READING_OPTIONS
    assert not unplaced, f"say in commands.analyze.OPTION_REPORTS which reports use {sorted(unplaced)}"
    assert set(OPTION_REPORTS) <= dests and COMMON_OPTIONS <= dests and READING_OPTIONS <= dests
    assert not (set(OPTION_REPORTS) & COMMON_OPTIONS) and not (READING_OPTIONS & (COMMON_OPTIONS | set(OPTION_REPORTS)))
    assert all(set(users) <= set(ANALYZE_REPORTS) for users in OPTION_REPORTS.values())
    assert set(_CONVERSION_REPORTS) == {name for name, r in REPORTS.items() if r.conversion}


def test_impossible_ranges_are_refused(capsys, dataset):
    err = _fails(capsys, "analyze", "--dataset", dataset, "--date-from", "2026-05-01", "--date-to", "2026-04-01")
    assert len(err.splitlines()) == 1 and err.startswith("error: --date-from 2026-05-01 is after --date-to 2026-04-01")
    funnel = [
        "analyze",
        "--dataset",
        str(dataset),
        "--report",
        "funnel",
        "--steps",
        "Demo,Pricing page,Contract signed",
    ]
    for flag, value in (("--window-days", "-5"), ("--window-days", "0"), ("--step-windows-days", "7,-1")):
        with pytest.raises(SystemExit) as stop:
            cli.main([*funnel, flag, value])
        assert stop.value.code == 2
        assert (
            capsys.readouterr().err == f"error: argument {flag}: must be more than 0 days: '{value.split(',')[-1]}'\n"
        )
    # The same day at both ends is one day, and empty per-step windows are none.
    one_day = _run(capsys, "--dataset", dataset, "--date-from", "2025-01-05", "--date-to", "2025-01-05")
    assert one_day["events"] == 4  # b2b_log's events on 2025-01-05 (UTC)
    assert _run(capsys, *funnel[1:], "--step-windows-days", "7,")["step_windows_days"] == [7.0, None]
    # The JSON states its exclusions as the CSV does (before: only the CSV's column named them).
    assert _run(capsys, *funnel[1:])["exclusions"] == []
    assert _run(capsys, *funnel[1:], "--exclude", "Webinar")["exclusions"] == ["Webinar"]


def test_a_result_with_journeys_and_an_empty_list_is_not_called_empty(capsys, engine):
    rows = [("a", 0, "A", "S1"), ("a", 1, "B", "S2"), ("b", 0, "A", "S1")]  # no journey moves back a stage
    frame = log_frame(rows, ("journey_id", "timestamp", "activity", "stage"))
    forward = create_dataset(frame, name="Forward only")
    assert cli.main(["analyze", "--dataset", str(forward), "--report", "nonlinearity"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["journeys"] == 2 and "is empty" not in err, err
    assert (
        cli.main(["analyze", "--dataset", str(forward), "--report", "funnel", "--steps", "A,B", "--format", "csv"]) == 0
    )
    assert "step_windows_days" not in capsys.readouterr().err  # none were given: nothing left out


def test_an_empty_result_says_why(capsys, dataset):
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "transitions", "--date-from", "2030-01-01"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == []
    (note,) = _notes(err)
    assert note.startswith(
        "note: the transitions report is empty: no journeys match the filters (--date-from 2030-01-01)"
    )
    assert "the log's events run from 2025-01-01 to " in note
    funnel = [
        "--report",
        "funnel",
        "--steps",
        "Demo,Pricing page",
        "--filter-channel",
        "email",
        "--date-to",
        "2020-01-01",
    ]
    assert cli.main(["analyze", "--dataset", str(dataset), *funnel, "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert [r["journeys"] for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))] == ["0", "0"]
    assert "no journeys match the filters (--date-to 2020-01-01; --filter-channel email)" in err
    # A result with rows has no such note.
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "transitions", "--date-from", "2025-01-01"]) == 0
    assert _notes(capsys.readouterr().err) == []


def test_csv_says_which_parts_of_the_json_it_leaves_out(capsys, dataset):
    argv = ["analyze", "--dataset", str(dataset), "--format", "csv"]
    assert cli.main([*argv, "--report", "nonlinearity", "--stage-order", "Awareness,Consideration,Decision"]) == 0
    assert _notes(capsys.readouterr().err) == [
        "note: the CSV of the nonlinearity report leaves out stage_order, top_loops; --format json has them"
    ]
    assert cli.main([*argv, "--report", "time", "--goal", "Decision"]) == 0
    assert _notes(capsys.readouterr().err) == [
        "note: the CSV of the time report leaves out time_to_convert; --format json has them"
    ]
    for report in ("summary", "transitions", "outcomes", "variants"):  # their CSV holds all of their JSON
        assert cli.main([*argv, "--report", report]) == 0
        assert _notes(capsys.readouterr().err) == [], report
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "nonlinearity"]) == 0  # JSON: no note
    assert _notes(capsys.readouterr().err) == []


def test_csv_left_out_compares_the_json_with_the_table():
    import pandas as pd

    from commands.analyze import csv_left_out

    table = pd.DataFrame({"journeys": [3], "contrib_exit": [0.1], "measure": ["next touchpoint accuracy"]})
    assert csv_left_out({"journeys": 3, "rows": [{"journeys": 1}], "loops": [{"x": 1}]}, table) == ["loops"]
    assert csv_left_out({"next_touchpoint": {"accuracy": 0.5}, "split_at": "x"}, table) == [
        "next_touchpoint (in part)", "split_at",
    ]  # fmt: skip
    rows = [{"journeys": 1, "components": {"exit": {}}, "path": ["A"], "share_pct": 1.0}]
    assert csv_left_out(rows, table) == ["components (in part)", "path"]
    assert csv_left_out([], None) == []


def test_time_in_stage_follows_a_given_stage_order(capsys, dataset):
    plain = _run(capsys, "--dataset", dataset, "--report", "time")["time_in_stage"]
    by_visits = [r["node"] for r in plain]
    assert by_visits == [r["node"] for r in sorted(plain, key=lambda r: (-r["visits"], r["node"]))]
    order = ["Decision", "Awareness", "Consideration"]
    assert cli.main(["analyze", "--dataset", str(dataset), "--report", "time", "--stage-order", ",".join(order)]) == 0
    out, err = capsys.readouterr()
    assert _notes(err) == []  # read, not "not used"
    rows = json.loads(out)["time_in_stage"]
    assert [r["node"] for r in rows][: len(order)] == order != by_visits[: len(order)]
    assert sorted(rows, key=lambda r: r["node"]) == sorted(plain, key=lambda r: r["node"])


def test_the_time_report_of_a_log_without_stages_is_per_touchpoint_and_says_so(engine, capsys):
    # Before: "error: stage level needs a stage column, and this dataset has none", the default --by.
    from tests.factories import create_dataset, log_frame

    frame = log_frame([("j1", 0, "Blog"), ("j1", 2, "Demo"), ("j2", 0, "Blog"), ("j2", 1, "Demo")],
                      ("journey_id", "timestamp", "activity"))  # fmt: skip
    dataset_id = create_dataset(frame, name="No stages")
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "time"]) == 0
    captured = capsys.readouterr()
    assert "note: this log has no stage column or linked map, so the time is per touchpoint (--by touchpoint)" in (
        captured.err
    )
    assert {r["node"] for r in json.loads(captured.out)["time_in_stage"]} >= {"Blog"}
    # Nor an account column: the summary's accounts are its journeys, and it says so (before: unsaid).
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "summary"]) == 0
    captured = capsys.readouterr()
    assert "note: no account column was mapped, so each journey counts as its own account" in captured.err
    assert json.loads(captured.out)["accounts"] == json.loads(captured.out)["journeys"] == 2
