"""Every cached loader of the app: pages and components read the services through these, and
nothing else caches. Results are plain data (dataclasses, DataFrames, dicts); caches are bounded
(``max_entries``) and expire (``ttl``).

One cache-key rule: a loader is keyed by its arguments, compared by value, and those arguments
name everything its result depends on.

- What one dataset holds is named by ``token`` (:func:`dataset_token`: its id and creation time,
  so a dataset deleted and imported again never reads an old result), which comes first; then the
  frozen analysis context (dataset, map, journey query, conversion definition) and the analysis's
  own parameters, all hashable (tuples, frozen dataclasses).
- What the workspace holds (maps, datasets, a map's metrics and scopes) is named by the ids read;
  every write through the app calls :func:`clear_caches`, so a page never shows an old state.
- The portfolio of every map is named by ``services.overview.data_version()`` (moved by any write,
  and by the day), so it is computed once per change and shared by every session.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from analytics.conversion import Conversion, KnownNames
from analytics.friction import FrictionResult
from analytics.journeys import JourneyQuery
from core.journey_map import MapView
from services import analysis, importer, linking
from services import datasets as dataset_service
from services import friction as friction_service
from services import maps as map_service
from services import metrics as metric_service
from services import overlay as overlay_service
from services import overview as overview_service
from services.context import AnalysisContext, context_names, open_context, values_present
from services.conversion import ConversionLine, Suggestion, compute_conversion_line, suggest_conversions
from services.map_view import get_map_view

_WORKSPACE = {"show_spinner": False, "ttl": 300, "max_entries": 64}
_ANALYSIS = {"show_spinner": False, "ttl": 600, "max_entries": 48}


def clear_caches() -> None:
    """Call after any write so every page shows the new state."""
    st.cache_data.clear()


# --------------------------------------------------------------------------- the workspace


@st.cache_data(**_WORKSPACE)
def load_map_summaries() -> list[dict]:
    return [asdict(m) for m in map_service.list_map_summaries()]


@st.cache_data(**_WORKSPACE)
def load_dataset_summaries() -> list[dict]:
    return [asdict(d) for d in dataset_service.list_dataset_summaries()]


def dataset_token(dataset_id: int) -> str | None:
    """The cache token of a dataset (its id and creation time), None when it does not exist."""
    for d in load_dataset_summaries():
        if int(d["id"]) == dataset_id:
            return f"{dataset_id}:{d['created_at']}"
    return None


@st.cache_data(**_WORKSPACE)
def cached_map_view(map_id: int) -> MapView:
    """The map's view (``services.map_view.get_map_view``), for the Overlay page."""
    return get_map_view(map_id)


@st.cache_data(**_WORKSPACE)
def load_map_scopes(map_id: int) -> tuple[list[tuple[int, str]], list[metric_service.TouchpointRef]]:
    return metric_service.list_map_scopes(map_id)


@st.cache_data(**_WORKSPACE)
def load_map_outcomes(map_id: int) -> list[tuple[str, tuple[str, ...]]]:
    return metric_service.list_stage_outcomes(map_id)


@st.cache_data(**_WORKSPACE)
def load_has_role(dataset_id: int, role: str) -> bool:
    return metric_service.dataset_has_role(dataset_id, role)


@st.cache_data(**_WORKSPACE)
def load_metrics(map_id: int) -> list[metric_service.MetricRow]:
    return metric_service.list_metrics(map_id)


@st.cache_data(show_spinner="Writing the report…", ttl=300, max_entries=8)
def load_report(
    map_id: int, dataset_id: int | None = None, measure: str = "friction", version: int | None = None
) -> tuple[str, bytes]:
    """(HTML, ZIP of the CSVs) of a map's report; ``version`` (the map's) only keys the cache, so an
    edited map gets a fresh report."""
    from charts.map_report_html import render_map_report
    from services.map_report import build_map_report_data, report_csv_zip

    data = build_map_report_data(map_id, dataset_id=dataset_id, measure=measure)
    return render_map_report(data).html, report_csv_zip(data)


