"""Success metrics from an event log: NPS, CSAT, CES, FCR, retention rate, CLV, conversion rate.

Every metric is computed per period (calendar ``month`` → ``"2026-03"``, ``quarter`` →
``"2026-Q1"``, or ``all`` → ``"all"``; periods are UTC) and optionally per ``scope`` (the touchpoint
or stage an event belongs to). Every result is a DataFrame with the columns
``metric, period, scope, value, base`` and the counts the value is made of; ``base`` is what the
value is computed from (respondents, support cases, accounts at the start, journeys that entered)
and ``value`` is NaN where the base is empty (never 0: "no data" is not "zero").

Formulas (PRODUCT.md, "Metrics"):

- NPS = 100 × (promoters − detractors) / respondents; promoter: score 9–10, detractor: 0–6,
  passive: anything in between (a 6.5 is passive). Range −100..+100.
- CSAT = 100 × responses of 4 or 5 / responses, on a 1–5 scale.
- CES = mean effort score, on the dataset's own scale (1–7 by convention, lower = less effort).
- FCR = 100 × support cases resolved on first contact / support cases. With an ``fcr`` flag
  column: every event with a flag is one case, resolved when the flag is true. Derived (no flag):
  a support contact is an event at one of the support touchpoints/stages; a contact starts a *case*
  unless the same journey had another support contact in the ``window_days`` before it; the case is
  resolved on first contact when the journey has no further support contact within ``window_days``
  after it.
- Retention rate for period P = 100 × (accounts active in P − new accounts in P) / accounts active
  in P−1. Active in P: the account has at least one event in P. New in P: the account's first event
  in the whole log falls in P. The first period has no start, so no value. An account returning
  after a gap counts as retained, so the rate can exceed 100.
- CLV for period P = ARPA(P) × gross margin / churn(P), with ARPA(P) = the ``value`` column summed
  over P / accounts active in P, and churn(P) = accounts active in P−1 and not in P / accounts active
  in P−1. A churn of 0 gives no value (an infinite lifetime is not a number to show).
- Conversion rate = 100 × journeys that convert / journeys that entered. A journey enters when it
  has an event in the scope (all journeys for the whole map) and belongs to the period of its first
  event; whether it converts is the dataset's definition (:mod:`analytics.conversion`: goal nodes or
  an outcome), a property of the journey (the goal may come before or after the scope's event).

Status against a target (:func:`metric_status`): ``green`` when the value meets the target (at or
above it for "higher is better", at or below for "lower is better"); ``amber`` when it misses by at
most 10 % of the target's absolute value (:data:`AMBER_BAND`); ``red`` beyond; ``none`` without a
value or a target. A target of 0 therefore has no amber band.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypedDict, Unpack

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import NOT_DEFINED, Conversion, converted_journeys
from analytics.engine import execute
from analytics.journeys import JOURNEY, NODE, STEP, TS, JourneyQuery, journey_steps
from analytics.outcomes import NO_OUTCOME, OTHER_OUTCOME, last_outcomes
from analytics.schema import STORED_COLUMN, EventSchema, Role
from core.errors import BadInputError, ConversionUndefinedError, UnknownColumnError

Period = Literal["month", "quarter", "all"]
PERIODS: tuple[str, ...] = ("month", "quarter", "all")
ALL = "all"
AMBER_BAND = 0.10

KINDS: tuple[str, ...] = ("nps", "csat", "ces", "fcr", "retention", "clv", "conversion")

# The survey bands, once (the metrics here and the friction scores read them): NPS 0–10, CSAT 1–5.
PROMOTER_MIN, DETRACTOR_MAX, SATISFIED_MIN = 9, 6, 4


def is_promoter(score: Any) -> Any:
    """An NPS answer of 9–10 (an Ibis or pandas value, or a number)."""
    return score >= PROMOTER_MIN


def is_detractor(score: Any) -> Any:
    """An NPS answer of 0–6."""
    return score <= DETRACTOR_MAX


def is_satisfied(score: Any) -> Any:
    """A CSAT answer of 4–5."""
    return score >= SATISFIED_MIN


FORMULAS: dict[str, str] = {
    "nps": f"NPS = 100 × (promoters {PROMOTER_MIN}–10 − detractors 0–{DETRACTOR_MAX}) / respondents",
    "csat": f"CSAT = 100 × responses of {SATISFIED_MIN}–5 (on 1–5) / responses",
    "ces": "CES = mean effort score (dataset's scale; 1–7 by convention, lower = less effort)",
    "fcr": "FCR = 100 × support cases resolved on first contact / support cases",
    "retention": "Retention = 100 × (accounts active at the end − new accounts) / accounts active at the start",
    "clv": "CLV = average revenue per account per period × gross margin / churn rate per period",
    "conversion": "Conversion = 100 × journeys that convert (the dataset's definition) / journeys that entered",
    "custom": "Entered by hand",
}

RESULT_COLUMNS = ["metric", "period", "scope", "value", "base"]


# --------------------------------------------------------------------------- formulas on counts


def _ratio(numerator: float, denominator: float, scale: float = 100.0) -> float:
    return float("nan") if not denominator else scale * numerator / denominator


def nps_value(promoters: int, detractors: int, respondents: int) -> float:
    """100 × (promoters − detractors) / respondents; NaN without respondents."""
    return _ratio(promoters - detractors, respondents)


def csat_value(satisfied: int, responses: int) -> float:
    """100 × responses of 4–5 / responses; NaN without responses."""
    return _ratio(satisfied, responses)


def ces_value(effort_sum: float, responses: int) -> float:
    """Mean effort score; NaN without responses."""
    return _ratio(effort_sum, responses, 1.0)


def fcr_value(resolved: int, cases: int) -> float:
    """100 × cases resolved on first contact / cases; NaN without cases."""
    return _ratio(resolved, cases)


def retention_value(active_end: int, new: int, active_start: int) -> float:
    """100 × (active at the end − new) / active at the start; NaN without accounts at the start."""
    return _ratio(active_end - new, active_start)


def clv_value(revenue_per_account: float, gross_margin: float, churn_rate: float) -> float:
    """ARPA × gross margin / churn rate (churn as a fraction); NaN when churn is 0 or unknown."""
    if churn_rate is None or not churn_rate or math.isnan(churn_rate) or math.isnan(revenue_per_account):
        return float("nan")
    return revenue_per_account * gross_margin / churn_rate


def conversion_value(converted: int, entered: int) -> float:
    """100 × converted / entered; NaN when nobody entered."""
    return _ratio(converted, entered)


# The statuses from best to worst (a map's health is its worst measure's): the one ranking of them.
STATUS_RANK: dict[str, int] = {"none": 0, "green": 1, "amber": 2, "red": 3}


def metric_status(
    value: float | None, target: float | None, direction: str = "higher", band: float = AMBER_BAND
) -> str:
    """``green`` / ``amber`` / ``red`` against ``target``, or ``none`` (see the module docstring).

    Amber: the value misses the target by at most ``band`` × |target| (10 % by default).
    """
    if value is None or target is None or _isnan(value) or _isnan(target):
        return "none"
    if direction not in ("higher", "lower"):
        raise BadInputError("unknown metric direction", value=direction, expected="'higher' or 'lower'")
    gap = (target - value) if direction == "higher" else (value - target)
    if gap <= 0:
        return "green"
    # A tolerance of 1e-9 so that 2.2 against 2.0 (a float gap of 0.2000000000000002) is amber.
    return "amber" if gap <= band * abs(target) + 1e-9 else "red"


def _isnan(value: float) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


# --------------------------------------------------------------------------- periods


def period_expr(ts: ibis.Value, period: Period) -> ibis.Value:
    """Ibis expression of the period label of a UTC timestamp."""
    if period == "month":
        return ts.strftime("%Y-%m")
    if period == "quarter":
        return ts.year().cast("string") + "-Q" + ts.quarter().cast("string")
    if period == ALL:
        return ibis.literal(ALL)
    raise BadInputError("unknown period", value=period, expected="month, quarter or all")


def period_label(ts: pd.Timestamp, period: Period) -> str:
    """Period label of one timestamp (UTC), as :func:`period_expr` computes it."""
    ts = pd.Timestamp(ts)
    ts = ts.tz_convert("UTC") if ts.tzinfo else ts
    if period == "month":
        return f"{ts.year:04d}-{ts.month:02d}"
    if period == "quarter":
        return f"{ts.year:04d}-Q{ts.quarter}"
    return ALL


def period_of_label(label: str) -> Period:
    """The period a label of :func:`period_label` is of: ``"2025-Q1"`` a quarter, ``"all"`` all, else a month."""
    if label == ALL:
        return "all"
    return "quarter" if "-Q" in label else "month"


# What a computed metric keeps of the options it was computed with (``db.models.Metric.computed_with``):
# the period always; for FCR where its cases came from ("flag": the fcr column; "derived": repeat
# contacts) and, derived, the repeat window; the gross margin of CLV.
KEPT_OPTIONS: tuple[str, ...] = ("period", "fcr_from", "support", "window_days", "gross_margin")


def clean_kept_options(value: object, where: str = "computed_with") -> dict[str, Any]:
    """``value`` checked as the options a computed metric keeps: an object (``{}`` or None: none
    kept) of ``period`` (month, quarter or all), ``fcr_from`` (flag or derived), ``support`` (the
    touchpoint or stage names FCR's cases were counted at), ``window_days`` (a number ≥ 0) and
    ``gross_margin`` (a number from 0 to 1), each optional."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not set(value) <= set(KEPT_OPTIONS):
        raise BadInputError.invalid(where, value, f"an object of {', '.join(KEPT_OPTIONS)}")
    out: dict[str, Any] = {}
    if "period" in value:
        if value["period"] not in PERIODS:
            raise BadInputError.invalid(f"{where}.period", value["period"], "month, quarter or all")
        out["period"] = value["period"]
    if "fcr_from" in value:
        if value["fcr_from"] not in ("flag", "derived"):
            raise BadInputError.invalid(f"{where}.fcr_from", value["fcr_from"], "flag or derived")
        out["fcr_from"] = value["fcr_from"]
    if "support" in value:
        names = value["support"]
        if not (isinstance(names, list | tuple) and names and all(isinstance(n, str) and n for n in names)):
            raise BadInputError.invalid(f"{where}.support", names, "a list of touchpoint or stage names")
        out["support"] = list(names)
    for key, most, expected in (
        ("window_days", math.inf, "a number ≥ 0"),
        ("gross_margin", 1.0, "a number from 0 to 1"),
    ):
        if key in value:
            number = value[key]
            is_number = isinstance(number, int | float) and not isinstance(number, bool)
            if not (is_number and math.isfinite(number) and 0 <= number <= most):
                raise BadInputError.invalid(f"{where}.{key}", number, expected)
            out[key] = float(number)
    return out


def kept_options_words(kept: Mapping[str, Any]) -> str:
    """Kept options for people: ``per quarter · repeat window 14 days · gross margin 0.6``; "" for none."""
    words = {"month": "per month", "quarter": "per quarter", "all": "over the whole log"}
    parts = [words[kept["period"]]] if kept.get("period") in words else []
    if kept.get("fcr_from") == "flag":
        parts.append("cases from the fcr column")
    if kept.get("support"):
        parts.append("support at " + ", ".join(kept["support"]))
    if "window_days" in kept:
        parts.append(f"repeat window {kept['window_days']:g} days")
    if "gross_margin" in kept:
        parts.append(f"gross margin {kept['gross_margin']:g}")
    return " · ".join(parts)


def _to_pandas_period(label: str) -> pd.Period:
    if "-Q" in label:
        return pd.Period(label.replace("-Q", "Q"), freq="Q")
    return pd.Period(label, freq="M")


def _from_pandas_period(p: pd.Period) -> str:
    return f"{p.year:04d}-Q{p.quarter}" if p.freqstr.startswith("Q") else f"{p.year:04d}-{p.month:02d}"


def previous_period(label: str) -> str | None:
    """The period before ``label`` (``"2026-01"`` → ``"2025-12"``, ``"2026-Q1"`` → ``"2025-Q4"``)."""
    if label == ALL:
        return None
    return _from_pandas_period(_to_pandas_period(label) - 1)


def period_range(first: str, last: str) -> list[str]:
    """Every period label from ``first`` to ``last`` inclusive (same granularity)."""
    if first == ALL:
        return [ALL]
    start, end = _to_pandas_period(first), _to_pandas_period(last)
    return [_from_pandas_period(p) for p in pd.period_range(start, end)]


def _fill_periods(frame: pd.DataFrame, periods: list[str], metric: str, defaults: dict[str, float]) -> pd.DataFrame:
    """Add a row (value NaN, counts 0) for every period of ``periods`` missing from a scope-less frame."""
    have = set(frame["period"]) if len(frame) else set()
    missing = [p for p in periods if p not in have]
    if missing:
        extra = pd.DataFrame({"metric": metric, "period": missing, "scope": ALL, "value": float("nan"), **defaults})
        frame = pd.concat([frame, extra], ignore_index=True) if len(frame) else extra
    return frame.sort_values(["scope", "period"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- events with stage


# Stored columns the metrics and the friction index read (carrying fewer speeds up the windows).
STEP_COLUMNS = ("account_id", "stage", "outcome", "value", "nps", "csat", "effort", "fcr")


def event_steps(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), *, extra: tuple[str, ...] = ()
) -> Table:
    """Every event of every journey at touchpoint level (repeats kept), with its mapped stage.

    Columns: ``journey, step, timestamp, node_code, node`` (the touchpoint) of
    :func:`analytics.journeys.journey_steps`, the stored columns of :data:`STEP_COLUMNS` and
    ``extra`` (e.g. a segment column), and ``stage``: the stage the touchpoint belongs to
    (``query.stage_of``), else the event's own stage column, else null.
    """
    q = replace(query, by="touchpoint", collapse_repeats=False)
    steps = journey_steps(events, schema, q, columns=[*STEP_COLUMNS, *extra])
    stage = steps[NODE].substitute(dict(q.stage_of), else_=ibis.null("string")) if q.stage_of else None
    if schema.has(Role.STAGE):
        stage = steps.stage if stage is None else stage.coalesce(steps.stage)
    if stage is None:
        stage = ibis.null("string")
    return steps.mutate(stage=stage)


def _scoped(steps: Table, scope: str | None, by: str | None) -> Table:
    if scope is None:
        return steps
    return steps.filter(steps[NODE] == scope) if by != "stage" else steps.filter(steps.stage == scope)


def _group_cols(steps: Table, period: Period, by: str | None) -> tuple[Table, list[str]]:
    t = steps.mutate(period=period_expr(steps[TS], period))
    if by is None:
        t = t.mutate(scope=ibis.literal(ALL))
    elif by == "touchpoint":
        t = t.mutate(scope=t[NODE])
    elif by == "stage":
        t = t.mutate(scope=t.stage.fill_null("(no stage)"))
    else:
        raise BadInputError("unknown breakdown", value=by, expected="touchpoint, stage or none")
    return t, ["period", "scope"]


def _data_periods(steps: Table, period: Period) -> list[str]:
    bounds = execute(steps.aggregate(first=steps[TS].min(), last=steps[TS].max()))
    if bounds.empty or pd.isna(bounds["first"].iloc[0]):
        return []
    return period_range(period_label(bounds["first"].iloc[0], period), period_label(bounds["last"].iloc[0], period))


def _require(schema: EventSchema, role: Role, metric: str) -> None:
    if not schema.has(role):
        raise UnknownColumnError(f"{metric} needs a {role.value} column, and this dataset has none")


def _finish(
    frame: pd.DataFrame, metric: str, steps: Table, period: Period, by: str | None, defaults: dict
) -> pd.DataFrame:
    frame = frame.assign(metric=metric)
    if by is None:
        frame = _fill_periods(frame, _data_periods(steps, period), metric, defaults)
    else:
        frame = frame.sort_values(["scope", "period"], kind="stable").reset_index(drop=True)
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra]


# --------------------------------------------------------------------------- survey metrics


class ScoreScope(TypedDict, total=False):
    """The keyword options :func:`compute_nps`, :func:`compute_csat`, :func:`compute_ces` and
    :func:`compute_conversion` share:
    ``period`` ("month" by default), ``by`` (None, "touchpoint" or "stage") and ``scope``/``scope_by``
    (restrict to one touchpoint or stage)."""

    period: Period
    by: str | None
    scope: str | None
    scope_by: str | None


@dataclass(frozen=True)
class _Score:
    """How one survey score is counted: the column it needs, the sums per group, the value from them."""

    role: Role
    label: str
    column: str
    sums: Callable[[Table], dict[str, ir.Value]]
    value: Callable[[pd.DataFrame], None]
    defaults: dict[str, float]


def _nps_value(agg: pd.DataFrame) -> None:
    agg["passives"] = agg["base"] - agg["promoters"] - agg["detractors"]
    agg["value"] = [
        nps_value(p, d, n) for p, d, n in zip(agg["promoters"], agg["detractors"], agg["base"], strict=True)
    ]


def _csat_value(agg: pd.DataFrame) -> None:
    agg["value"] = [csat_value(s, n) for s, n in zip(agg["satisfied"], agg["base"], strict=True)]


def _ces_value(agg: pd.DataFrame) -> None:
    agg["value"] = [ces_value(s, n) for s, n in zip(agg["effort_sum"], agg["base"], strict=True)]


_SCORES: dict[str, _Score] = {
    "nps": _Score(
        Role.NPS,
        "NPS",
        "nps",
        lambda t: {
            "promoters": is_promoter(t.nps).cast("int64").sum(),
            "detractors": is_detractor(t.nps).cast("int64").sum(),
            "base": t.count(),
        },
        _nps_value,
        {"base": 0, "promoters": 0, "detractors": 0, "passives": 0},
    ),
    "csat": _Score(
        Role.CSAT,
        "CSAT",
        "csat",
        lambda t: {"satisfied": is_satisfied(t.csat).cast("int64").sum(), "base": t.count()},
        _csat_value,
        {"base": 0, "satisfied": 0},
    ),
    "ces": _Score(
        Role.EFFORT,
        "CES",
        "effort",
        lambda t: {"effort_sum": t.effort.sum(), "base": t.count()},
        _ces_value,
        {"base": 0, "effort_sum": 0.0},
    ),
}


def _options(
    *, period: Period = "month", by: str | None = None, scope: str | None = None, scope_by: str | None = None
) -> tuple[Period, str | None, str | None, str | None]:
    """``period, by, scope, scope_by`` of a :class:`ScoreScope`, with their defaults (an unknown name is a TypeError)."""
    return period, by, scope, scope_by


def _score(kind: str, events: Table, schema: EventSchema, query: JourneyQuery, options: ScoreScope) -> pd.DataFrame:
    """One survey score of :data:`_SCORES` per period (and per touchpoint/stage with ``by``)."""
    period, by, scope, scope_by = _options(**options)
    spec = _SCORES[kind]
    _require(schema, spec.role, spec.label)
    steps = event_steps(events, schema, query)
    t, keys = _group_cols(_scoped(steps, scope, scope_by), period, by)
    t = t.filter(t[spec.column].notnull())
    agg = execute(t.group_by(keys).aggregate(**spec.sums(t)))
    spec.value(agg)
    return _finish(agg, kind, steps, period, by, dict(spec.defaults))


def compute_nps(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), **scope: Unpack[ScoreScope]
) -> pd.DataFrame:
    """NPS per period (and per touchpoint/stage with ``by``). Every event with an NPS score is one
    response (repeats are kept). Columns: ``metric, period, scope, value, base`` (respondents),
    ``promoters, passives, detractors``. ``scope``/``scope_by`` restrict to one touchpoint or stage.
    """
    return _score("nps", events, schema, query, scope)


