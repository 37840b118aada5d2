"""The one list of analyses: name, what it answers, its parameters, its columns, and how it runs.

The CLI's reports, the pages' cached loaders, the benchmark and the Spark agreement tests all read
:data:`ANALYSES`; nothing else wraps an analysis. Every entry runs on :class:`Inputs` (the events,
their schema, the journey query, the dataset's conversion definition and the stage order to use),
so the same call runs on DuckDB and on any other Ibis backend. Semantics: each analysis module's
docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from ibis.expr.types import Table

from analytics import (
    attribution,
    friction,
    funnel,
    metrics,
    nonlinearity,
    outcomes,
    outlook,
    outlook_backtest,
    paths,
    sankey,
    timing,
    transitions,
)
from analytics import summary as summary_core
from analytics.conversion import NOT_DEFINED, Conversion
from analytics.journeys import JourneyQuery
from analytics.schema import EventSchema
from core.errors import ConversionUndefinedError, UnknownNameError


@dataclass(frozen=True)
class Inputs:
    """What an analysis runs on. ``stage_order``: the designed order (a linked map's, or one the
    user gave); empty means the data's own order where an analysis needs one. ``touchpoint_order``:
    the linked map's touchpoint labels, stage by stage (empty without a map)."""

    events: Table
    schema: EventSchema
    query: JourneyQuery = JourneyQuery()
    conversion: Conversion = NOT_DEFINED
    stage_order: tuple[str, ...] = ()
    touchpoint_order: tuple[str, ...] = ()

    def with_query(self, **changes: Any) -> Inputs:
        return replace(self, query=replace(self.query, **changes))

    def order(self) -> tuple[str, ...] | None:
        return self.stage_order or None


@dataclass(frozen=True)
class Analysis:
    """One analysis: ``run(inputs, **params)``; ``params`` are the keyword arguments it accepts,
    ``columns`` the columns of its table, ``json_columns`` the fields of each of its JSON rows
    (``services.reports.rows``; None: every column), ``conversion`` whether its figures depend on
    the dataset's conversion definition, ``keeps_fit`` whether it keeps a fitted model between runs
    (its ``fit_key`` parameter names the data it was fitted on: ``services.analysis.run`` gives it)."""

    name: str
    help: str
    run: Callable[..., Any]
    params: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    conversion: bool = False
    needs_conversion: bool = False  # refuses to run without a definition
    json_columns: tuple[str, ...] | None = None
    keeps_fit: bool = False


def _summary(i: Inputs) -> pd.DataFrame:
    return summary_core.compute_summary(i.events, i.schema, i.query, i.conversion)


def _transitions(i: Inputs, *, include_entry_exit: bool = True, top: int | None = None) -> pd.DataFrame:
    return transitions.compute_transitions(i.events, i.schema, i.query, include_entry_exit=include_entry_exit, top=top)


def _transition_graph(i: Inputs) -> pd.DataFrame:
    t = transitions.compute_transitions(i.events, i.schema, i.query)
    return nonlinearity.mark_directions(t, i.events, i.schema, i.query, i.order())


def _node_volumes(i: Inputs) -> pd.DataFrame:
    return transitions.compute_node_volumes(i.events, i.schema, i.query)


def _step_sankey(
    i: Inputs, *, steps: int = 5, top_per_step: int = 8, anchor: sankey.Anchor = "start", anchor_node: str | None = None
) -> pd.DataFrame:
    return sankey.compute_step_sankey(
        i.events,
        i.schema,
        i.query,
        steps=steps,
        top_per_step=top_per_step,
        anchor=anchor,
        anchor_node=anchor_node,
        conversion=i.conversion,
    )


def _stage_flow(i: Inputs) -> pd.DataFrame:
    return sankey.compute_stage_flow(i.events, i.schema, i.query, stage_order=i.order())


def _funnel(i: Inputs, *, spec: funnel.FunnelSpec) -> pd.DataFrame:
    return funnel.compute_funnel(i.events, i.schema, i.query, spec)


def _funnel_breakdown(i: Inputs, *, spec: funnel.FunnelSpec, top: int = 10) -> pd.DataFrame:
    return funnel.compute_funnel_breakdown(i.events, i.schema, i.query, spec, top=top)


