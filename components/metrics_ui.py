"""Cached loaders and URL-state widgets of the Metrics, Friction, Overlay and Overview pages.

Results are plain data (dataclasses of DataFrames), keyed by hashable arguments; the weights of
the friction index travel as a tuple. Every choice a page makes is kept in the URL
(``?map=<id>&dataset=<id>&...``), so a link reproduces the view.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from analytics.friction import FrictionResult, FrictionWeights
from core.journey_map import MapView
from services import friction as friction_service
from services import metrics as metric_service
from services import overlay as overlay_service
from services import overview as overview_service
from services.context import AnalysisContext
from services.map_view import get_map_view

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- URL state


def query_float(param: str, default: float) -> float:
    try:
        return float(st.query_params.get(param, default))
    except (TypeError, ValueError):
        return default


def weights_from_url() -> FrictionWeights:
    """Friction weights from ``?w_exit=..&w_backtrack=..`` (defaults where absent or bad)."""
    d = FrictionWeights()
    values = {k: max(0.0, query_float(f"w_{k}", v)) for k, v in d.as_dict().items()}
    return FrictionWeights(**values) if sum(values.values()) > 0 else d


def page_exists(path: str) -> bool:
    return (ROOT / path).is_file()


# --------------------------------------------------------------------------- loaders


@st.cache_data(show_spinner=False, ttl=300, max_entries=32)
def load_maps() -> list[tuple[int, str]]:
    from services.maps import list_map_summaries

    return [(m.id, m.name) for m in list_map_summaries()]


@st.cache_data(show_spinner=False, ttl=300, max_entries=32)
def load_datasets() -> list[tuple[int, str, int | None]]:
    from services.datasets import list_dataset_summaries

    return [(d.id, d.name, d.map_id) for d in list_dataset_summaries()]


@st.cache_data(show_spinner=False, ttl=300, max_entries=64)
def load_map_scopes(map_id: int) -> tuple[list[tuple[int, str]], list[metric_service.TouchpointRef]]:
    return metric_service.list_map_scopes(map_id)


@st.cache_data(show_spinner=False, ttl=300, max_entries=64)
def load_map_outcomes(map_id: int) -> list[tuple[str, tuple[str, ...]]]:
    return metric_service.list_stage_outcomes(map_id)


@st.cache_data(show_spinner=False, ttl=300, max_entries=64)
def load_has_role(dataset_id: int, role: str) -> bool:
    return metric_service.dataset_has_role(dataset_id, role)


@st.cache_data(show_spinner=False, ttl=300, max_entries=64)
def load_metrics(map_id: int) -> list[metric_service.MetricRow]:
    return metric_service.list_metrics(map_id)


@st.cache_data(show_spinner="Computing the friction index…", ttl=600, max_entries=32)
def load_friction(token: str, ctx: AnalysisContext) -> FrictionResult:
    """Components under the default weights; pages reweight without a query (``reweight``)."""
    return friction_service.compute_context_friction(ctx)


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def load_designed_vs_observed(token: str, ctx: AnalysisContext) -> overlay_service.DesignedVsObserved:
    return overlay_service.compute_designed_vs_observed(ctx, load_friction(token, ctx))


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def load_overlay(token: str, ctx: AnalysisContext, measure: str) -> Any:
    """The overlay of ``measure``; the attribution measures credit the context's conversion."""
    attribution = None
    if measure in overlay_service.ATTRIBUTION_MEASURES:
        attribution = load_attribution_overlay(token, ctx).frame
    return overlay_service.compute_overlay(ctx, load_friction(token, ctx), measure, attribution)


@st.cache_data(show_spinner="Crediting conversions…", ttl=600, max_entries=32)
def load_attribution_overlay(token: str, ctx: AnalysisContext) -> overlay_service.AttributionOverlay:
    return overlay_service.compute_attribution_overlay(ctx)


@st.cache_data(show_spinner=False, ttl=300, max_entries=32)
def cached_map_view(map_id: int) -> MapView:
    """The map's view (``services.map_view.get_map_view``), cached a few minutes for the Overlay page."""
    return get_map_view(map_id)


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


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def load_outcomes(token: str, ctx: AnalysisContext, stage: str | None, outcomes: tuple[str, ...]) -> Any:
    from analytics.metrics import compute_outcome_shares

    return compute_outcome_shares(ctx.events(), ctx.schema, ctx.query, stage=stage, outcomes=outcomes)


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def load_referrals(token: str, ctx: AnalysisContext, former_stage: str, referral: tuple[str, ...]) -> Any:
    from analytics.metrics import compute_referrals

    return compute_referrals(
        ctx.events(), ctx.schema, ctx.query, former_stage=former_stage, referral_touchpoints=referral
    )


@st.cache_data(show_spinner="Writing the report…", ttl=300, max_entries=8)
def load_report(
    map_id: int, dataset_id: int | None = None, measure: str = "friction", version: int | None = None
) -> tuple[str, bytes]:
    """(HTML, ZIP of the CSVs) of a map's report; ``version`` (the map's) only keys the cache, so an
    edited map gets a fresh report."""
    from services.report import build_map_report, report_csv_zip

    report = build_map_report(map_id, dataset_id=dataset_id, measure=measure)
    return report.html, report_csv_zip(report)


def render_report_buttons(
    map_id: int,
    *,
    dataset_id: int | None = None,
    measure: str = "friction",
    version: int | None = None,
    key: str = "report",
    compact: bool = False,
) -> None:
    """The report where a manager is: the map's HTML report (written when clicked) and its tables as CSVs;
    ``compact`` shows the report alone, labelled "Report" (the Overview's map cards)."""
    with st.container(horizontal=True):
        st.download_button(
            "Report" if compact else "Download the map's report (HTML)",
            lambda: load_report(map_id, dataset_id, measure, version)[0].encode("utf-8"),
            file_name=f"journeylens-report-{map_id}.html",
            mime="text/html",
            icon=":material/description:",
            key=f"{key}_html",
            help="The whole grid with a measure laid over it, stage flow, funnel, metrics, hot spots and action "
            "plan in one file that opens offline.",
        )
        if compact:
            return
        st.download_button(
            "Download every table (ZIP of CSVs)",
            lambda: load_report(map_id, dataset_id, measure, version)[1],
            file_name=f"journeylens-report-{map_id}-tables.zip",
            mime="application/zip",
            icon=":material/folder_zip:",
            key=f"{key}_zip",
        )


def clear_metric_caches() -> None:
    """After a write (metrics, values): every page shows the new state."""
    st.cache_data.clear()
