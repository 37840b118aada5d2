"""The neighbour facts stored at import give every analysis that reads them the same answer as the
window functions they stand for (a dataset imported before them, or a table on a cluster, has
only the windows)."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from analytics.conversion import goal
from analytics.engine import execute
from analytics.friction import compute_friction
from analytics.journeys import JourneyQuery, journey_steps, neighbours_stored
from analytics.sankey import compute_step_sankey
from analytics.schema import NEIGHBOUR_COLUMNS
from analytics.transitions import compute_transitions
from tests.factories import b2b_log, events_of
from tests.factories_metrics import planted_log

STAGE_OF = (("Blog post", "Awareness"), ("Demo", "Consideration"), ("Proposal", "Decision"))
PLANTED_STAGES = (
    ("Blog", "Awareness"),
    ("Demo", "Consideration"),
    ("Pricing page", "Conversion"),
    ("Help centre", "Service"),
)


@pytest.fixture(scope="module")
def logs():
    return {"b2b": events_of(b2b_log(journeys=120)), "planted": events_of(planted_log(journeys=200))}


def _both(events, schema, fn, query, **kwargs):
    assert neighbours_stored(events, schema, query)
    return fn(events, schema, query, **kwargs), fn(events.drop(*NEIGHBOUR_COLUMNS), schema, query, **kwargs)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) > 0
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize(
    ("log", "query", "kwargs"),
    [
        ("b2b", JourneyQuery(), {"conversion": goal("Contract signed")}),
        ("b2b", JourneyQuery(), {}),
        (
            "b2b",
            JourneyQuery(stage_of=STAGE_OF),
            {"conversion": goal("Decision"), "stage_order": ("Awareness", "Decision")},
        ),
        (
            "b2b",
            JourneyQuery(touchpoint_of=(("Blog post", "Content"),), outcomes=("won", "open")),
            {"conversion": goal("Demo")},
        ),
        ("planted", JourneyQuery(stage_of=PLANTED_STAGES), {"conversion": goal("Help centre")}),
    ],
    ids=["goal", "no goal", "map stages", "renamed, outcome filter", "planted"],
)
def test_friction(logs, log, query, kwargs):
    events, schema = logs[log]
    stored, windows = _both(events, schema, compute_friction, query, **kwargs)
    _same(stored.touchpoints, windows.touchpoints)
    _same(stored.stages, windows.stages)
    assert stored.stage_order == windows.stage_order


@pytest.mark.parametrize(
    "query",
    [
        JourneyQuery(),
        JourneyQuery(collapse_repeats=False),
        JourneyQuery(touchpoint_of=(("Demo", "Live demo"),), through=("Proposal",)),
    ],
    ids=["collapsed", "repeats kept", "renamed, through"],
)
def test_transitions(logs, query):
    events, schema = logs["b2b"]
    _same(*_both(events, schema, compute_transitions, query))


@pytest.mark.parametrize(
    "kwargs",
    [{"steps": 4}, {"steps": 3, "conversion": goal("Contract signed")}, {"steps": 3, "anchor": "end"}],
    ids=["start", "goal", "end"],
)
def test_step_sankey_with_repeats_kept(logs, kwargs):
    events, schema = logs["b2b"]
    _same(*_both(events, schema, compute_step_sankey, JourneyQuery(collapse_repeats=False), top_per_step=3, **kwargs))


def test_windows_run_where_the_facts_do_not_answer(logs):
    events, schema = logs["b2b"]
    assert not neighbours_stored(events, schema, JourneyQuery(level="account"))
    assert not neighbours_stored(events, schema, JourneyQuery(channels=("web",)))
    assert not neighbours_stored(events, schema, JourneyQuery(touchpoint_of=(("Demo", "X"), ("Proposal", "X"))))
    assert not neighbours_stored(events.drop(*NEIGHBOUR_COLUMNS), schema, JourneyQuery())


def test_relabelling_many_activities_takes_the_windows():
    """The relabelling is written into the query: past MAX_RELABELLED activities, windows are faster."""
    from analytics.journeys import MAX_RELABELLED
    from tests.factories import log_frame

    rename = JourneyQuery(touchpoint_of=(("T0001", "Renamed"),))
    for activities, stored in ((MAX_RELABELLED, True), (MAX_RELABELLED + 1, False)):
        rows = [(f"j{i // 4}", i % 4, f"T{i % activities:04d}") for i in range(4 * activities)]
        events, schema = events_of(log_frame(rows))
        assert neighbours_stored(events, schema, rename) is stored
        assert neighbours_stored(events, schema, JourneyQuery())  # no relabelling: always stored
        a = compute_transitions(events, schema, rename)
        _same(a, compute_transitions(events.drop(*NEIGHBOUR_COLUMNS), schema, rename))
        assert "Renamed" in set(a["source"])


MERGED = (("Blog post", "Content"), ("Webinar", "Content"), ("Online ad", "Content"))


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        (JourneyQuery(), True),
        (JourneyQuery(touchpoint_of=MERGED), True),  # merged touchpoints: the previous node, not activity
        (JourneyQuery(date_to=date(2025, 1, 20)), True),  # cuts journeys' ends only
        (JourneyQuery(outcomes=("won",), through=("Demo",)), True),
        (JourneyQuery(date_from=date(2025, 1, 10)), False),  # cuts starts: the first kept event's previous is gone
        (JourneyQuery(channels=("web",)), False),
        (JourneyQuery(level="account"), False),
        (JourneyQuery(by="stage"), False),
    ],
    ids=["plain", "merged", "date_to", "outcome, through", "date_from", "channel", "account", "stage"],
)
def test_collapsed_steps(logs, query, stored):
    """Repeats collapse on the stored previous activity where it is the previous kept event."""
    events, schema = logs["b2b"]
    expr = journey_steps(events, schema, query, columns=["journey_key"])
    assert ("LAG(" not in ibis.to_sql(expr).upper()) is stored
    got = execute(expr)
    want = execute(journey_steps(events.drop(*NEIGHBOUR_COLUMNS), schema, query, columns=["journey_key"]))
    keys = ["journey", "step"]
    _same(got.sort_values(keys), want.sort_values(keys)[got.columns])
