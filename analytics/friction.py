"""The friction index: a 0–100 score per touchpoint and per stage, from the event log alone.

Every event of every journey is kept (repeats are not collapsed: a repeat is friction). For a
touchpoint *t* (the events whose node is *t*):

=============  ===========================================================  =========================
component      raw measure                                                  score s in 0..1
=============  ===========================================================  =========================
exit           exit rate e(t) = journeys whose last event is at t and that  (e − b) / (1 − b), floored
               do not convert (and, when lost is defined, are lost) /       at 0: only exits above the
               journeys with an event at t;
               base rate b = Σ exits / Σ journeys over all touchpoints      base rate count
               (the exit rate of an average touchpoint)
backtrack      moves from t to an event of an earlier stage (designed       the rate itself
               order) / moves out of t (events at t followed by another)
repeat         (consecutive repeats: the previous event is also at t;       the rate itself
               revisits: t seen earlier in the journey, not just before) /
               events at t
delay          r = median time from an event at t to the journey's next     1 − 1/r when r > 1, else 0
               event / the same median over all events of t's stage         (0.5 = twice the stage's)
feedback       negative responses / responses at t, counting each score     the rate itself; no score
               column separately: NPS 0–6 (detractor), CSAT 1–2, effort     → the component is absent
               ≥ ``effort_high`` (default 5, on 1–7)
=============  ===========================================================  =========================

friction(t) = 100 × Σ wᵢ·sᵢ / Σ wᵢ, summed over the components present for t (weights
:class:`FrictionWeights`, default exit 0.30, backtrack 0.20, repeat 0.15, delay 0.15, feedback
0.20). ``contrib_<component>`` = 100 × wᵢ·sᵢ / Σ wᵢ, so the contributions add up to the index.

What converts is the dataset's definition (``conversion``, :mod:`analytics.conversion`: goal nodes
or an outcome); when it is not defined no journey converts. When lost is defined too, a journey that
neither converted nor was lost is still open: its end is not an exit. Stage order: the designed order given (``stage_order``), else the
stages ordered by the mean relative position (step / (journey length − 1)) of their events.
Events without a stage neither backtrack nor are backtracked to. A touchpoint's stage is the map's
stage for it; where only the events' own stage column says, the first of its values in text order
(a touchpoint logged in two stages is rare; MIN runs on every backend, a mode does not).

Per stage the same components are pooled over the stage's events: exit rate of the stage
(journeys whose last event is in it and that count as an exit, as above / journeys with an event
in it) against the pooled base rate over stages; backtracks, repeats and negative responses summed
over its touchpoints; delay: the stage's median time to the next event against the median over all events.

Validation: :func:`compute_friction_validation` ranks touchpoints by the *behavioural* index
(feedback weight 0, so the survey does not validate itself) and gives Spearman's rank correlation
with each mean survey score per touchpoint (ties get average ranks). Friction should run against
satisfaction: a negative ρ with NPS and CSAT, a positive ρ with effort.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import NOT_DEFINED, Conversion, converted_journeys, lost_journeys
from analytics.engine import execute
from analytics.journeys import (
    CONSECUTIVE,
    FIRST_VISIT,
    GAP,
    JOURNEY,
    LAST_STEP,
    NEXT_CODE,
    NEXT_STAGE_COLUMN,
    NODE,
    NODE_CODE,
    STEP,
    JourneyQuery,
    event_neighbours,
    load_labels,
    stack,
)
from analytics.metrics import event_steps, is_detractor, is_promoter, is_satisfied
from analytics.numbers import format_duration, format_percent
from analytics.schema import EventSchema, Role
from core.errors import BadInputError

COMPONENTS: tuple[str, ...] = ("exit", "backtrack", "repeat", "delay", "feedback")
COMPONENT_LABELS: dict[str, str] = {
    "exit": "Exit rate above base",
    "backtrack": "Backtrack rate",
    "repeat": "Repeat rate",
    "delay": "Delay vs stage",
    "feedback": "Negative feedback",
}
EFFORT_HIGH = 5.0


@dataclass(frozen=True)
class FrictionWeights:
    """Weights of the components (any non-negative numbers; they are normalised)."""

    exit: float = 0.30
    backtrack: float = 0.20
    repeat: float = 0.15
    delay: float = 0.15
    feedback: float = 0.20

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def validate(self) -> FrictionWeights:
        values = self.as_dict()
        bad = {k: v for k, v in values.items() if v is None or v < 0 or np.isnan(v)}
        if bad:
            raise BadInputError("friction weights must be non-negative numbers", value=bad)
        if sum(values.values()) <= 0:
            raise BadInputError("at least one friction weight must be above 0", value=values)
        return self


# --------------------------------------------------------------------------- component scores


def exit_score(exit_rate: float, base_rate: float) -> float:
    """(e − b) / (1 − b) floored at 0; 0 when b is 1 or the rate unknown."""
    if np.isnan(exit_rate) or np.isnan(base_rate) or base_rate >= 1:
        return 0.0
    return max(0.0, (exit_rate - base_rate) / (1.0 - base_rate))


def delay_score(median_seconds: float, reference_seconds: float) -> float:
    """1 − reference/median when the median exceeds the reference, else 0; NaN without a median."""
    if np.isnan(median_seconds):
        return float("nan")
    if np.isnan(reference_seconds) or median_seconds <= reference_seconds:
        return 0.0
    if reference_seconds <= 0:
        return 1.0
    return 1.0 - reference_seconds / median_seconds


def friction_index(scores: dict[str, float], weights: FrictionWeights) -> tuple[float, dict[str, float]]:
    """100 × Σ wᵢsᵢ / Σ wᵢ over the components present (not NaN); and each component's contribution."""
    w = weights.as_dict()
    present = {k: s for k, s in scores.items() if s is not None and not np.isnan(s)}
    total_w = sum(w[k] for k in present)
    if total_w <= 0:
        return float("nan"), dict.fromkeys(COMPONENTS, float("nan"))
    contrib = {k: (100.0 * w[k] * present[k] / total_w if k in present else float("nan")) for k in COMPONENTS}
    return float(sum(v for v in contrib.values() if not np.isnan(v))), contrib