def _dropped_journeys(i: Inputs, *, spec: funnel.FunnelSpec) -> pd.DataFrame:
    return funnel.compute_dropped_journeys(i.events, i.schema, i.query, spec)


def _variants(i: Inputs, *, top: int | None = 20, include_other: bool = False) -> pd.DataFrame:
    return paths.compute_variants(
        i.events, i.schema, i.query, conversion=i.conversion, top=top, include_other=include_other
    )


def _nonlinearity(i: Inputs) -> pd.DataFrame:
    return nonlinearity.compute_nonlinearity(i.events, i.schema, i.query, stage_order=i.order())


def _top_loops(i: Inputs, *, top: int | None = 10) -> pd.DataFrame:
    return nonlinearity.compute_top_loops(i.events, i.schema, i.query, stage_order=i.order(), top=top)


def _stage_order(i: Inputs) -> list[str]:
    q = replace(i.query, by="stage", collapse_repeats=True)
    return nonlinearity.resolve_stage_order(i.events, i.schema, q, i.order())


def _outcomes(i: Inputs) -> pd.DataFrame:
    return outcomes.compute_outcomes(i.events, i.schema, i.query)


def _time_to_convert(i: Inputs) -> pd.DataFrame:
    if not i.conversion.defined:
        raise ConversionUndefinedError("time to convert")
    return timing.compute_time_to_convert(i.events, i.schema, i.query, i.conversion)


def _time_in_stage(i: Inputs) -> pd.DataFrame:
    return timing.compute_time_in_stage(
        i.events, i.schema, i.query, stage_order=i.stage_order, touchpoint_order=i.touchpoint_order
    )


def _friction(i: Inputs, *, weights: friction.FrictionWeights = friction.FrictionWeights()) -> friction.FrictionResult:
    return friction.compute_friction(
        i.events, i.schema, i.query, conversion=i.conversion, stage_order=i.stage_order, weights=weights
    )


def _metric(i: Inputs, *, kind: str, **options: Any) -> pd.DataFrame:
    return metrics.compute_metric(kind, i.events, i.schema, i.query, conversion=i.conversion, **options)


def _attribution(i: Inputs, *, by: attribution.AttributeBy = "touchpoint") -> attribution.AttributionResult:
    return attribution.compute_attribution(i.events, i.schema, i.query, i.conversion, by=by)


def _outlook(i: Inputs, **options: Any) -> outlook.OutlookResult:
    return outlook.compute_outlook(i.events, i.schema, i.query, i.conversion, **options)


def _outlook_backtest(i: Inputs, **options: Any) -> outlook_backtest.BacktestResult:
    return outlook_backtest.compute_outlook_backtest(i.events, i.schema, i.query, i.conversion, **options)


# A funnel's JSON rows: its steps without their position (the order of the rows says it).
_FUNNEL_JSON = tuple(c for c in funnel.FUNNEL_COLUMNS if c != "position")

