"""Funnel modes, windows, best attempt, exclusions, breakdown attribution, account level, dropped list."""

from __future__ import annotations

import math

import pytest

from analytics.funnel import (
    NO_VALUE,
    OTHER_VALUES,
    FunnelSpec,
    compute_dropped_journeys,
    compute_funnel,
    compute_funnel_breakdown,
)
from analytics.journeys import JourneyQuery
from core.errors import BadInputError, UnknownNameError
from tests.factories import events_of, log_frame

DAY = 86400.0


def _journeys(frame):
    return frame["journeys"].tolist()


def _funnel(rows, steps, query=JourneyQuery(), columns=("journey_id", "timestamp", "activity"), **spec):
    events, schema = events_of(log_frame(rows, columns))
    return compute_funnel(events, schema, query, FunnelSpec(tuple(steps), **spec))


def test_ordered_allows_anything_in_between_and_counts_each_step():
    rows = [
        ("a", 0, "A"), ("a", 1, "X"), ("a", 2, "B"), ("a", 3, "C"),
        ("b", 0, "A"), ("b", 1, "C"),            # skips B: reaches step 1 only
        ("c", 0, "B"), ("c", 1, "C"),            # never enters
        ("d", 0, "A"), ("d", 4, "B"),
    ]  # fmt: skip
    f = _funnel(rows, "ABC")
    assert _journeys(f) == [3, 2, 1]
    assert f["dropped"].tolist() == [0, 1, 1]
    assert f["conversion_from_start"].tolist() == [1.0, 2 / 3, 1 / 3]
    assert f["conversion_from_previous"].tolist() == [1.0, 2 / 3, 0.5]
    # Seconds from A to B: a 2 days, d 4 days → median 3, p90 3.8 (linear interpolation).
    assert f.loc[1, "median_seconds_from_previous"] == pytest.approx(3 * DAY)
    assert f.loc[1, "p90_seconds_from_previous"] == pytest.approx(3.8 * DAY)
    assert math.isnan(f.loc[0, "median_seconds_from_previous"])


def test_strict_forbids_other_funnel_steps_out_of_turn_but_not_other_nodes():
    rows = [
        ("a", 0, "A"), ("a", 1, "X"), ("a", 2, "B"),  # X is not a funnel step: fine
        ("b", 0, "A"), ("b", 1, "C"), ("b", 2, "B"),  # C (a funnel step) out of turn
    ]  # fmt: skip
    assert _journeys(_funnel(rows, "ABC", mode="ordered")) == [2, 2, 0]
    assert _journeys(_funnel(rows, "ABC", mode="strict")) == [2, 1, 0]


def test_immediate_needs_the_very_next_step():
    rows = [("a", 0, "A"), ("a", 1, "X"), ("a", 2, "B"), ("b", 0, "A"), ("b", 1, "B")]
    assert _journeys(_funnel(rows, "AB", mode="immediate")) == [2, 1]


def test_immediate_depends_on_repeats():
    rows = [("a", 0, "A"), ("a", 1, "A"), ("a", 2, "B")]
    # Collapsed, A A is one step: a funnel A → A never completes; kept, it does.
    assert _journeys(_funnel(rows, "AA", mode="immediate")) == [1, 0]
    assert _journeys(_funnel(rows, "AA", JourneyQuery(collapse_repeats=False), mode="immediate")) == [1, 1]
    assert _journeys(_funnel([("a", 0, "A"), ("a", 1, "X"), ("a", 3, "B")], "AB", mode="immediate")) == [1, 0]


def test_any_order_counts_distinct_steps_met_in_any_order():
    rows = [
        ("a", 0, "C"), ("a", 1, "A"), ("a", 2, "B"),
        ("b", 0, "B"), ("b", 1, "B"),
        ("c", 0, "X"),
    ]  # fmt: skip
    f = _funnel(rows, "ABC", mode="any")
    assert _journeys(f) == [2, 1, 1]
    # a meets C (day 0), A (day 1), B (day 2): 1 day between consecutive steps reached.
    assert f.loc[1, "median_seconds_from_previous"] == pytest.approx(DAY)