# --------------------------------------------------------------------------- per-event flags


def _feedback(t: Table, schema: EventSchema, effort_high: float) -> tuple[ibis.Value, ibis.Value]:
    """Per event: ``(responses, negative)``, counting each score column separately (NPS 0–6, CSAT
    1–2 and effort ≥ ``effort_high`` are negative)."""
    resp: ibis.Value = ibis.literal(0)
    neg: ibis.Value = ibis.literal(0)
    for role, column, bad in (
        (Role.NPS, "nps", is_detractor),
        (Role.CSAT, "csat", lambda v: v <= 2),
        (Role.EFFORT, "effort", lambda v: v >= effort_high),
    ):
        if schema.has(role):
            neg = neg + bad(t[column]).fill_null(False).cast("int64")
            resp = resp + t[column].notnull().cast("int64")
    return resp, neg


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    def div(a: pd.Series, b: pd.Series) -> pd.Series:
        a, b = a.astype("float64"), b.astype("float64")
        return (a / b.where(b > 0)).astype("float64")

    df["exit_rate"] = div(df["exits"], df["journeys"])
    df["backtrack_rate"] = div(df["backtracks"], df["moves_out"])
    df["repeat_rate"] = div(df["consecutive_repeats"] + df["revisits"], df["events"])
    df["negative_rate"] = div(df["negative"], df["responses"])
    df["conversion"] = 100.0 * div(df["converted_journeys"], df["journeys"])
    if "promoters" in df:
        df["nps"] = 100.0 * div(df["promoters"] - df["detractors"], df["nps_respondents"])
    if "csat_satisfied" in df:
        df["csat"] = 100.0 * div(df["csat_satisfied"], df["csat_responses"])
    return df


def _apply_index(df: pd.DataFrame, weights: FrictionWeights) -> pd.DataFrame:
    totals: list[float] = []
    contribs: dict[str, list[float]] = {k: [] for k in COMPONENTS}
    for row in df.itertuples(index=False):
        scores = {
            "exit": row.exit_score,
            "backtrack": row.backtrack_score,
            "repeat": row.repeat_score,
            "delay": row.delay_score,
            "feedback": row.feedback_score,
        }
        total, contrib = friction_index(scores, weights)
        totals.append(total)
        for k in COMPONENTS:
            contribs[k].append(contrib[k])
    df["friction"] = totals
    for k in COMPONENTS:
        df[f"contrib_{k}"] = contribs[k]
    return df


