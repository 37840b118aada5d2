"""Multi-touch attribution: conversions credited to touchpoints (or channels) by five models.

Journeys come from :func:`analytics.journeys.journey_steps`, so they agree with every other view
(contact or account level, touchpoint or stage nodes, filters, repeats collapsed or kept).

What converts, and what gets credit
- A journey *converts* when one of its steps is the goal node. Its *path* is the steps before the
  first visit to the goal; a journey that never reaches the goal has all its steps as its path,
  or, when ``lost`` touchpoints are named, its steps before the first of them.
- The path is labelled by touchpoint (the journey's node) or by channel (the channel of each step;
  ``(no channel)`` where empty). When the query collapses repeats, consecutive equal labels of the
  path become one (so a channel path ``email, email, web`` is ``email, web``).
- A journey whose very first step is the goal has no touchpoint to credit: it is left out of every
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

from dataclasses import dataclass
from typing import Literal

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.errors import AnalyticsError, UnknownColumnError
from analytics.journeys import JOURNEY, JOURNEY_KEY, NODE, STEP, JourneyQuery, journey_steps
from analytics.markov import AbsorbingChain, removal_effects
from analytics.schema import EventSchema, Role

AttributeBy = Literal["touchpoint", "channel"]

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
NO_CHANNEL = "(no channel)"
MODELS: tuple[str, ...] = ("first_touch", "last_touch", "linear", "position_based", "markov")

# Column names of the path table.
LABEL = "label"
POS = "pos"
LENGTH = "n"
CONVERTED = "converted"

MODEL_FORMULAS: dict[str, str] = {
    "first_touch": "1 conversion to the first touchpoint of each converting path",
    "last_touch": "1 conversion to the last touchpoint before the goal",
    "linear": "1/n to each of the n touchpoints of the path",
    "position_based": "40% to the first, 40% to the last, 20% shared by those in between (n=1: all; n=2: half each)",
    "markov": "removal effect RE(t) = 1 − P(conversion without t) / P(conversion); credit = RE(t) / ΣRE × conversions",
}


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
    goal: str
    journeys: int
    conversions: int
    uncredited_conversions: int
    conversion_probability: float
    transitions: pd.DataFrame


def _label(steps: Table, schema: EventSchema, by: AttributeBy) -> ibis.Value:
    if by == "channel":
        if not schema.has(Role.CHANNEL):
            raise UnknownColumnError("attribution by channel needs a channel column, and this dataset has none")
        return steps.channel.fill_null(NO_CHANNEL)
    return steps[NODE]


def attribution_paths(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    goal: str,
    by: AttributeBy = "touchpoint",
    lost: tuple[str, ...] = (),
) -> Table:
    """The credited paths: one row per path position.

    Columns: ``journey, journey_key, pos`` (0-based), ``n`` (path length), ``label``, ``converted``
    (bool). See the module docstring for what enters a path.
    """
    s = journey_steps(events, schema, query)
    is_lost = s[NODE].isin(lost) if lost else ibis.literal(False)
    stops = s.group_by(JOURNEY).aggregate(
        _goal_step=s[STEP].min(where=s[NODE] == goal), _lost_step=s[STEP].min(where=is_lost)
    )
    t = s.inner_join(stops, JOURNEY)
    stop = t._goal_step.coalesce(t._lost_step)
    t = t.filter(stop.isnull() | (t[STEP] < stop))
    t = t.select(
        JOURNEY,
        JOURNEY_KEY,
        STEP,
        **{LABEL: _label(t, schema, by), CONVERTED: t._goal_step.notnull()},
    )
    if by == "channel" and query.collapse_repeats:
        w = ibis.window(group_by=JOURNEY, order_by=STEP)
        t = t.mutate(_prev=t[LABEL].lag().over(w))
        t = t.filter(t._prev.isnull() | (t._prev != t[LABEL])).drop("_prev")
    w = ibis.window(group_by=JOURNEY, order_by=STEP)
    t = t.mutate(**{POS: ibis.row_number().over(w), LENGTH: t.count().over(ibis.window(group_by=JOURNEY))})
    return t.drop(STEP)


def heuristic_credits(paths: Table) -> Table:
    """Per label: first touch, last touch, linear and position-based credits (converting paths
    only), and ``journeys``, the paths (converting or not) that visit it."""
    c = paths
    n = c[LENGTH].cast("float64")
    converted = c[CONVERTED]
    edge = (c[POS] == 0) | (c[POS] == c[LENGTH] - 1)
    position = ibis.cases(
        (c[LENGTH] == 1, 1.0),
        (c[LENGTH] == 2, 0.5),
        (edge, 0.4),
        else_=0.2 / (n - 2.0),
    )
    c = c.mutate(
        _first=(c[POS] == 0).cast("float64"),
        _last=(c[POS] == c[LENGTH] - 1).cast("float64"),
        _linear=1.0 / n,
        _position=position,
    )
    return c.group_by(LABEL).aggregate(
        first_touch=c._first.sum(where=converted),
        last_touch=c._last.sum(where=converted),
        linear=c._linear.sum(where=converted),
        position_based=c._position.sum(where=converted),
        journeys=c[JOURNEY].nunique(),
    )


def path_transitions(paths: Table) -> Table:
    """Counted transitions ``source, target, count`` of the Markov chain: start → first label,
    label → next label, last label → conversion or null."""
    w = ibis.window(group_by=JOURNEY, order_by=POS)
    nxt = paths[LABEL].lead().over(w)
    end = ibis.ifelse(paths[CONVERTED], ibis.literal(CONVERSION), ibis.literal(NULL))
    moves = paths.select(source=paths[LABEL], target=nxt.fill_null(end))
    entries = paths.filter(paths[POS] == 0).select(source=ibis.literal(START), target=paths[LABEL])
    both = moves.union(entries, distinct=False)
    return both.group_by(["source", "target"]).aggregate(count=both.count())


def _goal_figures(events: Table, schema: EventSchema, query: JourneyQuery, goal: str) -> tuple[int, int]:
    """Journeys that reach the goal, and those whose first step is the goal (nothing to credit)."""
    s = journey_steps(events, schema, query)
    per_journey = s.filter(s[NODE] == goal).group_by(JOURNEY).aggregate(_goal_step=s[STEP].min())
    totals = per_journey.aggregate(
        goal_journeys=per_journey.count(),
        uncredited=(per_journey._goal_step == 0).cast("int64").sum(),
    )
    row = execute(totals).iloc[0]
    return tuple(int(0 if pd.isna(row[k]) else row[k]) for k in ("goal_journeys", "uncredited"))  # type: ignore[return-value]


def compute_attribution(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    goal: str,
    by: AttributeBy = "touchpoint",
    lost: tuple[str, ...] = (),
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

    - ``lost`` (optional) names touchpoints where a journey is lost (declined, cancelled...): a
      journey that has not converted ends there, its path cut before the first lost touchpoint and
      sent to *null*. Without it, a first-order chain can route the probability mass that passes
      through a lost touchpoint on to later touchpoints of other journeys, and a "declined" step
      would earn credit.

    Ties in ordering follow the journey core (timestamp, then file position).
    Raises :class:`AnalyticsError` when no journey reaches ``goal``.
    """
    if by not in ("touchpoint", "channel"):
        raise AnalyticsError(f"attribution is by touchpoint or channel, not {by!r}")
    if goal in lost:
        raise AnalyticsError(f"the goal {goal!r} cannot also be a lost touchpoint")
    paths = attribution_paths(events, schema, query, goal, by, tuple(lost))
    goal_journeys, uncredited = _goal_figures(events, schema, query, goal)
    if goal_journeys == 0:
        raise AnalyticsError(f"no journey reaches the goal {goal!r}: choose one of the dataset's touchpoints")

    heuristics = execute(heuristic_credits(paths))
    transitions = execute(path_transitions(paths)).sort_values(["source", "target"], ignore_index=True)
    transitions["count"] = transitions["count"].astype("int64")

    chain = AbsorbingChain.from_counts(transitions, absorbing=(CONVERSION, NULL), transient_first=(START,))
    # Every path starts once and converts at most once.
    journeys = int(transitions.loc[transitions["source"] == START, "count"].sum())
    conversions = int(transitions.loc[transitions["target"] == CONVERSION, "count"].sum())
    probability = float(chain.absorption()[0, 0]) if chain.n_transient else 0.0
    effects = removal_effects(chain, START, CONVERSION) if chain.n_transient else pd.Series(dtype="float64")

    table = heuristics.set_index(LABEL)
    table = table.join(effects.rename("removal_effect"), how="left")
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
        goal=goal,
        journeys=journeys,
        conversions=conversions,
        uncredited_conversions=uncredited,
        conversion_probability=probability,
        transitions=transitions,
    )


