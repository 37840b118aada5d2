"""Property tests: each analysis against a plain-Python reference on generated logs (hypothesis).

Logs are small but nasty: ties on the timestamp, repeats, several contacts per account, missing
stages and outcomes. The references below follow the docstrings literally, one journey at a time.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.conversion import Conversion
from analytics.funnel import FunnelSpec, compute_funnel
from analytics.journeys import JourneyQuery
from analytics.nonlinearity import compute_nonlinearity
from analytics.outcomes import NO_OUTCOME, compute_outcomes
from analytics.paths import compute_variants
from analytics.sankey import END, compute_step_sankey
from analytics.timing import compute_time_in_stage
from analytics.transitions import ENTRY, EXIT, compute_transitions
from core.errors import UnknownNameError
from tests.factories import BASE_TIME, events_of

ACTIVITIES = ["A", "B", "C", "D"]
STAGE_OF = {"A": "S1", "B": "S1", "C": "S2", "D": "S3"}
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

event = st.tuples(
    st.integers(0, 3),  # journey
    st.integers(0, 12),  # day (small range: many ties)
    st.sampled_from(ACTIVITIES),
    st.sampled_from([None, "won", "lost"]),
    st.booleans(),  # stage missing?
)
logs = st.lists(event, min_size=1, max_size=30)
queries = st.builds(
    JourneyQuery,
    level=st.sampled_from(["contact", "account"]),
    by=st.sampled_from(["touchpoint", "stage"]),
    collapse_repeats=st.booleans(),
)


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "journey_id": [f"j{j}" for j, *_ in rows],
            "account_id": [f"acc{j // 2}" for j, *_ in rows],
            "timestamp": [BASE_TIME + timedelta(days=d) for _, d, *_ in rows],
            "activity": [a for _, _, a, _, _ in rows],
            "stage": [None if missing else STAGE_OF[a] for _, _, a, _, missing in rows],
            "outcome": [o for *_, o, _ in rows],
        }
    )


def ref_journeys(rows, query: JourneyQuery) -> dict[str, list[tuple]]:
    """Journey key → steps as (timestamp day, node, outcome), by the docstring of analytics.journeys."""
    out: dict[str, list[tuple]] = {}
    for file_row, (j, day, activity, outcome, missing) in enumerate(rows):
        key = f"acc{j // 2}" if query.level == "account" else f"j{j}"
        node = activity if query.by == "touchpoint" else (None if missing else STAGE_OF[activity])
        out.setdefault(key, []).append((day, file_row, node, outcome))
    result = {}
    for key, events in out.items():
        events.sort(key=lambda e: (e[0], e[1]))  # timestamp, then file order
        steps = [(d, n, o) for d, _, n, o in events if n is not None]
        if query.collapse_repeats:
            steps = [s for i, s in enumerate(steps) if i == 0 or steps[i - 1][1] != s[1]]
        if steps:
            result[key] = steps
    return result


@SETTINGS
@given(rows=logs, query=queries)
def test_transitions_match_reference(rows, query):
    events, schema = events_of(_frame(rows))
    expected: Counter = Counter()
    for steps in ref_journeys(rows, query).values():
        nodes = [ENTRY, *[n for _, n, _ in steps], EXIT]
        expected.update(zip(nodes, nodes[1:], strict=False))
    got = compute_transitions(events, schema, query)
    assert {(r.source, r.target): r["count"] for _, r in got.iterrows()} == dict(expected)


@SETTINGS
@given(rows=logs, query=queries)
def test_variants_match_reference(rows, query):
    events, schema = events_of(_frame(rows))
    journeys = ref_journeys(rows, query)
    expected = Counter(tuple(n for _, n, _ in steps) for steps in journeys.values())
    converted = Counter(tuple(n for _, n, _ in s) for s in journeys.values() if any(n in ("C", "S2") for _, n, _ in s))
    got = compute_variants(
        events, schema, query, top=None, conversion=Conversion(goals=("C",) if query.by == "touchpoint" else ("S2",))
    )
    assert dict(zip(got["path"], got["journeys"], strict=False)) == dict(expected)
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1], " > ".join(kv[0])))
    assert got["path"].tolist() == [p for p, _ in ranked]
    for path, rate in zip(got["path"], got["conversion_rate"], strict=False):
        assert rate == pytest.approx(converted[path] / expected[path])


@SETTINGS
@given(rows=logs, query=queries)
def test_outcomes_match_reference(rows, query):
    events, schema = events_of(_frame(rows))
    q = JourneyQuery(level=query.level, by=query.by)
    journeys = ref_journeys(rows, JourneyQuery(level=q.level, by=q.by, collapse_repeats=False))
    expected = Counter()
    for steps in journeys.values():
        given_outcomes = [o for _, _, o in steps if o is not None]
        expected[given_outcomes[-1] if given_outcomes else NO_OUTCOME] += 1
    got = compute_outcomes(events, schema, q)
    assert dict(zip(got["outcome"], got["journeys"], strict=False)) == dict(expected)


def ref_funnel(journeys, steps, mode, window_days):
    """Journeys reaching each step: best attempt per journey, by the docstring of analytics.funnel."""
    reached_counts = [0] * len(steps)
    for seq in journeys.values():
        best = 0
        for start, (t1, node, _) in enumerate(seq):
            if mode != "any" and node != steps[0]:
                continue
            if mode == "any" and node not in steps:
                continue
            within = [(i, n) for i, (t, n, _) in enumerate(seq) if i >= start and t <= t1 + window_days]
            if mode == "any":
                k = len({n for i, n in within if n in steps})
            elif mode == "ordered":
                k, pos = 1, start
                while k < len(steps):
                    nxt = next((i for i, n in within if i > pos and n == steps[k]), None)
                    if nxt is None:
                        break
                    k, pos = k + 1, nxt
            else:
                pool = [(i, n) for i, n in within if mode == "immediate" or n in steps]
                k = 1
                j = [i for i, _ in pool].index(start)
                while k < len(steps) and j + k < len(pool) and pool[j + k][1] == steps[k]:
                    # Every step between must also be inside the window: pool only holds those.
                    if mode == "immediate" and pool[j + k][0] != start + k:
                        break
                    k += 1
            best = max(best, k)
        for k in range(best):
            reached_counts[k] += 1
    return reached_counts


@SETTINGS
@given(
    rows=logs,
    query=queries,
    mode=st.sampled_from(["ordered", "strict", "immediate", "any"]),
    steps=st.lists(st.sampled_from(ACTIVITIES), min_size=2, max_size=3),
    window=st.sampled_from([2, 5, 90]),
)
def test_funnel_matches_reference(rows, query, mode, steps, window):
    q = JourneyQuery(level=query.level, by="touchpoint", collapse_repeats=query.collapse_repeats)
    if mode == "any":
        steps = list(dict.fromkeys(steps))
        if len(steps) < 2:
            steps = ["A", "B"]
    events, schema = events_of(_frame(rows))
    spec = FunnelSpec(tuple(steps), mode=mode, window_days=window)
    if not set(steps) <= {a for _, _, a, _, _ in rows}:  # a step no event has: refused, never 0 journeys
        with pytest.raises(UnknownNameError):
            compute_funnel(events, schema, q, spec)
        return
    got = compute_funnel(events, schema, q, spec)
    expected = ref_funnel(ref_journeys(rows, q), steps, mode, window)
    assert got["journeys"].tolist() == expected


@SETTINGS
@given(rows=logs, query=queries)
def test_nonlinearity_matches_reference(rows, query):
    order = ["S1", "S2", "S3"]
    events, schema = events_of(_frame(rows))
    q = JourneyQuery(level=query.level, by="stage")
    journeys = ref_journeys(rows, q)
    moves = [
        sum(order.index(b) < order.index(a) for (_, a, _), (_, b, _) in zip(s, s[1:], strict=False))
        for s in journeys.values()
    ]
    got = compute_nonlinearity(events, schema, q, stage_order=order).iloc[0]
    assert got["journeys"] == len(journeys)
    assert got["journeys_moving_back"] == sum(m > 0 for m in moves)
    assert got["backward_moves"] == sum(moves)


@SETTINGS
@given(rows=logs, query=queries, width=st.integers(2, 4))
def test_step_sankey_matches_reference(rows, query, width):
    events, schema = events_of(_frame(rows))
    expected: Counter = Counter()
    for steps in ref_journeys(rows, query).values():
        nodes = [n for _, n, _ in steps]
        for c in range(min(len(nodes), width) - 1):
            expected[(c, nodes[c], c + 1, nodes[c + 1])] += 1
        if len(nodes) < width:
            expected[(len(nodes) - 1, nodes[-1], len(nodes), END)] += 1
    got = compute_step_sankey(events, schema, query, steps=width, top_per_step=99)
    assert {(r.source_step, r.source, r.target_step, r.target): r.journeys for r in got.itertuples()} == dict(expected)


@SETTINGS
@given(rows=logs, query=queries)
def test_time_in_stage_matches_reference(rows, query):
    events, schema = events_of(_frame(rows))
    q = JourneyQuery(level=query.level, by="stage", collapse_repeats=True)
    durations: dict[str, list[float]] = {}
    for steps in ref_journeys(rows, q).values():
        for (t, node, _), (t_next, _, _) in zip(steps, steps[1:], strict=False):
            durations.setdefault(node, []).append((t_next - t) * 86400.0)
    got = compute_time_in_stage(events, schema, q).set_index("node")
    for node, values in durations.items():
        assert got.loc[node, "timed_visits"] == len(values)
        assert got.loc[node, "median_seconds"] == pytest.approx(statistics.median(values))
        assert got.loc[node, "p90_seconds"] == pytest.approx(float(np.quantile(values, 0.9)))