def _component_scores(df: pd.DataFrame, base_exit_rate: float, reference: pd.Series) -> pd.DataFrame:
    df["base_exit_rate"] = base_exit_rate
    df["exit_score"] = [exit_score(e, base_exit_rate) for e in df["exit_rate"].fillna(0.0)]
    df["backtrack_score"] = df["backtrack_rate"].fillna(0.0)
    df["repeat_score"] = df["repeat_rate"].fillna(0.0)
    df["reference_gap_seconds"] = reference.astype("float64").to_numpy()
    df["delay_ratio"] = df["median_gap_seconds"] / df["reference_gap_seconds"].where(df["reference_gap_seconds"] > 0)
    df["delay_score"] = [
        delay_score(m, r) for m, r in zip(df["median_gap_seconds"], df["reference_gap_seconds"], strict=True)
    ]
    df["feedback_score"] = df["negative_rate"]  # NaN where the touchpoint has no response
    return df


def _pct(fraction: float) -> str:
    return format_percent(fraction, fraction=True)


def _reason(row: pd.Series, ref_name: str, *, lost_defined: bool = False) -> str:
    """The 2-3 largest contributions in words; an exit is said as the rule counted it (with lost
    defined, only a lost journey's end is an exit)."""
    parts = []
    ranked = sorted(
        ((row[f"contrib_{k}"], k) for k in COMPONENTS if not np.isnan(row[f"contrib_{k}"]) and row[f"contrib_{k}"] > 0),
        reverse=True,
    )
    for _, k in ranked[:3]:
        if k == "exit":
            ending = "lost" if lost_defined else "unconverted"
            parts.append(f"{_pct(row.exit_rate)} of its journeys end there {ending} (base {_pct(row.base_exit_rate)})")
        elif k == "backtrack":
            parts.append(f"{_pct(row.backtrack_rate)} of moves go back to an earlier stage")
        elif k == "repeat":
            parts.append(f"{_pct(row.repeat_rate)} of visits are repeats")
        elif k == "delay":
            parts.append(
                f"median {format_duration(row.median_gap_seconds)} to the next event "
                f"vs {format_duration(row.reference_gap_seconds)} {ref_name}"
            )
        elif k == "feedback":
            parts.append(f"{_pct(row.negative_rate)} negative feedback")
    return "; ".join(parts) if parts else "no friction above the journey's norm"


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class FrictionResult:
    """Touchpoint and stage tables of the index, the stage order used, and whether lost was defined
    (then only lost journeys' ends count as exits)."""

    touchpoints: pd.DataFrame
    stages: pd.DataFrame
    stage_order: tuple[str, ...]
    weights: FrictionWeights
    lost_defined: bool = False


def _stage_names(events: Table, schema: EventSchema, query: JourneyQuery, stage_order: tuple[str, ...]) -> list[str]:
    """Every stage an event can have: the designed order first, then the map's, then the data's."""
    names = list(dict.fromkeys(stage_order))
    names += [s for _, s in query.stage_of if s not in names]
    if schema.has(Role.STAGE):
        found = execute(events.select(_s=events.stage).distinct())["_s"].dropna().astype(str)
        names += sorted(set(found) - set(names))
    return list(dict.fromkeys(names))


