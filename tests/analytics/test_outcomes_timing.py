"""Outcomes, time to convert, time in stage, summary."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.conversion import goal
from analytics.journeys import JourneyQuery
from analytics.outcomes import NO_OUTCOME, compute_outcomes
from analytics.summary import compute_summary, summary_record
from analytics.timing import compute_time_in_stage, compute_time_to_convert
from core.errors import UnknownColumnError
from tests.factories import events_of, log_frame, staged_frame

DAY = 86400.0


def test_outcome_is_the_last_one_given_and_shares_sum_to_one():
    frame = log_frame(
        [
            ("a", 0, "A", "open"),
            ("a", 1, "B", "won"),
            ("a", 2, "C", None),
            ("b", 0, "A", "lost"),
            ("c", 0, "A", None),
            ("d", 0, "A", "won"),
        ],
        ("journey_id", "timestamp", "activity", "outcome"),
    )
    events, schema = events_of(frame)
    o = compute_outcomes(events, schema)
    assert o.values.tolist() == [["won", 2, 0.5], ["(no outcome)", 1, 0.25], ["lost", 1, 0.25]]
    assert NO_OUTCOME == "(no outcome)"
    assert o["share"].sum() == pytest.approx(1.0)


def test_outcomes_need_the_column():
    events, schema = events_of(log_frame([("a", 0, "A")]))
    with pytest.raises(UnknownColumnError, match="outcome"):
        compute_outcomes(events, schema)


def test_account_outcome_is_the_last_of_any_contact():
    frame = log_frame(
        [("c1", "x", 0, "A", "won"), ("c2", "x", 1, "B", "lost")],
        ("journey_id", "account_id", "timestamp", "activity", "outcome"),
    )
    events, schema = events_of(frame)
    assert compute_outcomes(events, schema, JourneyQuery(level="account")).values.tolist() == [["lost", 1, 1.0]]


def test_time_to_convert_from_first_step_to_first_goal():
    frame = log_frame(
        [("a", 0, "A"), ("a", 2, "G"), ("a", 9, "G"), ("b", 1, "A"), ("b", 5, "G"), ("c", 0, "A")],
    )
    events, schema = events_of(frame)
    t = compute_time_to_convert(events, schema, JourneyQuery(), goal("G")).iloc[0]
    assert (t.journeys, t.converted) == (3, 2)
    assert t.conversion_rate == pytest.approx(2 / 3)
    assert t.median_seconds == pytest.approx(3 * DAY)
    assert t.p90_seconds == pytest.approx(3.8 * DAY)
    assert t.mean_seconds == pytest.approx(3 * DAY)


def test_goal_can_be_a_stage():
    frame = log_frame(
        [("a", 0, "x", "Aw"), ("a", 1.5, "y", "Won")],
        ("journey_id", "timestamp", "activity", "stage"),
    )
    events, schema = events_of(frame)
    assert compute_time_to_convert(events, schema, JourneyQuery(), goal("Won")).iloc[0].median_seconds == pytest.approx(
        1.5 * DAY
    )


def test_time_in_stage_ends_at_the_next_visit_and_leaves_the_last_open():
    frame = staged_frame(
        {
            "a": [(0, "x", "Aw"), (1, "y", "Aw"), (3, "z", "Co"), (4, "x", "Aw")],
            "b": [(0, "x", "Aw"), (2, "z", "Co")],
        }
    )
    events, schema = events_of(frame)
    t = compute_time_in_stage(events, schema, JourneyQuery(by="stage")).set_index("node")
    # Aw visits: a 0→3 (3 days), a 4→open, b 0→2 (2 days). Co: a 3→4 (1 day), b open.
    assert t.loc["Aw", "visits"] == 3 and t.loc["Aw", "timed_visits"] == 2 and t.loc["Aw", "open_visits"] == 1
    assert t.loc["Aw", "median_seconds"] == pytest.approx(2.5 * DAY)
    assert t.loc["Co", "median_seconds"] == pytest.approx(1 * DAY)


def _ordered_log():  # noqa: ANN202 - events and schema
    """Two journeys over stages Co, Aw, Zz, Dx and touchpoints x, y, z (visits: Co 3, Aw 2, Dx 2, Zz 1;
    x 4, y 2, z 2)."""
    return events_of(
        staged_frame(
            {
                "a": [(0, "x", "Co"), (1, "y", "Aw"), (2, "z", "Co"), (3, "x", "Zz"), (4, "y", "Dx")],
                "b": [(0, "x", "Co"), (1, "z", "Aw"), (2, "x", "Dx")],
            }
        )
    )


def test_time_in_stage_follows_a_stage_order_and_puts_the_others_after_it_by_visits():
    events, schema = _ordered_log()
    q = JourneyQuery(by="stage")
    # Visits: Co 3, Aw 2, Dx 2, Zz 1: without an order, most visited first, then by name.
    assert compute_time_in_stage(events, schema, q)["node"].tolist() == ["Co", "Aw", "Dx", "Zz"]
    ordered = compute_time_in_stage(events, schema, q, stage_order=("Aw", "Co", "Nope"))
    assert ordered["node"].tolist() == ["Aw", "Co", "Dx", "Zz"]  # the order's stages, then the rest by visits
    assert ordered.set_index("node")["visits"].to_dict() == {"Aw": 2, "Co": 3, "Dx": 2, "Zz": 1}
    # At touchpoint level a stage order says nothing about the rows.
    by_touchpoint = JourneyQuery(by="touchpoint")
    assert compute_time_in_stage(events, schema, by_touchpoint, stage_order=("Aw", "Co")).equals(
        compute_time_in_stage(events, schema, by_touchpoint)
    )


def test_time_at_touchpoint_level_follows_the_maps_touchpoint_order():
    events, schema = _ordered_log()
    q = JourneyQuery(by="touchpoint")
    # Visits: x 4, y 2, z 2: without an order, most visited first, then by name.
    assert compute_time_in_stage(events, schema, q)["node"].tolist() == ["x", "y", "z"]
    ordered = compute_time_in_stage(events, schema, q, touchpoint_order=("z", "Gone", "y"))
    assert ordered["node"].tolist() == ["z", "y", "x"]  # the map's touchpoints, then the rest by visits
    assert ordered.set_index("node")["visits"].to_dict() == {"z": 2, "y": 2, "x": 4}
    # At stage level a touchpoint order says nothing about the rows.
    by_stage = JourneyQuery(by="stage")
    assert compute_time_in_stage(events, schema, by_stage, touchpoint_order=("z", "y")).equals(
        compute_time_in_stage(events, schema, by_stage)
    )


def test_summary_counts_the_filtered_events():
    frame = log_frame(
        [("c1", "x", 0, "A"), ("c2", "x", 1, "B"), ("c3", "y", 5, "A")],
        ("journey_id", "account_id", "timestamp", "activity"),
    )
    events, schema = events_of(frame)
    s = summary_record(compute_summary(events, schema))
    assert {k: s[k] for k in ("events", "journeys", "accounts", "activities")} == {
        "events": 3,
        "journeys": 3,
        "accounts": 2,
        "activities": 2,
    }
    assert s["first_timestamp"].day == 1 and s["last_timestamp"].day == 6
    s = summary_record(compute_summary(events, schema, JourneyQuery(level="account", date_to=date(2025, 1, 2))))
    assert (s["events"], s["journeys"], s["accounts"]) == (2, 1, 1)
