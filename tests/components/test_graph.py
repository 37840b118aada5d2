"""The agraph adapter: valid vis-network options, both themes, escaped titles, curved two-way edges."""

from __future__ import annotations

import json

import pandas as pd

from components.graph import GraphStyle, build_graph, graph_options

TRANSITIONS = pd.DataFrame(
    {
        "source": ["(entry)", "A", "B", "A", "<img src=x onerror=alert(1)>", "B"],
        "target": ["A", "B", "A", "A", "(exit)", "(exit)"],
        "count": [10, 8, 3, 2, 1, 5],
        "direction": ["entry", "forward", "backward", "repeat", "exit", "exit"],
    }
)


def test_options_are_real_vis_options_in_both_themes():
    for dark in (False, True):
        style = GraphStyle.for_theme(dark)
        options = graph_options(style, height_px=500)
        json.dumps(options)  # what the component receives
        assert isinstance(options["groups"], dict) and options["groups"]  # never null (vis-network logs an error)
        assert options["edges"]["smooth"]["type"] == "curvedCW"  # A → B and B → A bow apart
        assert options["nodes"]["font"]["color"] == style.text
        assert options["edges"]["font"]["strokeColor"] == style.background
    assert GraphStyle.for_theme(True).text != GraphStyle.for_theme(False).text


def test_nodes_edges_and_names():
    nodes, edges, names = build_graph(TRANSITIONS, GraphStyle.for_theme(False), selected="A")
    assert set(names.values()) == {"(entry)", "A", "B", "(exit)", "<img src=x onerror=alert(1)>"}
    by_name = {names[n.id]: n for n in nodes}
    assert by_name["(entry)"].group == "terminal" and by_name["A"].group == "node"
    assert by_name["A"].borderWidth == 4 and by_name["B"].borderWidth == 1
    back = [e for e in edges if names[e.source] == "B" and names[e.to] == "A"][0]
    assert back.dashes is True
    assert any(e.source == e.to for e in edges)  # self-loop kept


def test_titles_are_escaped_and_never_start_with_a_scheme():
    weird = pd.DataFrame({"source": ["javascript:alert(1)//"], "target": ["<b>x</b>"], "count": [3]})
    nodes, _, _ = build_graph(weird, GraphStyle.for_theme(False))
    for node in nodes:
        assert node.title[0].isdigit()
        assert "<" not in node.title


def test_max_edges_keeps_the_largest():
    _, edges, _ = build_graph(TRANSITIONS, GraphStyle.for_theme(False), max_edges=2)
    assert sorted(e.label for e in edges) == ["10", "8"]


def test_the_caption_says_what_the_graph_leaves_out():
    from components.graph import drawn_caption

    # The two largest of six transitions: 10 + 8 of 29 moves.
    assert drawn_caption(TRANSITIONS, 2) == (
        "Drawn: the 2 largest of 6 transitions (62.1% of all 29 moves); more with *Arrows shown*, "
        "and every one in the data below."
    )
    assert drawn_caption(TRANSITIONS, 6) == "Drawn: all 6 transitions."
    assert drawn_caption(TRANSITIONS, 40) == "Drawn: all 6 transitions."
