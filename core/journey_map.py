"""The journey map as plain data: the read model every layer shares (no Streamlit, no database).

:class:`MapView` holds a whole map as frozen dataclasses and tuples (and a metric's kept options as
its own copy of a small mapping), never ORM objects: the map's
fields, its stages in order with their touchpoints in order, its personas, lane cells, pain points,
opportunities, actions and metrics. ``services.map_view`` builds it from the database; charts,
exports, derived tables (``analytics.map_tables``) and the studio's pages read it.

The field lists here (``TOUCHPOINT_FIELDS``...) are the one home of what a user can edit on each
item: the input models (``db.inputs``), the map document and the studio's forms and tables read them.

Opportunity priority (:func:`opportunity_priority`)::

    priority = (customer_value + business_value) / 2 / effort × (1.5 if at a moment of truth else 1)

ranging from 0.2 (value 1, effort 5) to 7.5 (value 5, effort 1, at a moment of truth).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.errors import NotFoundError

EMOTION_MIN, EMOTION_MAX = -2, 2
SCORE_MIN, SCORE_MAX = 1, 5
MOMENT_OF_TRUTH_WEIGHT = 1.5
# Lanes in display order (the values of ``db.models.Lane``); a map shows the first three at least.
LANE_ORDER = ("thinking", "doing", "feeling", "customer goal", "your goal")
DEFAULT_LANES = LANE_ORDER[:3]
ACTION_OPEN, ACTION_DONE = "open", "done"  # the first and last of ``db.models.ActionStatus``

# --------------------------------------------------------------------------- what a user edits on each item

MAP_FIELDS = ("name", "description", "scenario", "state", "owner", "review_by")
STAGE_FIELDS = ("name", "position", "customer_goal", "business_goal", "outcomes", "revisitable")
RACI_FIELDS = ("responsible", "accountable", "consulted", "informed")
TOUCHPOINT_FIELDS = (
    "stage_id",
    "name",
    "position",
    "channel",
    "owner_team",
    *RACI_FIELDS,
    "moment_of_truth",
    "activity_names",
)
PLACE_FIELDS = ("stage_id", "touchpoint_id")  # where an item sits: a stage, or one of its touchpoints
PAIN_POINT_FIELDS = (*PLACE_FIELDS, "persona_id", "description", "severity")
OPPORTUNITY_SCORES = ("effort", "customer_value", "business_value")
OPPORTUNITY_FIELDS = (*PLACE_FIELDS, "description", *OPPORTUNITY_SCORES)
# What a table of opportunities shows of each (its priority and moment of truth are derived, read-only).
OPPORTUNITY_SHOWN = ("description", *OPPORTUNITY_SCORES, "moment_of_truth", "priority")
ACTION_TASK_FIELDS = ("action", "owner", "status", "due_date")
ACTION_FIELDS = (*PLACE_FIELDS, "metric_id", *ACTION_TASK_FIELDS, "expected_effect")
PERSONA_FIELDS = (
    "name",
    "description",
    "demographics",
    "job_title",
    "company_size",
    "industry",
    "is_decision_maker",
    "committee_role",
    "goals",
    "pain_points",
    "buying_behaviour",
    "channels",
)


def opportunity_priority(customer_value: int, business_value: int, effort: int, moment_of_truth: bool) -> float:
    """Value over effort, moments of truth weighted up (formula in the module docstring)."""
    weight = MOMENT_OF_TRUTH_WEIGHT if moment_of_truth else 1.0
    return round((customer_value + business_value) / 2 / max(effort, 1) * weight, 4)


# --------------------------------------------------------------------------- the plain-data view


@dataclass(frozen=True)
class TouchpointView:
    id: int
    stage_id: int
    position: int
    name: str
    channel: str = ""
    owner_team: str = ""
    responsible: str = ""
    accountable: str = ""
    consulted: str = ""
    informed: str = ""
    moment_of_truth: bool = False
    activity_names: tuple[str, ...] = ()

    @property
    def raci(self) -> str:
        """Compact RACI text, e.g. ``R: Sales · A: CRO · C: Legal``; empty parts left out."""
        parts = [(role[0].upper(), getattr(self, role)) for role in RACI_FIELDS]
        return " · ".join(f"{letter}: {value}" for letter, value in parts if value)


@dataclass(frozen=True)
class StageView:
    id: int
    position: int
    name: str
    customer_goal: str = ""
    business_goal: str = ""
    outcomes: tuple[str, ...] = ()
    revisitable: bool = False
    touchpoints: tuple[TouchpointView, ...] = ()


@dataclass(frozen=True)
class PersonaView:
    id: int
    name: str
    description: str = ""
    demographics: str = ""
    job_title: str = ""
    company_size: str = ""
    industry: str = ""
    is_decision_maker: bool = False
    committee_role: str | None = None
    goals: str = ""
    pain_points: str = ""
    buying_behaviour: str = ""
    channels: str = ""
    is_demo: bool = False


@dataclass(frozen=True)
class _OnStage:
    """An item on a stage, or on one of its touchpoints (``touchpoint_id`` None: the whole stage)."""

    id: int
    stage_id: int
    touchpoint_id: int | None


@dataclass(frozen=True)
class LaneCellView(_OnStage):
    persona_id: int | None
    lane: str
    text: str = ""
    emotion: int | None = None


@dataclass(frozen=True)
class PainPointView(_OnStage):
    persona_id: int | None
    description: str
    severity: int


@dataclass(frozen=True)
class OpportunityView(_OnStage):
    description: str
    effort: int
    customer_value: int
    business_value: int
    moment_of_truth: bool = False

    @property
    def priority(self) -> float:
        return opportunity_priority(self.customer_value, self.business_value, self.effort, self.moment_of_truth)


@dataclass(frozen=True)
class ActionView:
    id: int
    stage_id: int | None
    touchpoint_id: int | None
    metric_id: int | None
    action: str
    owner: str = ""
    status: str = ACTION_OPEN
    due_date: date | None = None
    expected_effect: str = ""


@dataclass(frozen=True)
class MetricValueView:
    period: str
    value: float
    respondents: int | None = None
    computed: bool = False


@dataclass(frozen=True)
class MetricView:
    id: int
    stage_id: int | None
    touchpoint_id: int | None
    kind: str
    name: str
    unit: str = ""
    target: float | None = None
    direction: str = "higher"
    source: str = "manual"
    dataset_id: int | None = None
    values: tuple[MetricValueView, ...] = ()
    # The options its computed values were computed with (analytics.metrics.KEPT_OPTIONS); {} for none.
    computed_with: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MapView:
    """A whole journey map as plain data (see the module docstring)."""

    id: int
    name: str
    description: str = ""
    scenario: str = ""
    state: str = "current"
    owner: str = ""
    review_by: date | None = None
    template_key: str | None = None
    parent_map_id: int | None = None
    is_demo: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1
    stale: bool = False
    template_lanes: tuple[str, ...] = ()
    stages: tuple[StageView, ...] = ()
    personas: tuple[PersonaView, ...] = ()
    lane_cells: tuple[LaneCellView, ...] = ()
    pain_points: tuple[PainPointView, ...] = ()
    opportunities: tuple[OpportunityView, ...] = ()
    actions: tuple[ActionView, ...] = ()
    metrics: tuple[MetricView, ...] = ()

    @property
    def touchpoints(self) -> tuple[TouchpointView, ...]:
        """Every touchpoint in display order (stage order, then position)."""
        return tuple(tp for stage in self.stages for tp in stage.touchpoints)

    def stage(self, stage_id: int) -> StageView:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise NotFoundError("Stage", stage_id)

    def touchpoint(self, touchpoint_id: int) -> TouchpointView:
        for tp in self.touchpoints:
            if tp.id == touchpoint_id:
                return tp
        raise NotFoundError("Touchpoint", touchpoint_id)

    def persona(self, persona_id: int) -> PersonaView:
        for persona in self.personas:
            if persona.id == persona_id:
                return persona
        raise NotFoundError("Persona", persona_id)

    @property
    def lanes(self) -> tuple[str, ...]:
        """Lanes this map shows: thinking, doing, feeling, the template's lanes and any lane in use."""
        wanted = set(DEFAULT_LANES) | set(self.template_lanes) | {cell.lane for cell in self.lane_cells}
        return tuple(lane for lane in LANE_ORDER if lane in wanted)

    def cell(
        self, *, stage_id: int, touchpoint_id: int | None, persona_id: int | None, lane: str
    ) -> LaneCellView | None:
        for c in self.lane_cells:
            if (c.stage_id, c.touchpoint_id, c.persona_id, c.lane) == (stage_id, touchpoint_id, persona_id, lane):
                return c
        return None


# What sits on a stage or a touchpoint of the grid (the items drawn in its rows).
PlacedItem = LaneCellView | PainPointView | OpportunityView | ActionView
