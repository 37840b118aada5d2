"""Builds small, fully filled journey maps for the studio tests (through the public services only)."""

from __future__ import annotations

from dataclasses import dataclass

from core.journey_map import MapView
from services import map_edits, map_view
from services import personas as persona_service
from services.map_edits import LaneCellEdit, RowEdits
from services.maps import create_map_from_template


@dataclass
class FilledMap:
    map_id: int
    persona_ids: tuple[int, int]
    version: int


def filled_map(name: str = "Filled", template: str = "b2b-4-stage") -> FilledMap:
    """A 4-stage map with two personas, lane cells (stage and touchpoint level, per persona), pain points,
    opportunities (one at a moment of truth) and actions."""
    map_id = create_map_from_template(template_key=template, name=name, owner="Ana")
    dana = persona_service.create_persona(
        "Dana", committee_role="decision maker", is_decision_maker=True, job_title="Head of RevOps"
    )
    sam = persona_service.create_persona("Sam", committee_role="technical evaluator", industry="SaaS")
    view = map_view.get_map_view(map_id)
    version = map_edits.set_map_personas(map_id, [dana, sam], expected_version=view.version).version
    s1, s2 = view.stages[0], view.stages[1]
    blog, demo = s1.touchpoints[1], s2.touchpoints[1]  # "Blog", "Demo" (a moment of truth)
    version = map_edits.set_lane_cells(
        map_id,
        [
            LaneCellEdit(s1.id, None, None, "doing", "Reads around"),
            LaneCellEdit(s1.id, None, None, "feeling", "Curious", 1, set_emotion=True),
            LaneCellEdit(s1.id, blog.id, None, "thinking", "Is this for us?"),
            LaneCellEdit(s2.id, demo.id, None, "feeling", "Impressed", 2, set_emotion=True),
            LaneCellEdit(s2.id, demo.id, dana, "feeling", "Worried about cost", -1, set_emotion=True),
            LaneCellEdit(s2.id, demo.id, sam, "thinking", "Does it scale?"),
        ],
        expected_version=version,
    ).version
    version = map_edits.apply_pain_point_edits(
        map_id,
        RowEdits(
            added=[
                {"touchpoint_id": demo.id, "description": "Demo slots two weeks out", "severity": 5},
                {"stage_id": s1.id, "description": "Too many vendors", "severity": 2, "persona_id": dana},
            ]
        ),
        expected_version=version,
    ).version
    version = map_edits.apply_opportunity_edits(
        map_id,
        RowEdits(
            added=[
                {
                    "touchpoint_id": demo.id,
                    "description": "Self-serve demo",
                    "effort": 2,
                    "customer_value": 4,
                    "business_value": 4,
                },
                {
                    "touchpoint_id": blog.id,
                    "description": "Better blog",
                    "effort": 2,
                    "customer_value": 4,
                    "business_value": 4,
                },
                {
                    "stage_id": s1.id,
                    "description": "Comparison guide",
                    "effort": 5,
                    "customer_value": 1,
                    "business_value": 1,
                },
            ]
        ),
        expected_version=version,
    ).version
    version = map_edits.apply_action_edits(
        map_id,
        RowEdits(
            added=[
                {
                    "touchpoint_id": demo.id,
                    "action": "Add booking widget",
                    "owner": "Sales ops",
                    "due_date": "2020-01-31",
                },
                {"action": "Quarterly review", "status": "done", "due_date": "2020-01-01"},
            ]
        ),
        expected_version=version,
    ).version
    return FilledMap(map_id, (dana, sam), version)


def filled_map_view() -> tuple[FilledMap, MapView]:
    """``filled_map()`` and its view as it stands."""
    filled = filled_map()
    return filled, map_view.get_map_view(filled.map_id)