ANALYSES: dict[str, Analysis] = {
    a.name: a
    for a in (
        Analysis(
            "summary",
            "events, journeys, accounts, activities, time range, converted journeys",
            _summary,
            columns=summary_core.SUMMARY_KEYS,
            conversion=True,
        ),
        Analysis(
            "transitions",
            "counts of consecutive node pairs, with (entry) and (exit)",
            _transitions,
            ("include_entry_exit", "top"),
            tuple(transitions.TRANSITION_COLUMNS),
        ),
        Analysis(
            "transition_graph",
            "transitions with their direction (forward, backward, repeat, entry, exit)",
            _transition_graph,
            columns=("source", "target", "count", "journeys", "direction"),
        ),
        Analysis("node_volumes", "steps and journeys per node", _node_volumes, columns=("node", "steps", "journeys")),
        Analysis(
            "sankey",
            "links of the Sankey unrolled by step (a drop-off node where journeys end unconverted)",
            _step_sankey,
            ("steps", "top_per_step", "anchor", "anchor_node"),
            tuple(sankey.SANKEY_COLUMNS),
            conversion=True,
        ),
        Analysis(
            "stage_flow",
            "moves between stages, backward ones (loops) apart",
            _stage_flow,
            columns=("source", "target", "count", "journeys", "direction", "source_rank", "target_rank"),
        ),
        Analysis(
            "funnel",
            "journeys at each step, conversion, drop-off, time between steps",
            _funnel,
            ("spec",),
            tuple(funnel.FUNNEL_COLUMNS),
            json_columns=_FUNNEL_JSON,
        ),
        Analysis(
            "funnel_breakdown",
            "the funnel per value of a column",
            _funnel_breakdown,
            ("spec", "top"),
            (funnel.BREAKDOWN, *funnel.FUNNEL_COLUMNS),
            json_columns=_FUNNEL_JSON,
        ),
        Analysis("dropped_journeys", "journeys that dropped out of the funnel", _dropped_journeys, ("spec",)),
        Analysis(
            "variants",
            "top paths with count, share and conversion rate",
            _variants,
            ("top", "include_other"),
            tuple(paths.VARIANT_COLUMNS),
            conversion=True,
            json_columns=("path", "journeys", "share", "conversion_rate", "distinct_paths", "total_journeys"),
        ),
        Analysis("nonlinearity", "journeys moving back a stage, loops per journey", _nonlinearity),
        Analysis("top_loops", "the most common loops back to an earlier stage", _top_loops, ("top",)),
        Analysis("stage_order", "the stage order loops are judged by", _stage_order),
        Analysis(
            "outcomes",
            "counts and shares of journey outcomes",
            _outcomes,
            columns=("outcome", "journeys", "share"),
            json_columns=("outcome", "journeys", "share"),
        ),
        Analysis(
            "time_to_convert",
            "median and p90 time from a journey's start to its conversion",
            _time_to_convert,
            columns=("journeys", "converted", "conversion_rate", "median_seconds", "p90_seconds", "mean_seconds"),
            conversion=True,
            needs_conversion=True,
        ),
        Analysis("time_in_stage", "median and p90 time per stage visit", _time_in_stage),
        Analysis(
            "friction",
            "friction index 0-100 per touchpoint with its components",
            _friction,
            ("weights",),
            conversion=True,
        ),
        Analysis(
            "metric",
            "NPS, CSAT, CES, FCR, retention, CLV or conversion per period",
            _metric,
            ("kind", "period", "by", "scope", "scope_by", "support", "window_days", "gross_margin"),
            tuple(metrics.RESULT_COLUMNS),
            conversion=True,
        ),
        Analysis(
            "attribution",
            "conversions credited by first/last touch, linear, 40/20/40, Markov removal effect",
            _attribution,
            ("by",),
            conversion=True,
            needs_conversion=True,
        ),
        Analysis(
            "outlook",
            "open journeys: probability of converting, next best action, lift",
            _outlook,
            ("as_of", "active_days", "min_transitions", "actions", "model", "fit_key"),
            tuple(outlook.OUTLOOK_COLUMNS),
            conversion=True,
            needs_conversion=True,
            keeps_fit=True,
        ),
        Analysis(
            "outlook_backtest",
            "the outlook's backtest: next-touchpoint accuracy, conversion AUC and Brier against baselines",
            _outlook_backtest,
            ("split_at", "active_days", "seed"),
            conversion=True,
            needs_conversion=True,
        ),
    )
}


def run_analysis(name: str, inputs: Inputs, **params: Any) -> Any:
    """Run the analysis ``name`` on ``inputs`` with its ``params`` (unknown names are refused)."""
    if name not in ANALYSES:
        raise UnknownNameError.among(
            "analysis", name, list(ANALYSES), message=f"no analysis named {name!r}; analyses: {', '.join(ANALYSES)}"
        )
    analysis = ANALYSES[name]
    unknown = set(params) - set(analysis.params)
    if unknown:
        raise TypeError(f"{name} takes no parameter {', '.join(sorted(unknown))} (it takes: {analysis.params})")
    return analysis.run(inputs, **params)


__all__ = ["ANALYSES", "Analysis", "Inputs", "run_analysis"]