def compute_csat(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), **scope: Unpack[ScoreScope]
) -> pd.DataFrame:
    """CSAT per period: 100 × responses of 4–5 / responses (1–5 scale). Columns add ``satisfied``."""
    return _score("csat", events, schema, query, scope)


def compute_ces(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), **scope: Unpack[ScoreScope]
) -> pd.DataFrame:
    """CES per period: the mean effort score. Columns add ``effort_sum``."""
    return _score("ces", events, schema, query, scope)


# --------------------------------------------------------------------------- FCR


def compute_fcr(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    period: Period = "month",
    by: str | None = None,
    support: tuple[str, ...] = (),
    window_days: float = 7.0,
    use_flag: bool | None = None,
) -> pd.DataFrame:
    """FCR per period (see the module docstring for both definitions).

    ``use_flag``: None uses the ``fcr`` column when the dataset has one, else derives; True
    requires the column; False always derives. Deriving needs ``support``: touchpoint or stage
    names whose events are support contacts. A case belongs to the period of its first contact.
    Columns add ``resolved`` and ``method`` ("flag" or "derived").
    """
    steps = event_steps(events, schema, query)
    flag = schema.has(Role.FCR) if use_flag is None else use_flag
    if flag:
        _require(schema, Role.FCR, "FCR from a flag")
        t = steps if not support else steps.filter(steps[NODE].isin(support) | steps.stage.isin(support))
        t, keys = _group_cols(t, period, by)
        t = t.filter(t.fcr.notnull())
        agg = execute(t.group_by(keys).aggregate(resolved=t.fcr.cast("int64").sum(), base=t.count()))
        method = "flag"
    else:
        if not support:
            raise BadInputError(
                "FCR without a resolved-on-first-contact column needs the support touchpoints or stages",
                expected="at least one support touchpoint or stage",
            )
        window = ibis.interval(seconds=int(round(window_days * 86400)))
        t = steps.filter(steps[NODE].isin(support) | steps.stage.isin(support))
        w = ibis.window(group_by=JOURNEY, order_by=STEP)
        t = t.mutate(_prev_ts=t[TS].lag().over(w), _next_ts=t[TS].lead().over(w))
        # A contact within the window after another one is a repeat of that case, not a new case.
        t = t.filter(t._prev_ts.isnull() | (t[TS] - t._prev_ts > window))
        t = t.mutate(_resolved=(t._next_ts.isnull() | (t._next_ts - t[TS] > window)).cast("int64"))
        t, keys = _group_cols(t, period, by)
        agg = execute(t.group_by(keys).aggregate(resolved=t._resolved.sum(), base=t.count()))
        method = "derived"
    agg["value"] = [fcr_value(r, n) for r, n in zip(agg["resolved"], agg["base"], strict=True)]
    agg["method"] = method
    return _finish(agg, "fcr", steps, period, by, {"base": 0, "resolved": 0, "method": method})