def test_conversion_window_is_counted_from_step_one():
    rows = [("a", 0, "A"), ("a", 5, "B"), ("a", 11, "C"), ("b", 0, "A"), ("b", 10, "B")]
    assert _journeys(_funnel(rows, "ABC", window_days=10)) == [2, 2, 0]
    assert _journeys(_funnel(rows, "ABC", window_days=11)) == [2, 2, 1]


def test_a_later_attempt_can_do_better_inside_the_window():
    rows = [("a", 0, "A"), ("a", 100, "A"), ("a", 110, "B")]
    f = _funnel(rows, "AB", JourneyQuery(collapse_repeats=False), window_days=90)
    assert _journeys(f) == [1, 1]
    assert f.loc[1, "median_seconds_from_previous"] == pytest.approx(10 * DAY)


def test_per_step_windows():
    rows = [("a", 0, "A"), ("a", 1, "B"), ("a", 9, "C"), ("b", 0, "A"), ("b", 3, "B"), ("b", 4, "C")]
    f = _funnel(rows, "ABC", step_windows_days=(2, 5))
    assert _journeys(f) == [2, 1, 0]
    f = _funnel(rows, "ABC", step_windows_days=(None, 8))
    assert _journeys(f) == [2, 2, 2]


def test_ties_keep_file_order_and_take_zero_seconds():
    rows = [("a", 0, "B"), ("a", 0, "A"), ("b", 0, "A"), ("b", 0, "B")]
    f = _funnel(rows, "AB")
    assert _journeys(f) == [2, 1]
    assert f.loc[1, "median_seconds_from_previous"] == 0


def test_exclusions_remove_journeys_between_step_one_and_their_last_step():
    rows = [
        ("a", 0, "A"), ("a", 1, "X"), ("a", 2, "B"),   # excluded (X between A and B)
        ("b", 0, "A"), ("b", 1, "B"), ("b", 2, "X"),   # completed before X: kept
        ("c", 0, "A"), ("c", 5, "X"),                  # not completed, X inside the window: excluded
        ("d", 0, "A"), ("d", 100, "X"),                # X after the window: kept
    ]  # fmt: skip
    f = _funnel(rows, "AB", exclusions=("X",))
    assert _journeys(f) == [2, 1]


def test_account_level_counts_any_member_completing_a_step():
    rows = [("c1", "acc", 0, "A"), ("c2", "acc", 1, "B"), ("c3", "solo", 0, "A")]
    cols = ("journey_id", "account_id", "timestamp", "activity")
    assert _journeys(_funnel(rows, "AB", columns=cols)) == [2, 0]
    assert _journeys(_funnel(rows, "AB", JourneyQuery(level="account"), columns=cols)) == [2, 1]


def test_breakdown_first_and_last_touch_with_missing_values():
    rows = [
        ("a", 0, "A", "ads"), ("a", 1, "B", "email"),
        ("b", 0, "A", "ads"),
        ("c", 0, "A", None), ("c", 1, "B", "email"),
    ]  # fmt: skip
    events, schema = events_of(log_frame(rows, ("journey_id", "timestamp", "activity", "channel")))
    first = compute_funnel_breakdown(events, schema, JourneyQuery(), FunnelSpec(("A", "B"), breakdown="channel"))
    by = {(r.breakdown, r.position): r.journeys for r in first.itertuples()}
    assert by == {("ads", 1): 2, ("ads", 2): 1, (NO_VALUE, 1): 1, (NO_VALUE, 2): 1}
    last = compute_funnel_breakdown(
        events, schema, JourneyQuery(), FunnelSpec(("A", "B"), breakdown="channel", attribution="last")
    )
    by = {(r.breakdown, r.position): r.journeys for r in last.itertuples()}
    assert by == {("email", 1): 2, ("email", 2): 2, ("ads", 1): 1, ("ads", 2): 0}
    # Values beyond top are added up as "(other)".
    top1 = compute_funnel_breakdown(events, schema, JourneyQuery(), FunnelSpec(("A", "B"), breakdown="channel"), top=1)
    assert set(top1["breakdown"]) == {"ads", OTHER_VALUES}


