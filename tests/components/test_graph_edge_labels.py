"""The transition graph's edge labels (the counts) read in both themes: upright, 14 px, in the theme's
text colour on a plate of the theme's background."""

from __future__ import annotations

import json

from charts.palette import contrast_ratio, page_colours
from components.graph import GraphStyle, graph_options


def test_edge_labels_are_readable_in_the_dark_and_light_themes():
    fonts = {}
    for dark in (False, True):
        page = page_colours(dark)
        font = graph_options(GraphStyle.for_theme(dark), height_px=500)["edges"]["font"]
        json.dumps(font)  # what the component receives
        assert font["color"] == page["text"]
        assert font["background"] == page["background"]  # a plate: no link crosses a count
        assert font["strokeColor"] == page["background"]
        assert contrast_ratio(font["color"], font["background"]) >= 4.5, (dark, font)
        assert font["size"] >= 14
        assert font["align"] == "horizontal"  # "middle" tilts the label along its edge
        fonts[dark] = font
    assert fonts[True]["color"] != fonts[False]["color"]
    assert fonts[True]["background"] != fonts[False]["background"]
