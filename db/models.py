"""Every table of JourneyLens, in one module.

The journey map model of PRODUCT.md (maps, personas with buying-committee roles, stages with
outcomes, touchpoints with channel/owner/RACI/moment of truth/activity names, lane cells with
emotion scores, pain points, opportunities, actions, metrics with targets and per-period values,
snapshots) and the description of event-log datasets (column mapping, activity→touchpoint links).

Lists (stage outcomes, activity names, mappings) are stored as JSON columns: they are always read
and written whole with their owner row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware now in UTC (the only clock the database uses)."""
    return datetime.now(UTC)


class MapState(StrEnum):
    CURRENT = "current"
    FUTURE = "future"


class CommitteeRole(StrEnum):
    """B2B buying-committee roles a persona can play."""

    DECISION_MAKER = "decision maker"
    CHAMPION = "champion"
    INFLUENCER = "influencer"
    USER = "user/practitioner"
    TECHNICAL_EVALUATOR = "technical evaluator"
    PROCUREMENT = "procurement"
    EXECUTIVE_SPONSOR = "executive sponsor"


class Lane(StrEnum):
    """Free-text lanes of a map; feeling carries an emotion score as well."""

    THINKING = "thinking"
    DOING = "doing"
    FEELING = "feeling"
    CUSTOMER_GOAL = "customer goal"
    YOUR_GOAL = "your goal"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in progress"
    DONE = "done"


class MetricKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    FCR = "fcr"
    RETENTION = "retention"
    CLV = "clv"
    CONVERSION = "conversion"
    CUSTOM = "custom"


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


# --------------------------------------------------------------------------- the map


class JourneyMap(SQLModel, table=True):
    __tablename__ = "journey_map"
    # AUTOINCREMENT: the id of a deleted map is never given to a new one, so a save aimed at the
    # deleted map (from a page opened before the delete) cannot land on another map.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=200)
    description: str = ""
    scenario: str = ""
    state: str = Field(default=MapState.CURRENT.value)
    owner: str = ""
    review_by: date | None = None
    template_key: str | None = None
    parent_map_id: int | None = Field(default=None, foreign_key="journey_map.id", ondelete="SET NULL")
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Optimistic concurrency: every save states the version it started from; a mismatch is refused.
    version: int = Field(default=1)