# --------------------------------------------------------------------------- accounts: retention and CLV


def _account_periods(events: Table, schema: EventSchema, query: JourneyQuery, period: Period) -> pd.DataFrame:
    """Per period: accounts active, new, retained from the previous period, revenue (filled gaps)."""
    if period == ALL:
        raise BadInputError("retention and CLV are per period", value=period, expected="month or quarter")
    steps = event_steps(events, schema, replace(query, level="contact"))
    t = steps.mutate(period=period_expr(steps[TS], period))
    revenue = t.value.sum() if schema.has(Role.VALUE) else ibis.literal(0.0)
    active = execute(t.group_by(["account_id", "period"]).aggregate(revenue=revenue))
    periods = _data_periods(steps, period)
    rows = []
    if not periods:
        return pd.DataFrame(columns=["period", "active", "new", "start", "retained", "churned", "revenue"])
    first_period = active.groupby("account_id")["period"].min()
    by_period = {p: set(g["account_id"]) for p, g in active.groupby("period")}
    revenue_by_period = active.groupby("period")["revenue"].sum()
    previous: set[str] | None = None
    for p in periods:
        now = by_period.get(p, set())
        rows.append(
            {
                "period": p,
                "active": len(now),
                "new": int((first_period == p).sum()),
                "start": len(previous) if previous is not None else 0,
                "retained": len(now & previous) if previous is not None else 0,
                "churned": len(previous - now) if previous is not None else 0,
                "revenue": float(revenue_by_period.get(p, 0.0) or 0.0),
                "has_start": previous is not None,
            }
        )
        previous = now
    return pd.DataFrame(rows)


