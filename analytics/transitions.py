"""Transitions: how often each node is followed by each other node, with entry and exit.

Semantics (on :func:`analytics.journeys.journey_steps`, so level, filters, node and repeats are the
query's):
- A transition is a pair of consecutive steps ``(node at step i, node at step i+1)`` of one journey.
  With repeats kept, ``A → A`` self-loops count; with repeats collapsed there are none.
- Entry and exit are explicit nodes: every journey adds ``ENTRY → its first node`` and ``its last
  node → EXIT``. So the counts out of a node sum to the steps on that node, and the counts into it
  likewise: a journey of n steps gives n + 1 transitions.
- ``count`` is the number of such pairs (a journey passing A → B twice counts twice); ``journeys``
  the number of distinct journeys with at least one; ``share`` is ``count`` over all transitions out
  of the same source (the probability of the next node, given the source).
- Order: ``count`` descending, then source, then target (names), so ties are stable.
"""

from __future__ import annotations

from dataclasses import replace

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.file_facts import EXIT_CODE, read_file_facts
from analytics.journeys import (
    FIRST_PAIR,
    JOURNEY,
    NEXT_CODE,
    NODE,
    NODE_CODE,
    POSITION,
    STEP,
    JourneyQuery,
    event_neighbours,
    journey_steps,
    load_labels,
    neighbours_stored,
    whole_log_nodes,
)
from analytics.schema import EventSchema

ENTRY = "(entry)"
EXIT = "(exit)"
ENTRY_CODE = -1

TRANSITION_COLUMNS = ["source", "target", "count", "journeys", "share"]


def _coded_transitions(events: Table, schema: EventSchema, query: JourneyQuery, with_journeys: bool) -> Table:
    """One pass over the events (repeats kept): pairs (exit as ``EXIT_CODE``) with ``count``,
    ``journeys`` and ``entries`` (pairs whose source is a journey's first step; the entry transitions
    are rebuilt from them). Collapsing repeats only removes self-pairs, done afterwards.

    Where the import's neighbour facts answer the query (:func:`neighbours_stored`), the pairs are
    read from them: no window runs, and ``journeys`` sums each journey's first event of a pair."""
    if query.by == "touchpoint" and neighbours_stored(events, schema, query):
        n = event_neighbours(events, schema, query, pairs=with_journeys)
        n = n.mutate(
            source_code=n[NODE_CODE].cast("int32"),
            target_code=n[NEXT_CODE].cast("int32").fill_null(ibis.literal(EXIT_CODE, "int32")),
        )
        metrics = {"count": n.count(), "entries": (n[STEP] == 0).cast("int64").sum()}
        if with_journeys:
            metrics["journeys"] = n[FIRST_PAIR].cast("int64").sum()
        return n.group_by(["source_code", "target_code"]).aggregate(**metrics)
    s = journey_steps(
        events, schema, replace(query, collapse_repeats=False), columns=(), labelled=False, numbered=False
    )
    w = ibis.window(group_by=JOURNEY, order_by=POSITION)
    s = s.mutate(
        source_code=s[NODE_CODE].cast("int32"),
        target_code=s[NODE_CODE].lead().over(w).cast("int32").fill_null(ibis.literal(EXIT_CODE, "int32")),
        _first=s[NODE_CODE].lag().over(w).isnull(),
    )
    metrics = {"count": s.count(), "entries": s._first.cast("int64").sum()}
    if with_journeys:
        metrics["journeys"] = s[JOURNEY].nunique()
    return s.group_by(["source_code", "target_code"]).aggregate(**metrics)


def _stored_pairs(events: Table, schema: EventSchema, query: JourneyQuery) -> pd.DataFrame | None:
    """What :func:`_coded_transitions` returns (with ``journeys``), read from the pairs the import
    stored in the file (:mod:`analytics.file_facts`) where they answer ``query`` (the whole log at
    touchpoint level, :func:`analytics.journeys.whole_log_nodes`); else None."""
    nodes = whole_log_nodes(events, schema, query)
    if nodes is None:
        return None
    facts = read_file_facts(events)
    if facts is None:
        return None
    pairs = facts.pairs.copy()
    if nodes:
        relabel = {**nodes, EXIT_CODE: EXIT_CODE}
        for column in ("source_code", "target_code"):
            pairs[column] = pairs[column].map(relabel).astype("int32")
    return pairs


