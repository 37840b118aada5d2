"""The HTML report a manager forwards: the whole grid (every touchpoint drawn), tables written for people."""

from __future__ import annotations

import html
import re

import pytest

from services import studio
from services.maps import create_map_from_template
from services.report import build_map_report
from tests.factories_metrics import create_dataset, planted_log


@pytest.fixture
def linked(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Five-stage journey")
    dataset_id = create_dataset(planted_log(journeys=120), name="planted", map_id=map_id)
    return map_id, dataset_id


def _grid_names(doc: str) -> list[str]:
    return [html.unescape(n.replace("&shy;", "")) for n in re.findall(r'<span class="jl-tp-name">(.*?)</span>', doc)]


def test_report_draws_the_whole_grid_with_every_touchpoint(linked):
    map_id, dataset_id = linked
    view = studio.get_map_view(map_id)
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
