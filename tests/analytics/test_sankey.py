"""Step Sankey (true counts, top-N + Other, anchors, drop-off) and stage flow (backward links)."""

from __future__ import annotations

import pytest

from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.sankey import CONVERTED, DROP_OFF, END, OTHER, compute_stage_flow, compute_step_sankey
from core.errors import BadInputError
from tests.factories import events_of, log_frame, staged_frame

LOG = log_frame(
    [
        ("a", 0, "A"), ("a", 1, "B"), ("a", 2, "C"),
        ("b", 0, "A"), ("b", 1, "B"),
        ("c", 0, "A"), ("c", 1, "D"), ("c", 2, "C"), ("c", 3, "E"),
        ("d", 0, "D"),
    ]
)  # fmt: skip


def _links(frame):
    return {(r.source_step, r.source, r.target_step, r.target): r.journeys for r in frame.itertuples()}


def test_true_step_counts_and_end_node_without_goal():
    events, schema = events_of(LOG)
    s = compute_step_sankey(events, schema, steps=3)
    assert _links(s) == {
        (0, "A", 1, "B"): 2, (0, "A", 1, "D"): 1, (0, "D", 1, END): 1,
        (1, "B", 2, "C"): 1, (1, "B", 2, END): 1, (1, "D", 2, "C"): 1,
    }  # fmt: skip
    # Flow into a column = journeys that reach it.
    assert s[s.target_step == 1]["journeys"].sum() == 4


def test_goal_splits_ends_into_converted_and_drop_off():
    events, schema = events_of(LOG)
    s = compute_step_sankey(events, schema, steps=4, conversion=Conversion(goals=("C",)))
    links = _links(s)
    assert links[(1, "B", 2, DROP_OFF)] == 1  # b ends at B without reaching C
    assert links[(2, "C", 3, CONVERTED)] == 1  # a ends at C, converted
    assert (0, "D", 1, DROP_OFF) in links


def test_top_n_per_step_merges_the_rest_into_other():
    events, schema = events_of(LOG)
    s = compute_step_sankey(events, schema, steps=2, top_per_step=1)
    links = _links(s)
    # Column 0: A (3 journeys) kept, D → Other. Column 1: B (2) kept, D → Other, END is never cut.
    assert links[(0, "A", 1, "B")] == 2
    assert links[(0, "A", 1, OTHER)] == 1
    assert links[(0, OTHER, 1, END)] == 1


def test_end_anchor_puts_last_steps_in_the_last_column():
    events, schema = events_of(LOG)
    s = compute_step_sankey(events, schema, steps=2, anchor="end")
    assert _links(s) == {(0, "B", 1, "C"): 1, (0, "A", 1, "B"): 1, (0, "C", 1, "E"): 1}


def test_anchor_node_cuts_before_it_and_leaves_out_journeys_without_it():
    events, schema = events_of(LOG)
    s = compute_step_sankey(events, schema, steps=3, anchor_node="D")
    assert _links(s) == {(0, "D", 1, "C"): 1, (1, "C", 2, "E"): 1, (0, "D", 1, END): 1}
    e = compute_step_sankey(events, schema, steps=2, anchor="end", anchor_node="C")
    assert _links(e) == {(0, "B", 1, "C"): 1, (0, "D", 1, "C"): 1}


def test_bad_parameters_are_refused():
    events, schema = events_of(LOG)
    with pytest.raises(BadInputError):
        compute_step_sankey(events, schema, steps=1)
    with pytest.raises(BadInputError):
        compute_step_sankey(events, schema, anchor="middle")


def test_stage_flow_marks_backward_links_by_the_given_order():
    frame = staged_frame(
        {
            "a": [(0, "x", "Aw"), (1, "y", "Co"), (2, "z", "Aw"), (3, "w", "De")],
            "b": [(0, "x", "Aw"), (1, "w", "De")],
        }
    )
    events, schema = events_of(frame)
    flow = compute_stage_flow(events, schema, stage_order=["Aw", "Co", "De"])
    d = {(r.source, r.target): (r.count, r.direction) for r in flow.itertuples()}
    assert d == {("Aw", "Co"): (1, "forward"), ("Co", "Aw"): (1, "backward"), ("Aw", "De"): (2, "forward")}
    # Without an order: first-appearance order (Aw first at step 0, Co at 1, De at 2.0 on average).
    inferred = compute_stage_flow(events, schema, JourneyQuery())
    assert set(inferred.loc[inferred.direction == "backward", "source"]) == {"Co"}