def _with_entries(coded: pd.DataFrame, include_entry_exit: bool, collapse_repeats: bool) -> pd.DataFrame:
    """Add the entry transitions (from the ``entries`` counts), drop self-pairs when repeats
    collapse, and drop the exits when asked."""
    entries = coded.groupby("source_code", as_index=False)["entries"].sum()
    entries = entries[entries["entries"] > 0]
    if collapse_repeats:
        coded = coded[coded["source_code"] != coded["target_code"]]
    if not include_entry_exit:
        return coded[coded["target_code"] != EXIT_CODE].drop(columns="entries")
    entry_rows = pd.DataFrame(
        {
            "source_code": ENTRY_CODE,
            "target_code": entries["source_code"],
            "count": entries["entries"],
            **({"journeys": entries["entries"]} if "journeys" in coded else {}),
        }
    )
    return pd.concat([coded.drop(columns="entries"), entry_rows], ignore_index=True)


def name_codes(frame: pd.DataFrame, labels: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Replace code columns by names: ``columns`` maps a code column to the name column it becomes.

    ``ENTRY_CODE``/``EXIT_CODE`` become ``ENTRY``/``EXIT``.
    """
    mapping = dict(zip(labels[NODE_CODE].astype(int), labels[NODE], strict=False))
    mapping.update({ENTRY_CODE: ENTRY, EXIT_CODE: EXIT})
    out = frame.copy()
    for code_col, name_col in columns.items():
        out[name_col] = out[code_col].map(lambda c: mapping.get(int(c)) if pd.notna(c) else None)
        if code_col != name_col:
            out = out.drop(columns=code_col)
    return out


def compute_transitions(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    include_entry_exit: bool = True,
    top: int | None = None,
) -> pd.DataFrame:
    """Counts of consecutive node pairs: columns ``source, target, count, journeys, share``.

    Exact semantics in the module docstring. ``top`` keeps the ``top`` largest rows (after sorting);
    ``share`` is computed before that cut, over every transition out of the source.
    """
    coded = _stored_pairs(events, schema, query)
    if coded is None:
        coded = execute(_coded_transitions(events, schema, query, with_journeys=True))
    coded = _with_entries(coded, include_entry_exit, query.collapse_repeats)
    if coded.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="object" if c in ("source", "target") else "float64") for c in TRANSITION_COLUMNS}
        )
    out = name_codes(coded, load_labels(events, schema, query), {"source_code": "source", "target_code": "target"})
    out["count"] = out["count"].astype("int64")
    out["journeys"] = out["journeys"].astype("int64")
    out["share"] = out["count"] / out.groupby("source")["count"].transform("sum")
    out = out.sort_values(["count", "source", "target"], ascending=[False, True, True], kind="stable")
    if top is not None:
        out = out.head(top)
    return out[TRANSITION_COLUMNS].reset_index(drop=True)


def compute_node_volumes(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> pd.DataFrame:
    """Per node: ``steps`` (steps on it), ``journeys`` (distinct journeys through it), ``entries``
    (journeys starting there) and ``exits`` (journeys ending there). Sorted by ``steps`` descending, name."""
    s = journey_steps(events, schema, query, columns=(), labelled=False, numbered=False)
    w = ibis.window(group_by=JOURNEY, order_by=POSITION)
    s = s.mutate(_next=s[NODE_CODE].lead().over(w), _prev=s[NODE_CODE].lag().over(w))
    agg = s.group_by(NODE_CODE).aggregate(
        steps=s.count(),
        journeys=s[JOURNEY].nunique(),
        entries=s._prev.isnull().cast("int64").sum(),
        exits=s._next.isnull().cast("int64").sum(),
    )
    coded = execute(agg)
    out = name_codes(coded, load_labels(events, schema, query), {NODE_CODE: NODE})
    for col in ("steps", "journeys", "entries", "exits"):
        out[col] = out[col].astype("int64")
    out = out.sort_values(["steps", NODE], ascending=[False, True], kind="stable")
    return out[[NODE, "steps", "journeys", "entries", "exits"]].reset_index(drop=True)
