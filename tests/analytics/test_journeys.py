"""journey_steps: order and ties, repeats, levels, filters, node levels, relabelling, through."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from analytics.engine import execute
from analytics.journeys import (
    JourneyQuery,
    event_neighbours,
    journey_steps,
    journey_table,
    node_labels,
    reaching,
)
from analytics.schema import NEIGHBOUR_COLUMNS
from core.errors import UnknownColumnError
from tests.factories import b2b_log, events_of, log_frame, staged_frame


def _paths(events, schema, query=JourneyQuery()):
    s = execute(journey_steps(events, schema, query, columns=["journey_key"]))
    s = s.sort_values(["journey_key", "step"])
    return {k: list(g["node"]) for k, g in s.groupby("journey_key")}


def test_ties_keep_file_order_and_steps_are_zero_based():
    # B and A share a timestamp: the file order (B first) decides, on every run.
    frame = log_frame([("j1", 1, "C"), ("j1", 0, "B"), ("j1", 0, "A"), ("j2", 0, "X")])
    frame = frame.iloc[[0, 1, 2, 3]]
    events, schema = events_of(frame)
    steps = execute(journey_steps(events, schema, JourneyQuery(collapse_repeats=False), columns=["journey_key"]))
    j1 = steps[steps.journey_key == "j1"].sort_values("step")
    assert list(j1["node"]) == ["B", "A", "C"]
    assert list(j1["step"]) == [0, 1, 2]
    for _ in range(3):
        assert _paths(events, schema)["j1"] == ["B", "A", "C"]


def test_repeats_collapsed_by_default_and_kept_on_request():
    frame = log_frame([("j", 0, "A"), ("j", 1, "A"), ("j", 2, "B"), ("j", 3, "A"), ("j", 4, "A")])
    events, schema = events_of(frame)
    assert _paths(events, schema)["j"] == ["A", "B", "A"]
    assert _paths(events, schema, JourneyQuery(collapse_repeats=False))["j"] == ["A", "A", "B", "A", "A"]
    # A collapsed step keeps the first event's timestamp.
    s = execute(journey_steps(events, schema)).sort_values("step")
    assert [t.day for t in s["timestamp"]] == [1, 3, 4]


def test_account_level_is_the_time_ordered_union_of_its_contacts():
    frame = log_frame(
        [("c1", "acc", 0, "Ad"), ("c2", "acc", 1, "Demo"), ("c1", "acc", 2, "Pricing"), ("c3", "other", 0, "Ad")],
        ("journey_id", "account_id", "timestamp", "activity"),
    )
    events, schema = events_of(frame)
    paths = _paths(events, schema, JourneyQuery(level="account"))
    assert paths == {"acc": ["Ad", "Demo", "Pricing"], "other": ["Ad"]}
    assert _paths(events, schema)["c1"] == ["Ad", "Pricing"]


def test_account_level_ties_across_contacts_follow_the_file():
    frame = log_frame(
        [("c2", "acc", 0, "B"), ("c1", "acc", 0, "A")], ("journey_id", "account_id", "timestamp", "activity")
    )
    events, schema = events_of(frame)
    assert _paths(events, schema, JourneyQuery(level="account"))["acc"] == ["B", "A"]


def test_stage_level_uses_the_stage_column_and_drops_events_without_one():
    frame = staged_frame(
        {
            "j": [(0, "Ad", "Awareness"), (1, "Blog", "Awareness"), (2, "Demo", None), (3, "Deal", "Decision")],
        }
    )
    events, schema = events_of(frame)
    assert _paths(events, schema, JourneyQuery(by="stage"))["j"] == ["Awareness", "Decision"]
    # Without a stage column, stage level is refused with a clear error.
    events2, schema2 = events_of(frame.drop(columns="stage"))
    with pytest.raises(UnknownColumnError, match="stage"):
        execute(journey_steps(events2, schema2, JourneyQuery(by="stage")))


def test_linking_relabels_activities_to_touchpoints_and_stages():
    frame = staged_frame(
        {
            "j": [(0, "page_view_blog", "X"), (1, "blog_read", "X"), (2, "demo_booked", None), (3, "unknown", "Other")],
        }
    )
    events, schema = events_of(frame)
    q = JourneyQuery(
        touchpoint_of=(("page_view_blog", "Blog"), ("blog_read", "Blog"), ("demo_booked", "Demo")),
        stage_of=(("Blog", "Awareness"), ("Demo", "Consideration")),
    )
    # Two activities of one touchpoint collapse into one step; unlinked activities keep their name.
    assert _paths(events, schema, q)["j"] == ["Blog", "Demo", "unknown"]
    # Stage: the linked stage, else the stage column.
    assert _paths(events, schema, JourneyQuery(**{**q.__dict__, "by": "stage"}))["j"] == [
        "Awareness",
        "Consideration",
        "Other",
    ]


def test_channel_level():
    frame = log_frame(
        [("j", 0, "A", "web"), ("j", 1, "B", "web"), ("j", 2, "C", "email"), ("j", 3, "D", None)],
        ("journey_id", "timestamp", "activity", "channel"),
    )
    events, schema = events_of(frame)
    assert _paths(events, schema, JourneyQuery(by="channel"))["j"] == ["web", "email"]


def test_filters_dates_channels_roles_segments_outcomes():
    frame = log_frame(
        [
            ("a", 0, "A", "web", "champion", "EMEA", "won"),
            ("a", 5, "B", "email", "user", "EMEA", "won"),
            ("b", 1, "A", "web", "champion", "NA", None),
            ("b", 2, "C", "web", "champion", "NA", "lost"),
        ],
        ("journey_id", "timestamp", "activity", "channel", "role", "segment:region", "outcome"),
    )
    events, schema = events_of(frame, segments=["region"])
    assert _paths(events, schema, JourneyQuery(date_from=date(2025, 1, 3), date_to=date(2025, 1, 6))) == {
        "a": ["B"],
        "b": ["C"],
    }
    assert _paths(events, schema, JourneyQuery(date_to=date(2025, 1, 1))) == {"a": ["A"]}
    assert _paths(events, schema, JourneyQuery(channels=("email",))) == {"a": ["B"]}
    assert _paths(events, schema, JourneyQuery(roles=("champion",))) == {"a": ["A"], "b": ["A", "C"]}
    assert _paths(events, schema, JourneyQuery(segments=(("region", ("NA",)),))) == {"b": ["A", "C"]}
    # The outcome filter keeps whole journeys (b has "lost" on one event only).
    assert _paths(events, schema, JourneyQuery(outcomes=("lost",))) == {"b": ["A", "C"]}
    with pytest.raises(UnknownColumnError):
        execute(journey_steps(events, schema, JourneyQuery(segments=(("size", ("S",)),))))


def test_through_keeps_whole_journeys_reaching_a_touchpoint_or_a_stage():
    frame = staged_frame(
        {
            "a": [(0, "Ad", "Aw"), (1, "Demo", "Co")],
            "b": [(0, "Ad", "Aw")],
            "c": [(0, "Blog", "Aw"), (1, "Deal", "De")],
        }
    )
    events, schema = events_of(frame)
    assert _paths(events, schema, JourneyQuery(through=("Demo",))) == {"a": ["Ad", "Demo"]}
    assert set(_paths(events, schema, JourneyQuery(through=("De", "Demo")))) == {"a", "c"}
    r = execute(reaching(events, schema, JourneyQuery(), ("Aw",)))
    assert len(r) == 3


def test_node_codes_are_stable_and_labels_name_them():
    frame = log_frame([("j", 0, "Zeta"), ("j", 1, "Alpha"), ("k", 0, "Alpha")])
    events, schema = events_of(frame)
    labels = execute(node_labels(events, schema)).set_index("node_code")["node"].to_dict()
    coded = execute(journey_steps(events, schema, labelled=False, columns=()))
    assert set(coded.columns) == {"journey", "step", "position", "timestamp", "node_code"}
    assert sorted(labels[c] for c in coded["node_code"]) == ["Alpha", "Alpha", "Zeta"]
    # A date filter does not change the codes.
    filtered = execute(journey_steps(events, schema, JourneyQuery(date_from=date(2025, 1, 2)), columns=()))
    assert filtered["node"].tolist() == ["Alpha"]


def test_journey_table():
    frame = log_frame([("j", 0, "A"), ("j", 2, "B"), ("k", 1, "A")])
    events, schema = events_of(frame)
    t = execute(journey_table(events, schema)).set_index("journey_key")
    assert t.loc["j", "steps"] == 2 and t.loc["k", "steps"] == 1
    assert (t.loc["j", "last_timestamp"] - t.loc["j", "first_timestamp"]).days == 2


# --------------------------------------------------------------------------- event_neighbours


def _neighbours(events, schema, query=JourneyQuery(), **kwargs):
    n = execute(event_neighbours(events, schema, query, columns=["journey_key"], **kwargs))
    return n.sort_values(["journey_key", "step"]).reset_index(drop=True)


def _without_facts(events):
    return events.drop(*NEIGHBOUR_COLUMNS)


def test_neighbours_by_hand_from_stored_facts_and_from_windows():
    # j: A A B A, half a day apart; k: one event. Codes: A=0, B=1.
    frame = log_frame([("j", 0, "A"), ("j", 0.5, "A"), ("j", 1, "B"), ("j", 1.5, "A"), ("k", 0, "B")])
    events, schema = events_of(frame)
    for source in (events, _without_facts(events)):
        n = _neighbours(source, schema, pairs=True)
        j = n[n.journey_key == "j"]
        assert list(j["node_code"]) == [0, 0, 1, 0]
        assert j["next_code"].astype("Int64").tolist() == [0, 1, 0, pd.NA]
        assert j["gap_seconds"].tolist()[:3] == [43200.0, 43200.0, 43200.0] and pd.isna(j["gap_seconds"].iloc[3])
        assert j["consecutive"].tolist() == [False, True, False, False]
        assert j["first_visit"].tolist() == [True, False, True, False]
        assert j["first_pair"].tolist() == [True, True, True, True]  # A→A, A→B, B→A, A→(end)
        assert j["last_step"].tolist() == [3, 3, 3, 3]
        k = n[n.journey_key == "k"]
        assert (
            pd.isna(k["next_code"].iloc[0]) and k["first_visit"].tolist() == [True] and k["last_step"].tolist() == [0]
        )


def test_first_pair_marks_only_the_first_of_a_repeated_pair():
    frame = log_frame([("j", 0, "A"), ("j", 1, "B"), ("j", 2, "A"), ("j", 3, "B"), ("j", 4, "C")])
    events, schema = events_of(frame)
    for source in (events, _without_facts(events)):
        n = _neighbours(source, schema, pairs=True)
        assert n["first_pair"].tolist() == [True, True, False, True, True]  # A→B, B→A, A→B again, B→C, C→end


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        (JourneyQuery(), True),
        (JourneyQuery(touchpoint_of=(("Blog post", "Content"),)), True),  # one activity per touchpoint
        (JourneyQuery(touchpoint_of=(("Blog post", "Content"), ("Webinar", "Content"))), False),  # merged
        (JourneyQuery(level="account"), False),
        (JourneyQuery(channels=("web", "email")), False),  # drops events: the neighbours change
        (JourneyQuery(outcomes=("won",)), True),  # keeps whole journeys
        (JourneyQuery(through=("Demo",)), True),
    ],
    ids=["plain", "renamed", "merged", "account", "channels", "outcome", "through"],
)
def test_neighbours_from_stored_facts_equal_the_window_functions(query, stored):
    events, schema = events_of(b2b_log(journeys=80))
    columns = ["journey_key", "stage", "role"]
    expr = event_neighbours(events, schema, query, columns=columns, pairs=True)
    assert ("OVER" not in ibis.to_sql(expr)) is stored  # the stored facts are read, or windows run
    facts = execute(expr)
    windows = execute(event_neighbours(_without_facts(events), schema, query, columns=columns, pairs=True))
    keys = ["journey", "step"]
    facts, windows = (f.sort_values(keys).reset_index(drop=True) for f in (facts, windows))
    assert len(facts) > 100
    pd.testing.assert_frame_equal(facts, windows[facts.columns], check_dtype=False)


def test_a_column_that_does_not_exist_is_refused_with_the_nearest_real_one():
    from analytics.journeys import resolve_column

    _, schema = events_of(b2b_log(), segments=["region"])
    with pytest.raises(UnknownColumnError, match=r"no column 'regoin' .*; nearest: 'region'$"):
        resolve_column(schema, "regoin")
    with pytest.raises(UnknownColumnError, match=r"no column 'account_id' .*; nearest: 'account'$"):
        resolve_column(schema, "account_id")
    with pytest.raises(UnknownColumnError) as far:
        resolve_column(schema, "zzzz")
    assert "nearest" not in str(far.value)  # nothing close: no nearest offered
