"""Flow figures: the Sankey unrolled by step and the stage flow with its backward links.

Data in (the twins from :mod:`analytics.sankey`), a Plotly figure out; nothing is rendered here.
"""

from __future__ import annotations

import html
from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from charts.palette import FORWARD, NEGATIVE, NEUTRAL, POSITIVE, colour_map, page_colours, with_alpha

END_COLOURS = {"Drop-off": NEGATIVE, "Converted": POSITIVE, "End": NEUTRAL, "Other": NEUTRAL}

# The step Sankey's height grows with its fullest column, so labels (13 px) never overlap: each node
# gets a band of STEP_SANKEY_PX_PER_NODE (its label's line plus the Sankey's 18 px pad), between a
# floor (the 520 px it always had) and a ceiling that keeps the page scrollable (10 steps of 20 nodes,
# plus Other and the ends, are up to 24 nodes to a column: 852 px).
STEP_SANKEY_MIN_PX = 520
STEP_SANKEY_MAX_PX = 1400
STEP_SANKEY_PX_PER_NODE = 34
_SANKEY_MARGIN = {"l": 8, "r": 8, "t": 28, "b": 8}
# Labels sit beside their node, in the gap to the next column (the last column's, to the previous
# one's): on the page's ~1,100 px at 12 px (about 7.5 px a character) a label keeps to its column's
# width, the whole name on hover. 5 steps: 29 characters; 10 steps: 14.
_SANKEY_WIDTH_PX = 1100
_LABEL_CHAR_PX = 7.5
_LABEL_MIN_CHARS = 10
# The gap between two nodes of a column, in px (0.04 of the plot at 520 px, as before).
_NODE_GAP_PX = 20.0


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=220, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def step_sankey_height(keys: list[tuple[int, str]]) -> int:
    """The step Sankey's height in px for nodes ``(step, name)``: ``STEP_SANKEY_PX_PER_NODE`` per node of
    the fullest column plus the margins, at least ``STEP_SANKEY_MIN_PX``, at most ``STEP_SANKEY_MAX_PX``."""
    per_column = Counter(step for step, _ in keys)
    fullest = max(per_column.values(), default=0)
    wanted = fullest * STEP_SANKEY_PX_PER_NODE + _SANKEY_MARGIN["t"] + _SANKEY_MARGIN["b"]
    return int(min(max(wanted, STEP_SANKEY_MIN_PX), STEP_SANKEY_MAX_PX))


def _column_positions(links: pd.DataFrame, keys: list[tuple[int, str]], *, plot_px: float) -> list[float]:
    """Vertical centre of each node: stacked by volume within its column, largest first, ends last.

    Nodes are ``_NODE_GAP_PX`` apart (never more than 0.04 of the plot), whatever the plot's height; in
    a column too full for that, the gaps share 0.76 of the plot, so the nodes' volumes keep a fifth of it.
    """
    inflow = links.groupby(["target_step", "target"])["journeys"].sum()
    outflow = links.groupby(["source_step", "source"])["journeys"].sum()
    volume = {k: max(float(inflow.get(k, 0)), float(outflow.get(k, 0))) for k in keys}
    y: dict[tuple[int, str], float] = {}
    for step in sorted({s for s, _ in keys}):
        column = sorted((k for k in keys if k[0] == step), key=lambda k: (k[1] in END_COLOURS, -volume[k], k[1]))
        total = sum(volume[k] for k in column) or 1.0
        gap = min(0.04, _NODE_GAP_PX / plot_px, 0.76 / (len(column) - 1)) if len(column) > 1 else 0.0
        scale = 0.96 - gap * (len(column) - 1)
        top = 0.02
        for k in column:
            height = scale * volume[k] / total
            y[k] = min(max(top + height / 2, 0.001), 0.999)
            top += height + gap
    return [y[k] for k in keys]


def _label_style(fig: go.Figure, dark: bool) -> go.Figure:
    """Sankey labels in the page's text colour on the page's background (contrast of 4.5:1 or more in
    both themes, tested), with a halo of the background so a label over a link stays readable."""
    page = page_colours(dark)
    fig.update_traces(
        textfont={"color": page["text"], "size": 13, "shadow": f"0 0 3px {page['background']}"},
        selector={"type": "sankey"},
    )
    fig.update_layout(paper_bgcolor=page["background"], plot_bgcolor=page["background"], font={"color": page["text"]})
    return fig


def _fitted_label(name: str, columns: int) -> str:
    """``name`` cut (with "…") to the characters a label has room for among ``columns`` columns."""
    room = max(_LABEL_MIN_CHARS, int(_SANKEY_WIDTH_PX / max(columns, 1) / _LABEL_CHAR_PX))
    return name if len(name) <= room else name[: room - 1].rstrip() + "…"


