"""`analyze --report friction|metrics` and `report MAP_ID --out FILE.html` on a map with a linked log."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import pytest

import cli
from charts.map_report_html import render_map_report
from commands.report import REPORT_MEASURES
from db.engine import write_session
from db.models import Action, JourneyMap
from services import metrics as metric_service
from services.map_report import build_map_report_data, report_csv_zip
from services.maps import create_map_from_template
from tests.factories_metrics import create_dataset, planted_log


@pytest.fixture
def linked(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B <script>alert(1)</script> journey")
    dataset_id = create_dataset(planted_log(journeys=120, unknown_activity="Webinar"), name="planted", map_id=map_id)
    with write_session() as session:
        m = session.get(JourneyMap, map_id)
        m.description = "Owner said: <img src=x onerror=alert(2)>"
        session.add(m)
        session.add(Action(map_id=map_id, action='=HYPERLINK("http://x") fix <b>pricing</b>', status="open"))
    nps = metric_service.create_metric(map_id=map_id, kind="nps", target=30)
    metric_service.set_metric_value(nps, "2026-01", 10)
    metric_service.set_metric_value(nps, "2026-02", 20)
    return map_id, dataset_id


def test_analyze_friction_json(linked, capsys):
    _, dataset_id = linked
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "friction", "--goal", "Service"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["touchpoint"] == "Pricing page" and rows[0]["stage"] == "Conversion"
    assert set(rows[0]) >= {"touchpoint", "stage", "friction", "journeys", "events", "components"}  # the CSV's too
    assert set(rows[0]["components"]) == {"exit", "backtrack", "repeat", "delay", "feedback"}
    assert 0 <= rows[0]["friction"] <= 100
    # Weights from the command line: only delay counts.
    args = ["analyze", "--dataset", str(dataset_id), "--report", "friction"]
    assert cli.main([*args, "--weights", "exit=0,backtrack=0,repeat=0,feedback=0,delay=1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["components"]["exit"]["contribution"] in (0, None) for r in rows)
    with pytest.raises(SystemExit):
        cli.main([*args, "--weights", "speed=1"])


def test_analyze_metrics_json_and_csv(linked, capsys):
    _, dataset_id = linked
    args = ["analyze", "--dataset", str(dataset_id), "--report", "metrics", "--period", "all"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    undefined = {r["metric"] for r in json.loads(out)}
    assert "conversion" not in undefined and {"nps", "csat"} <= undefined  # no definition: no conversion rate
    # What is left out is said, and why (before: the rows were missing without a word).
    assert "left out: conversion: conversion is not defined for this dataset" in err
    assert "left out: retention: it compares each period with the one before" in err
    assert cli.main(["conversion", "set", "--dataset", str(dataset_id), "--goal", "Service"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert cli.main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    by_metric = {r["metric"]: r for r in rows}
    assert set(by_metric) >= {"conversion", "nps", "csat"}
    assert set(rows[0]) == {
        "metric",
        "scope",
        "period",
        "value",
        "base",
        "target",
        "status",
        "computed_with",
        "conversion",
    }
    assert by_metric["nps"]["computed_with"] == "over the whole log"  # the options beside the numbers
    # The same journeys convert as the Conversion line says.
    converted, journeys = (int(x.replace(",", "")) for x in line.split(" · ")[1].split(" journeys")[0].split(" of "))
    assert by_metric["conversion"]["value"] == pytest.approx(100 * converted / journeys)
    assert by_metric["conversion"]["base"] == journeys
    assert by_metric["nps"]["target"] == 30 and by_metric["nps"]["status"] in ("red", "amber", "green")
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "metrics", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].lstrip("\ufeff").startswith("metric,scope,period,value,base,target,status")


def test_report_html_is_self_contained_and_escaped(linked, tmp_path, capsys):
    map_id, _ = linked
    out = tmp_path / "report.html"
    csv_dir = tmp_path / "csv"
    assert cli.main(["report", str(map_id), "--out", str(out), "--csv-dir", str(csv_dir)]) == 0
    assert "Wrote" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # plotly.js is inline (once) and nothing is fetched from elsewhere.
    assert text.count("plotly.js v") >= 1 and 'src="http' not in text
    # User text is escaped wherever it appears as HTML.
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text and "<b>pricing</b>" not in text
    for section in (
        "Health",
        "Metrics",
        "Friction hot spots",
        "Designed vs observed",
        "Action plan",
        "Stage flow",
        "Funnel",
    ):
        assert f"<h2>{section}" in text, section
    assert "Pricing page" in text
    assert "Conversion: not defined" in text  # the one line, stated at the top
    names = {p.name for p in csv_dir.iterdir()}
    assert {"metrics.csv", "friction_touchpoints.csv", "hot_spots.csv", "action_plan.csv", "overlay.csv"} <= names
    actions = (csv_dir / "action_plan.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in actions  # formulas neutralised


def test_report_without_a_dataset_and_the_csv_zip(engine):
    map_id = create_map_from_template(template_key="professional-services", name="Advisory")
    data = build_map_report_data(map_id)
    report = render_map_report(data)
    assert "No event log is linked" in report.html
    assert "<h2>Friction hot spots" not in report.html
    assert data.conversion is None and data.friction is None and report.tables == data.tables
    with zipfile.ZipFile(BytesIO(report_csv_zip(data))) as zf:
        assert zf.namelist() == ["metrics.csv", "action_plan.csv"]


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--goal", "Hired"], "needs an event log"),  # before: --goal and --lost ignored without a word
        (["--measure", "nps"], "--measure lays a measure of an event log over the map"),  # before: dropped
    ],
)
def test_what_a_report_needs_an_event_log_for_is_refused_without_one(engine, tmp_path, capsys, flags, said):
    map_id = create_map_from_template(template_key="professional-services", name="Advisory")
    assert cli.main(["report", str(map_id), "--out", str(tmp_path / "x.html"), *flags]) == 2
    err = capsys.readouterr().err
    assert said in err and "--dataset ID" in err
    assert not (tmp_path / "x.html").exists()
    assert cli.main(["report", str(map_id), "--out", str(tmp_path / "x.html")]) == 0  # the defaults say nothing


def test_a_report_of_a_log_through_another_map_says_so(linked, tmp_path, capsys):
    _, dataset_id = linked
    other = create_map_from_template(template_key="professional-services", name="Advisory")
    assert cli.main(["report", str(other), "--dataset", str(dataset_id), "--out", str(tmp_path / "x.html")]) == 0
    err = capsys.readouterr().err
    assert "note: This event log is linked to “B2B <script>alert(1)</script> journey”, not to “Advisory”" in err


def test_report_of_a_missing_map_exits_2(engine, tmp_path, capsys):
    assert cli.main(["report", "999", "--out", str(tmp_path / "x.html")]) == 2
    assert capsys.readouterr().err == "error: There is no map 999 (no map yet)\n"


def test_report_of_a_missing_map_names_the_real_ones(engine, tmp_path, capsys):
    map_id = create_map_from_template(template_key="professional-services", name="Advisory")
    assert cli.main(["report", "999", "--out", str(tmp_path / "x.html"), "--dataset", "5"]) == 2
    assert capsys.readouterr().err == f"error: There is no map 999; existing: '{map_id} (Advisory)'\n"
    assert not (tmp_path / "x.html").exists()


def test_report_measures_match_the_overlay():
    from services.overlay import MEASURES

    assert REPORT_MEASURES == tuple(MEASURES)


def test_report_with_the_removal_effect_overlay(linked, tmp_path, capsys):
    map_id, dataset_id = linked
    out, csv_dir = tmp_path / "report.html", tmp_path / "csv"
    args = ["report", str(map_id), "--out", str(out), "--csv-dir", str(csv_dir)]
    assert cli.main([*args, "--measure", "removal effect", "--goal", "Sales rep"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "<h2>The map with removal effect % (reaching Sales rep)" in text
    assert "Conversion: reaching Sales rep · " in text and "for this view only (not saved)" in text
    import pandas as pd

    from analytics.conversion import goal
    from services.analysis import run
    from services.attribution import compute_touchpoint_attribution
    from services.context import open_context

    overlay = pd.read_csv(csv_dir / "overlay.csv", encoding="utf-8-sig").set_index("touchpoint")
    ctx = open_context(dataset_id, map_id, conversion=goal("Sales rep"))
    expected = compute_touchpoint_attribution(ctx, run("attribution", ctx)).set_index("touchpoint")
    assert overlay.loc["Pricing page", "value"] == pytest.approx(100)
    assert overlay.loc["Demo", "value"] == pytest.approx(expected.loc["Demo", "removal_effect"] * 100)


@pytest.mark.parametrize("measure", ["removal effect", "attributed conversions", "conversion"])
def test_a_report_measure_that_needs_conversion_is_refused_without_it(linked, tmp_path, capsys, measure):
    # Before: the report was written (exit 0), its grid "not defined" and every cell "not reached".
    map_id, dataset_id = linked
    out = tmp_path / "report.html"
    assert cli.main(["report", str(map_id), "--out", str(out), "--measure", measure]) == 2
    said = capsys.readouterr().err
    assert f"the report's {measure} overlay of dataset {dataset_id} needs conversion defined" in said, said
    assert not out.exists()


def test_report_goal_keeps_the_saved_lost_rule_and_names_its_event_log(linked, tmp_path, capsys):
    # As `analyze --goal` does: what converts is replaced for this report, the saved lost rule is kept.
    map_id, dataset_id = linked
    assert (
        cli.main(["conversion", "set", "--dataset", str(dataset_id), "--goal", "Service", "--lost-goal", "Webinar"])
        == 0
    )
    out = tmp_path / "report.html"
    assert cli.main(["report", str(map_id), "--out", str(out), "--goal", "Sales rep"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "From the event log planted: Conversion: reaching Sales rep; lost: reaching Webinar · " in text
    # --lost replaces the saved lost rule for this report only, as `analyze --lost` does.
    assert cli.main(["report", str(map_id), "--out", str(out), "--goal", "Sales rep", "--lost", "Demo"]) == 0
    assert "Conversion: reaching Sales rep; lost: reaching Demo · " in out.read_text(encoding="utf-8")
    assert cli.main(["report", str(map_id), "--out", str(out), "--lost", "Demo"]) == 0  # what converts: as saved
    assert "Conversion: reaching Service; lost: reaching Demo · " in out.read_text(encoding="utf-8")
    # A name the dataset lacks is refused with the nearest, never dropped.
    assert cli.main(["report", str(map_id), "--out", str(out), "--lost", "Dmeo"]) == 2
    assert "Demo" in capsys.readouterr().err


def test_a_log_without_a_definition_says_not_defined_once(linked, tmp_path, capsys):
    # Before: "Conversion: not defined · …" and then "(not defined)" on the next line, in the report too.
    map_id, dataset_id = linked
    assert cli.main(["conversion", "show", "--dataset", str(dataset_id)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Conversion: not defined") and "(not defined)" not in out, out
    report = tmp_path / "report.html"
    assert cli.main(["report", str(map_id), "--out", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "Conversion: not defined" in text and "(not defined)" not in text