def compute_retention(
    events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery(), *, period: Period = "month"
) -> pd.DataFrame:
    """Retention rate per period (module docstring). Accounts are ``account_id`` (the journey id
    where the log has no account column). Columns add ``active_end, new, active_start``.
    """
    ap = _account_periods(events, schema, query, period)
    out = pd.DataFrame(
        {
            "metric": "retention",
            "period": ap["period"],
            "scope": ALL,
            "value": [
                retention_value(e, n, s) if has else float("nan")
                for e, n, s, has in zip(ap["active"], ap["new"], ap["start"], ap.get("has_start", []), strict=True)
            ],
            "base": ap["start"],
            "active_end": ap["active"],
            "new": ap["new"],
            "active_start": ap["start"],
        }
    )
    return out.reset_index(drop=True)


def compute_clv(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    period: Period = "month",
    gross_margin: float = 1.0,
) -> pd.DataFrame:
    """CLV per period = ARPA × gross margin / churn (module docstring); ``gross_margin`` in 0..1.

    Needs the ``value`` column (revenue). Columns add ``revenue, arpa, churn_rate, active_end``.
    """
    _require(schema, Role.VALUE, "CLV")
    if not 0 <= gross_margin <= 1:
        raise BadInputError("gross margin is a fraction", value=gross_margin, expected="a number from 0 to 1")
    ap = _account_periods(events, schema, query, period)
    arpa = [r / a if a else float("nan") for r, a in zip(ap["revenue"], ap["active"], strict=True)]
    churn = [c / s if s else float("nan") for c, s in zip(ap["churned"], ap["start"], strict=True)]
    return pd.DataFrame(
        {
            "metric": "clv",
            "period": ap["period"],
            "scope": ALL,
            "value": [clv_value(a, gross_margin, c) for a, c in zip(arpa, churn, strict=True)],
            "base": ap["active"],
            "revenue": ap["revenue"],
            "arpa": arpa,
            "churn_rate": churn,
            "active_end": ap["active"],
        }
    ).reset_index(drop=True)


