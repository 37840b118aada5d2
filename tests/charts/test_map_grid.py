"""The map grid's data twin (cells, inheritance, persona views, overlay, emotion curve) and its figure."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from charts.map_grid import COLUMN_PX, compute_emotion_curve, compute_map_grid, map_grid_figure
from charts.palette import PAGE_DARK
from services import map_edits, map_view
from services.maps import create_map_from_template
from tests.studio_factory import filled_map, filled_map_view


@pytest.fixture
def view(engine):
    return map_view.get_map_view(filled_map().map_id)


def _cell(grid, row_kind, touchpoint=None, stage=None):
    rows = grid[grid["row_kind"] == row_kind]
    if touchpoint is not None:
        rows = rows[rows["touchpoint"] == touchpoint]
    if stage is not None:
        rows = rows[(rows["stage"] == stage) & rows["touchpoint_id"].isna()]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_columns_rows_and_owner_marks(view):
    grid = compute_map_grid(view)
    touchpoints = grid[grid["row_kind"] == "touchpoint"]
    assert touchpoints["touchpoint"].tolist() == [t.name for t in view.touchpoints]
    # One column per touchpoint, each one unit wide, stages separated by a gap.
    assert (touchpoints["x1"] - touchpoints["x0"]).sub(1.0).abs().lt(1e-9).all()
    assert touchpoints["x0"].is_monotonic_increasing
    demo = _cell(grid, "touchpoint", "Demo")
    assert demo["moment_of_truth"] and demo["text"].startswith("★ Demo")
    assert _cell(grid, "owner", "Demo")["text"] == "Sales"
    # Stage headers span their touchpoints.
    stage = grid[(grid["row_kind"] == "stage") & (grid["stage"] == "Consideration")].iloc[0]
    cons = touchpoints[touchpoints["stage"] == "Consideration"]
    assert (stage["x0"], stage["x1"]) == (cons["x0"].min(), cons["x1"].max())
    assert list(dict.fromkeys(grid["row"])) == [
        "Stage",
        "Touchpoint",
        "Owner · RACI",
        "Thinking",
        "Doing",
        "Feeling",
        "Pain points",
        "Opportunities",
        "Actions",
    ]


def test_stage_cells_span_or_are_inherited(view):
    grid = compute_map_grid(view)
    # Awareness "doing" has only a whole-stage cell: one cell across the stage.
    doing = grid[(grid["row_kind"] == "lane:doing") & (grid["stage"] == "Awareness")]
    assert len(doing) == 1 and doing.iloc[0]["text"] == "Reads around" and pd.isna(doing.iloc[0]["touchpoint_id"])
    # Awareness "thinking": Blog has its own cell, so the stage is drawn per touchpoint.
    thinking = grid[(grid["row_kind"] == "lane:thinking") & (grid["stage"] == "Awareness")]
    assert thinking.set_index("touchpoint")["text"].to_dict() == {"Online ads": "", "Blog": "Is this for us?"}
    # Consideration "feeling": Demo has its own; Case studies inherits nothing (no stage-level feeling there).
    feeling = grid[(grid["row_kind"] == "lane:feeling") & (grid["stage"] == "Consideration")].set_index("touchpoint")
    assert feeling.loc["Demo", "emotion"] == 2 and not feeling.loc["Demo", "inherited"]
    assert pd.isna(feeling.loc["Case studies", "emotion"])


def test_inherited_stage_cell_fills_touchpoints_without_their_own(engine):
    filled, view = filled_map_view()
    stage, version = view.stages[0].id, filled.version
    map_edits.set_lane_cell(
        filled.map_id, stage_id=stage, touchpoint_id=None, lane="thinking", text="Why change?", expected_version=version
    )
    grid = compute_map_grid(map_view.get_map_view(filled.map_id))
    thinking = grid[(grid["row_kind"] == "lane:thinking") & (grid["stage"] == "Awareness")].set_index("touchpoint")
    assert thinking.loc["Online ads", "text"] == "Why change?" and thinking.loc["Online ads", "inherited"]
    assert thinking.loc["Blog", "text"] == "Is this for us?" and not thinking.loc["Blog", "inherited"]


def test_persona_view_falls_back_to_everyone(view):
    dana = next(p for p in view.personas if p.name == "Dana")
    sam = next(p for p in view.personas if p.name == "Sam")
    everyone = compute_map_grid(view)
    # For everyone, a column without a shared cell shows the personas' cells, named.
    assert _cell(everyone, "lane:thinking", "Demo")["text"] == "Sam: Does it scale?"
    assert _cell(everyone, "lane:feeling", "Demo")["emotion"] == 2
    as_dana = compute_map_grid(view, persona_id=dana.id)
    assert _cell(as_dana, "lane:feeling", "Demo")["emotion"] == -1
    assert _cell(as_dana, "lane:feeling", "Demo")["text"] == "Worried about cost"
    as_sam = compute_map_grid(view, persona_id=sam.id)
    assert _cell(as_sam, "lane:thinking", "Demo")["text"] == "Does it scale?"
    assert _cell(as_sam, "lane:feeling", "Demo")["emotion"] == 2  # Sam has none: everyone's


def test_items_sit_in_their_columns_most_important_first(view):
    grid = compute_map_grid(view)
    demo_pains = _cell(grid, "pain", "Demo")
    assert (demo_pains["count"], demo_pains["severity"]) == (1, 5)
    # A whole-stage pain point sits in the stage's first column.
    first = _cell(grid, "pain", "Online ads")
    assert first["text"] == "Severity 2 (low): Too many vendors"
    opps = _cell(grid, "opportunity", "Online ads")
    assert opps["text"] == "Priority 0.2 (low): Comparison guide"
    assert _cell(grid, "opportunity", "Demo")["text"] == "Priority 3.0 (high): Self-serve demo"
    assert _cell(grid, "action", "Demo")["text"] == "• Add booking widget"


def test_overlay_values_labels_and_missing_touchpoints(view):
    demo = view.stages[1].touchpoints[1]
    blog = view.stages[0].touchpoints[1]
    overlay = pd.DataFrame(
        {
            "touchpoint_id": [demo.id, blog.id],
            "value": [72.0, 10.0],
            "label": ["72", "10"],
            "target": [50, 50],
            "status": ["red", "green"],
        }
    )
    overlay.attrs["name"] = "Friction index"
    grid = compute_map_grid(view, overlay)
    assert "Friction index" in set(grid["row"])
    measure = grid[grid["row_kind"] == "measure"].set_index("touchpoint")
    assert measure.loc["Demo", "value"] == 72.0 and measure.loc["Demo", "status"] == "red"
    assert measure.loc["Case studies", "text"] == "no data" and pd.isna(measure.loc["Case studies", "value"])
    with pytest.raises(ValueError, match="touchpoint_id, value, label"):
        compute_map_grid(view, pd.DataFrame({"touchpoint_id": [demo.id], "value": [1.0]}))


def test_emotion_curve_one_line_per_persona(view):
    curve = compute_emotion_curve(view)
    everyone = curve[curve["persona"] == "Everyone"].set_index("touchpoint")
    # Awareness touchpoints take the stage-level +1; Demo its own +2; Case studies has none (a gap).
    assert everyone.loc["Online ads", "emotion"] == 1 and everyone.loc["Online ads", "source"] == "stage"
    assert everyone.loc["Demo", "emotion"] == 2 and everyone.loc["Demo", "source"] == "touchpoint"
    assert "Case studies" not in everyone.index
    dana = curve[curve["persona"] == "Dana"]
    assert dana["touchpoint"].tolist() == ["Demo"] and dana["emotion"].tolist() == [-1]
    assert set(curve["persona"]) == {"Everyone", "Dana"}
    # Ids are whole numbers, empty for everyone (the CSV once read "4.0").
    csv = curve.to_csv(index=False)
    dana_id = int(dana["persona_id"].iloc[0])
    assert f"\n{dana_id},Dana," in csv and f"\n{dana_id}.0," not in csv and "\n,Everyone," in csv


@pytest.mark.parametrize("dark", [False, True])
def test_figure_draws_every_cell_in_both_themes(view, dark):
    demo = view.stages[1].touchpoints[1]
    overlay = pd.DataFrame({"touchpoint_id": [demo.id], "value": [3.0], "label": ["3"]})
    fig = map_grid_figure(view, overlay, dark=dark, overlay_name="Pain <b>severity</b>")
    assert isinstance(fig, go.Figure)
    grid = compute_map_grid(view, overlay, overlay_name="Pain <b>severity</b>")
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == len(grid)
    assert fig.layout.width >= len(view.touchpoints) * COLUMN_PX
    assert fig.layout.paper_bgcolor == (PAGE_DARK["background"] if dark else "#ffffff")
    # The measure has a colour bar titled with its (escaped) name.
    bars = [t for t in fig.data if getattr(t.marker, "showscale", False)]
    assert len(bars) == 1 and bars[0].marker.colorbar.title.text == "Pain &lt;b&gt;severity&lt;/b&gt;"
    # One emotion line for everyone and one for Dana.
    lines = [t.name for t in fig.data if t.mode == "lines+markers"]
    assert lines == ["Everyone", "Dana"]
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "★ Demo" in texts and "+2 very positive" in texts


def test_user_text_cannot_become_markup(engine):
    map_id = create_map_from_template(template_key=None, name="Markup")
    v = map_view.get_map_view(map_id).version
    saved = map_edits.add_stage(map_id, "<a href='x'>Stage</a>", expected_version=v)
    map_edits.add_touchpoint(map_id, saved.ids[0], "<img src=x>", expected_version=saved.version)
    fig = map_grid_figure(map_view.get_map_view(map_id))
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "<a " not in texts and "<img" not in texts and "&lt;img src=x&gt;" in texts


def test_empty_curve_says_how_to_draw_it(engine):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="No feelings")
    fig = map_grid_figure(map_view.get_map_view(map_id))
    assert any("No emotion scores yet" in a.text for a in fig.layout.annotations)
