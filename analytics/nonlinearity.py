"""Non-linearity: how often journeys move back to an earlier stage, and the loops they make.

Semantics
- Always at stage level (the query's ``by`` is replaced by ``stage``), repeats collapsed: a step is
  a visit to a stage.
- Stage order (:func:`resolve_stage_order`): "earlier" means earlier in, first, the map's stage order
  when the dataset is linked to a map (the service passes it), else an order the user gives; stages
  of the data that the order does not list come after it, in first-appearance order. First-appearance
  order: in each journey the stages are ranked by their first visit (0 for the first stage, 1 for
  the next new one...); stages are ordered by their mean rank over the journeys visiting them, ties
  by more journeys visiting, then by name.
- A backward move (a loop) is a transition from stage X to stage Y where Y is earlier than X.
  ``loop`` names the pair ``X → Y``.
- Share moving back: journeys with at least one backward move, over all journeys (of the query).
  Loops per journey: backward moves over all journeys (mean); ``loops_per_looping_journey`` is the
  same over the journeys that loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.journeys import JOURNEY, NODE_CODE, POSITION, JourneyQuery, journey_steps, load_labels
from analytics.schema import EventSchema
from analytics.transitions import name_codes
from core.errors import UnknownColumnError


def _stage_query(query: JourneyQuery) -> JourneyQuery:
    return replace(query, by="stage", collapse_repeats=True)


def compute_stage_order(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> pd.DataFrame:
    """First-appearance order of the stages: ``stage, mean_first_rank, journeys, rank`` (rank 0-based).

    In each journey, the stages are ranked by their first visit (0 for the stage it starts in, 1 for
    the next new stage, ...); ``mean_first_rank`` is a stage's mean rank over the journeys visiting
    it. Sorted by it, then journeys descending, then name.
    """
    q = replace(_stage_query(query), collapse_repeats=False)
    s = journey_steps(events, schema, q, columns=(), labelled=False, numbered=False)
    first = s.group_by([JOURNEY, NODE_CODE]).aggregate(first=s[POSITION].min())
    # A window over (journeys x stages) rows, not over the events.
    first = first.mutate(first_rank=ibis.rank().over(group_by=JOURNEY, order_by=first["first"]))
    agg = first.group_by(NODE_CODE).aggregate(mean_first_rank=first.first_rank.mean(), journeys=first.count())
    coded = execute(agg)
    out = name_codes(coded, load_labels(events, schema, q), {NODE_CODE: "stage"})
    out["journeys"] = out["journeys"].astype("int64")
    out = out.sort_values(["mean_first_rank", "journeys", "stage"], ascending=[True, False, True], kind="stable")
    out["rank"] = range(len(out))
    return out[["stage", "mean_first_rank", "journeys", "rank"]].reset_index(drop=True)


def resolve_stage_order(
    events: Table, schema: EventSchema, query: JourneyQuery, given: Sequence[str] | None = None
) -> list[str]:
    """The stage order used for "earlier": ``given`` (a map's or a user's order) first, then every
    other stage of the data in first-appearance order (:func:`compute_stage_order`)."""
    given = list(dict.fromkeys(given or ()))
    if given:
        known = load_labels(events, schema, _stage_query(query))["node"].tolist()
        if set(known) <= set(given):
            return given
    inferred = compute_stage_order(events, schema, query)["stage"].tolist()
    return given + [s for s in inferred if s not in set(given)]


def _moves(events: Table, schema: EventSchema, query: JourneyQuery, order: list[str]) -> tuple[Table, pd.DataFrame]:
    q = _stage_query(query)
    labels = load_labels(events, schema, q)
    rank = {name: i for i, name in enumerate(order)}
    code_rank = {int(c): rank[n] for c, n in zip(labels[NODE_CODE], labels["node"], strict=False) if n in rank}
    # Repeats kept: a repeat never moves back, so the backward moves are those of the collapsed steps
    # and one window function fewer runs.
    s = journey_steps(events, schema, replace(q, collapse_repeats=False), columns=(), labelled=False, numbered=False)
    r = s[NODE_CODE].substitute(code_rank, else_=ibis.null("int64")) if code_rank else ibis.null("int64")
    s = s.mutate(_rank=r)
    w = ibis.window(group_by=JOURNEY, order_by=POSITION)
    s = s.mutate(_next=s[NODE_CODE].lead().over(w), _next_rank=s._rank.lead().over(w))
    s = s.mutate(backward=(s._next_rank < s._rank).fill_null(False))
    return s, labels


def compute_nonlinearity(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    stage_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row: ``journeys, journeys_moving_back, share_moving_back, backward_moves, loops_per_journey,
    loops_per_looping_journey``. Exact semantics in the module docstring."""
    order = resolve_stage_order(events, schema, _stage_query(query), stage_order)
    s, _ = _moves(events, schema, query, order)
    per = s.group_by(JOURNEY).aggregate(moves=s.backward.cast("int64").sum())
    agg = per.aggregate(
        journeys=per.count(),
        journeys_moving_back=(per.moves > 0).cast("int64").sum(),
        backward_moves=per.moves.sum(),
    )
    row = execute(agg).iloc[0]
    journeys = int(row["journeys"] or 0)
    back = int(row["journeys_moving_back"] or 0)
    moves = int(row["backward_moves"] or 0)
    return pd.DataFrame(
        [
            {
                "journeys": journeys,
                "journeys_moving_back": back,
                "share_moving_back": back / journeys if journeys else float("nan"),
                "backward_moves": moves,
                "loops_per_journey": moves / journeys if journeys else float("nan"),
                "loops_per_looping_journey": moves / back if back else float("nan"),
            }
        ]
    )


