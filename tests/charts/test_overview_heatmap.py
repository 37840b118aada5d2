"""The Overview's portfolio heat map writes each cell's whole label inside its cell.

The page draws the figure in Streamlit's main column (``width="stretch"``), 700 to 1,100 px wide. Before,
a hand-entered conversion's "by hand (log 37.0 of all journeys)" ran on one line of 34 characters, about
240 px, in a cell about 75 px wide: Chromium cut its start and end off at the cell's edges. No browser
here, so the bound is by character counts: a character of the 12 px label is taken as 7 px (Source Sans
and Open Sans average under 6.5), a line as 12 × 1.3 px (Plotly's line spacing).
"""

from __future__ import annotations

import html
import re
from datetime import date

import pandas as pd
import pytest

from charts.overview import portfolio_heatmap_figure
from services import overview as overview_service

CHAR_PX = 7.0
LINE_PX = 12 * 1.3
TICK_PAD_PX = 10  # between the map names (y tick labels) and the cells
_TAG = re.compile(r"<[^>]+>")


def _lines(cell_text: str) -> list[str]:
    """What a cell shows, line by line, as the browser renders it (tags gone, entities read)."""
    return [html.unescape(_TAG.sub("", line)) for line in cell_text.split("<br>")]


def _overflows(fig, width_px: float) -> list[str]:  # noqa: ANN001 - go.Figure
    """Each cell whose text is wider or taller than the cell, at a figure ``width_px`` wide."""
    hm, layout = fig.data[0], fig.layout
    names = [html.unescape(str(y)) for y in hm.y]
    names_px = max(len(n) for n in names) * CHAR_PX + TICK_PAD_PX
    plot_w = width_px - layout.margin.l - layout.margin.r - names_px
    cell_w = plot_w / len(hm.x) - (hm.xgap or 0)
    plot_h = layout.height - layout.margin.t - layout.margin.b
    cell_h = plot_h / len(hm.y) - (hm.ygap or 0)
    bad = []
    for name, row in zip(names, hm.text, strict=True):
        for measure, text in zip(hm.x, row, strict=True):
            lines = _lines(text)
            wide = max(len(line) for line in lines) * CHAR_PX
            tall = len(lines) * LINE_PX
            if wide > cell_w or tall > cell_h:
                bad.append(f"{name} / {measure}: {lines} ({wide:.0f}×{tall:.0f} px in {cell_w:.0f}×{cell_h:.0f})")
    return bad


@pytest.fixture
def demo_heat(demo_engine) -> pd.DataFrame:  # noqa: ANN001 - sqlalchemy Engine
    portfolio = overview_service.compute_portfolio(today=date(2026, 12, 1))
    return overview_service.compute_portfolio_heatmap(portfolio)


@pytest.mark.parametrize("width_px", [700, 900, 1100])
def test_every_cell_of_the_demo_heat_map_shows_its_whole_text_in_the_cell(demo_heat, width_px):
    conversion = demo_heat[demo_heat["measure"] == "Conversion %"]
    assert conversion["label"].str.contains("of all journeys").sum() >= 2  # the long labels are there
    fig = portfolio_heatmap_figure(demo_heat)
    assert _overflows(fig, width_px) == []


def test_wrapping_keeps_every_word_and_number_and_the_hover_whole(demo_heat):
    fig = portfolio_heatmap_figure(demo_heat)
    hm = fig.data[0]
    labels = {(r.map, r.measure): r.label for r in demo_heat.itertuples(index=False)}
    for name, row, hover_row in zip(hm.y, hm.text, hm.customdata, strict=True):
        for measure, text, hover in zip(hm.x, row, hover_row, strict=True):
            label = labels[(html.unescape(name), measure)]
            # The cell says what the label says, word for word, only broken over more lines.
            assert " ".join(_lines(text)) == label.replace(" · ", " "), (name, measure, text)
            # Hover keeps the whole label, how it was had on a line of its own.
            assert hover == html.escape(label).replace(" · ", "<br>")
    b2b = hm.y.index("B2B SaaS buyer journey"), hm.x.index("Conversion %")
    assert "log 30.2" in " ".join(_lines(hm.text[b2b[0]][b2b[1]]))  # the number stays whole on one line


def test_long_user_text_is_wrapped_and_still_escaped():
    cells = {  # one map's measures: label, status
        "Worst friction": ("48 <b>Pricing</b> & plans page", "red"),
        "NPS": ("20 / 30 (+10) · by hand", "amber"),
        "Review": ("up to date", "green"),
        "CSAT %": ("77 / 85 (+5) · by hand", "amber"),
        "Overdue actions": ("2 of 4 open", "red"),
        "Conversion %": ("44 / 55 (-13) · by hand (log 37.0 of all journeys)", "red"),
    }
    heat = pd.DataFrame([{"map": "A", "measure": m, "label": lb, "status": st} for m, (lb, st) in cells.items()])
    fig = portfolio_heatmap_figure(heat)
    assert _overflows(fig, 700) == []
    text = fig.data[0].text[0][0]
    assert "<b>" not in text and "&lt;b&gt;" in text and "&amp;" in text  # user text stays text
