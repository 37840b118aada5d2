"""Measures laid over the stage × touchpoint grid, and designed vs observed.

:func:`compute_overlay` gives one row per touchpoint of the map (``touchpoint_id, touchpoint,
stage, value, label, target, status``): the frame ``charts.map_grid.map_grid_figure`` draws as a
heat map over the cells. Measures, all per touchpoint over the journeys that have an event there:

- ``journeys``: journeys with at least one event at the touchpoint;
- ``conversion``: % of those journeys that convert (the dataset's conversion definition);
- ``drop-off``: % of those journeys whose last event is there and that do not convert (with lost
  defined: that are lost);
- ``friction``: the friction index (:mod:`analytics.friction`);
- ``nps`` / ``csat``: from the responses given at the touchpoint;
- ``median time``: median time from an event at the touchpoint to the journey's next event;
- ``attributed conversions``: conversions credited to the touchpoint by the Markov model
  (its removal effect normalised so the credits sum to the conversions), and
- ``removal effect``: the share (%) of the conversion probability lost if journeys could not
  pass through the touchpoint; both from :func:`services.attribution.compute_touchpoint_attribution`,
  passed in as ``attribution`` (a reached touchpoint that earns nothing shows 0).

Targets come from the map's metrics of the same kind (conversion, NPS, CSAT): the one bound to the
touchpoint, else to its stage, else map-wide; status as in :func:`analytics.metrics.metric_status`.

Designed vs observed (:func:`compute_designed_vs_observed`): touchpoints no journey reached,
activities the map does not know (no touchpoint claims them), and transitions that run against
the designed stage order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from analytics import friction as af
from analytics.conversion import Conversion
from analytics.friction import FrictionResult
from analytics.metrics import metric_status
from analytics.numbers import format_count, format_duration, format_percent
from services.analysis import run
from services.attribution import ATTRIBUTION_OVERLAY_COLUMNS, compute_touchpoint_attribution
from services.context import AnalysisContext
from services.metrics import list_metrics

MEASURES: dict[str, str] = {
    "journeys": "Journeys",
    "conversion": "Conversion %",
    "drop-off": "Drop-off %",
    "friction": "Friction (0–100)",
    "nps": "NPS",
    "csat": "CSAT %",
    "median time": "Median time to next event",
    "attributed conversions": "Attributed conversions (Markov)",
    "removal effect": "Removal effect %",
}


def measure_phrase(measure: str) -> str:
    """A measure's name inside a sentence: "friction (0–100)", "attributed conversions (Markov)"."""
    name = MEASURES[measure]
    return name[:1].lower() + name[1:]


# Measures that need a goal and come from the attribution model rather than the friction table.
ATTRIBUTION_MEASURES: tuple[str, ...] = ("attributed conversions", "removal effect")
# The measures that need the dataset's conversion definition (without it they hold no value).
CONVERSION_MEASURES: tuple[str, ...] = ("conversion", *ATTRIBUTION_MEASURES)
# Measure → (column of the friction table, scale, direction, metric kind for targets).
_SOURCE: dict[str, tuple[str, float, str, str | None]] = {
    "journeys": ("journeys", 1.0, "higher", None),
    "conversion": ("conversion", 1.0, "higher", "conversion"),
    "drop-off": ("exit_rate", 100.0, "lower", None),
    "friction": ("friction", 1.0, "lower", None),
    "nps": ("nps", 1.0, "higher", "nps"),
    "csat": ("csat", 1.0, "higher", "csat"),
    "median time": ("median_gap_seconds", 1.0, "lower", None),
    "attributed conversions": ("attributed_conversions", 1.0, "higher", None),
    "removal effect": ("removal_effect", 100.0, "higher", None),
}
OVERLAY_COLUMNS = ["touchpoint_id", "touchpoint", "stage", "value", "label", "target", "status"]


def _label(measure: str, value: float) -> str:
    """The value as the grid and the tables write it (``analytics.numbers``: one decimal for percentages)."""
    if pd.isna(value):
        return "no data"
    if measure == "journeys":
        return format_count(value)
    if measure == "median time":
        return format_duration(value)
    if measure in ("conversion", "drop-off", "csat", "removal effect"):
        return format_percent(value)
    if measure == "attributed conversions":
        return f"{value:,.1f}"
    return f"{value:.0f}"


def _targets(ctx: AnalysisContext, kind: str | None) -> dict[int, tuple[float, str]]:
    """Target and direction per touchpoint id, from the map's metrics of ``kind``."""
    if kind is None or ctx.map_id is None:
        return {}
    rows = [r for r in list_metrics(ctx.map_id) if r.kind == kind and r.target is not None]
    by_tp = {r.touchpoint_id: (r.target, r.direction) for r in rows if r.touchpoint_id is not None}
    by_stage = {r.stage_id: (r.target, r.direction) for r in rows if r.stage_id is not None and r.touchpoint_id is None}
    # A map-wide survey target (NPS, CSAT) holds at every touchpoint; a map-wide conversion target is the
    # whole journey's rate (won of all, or of closed deals), not the share of a touchpoint's journeys that
    # convert, so it marks no cell: only a stage's or a touchpoint's own conversion target does.
    whole = next(
        (
            (r.target, r.direction)
            for r in rows
            if r.stage_id is None and r.touchpoint_id is None and kind != "conversion"
        ),
        None,
    )
    out = {}
    for tp in ctx.touchpoints:
        chosen = by_tp.get(tp.id) or by_stage.get(tp.stage_id) or whole
        if chosen is not None:
            out[tp.id] = chosen  # type: ignore[assignment]
    return out