def node_counts(events: Table, schema: EventSchema, query: JourneyQuery) -> pd.DataFrame:
    """Every node with the journeys that visit it and the journeys that end on it, most visited first.

    Columns ``node, journeys, ending_journeys``; used to offer goals (and lost nodes) to choose from.
    """
    s = journey_steps(events, schema, query)
    last = s.mutate(_last=s[STEP] == s[STEP].max().over(ibis.window(group_by=JOURNEY)))
    counts = last.group_by(NODE).aggregate(
        journeys=last[JOURNEY].nunique(), ending_journeys=last._last.cast("int64").sum()
    )
    out = execute(counts).rename(columns={NODE: "node"})
    out["node"] = out["node"].astype(str)
    return out.sort_values(["journeys", "node"], ascending=[False, True], ignore_index=True)


GOAL_WORDS = ("won", "approved", "purchase", "signed", "converted", "contract", "order", "paid", "hired", "closed")
LOST_WORDS = ("lost", "declined", "cancel", "reject", "churn", "no way", "not now", "disqualif")


def suggest_goal(nodes: pd.DataFrame) -> str | None:
    """A goal to offer first: the most visited node whose name says it is a win, else the node
    that ends the most journeys. ``nodes`` is :func:`node_counts`' frame."""
    if nodes.empty:
        return None
    for _, row in nodes.iterrows():
        name = str(row["node"]).lower()
        if any(w in name for w in GOAL_WORDS) and not any(w in name for w in LOST_WORDS):
            return str(row["node"])
    ranked = nodes.sort_values(["ending_journeys", "node"], ascending=[False, True])
    return str(ranked.iloc[0]["node"])