class Persona(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = ""
    demographics: str = ""
    job_title: str = ""
    company_size: str = ""
    industry: str = ""
    is_decision_maker: bool = False
    committee_role: str | None = None
    is_demo: bool = False
    goals: str = ""
    pain_points: str = ""
    buying_behaviour: str = ""
    channels: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class MapPersona(SQLModel, table=True):
    __tablename__ = "map_persona"

    map_id: int = Field(foreign_key="journey_map.id", primary_key=True, ondelete="CASCADE")
    persona_id: int = Field(foreign_key="persona.id", primary_key=True, ondelete="CASCADE")


class Stage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    position: int = 0
    name: str = Field(max_length=200)
    customer_goal: str = ""
    business_goal: str = ""
    # Optional named outcomes of the stage, e.g. ["hired", "not now", "no way"].
    outcomes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Non-linear journeys: stages buyers are expected to revisit.
    revisitable: bool = False


class Touchpoint(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    stage_id: int = Field(foreign_key="stage.id", index=True, ondelete="CASCADE")
    position: int = 0
    name: str = Field(max_length=200)
    channel: str = ""
    owner_team: str = ""
    responsible: str = ""
    accountable: str = ""
    consulted: str = ""
    informed: str = ""
    moment_of_truth: bool = False
    # Activity names in event data that this touchpoint stands for.
    activity_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class LaneCell(SQLModel, table=True):
    """One cell of a free-text lane, per stage or touchpoint, optionally per persona."""

    __tablename__ = "lane_cell"

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    stage_id: int = Field(foreign_key="stage.id", ondelete="CASCADE")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoint.id", ondelete="CASCADE")
    persona_id: int | None = Field(default=None, foreign_key="persona.id", ondelete="CASCADE")
    lane: str
    text: str = ""
    # Only for the feeling lane: −2 (very negative) .. +2 (very positive).
    emotion: int | None = None


class PainPoint(SQLModel, table=True):
    __tablename__ = "pain_point"

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    stage_id: int = Field(foreign_key="stage.id", ondelete="CASCADE")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoint.id", ondelete="CASCADE")
    persona_id: int | None = Field(default=None, foreign_key="persona.id", ondelete="CASCADE")
    description: str
    severity: int = 3  # 1 (minor) .. 5 (critical)


class Opportunity(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    stage_id: int = Field(foreign_key="stage.id", ondelete="CASCADE")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoint.id", ondelete="CASCADE")
    description: str
    effort: int = 3  # 1..5
    customer_value: int = 3  # 1..5
    business_value: int = 3  # 1..5


class Action(SQLModel, table=True):
    """A line of the action plan."""

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    stage_id: int | None = Field(default=None, foreign_key="stage.id", ondelete="SET NULL")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoint.id", ondelete="SET NULL")
    metric_id: int | None = Field(default=None, foreign_key="metric.id", ondelete="SET NULL")
    action: str
    owner: str = ""
    status: str = ActionStatus.OPEN.value
    due_date: date | None = None
    expected_effect: str = ""


class Metric(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    stage_id: int | None = Field(default=None, foreign_key="stage.id", ondelete="CASCADE")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoint.id", ondelete="CASCADE")
    kind: str = MetricKind.CUSTOM.value
    name: str
    unit: str = ""
    target: float | None = None
    direction: str = Direction.HIGHER.value
    # "manual" or "dataset"; a dataset metric is recomputed from dataset_id.
    source: str = "manual"
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", ondelete="SET NULL")
    # The options its computed values were computed with ({} before the first computation, or for a
    # metric computed before they were kept): period, and where they apply FCR's source of cases
    # (fcr_from) and window, or CLV's margin (analytics.metrics.KEPT_OPTIONS).
    computed_with: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )


class MetricValue(SQLModel, table=True):
    __tablename__ = "metric_value"
    __table_args__ = (UniqueConstraint("metric_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True, ondelete="CASCADE")
    period: str  # "2026-03" (month) or "2026-Q1" (quarter)
    value: float
    respondents: int | None = None
    computed: bool = False


class Snapshot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    name: str
    created_at: datetime = Field(default_factory=utcnow)
    # The whole map as exported JSON (services.map_io), so a restore is an import.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --------------------------------------------------------------------------- event-log datasets


class Dataset(SQLModel, table=True):
    __table_args__ = {"sqlite_autoincrement": True}  # ids of deleted datasets are never reused

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    source_name: str = ""
    # sha256 of the file's bytes together with the import options: re-importing adds nothing.
    content_hash: str = Field(index=True, unique=True)
    # Source column for each role, e.g. {"journey": "case:concept:name", "segments": ["region"]}.
    column_mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    import_options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Relative to the data directory; empty for a table on an external backend.
    storage_path: str = ""
    backend_url: str | None = None
    table_name: str | None = None
    events: int = 0
    journeys: int = 0
    accounts: int = 0
    activities: int = 0
    duplicates_removed: int = 0  # rows dropped as identical in every column to an earlier one (only on request)
    ties: int = 0
    rejected_rows: int = 0
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None
    map_id: int | None = Field(default=None, foreign_key="journey_map.id", ondelete="SET NULL")
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    # "ok", or "missing" once `python cli.py check --repair` found its events file gone.
    status: str = Field(default="ok", sa_column_kwargs={"server_default": "ok"})


class ColumnMappingPreset(SQLModel, table=True):
    """A saved column mapping, reused for the next file with the same header."""

    __tablename__ = "column_mapping_preset"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    header_signature: str = Field(index=True)
    column_mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ActivityLink(SQLModel, table=True):
    """Which touchpoint of a map an activity of a dataset stands for."""

    __tablename__ = "activity_link"
    __table_args__ = (UniqueConstraint("dataset_id", "map_id", "activity"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    map_id: int = Field(foreign_key="journey_map.id", index=True, ondelete="CASCADE")
    activity: str
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoint.id", ondelete="CASCADE")


class ConversionDefinition(SQLModel, table=True):
    """What "converted" means for a dataset (``map_id`` None), or for it seen through one map.

    Either reaching any of ``goals`` (touchpoint, activity or stage names), optionally within
    ``within_days`` of the journey's start, or a journey outcome among ``outcomes``; optionally
    what "lost" means, the same way. Semantics: :mod:`analytics.conversion`. One row per
    (dataset, map) pair; the services keep it so (SQLite treats null map ids as distinct).
    """

    __tablename__ = "conversion_definition"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    map_id: int | None = Field(default=None, foreign_key="journey_map.id", ondelete="CASCADE")
    goals: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcomes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    within_days: float | None = None
    lost_goals: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lost_outcomes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Who changed what and when: one row per change to a map, dataset, link or conversion definition.

    No foreign keys: the trail outlives what it describes (a deleted map keeps its history).
    """

    __tablename__ = "audit_event"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str  # the signed-in e-mail, or "local" without sign-in
    action: str  # create, update, delete, restore, link, import, reset, ...
    object_type: str  # map, dataset, link, conversion, snapshot, demo
    object_id: int | None = None
    map_id: int | None = Field(default=None, index=True)  # the map it concerns, if any
    summary: str = ""