def _lean_events(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    *,
    labels: dict[int, str],
    stages: list[str],
    conversion: Conversion,
    scores: list[str],
    effort_high: float,
    positions: bool,
) -> Table:
    """Every event (touchpoint level, repeats kept) on integer codes with the flags the index sums.

    Columns: ``journey, node_code, sc`` (stage code: index in ``stages``, null without a stage),
    ``nsc`` (the next event's stage code), ``conv``, ``ends`` (1 when the journey's end counts as an
    exit: not converted and, with lost defined, lost), ``moved``, ``first`` (first visit of the node in
    the journey), ``consec``, ``gap`` (seconds to the next event), ``pos`` (step / last step, with
    ``positions``), ``responses``, ``negative`` and the score columns ``scores``. The neighbours come from
    :func:`event_neighbours` (stored at import where the query allows: then no window function
    runs at all); conversion is a hash semi-join against the journeys that convert.
    """
    q = replace(query, by="touchpoint", collapse_repeats=False)
    has_stage = schema.has(Role.STAGE)
    t = event_neighbours(events, schema, q, columns=[*(["stage"] if has_stage else []), *scores])
    code_of = {name: i for i, name in enumerate(stages)}
    stage_of = dict(q.stage_of)
    node_stage = {c: code_of[stage_of[n]] for c, n in labels.items() if n in stage_of and stage_of[n] in code_of}

    def stage_code(node: ibis.Value, stage: ibis.Value | None) -> ibis.Value:
        sc: ibis.Value | None = None
        if node_stage:
            sc = node.substitute(node_stage, else_=ibis.null("int64"))
        if stage is not None:
            own = stage.substitute(code_of, else_=ibis.null("int64"))
            sc = own if sc is None else sc.coalesce(own)
        return (sc if sc is not None else ibis.null("int64")).cast("int32")

    t = t.mutate(
        sc=stage_code(t[NODE_CODE], t.stage if has_stage else None),
        nsc=stage_code(t[NEXT_CODE], t[NEXT_STAGE_COLUMN] if has_stage else None),
    )
    converted = converted_journeys(events, schema, q, conversion)
    t = t.mutate(conv=t[JOURNEY].isin(converted[JOURNEY]))
    if conversion.lost_defined:
        lost = lost_journeys(events, schema, q, conversion)
        t = t.mutate(ends=t[JOURNEY].isin(lost[JOURNEY]))
    else:
        t = t.mutate(ends=~t.conv)
    moved = t[NEXT_CODE].notnull()
    resp, neg = _feedback(t, schema, effort_high)
    pos = ibis.literal(0.0)
    if positions:
        pos = ibis.ifelse(t[LAST_STEP] > 0, t[STEP].cast("float64") / t[LAST_STEP], 0.0)
    return t.select(
        JOURNEY,
        NODE_CODE,
        "sc",
        "nsc",
        *scores,
        conv=t.conv.cast("int64"),
        ends=t.ends.cast("int64"),
        moved=moved.cast("int64"),
        first=t[FIRST_VISIT].cast("int64"),
        consec=t[CONSECUTIVE].cast("int64"),
        gap=t[GAP],
        pos=pos,
        responses=resp,
        negative=neg,
    )


# Sums per (touchpoint, stage, next stage): the touchpoint, stage and backtrack figures add up from them.
_SUMS = (
    "events",
    "journeys",
    "converted_journeys",
    "exits",
    "moves_out",
    "consecutive_repeats",
    "revisits",
    "responses",
    "negative",
    "pos_sum",
    "pos_n",
    "nps_sum",
    "nps_respondents",
    "promoters",
    "detractors",
    "csat_sum",
    "csat_responses",
    "csat_satisfied",
    "effort_sum",
    "effort_n",
)


def _sums(t: Table, scores: list[str]) -> dict[str, ibis.Value]:
    zero = ibis.literal(0, "int64")
    aggs: dict[str, ibis.Value] = {
        "events": t.count(),
        "journeys": t["first"].sum(),
        "converted_journeys": (t["first"] * t.conv).sum(),
        "exits": ((1 - t.moved) * t.ends).sum(),
        "moves_out": t.moved.sum(),
        "consecutive_repeats": t.consec.sum(),
        "revisits": ((1 - t["first"]) * (1 - t.consec)).sum(),
        "responses": t.responses.sum(),
        "negative": t.negative.sum(),
        "pos_sum": t.pos.sum(),
        "pos_n": t.count(),
    }
    for name, col, checks in (
        ("nps", "nps", {"promoters": is_promoter, "detractors": is_detractor}),
        ("csat", "csat", {"csat_satisfied": is_satisfied}),
        ("effort", "effort", {}),
    ):
        present = name in scores
        count_name = {"nps": "nps_respondents", "csat": "csat_responses", "effort": "effort_n"}[name]
        aggs[f"{name}_sum"] = t[col].sum() if present else ibis.literal(0.0)
        aggs[count_name] = t[col].count() if present else zero
        for key, check in checks.items():
            aggs[key] = check(t[col]).fill_null(False).cast("int64").sum() if present else zero
    return aggs


def _finish(df: pd.DataFrame, scores: list[str]) -> pd.DataFrame:
    """Means of the score columns from their sums, in the columns the tables show."""

    def mean(total: str, n: str) -> pd.Series:
        return (df[total] / df[n].where(df[n] > 0)).astype("float64")

    if "nps" in scores:
        df["nps_mean"] = mean("nps_sum", "nps_respondents")
    if "csat" in scores:
        df["csat_mean"] = mean("csat_sum", "csat_responses")
    if "effort" in scores:
        df["effort_mean"] = mean("effort_sum", "effort_n")
    return df


