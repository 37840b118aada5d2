"""Multi-touch attribution: conversions credited to touchpoints (or channels) by five models.

Journeys come from :func:`analytics.journeys.journey_steps`, so they agree with every other view
(contact or account level, filters, repeats collapsed or kept, the map's touchpoints when linked).

What converts, and what gets credit
- A journey *converts* as the dataset's definition says (``conversion``,
  :func:`analytics.conversion.converted_journeys`, as in paths, friction, metrics and the outlook).
  Its *path* is its steps before the point of conversion: before its first goal event (goal nodes),
  or all its steps (an outcome converts after the journey's last event, so its credit total is
  the converted journeys). A journey that does not convert has all its steps as its path, or, when
  lost is defined, its steps before the point where it was lost.
- Steps are the journey core's nodes at the level credited (``by``): touchpoints, stages, or the
  events' channels (events without a channel, or a stage, take no step at that level). With repeats collapsed,
  consecutive steps on the same node are one (a channel path ``email, email, web`` is ``email, web``).
- A converting journey with no step before the goal has nothing to credit: it is left out of every
  model and counted in :attr:`AttributionResult.uncredited_conversions`.
- *Conversions* = converting journeys with a non-empty path. Every model hands out exactly that
  many conversions, so the five columns are comparable side by side.

Heuristic models, for a converting path ``t1 … tn`` (a label appearing twice earns twice):
- first touch: 1 to ``t1``;   last touch: 1 to ``tn``;   linear: ``1/n`` to each position;
- position-based (40/20/40): ``n = 1``: 1 to ``t1``; ``n = 2``: 0.5 each; ``n ≥ 3``: 0.4 to ``t1``,
  0.4 to ``tn`` and ``0.2 / (n − 2)`` to each position in between.

Markov-chain model (first order), see :func:`compute_attribution`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import Conversion, converted_journeys, lost_journeys
from analytics.engine import execute, execute_scalar
from analytics.journeys import (
    JOURNEY,
    JOURNEY_KEY,
    NODE,
    NODE_CODE,
    POSITION,
    JourneyQuery,
    join_per_journey,
    journey_steps,
    load_labels,
    order_column,
    stack,
)
from analytics.markov import START, START_CODE, AbsorbingChain, refuse_state_names, removal_effects
from analytics.schema import EventSchema, Role
from core.errors import ConversionUndefinedError, NotEnoughDataError, UnknownColumnError, UnknownNameError

AttributeBy = Literal["touchpoint", "stage", "channel"]
ATTRIBUTE_BY: tuple[str, ...] = get_args(AttributeBy)

CONVERSION = "(conversion)"
NULL = "(null)"
# The models, in shown order: (name, label, formula). ATTRIBUTION_MODELS, MODEL_LABELS and
# MODEL_FORMULAS are read off this one table.
_MODELS: tuple[tuple[str, str, str], ...] = (
    ("first_touch", "First touch", "1 conversion to the first touchpoint of each converting path"),
    ("last_touch", "Last touch", "1 conversion to the last touchpoint before the goal"),
    ("linear", "Linear", "1/n to each of the n touchpoints of the path"),
    (
        "position_based",
        "Position-based 40/20/40",
        "40% to the first, 40% to the last, 20% shared by those in between (n=1: all; n=2: half each)",
    ),
    (
        "markov",
        "Markov removal effect",
        "removal effect RE(t) = 1 − P(conversion without t) / P(conversion); credit = RE(t) / ΣRE × conversions",
    ),
)
ATTRIBUTION_MODELS: tuple[str, ...] = tuple(name for name, _, _ in _MODELS)
MODEL_LABELS: dict[str, str] = {name: label for name, label, _ in _MODELS}
MODEL_FORMULAS: dict[str, str] = {name: formula for name, _, formula in _MODELS}

# Column names of the path table.
POS = "pos"
LENGTH = "n"
NEXT = "next_code"
CONVERTED_COLUMN = "converted"


@dataclass(frozen=True)
class AttributionResult:
    """Credits of every model (``table``) and the figures they rest on.

    ``table`` columns: ``<by>`` (touchpoint or channel name), ``first_touch``, ``last_touch``,
    ``linear``, ``position_based``, ``removal_effect`` (a fraction 0..1), ``markov`` (conversions
    credited: removal effects normalised to ``conversions``), ``journeys`` (paths that visit it);
    ordered by ``markov``, then name.
    """

    table: pd.DataFrame
    by: AttributeBy
    conversion: Conversion
    journeys: int
    conversions: int
    uncredited_conversions: int
    conversion_probability: float
    transitions: pd.DataFrame


# Codes of the chain's end states (node codes are 0 or more; the start is markov.START_CODE).
CONVERSION_CODE, NULL_CODE = -2, -3


def _node_query(query: JourneyQuery, by: AttributeBy, schema: EventSchema) -> JourneyQuery:
    """The query whose nodes are credited: touchpoints, stages or channels."""
    if by == "channel" and not schema.has(Role.CHANNEL):
        raise UnknownColumnError("attribution by channel needs a channel column, and this dataset has none")
    return replace(query, by=by)


def attribution_paths(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    conversion: Conversion,
    by: AttributeBy = "touchpoint",
) -> Table:
    """The credited paths: one row per path position.

    Columns: ``journey, journey_key, pos`` (0-based), ``n`` (path length), ``node_code`` (of the
    touchpoint, or channel, at that position; name it with :func:`analytics.journeys.node_labels`
    of the same query), ``next_code`` (the node of the journey's next step, or null; after a path's
    last position it is whatever ended the path) and ``converted`` (bool). See the module docstring
    for what enters a path.

    Numbering, length and next step come from one window ordering per journey, taken before the
    cut (the cut keeps a prefix, so they hold for the path).
    """
    q = _node_query(query, by, schema)
    order = order_column(q)
    s = journey_steps(events, schema, q, columns=[JOURNEY_KEY, order], labelled=False, numbered=False)
    g = converted_journeys(events, schema, q, conversion)
    t = join_per_journey(s, g.select(JOURNEY, _goal=g.reached_order))
    if conversion.lost_defined:
        lo = lost_journeys(events, schema, q, conversion)
        t = join_per_journey(t, lo.select(JOURNEY, _lost=lo.reached_order))
        stop = t._goal.coalesce(t._lost)
    else:
        stop = t._goal
    inside = stop.isnull() | (t[order] < stop)
    w = ibis.window(group_by=JOURNEY, order_by=POSITION)
    node = t[NODE_CODE].cast("int64")
    t = t.mutate(
        _in=inside,
        **{
            POS: ibis.row_number().over(w).cast("int64"),
            LENGTH: inside.cast("int64").sum().over(w),
            NEXT: node.lead().over(w),
        },
    )
    t = t.filter(t._in)
    return t.select(JOURNEY, JOURNEY_KEY, NODE_CODE, POS, LENGTH, NEXT, **{CONVERTED_COLUMN: t._goal.notnull()})


CREDITS: tuple[str, ...] = ("first_touch", "last_touch", "linear", "position_based")
# ``target`` of the rows of :func:`path_summary` that carry a node's visiting journeys.
VISITS_CODE = -4


def path_summary(paths: Table) -> Table:
    """One pass over the paths: per (node, next state), the Markov chain's transition ``count``,
    the paths that start on the node (``entries``: start → node) and the four heuristic credits the
    node earns there (converting paths only); and per node, on a row whose ``target`` is
    ``VISITS_CODE``, ``journeys``: the paths that visit it.

    Columns ``source, target`` (node codes; the next state is the negative ``CONVERSION_CODE`` or
    ``NULL_CODE`` after a path's last node), ``count, entries, first_touch, last_touch, linear,
    position_based`` (null on the visits rows), ``journeys`` (null on the others). Summed over
    ``target``, the credit columns give each node's credits.
    """
    pos, length = paths[POS], paths[LENGTH]
    n = length.cast("float64")
    converted = paths[CONVERTED_COLUMN].cast("float64")
    position = ibis.cases(
        (length == 1, 1.0),
        (length == 2, 0.5),
        ((pos == 0) | (pos == length - 1), 0.4),
        else_=0.2 / (n - 2.0),
    )
    end = ibis.ifelse(paths[CONVERTED_COLUMN], ibis.literal(CONVERSION_CODE, "int64"), ibis.literal(NULL_CODE, "int64"))
    node = paths[NODE_CODE].cast("int64")
    nxt = ibis.ifelse(pos == length - 1, end, paths[NEXT])
    t = paths.select(
        source=node,
        target=nxt,
        _entry=(pos == 0).cast("int64"),
        _first=(pos == 0).cast("float64") * converted,
        _last=(pos == length - 1).cast("float64") * converted,
        _linear=converted / n,
        _position=position * converted,
    )
    moves = t.group_by(["source", "target"]).aggregate(
        count=t.count(),
        entries=t._entry.sum(),
        first_touch=t._first.sum(),
        last_touch=t._last.sum(),
        linear=t._linear.sum(),
        position_based=t._position.sum(),
    )
    visits = paths.group_by(source=node).aggregate(
        target=ibis.literal(VISITS_CODE, "int64"), journeys=paths[JOURNEY].nunique().cast("int64")
    )
    return stack([moves, visits])


def _goal_journeys(events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion) -> int:
    """Journeys of the analysis (after every filter) that convert."""
    every = replace(query, collapse_repeats=False)  # repeats do not change which journeys there are
    s = journey_steps(events, schema, every, columns=[], labelled=False, numbered=False)
    kept = s.select(JOURNEY).distinct()
    g = converted_journeys(events, schema, query, conversion)
    return int(execute_scalar(kept.filter(kept[JOURNEY].isin(g[JOURNEY])).count()) or 0)


def compute_attribution(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    conversion: Conversion,
    by: AttributeBy = "touchpoint",
) -> AttributionResult:
    """Conversions credited to each touchpoint (or channel) by five models, side by side.

    Paths, conversions and the four heuristic models: see the module docstring.

    Markov-chain model (first order, on the same paths):
    - States: a *start* state, one state per label (touchpoint or channel), and two absorbing
      states, *conversion* and *null*. Every path is ``start → t1 → … → tn → conversion`` when the
      journey converted, ``… → tn → null`` otherwise (journeys still open count as null: the model
      explains the conversions observed so far).
    - Transition probabilities are the observed transition counts out of each state divided by
      that state's total (maximum likelihood). ``P(conversion)`` is the probability that the
      chain, started at *start*, is absorbed in *conversion*: the solution of ``(I − Q) x = R``.
    - Loops and repeats: with repeats collapsed (the default) consecutive visits to the same label
      are one state visit, so the chain has no self-loops; with repeats kept, self-loops are
      counted (they change how long a journey stays, not where it is absorbed). Revisits after
      other touchpoints (A → B → A) are ordinary transitions, so loops are kept.
    - Removing a state ``t`` redirects every transition into ``t`` to *null* (a journey that would
      reach ``t`` is lost there). Removal effect ``RE(t) = 1 − P_without_t(conversion) / P(conversion)``,
      a fraction 0..1 (0 when nothing converts). Markov credit ``= RE(t) / Σ RE × conversions``.

    - Lost (optional, in the definition: touchpoints where a journey is lost, declined,
      cancelled..., or lost outcomes): a journey that has not converted ends there, its path cut
      before the point where it was lost and sent to *null*. Without it, a first-order chain can route the probability mass that passes
      through a lost touchpoint on to later touchpoints of other journeys, and a "declined" step
      would earn credit.

    Ties in ordering follow the journey core (timestamp, then file position).
    Refused: :class:`UnknownNameError` for another ``by``, :class:`ConversionUndefinedError` when
    conversion is not defined, :class:`NotEnoughDataError` when no journey converts.
    """
    if by not in ATTRIBUTE_BY:
        raise UnknownNameError.among(
            "attribution level", by, ATTRIBUTE_BY, message=f"attribution is by touchpoint, stage or channel, not {by!r}"
        )
    if not conversion.defined:
        raise ConversionUndefinedError("attribution")
    q = _node_query(query, by, schema)
    paths = attribution_paths(events, schema, query, conversion, by)
    goal_journeys = _goal_journeys(events, schema, q, conversion)
    if goal_journeys == 0:
        raise NotEnoughDataError(f"no journey converts ({conversion.describe()}) under these settings")

    names = load_labels(events, schema, q).set_index(NODE_CODE)[NODE].astype(str).to_dict()
    refuse_state_names(names.values(), (START, CONVERSION, NULL))
    names.update({START_CODE: START, CONVERSION_CODE: CONVERSION, NULL_CODE: NULL})
    summary = execute(path_summary(paths))
    summary = summary.astype({"source": "int64", "target": "int64"})
    visits = summary[summary["target"] == VISITS_CODE]
    summary = summary[summary["target"] != VISITS_CODE]
    heuristics = summary.groupby("source")[list(CREDITS)].sum()
    heuristics["journeys"] = visits.set_index("source")["journeys"].reindex(heuristics.index).fillna(0)
    heuristics.index = heuristics.index.map(names)
    entries = summary.groupby("source", as_index=False)["entries"].sum()
    entries = entries[entries["entries"] > 0]
    transitions = pd.concat(
        [
            summary[["source", "target", "count"]],
            pd.DataFrame({"source": START_CODE, "target": entries["source"], "count": entries["entries"]}),
        ],
        ignore_index=True,
    )
    transitions["source"] = transitions["source"].map(names)
    transitions["target"] = transitions["target"].map(names)
    transitions["count"] = transitions["count"].astype("int64")
    transitions = transitions.sort_values(["source", "target"], ignore_index=True)

    chain = AbsorbingChain.from_counts(transitions, absorbing=(CONVERSION, NULL), transient_first=(START,))
    # Every path starts once and converts at most once.
    journeys = int(transitions.loc[transitions["source"] == START, "count"].sum())
    conversions = int(transitions.loc[transitions["target"] == CONVERSION, "count"].sum())
    uncredited = goal_journeys - conversions
    probability = float(chain.absorption()[0, 0]) if chain.n_transient else 0.0
    effects = removal_effects(chain, START, CONVERSION) if chain.n_transient else pd.Series(dtype="float64")

    table = heuristics.join(effects.rename("removal_effect"), how="left")
    for column in ("first_touch", "last_touch", "linear", "position_based", "removal_effect"):
        table[column] = table[column].astype("float64").fillna(0.0)
    total_effect = table["removal_effect"].sum()
    table["markov"] = table["removal_effect"] / total_effect * conversions if total_effect > 0 else 0.0
    table["journeys"] = table["journeys"].astype("int64")
    table = table.rename_axis(by).reset_index()
    table[by] = table[by].astype(str)
    table = table.sort_values(["markov", by], ascending=[False, True], ignore_index=True)
    table = table[[by, "first_touch", "last_touch", "linear", "position_based", "removal_effect", "markov", "journeys"]]
    return AttributionResult(
        table=table,
        by=by,
        conversion=conversion,
        journeys=journeys,
        conversions=conversions,
        uncredited_conversions=uncredited,
        conversion_probability=probability,
        transitions=transitions,
    )


__all__ = [
    "CONVERSION",
    "ATTRIBUTION_MODELS",
    "MODEL_FORMULAS",
    "MODEL_LABELS",
    "OTHER_TOUCHPOINTS",
    "CREDIT_BARS",
    "compute_credit_bars",
    "NULL",
    "AttributionResult",
    "attribution_paths",
    "compute_attribution",
    "path_summary",
]


OTHER_TOUCHPOINTS = "Other"


CREDIT_BARS = 12  # the labels drawn apart in the credit chart; the rest are summed into one Other


def compute_credit_bars(table: pd.DataFrame, by: str, top_n: int = CREDIT_BARS) -> pd.DataFrame:
    """Long form of the side-by-side chart: ``<by>, model, conversions``.

    Labels no model credits are left out; of the others, the ``top_n`` with the most credit under
    any model are kept (ties: by name) and the rest summed into one ``Other`` row per model, so
    every model's total stays the conversions.
    """
    ranked = table.assign(_best=table[list(ATTRIBUTION_MODELS)].max(axis=1))
    ranked = ranked[ranked["_best"] > 0].sort_values(["_best", by], ascending=[False, True])
    if ranked.empty:
        return pd.DataFrame(columns=[by, "model", "conversions"])
    keep = ranked.head(top_n)
    rest = ranked.iloc[top_n:]
    wide = keep[[by, *ATTRIBUTION_MODELS]]
    if not rest.empty:
        other = pd.DataFrame([{by: OTHER_TOUCHPOINTS, **{m: float(rest[m].sum()) for m in ATTRIBUTION_MODELS}}])
        wide = pd.concat([wide, other], ignore_index=True)
    long = wide.melt(id_vars=[by], value_vars=list(ATTRIBUTION_MODELS), var_name="model", value_name="conversions")
    long["model"] = long["model"].map(MODEL_LABELS)
    return long
