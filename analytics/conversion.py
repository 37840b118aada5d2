"""Conversion, defined once: what "converted" (and "lost") means for a dataset, and which journeys do.

A :class:`Conversion` is a property of the data and the business, not of a page: every analysis that
speaks of converting (summary, variants, step Sankey, time to convert, metrics, friction,
attribution, outlook) takes the same definition and asks :func:`converted_journeys` for the
journeys that convert.

Semantics
- Goal nodes (``goals``): a journey converts when one of its kept events (after the query's filters
  but ``through``, at the query's level) has one of the names as its activity, its touchpoint (after
  linking) or its stage (linked stage, else the ``stage`` column), see
  :func:`analytics.journeys.reaching`. It converts at its *first* such event: what comes after
  earns no credit. With ``within_days``, only when that first goal event lies at most that many days
  after the journey's first kept event (inclusive); a journey whose first goal visit comes later does
  not convert.
- Outcome (``outcomes``): the outcome of a journey is the last non-empty ``outcome`` value of its
  kept events (in the journey's event order: timestamp, then position in the file); it converts when
  that outcome is one of ``outcomes``, and it converts *after its last event* (every event of the
  journey comes before the conversion).
- Level: the journey is the query's (a contact's journey, or an account's time-ordered events: a
  conversion counts when any member completes it; the account's outcome is its last non-empty one).
  The node level shown (touchpoint, stage, channel) does not change which journeys convert.
- Lost (optional, ``lost_goals`` or ``lost_outcomes``): the same rules; a journey that converted is
  never lost.

:func:`converted_journeys` and :func:`lost_journeys` return one row per journey with the point of
conversion (or loss): ``reached_at`` (its time) and ``reached_order`` (events of the journey with a
smaller stored order came before it), the shape :func:`analytics.journeys.reaching` has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.journeys import (
    _ORDER,
    JOURNEY,
    NODE,
    STEP,
    TS,
    JourneyQuery,
    _with_journey,
    filter_events,
    journey_steps,
    load_labels,
    reaching,
)
from analytics.schema import EventSchema, Role
from core.errors import BadInputError, UnknownColumnError, UnknownNameError, nearest_names

REACHED_AT = "reached_at"
REACHED_ORDER = "reached_order"
LOST_NAME = "lost_name"  # which lost goal or outcome a lost journey met first


def _names(values: Iterable[str] | None) -> tuple[str, ...]:
    """Stripped, non-empty, unique names in their order."""
    return tuple(dict.fromkeys(str(v).strip() for v in (values or ()) if str(v).strip()))


def _or(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _days(value: float) -> str:
    return f"{value:g} day" + ("" if value == 1 else "s")


@dataclass(frozen=True)
class Conversion:
    """What converts (goal nodes or outcome values) and, optionally, what is lost. Frozen and
    hashable, so it keys caches. Semantics: the module docstring. ``Conversion()`` is "not defined"."""

    goals: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    within_days: float | None = None
    lost_goals: tuple[str, ...] = ()
    lost_outcomes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("goals", "outcomes", "lost_goals", "lost_outcomes"):
            object.__setattr__(self, name, _names(getattr(self, name)))
        if self.goals and self.outcomes:
            raise BadInputError(
                "conversion is either reaching goal nodes or a journey outcome, not both",
                value={"goals": list(self.goals), "outcomes": list(self.outcomes)},
                expected="goals or outcomes",
            )
        if self.lost_goals and self.lost_outcomes:
            raise BadInputError(
                "lost is either reaching some nodes or a journey outcome, not both",
                value={"lost_goals": list(self.lost_goals), "lost_outcomes": list(self.lost_outcomes)},
                expected="lost goals or lost outcomes",
            )
        if self.within_days is not None:
            if not self.goals:
                raise BadInputError(
                    "a time limit applies to goal nodes (an outcome converts at the journey's last event)",
                    value=self.within_days,
                    expected="--within-days with --goal",
                )
            if not (self.within_days > 0):
                raise BadInputError(
                    "the time limit must be a positive number of days", value=self.within_days, expected="days > 0"
                )
            object.__setattr__(self, "within_days", float(self.within_days))
        both = set(self.goals) & set(self.lost_goals) or set(self.outcomes) & set(self.lost_outcomes)
        if both:
            raise BadInputError(
                "a name cannot mean both converted and lost", value=sorted(both), expected="different names"
            )

    @property
    def defined(self) -> bool:
        return bool(self.goals or self.outcomes)

    @property
    def lost_defined(self) -> bool:
        return bool(self.lost_goals or self.lost_outcomes)

    @property
    def kind(self) -> str:
        """``goal``, ``outcome`` or ``none``."""
        return "goal" if self.goals else "outcome" if self.outcomes else "none"

    def describe(self) -> str:
        """The definition in words, e.g. "reaching Store or Sales rep within 90 days" or "outcome is won"."""
        if self.goals:
            text = "reaching " + _or(self.goals)
            if self.within_days is not None:
                text += f" within {_days(self.within_days)} of the journey's start"
        elif self.outcomes:
            text = "outcome is " + _or(self.outcomes)
        else:
            return "not defined"
        if self.lost_goals:
            text += "; lost: reaching " + _or(self.lost_goals)
        elif self.lost_outcomes:
            text += "; lost: outcome is " + _or(self.lost_outcomes)
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the CLI's ``definition``)."""
        return {
            "goals": list(self.goals),
            "outcomes": list(self.outcomes),
            "within_days": self.within_days,
            "lost_goals": list(self.lost_goals),
            "lost_outcomes": list(self.lost_outcomes),
        }

    def lost_names(self) -> tuple[str, ...]:
        return self.lost_goals or self.lost_outcomes