def compute_friction(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    conversion: Conversion = NOT_DEFINED,
    stage_order: tuple[str, ...] = (),
    weights: FrictionWeights = FrictionWeights(),
    effort_high: float = EFFORT_HIGH,
) -> FrictionResult:
    """The friction index per touchpoint and per stage (the module docstring states the formula).

    ``query`` sets the level (contact or account journeys), the filters and the activity →
    touchpoint → stage relabelling; its ``by`` and ``collapse_repeats`` are ignored (touchpoint
    level, every event kept). Tables are sorted by friction (highest first), ties by name.
    Touchpoint columns: ``touchpoint, stage, events, journeys, converted_journeys, conversion,
    exits, exit_rate, base_exit_rate, moves_out, backtracks, backtrack_rate, consecutive_repeats,
    revisits, repeat_rate, median_gap_seconds, reference_gap_seconds, delay_ratio, responses,
    negative, negative_rate``, each ``<component>_score`` and ``contrib_<component>``,
    ``friction``, ``reason``, and where scores exist ``nps, nps_mean, csat, csat_mean, effort_mean``.

    How it runs: one query over integer codes. Per (touchpoint, stage, next stage) it sums the
    per-event flags, so backtracks can be counted against a stage order learnt from the same
    pass; beside it, the median gaps per touchpoint, per stage and overall, and the distinct
    (and converted) journeys per stage.
    """
    weights = weights.validate()
    q = replace(query, by="touchpoint", collapse_repeats=False)
    labels = load_labels(events, schema, q).set_index(NODE_CODE)[NODE].astype(str).to_dict()
    stages = _stage_names(events, schema, q, stage_order)
    scores = [c for r, c in ((Role.NPS, "nps"), (Role.CSAT, "csat"), (Role.EFFORT, "effort")) if schema.has(r)]
    t = _lean_events(
        events,
        schema,
        q,
        labels=labels,
        stages=stages,
        conversion=conversion,
        scores=scores,
        effort_high=effort_high,
        positions=not stage_order,
    )
    sums = t.group_by([NODE_CODE, "sc", "nsc"]).aggregate(**_sums(t, scores)).mutate(_level=0)
    by_node = t.group_by(NODE_CODE).aggregate(median_gap_seconds=t.gap.median()).mutate(_level=1)
    staged = t.filter(t.sc.notnull())
    by_stage = staged.group_by("sc").aggregate(median_gap_seconds=staged.gap.median())
    overall = t.aggregate(median_gap_seconds=t.gap.median()).mutate(_level=3)
    visits = staged.select(JOURNEY, "sc", "conv").distinct()  # conv is the journey's: one row per (journey, stage)
    stage_journeys = visits.group_by("sc").aggregate(stage_journeys=visits.count(), stage_converted=visits.conv.sum())
    both = execute(
        stack([sums, by_node, by_stage.mutate(_level=2), overall, stage_journeys.mutate(_level=4)], as_type="float64")
    )
    parts = {level: both[both["_level"] == level] for level in (0, 1, 2, 3, 4)}
    rows = parts[0].copy()
    stage_name = dict(enumerate(stages))

    # The stage order: designed, else by the mean relative position of the stage's events.
    if stage_order:
        order = tuple(stage_order)
    else:
        staged_rows = rows[rows["sc"].notna()]
        pos = staged_rows.groupby("sc")[["pos_sum", "pos_n"]].sum()
        mean_pos = pd.DataFrame(
            {"stage": [stage_name[int(c)] for c in pos.index], "pos": pos["pos_sum"] / pos["pos_n"]}
        )
        order = tuple(mean_pos.sort_values(["pos", "stage"])["stage"])
    rank = {s: i for i, s in enumerate(order)}
    code_rank = {c: rank[n] for c, n in stage_name.items() if n in rank}
    src, dst = rows["sc"].map(code_rank), rows["nsc"].map(code_rank)  # NaN: no stage, or one outside the order
    rows["backtracks"] = rows["moves_out"].where(src.notna() & dst.notna() & (dst < src), 0.0)
    rows["stage"] = rows["sc"].map(lambda c: stage_name[int(c)] if pd.notna(c) else None)

    totals = [*_SUMS, "backtracks"]
    tp = rows.groupby(NODE_CODE)[totals].sum()
    tp["stage"] = rows.dropna(subset=["stage"]).groupby(NODE_CODE)["stage"].min()
    medians = parts[1].set_index(NODE_CODE)["median_gap_seconds"]
    tp["median_gap_seconds"] = medians.reindex(tp.index).astype("float64")
    tp.index = [labels[int(c)] for c in tp.index]
    tp = tp.rename_axis("touchpoint").reset_index()

    st = rows.dropna(subset=["stage"]).groupby("stage")[totals].sum()
    stage_rows = parts[2].assign(stage=[stage_name[int(c)] for c in parts[2]["sc"]]).set_index("stage")
    visited = parts[4].assign(stage=[stage_name[int(c)] for c in parts[4]["sc"]]).set_index("stage")
    st["journeys"] = visited["stage_journeys"].reindex(st.index).fillna(0)
    st["converted_journeys"] = visited["stage_converted"].reindex(st.index).fillna(0)
    st["median_gap_seconds"] = stage_rows["median_gap_seconds"].reindex(st.index).astype("float64")
    st = st.rename_axis("stage").reset_index()
    overall_gap = float(parts[3]["median_gap_seconds"].iloc[0]) if len(parts[3]) else float("nan")
    stage_gap_of = dict(zip(st["stage"], st["median_gap_seconds"].astype("float64"), strict=True))

    int_columns = [c for c in (*totals, "journeys", "converted_journeys") if c not in ("pos_sum",)]
    keep = [
        "events",
        "journeys",
        "converted_journeys",
        "exits",
        "moves_out",
        "backtracks",
        "consecutive_repeats",
        "revisits",
        "median_gap_seconds",
        "responses",
        "negative",
    ]
    score_keep = {
        "nps": ["nps_mean", "nps_respondents", "promoters", "detractors"],
        "csat": ["csat_mean", "csat_responses", "csat_satisfied"],
        "effort": ["effort_mean"],
    }
    for frame in (tp, st):
        for c in int_columns:
            if c in frame:
                frame[c] = frame[c].fillna(0).astype("int64")
        _finish(frame, scores)
    extra = [c for s in scores for c in score_keep[s]]
    tp = tp[["touchpoint", "stage", *keep, *extra]]
    st = st[["stage", *keep, *extra]]

    tp = _rates(tp)
    base_tp = float(tp["exits"].sum() / tp["journeys"].sum()) if len(tp) and tp["journeys"].sum() else float("nan")
    tp_ref = pd.Series([stage_gap_of.get(s, float("nan")) if isinstance(s, str) else overall_gap for s in tp["stage"]])
    tp = _apply_index(_component_scores(tp, base_tp, tp_ref), weights)
    lost_defined = conversion.lost_defined
    tp["reason"] = [_reason(r, "in its stage", lost_defined=lost_defined) for _, r in tp.iterrows()]
    tp = tp.sort_values(["friction", "touchpoint"], ascending=[False, True], na_position="last").reset_index(drop=True)

    st = _rates(st)
    base_st = float(st["exits"].sum() / st["journeys"].sum()) if len(st) and st["journeys"].sum() else float("nan")
    st = _apply_index(_component_scores(st, base_st, pd.Series([overall_gap] * len(st))), weights)
    st["reason"] = [_reason(r, "over the journey", lost_defined=lost_defined) for _, r in st.iterrows()]
    st["stage_position"] = [rank.get(s, len(rank)) for s in st["stage"]]
    st = st.sort_values(["friction", "stage"], ascending=[False, True], na_position="last").reset_index(drop=True)
    return FrictionResult(touchpoints=tp, stages=st, stage_order=order, weights=weights, lost_defined=lost_defined)