# --------------------------------------------------------------------------- the Data page: files, datasets and links


@st.cache_data(show_spinner=False, max_entries=16)
def load_preview(
    key: str, _source: bytes | str, encoding: str | None, delimiter: str | None, sheet: str | None = None
) -> dict[str, Any]:
    """The preview of a file (keyed by the upload's id or the path, and the reading options)."""
    preview = importer.read_preview(
        _source, importer.ImportOptions(encoding=encoding, delimiter=delimiter, sheet=sheet)
    )
    return {
        "headers": preview.headers,
        "frame": preview.frame,
        "encoding": preview.encoding,
        "encoding_label": preview.encoding_label,
        "delimiter": preview.delimiter,
        "delimiter_label": preview.delimiter_label,
        "is_gzip": preview.is_gzip,
        "complete": preview.complete,
        "problems": preview.problems,
        "kind": preview.kind,
        "sheets": preview.sheets,
        "sheet": preview.sheet,
    }


@st.cache_data(**_WORKSPACE)
def load_links(dataset_id: int, map_id: int) -> pd.DataFrame:
    return linking.suggest_links(dataset_id, map_id)


@st.cache_data(**_WORKSPACE)
def load_coverage(dataset_id: int, map_id: int) -> tuple[list[str], list[str]]:
    return linking.compute_coverage(dataset_id, map_id)


@st.cache_data(**_WORKSPACE)
def load_foreign_map_note(dataset_id: int, map_id: int) -> str | None:
    return linking.foreign_map_note(dataset_id, map_id)


@st.cache_data(**_WORKSPACE)
def load_touchpoint_labels(map_id: int) -> dict[str, int]:
    """Touchpoint label → id of a map, in map order."""
    return linking.touchpoint_labels(map_id)


@st.cache_data(**_WORKSPACE)
def load_rejected(dataset_id: int) -> pd.DataFrame:
    return importer.get_rejected_rows(dataset_id)


@st.cache_data(**_WORKSPACE)
def load_dataset_options(dataset_id: int) -> dict[str, Any]:
    return importer.describe_dataset(dataset_id)


@st.cache_data(**_WORKSPACE)
def load_facts_status(dataset_id: int) -> tuple[bool, str | None]:
    return dataset_service.facts_status(dataset_id)


# --------------------------------------------------------------------------- one dataset's analyses


@st.cache_data(**_ANALYSIS)
def load_context(
    token: str,
    dataset_id: int,
    map_id: int | None,
    query: JourneyQuery,
    conversion: Conversion | None = None,
    stage_order: tuple[str, ...] = (),
) -> AnalysisContext:
    """The one analysis context (unknown dataset, map, goal, ``through`` names and filter values are refused)."""
    return open_context(dataset_id, map_id, query=query, conversion=conversion, stage_order=stage_order or None)


@st.cache_data(**_ANALYSIS)
def _load_analysis(name: str, token: str, ctx: AnalysisContext, params: tuple[tuple[str, Any], ...]) -> Any:
    return analysis.run(name, ctx, **dict(params))


# The analyses that fit a model say so while they run (a spinner shows only after half a second, so
# an answer from the cache shows none).
_FITTING = {
    "outlook": "Fitting the outlook's model on the journeys (the first question on a log takes longest)…",
    "outlook_backtest": "Backtesting the outlook: fitting it on the earlier journeys and testing it on the later "
    "ones (up to a minute on a large log)…",
}


def load_analysis(name: str, token: str, ctx: AnalysisContext, **params: Any) -> Any:
    """The analysis ``name`` of the registry on ``ctx`` with its ``params`` (keyed as sorted pairs)."""
    with st.spinner(_FITTING[name]) if name in _FITTING else nullcontext():
        return _load_analysis(name, token, ctx, tuple(sorted(params.items())))


@st.cache_data(**_ANALYSIS)
def load_conversion_line(token: str, ctx: AnalysisContext) -> ConversionLine:
    return compute_conversion_line(ctx)


