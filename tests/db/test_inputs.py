"""db/inputs.py: the input models cover the core field lists, and refusals name the field, the value and
what is expected."""

from __future__ import annotations

import pytest

from core import journey_map as jm
from core.errors import BadInputError
from db.inputs import (
    ActionInput,
    LaneCellInput,
    MapUpdate,
    MetricUpdate,
    OpportunityInput,
    PainPointInput,
    PersonaCreate,
    PersonaUpdate,
    StageCreate,
    StageUpdate,
    TouchpointCreate,
    TouchpointUpdate,
    given,
    validate,
)
from db.models import ActionStatus, Lane


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (MapUpdate, jm.MAP_FIELDS),
        (StageUpdate, jm.STAGE_FIELDS),
        (StageCreate, jm.STAGE_FIELDS),
        (TouchpointUpdate, jm.TOUCHPOINT_FIELDS),
        (TouchpointCreate, jm.TOUCHPOINT_FIELDS),
        (PainPointInput, jm.PAIN_POINT_FIELDS),
        (OpportunityInput, jm.OPPORTUNITY_FIELDS),
        (ActionInput, jm.ACTION_FIELDS),
        (PersonaUpdate, (*jm.PERSONA_FIELDS, "is_demo")),
    ],
)
def test_models_hold_exactly_the_core_field_lists(model, fields):
    assert set(model.model_fields) == set(fields)
    # Every field has its user label as title: refusals name it, and the map document maps it back to its key.
    assert all(info.title for info in model.model_fields.values())


def test_core_mirrors_the_database_choices():
    assert jm.LANE_ORDER == tuple(lane.value for lane in Lane)
    assert (jm.ACTION_OPEN, jm.ACTION_DONE) == (ActionStatus.OPEN.value, ActionStatus.DONE.value)


@pytest.mark.parametrize(
    ("model", "values", "row", "message"),
    [
        (StageCreate, {}, "new stage 1", "new stage 1: stage name: None is not valid; expected a non-empty name."),
        (
            StageUpdate,
            {"outcomes": 5},
            "stage “Awareness”",
            "stage “Awareness”: outcomes: 5 is not valid; expected a list of names.",
        ),
        (
            TouchpointUpdate,
            {"colour": "red"},
            None,
            "colour: 'red' is not valid; expected a field of a touchpoint: " + ", ".join(jm.TOUCHPOINT_FIELDS) + ".",
        ),
        (
            TouchpointCreate,
            {"name": "Demo", "stage_id": None},
            "new touchpoint 1",
            "new touchpoint 1: stage: None is not valid; expected a stage of this map.",
        ),
        (
            PainPointInput,
            {"description": "Slow", "severity": "7"},
            "new pain point 2",
            "new pain point 2: severity (1–5): '7' is not valid; expected a whole number from 1 to 5.",
        ),
        (
            ActionInput,
            {"action": "Call", "due_date": "soon"},
            None,
            "due date: 'soon' is not valid; expected a date as YYYY-MM-DD.",
        ),
        (
            LaneCellInput,
            {"lane": "doing", "emotion": 1},
            "cell 1",
            "cell 1: emotion: 1 is not valid; expected an emotion score on the feeling lane only.",
        ),
        (
            MapUpdate,
            {"state": "past"},
            None,
            "state: 'past' is not valid; expected one of: current, future.",
        ),
        (PersonaCreate, {"name": "Ann", "is_decision_maker": "maybe"}, None, "decision maker: 'maybe' is not valid"),
        (MetricUpdate, {"target": float("inf")}, None, "target: inf is not valid; expected a finite number."),
        (MetricUpdate, {"direction": "up"}, None, "direction: 'up' is not valid; expected higher or lower."),
    ],
)
def test_refusals_name_field_value_and_expectation(model, values, row, message):
    with pytest.raises(BadInputError) as caught:
        validate(model, values, row=row)
    assert str(caught.value).startswith(message)


def test_updates_keep_only_the_fields_given_and_coerce_them():
    assert given(validate(StageUpdate, {"position": "2", "revisitable": "yes", "outcomes": "A; B;A"})) == {
        "position": 2.0,
        "revisitable": True,
        "outcomes": ["A", "B"],
    }
    item = validate(OpportunityInput, {"stage_id": 4.0, "description": "  Faster quote "})
    assert (item.stage_id, item.description, item.effort, item.customer_value) == (4, "Faster quote", 3, 3)
    assert validate(ActionInput, {"action": "Call", "status": ""}).status == "open"