def test_dropped_journeys_lists_who_left_and_where():
    rows = [("a", 0, "A"), ("a", 1, "B"), ("b", 0, "A"), ("c", 0, "A"), ("c", 2, "B"), ("c", 3, "C")]
    events, schema = events_of(log_frame(rows))
    d = compute_dropped_journeys(events, schema, JourneyQuery(), FunnelSpec(("A", "B", "C")))
    assert d[["journey_key", "steps_reached", "last_step", "next_step"]].values.tolist() == [
        ["b", 1, "A", "B"],
        ["a", 2, "B", "C"],
    ]


def test_steps_no_event_has_are_refused_with_the_nearest_names():
    # A misspelled step would give an empty funnel that reads like a real drop-off.
    with pytest.raises(
        UnknownNameError, match="No touchpoint \\(funnel step\\) is named 'Deal Won'.*nearest: 'Deal won'"
    ):
        _funnel([("a", 0, "A"), ("a", 1, "Deal won")], ["A", "Deal Won"])
    with pytest.raises(UnknownNameError, match="exclusion step"):
        events, schema = events_of(log_frame([("a", 0, "A"), ("a", 1, "B")]))
        compute_funnel(events, schema, JourneyQuery(), FunnelSpec(("A", "B"), exclusions=("Nope",)))


def test_a_window_of_no_days_is_refused_on_every_path():
    events, schema = events_of(log_frame([("a", 0, "A"), ("a", 1, "B")]))
    for mode in ("ordered", "strict"):  # ordered without exclusions runs in memory, strict as a query
        with pytest.raises(BadInputError, match="window must be positive"):
            compute_funnel(events, schema, JourneyQuery(), FunnelSpec(("A", "B"), mode=mode, window_days=-5))


def test_a_step_of_another_level_is_refused_with_that_level():
    rows = [("a", 0, "Blog", "Awareness"), ("a", 1, "Demo", "Decision")]
    events, schema = events_of(log_frame(rows, ("journey_id", "timestamp", "activity", "stage")))
    with pytest.raises(UnknownNameError) as err:
        compute_funnel(events, schema, JourneyQuery(), FunnelSpec(("Awareness", "Demo")))
    assert str(err.value).startswith(
        "No touchpoint (funnel step) is named 'Awareness' in this dataset ('Awareness' is a stage: count the "
        "funnel by stage); nothing close; some that exist: 'Blog', 'Demo'"
    )
    with pytest.raises(UnknownNameError) as err:  # a name of no level: no level named
        compute_funnel(events, schema, JourneyQuery(), FunnelSpec(("Awarenes", "Demo")))
    assert "count the funnel by" not in str(err.value)
    by_stage = compute_funnel(events, schema, JourneyQuery(by="stage"), FunnelSpec(("Awareness", "Decision")))
    assert _journeys(by_stage) == [1, 1]


def test_a_step_no_journey_reaches_in_order_gives_zeros():
    f = _funnel([("a", 0, "B"), ("a", 1, "A")], ["A", "B"])
    assert _journeys(f) == [1, 0]
    f = _funnel([("a", 0, "A"), ("b", 0, "B")], ["B", "A"])
    assert _journeys(f) == [1, 0]


@pytest.mark.parametrize(
    "spec",
    [
        FunnelSpec(("A",)),
        FunnelSpec(("A", "B"), mode="sideways"),
        FunnelSpec(("A", "B"), window_days=0),
        FunnelSpec(("A", "B"), step_windows_days=(1, 2)),
        FunnelSpec(("A", "A"), mode="any"),
        FunnelSpec(("A", "B"), mode="any", step_windows_days=(1,)),
        FunnelSpec(("A", "B"), exclusions=("B",)),
    ],
)
def test_bad_specs_are_refused_with_a_message(spec):
    with pytest.raises(BadInputError):
        spec.validate()


def test_per_step_windows_of_the_wrong_length_are_refused_in_words():
    # Before: "expected 1 values".
    from analytics.funnel import parse_step_windows
    from core.errors import BadInputError

    with pytest.raises(BadInputError, match=r"expected 1 value\)"):
        parse_step_windows("7,7,7", 2)
    with pytest.raises(BadInputError, match=r"expected 2 values\)"):
        parse_step_windows("7", 3)
