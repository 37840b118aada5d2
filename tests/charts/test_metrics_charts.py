"""Chart builders draw what their data twins say (colours by status, one trace per component)."""

from __future__ import annotations

import pandas as pd

from analytics.metrics import STATUS_RANK
from charts.friction import friction_components_figure
from charts.metrics import metric_trend_figure, outcome_shares_figure
from charts.overview import _SCALE, portfolio_heatmap_figure, trends_figure
from charts.palette import NO_STATUS, STATUS_COLOURS


def _colour_at(z: float) -> str:
    pos = (z + 0.5) / 4.0
    for (p0, c0), (p1, _c1) in zip(_SCALE, _SCALE[1:], strict=False):
        if p0 <= pos < p1:
            return c0
    return _SCALE[-1][1]


def test_heatmap_colour_of_each_status_is_that_status():
    for status, code in STATUS_RANK.items():
        assert _colour_at(code) == {**STATUS_COLOURS, "none": NO_STATUS}[status], status


def test_portfolio_heatmap_cells_and_labels():
    heat = pd.DataFrame(
        [
            {"map": "A", "measure": "NPS", "label": "20 / 30 · by hand (log <b>)", "status": "red"},
            {"map": "A", "measure": "Review", "label": "up to date", "status": "green"},
            {"map": "<b>B</b>", "measure": "NPS", "label": "–", "status": "none"},
        ]
    )
    fig = portfolio_heatmap_figure(heat)
    hm = fig.data[0]
    assert list(hm.y) == ["A", "&lt;b&gt;B&lt;/b&gt;"] and list(hm.x) == ["NPS", "Review"]  # user text escaped
    assert [list(r) for r in hm.z] == [[3, 1], [0, 0]]
    assert hm.customdata[0][0] == "20 / 30<br>by hand (log &lt;b&gt;)"  # how it was had on a line of its own, escaped
    # Each label in the colour its cell's fill asks for (tests/charts/test_heatmap_contrast.py): white on red.
    assert hm.text[0][0] == '<span style="color:#ffffff">20 / 30<br>by hand (log &lt;b&gt;)</span>'
    assert hm.textfont.color is None  # no one colour for every cell


def test_trend_and_component_figures():
    history = pd.DataFrame(
        {"period": ["2026-01", "2026-02"], "value": [10, 20], "target": [15, 15], "status": ["red", "green"]}
    )
    fig = metric_trend_figure(history, name="NPS")
    assert list(fig.data[0].marker.color) == [STATUS_COLOURS["red"], STATUS_COLOURS["green"]]
    assert list(fig.data[1].y) == [15.0, 15.0]
    table = pd.DataFrame(
        {
            "touchpoint": ["P", "Q"],
            "stage": ["S", None],
            "friction": [40.0, 10.0],
            **{f"contrib_{k}": [8.0, 2.0] for k in ("exit", "backtrack", "repeat", "delay", "feedback")},
        }
    )
    fig = friction_components_figure(table)
    assert len(fig.data) == 6 and list(fig.data[0].y) == ["P (S)", "Q"]
    shares = pd.DataFrame({"outcome": ["hired", "no way"], "journeys": [3, 1], "share": [0.75, 0.25]})
    assert outcome_shares_figure(shares).data[0].text[0] == "3 (75%)"
    trends = pd.DataFrame(
        {"map": ["A", "A"], "metric": ["NPS", "NPS"], "period": ["2026-01", "2026-02"], "value": [1, 2]}
    )
    assert len(trends_figure(trends).data) == 1