# --------------------------------------------------------------------------- conversion


def journey_flags(
    steps: Table, events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion
) -> Table:
    """One row per journey of ``steps``: ``journey, first_ts, converted`` (1 when it converts)."""
    first = steps.group_by(JOURNEY).aggregate(first_ts=steps[TS].min())
    conv = converted_journeys(events, schema, query, conversion).select(JOURNEY, _c=ibis.literal(1, "int64"))
    j = first.left_join(conv, JOURNEY)
    return j.select(JOURNEY, "first_ts", converted=j._c.fill_null(0))


def compute_conversion(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    conversion: Conversion,
    **options: Unpack[ScoreScope],
) -> pd.DataFrame:
    """Conversion rate per period of the journey's first event (module docstring).

    ``conversion``: the dataset's definition. With ``by`` ("touchpoint"/"stage"), the rate of the
    journeys that visited each touchpoint/stage. Columns add ``converted``.
    """
    if not conversion.defined:
        raise ConversionUndefinedError("the conversion rate")
    period, by, scope, scope_by = _options(**options)
    steps = event_steps(events, schema, query)
    flags = journey_flags(steps, events, schema, query, conversion)
    entrants = _scoped(steps, scope, scope_by)
    if by is None:
        keyed = entrants.select(JOURNEY).distinct().mutate(scope=ibis.literal(ALL))
    elif by == "touchpoint":
        keyed = entrants.select(JOURNEY, scope=entrants[NODE]).distinct()
    elif by == "stage":
        keyed = entrants.filter(entrants.stage.notnull()).select(JOURNEY, scope=entrants.stage).distinct()
    else:
        raise BadInputError("unknown breakdown", value=by, expected="touchpoint, stage or none")
    j = keyed.join(flags, JOURNEY)
    j = j.mutate(period=period_expr(j.first_ts, period))
    agg = execute(j.group_by(["period", "scope"]).aggregate(converted=j.converted.sum(), base=j.count()))
    agg["value"] = [conversion_value(c, n) for c, n in zip(agg["converted"], agg["base"], strict=True)]
    return _finish(agg, "conversion", steps, period, by, {"base": 0, "converted": 0})