def compute_top_loops(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    stage_order: Sequence[str] | None = None,
    top: int | None = 10,
) -> pd.DataFrame:
    """The most common backward moves: ``from_stage, to_stage, moves, journeys, share_of_journeys``.

    ``moves`` counts the backward transitions ``from_stage → to_stage``; ``journeys`` the distinct
    journeys making it at least once; ``share_of_journeys`` is that over all journeys of the query.
    Sorted by moves descending, then names; ``top`` rows (None: all).
    """
    order = resolve_stage_order(events, schema, _stage_query(query), stage_order)
    s, labels = _moves(events, schema, query, order)
    # Every journey's last step is not backward, so the (-1, -1) group counts every journey.
    none = ibis.literal(-1, "int64")
    s = s.mutate(
        _from=ibis.ifelse(s.backward, s[NODE_CODE].cast("int64"), none),
        _to=ibis.ifelse(s.backward, s._next.cast("int64"), none),
    )
    coded = execute(s.group_by(["_from", "_to"]).aggregate(moves=s.count(), journeys=s[JOURNEY].nunique()))
    rest = coded[coded["_from"] == -1]
    total_n = int(rest["journeys"].iloc[0]) if not rest.empty else 0
    coded = coded[coded["_from"] != -1]
    out = name_codes(coded, labels, {"_from": "from_stage", "_to": "to_stage"})
    out["moves"] = out["moves"].astype("int64")
    out["journeys"] = out["journeys"].astype("int64")
    out["share_of_journeys"] = out["journeys"] / total_n if total_n else float("nan")
    out = out.sort_values(["moves", "from_stage", "to_stage"], ascending=[False, True, True], kind="stable")
    if top is not None:
        out = out.head(top)
    return out[["from_stage", "to_stage", "moves", "journeys", "share_of_journeys"]].reset_index(drop=True)


def compute_node_stages(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> pd.DataFrame:
    """The stage of each touchpoint: ``node, stage, events``: the stage most of its events are in
    (linked stage, else the stage column), ties by stage name. Empty without stages."""
    from analytics.journeys import filter_events, stage_label, touchpoint_label

    t = filter_events(events, schema, query)
    stage = stage_label(t, schema, query)
    if stage is None:
        return pd.DataFrame(
            {"node": pd.Series(dtype="object"), "stage": pd.Series(dtype="object"), "events": pd.Series(dtype="int64")}
        )
    t = t.select(node=touchpoint_label(t, query), stage=stage).filter(ibis._.stage.notnull())
    counts = execute(t.group_by(["node", "stage"]).aggregate(events=t.count()))
    counts = counts.sort_values(["node", "events", "stage"], ascending=[True, False, True], kind="stable")
    out = counts.drop_duplicates("node").reset_index(drop=True)
    out["events"] = out["events"].astype("int64")
    return out[["node", "stage", "events"]]


def mark_directions(
    transitions: pd.DataFrame,
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    stage_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``transitions`` with a ``direction``: ``entry``, ``exit``, ``repeat`` (a self-loop), ``backward``
    (to an earlier stage: at stage level by the stage order; at touchpoint level by each touchpoint's
    stage, see :func:`compute_node_stages`), ``forward``, or ``""`` where no stage is known (channel
    level, or a touchpoint without stage)."""
    from analytics.transitions import ENTRY, EXIT

    out = transitions.copy()
    rank: dict[str, int] = {}
    if query.by in ("stage", "touchpoint"):
        try:
            order = resolve_stage_order(events, schema, _stage_query(query), stage_order)
        except UnknownColumnError:  # no stage at all: directions stay unknown
            order = []
        stage_rank = {s: i for i, s in enumerate(order)}
        if query.by == "stage":
            rank = stage_rank
        else:
            stages = compute_node_stages(events, schema, query)
            rank = {n: stage_rank[s] for n, s in zip(stages["node"], stages["stage"], strict=False) if s in stage_rank}

    def direction(source: str, target: str) -> str:
        if source == ENTRY:
            return "entry"
        if target == EXIT:
            return "exit"
        if source == target:
            return "repeat"
        if source in rank and target in rank:
            return "backward" if rank[target] < rank[source] else "forward"
        return ""

    out["direction"] = [direction(s, t) for s, t in zip(out["source"], out["target"], strict=False)]
    return out
