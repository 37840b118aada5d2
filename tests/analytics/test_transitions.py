"""Transitions with explicit entry and exit, repeats, levels; node volumes."""

from __future__ import annotations

from analytics.journeys import JourneyQuery
from analytics.transitions import ENTRY, EXIT, compute_node_volumes, compute_transitions
from tests.factories import events_of, log_frame


def _counts(frame):
    return {(r.source, r.target): r.count for r in frame.itertuples()}


LOG = log_frame(
    [
        ("a", 0, "A"), ("a", 1, "B"), ("a", 2, "B"), ("a", 3, "C"),
        ("b", 0, "A"), ("b", 1, "C"),
        ("c", 0, "B"),
    ]
)  # fmt: skip


def test_counts_with_entry_and_exit_and_collapsed_repeats():
    events, schema = events_of(LOG)
    t = compute_transitions(events, schema)
    assert _counts(t) == {
        (ENTRY, "A"): 2, (ENTRY, "B"): 1,
        ("A", "B"): 1, ("B", "C"): 1, ("A", "C"): 1,
        ("C", EXIT): 2, ("B", EXIT): 1,
    }  # fmt: skip
    # A journey of n steps gives n + 1 transitions.
    assert t["count"].sum() == (3 + 2 + 1) + 3


def test_repeats_kept_give_self_loops():
    events, schema = events_of(LOG)
    t = compute_transitions(events, schema, JourneyQuery(collapse_repeats=False))
    assert _counts(t)[("B", "B")] == 1
    assert t["count"].sum() == 7 + 3


def test_without_entry_exit_and_share_and_order():
    events, schema = events_of(LOG)
    t = compute_transitions(events, schema, include_entry_exit=False)
    assert set(_counts(t)) == {("A", "B"), ("B", "C"), ("A", "C")}
    # Share: probability of the target given the source (A → B and A → C, one each).
    shares = {(r.source, r.target): r.share for r in t.itertuples()}
    assert shares[("A", "B")] == 0.5 and shares[("B", "C")] == 1.0
    # Ties in count are ordered by source, then target.
    assert list(zip(t.source, t.target)) == [("A", "B"), ("A", "C"), ("B", "C")]


def test_journeys_counts_distinct_journeys_and_top():
    frame = log_frame([("a", 0, "A"), ("a", 1, "B"), ("a", 2, "A"), ("a", 3, "B"), ("b", 0, "A"), ("b", 1, "B")])
    events, schema = events_of(frame)
    t = compute_transitions(events, schema)
    row = t[(t.source == "A") & (t.target == "B")].iloc[0]
    assert (row["count"], row["journeys"]) == (3, 2)
    top = compute_transitions(events, schema, top=1)
    assert len(top) == 1 and (top.iloc[0].source, top.iloc[0].target) == ("A", "B")


def test_account_level_transitions_interleave_contacts():
    frame = log_frame(
        [("c1", "x", 0, "Ad"), ("c2", "x", 1, "Demo"), ("c1", "x", 2, "Deal")],
        ("journey_id", "account_id", "timestamp", "activity"),
    )
    events, schema = events_of(frame)
    assert _counts(compute_transitions(events, schema, JourneyQuery(level="account"), include_entry_exit=False)) == {
        ("Ad", "Demo"): 1,
        ("Demo", "Deal"): 1,
    }
    assert _counts(compute_transitions(events, schema, include_entry_exit=False)) == {("Ad", "Deal"): 1}


def test_empty_result_has_the_columns():
    events, schema = events_of(LOG)
    from datetime import date

    t = compute_transitions(events, schema, JourneyQuery(date_from=date(2030, 1, 1)))
    assert t.empty and list(t.columns) == ["source", "target", "count", "journeys", "share"]


def test_node_volumes():
    events, schema = events_of(LOG)
    v = compute_node_volumes(events, schema).set_index("node")
    assert v.loc["B", "steps"] == 2 and v.loc["B", "journeys"] == 2
    assert v.loc["A", "entries"] == 2 and v.loc["C", "exits"] == 2 and v.loc["B", "exits"] == 1