def reweight(result: FrictionResult, weights: FrictionWeights) -> FrictionResult:
    """The same components under other weights (no query runs: weights only change the sum)."""
    weights = weights.validate()
    tp = _apply_index(result.touchpoints.copy(), weights)
    tp["reason"] = [_reason(r, "in its stage", lost_defined=result.lost_defined) for _, r in tp.iterrows()]
    tp = tp.sort_values(["friction", "touchpoint"], ascending=[False, True], na_position="last").reset_index(drop=True)
    st = _apply_index(result.stages.copy(), weights)
    st["reason"] = [_reason(r, "over the journey", lost_defined=result.lost_defined) for _, r in st.iterrows()]
    st = st.sort_values(["friction", "stage"], ascending=[False, True], na_position="last").reset_index(drop=True)
    return replace(result, touchpoints=tp, stages=st, weights=weights)


HOT_SPOT_MIN_JOURNEYS = 5  # fewer journeys through a touchpoint are noise, not a hot spot
# A friction index (0–100) this high is red on the Overview, this high amber; below, green.
FRICTION_RED, FRICTION_AMBER = 50.0, 25.0


def friction_status(index: float | None) -> str:
    """``red`` / ``amber`` / ``green`` of a friction index (:data:`FRICTION_RED`, :data:`FRICTION_AMBER`); ``none``
    without one."""
    if index is None:
        return "none"
    return "red" if index >= FRICTION_RED else "amber" if index >= FRICTION_AMBER else "green"