NOT_DEFINED = Conversion()


def for_one_run(saved: Conversion, goals: Sequence[str] = (), lost: Sequence[str] = ()) -> Conversion | None:
    """A one-run override of the ``saved`` definition (``analyze --goal/--lost``, ``report
    --goal/--lost``): ``goals`` replace what converts and keep the saved lost rule unless ``lost`` is
    given; ``lost`` alone keeps what converts; None when neither is given."""
    if not goals and not lost:
        return None
    if goals and lost:
        return Conversion(goals=tuple(goals), lost_goals=tuple(lost))
    if goals:
        return Conversion(goals=tuple(goals), lost_goals=saved.lost_goals, lost_outcomes=saved.lost_outcomes)
    return Conversion(goals=saved.goals, outcomes=saved.outcomes, within_days=saved.within_days, lost_goals=tuple(lost))


def goal(*names: str, within_days: float | None = None) -> Conversion:
    """Conversion on reaching any of ``names`` (a shorthand)."""
    return Conversion(goals=tuple(names), within_days=within_days)


def as_conversion(value: Conversion | str | Sequence[str] | None) -> Conversion:
    """A Conversion from a definition, one goal name or several (None: not defined)."""
    if value is None:
        return NOT_DEFINED
    if isinstance(value, Conversion):
        return value
    if isinstance(value, str):
        return goal(value)
    return goal(*value)


# --------------------------------------------------------------------------- which journeys


def _kept(events: Table, schema: EventSchema, query: JourneyQuery) -> Table:
    """The query's events (filters but ``through``) with ``journey`` and the journey's event order."""
    return _with_journey(filter_events(events, schema, query), query)


def _by_goal(
    events: Table, schema: EventSchema, query: JourneyQuery, names: tuple[str, ...], within_days: float | None
) -> Table:
    g = reaching(events, schema, query, names)
    if within_days is None:
        return g
    t = _kept(events, schema, query)
    start = t.group_by(JOURNEY).aggregate(_start=t[TS].min())
    g = g.join(start, JOURNEY)
    limit = ibis.interval(microseconds=int(round(within_days * 86_400 * 1_000_000)))
    return g.filter(g[REACHED_AT] <= g._start + limit).select(JOURNEY, REACHED_AT, REACHED_ORDER)


def _outcome_column(schema: EventSchema) -> str:
    if not schema.has(Role.OUTCOME):
        raise UnknownColumnError(
            "conversion by outcome needs an outcome column, and this dataset has none: define it by goal nodes instead"
        )
    return schema.column(Role.OUTCOME)


def outcomes_reached(events: Table, schema: EventSchema, query: JourneyQuery) -> Table:
    """One row per journey with an outcome, as conversion reads it: ``journey, outcome`` (its last
    non-empty value; :func:`analytics.outcomes.journey_outcomes` is every journey's, empty or not),
    ``reached_at`` (its last event's time) and ``reached_order`` (just after its last event)."""
    col = _outcome_column(schema)
    t = _kept(events, schema, query)
    value = t[col].cast("string")
    has = value.notnull() & (value.strip() != "")
    o = t.filter(has)
    last = o.group_by(JOURNEY).aggregate(outcome=o[col].cast("string").argmax(o[_ORDER]))
    end = t.group_by(JOURNEY).aggregate(**{REACHED_AT: t[TS].max(), REACHED_ORDER: (t[_ORDER].max() + 1).cast("int64")})
    return last.join(end, JOURNEY).select(JOURNEY, "outcome", REACHED_AT, REACHED_ORDER)