def step_sankey_figure(links: pd.DataFrame, *, height: int | None = None, dark: bool = False) -> go.Figure:
    """A Sankey of ``compute_step_sankey`` links: one column per step, nodes named by their node.

    Nodes are placed by step (x) so the columns read left to right; the same node has the same
    colour in every column; Other/End are grey, Drop-off red, Converted green. ``height`` (px) defaults
    to :func:`step_sankey_height`: it grows with the fullest column so the labels keep apart.
    """
    if links.empty:
        return empty_figure("No journeys to draw for these settings")
    keys: list[tuple[int, str]] = []
    for step, name in list(zip(links.source_step, links.source, strict=False)) + list(
        zip(links.target_step, links.target, strict=False)
    ):
        if (step, name) not in keys:
            keys.append((int(step), str(name)))
    keys.sort(key=lambda k: (k[0], k[1] in END_COLOURS, k[1]))
    index = {k: i for i, k in enumerate(keys)}
    colours = colour_map([n for _, n in keys if n not in END_COLOURS])
    last = max(s for s, _ in keys) or 1
    height = height or step_sankey_height(keys)
    y = _column_positions(links, keys, plot_px=height - _SANKEY_MARGIN["t"] - _SANKEY_MARGIN["b"])
    node_colour = [END_COLOURS.get(n, colours.get(n, NEUTRAL)) for _, n in keys]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [html.escape(_fitted_label(n, last + 1)) for _, n in keys],
                "color": node_colour,
                "x": [0.001 + 0.998 * s / last for s, _ in keys],
                "y": y,
                "pad": 18,
                "thickness": 14,
                "customdata": [f"{html.escape(n)} (step {s + 1})" for s, n in keys],
                "hovertemplate": "%{customdata}<br>%{value:,} journeys<extra></extra>",
            },
            link={
                "source": [index[(int(s), str(n))] for s, n in zip(links.source_step, links.source, strict=False)],
                "target": [index[(int(s), str(n))] for s, n in zip(links.target_step, links.target, strict=False)],
                "value": links.journeys.astype(int).tolist(),
                "color": [
                    with_alpha(node_colour[index[(int(s), str(n))]], 0.35)
                    for s, n in zip(links.source_step, links.source, strict=False)
                ],
                "customdata": [
                    f"{html.escape(str(a))} → {html.escape(str(b))}"
                    for a, b in zip(links.source, links.target, strict=False)
                ],
                "hovertemplate": "%{customdata}<br>%{value:,} journeys<extra></extra>",
            },
        )
    )
    fig.update_layout(height=height, margin=_SANKEY_MARGIN, font={"size": 12})
    return _label_style(fig, dark)


def stage_flow_figure(flow: pd.DataFrame, *, height: int = 520, dark: bool = False) -> go.Figure:
    """``compute_stage_flow`` drawn for reading: stages left to right in their order, forward moves as
    a Sankey (blue), and each move back to an earlier stage (a loop) as a red arc beneath the stages,
    as thick as its share of the moves back, labelled with its count ("↩ 1,708"; hover the count for
    "Conversion → Consideration: 1,708 moves back").

    Plotly's Sankey would draw backward links as loops around the nodes without counts; the arcs say
    the same thing readably. Hover a forward link for its count; the table beside it has every move.
    """
    if flow.empty:
        return empty_figure("No stage transitions for these settings")
    ranks: dict[str, int] = {}
    for name, rank in list(zip(flow.source, flow.source_rank, strict=False)) + list(
        zip(flow.target, flow.target_rank, strict=False)
    ):
        ranks[str(name)] = int(rank) if pd.notna(rank) else 10_000
    stages = sorted(ranks, key=lambda s: (ranks[s], s))
    index = {s: i for i, s in enumerate(stages)}
    last = max(len(stages) - 1, 1)
    x_of = [0.006 + 0.99 * i / last for i in range(len(stages))]  # the nodes' centres (x below)
    backward = flow.direction == "backward"
    forward = flow[~backward]
    page = page_colours(dark)
    # The Sankey takes the top of the figure; the arcs hang in the band beneath it.
    sankey_bottom = 0.5
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            domain={"x": [0, 1], "y": [sankey_bottom, 1]},
            node={
                "label": [html.escape(str(n)) for n in stages],
                "color": [FORWARD] * len(stages),
                "x": [0.001 + 0.998 * i / last for i in range(len(stages))],
                "y": [0.5] * len(stages),
                "pad": 20,
                "thickness": 16,
                "hovertemplate": "%{label}<br>%{value:,} moves<extra></extra>",
            },
            link={
                "source": [index[str(s)] for s in forward.source],
                "target": [index[str(t)] for t in forward.target],
                "value": forward["count"].astype(int).tolist(),
                "color": [with_alpha(FORWARD, 0.35)] * len(forward),
                "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} moves<extra></extra>",
            },
        )
    )
    loops = flow[backward].sort_values("count", ascending=False)
    biggest = float(loops["count"].max()) if len(loops) else 1.0
    shapes, notes = [], []
    for row in loops.itertuples(index=False):
        xs, xt = x_of[index[str(row.source)]], x_of[index[str(row.target)]]
        span = abs(index[str(row.source)] - index[str(row.target)])
        top = sankey_bottom - 0.03
        depth = min(0.46, 0.07 + 0.13 * span)  # longer loops hang deeper, so arcs nest
        bottom = top - depth
        mid = (xs + xt) / 2
        # A quadratic Bézier through (mid, bottom): its control point sits twice as deep.
        shapes.append(
            {
                "type": "path",
                "xref": "paper",
                "yref": "paper",
                "path": f"M {xs},{top} Q {mid},{top - 2 * depth} {xt},{top}",
                "line": {"color": with_alpha(NEGATIVE, 0.8), "width": 1.5 + 8 * float(row.count) / biggest},
            }
        )
        notes.append(
            {
                "xref": "paper",
                "yref": "paper",
                "x": mid,
                "y": bottom,
                "yshift": -2,
                "yanchor": "top",
                "showarrow": False,
                "text": f"↩ {int(row.count):,}",
                "hovertext": f"{html.escape(str(row.source))} → {html.escape(str(row.target))}: {int(row.count):,} moves back",
                "font": {"size": 12, "color": page["text"]},
                "bgcolor": page["background"],
            }
        )
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 28, "b": 8},
        font={"size": 12},
        shapes=shapes,
        annotations=notes,
    )
    return _label_style(fig, dark)
