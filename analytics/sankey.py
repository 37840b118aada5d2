"""Sankey data: the flow unrolled by step, and the stage flow with its backward links.

Both are true counts of journeys (never estimates) over :func:`analytics.journeys.journey_steps`.

Step Sankey (:func:`compute_step_sankey`)
- A column per step: column ``c`` holds each journey's step ``c`` (anchor ``start``, counted from
  the journey's first step, or from its first step on ``anchor_node``), or its ``c``-th step before
  the end (anchor ``end``: the last ``steps`` steps, the journey's last step, or its first step on
  ``anchor_node``, sits in the rightmost column). With an ``anchor_node``, journeys that never reach
  it are left out and the steps before (start) or after (end) it are cut.
- A link ``(c, a) → (c + 1, b)`` counts the journeys whose step in column ``c`` is ``a`` and in column
  ``c + 1`` is ``b``. The journeys in a column are exactly those long enough to reach it, so the
  flow into a node equals the flow out of it plus the journeys that end there.
- Top-N per column: in each column the ``top_per_step`` nodes with the most journeys keep their
  name (ties broken by name); the rest become ``OTHER`` (their counts added up).
- Ends (anchor ``start``): a journey whose last step lies in a column before the last one adds a
  link from that node to the end node in the next column: ``DROP_OFF`` when conversion is defined and
  the journey did not convert, ``CONVERTED`` when it did, ``END`` when conversion is not defined
  (``conversion``: the dataset's definition, :mod:`analytics.conversion`).

Stage flow (:func:`compute_stage_flow`)
- The transitions between stages (repeats collapsed, no entry or exit), each marked ``forward``
  when it goes to a later stage, ``backward`` when to an earlier one (a loop), by a stage order
  (see :mod:`analytics.nonlinearity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import NOT_DEFINED, Conversion, converted_journeys
from analytics.engine import execute
from analytics.journeys import (
    JOURNEY,
    LAST_STEP,
    NEXT_CODE,
    NODE,
    NODE_CODE,
    STEP,
    JourneyQuery,
    event_neighbours,
    journey_steps,
    load_labels,
    neighbours_stored,
)
from analytics.schema import ACTIVITY_CODE, JOURNEY_CODE, JOURNEY_EVENTS, NEXT_ACTIVITY_CODE, SEQ, EventSchema
from analytics.transitions import compute_transitions
from core.errors import BadInputError, UnknownNameError, nearest_names

OTHER = "Other"
DROP_OFF = "Drop-off"
CONVERTED = "Converted"
END = "End"
END_NODES = (DROP_OFF, CONVERTED, END)

Anchor = Literal["start", "end"]
SANKEY_COLUMNS = ["source_step", "source", "target_step", "target", "journeys"]


def _unfiltered_activities(query: JourneyQuery) -> bool:
    """True when every stored event of every contact journey is a step whose node is its activity."""
    return query == JourneyQuery(level="contact", by="touchpoint", collapse_repeats=query.collapse_repeats)


def _columns(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    steps: int,
    anchor: Anchor,
    anchor_node: str | None,
    labels: pd.DataFrame,
) -> Table:
    """Coded rows ``journey, col, node_code, next_code, last`` for the shown columns."""
    if (
        anchor_node is None
        and query.by == "touchpoint"
        and not query.collapse_repeats
        and neighbours_stored(events, schema, query)
    ):
        # Every event is a step: the stored neighbour facts give the next node and the last step.
        if _unfiltered_activities(query):
            # Read straight from the stored columns (a smaller query to build and compile).
            t = events
            col = (
                t[SEQ].cast("int64")
                if anchor == "start"
                else (steps - 1) - (t[JOURNEY_EVENTS] - 1 - t[SEQ]).cast("int64")
            )
            t = t.filter((col >= 0) & (col < steps))
            return t.select(
                **{JOURNEY: t[JOURNEY_CODE]},
                col=col.cast("int64"),
                node_code=t[ACTIVITY_CODE].cast("int32"),
                next_code=t[NEXT_ACTIVITY_CODE].cast("int32"),
            )
        n = event_neighbours(events, schema, query)
        col = n[STEP] if anchor == "start" else (steps - 1) - (n[LAST_STEP] - n[STEP])
        n = n.filter((col >= 0) & (col < steps))
        return n.select(
            JOURNEY, col=col.cast("int64"), node_code=n[NODE_CODE].cast("int32"), next_code=n[NEXT_CODE].cast("int32")
        )
    s = journey_steps(events, schema, query, columns=(), labelled=False)
    w = ibis.window(group_by=JOURNEY, order_by=STEP)
    s = s.mutate(_next=s[NODE_CODE].lead().over(w))
    if anchor == "end" and anchor_node is None:
        n = s.group_by(JOURNEY).aggregate(_n=s[STEP].max())
        s = s.join(n, JOURNEY)
    if anchor_node is not None:
        codes = labels.loc[labels[NODE] == anchor_node, NODE_CODE].astype(int).tolist()
        hit = s.filter(s[NODE_CODE].isin(codes or [-999]))
        first = hit.group_by(JOURNEY).aggregate(_a=hit[STEP].min())
        s = s.join(first, JOURNEY)
        if anchor == "start":
            s = s.filter(s[STEP] >= s._a).mutate(_col=s[STEP] - s._a)
        else:
            # The anchor sits in the rightmost column; steps after it are cut.
            s = s.filter(s[STEP] <= s._a).mutate(
                _col=(steps - 1) - (s._a - s[STEP]), _next=ibis.ifelse(s[STEP] == s._a, ibis.null("int32"), s._next)
            )
    elif anchor == "start":
        s = s.mutate(_col=s[STEP])
    else:
        s = s.mutate(_col=(steps - 1) - (s._n - s[STEP]))
    s = s.filter((s._col >= 0) & (s._col < steps))
    return s.select(
        JOURNEY, col=s._col.cast("int64"), node_code=s[NODE_CODE].cast("int32"), next_code=s._next.cast("int32")
    )


def compute_step_sankey(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    steps: int = 5,
    top_per_step: int = 8,
    anchor: Anchor = "start",
    anchor_node: str | None = None,
    conversion: Conversion = NOT_DEFINED,
) -> pd.DataFrame:
    """Links of the Sankey unrolled by step: ``source_step, source, target_step, target, journeys``.

    Steps are 0-based column numbers. Exact semantics in the module docstring. Sorted by source
    column, then journeys descending, then names.
    """
    if steps < 2:
        raise BadInputError("a step Sankey needs at least 2 steps", value=steps, expected="2 or more")
    if top_per_step < 1:
        raise BadInputError("top nodes per step must be at least 1", value=top_per_step, expected="1 or more")
    if anchor not in ("start", "end"):
        raise BadInputError("unknown Sankey anchor", value=anchor, expected="start or end")
    labels = load_labels(events, schema, query)
    if anchor_node is not None and anchor_node not in set(labels[NODE]):
        known = sorted(labels[NODE].astype(str))
        raise UnknownNameError(f"{query.by} (anchor node)", anchor_node, nearest_names(anchor_node, known))
    cols = _columns(events, schema, query, steps, anchor, anchor_node, labels)
    if conversion.defined and anchor == "start":
        conv = converted_journeys(events, schema, query, conversion).select(JOURNEY, _conv=ibis.literal(True))
        cols = cols.left_join(conv, JOURNEY).mutate(_conv=ibis._._conv.fill_null(False)).drop(f"{JOURNEY}_right")
    else:
        cols = cols.mutate(_conv=ibis.literal(False))
    agg = cols.group_by(["col", "node_code", "next_code", "_conv"]).aggregate(journeys=cols.count())
    coded = execute(agg)
    if coded.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c.endswith("step") or c == "journeys" else "object") for c in SANKEY_COLUMNS}
        )
    names = dict(zip(labels[NODE_CODE].astype(int).tolist(), labels[NODE].tolist(), strict=False))
    return _links(coded, names, steps, top_per_step, anchor, conversion.defined)


def _links(
    coded: pd.DataFrame, names: dict[int, str], steps: int, top_per_step: int, anchor: Anchor, defined: bool
) -> pd.DataFrame:
    """The Sankey's links from the coded counts (``col, node_code, next_code, _conv, journeys``):
    a few hundred rows, added up in plain dictionaries."""
    cols = coded["col"].astype("int64").tolist()
    sources = [names.get(int(c)) for c in coded["node_code"].tolist()]
    nexts = [None if pd.isna(n) else int(n) for n in coded["next_code"].tolist()]
    converted = [bool(v) for v in coded["_conv"].tolist()]
    journeys = coded["journeys"].astype("int64").tolist()

    # Top-N per column by journeys in that column (ties by name).
    volume: dict[tuple[int, str], int] = {}
    for c, name, n in zip(cols, sources, journeys, strict=True):
        if name is not None:
            volume[(c, name)] = volume.get((c, name), 0) + n
    kept: set[tuple[int, str]] = set()
    seen: dict[int, int] = {}
    for c, name in sorted(volume, key=lambda k: (k[0], -volume[k], k[1])):
        if seen.get(c, 0) < top_per_step:
            kept.add((c, name))
        seen[c] = seen.get(c, 0) + 1

    def shown(col: int, name: str | None) -> str:
        return name if name is not None and (col, name) in kept else OTHER

    last_col = steps - 1
    links: dict[tuple[int, str, int, str], int] = {}
    for c, name, nxt, conv, n in zip(cols, sources, nexts, converted, journeys, strict=True):
        if c >= last_col:
            continue
        if nxt is not None:
            target = shown(c + 1, names.get(nxt))
        elif anchor == "start":
            target = (CONVERTED if conv else DROP_OFF) if defined else END
        else:
            continue
        key = (c, shown(c, name), c + 1, target)
        links[key] = links.get(key, 0) + n
    ordered = sorted(links.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1], kv[0][3]))
    return pd.DataFrame(
        {
            "source_step": pd.Series([k[0] for k, _ in ordered], dtype="int64"),
            "source": pd.Series([k[1] for k, _ in ordered], dtype=None if ordered else "object"),
            "target_step": pd.Series([k[2] for k, _ in ordered], dtype="int64"),
            "target": pd.Series([k[3] for k, _ in ordered], dtype=None if ordered else "object"),
            "journeys": pd.Series([v for _, v in ordered], dtype="int64"),
        }
    )


def compute_stage_flow(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    stage_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Stage-to-stage transitions: ``source, target, journeys_count, direction``.

    Columns ``source, target, count, journeys, direction`` (``forward``/``backward``) and
    ``source_rank``/``target_rank`` (0-based positions in the stage order used). The query is taken
    at stage level with repeats collapsed; ``stage_order`` as in
    :func:`analytics.nonlinearity.resolve_stage_order`.
    """
    from analytics.nonlinearity import resolve_stage_order

    q = replace(query, by="stage", collapse_repeats=True)
    flow = compute_transitions(events, schema, q, include_entry_exit=False)
    order = resolve_stage_order(events, schema, q, stage_order)
    rank = {name: i for i, name in enumerate(order)}
    flow["source_rank"] = flow["source"].map(rank).astype("Int64")
    flow["target_rank"] = flow["target"].map(rank).astype("Int64")
    flow["direction"] = [
        "backward" if t < s else "forward" for s, t in zip(flow["source_rank"], flow["target_rank"], strict=False)
    ]
    return flow[["source", "target", "count", "journeys", "direction", "source_rank", "target_rank"]]
