"""The one streamlit-agraph adapter: a transition graph from a transitions table; returns the clicked node.

Why the options look the way they do (measured, see FIELD_NOTES):
- vis-network validates every option: streamlit-agraph's default ``Config`` sends ``groups: null``
  and vis-network logs ``Invalid type received for "groups"`` on every render, so this adapter builds
  the whole option object itself, every key a real vis-network option with the right type.
- Edges are curved clockwise (``curvedCW``), so ``A → B`` and ``B → A`` bow to opposite sides instead
  of drawing on top of each other; self-loops are drawn as loops.
- Labels take the theme's text colour with a halo of the background colour, readable in dark mode.
  An edge's label (its count) is upright, 14 px, on a plate of the page's background: drawn along
  its edge at 12 px, it came out tilted, smaller still once the graph is fitted (zoomed out), and
  crossed by the links beneath it (:func:`edge_label_font`).
- Node names come from user data: the hover title is HTML-escaped (the component puts it in
  ``innerHTML``) and starts with a number (the component ``window.open``s the title on double-click,
  and a title starting with ``javascript:`` would run).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit_agraph import Config, Edge, Node, agraph

from charts.palette import CATEGORICAL, NEGATIVE, NEUTRAL, colour_map, page_colours
from components.theme import is_dark

TERMINALS = ("(entry)", "(exit)")
# Text and halo in the page's own colours (charts.palette: Streamlit 1.67's light and warm dark themes).
NODE_LABEL_PX = 16
EDGE_LABEL_PX = 14


@dataclass(frozen=True)
class GraphStyle:
    """Colours of the graph for one theme."""

    text: str
    background: str
    edge: str

    @classmethod
    def for_theme(cls, dark: bool) -> GraphStyle:
        return cls(**page_colours(dark))


def _halo(style: GraphStyle) -> dict:
    return {"strokeWidth": 3, "strokeColor": style.background}


def edge_label_font(style: GraphStyle) -> dict:
    """vis-network's ``edges.font``: the theme's text colour (4.5:1 or more on its background in both
    themes) on a plate of the background, upright (``horizontal``: vis-network tilts ``middle`` labels
    along their edge), ``EDGE_LABEL_PX`` px at zoom 1."""
    return {
        "color": style.text,
        "size": EDGE_LABEL_PX,
        "face": "sans-serif",
        "align": "horizontal",
        "background": style.background,
        **_halo(style),
    }


def graph_options(style: GraphStyle, *, height_px: int) -> dict:
    """vis-network options for the transition graph (every key valid, right types)."""
    return {
        "height": f"{height_px}px",
        "width": "100%",
        "autoResize": True,
        "groups": {
            "node": {"shape": "dot"},
            "terminal": {"shape": "diamond", "color": {"background": NEUTRAL, "border": NEUTRAL}},
        },
        "nodes": {
            "borderWidth": 1,
            "font": {"color": style.text, "size": NODE_LABEL_PX, "face": "sans-serif", **_halo(style)},
        },
        "edges": {
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
            "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.18},
            "font": edge_label_font(style),
            "selfReference": {"size": 18, "angle": 0.7853981633974483, "renderBehindTheNode": True},
            "color": {"inherit": False},
        },
        "physics": {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {
                "gravitationalConstant": -140,
                "centralGravity": 0.008,
                "springLength": 190,
                "avoidOverlap": 0.8,
            },
            "minVelocity": 1,
            "maxVelocity": 60,
            "stabilization": {"enabled": True, "iterations": 250, "fit": True},
            "timestep": 0.5,
        },
        "layout": {"randomSeed": 7, "improvedLayout": True},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False, "multiselect": False},
    }


def _title(name: str, steps: int) -> str:
    # Starts with a digit (never a URL scheme) and is escaped (the component uses innerHTML).
    return f"{steps:,} transitions · {html.escape(name)}"


def build_graph(
    transitions: pd.DataFrame, style: GraphStyle, *, max_edges: int = 60, selected: str | None = None
) -> tuple[list[Node], list[Edge], dict[str, str]]:
    """Nodes, edges and node id → name for the ``max_edges`` largest transitions.

    ``transitions`` has ``source, target, count`` and optionally ``direction`` (``backward`` edges
    are drawn red, dashed). Node size grows with the transitions through it.
    """
    top = transitions.sort_values("count", ascending=False, kind="stable").head(max_edges)
    names = list(dict.fromkeys([*top["source"].astype(str), *top["target"].astype(str)]))
    ids = {name: f"n{i}" for i, name in enumerate(names)}
    volume: dict[str, int] = {}
    for s, t, c in zip(top.source.astype(str), top.target.astype(str), top["count"], strict=False):
        volume[s] = volume.get(s, 0) + int(c)
        volume[t] = volume.get(t, 0) + int(c)
    colours = colour_map([n for n in names if n not in TERMINALS])
    biggest = max(volume.values(), default=1)
    nodes = []
    for name in names:
        terminal = name in TERMINALS
        colour = NEUTRAL if terminal else colours[name]
        nodes.append(
            Node(
                id=ids[name],
                label=name,
                title=_title(name, volume[name]),
                size=12 + 26 * math.sqrt(volume[name] / biggest),
                group="terminal" if terminal else "node",
                color={
                    "background": colour,
                    "border": style.text if name == selected else colour,
                    "highlight": {"background": colour, "border": style.text},
                },
                borderWidth=4 if name == selected else 1,
                shape="diamond" if terminal else "dot",
            )
        )
    heaviest = max((int(c) for c in top["count"]), default=1)
    edges = []
    has_direction = "direction" in top.columns
    for row in top.itertuples(index=False):
        back = has_direction and row.direction == "backward"
        colour = NEGATIVE if back else style.edge
        edges.append(
            Edge(
                source=ids[str(row.source)],
                target=ids[str(row.target)],
                label=f"{int(row.count):,}",
                width=1 + 7 * (int(row.count) / heaviest),
                color={"color": colour, "highlight": CATEGORICAL[0], "hover": CATEGORICAL[0]},
                dashes=bool(back),
            )
        )
    return nodes, edges, {v: k for k, v in ids.items()}


def drawn_caption(transitions: pd.DataFrame, max_edges: int) -> str:
    """What the graph leaves out: how many of the transitions it draws, and their share of all moves."""
    total = len(transitions)
    if total <= max_edges:
        return f"Drawn: all {total:,} transitions."
    moves = int(transitions["count"].sum())
    drawn = int(transitions["count"].nlargest(max_edges).sum())
    share = f" ({drawn / moves:.1%} of all {moves:,} moves)" if moves else ""
    return (
        f"Drawn: the {max_edges:,} largest of {total:,} transitions{share}; more with *Arrows shown*, "
        "and every one in the data below."
    )


def render_transition_graph(
    transitions: pd.DataFrame, *, max_edges: int = 60, height_px: int = 560, selected: str | None = None
) -> str | None:
    """Draw the transition graph and return the name of the node the user clicked (None if none)."""
    style = GraphStyle.for_theme(is_dark())
    nodes, edges, names = build_graph(transitions, style, max_edges=max_edges, selected=selected)
    config = Config()
    config.__dict__ = graph_options(style, height_px=height_px)  # the whole option object, nothing else
    clicked = agraph(nodes=nodes, edges=edges, config=config)
    st.caption(drawn_caption(transitions, max_edges))
    return names.get(clicked) if isinstance(clicked, str) else None
