"""Attribution on generated logs, held against a second implementation in plain Python.

The reference below shares nothing with the product code: it orders events itself, builds paths
with Python lists, fits transition counts in dictionaries, and finds absorption probabilities by
value iteration (x ← P x until it stops moving) on a graph where a removed state's inbound edges
really are redirected to null. The product uses Ibis window queries, one NumPy factorisation and the
first-passage formula instead.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.attribution import compute_attribution
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.markov import AbsorbingChain, removal_effects
from core.errors import JourneyLensError
from tests.factories_attribution import SCHEMA, events_from_frame, frame_from_paths

GOAL = "G"
CONV, NULL, START = "conv", "null", "start"


# --------------------------------------------------------------------------- the reference


def reference_paths(journeys: dict[str, list[str]], collapse: bool, lost: str | None) -> list[tuple[list[str], bool]]:
    out = []
    for activities in journeys.values():
        steps = [a for k, a in enumerate(activities) if not collapse or k == 0 or activities[k - 1] != a]
        if GOAL in steps:
            cut = steps.index(GOAL)
            if cut == 0:
                continue  # nothing to credit
            out.append((steps[:cut], True))
        elif lost in steps:
            if steps.index(lost) > 0:
                out.append((steps[: steps.index(lost)], False))
        else:
            out.append((steps, False))
    return out


def reference_heuristics(paths: list[tuple[list[str], bool]]) -> dict[str, Counter]:
    credit: dict[str, Counter] = {m: Counter() for m in ("first_touch", "last_touch", "linear", "position_based")}
    for path, converted in paths:
        if not converted:
            continue
        n = len(path)
        credit["first_touch"][path[0]] += 1
        credit["last_touch"][path[-1]] += 1
        for k, label in enumerate(path):
            credit["linear"][label] += 1 / n
            if n == 1:
                w = 1.0
            elif n == 2:
                w = 0.5
            else:
                w = 0.4 if k in (0, n - 1) else 0.2 / (n - 2)
            credit["position_based"][label] += w
    return credit


def reference_graph(paths: list[tuple[list[str], bool]]) -> dict[str, Counter]:
    graph: dict[str, Counter] = defaultdict(Counter)
    for path, converted in paths:
        chain = [START, *path, CONV if converted else NULL]
        for a, b in zip(chain, chain[1:], strict=False):
            graph[a][b] += 1
    return graph


def value_iteration(graph: dict[str, Counter], removed: str | None = None) -> dict[str, float]:
    """P(absorbed in conv) from each state; edges into ``removed`` go to null instead."""
    edges: dict[str, dict[str, float]] = {}
    for a, outs in graph.items():
        total = sum(outs.values())
        redirected: Counter = Counter()
        for b, c in outs.items():
            redirected[NULL if b == removed else b] += c
        edges[a] = {b: c / total for b, c in redirected.items()}
    x = {s: 0.0 for s in edges} | {CONV: 1.0, NULL: 0.0}
    for _ in range(200_000):
        delta = 0.0
        for a, outs in edges.items():
            new = sum(p * x[b] for b, p in outs.items())
            delta = max(delta, abs(new - x[a]))
            x[a] = new
        if delta < 1e-15:
            break
    return x


def reference_removal_effects(graph: dict[str, Counter]) -> dict[str, float]:
    base = value_iteration(graph).get(START, 0.0)
    states = {s for s in graph if s != START}
    if base == 0:
        return dict.fromkeys(states, 0.0)
    return {s: 1 - value_iteration(graph, removed=s)[START] / base for s in states}


# --------------------------------------------------------------------------- generated logs

labels = st.sampled_from(["A", "B", "C", "L", GOAL])
journeys_strategy = st.dictionaries(
    keys=st.integers(0, 10_000).map(lambda i: f"j{i}"),
    values=st.lists(labels, min_size=1, max_size=7),
    min_size=1,
    max_size=25,
)


def _events(journeys: dict[str, list[str]]):
    frame = frame_from_paths(journeys, step=timedelta(minutes=5))
    return events_from_frame(frame)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys=journeys_strategy, collapse=st.booleans(), lost=st.sampled_from([None, "L"]))
def test_every_model_credits_exactly_the_conversions_and_matches_the_reference(journeys, collapse, lost):
    paths = reference_paths(journeys, collapse, lost)
    conversion = Conversion(goals=(GOAL,), lost_goals=(lost,) if lost else ())
    conversions = sum(converted for _, converted in paths)
    events = _events(journeys)
    query = JourneyQuery(collapse_repeats=collapse)
    if not any(GOAL in a for a in journeys.values()):
        with pytest.raises(JourneyLensError):
            compute_attribution(events, SCHEMA, query, conversion)
        return
    result = compute_attribution(events, SCHEMA, query, conversion)
    table = result.table.set_index("touchpoint")
    assert result.conversions == conversions
    assert result.journeys == len(paths)
    # The property: every model hands out exactly the conversions.
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov"):
        assert table[model].sum() == pytest.approx(conversions, abs=1e-9), model
    # Held against the reference implementation.
    expected = reference_heuristics(paths)
    for model, credit in expected.items():
        for label in table.index:
            assert table.loc[label, model] == pytest.approx(credit.get(label, 0.0), abs=1e-9), (model, label)
    graph = reference_graph(paths)
    reference = reference_removal_effects(graph)
    assert set(table.index) == set(reference)
    for label, effect in reference.items():
        assert table.loc[label, "removal_effect"] == pytest.approx(effect, abs=1e-7), label
    assert result.conversion_probability == pytest.approx(value_iteration(graph).get(START, 0.0), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(
        st.tuples(
            st.sampled_from([START, "a", "b", "c", "d"]),
            st.sampled_from(["a", "b", "c", "d", CONV, NULL]),
            st.integers(1, 9),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_first_passage_formula_matches_resolving_each_removed_chain(counts):
    """The one-factorisation removal formula against the definition: re-solve with edges redirected."""
    import pandas as pd

    frame = pd.DataFrame(counts, columns=["source", "target", "count"])
    # Every transient state needs a way out: give each an edge to null, as every fitted path ends absorbed.
    sources = set(frame["source"]) | (set(frame["target"]) - {CONV, NULL})
    frame = pd.concat([frame, pd.DataFrame([(s, NULL, 1) for s in sources], columns=frame.columns)], ignore_index=True)
    chain = AbsorbingChain.from_counts(frame, absorbing=(CONV, NULL), transient_first=(START,))
    if START not in chain.transient:
        return
    fast = chain.removal_probabilities(START, CONV)
    for s, name in enumerate(chain.transient):
        if name == START:
            continue
        q, r = chain.blocks()
        q, r = q.copy(), r.copy()
        r[:, 1] += q[:, s]  # transitions into the removed state go to null
        q[:, s] = 0.0
        slow = np.linalg.solve(np.eye(chain.n_transient) - q, r)[0, 0]
        assert fast[s] == pytest.approx(slow, abs=1e-12)
    effects = removal_effects(chain, START, CONV)
    assert ((effects >= 0) & (effects <= 1)).all()
