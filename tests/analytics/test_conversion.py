"""Conversion, defined once: goal nodes (first visit, optional time limit), outcomes (last non-empty
value, converting at the last event), lost, levels, and names refused with the nearest real ones.
Every expected figure is worked out by hand from the tiny logs below."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from analytics.conversion import (
    Conversion,
    check_conversion,
    converted_journeys,
    goal,
    known_names,
    lost_journeys,
    nearest_names,
    outcomes_reached,
)
from analytics.engine import execute
from analytics.journeys import JourneyQuery, journey_keys
from core.errors import BadInputError, UnknownColumnError, UnknownNameError
from tests.factories import events_of, log_frame

COLUMNS = ("journey_id", "account_id", "timestamp", "activity", "stage", "channel", "outcome")
ROWS = [
    # j1: Web, Demo (day 3), Store (day 10), Demo again; outcome won at the end
    ("j1", "a1", 0, "Web", "Aware", "web", None),
    ("j1", "a1", 3, "Demo", "Consider", "sales", None),
    ("j1", "a1", 10, "Store", "Buy", "web", "won"),
    ("j1", "a1", 12, "Demo", "Consider", "sales", ""),
    # j2: Web, Demo, then lost; outcome lost then empty (the last non-empty one counts)
    ("j2", "a1", 1, "Web", "Aware", "web", None),
    ("j2", "a1", 2, "Demo", "Consider", "sales", "lost"),
    ("j2", "a1", 5, "Declined", "Buy", "email", None),
    # j3: straight to the store on day 200 (Store 200 days after its start)
    ("j3", "a2", 0, "Web", "Aware", "web", "open"),
    ("j3", "a2", 200, "Store", "Buy", "web", "won"),
    # j4: no outcome at all, never reaches anything but Web
    ("j4", "a3", 4, "Web", "Aware", "web", None),
]


@pytest.fixture
def log():
    return events_of(log_frame(ROWS, COLUMNS))


def _converted(events, schema, conversion, query=JourneyQuery()):
    c = converted_journeys(events, schema, query, conversion)
    keys = journey_keys(events, query)
    j = c.join(keys, "journey")
    frame = execute(j.select("journey_key", "reached_at", "reached_order"))
    return {r.journey_key: (r.reached_order, r.reached_at) for r in frame.itertuples()}


def test_goal_converts_at_the_first_goal_visit(log):
    events, schema = log
    got = _converted(events, schema, goal("Store"))
    assert sorted(got) == ["j1", "j3"]
    assert got["j1"][0] == 2  # the third event of j1 (0-based order)
    assert got["j3"][0] == 1


def test_several_goal_names_take_the_first_of_any(log):
    events, schema = log
    got = _converted(events, schema, goal("Store", "Demo"))
    assert sorted(got) == ["j1", "j2", "j3"]
    assert got["j1"][0] == 1  # Demo comes before Store in j1


def test_a_goal_can_be_a_stage_or_an_activity(log):
    events, schema = log
    assert sorted(_converted(events, schema, goal("Buy"))) == ["j1", "j2", "j3"]  # stage Buy
    assert sorted(_converted(events, schema, goal("Declined"))) == ["j2"]


def test_within_days_counts_from_the_journeys_first_event(log):
    events, schema = log
    # j1 reaches Store 10 days after its start, j3 200 days after.
    assert sorted(_converted(events, schema, goal("Store", within_days=10))) == ["j1"]
    assert sorted(_converted(events, schema, goal("Store", within_days=9.9))) == []
    assert sorted(_converted(events, schema, goal("Store", within_days=200))) == ["j1", "j3"]


def test_outcome_is_the_last_non_empty_value_and_converts_after_the_last_event(log):
    events, schema = log
    outcomes = execute(outcomes_reached(events, schema, JourneyQuery()).join(journey_keys(events), "journey"))
    by_key = dict(zip(outcomes["journey_key"], outcomes["outcome"], strict=True))
    assert by_key == {"j1": "won", "j2": "lost", "j3": "won"}  # j1's trailing "" is empty; j4 has none
    got = _converted(events, schema, Conversion(outcomes=("won",)))
    assert sorted(got) == ["j1", "j3"]
    assert got["j1"][0] == 4  # after j1's last event (orders 0..3)
    assert got["j3"][0] == 2


def test_account_level_converts_when_any_member_does(log):
    events, schema = log
    account = JourneyQuery(level="account")
    assert sorted(_converted(events, schema, goal("Store"), account)) == ["a1", "a2"]
    # a1's events in time order: j1 Web(0) j2 Web(1) j2 Demo(2, lost) j1 Demo(3) j2 Declined(5) j1 Store(10, won) j1 Demo(12, "")
    outcome = _converted(events, schema, Conversion(outcomes=("won",)), account)
    assert sorted(outcome) == ["a1", "a2"]
    assert outcome["a1"][0] == 7


def test_the_node_level_does_not_change_who_converts(log):
    events, schema = log
    for by in ("touchpoint", "stage", "channel"):
        assert sorted(_converted(events, schema, goal("Store"), JourneyQuery(by=by))) == ["j1", "j3"]


def test_linked_touchpoints_are_reached_by_their_label_and_their_activity(log):
    events, schema = log
    linked = JourneyQuery(touchpoint_of=(("Store", "Checkout"),), stage_of=(("Checkout", "Purchase"),))
    for name in ("Checkout", "Store", "Purchase"):
        assert sorted(_converted(events, schema, goal(name), linked)) == ["j1", "j3"], name


def test_filters_apply_before_conversion(log):
    events, schema = log
    assert sorted(_converted(events, schema, goal("Store"), JourneyQuery(channels=("sales",)))) == []
    early = JourneyQuery(date_to=date(2025, 1, 20))  # j3 reaches the store on day 200
    assert sorted(_converted(events, schema, goal("Store"), early)) == ["j1"]


def test_lost_never_includes_a_converted_journey(log):
    events, schema = log
    conv = Conversion(goals=("Store",), lost_goals=("Declined", "Demo"))
    lost = execute(lost_journeys(events, schema, JourneyQuery(), conv).join(journey_keys(events), "journey"))
    # j1 visits Demo but converts; j2 meets Demo (order 1) before Declined (order 2).
    assert lost["journey_key"].tolist() == ["j2"]
    assert lost["lost_name"].tolist() == ["Demo"]
    by_outcome = Conversion(outcomes=("won",), lost_outcomes=("lost",))
    lost = execute(lost_journeys(events, schema, JourneyQuery(), by_outcome).join(journey_keys(events), "journey"))
    assert lost["journey_key"].tolist() == ["j2"]


def test_not_defined_converts_nothing(log):
    events, schema = log
    assert _converted(events, schema, Conversion()) == {}
    assert Conversion().describe() == "not defined"


def test_describe_in_words():
    assert goal("Store").describe() == "reaching Store"
    assert goal("Store", "Sales rep", "Demo", within_days=90).describe() == (
        "reaching Store, Sales rep or Demo within 90 days of the journey's start"
    )
    assert Conversion(outcomes=("won",), lost_outcomes=("lost", "no decision")).describe() == (
        "outcome is won; lost: outcome is lost or no decision"
    )


def test_a_definition_is_one_kind_and_states_its_limits():
    with pytest.raises(BadInputError, match="not both"):
        Conversion(goals=("A",), outcomes=("won",))
    with pytest.raises(BadInputError, match="goal nodes"):
        Conversion(outcomes=("won",), within_days=30)
    with pytest.raises(BadInputError, match="positive"):
        goal("A", within_days=0)
    with pytest.raises(BadInputError, match="both converted and lost"):
        Conversion(goals=("A",), lost_goals=("A",))
    assert goal(" A ", "A", "") == goal("A")


def test_unknown_names_are_refused_with_the_nearest(log):
    events, schema = log
    known = known_names(events, schema)
    assert known.outcomes[:1] == ("won",)  # most frequent first
    with pytest.raises(UnknownNameError) as info:
        check_conversion(goal("store"), known, has_outcome=True)
    assert info.value.nearest[0] == "Store"
    assert "'store'" in str(info.value) and "'Store'" in str(info.value)
    with pytest.raises(UnknownNameError, match="nearest: 'won'"):
        check_conversion(Conversion(outcomes=("Won!",)), known, has_outcome=True)
    check_conversion(Conversion(goals=("Buy", "Declined")), known, has_outcome=True)


def test_outcome_definitions_need_an_outcome_column():
    events, schema = events_of(log_frame([("j", 0, "A")]))
    with pytest.raises(UnknownColumnError, match="outcome column"):
        execute(converted_journeys(events, schema, JourneyQuery(), Conversion(outcomes=("won",))))


def test_nearest_names_prefer_case_then_similarity():
    known = ["Deal won", "Demo", "Deal lost", "Pricing page"]
    assert nearest_names("Deal Won", known)[0] == "Deal won"
    assert nearest_names("Pricng page", known) == ["Pricing page"]
    assert nearest_names("zzz", known) == known[:3]


def test_reached_order_matches_the_account_order_column(log):
    events, schema = log
    q = replace(JourneyQuery(), level="account")
    frame = execute(converted_journeys(events, schema, q, goal("Declined")))
    assert frame["reached_order"].tolist() == [4]