def suggest_lost(nodes: pd.DataFrame) -> list[str]:
    """Nodes whose name says a journey is lost there (declined, cancelled, churned...)."""
    return [str(n) for n in nodes["node"] if any(w in str(n).lower() for w in LOST_WORDS)]


__all__ = [
    "CONVERSION",
    "MODELS",
    "MODEL_FORMULAS",
    "MODEL_LABELS",
    "OTHER",
    "compute_credit_bars",
    "NULL",
    "START",
    "AttributionResult",
    "attribution_paths",
    "compute_attribution",
    "heuristic_credits",
    "node_counts",
    "path_transitions",
    "suggest_goal",
    "suggest_lost",
]


OTHER = "Other"
MODEL_LABELS: dict[str, str] = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "position_based": "Position-based 40/20/40",
    "markov": "Markov removal effect",
}


def compute_credit_bars(table: pd.DataFrame, by: str, top_n: int = 12) -> pd.DataFrame:
    """Long form of the side-by-side chart: ``<by>, model, conversions``.

    The ``top_n`` labels with the most credit under any model are kept (ties: by name); the rest
    are summed into one ``Other`` row per model, so every model's total stays the conversions.
    """
    if table.empty:
        return pd.DataFrame(columns=[by, "model", "conversions"])
    ranked = table.assign(_best=table[list(MODELS)].max(axis=1)).sort_values(["_best", by], ascending=[False, True])
    keep = ranked.head(top_n)
    rest = ranked.iloc[top_n:]
    wide = keep[[by, *MODELS]]
    if not rest.empty:
        other = pd.DataFrame([{by: OTHER, **{m: float(rest[m].sum()) for m in MODELS}}])
        wide = pd.concat([wide, other], ignore_index=True)
    long = wide.melt(id_vars=[by], value_vars=list(MODELS), var_name="model", value_name="conversions")
    long["model"] = long["model"].map(MODEL_LABELS)
    return long
