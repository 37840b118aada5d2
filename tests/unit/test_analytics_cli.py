"""`python cli.py analyze`: every report's JSON shape, CSV output, errors, and the report registry."""

from __future__ import annotations

import csv
import io
import json

import pytest

import cli
from tests.factories import b2b_log, create_dataset, log_frame


@pytest.fixture
def dataset(engine) -> int:
    return create_dataset(b2b_log(), segments=["region"], name="Pipeline")


def _run(capsys, *argv) -> object:
    assert cli.main(["analyze", *map(str, argv)]) == 0
    return json.loads(capsys.readouterr().out)


def test_summary(capsys, dataset):
    out = _run(capsys, "--dataset", dataset)
    assert set(out) == {"events", "journeys", "accounts", "activities", "first_timestamp", "last_timestamp"}
    assert out["journeys"] == 60 and out["accounts"] == 20
    assert out["first_timestamp"].startswith("2025-01-01")


def test_transitions_shape_and_top(capsys, dataset):
    out = _run(capsys, "--dataset", dataset, "--report", "transitions", "--top", "5")
    assert len(out) == 5 and all(set(r) == {"source", "target", "count"} for r in out)
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
    assert len(v) == 3 and set(v[0]) == {"path", "journeys", "share", "conversion_rate"}
    assert isinstance(v[0]["path"], list) and v[0]["path"][0] == "Awareness"  # stage level by default
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
    assert cli.main(["analyze"]) == 2
    assert "FILE or --dataset" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "analyze",
                "--dataset",
                str(dataset),
                "--report",
                "funnel",
                "--steps",
                "A,B",
                "--mode",
                "any",
                "--step-windows-days",
                "3",
            ]
        )
        == 2
    )
    assert "any-order" in capsys.readouterr().err


def test_another_report_plugs_in_with_its_flags(capsys, dataset, monkeypatch):
    def handler(ctx):
        return cli.ReportOutput({"dataset": ctx.dataset_id, "knob": ctx.args.knob, "level": ctx.query.level}, None)

    def flags(parser):
        parser.add_argument("--knob")

    monkeypatch.setitem(cli.ANALYZE_REPORTS, "plugged", cli.AnalyzeReport(handler, "test report", flags))
    out = _run(capsys, "--dataset", dataset, "--report", "plugged", "--knob", "7", "--level", "account")
    assert out == {"dataset": dataset, "knob": "7", "level": "account"}


def test_analyze_file_imports_it_first(capsys, engine, tmp_path):
    pytest.importorskip("services.importer", reason="the importer has not landed on this branch yet")
    path = tmp_path / "log.csv"
    path.write_text("case,when,what\nc1,2025-01-01T10:00:00Z,A\nc1,2025-01-02T10:00:00Z,B\nc2,2025-01-01T10:00:00Z,A\n")
    out = _run(capsys, path, "--journey", "case", "--time", "when", "--activity", "what", "--report", "transitions")
    assert {(r["source"], r["target"]): r["count"] for r in out}[("A", "B")] == 1