def converted_journeys(events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion) -> Table:
    """Journeys (at ``query.level``, after its filters but ``through``) that convert, with the point
    of conversion: ``journey, reached_at, reached_order``. Empty when the conversion is not defined."""
    if conversion.goals:
        return _by_goal(events, schema, query, conversion.goals, conversion.within_days)
    if conversion.outcomes:
        o = outcomes_reached(events, schema, query)
        return o.filter(o.outcome.isin(conversion.outcomes)).select(JOURNEY, REACHED_AT, REACHED_ORDER)
    t = _kept(events, schema, query)
    return t.filter(ibis.literal(False)).select(JOURNEY, **{REACHED_AT: t[TS], REACHED_ORDER: t[_ORDER].cast("int64")})


def lost_journeys(events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion) -> Table:
    """Journeys that are lost and did not convert: ``journey, reached_at, reached_order, lost_name``
    (the lost goal met first, ties to the first listed; or the journey's outcome). Empty without a
    lost definition."""
    conv = converted_journeys(events, schema, query, conversion).select(JOURNEY)
    if conversion.lost_goals:
        hits = []
        for k, name in enumerate(conversion.lost_goals):
            h = reaching(events, schema, query, (name,))
            hits.append(h.mutate(_rank=ibis.literal(k, "int64"), **{LOST_NAME: ibis.literal(name)}))
        u = hits[0]
        for h in hits[1:]:
            u = u.union(h, distinct=False)
        n = len(conversion.lost_goals)
        key = u[REACHED_ORDER].cast("int64") * n + u._rank
        first = u.group_by(JOURNEY).aggregate(_key=key.min())
        u = u.join(first, JOURNEY).filter(key == first._key)
        lost = u.select(JOURNEY, REACHED_AT, REACHED_ORDER, LOST_NAME)
    elif conversion.lost_outcomes:
        o = outcomes_reached(events, schema, query)
        o = o.filter(o.outcome.isin(conversion.lost_outcomes))
        lost = o.select(JOURNEY, REACHED_AT, REACHED_ORDER, **{LOST_NAME: o.outcome})
    else:
        t = _kept(events, schema, query)
        return t.filter(ibis.literal(False)).select(
            JOURNEY, **{REACHED_AT: t[TS], REACHED_ORDER: t[_ORDER].cast("int64"), LOST_NAME: t.activity}
        )
    return lost.filter(~lost[JOURNEY].isin(conv[JOURNEY]))


def converted_flags(events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion) -> Table:
    """One row per journey of the query's events (filters but ``through``): ``journey`` and
    ``converted`` (1 or 0)."""
    t = _kept(events, schema, query)
    journeys = t.select(JOURNEY).distinct()
    conv = converted_journeys(events, schema, query, conversion).select(JOURNEY, _c=ibis.literal(1, "int64"))
    j = journeys.left_join(conv, JOURNEY)
    return j.select(JOURNEY, converted=j._c.fill_null(0))


# --------------------------------------------------------------------------- suggestions


def node_counts(events: Table, schema: EventSchema, query: JourneyQuery) -> pd.DataFrame:
    """Every node with the journeys that visit it and the journeys that end on it, most visited first.

    Columns ``node, journeys, ending_journeys``; used to offer goals (and lost nodes) to choose from.
    """
    s = journey_steps(events, schema, query, columns=[])
    last = s.mutate(_last=s[STEP] == s[STEP].max().over(ibis.window(group_by=JOURNEY)))
    counts = last.group_by(NODE).aggregate(
        journeys=last[JOURNEY].nunique(), ending_journeys=last._last.cast("int64").sum()
    )
    out = execute(counts).rename(columns={NODE: "node"})
    out["node"] = out["node"].astype(str)
    return out.sort_values(["journeys", "node"], ascending=[False, True], ignore_index=True)