def compute_hot_spots(
    touchpoints: pd.DataFrame, *, top_n: int = 5, min_journeys: int = HOT_SPOT_MIN_JOURNEYS
) -> pd.DataFrame:
    """The ``top_n`` touchpoints by friction among those with at least ``min_journeys`` journeys
    (a touchpoint two journeys passed through is noise, not a hot spot): ``touchpoint, stage,
    friction, journeys, reason``.
    """
    keep = touchpoints[touchpoints["journeys"] >= min_journeys]
    keep = keep.sort_values(["friction", "touchpoint"], ascending=[False, True], na_position="last")
    return keep.head(top_n)[["touchpoint", "stage", "friction", "journeys", "reason"]].reset_index(drop=True)


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's ρ: Pearson correlation of the average ranks; NaN with fewer than 3 pairs or no spread."""
    pairs = pd.DataFrame({"x": x.to_numpy(), "y": y.to_numpy()}).dropna()
    if len(pairs) < 3:
        return float("nan")
    rx, ry = pairs["x"].rank(method="average"), pairs["y"].rank(method="average")
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def compute_friction_validation(result: FrictionResult, *, min_responses: int = 5) -> pd.DataFrame:
    """Spearman's ρ between the behavioural index (feedback weight 0) and each mean survey score,
    over touchpoints with at least ``min_responses`` responses: ``score, touchpoints, rho, expected``.
    """
    w = result.weights
    behavioural_weights = replace(w, feedback=0.0)
    has_behaviour = sum(behavioural_weights.as_dict().values()) > 0
    behavioural = reweight(result, behavioural_weights) if has_behaviour else result
    tp = behavioural.touchpoints
    rows = []
    for col, label, expected in (
        ("nps_mean", "NPS", "negative"),
        ("csat_mean", "CSAT", "negative"),
        ("effort_mean", "Effort", "positive"),
    ):
        if col not in tp:
            continue
        count_col = {"nps_mean": "nps_respondents", "csat_mean": "csat_responses"}.get(col, "responses")
        sel = tp[tp[count_col] >= min_responses]
        rows.append(
            {"score": label, "touchpoints": len(sel), "rho": spearman(sel["friction"], sel[col]), "expected": expected}
        )
    return pd.DataFrame(rows, columns=["score", "touchpoints", "rho", "expected"])


def compute_backward_transitions(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    stage_order: tuple[str, ...],
) -> pd.DataFrame:
    """Transitions that run against the designed stage order: a move from an event in stage A to the
    journey's next event in a stage before A. Columns ``from_touchpoint, from_stage, to_touchpoint,
    to_stage, transitions, journeys``, most frequent first.
    """
    t = event_steps(events, schema, query)
    rank = t.stage.substitute({s: i for i, s in enumerate(stage_order)}, else_=ibis.null("int64"))
    w = ibis.window(group_by=JOURNEY, order_by=STEP)
    t = t.mutate(next_node=t[NODE].lead().over(w), next_stage=t.stage.lead().over(w), _rank=rank)
    t = t.mutate(_next_rank=t._rank.lead().over(w))
    b = t.filter((t.next_node.notnull() & (t._next_rank < t._rank)).fill_null(False))
    df = execute(
        b.group_by([NODE, "stage", "next_node", "next_stage"]).aggregate(
            transitions=b.count(), journeys=b[JOURNEY].nunique()
        )
    )
    df = df.rename(
        columns={NODE: "from_touchpoint", "stage": "from_stage", "next_node": "to_touchpoint", "next_stage": "to_stage"}
    )
    return df.sort_values(
        ["transitions", "from_touchpoint", "to_touchpoint"], ascending=[False, True, True]
    ).reset_index(drop=True)
