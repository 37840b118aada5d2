"""The HTML report a manager forwards: the whole grid (every touchpoint drawn), tables written for people.

Rendered (charts.map_report_html) from the data the service gathers (services.map_report)."""

from __future__ import annotations

import html
import re

import pytest

from charts.map_report_html import render_map_report
from core.map_report import MapReport
from services import map_view
from services.map_report import build_map_report_data
from services.maps import create_map_from_template
from tests.factories_metrics import create_dataset, planted_log


@pytest.fixture
def linked(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Five-stage journey")
    dataset_id = create_dataset(planted_log(journeys=120), name="planted", map_id=map_id)
    return map_id, dataset_id


def build_map_report(map_id: int, **options) -> MapReport:
    return render_map_report(build_map_report_data(map_id, **options))


def _grid_names(doc: str) -> list[str]:
    return [html.unescape(n.replace("&shy;", "")) for n in re.findall(r'<span class="jl-tp-name">(.*?)</span>', doc)]


def test_report_draws_the_whole_grid_with_every_touchpoint(linked):
    map_id, dataset_id = linked
    view = map_view.get_map_view(map_id)
    report = build_map_report(map_id, dataset_id=dataset_id, measure="journeys")
    assert len(view.stages) == 5 and len(view.touchpoints) == 21
    assert _grid_names(report.html) == [t.name for t in view.touchpoints]
    # Fitted to the page: equal shares of its width, not a fixed-width picture to scroll.
    assert "repeat(21, minmax(0,1fr))" in report.html
    assert 'data-testid="jl-legend"' in report.html


def test_report_without_a_dataset_still_draws_the_whole_grid(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Unlinked")
    report = build_map_report(map_id)
    assert len(_grid_names(report.html)) == 21


def test_report_tables_are_written_for_people(linked):
    map_id, dataset_id = linked
    report = build_map_report(map_id, dataset_id=dataset_id, measure="conversion")
    headers = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", report.html)]
    assert headers, "the report has no tables"
    code_like = [h for h in headers if re.search(r"[a-z]_[a-z]|^[a-z]", h)]
    assert not code_like, code_like
    assert "Backtrack rate" in headers and "From touchpoint" in headers
    cells = re.findall(r"<td>(.*?)</td>", report.html)
    assert "None" not in cells and "nan" not in cells
    # Percentages carry one decimal; no count is written with a trailing ".0" (a friction score is: "19.0").
    assert any(re.fullmatch(r"\d+\.\d %", c) for c in cells)
    for table in re.findall(r"<table.*?</table>", report.html, flags=re.S):
        columns = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", table)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
            for column, cell in zip(columns, re.findall(r"<td>(.*?)</td>", row), strict=False):
                assert column == "Friction" or not re.fullmatch(r"\d[\d,]*\.0", cell), (column, cell)
    # The CSVs keep the machine names.
    assert "backtrack_rate_pct" in report.tables["friction_touchpoints"].columns


def test_a_log_seen_through_another_map_names_the_stages_its_funnel_leaves_out(linked):
    _map_id, dataset_id = linked
    other = create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    report = build_map_report(other, dataset_id=dataset_id)  # before: refused for a stage no journey reaches
    said = html.unescape(re.search(r"<h2>Funnel</h2><p class='muted'>(.*?)</p>", report.html).group(1))
    assert "No journey of this log reaches the stage" in said, said
    # The report says, as the pages do, that the log is seen through a map it is not linked to.
    note = html.unescape(re.search(r"<p class='note'>(.*?)</p>", report.html).group(1))
    assert note.startswith("This event log is linked to “Five-stage journey”, not to “Advisory client lifecycle”")


def _cards(doc: str) -> dict[str, str]:
    found = re.findall(r'<div class="card"><span class="muted">(.*?)</span><b[^>]*>(.*?)</b>', doc)
    return {html.unescape(title): html.unescape(value) for title, value in found}


def test_the_health_cards_come_from_the_reports_own_event_log(linked):
    map_id, dataset_id = linked
    # A newer log linked to the same map, whose worst touchpoint is another one.
    frame = planted_log(journeys=120)
    frame = frame[frame["activity"] != "Pricing page"]
    create_dataset(frame, name="newer", map_id=map_id)
    report = build_map_report(map_id, dataset_id=dataset_id)
    worst = report.tables["friction_touchpoints"].iloc[0]["touchpoint"]
    assert worst == "Pricing page"
    assert _cards(report.html)["Worst hot spot"] == worst  # before: the newer log's worst touchpoint


def test_a_hand_entered_metric_card_carries_the_metrics_name(linked):
    from services import metrics as metric_service

    map_id, dataset_id = linked
    metric_id = metric_service.create_metric(map_id=map_id, kind="conversion", name="Win rate", target=35)
    metric_service.set_metric_value(metric_id, "2026-01", 38.0)
    cards = _cards(build_map_report(map_id, dataset_id=dataset_id).html)
    assert cards["Win rate"] == "38.0%" and "Conversion" not in cards  # not the Conversion line's word


def test_the_health_cards_follow_the_reports_own_conversion(linked):
    map_id, dataset_id = linked
    for goals in ((), ("Help centre",)):
        report = build_map_report(map_id, dataset_id=dataset_id, goals=goals)
        top = report.tables["friction_touchpoints"].iloc[0]
        card = re.search(r"Worst hot spot</span><b[^>]*>(.*?)</b><span class=\"muted\">friction (\d+)", report.html)
        assert (html.unescape(card.group(1)), int(card.group(2))) == (top["touchpoint"], round(top["friction"]))
