"""Everyone's emotion at a touchpoint has one rule (``analytics.map_tables.emotion_at``, the emotion curve's):
the grid's overlay, the emotion curve and the Mermaid export give the same value at every touchpoint."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analytics import map_tables
from charts.map_grid import compute_emotion_curve
from core.journey_map import LaneCellView, MapView, PersonaView, StageView, TouchpointView
from services import map_mermaid, map_view
from services.maps import list_map_summaries


def _curve_everyone(view: MapView) -> dict[int, int]:
    """The emotion curve's "Everyone" line, per touchpoint."""
    curve = compute_emotion_curve(view)
    everyone = curve[curve["persona"] == "Everyone"].dropna(subset=["touchpoint_id"])
    return {int(t): int(e) for t, e in zip(everyone["touchpoint_id"], everyone["emotion"], strict=True)}


def _overlay(view: MapView) -> dict[int, float]:
    frame = map_tables.compute_map_measure(view, "emotion")
    return dict(zip(frame["touchpoint_id"].astype(int), frame["value"], strict=True))


def _mermaid_emotions(view: MapView) -> dict[int, int | None]:
    """Each touchpoint's emotion as the Mermaid label states it (``emotion −1 (−2..+2)``; None for "no emotion")."""
    out: dict[int, int | None] = {}
    for line in map_mermaid.compute_mermaid(view).splitlines():
        node = re.match(r'\s*T(\d+)\["(.*)"\]$', line)
        if node is None:
            continue
        text = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), node.group(2))
        last = text.split(" · ")[-1]
        said = re.fullmatch(r"emotion (0|[+−][12]) \(−2\.\.\+2\)", last)
        assert said or last == "no emotion", text
        out[int(node.group(1))] = int(said.group(1).replace("−", "-")) if said else None
    return out


def test_everyones_emotion_is_the_curves_in_the_overlay_and_in_mermaid_on_every_demo_map(demo_engine):
    summaries = list_map_summaries()
    assert summaries
    for summary in summaries:
        view = map_view.get_map_view(summary.id)
        curve, overlay = _curve_everyone(view), _overlay(view)
        assert {t.name: overlay.get(t.id) for t in view.touchpoints} == {
            t.name: curve.get(t.id) for t in view.touchpoints
        }, view.name
        mermaid = _mermaid_emotions(view)
        assert {t.name: mermaid[t.id] for t in view.touchpoints} == {
            t.name: curve.get(t.id) for t in view.touchpoints
        }, view.name


def test_demo_b2b_chatbot_and_renewal_page_take_their_stages_emotion(demo_engine):
    # The defect as seen: a persona's own −2 (Chatbot) and 0 (Renewal page) stood in for everyone.
    view = next(map_view.get_map_view(s.id) for s in list_map_summaries() if s.name == "B2B SaaS buyer journey")
    ids = {t.name: t.id for t in view.touchpoints}
    overlay = _overlay(view)
    assert (overlay[ids["Chatbot"]], overlay[ids["Renewal page"]]) == (-1.0, 1.0)
    mermaid = _mermaid_emotions(view)
    assert (mermaid[ids["Chatbot"]], mermaid[ids["Renewal page"]]) == (-1, 1)


def _tiny_map() -> MapView:
    """Two stages. Onboarding: a whole-stage cell for everyone (−1); "Welcome mail" has only Dana's −2,
    "Kick-off" Dana's −2 and Sam's +2, "Training" its own +2 for everyone beside Dana's −2. Renewal: no cell
    for everyone anywhere, only Sam's +1 on "Invoice"."""
    welcome, kickoff, training = (TouchpointView(id=i, stage_id=1, position=i, name=n) for i, n in (
        (11, "Welcome mail"), (12, "Kick-off"), (13, "Training")))  # fmt: skip
    invoice = TouchpointView(id=21, stage_id=2, position=1, name="Invoice")
    cells = [
        (1, 11, 7, -2),
        (1, None, None, -1),
        (1, 12, 7, -2),
        (1, 12, 8, 2),
        (1, 13, 7, -2),
        (1, 13, None, 2),
        (1, None, 8, None),  # a persona's text-only cell: no emotion
        (2, 21, 8, 1),
    ]
    return MapView(
        id=1,
        name="Tiny",
        stages=(
            StageView(id=1, position=1, name="Onboarding", touchpoints=(welcome, kickoff, training)),
            StageView(id=2, position=2, name="Renewal", touchpoints=(invoice,)),
        ),
        personas=(PersonaView(id=7, name="Dana"), PersonaView(id=8, name="Sam")),
        lane_cells=tuple(
            LaneCellView(id=n, stage_id=s, touchpoint_id=t, persona_id=p, lane="feeling", text="x", emotion=e)
            for n, (s, t, p, e) in enumerate(cells, start=1)
        ),
    )


