"""The step Sankey grows with its fullest column, so its labels keep apart at 10 steps of 20 nodes."""

from __future__ import annotations

import pandas as pd

from charts.flows import STEP_SANKEY_MAX_PX, STEP_SANKEY_MIN_PX, step_sankey_figure

LABEL_PX = 13  # the Sankey's label size (charts.flows._label_style)
PAD_PX = 18  # the Sankey's node pad


def _links(steps: int, per_step: int) -> pd.DataFrame:
    """Every node of a column to two of the next, plus Other and a drop-off: ``per_step + 2`` nodes a column."""
    names = [f"Touchpoint {i:02d}" for i in range(per_step)] + ["Other"]
    rows = []
    for step in range(steps - 1):
        for i, name in enumerate(names):
            for target in (names[(i + 1) % len(names)], names[(i + 3) % len(names)]):
                rows.append((step, name, step + 1, target, 10 + i))
        rows.append((step, names[0], step + 1, "Drop-off", 5))
    return pd.DataFrame(rows, columns=["source_step", "source", "target_step", "target", "journeys"])


def _fullest_column(fig) -> int:
    xs = pd.Series(fig.data[0].node.x)
    return int(xs.value_counts().max())


def _plot_px(fig) -> float:
    return fig.layout.height - fig.layout.margin.t - fig.layout.margin.b


def test_a_small_sankey_keeps_the_height_it_always_had():
    assert step_sankey_figure(_links(2, 1)).layout.height == STEP_SANKEY_MIN_PX == 520  # two steps, three nodes
    assert step_sankey_figure(_links(5, 8)).layout.height == 520  # the page's default: 5 steps, top 8


def test_ten_steps_of_twenty_nodes_give_every_label_room():
    fig = step_sankey_figure(_links(10, 20))
    fullest = _fullest_column(fig)
    assert fullest == 22  # 20 nodes, Other and Drop-off
    assert STEP_SANKEY_MIN_PX < fig.layout.height <= STEP_SANKEY_MAX_PX
    # Each node of the fullest column has a band of its label's height plus the pad: no two labels overlap.
    assert _plot_px(fig) / fullest >= LABEL_PX + PAD_PX
    # Node centres of a column stay at least a label's height apart.
    node = fig.data[0].node
    for x in set(node.x):
        ys = sorted(y for nx, y in zip(node.x, node.y, strict=True) if nx == x)
        assert min(b - a for a, b in zip(ys, ys[1:], strict=False)) * _plot_px(fig) >= LABEL_PX


def test_the_height_grows_with_the_fullest_column_up_to_a_ceiling():
    heights = [step_sankey_figure(_links(4, n)).layout.height for n in (8, 16, 20, 40, 200)]
    assert heights == sorted(heights)
    assert heights[-1] == STEP_SANKEY_MAX_PX
    assert step_sankey_figure(_links(4, 20), height=600).layout.height == 600  # an explicit height wins


def test_labels_keep_to_their_column_and_the_whole_name_is_on_hover():
    long = "Transactional email (renewal reminder)"
    links = pd.DataFrame(
        [(s, long if s % 2 else "Demo", s + 1, "Demo" if s % 2 else long, 5) for s in range(9)],
        columns=["source_step", "source", "target_step", "target", "journeys"],
    )
    node = step_sankey_figure(links).data[0].node  # 10 columns: 14 characters a label
    cut = [label for label in node.label if label.startswith("Transactional")]
    assert cut and all(label == "Transactional…" for label in cut), cut
    assert all(len(label) <= 14 for label in node.label)
    assert f"{long} (step 2)" in node.customdata  # the whole name where the mouse asks
    few = step_sankey_figure(links[links.source_step < 4]).data[0].node  # 5 columns: 29 characters
    assert "Transactional email (renewal…" in few.label and "Demo" in few.label
