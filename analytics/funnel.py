"""Funnels: how many journeys go through given steps, in order, within a conversion window.

Exact semantics (on :func:`analytics.journeys.journey_steps`, so level, filters, node and repeats are
the query's; a funnel step is a node name at the query's level: a touchpoint, stage or channel):

Attempts and matching
- Every step of a journey on the funnel's first node starts an *attempt*. An attempt reaches
  step 1 at that step; how it goes on depends on the mode:
  - ``ordered``: step k is the first step on node k after the step matched for k − 1 (anything may
    happen in between, including other funnel nodes);
  - ``strict``: step k must be the next step on *any funnel node* after the step matched for k − 1
    (other nodes may happen in between, funnel nodes out of turn may not);
  - ``immediate``: step k must be the very next step of the journey (nothing in between);
  - ``any``: the steps may happen in any order: an attempt starts at any step on a funnel node and
    reaches as many distinct funnel nodes as it meets at or after its start; the k-th step reached
    is the k-th distinct funnel node met. Nodes must be distinct; no per-step windows.
- Conversion window: every matched step must happen at most ``window_days`` after the attempt's
  step 1 (inclusive). Per-step windows (``step_windows_days[k-2]``, None = no limit): step k at most
  that long after step k − 1. A match that breaks a window ends the attempt there (a later match is
  not searched: in ``ordered`` mode the first match after the previous step is the only candidate).
- A journey's result is its attempt that reaches the most steps; ties go to the earliest attempt.
  Journeys with no attempt are not in the funnel at all.
- Ties in time never reorder: order is timestamp, then position in the file; two steps at the same
  instant still follow each other in that order (and take 0 seconds).

Exclusions
- ``exclusions`` are node names: a journey is removed from every step of the funnel when one of them
  occurs after its step 1 and before its last matched step (for a journey that completed the funnel)
  or, for one that did not, at most ``window_days`` after its step 1. Exclusion nodes cannot be steps.

Figures per step k (1-based ``position``)
- ``journeys``: journeys reaching at least step k. ``conversion_from_start`` = journeys_k / journeys_1;
  ``conversion_from_previous`` = journeys_k / journeys_{k−1} (1.0 at step 1); ``dropped`` =
  journeys_{k−1} − journeys_k (0 at step 1): those that reached the previous step and not this one.
- ``median_seconds_from_previous``/``p90_seconds_from_previous``: exact, linearly interpolated
  quantiles of the seconds between the matched steps k − 1 and k, over the journeys reaching step k.

Breakdown
- ``breakdown`` names a column (a role such as ``channel``, or a segment column); with ``first``
  attribution a journey's value is the one on its step 1, with ``last`` on the last step it reached
  (the first event of that step, when repeats are collapsed). Missing values are ``NO_VALUE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from analytics.engine import (
    TemporaryTables,
    execute,
    execute_arrow,
    execute_scalar,
    quantiles_of,
    runs_on_duckdb,
    temporary_tables,
)
from analytics.journeys import (
    BYS,
    JOURNEY,
    JOURNEY_KEY,
    NODE,
    NODE_CODE,
    POSITION,
    TS,
    JourneyQuery,
    journey_arrays,
    journey_keys,
    journey_steps,
    load_labels,
    node_labels,
    resolve_column,
    stored_labels,
    stored_steps,
)
from analytics.numbers import plural
from analytics.schema import EventSchema
from analytics.timing import epoch_us, seconds_between
from core.errors import BadInputError, JourneyLensError, UnknownNameError, nearest_names

Mode = Literal["ordered", "strict", "immediate", "any"]
Attribution = Literal["first", "last"]
MODES: tuple[Mode, ...] = ("ordered", "strict", "immediate", "any")
ATTRIBUTIONS: tuple[Attribution, ...] = ("first", "last")
DEFAULT_WINDOW_DAYS = 90.0
NO_VALUE = "(none)"
OTHER_VALUES = "(other)"
BREAKDOWN = "breakdown"

FUNNEL_COLUMNS = [
    "position",
    "step",
    "journeys",
    "conversion_from_start",
    "conversion_from_previous",
    "dropped",
    "median_seconds_from_previous",
    "p90_seconds_from_previous",
]


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel: its steps (node names) and rules. Frozen and hashable, so it keys caches."""

    steps: tuple[str, ...]
    mode: Mode = "ordered"
    window_days: float = DEFAULT_WINDOW_DAYS
    step_windows_days: tuple[float | None, ...] = ()
    exclusions: tuple[str, ...] = ()
    breakdown: str | None = None
    attribution: Attribution = "first"

    def stated(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (the funnel's table) with the rules it was counted by on every row: ``mode``,
        ``window_days``, ``step_windows_days`` (comma-separated, empty for none) and ``exclusions``, so
        that a downloaded CSV says what funnel it is."""
        windows = ",".join("" if w is None else f"{w:g}" for w in self.step_windows_days)
        return frame.assign(
            mode=self.mode,
            window_days=self.window_days,
            step_windows_days=windows,
            exclusions=", ".join(self.exclusions),
        )

    def validate(self) -> None:
        """Raise :class:`BadInputError` when the spec cannot be computed."""
        if len(self.steps) < 2:
            raise BadInputError("a funnel needs at least 2 steps", value=list(self.steps), expected="2 or more steps")
        if self.mode not in MODES:
            raise BadInputError("unknown funnel mode", value=self.mode, expected=" or ".join(MODES))
        if self.attribution not in ATTRIBUTIONS:
            raise BadInputError("unknown breakdown attribution", value=self.attribution, expected="first or last")
        if not self.window_days or self.window_days <= 0:
            raise BadInputError("the conversion window must be positive", value=self.window_days, expected="days > 0")
        if self.step_windows_days:
            if len(self.step_windows_days) != len(self.steps) - 1:
                raise BadInputError(
                    "per-step windows need one value per step after the first",
                    value=list(self.step_windows_days),
                    expected=f"{len(self.steps) - 1} values",
                )
            if any(w is not None and w <= 0 for w in self.step_windows_days):
                raise BadInputError(
                    "per-step windows must be positive", value=list(self.step_windows_days), expected="days > 0"
                )
            if self.mode == "any":
                raise BadInputError("an any-order funnel has no per-step windows", expected="no per-step windows")
        if self.mode == "any" and len(set(self.steps)) != len(self.steps):
            raise BadInputError(
                "an any-order funnel needs distinct steps", value=list(self.steps), expected="distinct steps"
            )
        overlap = set(self.exclusions) & set(self.steps)
        if overlap:
            raise BadInputError("a node cannot be both a step and an exclusion", value=sorted(overlap))

    def step_window(self, k: int) -> float | None:
        """The window (days) from step k − 1 to step k (k 1-based, k ≥ 2)."""
        return self.step_windows_days[k - 2] if self.step_windows_days else None


def _interval(days: float) -> ibis.Value:
    return ibis.interval(seconds=int(round(days * 86400)))


def _codes(
    labels: pd.DataFrame, names: tuple[str, ...], query: JourneyQuery, what: str, events: Table, schema: EventSchema
) -> list[int]:
    """The node codes of ``names``; a name that is no node at the query's level is refused with the
    nearest ones (a misspelled step would otherwise give an empty funnel), and, where it is a node of
    another level (a stage named while counting touchpoints), with that level."""
    mapping = dict(zip(labels[NODE], labels[NODE_CODE].astype(int), strict=False))
    for n in names:
        if n not in mapping:
            known = sorted(str(k) for k in mapping)
            other = _level_naming(events, schema, query, n)
            hint = f" ({n!r} is a {other}: count the funnel by {other})" if other is not None else ""
            what_ = f"{query.by} ({what})"
            raise UnknownNameError(
                what_, n, nearest_names(n, known), message=f"No {what_} is named {n!r} in this dataset{hint}"
            )
    return [int(mapping[n]) for n in names]


def _level_naming(events: Table, schema: EventSchema, query: JourneyQuery, name: str) -> str | None:
    """The other node level (stage, touchpoint, channel) that has a node ``name``, if any."""
    for other in BYS:
        if other == query.by:
            continue
        try:
            labels = load_labels(events, schema, replace(query, by=other))
        except JourneyLensError:  # the log has no such level (no stage, no channel column)
            continue
        if name in set(labels[NODE].astype(str)):
            return other
    return None


def _labels_of(events: Table, schema: EventSchema, query: JourneyQuery, names: tuple[str, ...]) -> pd.DataFrame:
    """The node dictionary's rows for ``names`` (reads only those names); the whole dictionary when
    one of them is no node (so :func:`_codes` can name the nearest ones)."""
    stored = stored_labels(events, query)
    if stored is not None:
        labels = stored[stored[NODE].isin(list(names))].reset_index(drop=True)
        return labels if set(names) <= set(labels[NODE]) else stored
    d = node_labels(events, schema, query)
    labels = execute(d.filter(d[NODE].isin(list(dict.fromkeys(names)))))
    if set(names) <= set(labels[NODE]):
        return labels
    return load_labels(events, schema, query)


def _within(spec: FunnelSpec, k: int, t: ibis.Value, prev_t: ibis.Value, t1: ibis.Value) -> ibis.Value:
    ok = t.notnull() & (t <= t1 + _interval(spec.window_days))
    w = spec.step_window(k)
    if w is not None:
        ok = ok & (t <= prev_t + _interval(w))
    return ok


def _attempts_ordered(
    e: Table, spec: FunnelSpec, codes: list[int], carry: list[str], tmp: TemporaryTables | None
) -> Table:
    """Attempts with ``p1..pK``, ``t1..tK`` (null once broken) and ``reached``, mode ``ordered``.

    ``e`` holds the steps on funnel nodes only. One window pass finds, for every step, the position
    of the next step on each funnel node after it; the timestamp of a match is read with the match
    (a step's timestamp is that of its position: order is timestamp, then file position)."""
    k_total = len(codes)
    after = ibis.window(group_by=JOURNEY, order_by=POSITION, rows=(1, None))
    nexts = {f"_np{k}": e[POSITION].min(where=e[NODE_CODE] == codes[k - 1]).over(after) for k in range(2, k_total + 1)}
    e = e.mutate(**nexts)
    if tmp is not None:
        e = tmp.materialize(e)  # read once per step below
    a = e.filter(e[NODE_CODE] == codes[0])
    a = a.select(JOURNEY, *carry, p1=a[POSITION], t1=a[TS], _ok=ibis.literal(True), _np=a._np2)
    for k in range(2, k_total + 1):
        # The candidate match (the first step on node k after step k - 1): its timestamp and,
        # where the chain goes on, the next candidate after it.
        then = {"_nn": e[f"_np{k + 1}"]} if k < k_total else {}
        look = e.select(JOURNEY, _lp=e[POSITION], _lt=e[TS], **then)
        a = a.left_join(look, [a[JOURNEY] == look[JOURNEY], a._np == look._lp])
        a = a.drop(*[c for c in a.columns if c.endswith("_right") or c == "_lp"])
        ok = a._ok & _within(spec, k, a._lt, a[f"t{k - 1}"], a.t1)
        a = a.mutate(
            _ok=ok,
            **{
                f"p{k}": ibis.ifelse(ok, a._np, ibis.null("int64")),
                f"t{k}": ibis.ifelse(ok, a._lt, ibis.null(a.t1.type())),
            },
        ).drop("_np", "_lt")
        if k < k_total:
            a = a.rename(_np="_nn")
    return _finish(a, k_total)


def _earliest_ordered(e: Table, spec: FunnelSpec, codes: list[int], carry: list[str]) -> Table:
    """The first attempt of every journey in ``ordered`` mode, found with hash joins and aggregates
    (no window function): ``journey``, ``carry``, ``p1..pK``, ``t1..tK``, ``reached`` and ``_broken``.

    Round k reads the first step on node k after the step matched for k − 1. A journey's attempts
    match at ever later positions (an attempt that starts later meets every step at or after the
    first attempt's), so the first attempt is the journey's best one (most steps, earliest) unless
    one of its matches breaks a window: then a later attempt, with a later step 1, may go further.
    Such journeys are marked ``_broken`` (their matches past the break are kept here, not used)."""
    k_total = len(codes)
    hit = e[NODE_CODE] == codes[0]
    firsts = {c: e[c].argmin(e[POSITION], where=hit) for c in carry}
    a = e.group_by(JOURNEY).aggregate(p1=e[POSITION].min(where=hit), t1=e[TS].argmin(e[POSITION], where=hit), **firsts)
    a = a.filter(a.p1.notnull())
    x = e.select(_j=e[JOURNEY], _p=e[POSITION], _t=e[TS], _c=e[NODE_CODE])
    for k in range(2, k_total + 1):
        j = a.left_join(x, [a[JOURNEY] == x._j, x._c == codes[k - 1], x._p > a[f"p{k - 1}"]])
        kept = {c: j[c].min() if c not in carry else j[c].arbitrary() for c in a.columns if c != JOURNEY}
        a = j.group_by(JOURNEY).aggregate(**kept, **{f"p{k}": j._p.min(), f"t{k}": j._t.argmin(j._p)})
    broken = ibis.literal(False)
    for k in range(2, k_total + 1):
        broken = broken | (a[f"p{k}"].notnull() & ~_within(spec, k, a[f"t{k}"], a[f"t{k - 1}"], a.t1))
    reached = sum((a[f"p{k}"].notnull().cast("int64") for k in range(2, k_total + 1)), ibis.literal(1, "int64"))
    return a.mutate(reached=reached, _broken=broken)


def _attempts_ordered_fast(
    e: Table, spec: FunnelSpec, codes: list[int], carry: list[str], tmp: TemporaryTables | None
) -> Table:
    """The result of :func:`_attempts_ordered`, from each journey's first attempt
    (:func:`_earliest_ordered`) where that is exact; the journeys where a window broke it take
    :func:`_attempts_ordered` (only those journeys). With ``tmp``, that second pass runs only when
    such journeys exist."""
    k_total = len(codes)
    cols = [JOURNEY, *carry, *[f"p{k}" for k in range(1, k_total + 1)], *[f"t{k}" for k in range(1, k_total + 1)]]
    if tmp is not None:
        e = tmp.materialize(e)  # read by every round below
    first = _earliest_ordered(e, spec, codes, carry)
    if tmp is not None:
        first = tmp.materialize(first)
        if not int(execute_scalar(first._broken.sum()) or 0):  # a sum over no journey is null
            return first.select(*cols, "reached")
    fine = first.filter(~first._broken).select(*cols, "reached")
    again = e.semi_join(first.filter(first._broken).select(JOURNEY), JOURNEY)
    rest = _attempts_ordered(again, spec, codes, carry, tmp)
    return fine.union(rest.select(*cols, "reached"))


def _attempts_consecutive(e: Table, spec: FunnelSpec, codes: list[int], carry: list[str]) -> Table:
    """Attempts for ``strict`` (``e``: the steps on funnel nodes) and ``immediate`` (``e``: every step)."""
    k_total = len(codes)
    w = ibis.window(group_by=JOURNEY, order_by=POSITION)
    leads = {}
    for j in range(1, k_total):
        leads[f"_ln{j}"] = e[NODE_CODE].lead(j).over(w)
        leads[f"_lp{j}"] = e[POSITION].lead(j).over(w)
        leads[f"_lt{j}"] = e[TS].lead(j).over(w)
    e = e.mutate(**leads)
    a = e.filter(e[NODE_CODE] == codes[0])
    a = a.mutate(p1=a[POSITION], t1=a[TS], _ok=ibis.literal(True))
    for k in range(2, k_total + 1):
        j = k - 1
        ok = (
            a._ok
            & (a[f"_ln{j}"] == codes[k - 1]).fill_null(False)
            & _within(spec, k, a[f"_lt{j}"], a[f"t{k - 1}"], a.t1)
        )
        a = a.mutate(
            _ok=ok,
            **{
                f"p{k}": ibis.ifelse(ok, a[f"_lp{j}"], ibis.null("int64")),
                f"t{k}": ibis.ifelse(ok, a[f"_lt{j}"], ibis.null(a.t1.type())),
            },
        )
    a = a.select(JOURNEY, *carry, *[f"p{k}" for k in range(1, k_total + 1)], *[f"t{k}" for k in range(1, k_total + 1)])
    return _finish(a, k_total)


def _attempts_any(e: Table, spec: FunnelSpec, codes: list[int], carry: list[str], tmp: TemporaryTables | None) -> Table:
    """Attempts for ``any`` order: p1..pK, t1..tK are the distinct nodes met, sorted by position.

    ``e`` holds the steps on funnel nodes only."""
    k_total = len(codes)
    here_on = ibis.window(group_by=JOURNEY, order_by=POSITION, rows=(0, None))
    cols = {}
    for i, code in enumerate(codes):
        hit = e[NODE_CODE] == code
        cols[f"_ap{i}"] = e[POSITION].min(where=hit).over(here_on)
        cols[f"_at{i}"] = e[TS].min(where=hit).over(here_on)
    e = e.mutate(**cols)
    limit = e[TS] + _interval(spec.window_days)
    ok = {i: e[f"_at{i}"].notnull() & (e[f"_at{i}"] <= limit) for i in range(k_total)}
    reached = sum((ok[i].cast("int64") for i in range(k_total)), ibis.literal(0, "int64"))
    a = e.mutate(
        _start=e[POSITION],
        reached=reached,
        **{f"_ap{i}": ibis.ifelse(ok[i], e[f"_ap{i}"], ibis.null("int64")) for i in range(k_total)},
        **{f"_at{i}": ibis.ifelse(ok[i], e[f"_at{i}"], ibis.null(e[TS].type())) for i in range(k_total)},
    )
    best = _best(a.mutate(p1=a._start))
    if tmp is not None:
        best = tmp.materialize(best)  # read once per step below
    # Sort the reached nodes of each best attempt by position: the k-th is step k.
    parts = [
        best.filter(best[f"_ap{i}"].notnull()).select(JOURNEY, _p=best[f"_ap{i}"], _t=best[f"_at{i}"])
        for i in range(k_total)
    ]
    long = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    long = long.mutate(_k=ibis.row_number().over(group_by=JOURNEY, order_by="_p") + 1)
    wide = long.group_by(JOURNEY).aggregate(
        **{f"p{k}": long._p.max(where=long._k == k) for k in range(1, k_total + 1)},
        **{f"t{k}": long._t.max(where=long._k == k) for k in range(1, k_total + 1)},
    )
    keep = best.select(JOURNEY, "reached", *carry)
    return keep.join(wide, JOURNEY)


def _finish(a: Table, k_total: int) -> Table:
    reached = sum((a[f"p{k}"].notnull().cast("int64") for k in range(2, k_total + 1)), ibis.literal(1, "int64"))
    return _best(a.mutate(reached=reached))


def _best(a: Table) -> Table:
    """The attempt reaching the most steps per journey; ties go to the earliest (smallest p1)."""
    rank = ibis.row_number().over(group_by=JOURNEY, order_by=[ibis.desc("reached"), "p1"])
    a = a.mutate(_rank=rank)
    return a.filter(a._rank == 0).drop("_rank")


def funnel_journeys(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    spec: FunnelSpec,
    labels: pd.DataFrame | None = None,
    *,
    tmp: TemporaryTables | None = None,
) -> Table:
    """One row per journey in the funnel (its best attempt, exclusions applied): ``journey, reached``,
    ``p1..pK`` (step positions), ``t1..tK`` (timestamps; null past ``reached``) and ``breakdown`` when
    the spec has one. Exact semantics in the module docstring.

    With ``tmp``, intermediate tables read several times are materialised there (execute the result
    inside the ``temporary_tables()`` block); without, the result is one pure expression.
    """
    spec.validate()
    labels = _labels_of(events, schema, query, (*spec.steps, *spec.exclusions)) if labels is None else labels
    codes = _codes(labels, spec.steps, query, "funnel step", events, schema)
    xcodes = _codes(labels, spec.exclusions, query, "exclusion step", events, schema) if spec.exclusions else []
    bcol = resolve_column(schema, spec.breakdown) if spec.breakdown else None
    s = journey_steps(events, schema, query, columns=(bcol,) if bcol else (), labelled=False, numbered=False)
    if bcol:
        s = s.rename({BREAKDOWN: bcol})
    carry = [BREAKDOWN] if bcol else []
    # The steps on funnel or exclusion nodes: all that the matching reads (but immediate's leads).
    m = s.filter(s[NODE_CODE].isin(list({*codes, *xcodes})))
    if tmp is not None and (xcodes or (bcol and spec.attribution == "last")):
        m = tmp.materialize(m)  # read more than once below (else read once: no table to write)
    e = m.filter(m[NODE_CODE].isin(list(set(codes)))) if xcodes else m
    if spec.mode == "ordered":
        f = _attempts_ordered_fast(e, spec, codes, carry, tmp)
    elif spec.mode == "any":
        f = _attempts_any(e, spec, codes, carry, tmp)
    else:
        f = _attempts_consecutive(e if spec.mode == "strict" else s, spec, codes, carry)
    k_total = len(codes)
    if bcol and spec.attribution == "last":
        p_last = ibis.cases(*[(f.reached == k, f[f"p{k}"]) for k in range(1, k_total + 1)])
        f = f.mutate(_plast=p_last).drop(BREAKDOWN)
        look = e.select(JOURNEY, _lp=e[POSITION], **{BREAKDOWN: e[BREAKDOWN]})
        f = f.left_join(look, [f[JOURNEY] == look[JOURNEY], f._plast == look._lp])
        f = f.drop(*[c for c in f.columns if c.endswith("_right") or c in ("_lp", "_plast")])
    if xcodes:
        x = m.filter(m[NODE_CODE].isin(xcodes)).select(JOURNEY, _xp=m[POSITION], _xt=m[TS])
        p_last = ibis.cases(*[(f.reached == k, f[f"p{k}"]) for k in range(1, k_total + 1)])
        g = f.select(JOURNEY, _p1=f.p1, _t1=f.t1, _pl=p_last, _done=f.reached == k_total)
        hit = g.join(x, JOURNEY)
        hit = hit.filter(
            (hit._xp > hit._p1)
            & ibis.ifelse(hit._done, hit._xp < hit._pl, hit._xt <= hit._t1 + _interval(spec.window_days))
        )
        f = f.anti_join(hit.select(JOURNEY).distinct(), JOURNEY)
    if bcol:
        f = f.mutate(**{BREAKDOWN: f[BREAKDOWN].cast("string").fill_null(NO_VALUE)})
    cols = [JOURNEY, "reached", *[f"p{k}" for k in range(1, k_total + 1)], *[f"t{k}" for k in range(1, k_total + 1)]]
    return f.select(*cols, *carry)


_INT64_SAFE = 2**62  # a window at least this long (in microseconds) never ends an attempt


def _micros(days: float | None) -> int | None:
    """A window in microseconds, as :func:`_interval` rounds it (whole seconds)."""
    return None if days is None else min(int(round(days * 86400)) * 1_000_000, _INT64_SAFE)


def _ordered_in_memory(events: Table, schema: EventSchema, query: JourneyQuery, spec: FunnelSpec) -> dict:
    """The figures of an ``ordered`` funnel without exclusions (:func:`_aggregates`' keys) on
    DuckDB, from one read of the steps on funnel nodes.

    Every attempt is matched at once with array searches, by the rules of
    :func:`_attempts_ordered` (step k is the first step on node k after the step matched for
    k − 1; a match that breaks a window ends the attempt; a journey keeps its attempt reaching the
    most steps, ties to the earliest). The journeys per step are counted here; the quantiles of the
    seconds between steps are computed by the engine with the expression of :func:`_aggregates`."""
    k_total = len(spec.steps)
    if query.by == "touchpoint" and not query.touchpoint_of:
        # Each node is an activity.
        s = stored_steps(events, query)
        if s is not None and stored_labels(events, query) is not None:
            # The stored steps, read by activity code: the codes come from the dictionary stored in
            # the file (no query), and a comparison of integers costs less than one of names.
            codes = _codes(
                _labels_of(events, schema, query, spec.steps), spec.steps, query, "funnel step", events, schema
            )
            s = s.filter(s[NODE_CODE].isin(list(set(codes))))
            steps = execute_arrow(s.select(JOURNEY, POSITION, _node=s[NODE_CODE], _us=epoch_us(s[TS])))
        else:
            # Read by name, numbered by their place among the step names (no query for the codes
            # first; a name without steps is checked after).
            names = list(dict.fromkeys(spec.steps))
            codes = [names.index(n) for n in spec.steps]
            if s is None:
                s = journey_steps(events, schema, query, columns=("activity",), labelled=False, numbered=False)
            s = s.filter(s.activity.isin(names))
            node_of = s.activity.cases(*[(n, i) for i, n in enumerate(names)], else_=-1)
            steps = execute_arrow(s.select(JOURNEY, POSITION, _node=node_of, _us=epoch_us(s[TS])))
            if (np.bincount(steps.column("_node").to_numpy(), minlength=len(names)) == 0).any():
                _codes(_labels_of(events, schema, query, spec.steps), spec.steps, query, "funnel step", events, schema)
    else:
        codes = _codes(_labels_of(events, schema, query, spec.steps), spec.steps, query, "funnel step", events, schema)
        s = journey_steps(events, schema, query, columns=(), labelled=False, numbered=False)
        s = s.filter(s[NODE_CODE].isin(list(set(codes))))
        steps = execute_arrow(s.select(JOURNEY, POSITION, _node=s[NODE_CODE], _us=epoch_us(s[TS])))
    journey, node, us = journey_arrays(steps, "_node", "_us")
    # One attempt per step on the first node; ``at`` is the index of the step each has reached.
    start = np.flatnonzero(node == codes[0])
    at, ok = start, np.ones(len(start), dtype=bool)
    matched = [start]
    window, t1 = _micros(spec.window_days), us[start]
    for k in range(2, k_total + 1):
        candidates = np.flatnonzero(node == codes[k - 1])
        if len(candidates) == 0:
            ok = np.zeros(len(start), dtype=bool)
            matched.append(np.full(len(start), -1))
            continue
        nxt = np.searchsorted(candidates, at, side="right")
        cand = candidates[np.minimum(nxt, len(candidates) - 1)]
        found = ok & (nxt < len(candidates)) & (journey[cand] == journey[at]) & (us[cand] <= t1 + window)
        step = _micros(spec.step_window(k))
        if step is not None:
            found &= us[cand] <= us[at] + step
        matched.append(np.where(found, cand, -1))
        at, ok = np.where(found, cand, at), found
    reached = np.ones(len(start), dtype="int64")
    for m in matched[1:]:
        reached += m >= 0
    # The best attempt per journey: most steps, then the earliest (attempts are in step order).
    best = np.lexsort((start, -reached, journey[start]))
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = journey[start][best][1:] != journey[start][best][:-1]
    best = best[keep]
    reached = reached[best]
    figures: dict = {f"j{k}": int((reached >= k).sum()) for k in range(1, k_total + 1)}
    # Seconds between matched steps, as seconds_between computes them (whole microseconds / 1e6).
    gaps = {}
    for k in range(2, k_total + 1):
        now, before = matched[k - 1][best], matched[k - 2][best]
        hit = now >= 0
        seconds = np.where(hit, (us[now] - us[before]).astype("float64") / 1_000_000, 0.0)
        gaps[f"s{k}"] = pa.array(seconds, type=pa.float64(), mask=~hit)
    if gaps and len(best):
        # The engine's own quantiles (those of the query path), over the gaps handed over as Arrow.
        wanted = {f"{m}{k}": (f"s{k}", q) for k in range(2, k_total + 1) for m, q in (("m", 0.5), ("q", 0.9))}
        figures.update(quantiles_of(pa.table(gaps), wanted))
    return figures


def _spec_of(fields: dict[str, object]) -> FunnelSpec:
    if "steps" not in fields:
        raise BadInputError("a funnel needs its steps", expected="steps=(...) or a FunnelSpec")
    values: dict[str, Any] = {**fields, "steps": tuple(cast("Iterable[str]", fields["steps"]))}
    return FunnelSpec(**values)


def _aggregates(f: Table, k_total: int) -> dict[str, ibis.Value]:
    out: dict[str, ibis.Value] = {}
    for k in range(1, k_total + 1):
        out[f"j{k}"] = (f.reached >= k).cast("int64").sum()
        if k > 1:
            secs = seconds_between(f[f"t{k - 1}"], f[f"t{k}"])
            out[f"m{k}"] = secs.quantile(0.5)
            out[f"q{k}"] = secs.quantile(0.9)
    return out


def _rows(agg: dict, spec: FunnelSpec) -> list[dict]:
    rows = []
    first = int(agg.get("j1") or 0)
    prev = 0
    for k, name in enumerate(spec.steps, start=1):
        n = int(agg.get(f"j{k}") or 0)
        rows.append(
            {
                "position": k,
                "step": name,
                "journeys": n,
                "conversion_from_start": n / first if first else float("nan"),
                "conversion_from_previous": 1.0 if k == 1 and first else (n / prev if prev else float("nan")),
                "dropped": 0 if k == 1 else prev - n,
                "median_seconds_from_previous": None if k == 1 else _float(agg.get(f"m{k}")),
                "p90_seconds_from_previous": None if k == 1 else _float(agg.get(f"q{k}")),
            }
        )
        prev = n
    return rows


def _float(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*([BREAKDOWN] if rows and BREAKDOWN in rows[0] else []), *FUNNEL_COLUMNS])
    for col in ("median_seconds_from_previous", "p90_seconds_from_previous"):
        frame[col] = frame[col].astype("float64")
    return frame


def compute_funnel(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    spec: FunnelSpec | None = None,
    **spec_fields: object,
) -> pd.DataFrame:
    """The funnel, one row per step: ``position, step, journeys, conversion_from_start,
    conversion_from_previous, dropped, median_seconds_from_previous, p90_seconds_from_previous``.
    Exact semantics in the module docstring (the breakdown of ``spec`` is ignored here).

    ``spec`` or its fields as keywords: ``compute_funnel(events, schema, query, steps=("A", "B"))``."""
    spec = spec if spec is not None else _spec_of(spec_fields)
    spec.validate()  # on every path: the in-memory one below does not go through funnel_journeys
    plain = replace(spec, breakdown=None)
    if plain.mode == "ordered" and not plain.exclusions and runs_on_duckdb(events):
        return _frame(_rows(_ordered_in_memory(events, schema, query, plain), spec))
    with temporary_tables() as tmp:
        f = funnel_journeys(events, schema, query, plain, tmp=tmp)
        agg = execute(f.aggregate(**_aggregates(f, len(spec.steps)))).iloc[0].to_dict()
    return _frame(_rows(agg, spec))


def compute_funnel_breakdown(
    events: Table, schema: EventSchema, query: JourneyQuery, spec: FunnelSpec, *, top: int = 10
) -> pd.DataFrame:
    """The funnel per breakdown value: ``breakdown`` then the columns of :func:`compute_funnel`.

    Values ranked by journeys at step 1 (ties by value); beyond ``top`` they are added up as
    ``OTHER_VALUES``. Attribution as in the module docstring.
    """
    if not spec.breakdown:
        raise BadInputError("a funnel breakdown needs a column", expected="a column name")
    with temporary_tables() as tmp:
        f = tmp.materialize(funnel_journeys(events, schema, query, spec, tmp=tmp))
        per = execute(f.group_by(BREAKDOWN).aggregate(j1=f.count()))
        per = per.sort_values(["j1", BREAKDOWN], ascending=[False, True], kind="stable")
        kept = per[BREAKDOWN].head(top).tolist()
        value = f[BREAKDOWN]
        if len(per) > top:
            value = ibis.ifelse(value.isin(kept), value, ibis.literal(OTHER_VALUES))
        f = f.mutate(**{BREAKDOWN: value})
        agg = execute(f.group_by(BREAKDOWN).aggregate(**_aggregates(f, len(spec.steps))))
    order = kept + ([OTHER_VALUES] if len(per) > top else [])
    rows = []
    for v in order:
        match = agg[agg[BREAKDOWN] == v]
        if match.empty:
            continue
        for r in _rows(match.iloc[0].to_dict(), spec):
            rows.append({BREAKDOWN: v, **r})
    if not rows:
        return pd.DataFrame(columns=[BREAKDOWN, *FUNNEL_COLUMNS])
    return _frame(rows)


def compute_dropped_journeys(events: Table, schema: EventSchema, query: JourneyQuery, spec: FunnelSpec) -> pd.DataFrame:
    """Journeys that entered the funnel and did not complete it: ``journey_key, steps_reached,
    last_step, last_step_at, next_step`` (+ ``breakdown`` with a breakdown). Sorted by steps reached,
    then journey key."""
    k_total = len(spec.steps)
    with temporary_tables() as tmp:
        f = funnel_journeys(events, schema, query, spec, tmp=tmp)
        f = f.filter(f.reached < k_total)
        last_at = ibis.cases(*[(f.reached == k, f[f"t{k}"]) for k in range(1, k_total)])
        f = f.mutate(last_step_at=last_at)
        f = f.join(journey_keys(events, query), JOURNEY)
        cols = [JOURNEY_KEY, "reached", "last_step_at", *([BREAKDOWN] if spec.breakdown else [])]
        frame = execute(f.select(*cols))
    frame = frame.rename(columns={"reached": "steps_reached"})
    frame["steps_reached"] = frame["steps_reached"].astype("int64")
    frame["last_step"] = frame["steps_reached"].map(lambda k: spec.steps[k - 1])
    frame["next_step"] = frame["steps_reached"].map(lambda k: spec.steps[k])
    frame = frame.sort_values(["steps_reached", JOURNEY_KEY], kind="stable")
    out = [
        JOURNEY_KEY,
        "steps_reached",
        "last_step",
        "last_step_at",
        "next_step",
        *([BREAKDOWN] if spec.breakdown else []),
    ]
    return frame[out].reset_index(drop=True)


def parse_step_windows(text: str | None, steps: int) -> tuple[float | None, ...]:
    """Per-step windows from ``"7,,30"`` (days; empty = no limit) for a funnel of ``steps`` steps.

    Empty text means none. Raises BadInputError when a value is not a number or the count is wrong."""
    if not text or not text.strip():
        return ()
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) if p else None for p in parts)
    except ValueError as exc:
        raise BadInputError("per-step windows must be numbers of days", value=text, expected='e.g. "7,,30"') from exc
    if len(values) != steps - 1:
        raise BadInputError(
            "per-step windows need one value per step after the first", value=text, expected=plural(steps - 1, "value")
        )
    return values
