"""Figures of the managers' page: the portfolio heat map and the metric trends.

Data in (``services.overview`` twins), go.Figure out.
"""

from __future__ import annotations

import html
import textwrap

import pandas as pd
import plotly.graph_objects as go

from analytics.metrics import STATUS_RANK
from charts.palette import NO_STATUS, STATUS_COLOURS, text_on

# Each status's cell fill (the same in both themes); a cell without a status is NO_STATUS grey.
STATUS_FILLS = {"none": NO_STATUS, **STATUS_COLOURS}
# Codes 0..3 over zmin −0.5 .. zmax 3.5 sit at 0.125, 0.375, 0.625, 0.875: one band each.
_SCALE = [
    [0.0, STATUS_FILLS["none"]],
    [0.25, STATUS_FILLS["none"]],
    [0.25, STATUS_FILLS["green"]],
    [0.5, STATUS_FILLS["green"]],
    [0.5, STATUS_FILLS["amber"]],
    [0.75, STATUS_FILLS["amber"]],
    [0.75, STATUS_FILLS["red"]],
    [1.0, STATUS_FILLS["red"]],
]

# The heat map's cells: the page draws the figure in Streamlit's main column (width="stretch"), 700 px
# wide or more, and Plotly neither wraps a cell's label nor keeps it inside its cell (Chromium cut
# "by hand (log 37.0 of all journeys)" off at both edges). So labels are wrapped for the narrowest page,
# counting a character of the 12 px label as 7 px (Source Sans / Open Sans average under 6.5) and a line
# as 12 × 1.3 px (Plotly's line spacing); the rows grow to hold the lines.
_MIN_WIDTH_PX = 700
_MARGIN = {"l": 20, "r": 20, "t": 40, "b": 10}
_CHAR_PX = 7.0
_TICK_PAD_PX = 10  # between the map names (y tick labels, as wide as the longest) and the cells
_GAP_PX = 3
_LINE_PX = 12 * 1.3
_MIN_LINE_CHARS = 8


def cell_text_colour(status: str) -> str:
    """The label colour of a cell of ``status``: near-black or white, whichever contrasts more with the
    cell's fill (WCAG relative luminance; 4.5:1 or more on every status fill, tested). The fills are
    the same in the light and dark themes, so the label colour is too."""
    return text_on(STATUS_FILLS.get(status, NO_STATUS))


def _line_chars(maps: list[str], n_measures: int) -> int:
    """How many characters a line of a cell holds at the narrowest page: the columns share what the
    map names and the margins leave of ``_MIN_WIDTH_PX``."""
    names_px = max((len(str(m)) for m in maps), default=0) * _CHAR_PX + _TICK_PAD_PX
    cell_px = (_MIN_WIDTH_PX - _MARGIN["l"] - _MARGIN["r"] - names_px) / max(n_measures, 1) - _GAP_PX
    return max(_MIN_LINE_CHARS, int(cell_px // _CHAR_PX))


def _cell_lines(label: str, chars: int) -> list[str]:
    """A label's lines of at most ``chars`` characters, unescaped: what follows " · " (how a value was had:
    "by hand (log 30.2)") starts a line of its own; words are kept whole unless one alone is too long."""
    return [line for part in label.split(" · ") for line in (textwrap.wrap(part, chars) or [part])]


def portfolio_heatmap_figure(heat: pd.DataFrame) -> go.Figure:
    """Maps (rows) × measures (columns), each cell coloured by its status and labelled with its value.

    ``heat``: ``map, measure, label, status`` (``services.overview.compute_portfolio_heatmap``).
    """
    maps = list(dict.fromkeys(heat["map"]))
    measures = list(dict.fromkeys(heat["measure"]))
    cell = {(r.map, r.measure): r for r in heat.itertuples(index=False)}
    z = [[STATUS_RANK.get(cell[(m, k)].status, 0) if (m, k) in cell else 0 for k in measures] for m in maps]
    # Map names and labels (which name hot spots) are user text: escaped, as Plotly renders tags.
    # Hover: the whole label, what follows " · " (how a value was had: "by hand (log 30.2)") on a line of its own.
    labels = [
        [html.escape(cell[(m, k)].label).replace(" · ", "<br>") if (m, k) in cell else "" for k in measures]
        for m in maps
    ]
    # Cell: the same words wrapped to the cell's width (see _MIN_WIDTH_PX), each line escaped.
    chars = _line_chars(maps, len(measures))
    lines = [[_cell_lines(str(cell[(m, k)].label), chars) if (m, k) in cell else [] for k in measures] for m in maps]
    wrapped = [["<br>".join(html.escape(line) for line in cell_lines) for cell_lines in row] for row in lines]
    most_lines = max((len(cell_lines) for row in lines for cell_lines in row), default=1)
    row_px = max(46, round(most_lines * _LINE_PX + 14))
    # Each label in its cell's colour: a heat map's textfont takes one colour, and Plotly's automatic
    # one wrote white on green at 3.4:1 and #444 on grey at 3.6:1. The span wraps the whole label;
    # Plotly carries its colour across the <br>. Hover reads the plain label (customdata).
    colours = [[cell_text_colour(cell[(m, k)].status) if (m, k) in cell else "" for k in measures] for m in maps]
    text = [
        [f'<span style="color:{c}">{label}</span>' if label else "" for label, c in zip(row, crow, strict=True)]
        for row, crow in zip(wrapped, colours, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=measures,
            y=[html.escape(str(m)) for m in maps],
            text=text,
            customdata=labels,
            texttemplate="%{text}",
            textfont={"size": 12},
            colorscale=_SCALE,
            zmin=-0.5,
            zmax=3.5,
            showscale=False,
            xgap=_GAP_PX,
            ygap=_GAP_PX,
            hovertemplate="%{y}<br>%{x}: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis={"autorange": "reversed"},
        xaxis={"side": "top"},
        height=max(180, 70 + row_px * len(maps)),
        margin=dict(_MARGIN),
    )
    return fig


def trends_figure(trends: pd.DataFrame) -> go.Figure:
    """One line per map and metric over the periods (``map, metric, period, value``)."""
    fig = go.Figure()
    for (map_name, metric), group in trends.groupby(["map", "metric"], sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["period"],
                y=group["value"],
                mode="lines+markers",
                name=html.escape(f"{map_name}: {metric}"),
                hovertemplate="%{x}: %{y:.1f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        xaxis={"type": "category", "categoryorder": "category ascending", "title": "period"},
        height=340,
        margin={"l": 40, "r": 20, "t": 20, "b": 40},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig
