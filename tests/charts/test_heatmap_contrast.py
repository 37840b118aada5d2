"""The Overview heat map writes each cell's label in a colour picked from the cell's fill: 4.5:1 or more."""

from __future__ import annotations

import re

import pandas as pd

from analytics.metrics import STATUS_RANK
from charts.overview import STATUS_FILLS, cell_text_colour, portfolio_heatmap_figure
from charts.palette import NO_STATUS, STATUS_COLOURS, contrast_ratio, text_on

_COLOUR = re.compile(r'^<span style="color:(#[0-9a-fA-F]{6})">')


def test_every_status_fill_gets_a_label_colour_of_at_least_4_5_to_1():
    assert STATUS_FILLS == {"none": NO_STATUS, **STATUS_COLOURS}
    for status, fill in STATUS_FILLS.items():
        assert contrast_ratio(cell_text_colour(status), fill) >= 4.5, (status, fill, cell_text_colour(status))
    # What Plotly picked by itself did not: white on green, #444 on grey.
    assert contrast_ratio("#ffffff", STATUS_COLOURS["green"]) < 4.5
    assert contrast_ratio("#444444", NO_STATUS) < 4.5
    assert cell_text_colour("green") == text_on(STATUS_COLOURS["green"]) != "#ffffff"


def test_each_cell_of_the_figure_is_labelled_in_its_own_colour():
    heat = pd.DataFrame(
        [
            {"map": "A", "measure": "NPS", "label": "38 / 35 (+2) · by hand (log 30.2)", "status": "green"},
            {"map": "A", "measure": "CSAT", "label": "3.1 / 4", "status": "amber"},
            {"map": "B", "measure": "NPS", "label": "12 / 35", "status": "red"},
            {"map": "B", "measure": "CSAT", "label": "–", "status": "none"},
        ]
    )
    hm = portfolio_heatmap_figure(heat).data[0]
    fills = {code: STATUS_FILLS[status] for status, code in STATUS_RANK.items()}
    # The page's theme does not change the cells' fills (the status colours are one set for both themes),
    # so one check holds for the light and the dark page.
    for z_row, text_row in zip(hm.z, hm.text, strict=True):
        for z, text in zip(z_row, text_row, strict=True):
            found = _COLOUR.match(text)
            assert found, text  # a colour of its own, not Plotly's automatic one
            assert contrast_ratio(found.group(1), fills[z]) >= 4.5, (text, fills[z])
    # Hover shows the plain label.
    assert hm.customdata[0][0] == "38 / 35 (+2)<br>by hand (log 30.2)"
    assert "%{customdata}" in hm.hovertemplate and "%{text}" not in hm.hovertemplate