def compute_metric(
    kind: str,
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    period: Period = "month",
    by: str | None = None,
    scope: str | None = None,
    scope_by: str | None = None,
    conversion: Conversion = NOT_DEFINED,
    support: tuple[str, ...] = (),
    window_days: float = 7.0,
    gross_margin: float = 1.0,
) -> pd.DataFrame:
    """Dispatch to the ``compute_*`` function of ``kind`` (one of :data:`KINDS`)."""
    if kind in _SCORES:
        return _score(kind, events, schema, query, {"period": period, "by": by, "scope": scope, "scope_by": scope_by})
    if kind == "fcr":
        return compute_fcr(events, schema, query, period=period, by=by, support=support, window_days=window_days)
    if kind == "retention":
        return compute_retention(events, schema, query, period=period)
    if kind == "clv":
        return compute_clv(events, schema, query, period=period, gross_margin=gross_margin)
    if kind == "conversion":
        return compute_conversion(
            events, schema, query, conversion=conversion, period=period, by=by, scope=scope, scope_by=scope_by
        )
    raise BadInputError("unknown metric", value=kind, expected=", ".join(KINDS))


# The metrics computed from a log, in the order they are listed.
COMPUTED_KINDS: tuple[str, ...] = ("conversion", "retention", "nps", "csat", "ces", "fcr", "clv")
# The column a survey or value metric needs (the others need none of their own).
KIND_ROLES: dict[str, Role] = {"nps": Role.NPS, "csat": Role.CSAT, "ces": Role.EFFORT, "clv": Role.VALUE}