def compute_overlay(
    ctx: AnalysisContext, friction: FrictionResult, measure: str, attribution: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per touchpoint of the map with the measure's value, label, target and status.

    A touchpoint no journey reached has value NaN and the label "not reached". The measures of
    :data:`ATTRIBUTION_MEASURES` read ``attribution`` (the frame of
    :func:`services.attribution.compute_touchpoint_attribution`, keyed by ``touchpoint_id``).
    """
    from core.errors import BadInputError, ConversionUndefinedError

    if measure not in MEASURES:
        raise BadInputError("unknown overlay measure", value=measure, expected=", ".join(MEASURES))
    column, scale, _direction, kind = _SOURCE[measure]
    table = friction.touchpoints.set_index("touchpoint")
    if measure in ATTRIBUTION_MEASURES:
        if attribution is None:
            raise ConversionUndefinedError(f"the {MEASURES[measure].lower()} overlay")
        credits = attribution.set_index("touchpoint_id")[column]
    targets = _targets(ctx, kind)
    rows = []
    for tp in ctx.touchpoints:
        reached = tp.label in table.index
        if not reached:
            value = float("nan")
        elif measure in ATTRIBUTION_MEASURES:
            value = float(credits.get(tp.id, 0.0)) * scale
        else:
            value = float(table.at[tp.label, column]) * scale if column in table.columns else float("nan")
        target, direction = targets.get(tp.id, (None, "higher"))
        rows.append(
            {
                "touchpoint_id": tp.id,
                "touchpoint": tp.label,
                "stage": tp.stage,
                "value": value,
                "label": _label(measure, value) if reached else "not reached",
                "target": target,
                "status": metric_status(value, target, direction),
            }
        )
    return pd.DataFrame(rows, columns=OVERLAY_COLUMNS)


@dataclass(frozen=True)
class AttributionOverlay:
    """The conversion an attribution overlay credits, and its per-touchpoint frame."""

    conversion: Conversion
    frame: pd.DataFrame  # touchpoint_id, touchpoint, attributed_conversions, removal_effect


def compute_attribution_overlay(ctx: AnalysisContext) -> AttributionOverlay:
    """Markov credits per touchpoint of the context's map for its conversion definition, with the
    Attribution page's defaults: touchpoint level, consecutive repeats collapsed. The frame is empty
    when conversion is not defined."""
    if not ctx.conversion.defined:
        return AttributionOverlay(ctx.conversion, pd.DataFrame(columns=ATTRIBUTION_OVERLAY_COLUMNS))
    result = run("attribution", ctx, query=replace(ctx.query, by="touchpoint"))
    return AttributionOverlay(ctx.conversion, compute_touchpoint_attribution(ctx, result))


@dataclass(frozen=True)
class DesignedVsObserved:
    """Where the data departs from the map."""

    unreached_touchpoints: pd.DataFrame  # touchpoint_id, touchpoint, stage
    unknown_activities: pd.DataFrame  # activity, events, journeys
    backward_transitions: pd.DataFrame  # from_touchpoint, from_stage, to_touchpoint, to_stage, transitions, journeys


def compute_designed_vs_observed(ctx: AnalysisContext, friction: FrictionResult) -> DesignedVsObserved:
    """Touchpoints no journey reached, activities no touchpoint claims, transitions against the order."""
    seen = set(friction.touchpoints["touchpoint"])
    names = {tp.label for tp in ctx.touchpoints}
    unreached = pd.DataFrame(
        [
            {"touchpoint_id": tp.id, "touchpoint": tp.label, "stage": tp.stage}
            for tp in ctx.touchpoints
            if tp.label not in seen
        ],
        columns=["touchpoint_id", "touchpoint", "stage"],
    )
    unknown = friction.touchpoints[~friction.touchpoints["touchpoint"].isin(names)]
    unknown = (
        unknown[["touchpoint", "events", "journeys"]]
        .rename(columns={"touchpoint": "activity"})
        .sort_values(["events", "activity"], ascending=[False, True])
        .reset_index(drop=True)
    )
    if ctx.stage_order:
        backward = af.compute_backward_transitions(ctx.events(), ctx.schema, ctx.query, stage_order=ctx.stage_order)
    else:
        backward = pd.DataFrame(
            columns=["from_touchpoint", "from_stage", "to_touchpoint", "to_stage", "transitions", "journeys"]
        )
    return DesignedVsObserved(unreached, unknown, backward)
