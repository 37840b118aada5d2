"""Each analysis's result shaped for reading outside the app: the JSON and the table of every report.

The one home of how a result reads as JSON rows or as a CSV table: ``python cli.py analyze --report
NAME`` prints :func:`run_report`'s output, and the tests and the benchmark read the same rows. A
report runs analyses of the one registry (:data:`analytics.registry.ANALYSES`) on the one context;
the fields of a registry table's JSON rows are its entry's ``json_columns`` (:func:`rows`). A report
whose figures depend on the conversion definition names it in every JSON row (or in the JSON
object) and as a CSV column, so a reader never has to guess what "converted" meant.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics import friction as af
from analytics.attribution import AttributionResult
from analytics.friction import FrictionResult, FrictionWeights
from analytics.funnel import BREAKDOWN, FunnelSpec
from analytics.outlook import DEFAULT_ACTIVE_DAYS, DEFAULT_MIN_TRANSITIONS, OutlookResult
from analytics.registry import ANALYSES
from analytics.schema import Role
from analytics.summary import summary_record
from services.analysis import run
from services.context import AnalysisContext, check_column

if TYPE_CHECKING:
    from services.metrics import ComputeOptions

# The services of single reports (attribution, conversion, friction, metrics) are imported by the
# reports that use them: `analyze --report transitions` is a process of its own, timed from its start.


@dataclass(frozen=True)
class ReportOutput:
    """What a report gives: ``payload`` (JSON), ``table`` (CSV) and ``notes`` for the reader (the
    CLI writes them to standard error)."""

    payload: Any
    table: pd.DataFrame | None
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- JSON values


def json_safe(value: Any) -> Any:
    """NaN/NA → None, numpy scalars → Python, tuples → lists, recursively (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is not None and type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


def records(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-safe dicts of ``columns`` (default: every column)."""
    keep = list(frame.columns) if columns is None else list(columns)
    return [json_safe({c: row[c] for c in keep}) for row in frame.to_dict("records")]


def rows(name: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON rows of the registry analysis ``name``'s table: its entry's ``json_columns``."""
    return records(frame, ANALYSES[name].json_columns)


def _number(value: Any) -> float | None:
    """A finite number rounded to 6 decimals; None for a missing or unreadable one."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, 6)


# --------------------------------------------------------------------------- result records


def friction_records(result: FrictionResult) -> list[dict[str, Any]]:
    """``[{"touchpoint", "stage", "friction", "journeys", "events", "reason", "components": {..}}]``.

    ``components`` holds, for each component, its score (0..1), its contribution to the index and
    its raw measure (rates as fractions, times in seconds).
    """
    raw = {
        "exit": ("exit_rate", "base_exit_rate"),
        "backtrack": ("backtrack_rate", None),
        "repeat": ("repeat_rate", None),
        "delay": ("median_gap_seconds", "reference_gap_seconds"),
        "feedback": ("negative_rate", None),
    }
    out = []
    for row in result.touchpoints.to_dict("records"):
        components = {}
        for k in af.COMPONENTS:
            measure, reference = raw[k]
            entry = {
                "score": _number(row.get(f"{k}_score")),
                "contribution": _number(row.get(f"contrib_{k}")),
                "weight": getattr(result.weights, k),
                measure: _number(row.get(measure)),
            }
            if reference:
                entry[reference] = _number(row.get(reference))
            components[k] = entry
        out.append(
            {
                "touchpoint": row["touchpoint"],
                "stage": row["stage"] if isinstance(row["stage"], str) else None,
                "friction": _number(row["friction"]),
                "journeys": int(row["journeys"]),
                "events": int(row["events"]),
                "reason": row["reason"],
                "components": components,
            }
        )
    return out


def attribution_records(result: AttributionResult) -> list[dict[str, Any]]:
    """``{<by>, first_touch, last_touch, linear, position_based, removal_effect, markov, journeys}``
    per row (every column of the CSV; ``journeys``: the journeys that reached it, a whole number)."""
    columns = [result.by, "first_touch", "last_touch", "linear", "position_based", "removal_effect", "markov"]
    extra = ["journeys"] if "journeys" in result.table.columns else []
    return [
        {k: str(v) if k == result.by else int(v) if k == "journeys" else round(float(v), 6) for k, v in row.items()}
        for row in result.table[columns + extra].to_dict(orient="records")
    ]


def outlook_records(result: OutlookResult) -> list[dict[str, Any]]:
    """``{rank, journey, last_touchpoint, last_timestamp, steps, conversion_probability,
    markov_probability, next_touchpoints: [{touchpoint, probability}], next_best_action, lift,
    probability_after_action, support, factors: [{factor, effect}], model}`` (``journey`` is the
    journey's id as in the data; unknown values are null): every column of the CSV, which is
    :func:`services.attribution.compute_ranked_open_journeys`."""
    return [
        {
            "rank": rank,
            "journey": str(row["journey_key"]),
            "last_touchpoint": str(row["last_touchpoint"]),
            "last_timestamp": None
            if pd.isna(row["last_timestamp"])
            else pd.Timestamp(row["last_timestamp"]).isoformat(),
            "steps": int(row["steps"]),
            "conversion_probability": _number(row["conversion_probability"]),
            "markov_probability": _number(row["markov_probability"]),
            "next_touchpoints": [
                {"touchpoint": str(name), "probability": _number(p)} for name, p in row["next_touchpoint_list"]
            ],
            "next_best_action": row["next_best_action"] if isinstance(row["next_best_action"], str) else None,
            "lift": _number(row["lift"]),
            "probability_after_action": _number(row["probability_after_action"]),
            "support": int(row["support"]),
            "factors": [dict(f) for f in row["factor_list"]],
            "model": str(row["model"]),
        }
        for rank, row in enumerate(result.table.to_dict(orient="records"), start=1)
    ]


# --------------------------------------------------------------------------- the reports


def _touchpoint_level(ctx: AnalysisContext) -> Any:
    """The context's query, at the touchpoint level when it asks for channels (models learn touchpoints)."""
    return replace(ctx.query, by="touchpoint") if ctx.query.by == "channel" else ctx.query


def _channel_note(ctx: AnalysisContext, report: str) -> tuple[str, ...]:
    """What :func:`_touchpoint_level` changed, said (never read by channel without a word)."""
    if ctx.query.by != "channel":
        return ()
    return (
        f"note: the {report} learns touchpoints, not channels: it is shown by touchpoint "
        "(a journey's channels are among what it learns from)",
    )


def summary(ctx: AnalysisContext) -> ReportOutput:
    frame = run("summary", ctx)
    from services.conversion import conversion_text

    record = summary_record(frame)
    record["conversion"] = conversion_text(ctx.conversion, record["converted"], record["journeys"])
    notes: tuple[str, ...] = ()
    if not ctx.schema.has(Role.ACCOUNT):  # the count would read as real accounts (the Data page says so too)
        notes = ("note: no account column was mapped, so each journey counts as its own account",)
    return ReportOutput(json_safe(record), frame.assign(conversion=record["conversion"]), notes)


def transitions(ctx: AnalysisContext, *, top: int | None = None) -> ReportOutput:
    frame = run("transitions", ctx, top=top)
    return ReportOutput(rows("transitions", frame), frame)


def funnel(ctx: AnalysisContext, *, spec: FunnelSpec, top: int | None = None) -> ReportOutput:
    """The funnel's steps, with its mode and window stated (a funnel's conversion is within its window,
    not the all-time conversion); per value of ``spec.breakdown`` too (``top`` values, default 10: a
    column the dataset lacks is refused first, with the nearest real name)."""
    if spec.breakdown:
        check_column(ctx, spec.breakdown)
    frame = run("funnel", ctx, spec=spec)
    payload: dict[str, Any] = {
        "mode": spec.mode,
        "window_days": spec.window_days,
        "step_windows_days": list(spec.step_windows_days),
        "exclusions": list(spec.exclusions),  # as the CSV's column: the rules of the count, every one
        "steps": rows("funnel", frame),
    }
    table = frame
    if spec.breakdown:
        per = run("funnel_breakdown", ctx, spec=spec, top=top or 10)
        payload["breakdown"] = {
            str(value): rows("funnel_breakdown", part) for value, part in per.groupby(BREAKDOWN, sort=False)
        }
        table = pd.concat([frame.assign(breakdown="(all)"), per], ignore_index=True)
        table = table[[BREAKDOWN, *[c for c in table.columns if c != BREAKDOWN]]]
    return ReportOutput(payload, spec.stated(table))  # the rules on every row, as the Funnel page's CSV


def variants(ctx: AnalysisContext, *, top: int | None = None, by: str | None = None) -> ReportOutput:
    """Top paths; ``by`` None: at the stage level when stages are known (else the context's level).
    Every JSON row and the CSV name the level used (``by``)."""
    query = replace(ctx.query, by="stage") if by is None and ctx.has_stages else ctx.query
    frame = run("variants", ctx, query=query, top=top or 20)
    table = frame.drop(columns=["path"]).rename(columns={"path_label": "path"}).assign(by=query.by)
    payload = [{**row, "by": query.by} for row in rows("variants", frame.assign(path=frame["path"].map(list)))]
    return ReportOutput(payload, table)


def outcomes(ctx: AnalysisContext) -> ReportOutput:
    frame = run("outcomes", ctx)
    return ReportOutput(rows("outcomes", frame), frame)


def nonlinearity(ctx: AnalysisContext, *, top: int | None = None) -> ReportOutput:
    frame = run("nonlinearity", ctx)
    loops = run("top_loops", ctx, top=top or 10)
    payload = rows("nonlinearity", frame)[0]
    payload["stage_order"] = run("stage_order", ctx)
    payload["top_loops"] = rows("top_loops", loops)
    return ReportOutput(payload, frame)


def sankey(
    ctx: AnalysisContext,
    *,
    steps: int = 5,
    top_per_step: int | None = None,
    anchor: str = "start",
    anchor_node: str | None = None,
) -> ReportOutput:
    frame = run("sankey", ctx, steps=steps, top_per_step=top_per_step or 8, anchor=anchor, anchor_node=anchor_node)
    return ReportOutput(records(frame), frame)


def time(ctx: AnalysisContext, *, by: str | None = None) -> ReportOutput:
    """Time in stage (at ``by``, default the stage level; the touchpoint level, said, for a log without
    stages), and time to convert when conversion is defined."""
    notes: tuple[str, ...] = ()
    if by is None and not ctx.has_stages:  # the default moves: said beside the numbers
        notes = ("note: this log has no stage column or linked map, so the time is per touchpoint (--by touchpoint)",)
    level = by or ("stage" if ctx.has_stages else "touchpoint")
    stages = run("time_in_stage", ctx, query=replace(ctx.query, by=level))
    payload: dict[str, Any] = {"time_in_stage": rows("time_in_stage", stages)}
    if ctx.conversion.defined:
        payload["time_to_convert"] = rows("time_to_convert", run("time_to_convert", ctx))[0]
    return ReportOutput(payload, stages, notes)


def friction(ctx: AnalysisContext, *, weights: FrictionWeights | None = None) -> ReportOutput:
    from services.friction import compute_context_friction, compute_friction_table

    result = compute_context_friction(ctx, weights=weights or FrictionWeights())
    notes = ()
    if not ctx.conversion.defined:  # the exit component reads every journey's end as a drop-off: said
        notes = (
            f"note: conversion is not defined for dataset {ctx.dataset_id}, so no journey counts as converted and "
            "every journey's last touchpoint counts as an exit (define it: python cli.py conversion set "
            f'--dataset {ctx.dataset_id} --goal "A,B", or --goal "A,B" for this run)',
        )
    return ReportOutput(json_safe(friction_records(result)), compute_friction_table(result), notes)


def metrics(ctx: AnalysisContext, *, options: ComputeOptions | None = None) -> ReportOutput:
    """Every metric the dataset allows, per period (notes: each metric left out, and why)."""
    from services.metrics import (
        CONTEXT_METRIC_COLUMNS,
        ComputeOptions,
        compute_context_metrics,
        context_metrics_left_out,
    )

    options = options if options is not None else ComputeOptions()
    table = compute_context_metrics(ctx, options=options)
    notes = tuple(f"left out: {line}" for line in context_metrics_left_out(ctx, options=options))
    return ReportOutput(records(table, CONTEXT_METRIC_COLUMNS), table, notes)


def attribution(ctx: AnalysisContext) -> ReportOutput:
    """Conversions credited by five models, per the context's level (touchpoint, stage or channel)."""
    result = run("attribution", ctx, query=replace(ctx.query, by="touchpoint"), by=ctx.query.by)
    return ReportOutput(attribution_records(result), result.table)


def outlook(
    ctx: AnalysisContext,
    *,
    as_of: date | None = None,
    active_days: int = DEFAULT_ACTIVE_DAYS,
    min_transitions: int = DEFAULT_MIN_TRANSITIONS,
    model: str = "learned",
) -> ReportOutput:
    """Open journeys: probability of converting, next best action and its lift (notes: what the model
    says of itself, and why no journey is open)."""
    result = run(
        "outlook",
        ctx,
        query=_touchpoint_level(ctx),
        as_of=as_of,
        active_days=active_days,
        min_transitions=min_transitions,
        model=model,
    )
    from services.attribution import compute_ranked_open_journeys

    notes = [*_channel_note(ctx, "outlook"), *([result.model_note] if result.model_note else [])]
    if result.empty_reason:
        notes.append(f"no open journey: {result.empty_reason}")
    return ReportOutput(outlook_records(result), compute_ranked_open_journeys(result), tuple(notes))


def outlook_backtest(
    ctx: AnalysisContext, *, split_at: date | None = None, active_days: int = DEFAULT_ACTIVE_DAYS
) -> ReportOutput:
    """The outlook's backtest: next-touchpoint accuracy and conversion AUC/Brier against baselines."""
    from services.attribution import compute_backtest_table

    result = run("outlook_backtest", ctx, query=_touchpoint_level(ctx), split_at=split_at, active_days=active_days)
    return ReportOutput(result.to_json(), compute_backtest_table(result), _channel_note(ctx, "outlook backtest"))


@dataclass(frozen=True)
class Report:
    """A report: how it shapes a context's results, and whether its figures depend on the conversion
    definition (then :func:`run_report` names the definition in its output)."""

    shape: Callable[..., ReportOutput]
    conversion: bool = False


REPORTS: dict[str, Report] = {
    "summary": Report(summary, conversion=True),
    "transitions": Report(transitions),
    "funnel": Report(funnel),
    "variants": Report(variants, conversion=True),
    "outcomes": Report(outcomes),
    "nonlinearity": Report(nonlinearity),
    "sankey": Report(sankey, conversion=True),
    "time": Report(time, conversion=True),
    "friction": Report(friction, conversion=True),
    "metrics": Report(metrics, conversion=True),
    "attribution": Report(attribution, conversion=True),
    "outlook": Report(outlook, conversion=True),
    "outlook-backtest": Report(outlook_backtest, conversion=True),
}


def name_conversion(output: ReportOutput, text: str) -> ReportOutput:
    """The conversion definition named in every JSON row (or the JSON object) and as a CSV column."""
    payload = output.payload
    if isinstance(payload, list):
        payload = [{**row, "conversion": text} if isinstance(row, dict) else row for row in payload]
    elif isinstance(payload, dict) and "conversion" not in payload:
        payload = {**payload, "conversion": text}
    table = output.table
    if table is not None and "conversion" not in table.columns:
        table = table.assign(conversion=text)
    return ReportOutput(payload, table, output.notes)


def run_report(name: str, ctx: AnalysisContext, **params: Any) -> ReportOutput:
    """The report ``name`` of ``ctx`` with its ``params`` (the keyword arguments of its shape)."""
    report = REPORTS[name]
    output = report.shape(ctx, **params)
    return name_conversion(output, ctx.conversion.describe()) if report.conversion else output


__all__ = [
    "REPORTS",
    "Report",
    "ReportOutput",
    "attribution_records",
    "friction_records",
    "json_safe",
    "name_conversion",
    "outlook_records",
    "records",
    "rows",
    "run_report",
]