# Names that say "this is the win", most telling first: B2B CRMs ("Closed won"), loan and approval
# logs ("A_APPROVED"), shops ("Store", "Checkout"), services ("Kick-off" of an engagement), tickets ("Closed").
GOAL_WORDS = (
    "won",
    "approved",
    "purchase",
    "signed",
    "converted",
    "contract",
    "order",
    "paid",
    "hired",
    "store",
    "checkout",
    "sign-up",
    "signup",
    "subscribe",
    "kick-off",
    "kickoff",
    "closed",
)
LOST_WORDS = ("lost", "declined", "cancel", "reject", "churn", "no way", "not now", "disqualif")


def suggest_goal(nodes: pd.DataFrame, *, fallback: bool = True) -> str | None:
    """A goal to offer first: a node whose name says it is a win (the earliest word of
    :data:`GOAL_WORDS` it holds; ties: the most visited), else (with ``fallback``) the node that ends
    the most journeys. ``nodes`` is :func:`node_counts`' frame (``node, journeys, ending_journeys``)."""
    if nodes.empty:
        return None
    best: tuple[int, int, str] | None = None
    for row in nodes.itertuples():
        name = str(row.node).lower()
        if any(w in name for w in LOST_WORDS):
            continue
        rank = next((k for k, w in enumerate(GOAL_WORDS) if w in name), None)
        if rank is not None and (best is None or (rank, -int(row.journeys)) < best[:2]):
            best = (rank, -int(row.journeys), str(row.node))
    if best is not None:
        return best[2]
    if not fallback:
        return None
    ranked = nodes.sort_values(["ending_journeys", "node"], ascending=[False, True])
    return str(ranked.iloc[0]["node"])


def suggest_lost(names: Iterable[str]) -> list[str]:
    """The names that say a journey is lost there (declined, cancelled, churned...), in their order."""
    return [str(n) for n in names if any(w in str(n).lower() for w in LOST_WORDS)]


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class KnownNames:
    """Names a goal, a ``through`` node or a lost node can take in a dataset (as users see them)."""

    touchpoints: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.touchpoints, *self.stages, *self.activities)))


def known_names(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), *, outcome_limit: int = 200
) -> KnownNames:
    """Every touchpoint (linked label, else activity), activity and stage name of the dataset, and
    its most frequent outcome values."""
    base = replace(query, through=())
    touchpoints = load_labels(events, schema, replace(base, by="touchpoint"))[NODE].dropna()
    activities = execute(events.select("activity").distinct())["activity"].dropna()
    stages: pd.Series = pd.Series(dtype="object")
    if schema.has(Role.STAGE) or base.stage_of:
        stages = load_labels(events, schema, replace(base, by="stage"))[NODE].dropna()
    outcomes: list[str] = []
    if schema.has(Role.OUTCOME):
        col = schema.column(Role.OUTCOME)
        t = events.filter(events[col].notnull())
        counts = execute(t.group_by(col).aggregate(n=t.count()).order_by([ibis.desc("n"), col]).limit(outcome_limit))
        outcomes = [str(v) for v in counts[col] if str(v).strip()]
    return KnownNames(
        touchpoints=tuple(sorted(map(str, touchpoints))),
        activities=tuple(sorted(map(str, activities))),
        stages=tuple(sorted(map(str, stages))),
        outcomes=tuple(outcomes),
    )


def check_names(names: Iterable[str], known: Sequence[str], what: str) -> None:
    """Raise :class:`UnknownNameError` for the first of ``names`` not in ``known``."""
    allowed = set(known)
    for name in names:
        if name not in allowed:
            raise UnknownNameError(what, name, nearest_names(name, list(known)))


def check_conversion(conversion: Conversion, known: KnownNames, *, has_outcome: bool) -> None:
    """Refuse a definition that names a node or outcome the dataset does not have."""
    if (conversion.outcomes or conversion.lost_outcomes) and not has_outcome:
        raise UnknownColumnError(
            "conversion by outcome needs an outcome column, and this dataset has none: define it by goal nodes instead"
        )
    check_names(conversion.goals, known.nodes, "touchpoint, activity or stage")
    check_names(conversion.lost_goals, known.nodes, "touchpoint, activity or stage")
    check_names(conversion.outcomes, known.outcomes, "outcome")
    check_names(conversion.lost_outcomes, known.outcomes, "outcome")


__all__ = [
    "NOT_DEFINED",
    "REACHED_AT",
    "REACHED_ORDER",
    "Conversion",
    "KnownNames",
    "as_conversion",
    "check_conversion",
    "check_names",
    "converted_flags",
    "converted_journeys",
    "goal",
    "outcomes_reached",
    "known_names",
    "lost_journeys",
    "node_counts",
    "suggest_goal",
    "suggest_lost",
]
