"""Journey outlook on small logs worked out by hand, and on generated logs against a plain-Python reference."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.conversion import Conversion, goal
from analytics.journeys import JourneyQuery
from analytics.markov import START
from analytics.outlook import GOAL_STATE, STALE_STATE, compute_outlook
from core.errors import JourneyLensError
from tests.factories_attribution import SCHEMA, T0, events_from_frame, events_from_paths, frame_from_paths

# Closed: 1 A B Won, 2 A Lost, 3 B Won (all on 1 Jan 2024), 7 C (1 Jan, quiet since: stale).
# Open on 1 Mar 2024 (as_of = last event day, 30 active days): 5 A, 6 A B, 8 D.
LATE = T0 + timedelta(days=60)
PATHS = {
    "1": ["A", "B", "Won"],
    "2": ["A", "Lost"],
    "3": ["B", "Won"],
    "7": ["C"],
    "5": ["A"],
    "6": ["A", "B"],
    "8": ["D"],
}
STARTS = {"5": LATE, "6": LATE, "8": LATE + timedelta(hours=5)}


WON_OR_LOST = Conversion(goals=("Won",), lost_goals=("Lost",))


def _outlook(**kwargs):
    events = events_from_paths(PATHS, start=STARTS)
    lost = kwargs.pop("lost", ("Lost",))
    kwargs.setdefault("min_transitions", 1)
    conversion = Conversion(goals=("Won",), lost_goals=lost)
    return compute_outlook(events, SCHEMA, kwargs.pop("query", JourneyQuery()), conversion, **kwargs)


def test_probabilities_next_touchpoints_and_best_action_by_hand():
    # Chain from the closed journeys: start→A 2, start→B 1, start→C 1; A→B 1, A→lost:Lost 1;
    # B→goal 2; C→(no further activity) 1.
    # x_B = 1; x_A = 1/2 · x_B + 1/2 · 0 = 1/2; x_C = 0; from the start 2/4 · 1/2 + 1/4 · 1 + 1/4 · 0 = 1/2.
    # Journey 5 stands on A: probability 1/2, next B 50% or Lost 50%; best action B (x_B = 1), lift 1/2.
    # Journey 6 stands on B: probability 1; its only successor is the goal, so no action to suggest.
    # Journey 8 stands on D, which no closed journey ever left: probability unknown.
    result = _outlook()
    assert result.as_of == date(2024, 3, 1)
    assert result.counts == {"converted": 2, "lost": 1, "open": 3, "stale": 1}
    assert result.baseline_probability == pytest.approx(0.5)
    rows = result.table.set_index("journey_key")
    assert list(result.table["journey_key"]) == ["6", "5", "8"]  # ranked; unknown last
    assert rows.loc["6", "conversion_probability"] == pytest.approx(1.0)
    assert rows.loc["6", "next_touchpoints"] == "Won 100%"
    assert rows.loc["6", "next_best_action"] is None or not isinstance(rows.loc["6", "next_best_action"], str)
    assert rows.loc["5", "conversion_probability"] == pytest.approx(0.5)
    assert rows.loc["5", "next_touchpoints"] == "B 50%, Lost 50%"
    assert rows.loc["5", "next_best_action"] == "B"
    assert rows.loc["5", "lift"] == pytest.approx(0.5)
    assert rows.loc["5", "probability_after_action"] == pytest.approx(1.0)
    assert math.isnan(rows.loc["8", "conversion_probability"])
    assert rows.loc["5", "last_touchpoint"] == "A" and rows.loc["6", "steps"] == 2
    states = result.states.set_index("touchpoint")["conversion_probability"].to_dict()
    assert states == pytest.approx({"A": 0.5, "B": 1.0, "C": 0.0})
    counts = {(r.source, r.target): r.count for r in _transitions(result)}
    assert counts[(START, "A")] == 2 and counts[("A", "lost: Lost")] == 1 and counts[("C", STALE_STATE)] == 1
    assert counts[("B", GOAL_STATE)] == 2


def test_as_of_in_the_past_ignores_later_events_and_reopens_journeys():
    # As of 1 Jan 2024 the journeys of March have not started; journey 7 (C, that day) is open;
    # the chain: start→A 2, start→B 1; A→B 1, A→lost 1; B→goal 2. x_C is unknown (never left).
    result = _outlook(as_of=date(2024, 1, 1))
    assert result.counts == {"converted": 2, "lost": 1, "open": 1, "stale": 0}
    assert result.table["journey_key"].tolist() == ["7"]
    assert math.isnan(result.table.loc[0, "conversion_probability"])
    assert result.baseline_probability == pytest.approx(2 / 3 * 1 / 2 + 1 / 3)


def test_active_days_and_min_transitions():
    # With 100 active days, journey 7 (1 Jan) is still open on 1 Mar; the chain then has no C state.
    wide = _outlook(active_days=100)
    assert wide.counts["open"] == 4 and wide.counts["stale"] == 0
    # A→B was seen once: with min_transitions 2 there is no candidate action for journey 5.
    strict = _outlook(min_transitions=2).table.set_index("journey_key")
    assert not isinstance(strict.loc["5", "next_best_action"], str)
    assert math.isnan(strict.loc["5", "lift"])
    # Restricting actions to ones never seen after A leaves no candidate either.
    only_c = _outlook(actions=("C",)).table.set_index("journey_key")
    assert not isinstance(only_c.loc["5", "next_best_action"], str)


def test_errors_are_typed():
    with pytest.raises(JourneyLensError, match="no closed journey converts"):
        compute_outlook(events_from_paths({"1": ["A", "B"]}), SCHEMA, JourneyQuery(), goal("Won"))
    with pytest.raises(JourneyLensError, match="both converted and lost"):
        _outlook(lost=("Won",))
    with pytest.raises(JourneyLensError, match="needs conversion defined"):
        compute_outlook(events_from_paths({"1": ["A", "B"]}), SCHEMA, JourneyQuery(), Conversion())
    with pytest.raises(JourneyLensError, match="active_days"):
        _outlook(active_days=0)


def test_account_level_outlook():
    # Contacts x1 and x2 of account K: x1 A on 1 Mar, x2 B on 1 Mar → the account stands on B.
    paths = {**PATHS, "x1": ["A"], "x2": ["B"]}
    starts = {**STARTS, "x1": LATE, "x2": LATE + timedelta(hours=1)}
    accounts = {"x1": "K", "x2": "K"}
    events = events_from_paths(paths, start=starts, account_of=accounts)
    result = compute_outlook(events, SCHEMA, JourneyQuery(level="account"), WON_OR_LOST, min_transitions=1)
    rows = result.table.set_index("journey_key")
    assert rows.loc["K", "last_touchpoint"] == "B"
    assert rows.loc["K", "steps"] == 2
    assert rows.loc["K", "conversion_probability"] == pytest.approx(1.0)


def _transitions(result):
    chain = result.chain
    names = (*chain.transient, *chain.absorbing)
    for i, source in enumerate(chain.transient):
        for j, target in enumerate(names):
            if chain.counts[i, j]:
                yield type("T", (), {"source": source, "target": target, "count": int(chain.counts[i, j])})


# --------------------------------------------------------------------------- against a reference

labels = st.sampled_from(["A", "B", "C", "Won", "Lost"])


def _reference(paths: dict[str, list[str]], open_ids: set[str]) -> tuple[dict[str, float], dict[str, str]]:
    """Value iteration on a dictionary graph of the closed paths; returns x and each open journey's state."""
    graph: dict[str, Counter] = defaultdict(Counter)
    last: dict[str, str] = {}
    for jid, acts in paths.items():
        steps = [a for k, a in enumerate(acts) if k == 0 or acts[k - 1] != a]
        if "Won" in steps:
            seq, end = steps[: steps.index("Won")], "goal"
        elif "Lost" in steps:
            seq, end = steps[: steps.index("Lost")], "lost"
        elif jid in open_ids:
            last[jid] = steps[-1]
            continue
        else:
            seq, end = steps, "stale"
        chain = ["start", *seq, end]
        for a, b in zip(chain, chain[1:], strict=False):
            graph[a][b] += 1
    x = {s: 0.0 for s in graph} | {"goal": 1.0, "lost": 0.0, "stale": 0.0}
    for _ in range(100_000):
        delta = 0.0
        for a, outs in graph.items():
            total = sum(outs.values())
            new = sum(c / total * x[b] for b, c in outs.items())
            delta, x[a] = max(delta, abs(new - x[a])), new
        if delta < 1e-15:
            break
    return x, last


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    journeys=st.dictionaries(
        st.integers(0, 999).map(lambda i: f"j{i:03d}"),
        st.lists(labels, min_size=1, max_size=6),
        min_size=2,
        max_size=20,
    ),
    recent=st.sets(st.integers(0, 999).map(lambda i: f"j{i:03d}")),
)
def test_open_journey_probabilities_match_the_reference(journeys, recent):
    # Journeys in ``recent`` happen on the as-of day (open unless closed); the others 90 days before (stale).
    starts = {j: (T0 + timedelta(days=90) if j in recent else T0) for j in journeys}
    events = events_from_paths(journeys, start=starts, step=timedelta(minutes=1))
    open_ids = {j for j in journeys if j in recent}
    closed_reach_goal = any("Won" in a for a in journeys.values())
    as_of = date(2024, 3, 31)
    if not closed_reach_goal:
        with pytest.raises(JourneyLensError):
            compute_outlook(events, SCHEMA, JourneyQuery(), WON_OR_LOST, as_of=as_of)
        return
    result = compute_outlook(events, SCHEMA, JourneyQuery(), WON_OR_LOST, as_of=as_of, min_transitions=1)
    x, last = _reference(journeys, open_ids)
    table = result.table.set_index("journey_key")
    assert set(table.index) == set(last)
    for jid, state in last.items():
        got = table.loc[jid, "conversion_probability"]
        if state in x and state not in ("goal", "lost", "stale"):
            assert got == pytest.approx(x[state], abs=1e-9)
            action = table.loc[jid, "next_best_action"]
            if isinstance(action, str):
                assert table.loc[jid, "lift"] == pytest.approx(x[action] - x[state], abs=1e-9)
                assert table.loc[jid, "lift"] > 0
        else:
            assert math.isnan(got)
    assert result.baseline_probability == pytest.approx(x["start"], abs=1e-9)
    probabilities = result.table["conversion_probability"].dropna()
    assert ((probabilities >= -1e-12) & (probabilities <= 1 + 1e-12)).all()
    assert list(probabilities) == sorted(probabilities, reverse=True)