def roles_with_values(events: Table, schema: EventSchema, roles: tuple[Role, ...]) -> frozenset[Role]:
    """Those of ``roles`` whose column holds a value in some row, in one scan (a column mapped at import
    may be empty in every row: a metric computed from it would report an invented 0)."""
    from analytics.engine import execute

    present = [r for r in roles if schema.has(r)]
    if not present:
        return frozenset()
    row = execute(events.aggregate(**{r.value: events[STORED_COLUMN[r]].notnull().any() for r in present}))
    return frozenset(r for r in present if bool(row[r.value].iloc[0]))


def available_kinds(schema: EventSchema) -> list[str]:
    """Metrics a dataset can compute: survey metrics need their score column, CLV the value column."""
    return [k for k in COMPUTED_KINDS if k not in KIND_ROLES or schema.has(KIND_ROLES[k])]


# --------------------------------------------------------------------------- outcomes


def compute_outcome_shares(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    stage: str | None = None,
    outcomes: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Journeys by outcome: ``outcome, journeys, share`` (share a fraction of the journeys counted,
    as in :func:`analytics.outcomes.compute_outcomes`).

    A journey's outcome is :func:`analytics.outcomes.last_outcomes` of its events (none: ``NO_OUTCOME``).
    With ``stage``, only journeys that reached that stage count. With ``outcomes`` (e.g. the
    stage's hired / not now / no way), any other outcome is grouped as ``OTHER_OUTCOME``; listed outcomes
    with no journey are shown with 0.
    """
    _require(schema, Role.OUTCOME, "outcomes")
    steps = event_steps(events, schema, query)
    journeys = (
        steps.select(JOURNEY).distinct()
        if stage is None
        else steps.filter(steps.stage == stage).select(JOURNEY).distinct()
    )
    last = last_outcomes(steps, "outcome")  # the same steps: one pass over the events
    j = journeys.left_join(last, JOURNEY).select(JOURNEY, outcome=ibis._.outcome.fill_null(NO_OUTCOME))
    agg = execute(j.group_by("outcome").aggregate(journeys=j.count()))
    if outcomes:
        agg["outcome"] = [o if o in outcomes or o == NO_OUTCOME else OTHER_OUTCOME for o in agg["outcome"]]
        agg = agg.groupby("outcome", as_index=False)["journeys"].sum()
        missing = [o for o in outcomes if o not in set(agg["outcome"])]
        if missing:
            agg = pd.concat([agg, pd.DataFrame({"outcome": missing, "journeys": 0})], ignore_index=True)
        order = {o: i for i, o in enumerate([*outcomes, OTHER_OUTCOME, NO_OUTCOME])}
        agg = agg.sort_values("outcome", key=lambda s: s.map(order)).reset_index(drop=True)
    else:
        agg = agg.sort_values(["journeys", "outcome"], ascending=[False, True]).reset_index(drop=True)
    total = int(agg["journeys"].sum())
    agg["journeys"] = agg["journeys"].astype("int64")
    agg["share"] = [n / total if total else float("nan") for n in agg["journeys"]]
    return agg


def compute_referrals(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    former_stage: str,
    referral_touchpoints: tuple[str, ...],
) -> pd.DataFrame:
    """Former clients who referred new ones.

    A former client is an account with an event in ``former_stage``. A referral is an event at one
    of ``referral_touchpoints`` whose account is *another* account, made by a former client: the
    referrer is read from the event's ``referred_by`` segment column where the log has one;
    otherwise a former client counts as referring when one of its own events in ``former_stage`` is
    at a referral touchpoint. Columns: ``former_clients, referring_clients, share, new_accounts_referred``.
    """
    referral_col = next(
        (s for s in schema.segments if s.lower().replace(" ", "_") in ("referred_by", "referrer")), None
    )
    extra = (f"segment:{referral_col}",) if referral_col else ()
    steps = event_steps(events, schema, replace(query, level="contact"), extra=extra)
    former = steps.filter(steps.stage == former_stage).select("account_id").distinct()
    former_n = int(_scalar(former.count()))
    referral_col = next(
        (s for s in schema.segments if s.lower().replace(" ", "_") in ("referred_by", "referrer")), None
    )
    if referral_col is not None:
        col = f"segment:{referral_col}"
        refs = steps.filter(steps[col].notnull() & (steps[col] != steps.account_id))
        pairs = refs.select(referrer=refs[col], account_id=refs.account_id).distinct()
        pairs = pairs.filter(pairs.referrer.isin(former.account_id))
        referring = int(_scalar(pairs.select("referrer").distinct().count()))
        referred = int(_scalar(pairs.select("account_id").distinct().count()))
    else:
        own = steps.filter((steps.stage == former_stage) & steps[NODE].isin(referral_touchpoints))
        referring = int(_scalar(own.select("account_id").distinct().count()))
        later = steps.filter(steps[NODE].isin(referral_touchpoints) & (steps.stage != former_stage))
        referred = int(_scalar(later.select("account_id").distinct().count()))
    return pd.DataFrame(
        {
            "former_clients": [former_n],
            "referring_clients": [referring],
            "share": [100.0 * referring / former_n if former_n else float("nan")],
            "new_accounts_referred": [referred],
        }
    )


def _scalar(expr: ibis.Value) -> float:
    from analytics.engine import execute_scalar

    return execute_scalar(expr)
