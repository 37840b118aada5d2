"""Charts and tables written for people: the whole map grid as HTML, chips with words, safe text."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pandas as pd
import pytest

from analytics.numbers import DASH, format_count, format_duration, format_percent
from charts.flows import stage_flow_figure, step_sankey_figure
from charts.labels import column_label, for_people, format_number
from charts.map_grid_html import (
    ZOOM_COLUMN_PX,
    grid_page_html,
    map_grid_html,
    severity_chip,
    soft_hyphens,
)
from charts.palette import contrast_ratio
from charts.paths import variants_figure
from core.journey_map import OpportunityView, PainPointView
from services import map_edits, map_view
from services.maps import create_map_from_template
from tests.studio_factory import filled_map

HOSTILE = '<img src=x onerror="alert(1)">&'


@pytest.fixture
def view(engine):
    return map_view.get_map_view(filled_map().map_id)


def _visible_names(fragment: str) -> list[str]:
    """The touchpoint names as the grid draws them (soft hyphens removed, entities decoded)."""
    return [
        html.unescape(n.replace("&shy;", "")) for n in re.findall(r'<span class="jl-tp-name">(.*?)</span>', fragment)
    ]


def test_grid_has_one_equal_column_per_touchpoint_fitted_to_the_width(view):
    fragment = map_grid_html(view)
    assert _visible_names(fragment) == [t.name for t in view.touchpoints]
    # Fit to width: equal shares of the box (no pixel widths that could overflow it).
    assert f"repeat({len(view.touchpoints)}, minmax(0,1fr))" in fragment
    assert 'class="jl-grid jl-fit"' in fragment
    zoomed = map_grid_html(view, column_px=ZOOM_COLUMN_PX["Large"])
    assert f"repeat({len(view.touchpoints)}, {ZOOM_COLUMN_PX['Large']}px)" in zoomed
    # Zoomed in, the row names stay in view (sticky first column).
    assert ".jl-row-head{position:sticky;left:0" in zoomed


def test_the_demo_sized_map_has_all_21_touchpoints(engine):
    view = map_view.get_map_view(create_map_from_template(template_key="b2b-5-stage", name="Five"))
    names = _visible_names(map_grid_html(view))
    assert names == [t.name for t in view.touchpoints]
    assert len(view.stages) == 5 and len(names) == len(view.touchpoints)


def test_severity_and_priority_are_chips_with_words_not_bracket_markers(view):
    fragment = map_grid_html(view)
    assert not re.search(r"\[\d(\.\d)?\]", fragment), "bare [n] markers left in the grid"
    # The filled map has a severity-5 pain point on Demo and a severity-2 one on its first stage.
    word = '<span class="jl-chip-word"> {}</span>'
    assert ">5" + word.format("severe") + "</span>" in fragment and ">2" + word.format("low") in fragment
    assert 'title="5 severe"' in fragment and severity_chip(3) == "3 medium"
    priorities = sorted({round(o.priority, 1) for o in view.opportunities})
    for p in priorities:
        assert f">{p:.1f}<span" in fragment


def test_a_grid_fitted_to_the_width_leaves_a_chips_word_to_its_hover(view):
    # Before: "3 medium" cut to "3 mediu" in a fitted column; the word is hidden there, the number kept.
    fitted, wide = map_grid_html(view), map_grid_html(view, column_px=220)
    assert ".jl-grid.jl-fit .jl-chip-word{display:none}" in fitted
    assert 'class="jl-grid jl-fit' in fitted and 'class="jl-grid jl-fit' not in wide
    assert '<span class="jl-chip-word"> severe</span>' in wide  # shown where the column has room


def test_every_user_text_is_escaped(view):
    tps = [replace(t, name=HOSTILE + t.name, channel=HOSTILE) for t in view.stages[0].touchpoints]
    stages = (replace(view.stages[0], name=HOSTILE, customer_goal=HOSTILE, touchpoints=tuple(tps)), *view.stages[1:])
    stage, tp = stages[0], tps[0]
    hostile = replace(
        view,
        name=HOSTILE,
        stages=stages,
        pain_points=(PainPointView(990, stage.id, tp.id, None, HOSTILE, 4),),
        opportunities=(OpportunityView(991, stage.id, tp.id, HOSTILE, 1, 5, 5),),
    )
    overlay = pd.DataFrame(
        {"touchpoint_id": [tp.id], "value": [3.0], "label": [HOSTILE], "target": [HOSTILE], "status": ["red"]}
    )
    for fragment in (map_grid_html(hostile, overlay, overlay_name=HOSTILE), grid_page_html(hostile)):
        assert "<img src=x" not in fragment and 'onerror="' not in fragment
        assert html.escape(HOSTILE, quote=True) in fragment


def test_overlay_has_a_legend_with_scale_ends_and_targets(view):
    tps = view.touchpoints
    overlay = pd.DataFrame(
        {
            "touchpoint_id": [tps[0].id, tps[1].id, tps[2].id],
            "value": [12.0, 40.0, None],
            "label": ["12.0 %", "40.0 %", "–"],
            "target": [30.0, 30.0, 30.0],
            "status": ["red", "green", None],
        }
    )
    fragment = map_grid_html(view, overlay, overlay_name="Conversion %")
    legend = re.search(r'<div class="jl-legend" data-testid="jl-legend">(.*?)</div>', fragment).group(1)
    assert "Conversion %" in legend
    # The scale runs from the lowest label to the highest, in the measure's own units.
    assert legend.index("12.0 %") < legend.index("jl-scale") < legend.index("40.0 %")
    assert "target 30:" in legend and "meets it" in legend
    assert f"{len(tps) - 2} touchpoints without data" in legend
    # No measure, no legend.
    assert 'data-testid="jl-legend"' not in map_grid_html(view)


def test_soft_hyphens_break_long_words_between_syllables_only():
    assert soft_hyphens("Testimonials").replace("&shy;", "") == "Testimonials"
    assert "&shy;" in soft_hyphens("Testimonials")
    assert soft_hyphens("Support") == "Sup&shy;port"
    assert soft_hyphens("Blog") == "Blog"
    assert soft_hyphens("<script>") == "&lt;script&gt;"


# --------------------------------------------------------------------------- numbers for people


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("backtrack_rate_pct", "Backtrack rate"),
        ("from_touchpoint", "From touchpoint"),
        ("contrib_delay", "Delay contribution"),
        ("median_seconds_from_previous", "Median time from previous"),
        ("p90_seconds", "P90 time"),
        ("conversion_from_start", "Conversion from start"),
        ("nps", "NPS"),
        ("journeys", "Journeys"),
    ],
)
def test_column_labels_are_words(name, label):
    assert column_label(name) == label


def test_numbers_are_written_for_people():
    assert format_percent(12.345) == "12.3 %"
    assert format_percent(0.0691, fraction=True) == "6.9 %"
    assert format_percent(None) == DASH
    assert format_duration(586_642) == "6.8 days"
    assert format_duration(86_400) == "1.0 day"
    assert format_duration(5_400) == "1.5 h"
    assert format_duration(720) == "12 min"
    assert format_duration(40) == "40 s"
    assert format_duration(float("nan")) == DASH
    assert format_count(94.0) == "94" and format_count(1234567) == "1,234,567"
    assert format_number(29.0) == "29" and format_number(0.4512) == "0.45" and format_number(48.3) == "48.3"


def test_for_people_renames_and_writes_every_cell():
    frame = pd.DataFrame(
        {
            "from_touchpoint": ["Pricing page", None],
            "journeys": [94.0, None],
            "share": [0.0691, 0.005],
            "backtrack_rate_pct": [55.0, 2.345],
            "median_gap_hours": [17.5, None],
            "friction": [48.33, 3.0],
            "path": [("A", "B"), ("A",)],
        }
    )
    shown = for_people(frame)
    assert list(shown.columns) == [
        "From touchpoint",
        "Journeys",
        "Share",
        "Backtrack rate",
        "Median time to next event",
        "Friction",
        "Path",
    ]
    assert shown.iloc[0].tolist() == ["Pricing page", "94", "6.9 %", "55.0 %", "17.5 h", "48.3", "A › B"]
    assert shown.iloc[1].tolist() == [DASH, DASH, "0.5 %", "2.3 %", DASH, "3.0", "A"]  # a score: one decimal
    # The machine frame is untouched (the CSV is written from it).
    assert list(frame.columns)[0] == "from_touchpoint" and frame["journeys"].iloc[0] == 94.0


# --------------------------------------------------------------------------- charts that tell the truth


def _variants(labels: list[str], journeys: list[int]) -> pd.DataFrame:
    total = sum(journeys)
    return pd.DataFrame(
        {
            "path": [tuple(label.split(" > ")) for label in labels],
            "path_label": labels,
            "journeys": journeys,
            "share": [j / total for j in journeys],
            "conversion_rate": [0.5] * len(labels),
        }
    )


def test_paths_chart_has_one_bar_per_path_in_rank_order_even_when_labels_shorten_alike():
    stem = " > ".join(["Awareness", "Consideration", "Conversion"] * 4)  # longer than the tick allows
    labels = [f"{stem} > Service", f"{stem} > Advocacy", "Awareness", "Awareness > Consideration"]
    variants = _variants(labels, [69, 40, 10, 5])
    fig = variants_figure(variants)
    bar = fig.data[0]
    assert len(bar.y) == len(variants) == len(set(bar.y))  # no two paths merged into one bar
    assert list(bar.x) == [69, 40, 10, 5]
    # Rank 1 drawn at the top: the category order is the reverse of the rank order.
    assert fig.layout.yaxis.type == "category"
    assert list(fig.layout.yaxis.categoryarray) == list(bar.y)[::-1]
    ticks = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext, strict=True))
    assert ticks[bar.y[0]] == ticks[bar.y[1]]  # the two long paths do shorten alike...
    assert [html.unescape(c) for c in bar.customdata] == labels  # ...but hover shows each whole path
    assert bar.text[0] == f"{100 * 69 / 124:.1f} % · 50.0 % convert"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_sankey_labels_have_enough_contrast(dark):
    links = pd.DataFrame(
        {
            "source_step": [0, 0],
            "source": ["A", "A"],
            "target_step": [1, 1],
            "target": ["B", "Drop-off"],
            "journeys": [5, 3],
        }
    )
    flow = pd.DataFrame(
        {
            "source": ["A", "B"],
            "target": ["B", "A"],
            "count": [5, 2],
            "journeys": [5, 2],
            "direction": ["forward", "backward"],
            "source_rank": [0, 1],
            "target_rank": [1, 0],
        }
    )
    for fig in (step_sankey_figure(links, dark=dark), stage_flow_figure(flow, dark=dark)):
        text, background = fig.data[0].textfont.color, fig.layout.paper_bgcolor
        assert contrast_ratio(text, background) >= 4.5, (text, background)
    assert contrast_ratio("#777777", "#888888") < 4.5  # the measure can fail


def test_stage_flow_loops_are_arcs_with_their_counts():
    flow = pd.DataFrame(
        {
            "source": ["Awareness", "Consideration", "Conversion", "Conversion"],
            "target": ["Consideration", "Conversion", "Consideration", "Awareness"],
            "count": [4756, 4032, 1708, 908],
            "journeys": [4265, 3252, 1530, 857],
            "direction": ["forward", "forward", "backward", "backward"],
            "source_rank": [0, 1, 2, 2],
            "target_rank": [1, 2, 1, 0],
        }
    )
    fig = stage_flow_figure(flow)
    # Forward moves in the Sankey; each loop an arc beneath, labelled with its count.
    assert list(fig.data[0].link.value) == [4756, 4032]
    assert [s.type for s in fig.layout.shapes] == ["path", "path"]
    notes = list(fig.layout.annotations)
    assert [a.text for a in notes] == ["↩ 1,708", "↩ 908"]
    assert notes[0].hovertext == "Conversion → Consideration: 1,708 moves back"
    # The bigger loop is drawn thicker.
    assert fig.layout.shapes[0].line.width > fig.layout.shapes[1].line.width


def test_friction_reasons_use_the_shared_duration_and_percent_wording():
    import pandas as pd

    from analytics.friction import _reason

    row = pd.Series(
        {
            "contrib_exit": 10.0,
            "contrib_backtrack": 5.0,
            "contrib_repeat": 0.0,
            "contrib_delay": 8.0,
            "contrib_feedback": float("nan"),
            "exit_rate": 0.6912,
            "base_exit_rate": 0.25,
            "backtrack_rate": 0.123,
            "repeat_rate": 0.0,
            "median_gap_seconds": 40.7 * 86400,
            "reference_gap_seconds": 5400.0,
            "negative_rate": float("nan"),
        }
    )
    text = _reason(row, "in its stage")
    assert f"{format_percent(0.6912, fraction=True)} of its journeys end there" in text
    assert "69.1 %" in text and "(base 25.0 %)" in text and "12.3 % of moves go back" in text
    assert f"median {format_duration(40.7 * 86400)} to the next event vs 1.5 h in its stage" in text
    assert "40.7 days" in text and " d " not in text


def test_money_is_written_with_its_currency_and_never_a_guessed_one():
    from analytics.numbers import format_metric_value, format_money

    assert format_money(12345.6, "EUR") == "12,345.60 EUR"
    assert format_money(12345.6, "") == "12,345.60 (no currency set)"
    assert format_money(None, "EUR") == DASH
    assert format_metric_value(12345.6, "", "clv") == "12,345.60 (no currency set)"
    assert format_metric_value(82.5, "%", "csat") == "82.5 %"
    assert format_metric_value(37, "points", "nps") == "37.0 points"


def test_every_text_cell_of_the_grid_may_break_long_words_at_syllables(engine):
    filled = filled_map("Hyphen map")
    stage = map_view.get_map_view(filled.map_id).stages[0]
    map_edits.set_lane_cell(
        filled.map_id, stage_id=stage.id, touchpoint_id=stage.touchpoints[0].id, lane="thinking",
        text="Implementation, procurement\nsurprises", expected_version=None,
    )  # fmt: skip
    grid = map_grid_html(map_view.get_map_view(filled.map_id))
    assert 'lang="en"' in grid and "hyphens:auto" in grid
    cells = re.findall(r'data-kind="lane:thinking"[^>]*>(.*?)</div>', grid, re.S)
    cell = next(c for c in cells if c.startswith("Imple"))
    # Each long word (punctuation and line breaks kept) carries soft hyphens; the text reads the same without.
    assert "Imple&shy;men&shy;ta&shy;tion," in cell and "pro&shy;cu" in cell
    assert html.unescape(cell.replace("&shy;", "")) == "Implementation, procurement\nsurprises"


def test_a_cut_chart_says_what_it_leaves_out():
    from charts.labels import cut_note

    assert cut_note(15, 40, "largest", "the table has every one") == (
        "The chart shows the 15 largest of 40; the table has every one."
    )
    assert cut_note(15, 15, "largest", "the table has every one") is None
    assert cut_note(15, 3, "largest", "the table has every one") is None


def test_a_difference_of_probabilities_is_written_in_signed_points():
    from charts.labels import format_points

    assert [format_points(v) for v in (0.124, 0.0003, -0.05, 0.0, None)] == [
        "+12.4 points",
        "+0.03 points",  # below a tenth of a point: two decimals, never "+0.0"
        "−5.0 points".replace("−", "-"),
        "+0.0 points",
        DASH,
    ]
    shown = for_people(pd.DataFrame({"lift": [0.124, float("nan")]}), kinds={"lift": "points"})
    assert shown["Lift"].tolist() == ["+12.4 points", DASH]