TINY_EVERYONE = {11: -1, 12: -1, 13: 2, 21: None}  # the stage's −1 where a touchpoint has none of its own


def test_a_personas_cell_never_stands_in_for_everyone_the_stages_whole_stage_cell_does():
    view = _tiny_map()
    curve = _curve_everyone(view)
    assert {t: curve.get(t) for t in TINY_EVERYONE} == TINY_EVERYONE
    assert _overlay(view) == {t: float(e) for t, e in TINY_EVERYONE.items() if e is not None}
    assert _mermaid_emotions(view) == TINY_EVERYONE


@pytest.mark.parametrize(
    ("stage_id", "touchpoint_id", "persona_id", "expected"),
    [
        (1, 11, None, -1),  # no cell of its own for everyone: the stage's
        (1, 11, 7, -2),  # Dana's own
        (1, 11, 8, None),  # Sam has only a text cell at the stage; everyone's never stands in for a persona
        (1, 13, None, 2),  # its own beats the stage's
        (1, None, None, -1),  # the whole stage
        (2, 21, None, None),  # nobody speaks for everyone: no value (the curve leaves a gap)
        (2, 21, 8, 1),
    ],
)
def test_emotion_at_one_series_at_one_place(stage_id, touchpoint_id, persona_id, expected):
    assert map_tables.emotion_at(_tiny_map(), stage_id, touchpoint_id, persona_id) == expected


def _assert_emotion_at_is_the_curve(view: MapView) -> None:
    """Every point of every series of the curve is ``emotion_at`` there, and where a touchpoint has no point
    ``emotion_at`` gives None."""
    curve = compute_emotion_curve(view)
    points = {
        (
            None if pd.isna(r.persona_id) else int(r.persona_id),
            None if pd.isna(r.touchpoint_id) else int(r.touchpoint_id),
        ): r
        for r in curve.itertuples()
    }
    for persona in [None, *(p.id for p in view.personas)]:
        for t in view.touchpoints:
            point = points.get((persona, t.id))
            expected = None if point is None else int(point.emotion)
            assert map_tables.emotion_at(view, t.stage_id, t.id, persona) == expected, (view.name, persona, t.name)
    for (persona, touchpoint), r in points.items():
        if touchpoint is None:  # a stage without touchpoints: its whole-stage cell
            assert map_tables.emotion_at(view, r.stage_id, None, persona) == r.emotion, (view.name, r)


def test_emotion_at_is_every_point_of_the_curve_on_the_tiny_map_and_every_demo_map(demo_engine):
    _assert_emotion_at_is_the_curve(_tiny_map())
    for summary in list_map_summaries():
        _assert_emotion_at_is_the_curve(map_view.get_map_view(summary.id))


def test_a_text_only_cell_before_an_emotion_at_one_place_reads_the_same_on_the_curve_and_the_overlay():
    # Before: the curve stopped at the first cell of a place (text only) and fell back to the stage (−1),
    # while the overlay and Mermaid read the next cell's +2. One rule (emotion_at) for all three now.
    view = _tiny_map()
    extra = (
        LaneCellView(id=90, stage_id=1, touchpoint_id=11, persona_id=None, lane="feeling", text="calm", emotion=None),
        LaneCellView(id=91, stage_id=1, touchpoint_id=11, persona_id=None, lane="feeling", text="glad", emotion=2),
    )
    view = MapView(id=view.id, name=view.name, stages=view.stages, personas=view.personas,
                   lane_cells=extra + view.lane_cells)  # fmt: skip
    assert _curve_everyone(view)[11] == _overlay(view)[11] == _mermaid_emotions(view)[11] == 2
    curve = compute_emotion_curve(view)
    assert curve.loc[(curve["persona"] == "Everyone") & (curve["touchpoint"] == "Welcome mail"), "source"].tolist() == [
        "touchpoint"
    ]


def test_the_emotion_overlay_labels_read_as_the_grid_writes_emotions():
    # Before: "+2.0", "-1.0", "+0.0" beside the grid's "+2", "−1", "0".
    frame = map_tables.compute_map_measure(_tiny_map(), "emotion")
    assert dict(zip(frame["touchpoint_id"], frame["label"], strict=True)) == {11: "−1", 12: "−1", 13: "+2"}