def test_probability_bands_count_every_open_journey():
    import pandas as pd

    from analytics.outlook import compute_probability_bands

    table = pd.DataFrame({"conversion_probability": [0.0, 0.05, 0.1, 0.3, 0.999, 1.0, float("nan")]})
    bands = compute_probability_bands(table)
    counts = dict(zip(bands["band"], bands["journeys"], strict=True))
    # [0, 10%) holds 0 and 0.05; 0.1 opens the second band; 1.0 closes the last one.
    assert counts["0–10%"] == 2 and counts["10–20%"] == 1 and counts["30–40%"] == 1
    assert counts["90–100%"] == 2 and counts["unknown"] == 1
    assert bands["journeys"].sum() == len(table)


# --------------------------------------------------------------------------- the open rule


def test_open_rule_reads_the_last_event_even_when_the_last_step_repeats():
    # Journey "r" reaches C on 1 Jan and repeats C on 1 Mar (its last event); journey "q" does the
    # same but its repeat is on 1 Jan too. Collapsed, r's last step starts on 1 Jan, yet its last
    # event is on 1 Mar: it is open as of 1 Mar with 30 active days, whether repeats collapse or not.
    paths = {**PATHS, "r": ["A", "C", "C"], "q": ["A", "C", "C"]}
    frame = frame_from_paths(paths, start=STARTS)
    frame.loc[
        (frame["journey_id"] == "r") & (frame.index == frame[frame["journey_id"] == "r"].index[-1]), "timestamp"
    ] = LATE + timedelta(hours=2)
    events = events_from_frame(frame)
    opened = {}
    for collapse in (True, False):
        result = compute_outlook(
            events, SCHEMA, JourneyQuery(collapse_repeats=collapse), WON_OR_LOST, min_transitions=1
        )
        opened[collapse] = set(result.table["journey_key"])
    assert opened[True] == opened[False] == {"5", "6", "8", "r"}


def test_no_open_journey_says_why():
    events = events_from_paths(PATHS, start=STARTS)
    # A year after the last event (1 Mar 2024): nothing is active; the reason names the last event.
    later = compute_outlook(events, SCHEMA, JourneyQuery(), WON_OR_LOST, as_of=date(2025, 3, 1))
    assert later.table.empty
    assert later.empty_reason == (
        "no journey had an event in the 30 days up to 2025-03-01; the last event before then is on "
        "2024-03-01: pick that as-of date, or at least 366 active days"
    )
    # Only closed journeys were active: they are named as such.
    closed = {"1": ["A", "B", "Won"], "2": ["A", "Lost"]}
    result = compute_outlook(events_from_paths(closed), SCHEMA, JourneyQuery(), WON_OR_LOST)
    assert result.table.empty
    assert result.empty_reason.startswith("every one of the 2 journeys with an event in the 30 days up to 2024-01-01")
    assert _outlook().empty_reason is None