@st.cache_data(**_ANALYSIS)
def load_names(token: str, ctx: AnalysisContext) -> KnownNames:
    return context_names(ctx)


@st.cache_data(**_ANALYSIS)
def load_suggestions(token: str, ctx: AnalysisContext) -> list[Suggestion]:
    return suggest_conversions(ctx)


@st.cache_data(**_ANALYSIS)
def load_nodes(token: str, ctx: AnalysisContext) -> list[str]:
    return analysis.list_nodes(ctx)


@st.cache_data(**_ANALYSIS)
def load_column_values(token: str, ctx: AnalysisContext, column: str) -> list[str]:
    return analysis.list_column_values(ctx, column)


@st.cache_data(**_ANALYSIS)
def load_values_present(token: str, ctx: AnalysisContext, column: str, values: tuple[str, ...]) -> set[str]:
    return values_present(ctx, column, values)


@st.cache_data(**_ANALYSIS)
def load_column_count(token: str, ctx: AnalysisContext, column: str) -> int:
    return analysis.count_column_values(ctx, column)


@st.cache_data(show_spinner="Computing the friction index…", ttl=600, max_entries=32)
def load_friction(token: str, ctx: AnalysisContext) -> FrictionResult:
    """Components under the default weights; pages reweight without a query (``reweight``)."""
    return friction_service.compute_context_friction(ctx)


@st.cache_data(**_ANALYSIS)
def load_designed_vs_observed(token: str, ctx: AnalysisContext) -> overlay_service.DesignedVsObserved:
    return overlay_service.compute_designed_vs_observed(ctx, load_friction(token, ctx))


@st.cache_data(**_ANALYSIS)
def load_overlay(token: str, ctx: AnalysisContext, measure: str) -> Any:
    """The overlay of ``measure``; the attribution measures credit the context's conversion."""
    attribution = None
    if measure in overlay_service.ATTRIBUTION_MEASURES:
        attribution = load_attribution_overlay(token, ctx).frame
    return overlay_service.compute_overlay(ctx, load_friction(token, ctx), measure, attribution)


@st.cache_data(show_spinner="Crediting conversions…", ttl=600, max_entries=32)
def load_attribution_overlay(token: str, ctx: AnalysisContext) -> overlay_service.AttributionOverlay:
    return overlay_service.compute_attribution_overlay(ctx)


@st.cache_data(**_ANALYSIS)
def load_outcome_shares(token: str, ctx: AnalysisContext, stage: str | None, outcomes: tuple[str, ...]) -> Any:
    return metric_service.compute_context_outcome_shares(ctx, stage=stage, outcomes=outcomes)


@st.cache_data(**_ANALYSIS)
def load_referrals(token: str, ctx: AnalysisContext, former_stage: str, referral: tuple[str, ...]) -> Any:
    return metric_service.compute_context_referrals(ctx, former_stage=former_stage, referral=referral)


# --------------------------------------------------------------------------- every map


def load_portfolio() -> list[overview_service.MapHealth]:
    """Every map's health, computed once per change of the data (and per day), shared by sessions."""
    return _load_portfolio(overview_service.data_version())


# The hour's ttl only bounds how long a change outside this workspace (a table on an external
# backend) can go unseen; every change made here moves the version.
@st.cache_data(show_spinner="Computing every map's health…", ttl=3600, max_entries=4)
def _load_portfolio(version: tuple[str, int, int]) -> list[overview_service.MapHealth]:
    return overview_service.compute_portfolio(today=date.fromisoformat(version[0]))


def load_trends(map_ids: tuple[int, ...]) -> Any:
    return _load_trends(map_ids, overview_service.data_version())


@st.cache_data(show_spinner=False, ttl=3600, max_entries=8)
def _load_trends(map_ids: tuple[int, ...], version: tuple[str, int, int]) -> Any:
    portfolio = [h for h in _load_portfolio(version) if h.map_id in map_ids]
    return overview_service.compute_trends(portfolio)
