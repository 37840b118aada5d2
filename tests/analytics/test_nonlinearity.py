"""Non-linearity: backward moves by map/given order or first-appearance order; top loops."""

from __future__ import annotations

import pytest

from analytics.journeys import JourneyQuery
from analytics.nonlinearity import compute_nonlinearity, compute_stage_order, compute_top_loops, resolve_stage_order
from tests.factories import events_of, log_frame, staged_frame

COLS = ("journey_id", "timestamp", "activity", "stage")
LOG = log_frame(
    [
        ("a", 0, "t1", "Aw"), ("a", 1, "t2", "Co"), ("a", 2, "t1", "Aw"), ("a", 3, "t2", "Co"), ("a", 4, "t3", "De"),
        ("b", 0, "t1", "Aw"), ("b", 1, "t3", "De"), ("b", 2, "t2", "Co"),
        ("c", 0, "t1", "Aw"), ("c", 1, "t1", "Aw"),
    ],
    COLS,
)  # fmt: skip


def test_backward_moves_by_the_given_order():
    events, schema = events_of(LOG)
    n = compute_nonlinearity(events, schema, stage_order=["Aw", "Co", "De"]).iloc[0]
    # a: Co → Aw (1 back); b: De → Co (1 back); c: repeats only (collapsed), no move.
    assert n["journeys"] == 3
    assert n["journeys_moving_back"] == 2
    assert n["share_moving_back"] == pytest.approx(2 / 3)
    assert n["backward_moves"] == 2
    assert n["loops_per_journey"] == pytest.approx(2 / 3)
    assert n["loops_per_looping_journey"] == 1.0


def test_order_changes_what_is_backward():
    events, schema = events_of(LOG)
    n = compute_nonlinearity(events, schema, stage_order=["Aw", "De", "Co"]).iloc[0]
    # Now Co → De (a) is backward and De → Co (b) forward; Co → Aw still backward.
    assert n["backward_moves"] == 2 and n["journeys_moving_back"] == 1
    loops = compute_top_loops(events, schema, stage_order=["Aw", "De", "Co"])
    assert {(r.from_stage, r.to_stage): r.moves for r in loops.itertuples()} == {("Co", "Aw"): 1, ("Co", "De"): 1}


def test_first_appearance_order_and_unlisted_stages():
    events, schema = events_of(LOG)
    order = compute_stage_order(events, schema)
    # First-visit ranks: a (Aw Co Aw Co De) Aw 0, Co 1, De 2; b (Aw De Co) Aw 0, De 1, Co 2; c Aw 0.
    # Co and De tie at 1.5 and at 2 journeys: the name decides.
    assert order["stage"].tolist() == ["Aw", "Co", "De"]
    assert order["mean_first_rank"].tolist() == [0.0, 1.5, 1.5]
    # A given order lists some stages; the others follow in first-appearance order.
    assert resolve_stage_order(events, schema, JourneyQuery(by="stage"), ["De"]) == ["De", "Aw", "Co"]


def test_top_loops_counts_moves_and_journeys():
    frame = staged_frame(
        {
            "a": [(0, "x", "S1"), (1, "x", "S2"), (2, "x", "S1"), (3, "x", "S2"), (4, "x", "S1")],
            "b": [(0, "x", "S1")],
        }
    )
    events, schema = events_of(frame)
    loops = compute_top_loops(events, schema, stage_order=["S1", "S2"])
    row = loops.iloc[0]
    assert (row.from_stage, row.to_stage, row.moves, row.journeys) == ("S2", "S1", 2, 1)
    assert row.share_of_journeys == 0.5


def test_touchpoint_query_is_taken_at_stage_level():
    events, schema = events_of(LOG)
    a = compute_nonlinearity(events, schema, JourneyQuery(by="touchpoint"), stage_order=["Aw", "Co", "De"])
    b = compute_nonlinearity(events, schema, JourneyQuery(by="stage"), stage_order=["Aw", "Co", "De"])
    assert a.equals(b)
