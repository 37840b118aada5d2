"""Journey outlook: how likely each open journey is to reach the goal, where it goes next, and the
next best action.

Journeys come from :func:`analytics.journeys.journey_steps` (contact or account level, touchpoint
or stage nodes, repeats collapsed by default), cut at the end of the ``as_of`` day (UTC): events
after it are ignored (as a ``date_to`` filter), so an outlook can be replayed as of any past date
and checked against what happened next.

Each journey, as of that day, is exactly one of
- *converted*: it has converted, as the dataset's definition says (``conversion``,
  :func:`analytics.conversion.converted_journeys`, the same for every view);
- *lost*: it has not converted and is lost by the definition's lost nodes or outcomes
  (declined, cancelled…, :func:`analytics.conversion.lost_journeys`);
- *open*: neither, and its last event of any kind (whether or not repeats are collapsed, whether or
  not the event has a node at the query's level) lies within the last ``active_days`` days
  (``as_of_end − active_days days ≤ last event``);
- *stale*: neither, and no event for longer than that (a journey gone quiet; closed without the goal).

The chain (an absorbing, first-order Markov chain over the nodes) is fitted on the closed journeys
(converted, lost, stale). A closed journey's path is its steps before its point of conversion
(converted; with an outcome definition, up to its first visit to a touchpoint that marks
conversion, :func:`post_conversion_marks`, which then leads to the goal), before the point where it was lost (lost), or all its steps (stale); the path then
moves to the absorbing state *goal*, *lost: <name>* (the lost node reached first, or the lost
outcome) or *(no further activity)*, respectively. A
*start* state leads into every path's first node. Transition probabilities are counts out of a
state over that state's total.

Two models. The *learned* one (the default, :mod:`analytics.outlook_model`: calibrated gradient
boosting on the whole journey so far, a random forest for the next touchpoints, actions among
similar journeys, factors in words) fills ``conversion_probability``, ``next_touchpoints``,
``next_best_action``, ``lift``, ``support``, ``probability_after_action`` and ``factors``. The
*chain* is its baseline: its probability is always in ``markov_probability``, and with
``model="markov"``, or where the learned model has too little to learn from (``model_note`` says
so), it fills every column as follows.

For an open journey standing on node ``s`` (its last step), by the chain:
- ``conversion_probability`` = probability that the chain, started in ``s``, is absorbed in *goal*
  (solve ``(I − Q) x = R``); empty when no closed journey ever left ``s`` (nothing to learn from);
- ``next_touchpoints``: the most likely next states from ``s`` with their probabilities;
- ``next_best_action``: among the nodes that closed journeys moved to from ``s`` at least
  ``min_transitions`` times (neither ``s``, the goal, a lost node nor a touchpoint that marks conversion; restricted to ``actions``
  when given), the node ``t`` with the highest ``x[t]``, i.e. the visit that raises the
  probability most; ``lift = x[t] − x[s]``; ``support`` = the transitions ``s → t`` seen. Ties:
  more observed transitions, then name. Empty when no candidate raises the probability.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import LOST_NAME, REACHED_ORDER, Conversion, converted_journeys, lost_journeys
from analytics.engine import execute, execute_scalar
from analytics.journeys import (
    JOURNEY,
    JOURNEY_KEY,
    NODE,
    NODE_CODE,
    POSITION,
    TS,
    JourneyQuery,
    filter_events,
    join_per_journey,
    journey_steps,
    last_event_times,
    load_labels,
    order_column,
    stack,
)
from analytics.markov import START, START_CODE, AbsorbingChain, refuse_state_names, top_transitions
from analytics.names import OUTLOOK_ACTIVE_DAYS, OUTLOOK_MIN_TRANSITIONS
from analytics.outlook_model import (
    JourneyLog,
    LearnedOutlook,
    best_actions,
    collapse_steps,
    compute_factors,
    factors_text,
    fit_learned,
    prefix_features,
)
from analytics.schema import EventSchema, Role
from core.errors import BadInputError, ConversionUndefinedError, NotEnoughDataError, UnknownNameError

GOAL_STATE = "(goal)"
STALE_STATE = "(no further activity)"
LOST_PREFIX = "lost: "
CONVERTS = "(converts)"


def goal_label(conversion: Conversion) -> str:
    """How converting is named among a journey's likely next steps: the goal node when there is one,
    else "(converts)". Being lost is named by the lost goal or outcome (``conversion.lost_names()``)."""
    return conversion.goals[0] if len(conversion.goals) == 1 else CONVERTS


DEFAULT_ACTIVE_DAYS = OUTLOOK_ACTIVE_DAYS
DEFAULT_MIN_TRANSITIONS = OUTLOOK_MIN_TRANSITIONS
NEXT_SHOWN = 3

STATUS = "status"
OUTLOOK_MODELS = ("learned", "markov")
OUTLOOK_COLUMNS = (
    "journey",
    "journey_key",
    "last_touchpoint",
    "last_timestamp",
    "steps",
    "conversion_probability",
    "markov_probability",
    "next_touchpoints",
    "next_best_action",
    "lift",
    "probability_after_action",
    "support",
    "factors",
    "model",
    "next_touchpoint_list",
    "factor_list",
)


@dataclass(frozen=True)
class OutlookResult:
    """Open journeys ranked by conversion probability, and the chain behind them.

    ``table`` columns: ``journey`` (int code), ``journey_key`` (id as in the data),
    ``last_touchpoint``, ``last_timestamp``, ``steps``, ``conversion_probability`` (0..1 or NaN),
    ``next_touchpoints`` (e.g. ``"Demo 41%, Pricing page 22%, (no further activity) 20%"``),
    ``next_best_action`` (or None), ``lift`` (probability points as a fraction, or NaN),
    ``probability_after_action``, ``support`` (journeys, or the chain's transitions, behind the
    action), ``factors`` (text), ``markov_probability`` (the chain's), ``model`` (``learned`` or
    ``markov``), and the structured ``next_touchpoint_list`` (``(touchpoint, probability)`` pairs)
    and ``factor_list`` (``{"factor", "effect"}`` dicts). Ranked by probability (unknown last),
    then most recent activity, then ``journey_key``.
    ``states`` has one row per node of the chain: ``touchpoint, conversion_probability, visits``
    (closed journeys' transitions out of it).
    """

    table: pd.DataFrame
    states: pd.DataFrame
    conversion: Conversion
    as_of: date
    active_days: int
    counts: dict[str, int]
    baseline_probability: float
    chain: AbsorbingChain
    # Why no journey is open (what to change), when none is; None otherwise.
    empty_reason: str | None = None
    # Why the chain stands in for the learned model, when it does.
    model_note: str | None = None

    def bands(self) -> pd.DataFrame:
        """The open journeys per band of conversion probability (:func:`compute_probability_bands`)."""
        return compute_probability_bands(self.table)


def explain_no_open(
    events: Table, schema: EventSchema, query: JourneyQuery, as_of: date, active_days: int, journeys: Table
) -> str:
    """Why no journey is open as of ``as_of``, and what to change (the as-of date, the active days).

    ``journeys``: :func:`journey_status`'s per-journey table. Either no journey had an event in the
    ``active_days`` days up to the end of ``as_of`` (then: the day of the last event before, and how
    many active days would reach it), or every journey that had one has converted or been lost."""
    cutoff = _end_of(as_of) - timedelta(days=active_days)
    recent = int(execute_scalar(journeys.filter(journeys.last_timestamp >= ibis.literal(cutoff)).count()) or 0)
    window = f"in the {active_days} day{'s' if active_days != 1 else ''} up to {as_of:%Y-%m-%d}"
    if recent:
        return (
            f"every one of the {recent:,} journeys with an event {window} has converted or been lost, so none is "
            "open: pick an earlier as-of date to see journeys while they were still open"
        )
    before = latest_date(events, schema, replace(query, date_to=min(query.date_to or as_of, as_of)))
    if before is None:
        first = execute_scalar(filter_events(events, schema, query)[TS].min())
        first_day = f"; the first event is on {pd.Timestamp(first):%Y-%m-%d}" if first is not None else ""
        return f"no journey had an event by {as_of:%Y-%m-%d}{first_day}: pick a later as-of date"
    needed = (as_of - before).days + 1
    return (
        f"no journey had an event {window}; the last event before then is on {before:%Y-%m-%d}: pick that "
        f"as-of date, or at least {needed:,} active days"
    )


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def latest_date(events: Table, schema: EventSchema, query: JourneyQuery) -> date | None:
    """UTC date of the last event the query's filters keep (the default ``as_of``)."""
    value = execute_scalar(filter_events(events, schema, query)[TS].max())
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_convert("UTC").date() if pd.Timestamp(value).tzinfo else pd.Timestamp(value).date()


def last_event_day(events: Table, schema: EventSchema, query: JourneyQuery) -> date:
    """:func:`latest_date`, refused (:class:`NotEnoughDataError`) when the query keeps no event: the one
    refusal of the outlook and its backtest for a dataset with nothing to look at."""
    day = latest_date(events, schema, query)
    if day is None:
        raise NotEnoughDataError("this dataset has no events to look at")
    return day


# Codes of the chain's end states (node codes are 0 or more; the start is markov.START_CODE).
GOAL_CODE, STALE_CODE, LOST_CODE_BASE = -2, -3, -10


def _lost_code(k: int) -> int:
    """Code of the absorbing state of the k-th lost name."""
    return LOST_CODE_BASE - k


def _first_lost(events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion) -> Table:
    """Per lost journey: ``_lost`` (event order of the point where it was lost) and ``_lost_code``
    (the absorbing state of the lost name it met first, ties: the first listed; or of its outcome)."""
    lost = lost_journeys(events, schema, query, conversion)
    names = conversion.lost_names()
    code = lost[LOST_NAME].substitute({n: _lost_code(k) for k, n in enumerate(names)}, else_=ibis.null("int64"))
    return lost.select(JOURNEY, _lost=lost[REACHED_ORDER], _lost_code=code.cast("int64"))


class Cut(NamedTuple):
    """The journeys of a log as of a day: what :func:`journey_status` and :func:`load_journey_log`
    read (the events, their schema, the journey query, the conversion definition, the day ``as_of``
    and the days without an event after which an open journey is stale)."""

    events: Table
    schema: EventSchema
    query: JourneyQuery
    conversion: Conversion
    as_of: date
    active_days: int


def journey_status(cut: Cut) -> tuple[Table, Table]:
    """``(steps, journeys)`` as of the end of ``cut.as_of`` (UTC), on node codes.

    ``steps``: the journey steps up to then (``node_code``, no names), with the stored event order
    (``seq``, or ``account_seq`` at account level). ``journeys``: one row per journey with
    ``journey, journey_key, status`` (converted / lost / open / stale), ``last_code`` (node code of
    its last step), ``last_timestamp`` (its last event of any kind), ``steps``, ``_stop`` (event order of the point of conversion,
    else of the point where it was lost; null when none), ``_first`` (event order of its first step) and
    ``_terminal`` (code of the absorbing state its path ends in; null for open journeys).
    """
    events, schema, query, conversion, as_of, active_days = cut
    q = replace(query, date_to=min(query.date_to, as_of) if query.date_to else as_of)
    order = order_column(q)
    cutoff = ibis.literal(_end_of(as_of) - timedelta(days=active_days))
    # Steps are ordered by their position (no step numbers: one window less).
    s = journey_steps(events, schema, q, columns=[JOURNEY_KEY, order], labelled=False, numbered=False)
    # The id is the same on every step of a journey: carried along, not grouped on (text keys are slow).
    per = s.group_by(JOURNEY).aggregate(
        **{JOURNEY_KEY: s[JOURNEY_KEY].arbitrary()},
        last_code=s[NODE_CODE].argmax(s[POSITION]),
        steps=s.count(),
        _first=s[order].min(),
    )
    # Open or stale is judged by the journey's last event of any kind, not by the first event of
    # its last (collapsed) step: a journey repeating its last touchpoint yesterday is active.
    last = last_event_times(events, schema, q)
    per = join_per_journey(per, last.select(JOURNEY, last_timestamp=last.last_event), how="inner")
    g = converted_journeys(events, schema, q, conversion)
    per = join_per_journey(per, g.select(JOURNEY, _goal=g.reached_order))
    if conversion.lost_defined:
        per = join_per_journey(per, _first_lost(events, schema, q, conversion))
    else:
        per = per.mutate(_lost=ibis.null("int64"), _lost_code=ibis.null("int64"))
    per = per.mutate(
        **{
            STATUS: ibis.cases(
                (per._goal.notnull(), "converted"),
                (per._lost.notnull(), "lost"),
                (per.last_timestamp >= cutoff, "open"),
                else_="stale",
            ),
            "_stop": per._goal.coalesce(per._lost),
            "_terminal": ibis.cases(
                (per._goal.notnull(), ibis.literal(GOAL_CODE, "int64")),
                (per._lost.notnull(), per._lost_code.cast("int64")),
                (per.last_timestamp >= cutoff, ibis.null("int64")),
                else_=ibis.literal(STALE_CODE, "int64"),
            ),
        }
    )
    return s, per.drop("_goal", "_lost", "_lost_code")


def closed_transitions(steps: Table, journeys: Table, order: str) -> Table:
    """``source, target, count`` (codes) of the closed journeys' paths (start → … → absorbing state)."""
    closed = journeys.filter(journeys[STATUS] != "open").select(JOURNEY, "_stop", "_first", "_terminal")
    c = steps.inner_join(closed, JOURNEY)
    c = c.filter(c._stop.isnull() | (c[order] < c._stop))
    node = c[NODE_CODE].cast("int64")
    moves = c.select(
        source=node, target=node.lead().over(ibis.window(group_by=JOURNEY, order_by=POSITION)).fill_null(c._terminal)
    )
    entries = c.filter(c[order] == c._first).select(source=ibis.literal(START_CODE, "int64"), target=node)
    # A closed journey with no step before its goal or lost event goes from start straight to the end.
    direct = closed.filter(closed._stop.notnull() & (closed._first >= closed._stop)).select(
        source=ibis.literal(START_CODE, "int64"), target=closed._terminal
    )
    both = moves.union(entries, distinct=False).union(direct, distinct=False)
    return both.group_by(["source", "target"]).aggregate(count=both.count())


def _best_action(
    chain: AbsorbingChain,
    x: np.ndarray,
    state: str,
    excluded: frozenset[str],
    min_transitions: int,
    actions: tuple[str, ...] | None,
) -> tuple[str | None, float, float, int]:
    """``(action, lift, probability after it, transitions seen)`` for a journey on ``state`` (see the module docstring)."""
    i = chain.transient_index(state)
    row = chain.counts[i, : chain.n_transient]
    candidates = [
        (-float(x[j]), -float(row[j]), name)
        for j, name in enumerate(chain.transient)
        if row[j] >= min_transitions and name != state and name not in excluded and (actions is None or name in actions)
    ]
    if not candidates:
        return None, float("nan"), float("nan"), 0
    neg_x, neg_count, name = min(candidates)
    if -neg_x <= x[i]:
        return None, float("nan"), float("nan"), 0
    return name, -neg_x - float(x[i]), -neg_x, int(-neg_count)


def _epoch_seconds(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values, utc=True)
    return ((stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).to_numpy(dtype=float)


def _factorize(values: pd.Series) -> tuple[pd.Series, dict[int, str]]:
    codes, uniques = pd.factorize(values)
    series = pd.Series(codes, index=values.index, dtype="float64").where(codes >= 0)
    return series, {k: str(u) for k, u in enumerate(uniques)}


def load_journey_log(cut: Cut) -> JourneyLog:
    """The journeys as of ``cut.as_of`` as plain frames for the learned model
    (:class:`analytics.outlook_model.JourneyLog`): their events (every event, collapsed into steps as
    the query says), statuses and ends as :func:`journey_status` gives them."""
    steps_so_far, journeys = journey_status(cut)
    events, schema, query, conversion, as_of, _active_days = cut
    marks = _marks(steps_so_far, journeys, conversion)
    journeys = cut_at_marks(steps_so_far, journeys, marks, order_column(query))
    q = replace(query, date_to=min(query.date_to, as_of) if query.date_to else as_of, collapse_repeats=False)
    extra: dict[str, str] = {}
    if query.level == "account" and schema.has(Role.CONTACT):
        extra["contact"] = schema.column(Role.CONTACT)
    for role in (Role.ROLE, Role.CHANNEL):
        if schema.has(role):
            extra[role.value] = schema.column(role)
    segments = tuple(schema.segments)
    seg_cols = list(schema.segment_columns())
    value_col = [schema.column(Role.VALUE)] if schema.has(Role.VALUE) else []
    s = journey_steps(
        events,
        schema,
        q,
        columns=[*dict.fromkeys([*extra.values(), *seg_cols, *value_col])],
        labelled=False,
        numbered=False,
    )
    frame = execute(s.order_by([JOURNEY, POSITION]))
    ev = pd.DataFrame(
        {
            "journey": frame[JOURNEY].astype("int64"),
            "position": frame[POSITION].astype("int64"),
            "node": frame[NODE_CODE].astype("int64"),
            "ts": _epoch_seconds(frame[TS]),
        }
    )
    channel_names: dict[int, str] = {}
    for name, column in extra.items():
        ev[name], mapping = _factorize(frame[column])
        if name == "channel":
            channel_names = mapping
    if value_col:
        # Value so far (the sum of the values on the journey's events up to each one).
        amount = pd.to_numeric(frame[value_col[0]], errors="coerce").fillna(0.0).astype("float64")
        ev["value"] = amount.groupby(ev["journey"].to_numpy()).cumsum().to_numpy()
    jt = execute(journeys.select(JOURNEY, JOURNEY_KEY, STATUS, "_stop", "_terminal")).set_index(JOURNEY)
    jt.index = jt.index.astype("int64")
    names: dict[int, str] = load_labels(events, schema, query).set_index(NODE_CODE)[NODE].astype(str).to_dict()
    ends = {GOAL_CODE: goal_label(conversion), STALE_CODE: STALE_STATE}
    ends.update({_lost_code(k): name for k, name in enumerate(conversion.lost_names())})
    jt["end"] = jt["_terminal"].map(lambda c: None if pd.isna(c) else ends.get(int(c)))
    jt["start_ts"] = ev.groupby("journey")["ts"].min().reindex(jt.index)
    for segment, column in zip(segments, seg_cols, strict=True):
        firsts = frame.assign(journey=ev["journey"]).dropna(subset=[column]).groupby("journey")[column].first()
        jt[f"segment:{segment}"] = firsts.reindex(jt.index).astype("object")
    post = tuple(sorted(names.get(m, str(m)) for m in marks))
    steps = collapse_steps(ev, jt["_stop"].astype("float64"), query.collapse_repeats)
    return JourneyLog(
        steps=steps,
        journeys=jt,
        names=names,
        segments=segments,
        has_contacts="contact" in extra,
        has_roles="role" in extra,
        has_channels="channel" in extra,
        has_value=bool(value_col),
        channel_names=channel_names,
        post_conversion=post,
    )


POST_CONVERSION_SHARE = 0.98
POST_CONVERSION_MIN_JOURNEYS = 20


def post_conversion_marks(steps: Table, journeys: Table) -> Table:
    """``node_code`` of the touchpoints that mark conversion under an outcome definition (a journey
    converts after its last event there, so touchpoints only converted journeys reach, a purchase or
    onboarding, would teach either model that visiting them converts): each reached by at least
    ``POST_CONVERSION_MIN_JOURNEYS`` closed journeys of which at least ``POST_CONVERSION_SHARE``
    converted. A converted journey's path stops at its first visit to one (:func:`cut_at_marks`)."""
    closed = journeys.filter(journeys[STATUS] != "open")
    closed = closed.select(JOURNEY, _won=(closed[STATUS] == "converted").cast("int64"))
    visits = steps.select(JOURNEY, NODE_CODE).distinct().inner_join(closed, JOURNEY)
    per = visits.group_by(NODE_CODE).aggregate(_n=visits.count(), _converted=visits._won.sum())
    keep = (per._n >= POST_CONVERSION_MIN_JOURNEYS) & (per._converted >= POST_CONVERSION_SHARE * per._n)
    return per.filter(keep).select(NODE_CODE)


def cut_at_marks(
    steps: Table, journeys: Table, marks: tuple[int, ...], order: str, *, keep_mark: bool = False
) -> Table:
    """``journeys`` with each converted journey's ``_stop`` moved to its first visit to a touchpoint
    of ``marks`` (node codes; see :func:`post_conversion_marks`) where that comes first; with
    ``keep_mark``, just after it (the path keeps the mark and goes from it to the goal: the chain
    so learns that an open journey standing on a mark converts, never that visiting one does)."""
    if not marks:
        return journeys
    hit = steps.filter(steps[NODE_CODE].isin(marks))
    first = hit.group_by(JOURNEY).aggregate(_mark=hit[order].min() + (1 if keep_mark else 0))
    j = join_per_journey(journeys, first)
    at_mark = (j[STATUS] == "converted") & j._mark.notnull() & (j._stop.isnull() | (j._mark < j._stop))
    return j.mutate(_stop=ibis.ifelse(at_mark, j._mark.cast("int64"), j._stop)).drop("_mark")


def _marks(steps: Table, journeys: Table, conversion: Conversion) -> tuple[int, ...]:
    """The conversion marks of a log (none under a definition by goal nodes, whose point is known)."""
    if conversion.goals:
        return ()
    return tuple(sorted(int(c) for c in execute(post_conversion_marks(steps, journeys))[NODE_CODE]))


FITTED_KEPT = 4  # fitted models kept (least recently used dropped first)
_FITTED: OrderedDict[Hashable, tuple[JourneyLog, LearnedOutlook]] = OrderedDict()


def clear_fitted() -> None:
    """Forget every kept fitted model."""
    _FITTED.clear()


def _fitted(fit_key: Hashable | None, cut: Cut, ends: frozenset[str]) -> tuple[JourneyLog, LearnedOutlook]:
    """The journey log and the learned model fitted on it, kept per ``(fit_key, schema, query,
    conversion, as_of, active_days)`` when the caller names the dataset's content by ``fit_key``
    (e.g. its file and version), so a display setting (minimum support, actions, model shown) does
    not refit. ``fit_key`` None: fitted afresh, not kept."""
    key = None if fit_key is None else (fit_key, *cut[1:])
    if key is not None and key in _FITTED:
        _FITTED.move_to_end(key)
        return _FITTED[key]
    log = load_journey_log(cut)
    learned = fit_learned(log, active_days=cut.active_days, goal_names=ends | frozenset(log.post_conversion))
    if key is not None:
        _FITTED[key] = (log, learned)
        while len(_FITTED) > FITTED_KEPT:
            _FITTED.popitem(last=False)
    return log, learned


def _learned_outlook(
    table: pd.DataFrame,
    cut: Cut,
    min_support: int,
    actions: tuple[str, ...] | None,
    ends: frozenset[str],
    fit_key: Hashable | None = None,
) -> pd.DataFrame:
    """The open journeys' rows with the learned model's probability, next touchpoints, action and factors."""
    log, learned = _fitted(fit_key, cut, ends)
    ends = ends | frozenset(log.post_conversion)
    steps = log.steps
    last_row = pd.Series(np.arange(len(steps)), index=steps["journey"]).groupby(level=0).last()
    rows = last_row.reindex(table[JOURNEY].to_numpy()).to_numpy()
    observed = np.full(len(rows), _end_of(cut.as_of).timestamp())
    x = prefix_features(log, learned.space, rows, observed)
    table = table.copy()
    table["conversion_probability"] = learned.probability(x)
    nxt = learned.next_probabilities(x)
    top = np.argsort(-nxt.to_numpy(), axis=1, kind="stable")[:, :NEXT_SHOWN]
    labels = nxt.columns.to_numpy()
    table["next_touchpoint_list"] = [
        [(str(labels[j]), float(nxt.iat[i, j])) for j in top[i]] for i in range(len(table))
    ]
    memo = {node: best_actions(learned, node, min_support, actions, ends) for node in table["last_touchpoint"].unique()}
    found = [memo[node] for node in table["last_touchpoint"]]
    after = np.array([f[2] for f in found], dtype="float64")
    lift = after - table["conversion_probability"].to_numpy(dtype="float64")
    # The action raises this journey's probability, or there is none (NaN lifts compare False).
    raises = lift > 0
    table["next_best_action"] = [f[0] if up else None for f, up in zip(found, raises, strict=True)]
    table["lift"] = np.where(raises, lift, np.nan)
    table["probability_after_action"] = np.where(raises, after, np.nan)
    table["support"] = [f[3] if up else 0 for f, up in zip(found, raises, strict=True)]
    table["factor_list"] = compute_factors(learned, x, log)
    table["model"] = "learned"
    return table


def compute_outlook(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    conversion: Conversion,
    *,
    as_of: date | None = None,
    active_days: int = DEFAULT_ACTIVE_DAYS,
    min_transitions: int = DEFAULT_MIN_TRANSITIONS,
    actions: tuple[str, ...] | None = None,
    model: str = "learned",
    fit_key: Hashable | None = None,
) -> OutlookResult:
    """Conversion probability, likely next touchpoints and next best action of every open journey.

    Exact semantics (statuses, the fitted chain, the tie rules) in the module docstring; the
    learned model's in :mod:`analytics.outlook_model`. ``model``: ``"learned"`` (the default; the
    chain where too few closed journeys to learn from, said in ``model_note``) or ``"markov"``.
    ``as_of`` defaults to the date of the last event. ``fit_key``: names the dataset's content (its
    file and version); given, the fitted model is kept (:func:`_fitted`) so that calls differing only
    in ``min_transitions``, ``actions`` or ``model`` do not refit. Refused: :class:`BadInputError` for
    ``active_days`` below 1, :class:`UnknownNameError` for another ``model``,
    :class:`ConversionUndefinedError` without a definition, :class:`NotEnoughDataError` when the query
    keeps no event or no closed journey converts (there is nothing to learn a probability from).
    """
    if active_days < 1:
        raise BadInputError.invalid("active_days", active_days, "a whole number of days, at least 1")
    if model not in OUTLOOK_MODELS:
        raise UnknownNameError.among(
            "outlook model",
            model,
            OUTLOOK_MODELS,
            message=f"no outlook model named {model!r}; models: {', '.join(OUTLOOK_MODELS)}",
        )
    if not conversion.defined:
        raise ConversionUndefinedError("the outlook")
    lost = conversion.lost_names()
    as_of = as_of or last_event_day(events, schema, query)
    steps, journeys = journey_status(Cut(events, schema, query, conversion, as_of, active_days))
    marks = _marks(steps, journeys, conversion)
    journeys = cut_at_marks(steps, journeys, marks, order_column(query), keep_mark=True)

    names: dict[int, str] = load_labels(events, schema, query).set_index(NODE_CODE)[NODE].astype(str).to_dict()
    refuse_state_names(names.values(), (START, GOAL_STATE, STALE_STATE), prefix=LOST_PREFIX)
    names.update({START_CODE: START, GOAL_CODE: GOAL_STATE, STALE_CODE: STALE_STATE})
    names.update({_lost_code(k): LOST_PREFIX + name for k, name in enumerate(lost)})
    # One query for the chain's transitions and the open journeys (the steps are computed once).
    moves = closed_transitions(steps, journeys, order_column(query))
    open_ = journeys.filter(journeys[STATUS] == "open").select(
        JOURNEY, JOURNEY_KEY, "last_code", "last_timestamp", "steps"
    )
    both = execute(stack([moves.mutate(_open=False), open_.mutate(_open=True)]))
    is_open = both["_open"].astype(bool)
    transitions = both.loc[~is_open, ["source", "target", "count"]].reset_index(drop=True)
    transitions = transitions.astype({"source": "int64", "target": "int64", "count": "int64"})
    table = both.loc[is_open, list(open_.columns)].reset_index(drop=True)
    table = table.astype({JOURNEY: "int64", "last_code": "int64", "steps": "int64"})
    transitions["source"] = transitions["source"].map(names)
    transitions["target"] = transitions["target"].map(names)
    absorbing = (
        GOAL_STATE,
        *sorted(t for t in transitions["target"].unique() if str(t).startswith(LOST_PREFIX)),
        STALE_STATE,
    )
    chain = AbsorbingChain.from_counts(transitions, absorbing=absorbing, transient_first=(START,))
    if chain.counts[:, chain.n_transient].sum() == 0:
        raise NotEnoughDataError(
            f"no closed journey converts ({conversion.describe()}) by {as_of}: change the definition or the date"
        )
    # Rounding can leave -0.0 or 1 + 1e-16: probabilities are clipped to [0, 1].
    x = np.clip(chain.absorption()[:, 0], 0.0, 1.0)

    table.insert(2, "last_touchpoint", table.pop("last_code").map(names))
    # Every closed journey makes exactly one move into the absorbing state that closed it.
    ends = transitions.groupby("target")["count"].sum()
    counts = {
        "converted": int(ends.get(GOAL_STATE, 0)),
        "lost": int(sum(v for k, v in ends.items() if str(k).startswith(LOST_PREFIX))),
        "open": len(table),
        "stale": int(ends.get(STALE_STATE, 0)),
    }

    labels = {GOAL_STATE: goal_label(conversion), STALE_STATE: STALE_STATE}
    labels.update({a: a.removeprefix(LOST_PREFIX) for a in absorbing if a.startswith(LOST_PREFIX)})
    index = {name: i for i, name in enumerate(chain.transient)}
    excluded = frozenset((START, *conversion.goals, *conversion.lost_goals, *(names[m] for m in marks)))
    memo: dict[str, tuple] = {}
    for state in table["last_touchpoint"].astype(str).unique():
        if state not in index or chain.counts[index[state]].sum() == 0:
            memo[state] = (float("nan"), [], None, float("nan"), float("nan"), 0)
            continue
        nxt = top_transitions(chain, state, NEXT_SHOWN, labels)
        action, lift, after, support = _best_action(chain, x, state, excluded, min_transitions, actions)
        memo[state] = (float(x[index[state]]), [(n, float(p)) for n, p in nxt], action, lift, after, support)
    cols = [
        "markov_probability",
        "next_touchpoint_list",
        "next_best_action",
        "lift",
        "probability_after_action",
        "support",
    ]
    values = [memo[str(s)] for s in table["last_touchpoint"]]
    for k, column in enumerate(cols):
        table[column] = [v[k] for v in values]
    table["conversion_probability"] = table["markov_probability"]
    table["factor_list"] = [[] for _ in range(len(table))]
    table["model"] = "markov"
    note = None
    if model == "learned" and not table.empty:
        ends = frozenset((*conversion.goals, *conversion.lost_goals, *labels.values(), STALE_STATE, *lost))
        try:
            table = _learned_outlook(
                table,
                Cut(events, schema, query, conversion, as_of, active_days),
                min_transitions,
                actions,
                ends,
                fit_key,
            )
        except NotEnoughDataError as exc:  # too little to learn from: the chain stands in, said in the note
            note = f"the Markov chain is shown: {exc}"
    table["next_touchpoints"] = [
        ", ".join(f"{name} {prob:.0%}" for name, prob in nxt) for nxt in table["next_touchpoint_list"]
    ]
    table["factors"] = [factors_text(f) for f in table["factor_list"]]
    if table.empty:
        table = pd.DataFrame({c: pd.Series(dtype="object") for c in OUTLOOK_COLUMNS})
    table["journey_key"] = table["journey_key"].astype(str)
    table["last_touchpoint"] = table["last_touchpoint"].astype(str)
    table["steps"] = table["steps"].astype("int64")
    table["support"] = table["support"].astype("int64")
    for column in ("conversion_probability", "markov_probability", "lift", "probability_after_action"):
        table[column] = table[column].astype("float64")
    table = table.sort_values(
        ["conversion_probability", "last_timestamp", "journey_key"],
        ascending=[False, False, True],
        na_position="last",
        ignore_index=True,
    )[list(OUTLOOK_COLUMNS)]

    out_counts = chain.counts.sum(axis=1)
    states = pd.DataFrame(
        {
            "touchpoint": [s for s in chain.transient if s != START],
            "conversion_probability": [float(x[index[s]]) for s in chain.transient if s != START],
            "visits": [int(out_counts[index[s]]) for s in chain.transient if s != START],
        }
    ).sort_values(["conversion_probability", "touchpoint"], ascending=[False, True], ignore_index=True)
    empty_reason = explain_no_open(events, schema, query, as_of, active_days, journeys) if table.empty else None
    return OutlookResult(
        table=table,
        states=states,
        conversion=conversion,
        as_of=as_of,
        active_days=active_days,
        counts=counts,
        baseline_probability=float(x[index[START]]),
        chain=chain,
        empty_reason=empty_reason,
        model_note=note,
    )


__all__ = [
    "DEFAULT_ACTIVE_DAYS",
    "DEFAULT_MIN_TRANSITIONS",
    "GOAL_STATE",
    "OUTLOOK_MODELS",
    "LOST_PREFIX",
    "OUTLOOK_COLUMNS",
    "STALE_STATE",
    "START",
    "OutlookResult",
    "compute_probability_bands",
    "closed_transitions",
    "compute_outlook",
    "explain_no_open",
    "journey_status",
    "last_event_day",
    "latest_date",
    "load_journey_log",
]


def compute_probability_bands(table: pd.DataFrame, width: float = 0.1) -> pd.DataFrame:
    """Open journeys per band of conversion probability: ``band`` (e.g. ``"30–40%"``), ``low``,
    ``journeys``; bands are ``[low, low + width)``, the last one closed at 100%; journeys with an
    unknown probability form an ``unknown`` band at the end."""
    edges = np.round(np.arange(0.0, 1.0 + 1e-9, width), 10)
    lows = edges[:-1]
    probs = table["conversion_probability"].astype("float64") if not table.empty else pd.Series(dtype="float64")
    known = probs.dropna()
    index = np.minimum((known.to_numpy() / width + 1e-9).astype(int), len(lows) - 1)
    counts = np.bincount(index, minlength=len(lows)) if len(known) else np.zeros(len(lows), dtype=int)
    bands = pd.DataFrame(
        {
            "band": [f"{lo * 100:.0f}–{(lo + width) * 100:.0f}%" for lo in lows],
            "low": lows,
            "journeys": counts.astype("int64"),
        }
    )
    unknown = int(probs.isna().sum())
    if unknown:
        bands = pd.concat(
            [bands, pd.DataFrame([{"band": "unknown", "low": float("nan"), "journeys": unknown}])], ignore_index=True
        )
    return bands
