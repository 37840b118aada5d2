"""The HTML report of one journey map, as plain data: what each section shows, before any HTML.

``services.map_report`` gathers a :class:`MapReportData` (the map's view, its health, the
conversion line, the measure laid over the grid, the stage flow and funnel, the metrics, the
friction hot spots, designed vs observed and the action plan); ``charts.map_report_html`` renders
it into a :class:`MapReport`, the self-contained HTML beside the same tables. The CLI writes both;
the Map studio offers them for download (the tables as a ZIP of CSVs).

Without a linked event log the data sections are ``None`` and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from core.journey_map import MapView

# A pandas DataFrame. The bottom floor imports no pandas (tests/project/test_layering.py keeps it so),
# and the report's tables are the services' frames as they are, so they are typed by this name only.
Table: TypeAlias = Any


@dataclass(frozen=True)
class HealthCard:
    """One measure of the map's health (conversion, NPS, CSAT) as the report's card states it."""

    title: str  # "Conversion", "NPS", "CSAT", or the name of the map's metric the value is from
    value: float | None
    unit: str  # "%" or ""
    target: float | None
    period: str | None
    how: str  # said beside a value entered by hand ("entered by hand"), else ""
    status: str  # "green", "amber", "red" or "none"


@dataclass(frozen=True)
class ReportHealth:
    """The health cards: the measures, the worst hot spot, the actions."""

    measures: tuple[HealthCard, ...]
    hot_spot: str | None
    hot_spot_friction: float | None
    open_actions: int
    overdue_actions: int


@dataclass(frozen=True)
class ReportConversion:
    """Where the report's conversion comes from, stated once at the top."""

    dataset_name: str
    line: str  # the Conversion line, as every page says it
    scope_words: str  # where the definition is saved ("saved for this dataset", ...)
    foreign_note: str | None  # set when the event log is linked to another map than this one


@dataclass(frozen=True)
class ReportOverlay:
    """The measure laid over the grid."""

    title: str  # the measure in words (an attribution measure with its conversion)
    name: str  # the overlay's column name in the grid's legend
    table: Table


@dataclass(frozen=True)
class ReportFlow:
    """The stage flow Sankey's links and the stage funnel."""

    stage_flow: Table
    funnel: Table | None  # None: fewer than two of the map's stages are reached
    window_days: float  # the funnel's window
    unreached_stages: tuple[str, ...]  # the map's stages no journey of the log reaches, in order
    stage_count: int  # the map's stages


@dataclass(frozen=True)
class MetricTrend:
    """One metric's stored values over time (drawn when there are two or more)."""

    name: str
    scope: str
    unit: str
    history: Table


@dataclass(frozen=True)
class ReportFriction:
    """The friction hot spots and designed vs observed, from the event log alone."""

    components: Table  # per touchpoint, the component scores the figure stacks
    touchpoints: Table
    stages: Table
    hot_spots: Table
    unreached_touchpoints: Table
    unknown_activities: Table
    backward_transitions: Table


@dataclass(frozen=True)
class MapReportData:
    """Everything the report of one map shows."""

    view: MapView
    generated_at: datetime
    health: ReportHealth
    conversion: ReportConversion | None  # None (and the sections below): no event log
    overlay: ReportOverlay | None
    flow: ReportFlow | None
    metrics: Table
    trends: tuple[MetricTrend, ...]
    metric_values: Table | None  # every metric's stored values, one row each (None: none stored)
    friction: ReportFriction | None
    action_plan: Table

    @property
    def tables(self) -> dict[str, Table]:
        """Every table of the report by the name of its CSV, in the report's order."""
        found: dict[str, Table] = {}
        if self.overlay is not None:
            found["overlay"] = self.overlay.table
        if self.flow is not None:
            found["stage_flow"] = self.flow.stage_flow
            if self.flow.funnel is not None:
                found["funnel"] = self.flow.funnel
        found["metrics"] = self.metrics
        if self.metric_values is not None:
            found["metric_values"] = self.metric_values
        if self.friction is not None:
            f = self.friction
            found |= {"friction_touchpoints": f.touchpoints, "friction_stages": f.stages, "hot_spots": f.hot_spots}
            found |= {
                "unreached_touchpoints": f.unreached_touchpoints,
                "unknown_activities": f.unknown_activities,
                "backward_transitions": f.backward_transitions,
            }
        found["action_plan"] = self.action_plan
        return found


@dataclass
class MapReport:
    """The report's HTML and the tables it shows (each one a CSV of the download)."""

    html: str
    tables: dict[str, Table] = field(default_factory=dict)
    title: str = ""
