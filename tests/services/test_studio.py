"""The studio services: the map view, every versioned edit, validation, personas and derived tables."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest
from sqlmodel import select

from analytics import map_tables
from core import journey_map
from core.errors import BadInputError, ConflictError, NotFoundError, UnknownNameError
from db.engine import read_session
from db.models import LaneCell, Opportunity, PainPoint, Touchpoint
from services import map_edits, map_view
from services import personas as persona_service
from services.map_edits import LaneCellEdit, RowEdits
from services.maps import create_map_from_template, delete_map
from tests.studio_factory import filled_map, filled_map_view


def _names(view):
    return [(s.name, [t.name for t in s.touchpoints]) for s in view.stages]


def test_map_view_is_plain_data_in_display_order(engine):
    map_id = create_map_from_template(template_key="buying-committee", name="Committee", owner="Vera")
    view = map_view.get_map_view(map_id)
    assert view.version == 1 and view.owner == "Vera" and view.template_key == "buying-committee"
    assert [s.name for s in view.stages] == ["Awareness", "Consideration", "Decision", "Loyalty & Advocacy"]
    assert [s.position for s in view.stages] == [0, 1, 2, 3]
    demo = view.stages[1].touchpoints[1]
    assert (demo.name, demo.channel, demo.owner_team, demo.moment_of_truth) == ("Demo", "demo", "Sales", True)
    assert demo.activity_names == ("Demo",) and demo.raci == "R: Sales"
    assert view.touchpoint(demo.id) == demo and view.stage(demo.stage_id).name == "Consideration"
    # The buying-committee template adds the "your goal" lane to thinking, doing and feeling.
    assert view.lanes == ("thinking", "doing", "feeling", "your goal")
    assert hash(view)  # frozen: safe to cache
    with pytest.raises(NotFoundError):
        map_view.get_map_view(map_id + 99)


def test_every_edit_bumps_the_version_once_and_a_stale_copy_is_refused(engine):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Versions")
    view = map_view.get_map_view(map_id)
    saved = map_edits.add_stage(map_id, "Expansion", expected_version=view.version)
    assert saved.version == view.version + 1 and len(saved.ids) == 1
    with pytest.raises(ConflictError, match="version 1, it is now at version 2"):
        map_edits.add_touchpoint(map_id, view.stages[0].id, "Webinar", expected_version=view.version)
    after = map_view.get_map_view(map_id)
    assert "Webinar" not in [t.name for t in after.touchpoints]  # nothing written
    assert after.version == 2


def test_stage_edits_rename_reorder_add_and_delete(engine):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Stages")
    view = map_view.get_map_view(map_id)
    awareness, consideration, decision, retention = view.stages
    saved = map_edits.apply_stage_edits(
        map_id,
        RowEdits(
            updated={retention.id: {"position": 0, "name": "Keep"}, awareness.id: {"outcomes": "won; lost"}},
            added=[{"name": "Onboarding", "position": 3, "revisitable": True}],
            deleted=[decision.id],
        ),
        expected_version=view.version,
    )
    view = map_view.get_map_view(map_id)
    assert [s.name for s in view.stages] == ["Keep", "Awareness", "Consideration", "Onboarding"]
    assert [s.position for s in view.stages] == [0, 1, 2, 3]
    assert view.stages[1].outcomes == ("won", "lost")
    assert view.stages[3].revisitable and view.stages[3].id == saved.ids[0]
    # The deleted stage took its touchpoints with it.
    assert {t.name for t in view.touchpoints} == {
        "Online ads",
        "Blog",
        "Case studies",
        "Demo",
        "Help centre",
        "Renewal page",
    }


def test_move_stage_and_touchpoint_are_clamped(engine):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Moves")
    view = map_view.get_map_view(map_id)
    v = map_edits.move_stage(map_id, view.stages[0].id, +1, expected_version=view.version).version
    v = map_edits.move_stage(map_id, view.stages[3].id, +5, expected_version=v).version
    blog = view.stages[0].touchpoints[1]
    v = map_edits.move_touchpoint(map_id, blog.id, -3, expected_version=v).version
    view = map_view.get_map_view(map_id)
    assert [s.name for s in view.stages] == ["Consideration", "Awareness", "Decision", "Retention"]
    assert [t.name for t in view.stages[1].touchpoints] == ["Blog", "Online ads"]
    assert view.version == v


def test_touchpoint_edits_set_raci_move_stage_and_carry_their_cells(engine):
    filled, view = filled_map_view()
    demo = view.stages[1].touchpoints[1]
    target = view.stages[3]
    map_edits.apply_touchpoint_edits(
        filled.map_id,
        RowEdits(
            updated={
                demo.id: {
                    "stage_id": target.id,
                    "position": 0,
                    "accountable": "CRO",
                    "consulted": "Legal",
                    "informed": "Finance",
                    "activity_names": ["demo_booked", "demo_held"],
                    "moment_of_truth": False,
                }
            },
            added=[{"stage_id": target.id, "name": "Renewal call", "channel": "phone"}],
        ),
        expected_version=filled.version,
    )
    view = map_view.get_map_view(filled.map_id)
    moved = view.touchpoint(demo.id)
    assert moved.stage_id == target.id and moved.position == 0
    assert moved.raci == "R: Sales · A: CRO · C: Legal · I: Finance"
    assert moved.activity_names == ("demo_booked", "demo_held") and not moved.moment_of_truth
    assert [t.name for t in view.stage(target.id).touchpoints] == [
        "Demo",
        "Help centre",
        "Renewal page",
        "Renewal call",
    ]
    renewal_call = view.stage(target.id).touchpoints[-1]
    assert renewal_call.activity_names == ("Renewal call",)  # defaults to its name
    # Its cells, pain points and opportunities moved with it to the new stage.
    assert all(c.stage_id == target.id for c in view.lane_cells if c.touchpoint_id == demo.id)
    assert all(p.stage_id == target.id for p in view.pain_points if p.touchpoint_id == demo.id)
    assert all(o.stage_id == target.id for o in view.opportunities if o.touchpoint_id == demo.id)
    # No longer a moment of truth: its opportunity lost the weight.
    assert next(o for o in view.opportunities if o.touchpoint_id == demo.id).moment_of_truth is False


def test_deleting_a_touchpoint_removes_its_cells_and_items(engine):
    filled, view = filled_map_view()
    demo = view.stages[1].touchpoints[1]
    map_edits.apply_touchpoint_edits(filled.map_id, RowEdits(deleted=[demo.id]), expected_version=filled.version)
    with read_session() as session:
        for model in (LaneCell, PainPoint, Opportunity):
            assert not session.exec(select(model).where(model.touchpoint_id == demo.id)).all()
        assert session.get(Touchpoint, demo.id) is None
    # The action on it stays, now on the whole map.
    view = map_view.get_map_view(filled.map_id)
    booking = next(a for a in view.actions if a.action == "Add booking widget")
    assert booking.touchpoint_id is None


def test_lane_cells_upsert_clear_and_persona_rules(engine):
    filled, view = filled_map_view()
    s1 = view.stages[0]
    ads = s1.touchpoints[0]
    set_ads_cell = partial(map_edits.set_lane_cell, filled.map_id, stage_id=s1.id, touchpoint_id=ads.id)
    v = set_ads_cell(lane="thinking", text="  Who pays?  ", expected_version=view.version).version
    v = set_ads_cell(lane="thinking", text="Who pays for this?", expected_version=v).version
    view = map_view.get_map_view(filled.map_id)
    cell = view.cell(stage_id=s1.id, touchpoint_id=ads.id, persona_id=None, lane="thinking")
    assert cell is not None and cell.text == "Who pays for this?"
    assert sum(1 for c in view.lane_cells if c.touchpoint_id == ads.id and c.lane == "thinking") == 1
    # Clearing the text of a cell without an emotion removes it.
    v = set_ads_cell(lane="thinking", text="", expected_version=v).version
    assert (
        map_view.get_map_view(filled.map_id).cell(
            stage_id=s1.id, touchpoint_id=ads.id, persona_id=None, lane="thinking"
        )
        is None
    )
    # A touchpoint implies its stage, even when the edit names another stage.
    v = set_ads_cell(stage_id=view.stages[2].id, lane="doing", text="Clicks", expected_version=v).version
    assert map_view.get_map_view(filled.map_id).cell(
        stage_id=s1.id, touchpoint_id=ads.id, persona_id=None, lane="doing"
    )
    # A persona must be attached to the map.
    stranger = persona_service.create_persona("Stranger")
    with pytest.raises(BadInputError, match="a persona attached to this map"):
        set_ads_cell(touchpoint_id=None, lane="doing", text="x", persona_id=stranger, expected_version=v)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (LaneCellEdit(0, None, None, "feeling", "x", 3, set_emotion=True), "whole number from -2 to 2"),
        (LaneCellEdit(0, None, None, "feeling", "x", 1.5, set_emotion=True), "whole number from -2 to 2"),
        (LaneCellEdit(0, None, None, "thinking", "x", 1, set_emotion=True), "feeling lane only"),
        (LaneCellEdit(0, None, None, "mood", "x"), "one of: thinking"),
        (LaneCellEdit(0, None, None, "doing", "x" * 4001), "at most 4000 characters"),
    ],
)
def test_bad_lane_values_are_refused_and_nothing_written(engine, edit, message):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Bad lanes")
    view = map_view.get_map_view(map_id)
    good = LaneCellEdit(view.stages[0].id, None, None, "doing", "fine")
    bad = LaneCellEdit(
        view.stages[0].id, edit.touchpoint_id, None, edit.lane, edit.text, edit.emotion, edit.set_emotion
    )
    with pytest.raises(BadInputError, match=message):
        map_edits.set_lane_cells(map_id, [good, bad], expected_version=view.version)
    after = map_view.get_map_view(map_id)
    assert after.lane_cells == () and after.version == view.version


def test_cells_cannot_point_into_another_map(engine):
    a = create_map_from_template(template_key="b2b-4-stage", name="A")
    b = create_map_from_template(template_key="b2b-4-stage", name="B")
    other_tp = map_view.get_map_view(b).touchpoints[0]
    view = map_view.get_map_view(a)
    with pytest.raises(BadInputError, match="a touchpoint of this map"):
        map_edits.apply_pain_point_edits(
            a,
            RowEdits(added=[{"touchpoint_id": other_tp.id, "description": "x", "severity": 2}]),
            expected_version=view.version,
        )
    with pytest.raises(BadInputError, match="the stage or touchpoint it belongs to"):
        map_edits.apply_opportunity_edits(
            a, RowEdits(added=[{"description": "nowhere"}]), expected_version=view.version
        )


@pytest.mark.parametrize(
    ("fn", "row", "message"),
    [
        (map_edits.apply_pain_point_edits, {"description": "x", "severity": 0}, "severity"),
        (map_edits.apply_pain_point_edits, {"description": "x", "severity": "high"}, "whole number from 1 to 5"),
        (map_edits.apply_pain_point_edits, {"description": "  ", "severity": 2}, "non-empty text"),
        (map_edits.apply_opportunity_edits, {"description": "x", "effort": 6}, "effort"),
        (map_edits.apply_opportunity_edits, {"description": "x", "customer_value": -1}, "customer value"),
        (map_edits.apply_opportunity_edits, {"description": "x", "business_value": 2.5}, "business value"),
        (map_edits.apply_action_edits, {"action": "x", "due_date": "next week"}, "a date as YYYY-MM-DD"),
        (map_edits.apply_action_edits, {"action": "x", "status": "blocked"}, "one of: open, in progress, done"),
        (map_edits.apply_action_edits, {"action": "", "owner": "me"}, "non-empty text"),
        (map_edits.apply_action_edits, {"action": "x", "metric_id": 999}, "a metric of this map"),
    ],
)
def test_item_validation_names_the_field_and_writes_nothing(engine, fn, row, message):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Items")
    view = map_view.get_map_view(map_id)
    place = {"stage_id": view.stages[0].id}
    good = {**place, "description": "fine", "action": "fine"}
    good = {
        k: v
        for k, v in good.items()
        if k in ("stage_id", "description" if fn is not map_edits.apply_action_edits else "action")
    }
    with pytest.raises(BadInputError, match=message):
        fn(map_id, RowEdits(added=[good, {**place, **row}]), expected_version=view.version)
    after = map_view.get_map_view(map_id)
    assert (after.pain_points, after.opportunities, after.actions) == ((), (), ()) and after.version == view.version


def test_item_updates_and_deletes(engine):
    filled, view = filled_map_view()
    pain = view.pain_points[0]
    action = view.actions[0]
    v = map_edits.apply_pain_point_edits(
        filled.map_id, RowEdits(updated={pain.id: {"severity": 1}}), expected_version=view.version
    ).version
    v = map_edits.apply_action_edits(
        filled.map_id, RowEdits(updated={action.id: {"status": "in progress", "due_date": None}}), expected_version=v
    ).version
    v = map_edits.apply_opportunity_edits(
        filled.map_id, RowEdits(deleted=[view.opportunities[0].id]), expected_version=v
    ).version
    view = map_view.get_map_view(filled.map_id)
    assert next(p for p in view.pain_points if p.id == pain.id).severity == 1
    changed = next(a for a in view.actions if a.id == action.id)
    assert (changed.status, changed.due_date, changed.owner) == ("in progress", None, "Sales ops")
    assert len(view.opportunities) == 2 and view.version == v
    with pytest.raises(NotFoundError):
        map_edits.apply_pain_point_edits(filled.map_id, RowEdits(deleted=[pain.id + 100]), expected_version=v)


def test_map_details_owner_review_date_and_stale(engine):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Details")
    view = map_view.get_map_view(map_id)
    v = map_edits.update_map_details(
        map_id, expected_version=view.version, owner="Bea", review_by="2020-06-30", state="future", scenario="Renewal"
    ).version
    view = map_view.get_map_view(map_id, today=date(2021, 1, 1))
    assert (view.owner, view.review_by, view.state, view.scenario, view.version) == (
        "Bea",
        date(2020, 6, 30),
        "future",
        "Renewal",
        v,
    )
    assert view.stale
    assert not map_view.get_map_view(map_id, today=date(2020, 6, 30)).stale
    with pytest.raises(BadInputError, match="review-by date"):
        map_edits.update_map_details(map_id, expected_version=v, review_by="30/06/2020")
    with pytest.raises(BadInputError, match="current, future"):
        map_edits.update_map_details(map_id, expected_version=v, state="past")
    with pytest.raises(BadInputError, match="map name"):
        map_edits.update_map_details(map_id, expected_version=v, name=" ")
    with pytest.raises(BadInputError):
        map_edits.update_map_details(map_id, expected_version=v, version=1)


def test_personas_every_field_roles_and_coverage(engine):
    pid = persona_service.create_persona(
        "Priya",
        description="Runs procurement",
        demographics="40s, London",
        job_title="Procurement lead",
        company_size="1,000–5,000",
        industry="Manufacturing",
        is_decision_maker=False,
        committee_role="procurement",
        goals="Fair price",
        pain_points="Opaque pricing",
        buying_behaviour="Three quotes",
        channels="Email, analyst reports",
    )
    p = persona_service.get_persona(pid)
    assert (p.job_title, p.company_size, p.committee_role, p.channels) == (
        "Procurement lead",
        "1,000–5,000",
        "procurement",
        "Email, analyst reports",
    )
    with pytest.raises(BadInputError, match="committee role"):
        persona_service.create_persona("X", committee_role="gatekeeper")
    with pytest.raises(BadInputError, match="persona name"):
        persona_service.create_persona("")
    # The committee template brings one persona per role (each reused by the next map made from it).
    committee = create_map_from_template(template_key="buying-committee", name="From the template")
    assert persona_service.compute_committee_coverage(map_view.get_map_view(committee))["covered"].all()
    again = create_map_from_template(template_key="buying-committee", name="From the template again")
    assert {p.id for p in map_view.get_map_view(again).personas} == {
        p.id for p in map_view.get_map_view(committee).personas
    }
    for made in (committee, again):
        delete_map(made)
    for persona in [p for p in persona_service.list_personas() if p.id != pid]:
        persona_service.delete_persona(persona.id)
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Committee")
    view = map_view.get_map_view(map_id)
    v = map_edits.attach_personas(map_id, [pid], expected_version=view.version).version
    view = map_view.get_map_view(map_id)
    coverage = persona_service.compute_committee_coverage(view)
    assert len(coverage) == 7
    assert coverage.set_index("committee_role").loc["procurement", "personas"] == "Priya"
    assert coverage["covered"].sum() == 1
    # Editing a persona changes the maps that show it (their version moves).
    persona_service.update_persona(pid, committee_role="champion")
    view = map_view.get_map_view(map_id)
    assert view.version == v + 1 and view.personas[0].committee_role == "champion"
    assert persona_service.list_persona_maps() == {pid: ["Committee"]}
    matrix = persona_service.compute_committee_matrix()
    row = matrix.set_index("map").loc["Committee"]
    assert row["champion"] == 1 and row["procurement"] == 0 and row["missing"] == 6


def test_detaching_or_deleting_a_persona_removes_its_cells(engine):
    filled = filled_map()
    dana, sam = filled.persona_ids
    v = map_edits.detach_personas(filled.map_id, [sam], expected_version=filled.version).version
    view = map_view.get_map_view(filled.map_id)
    assert [p.name for p in view.personas] == ["Dana"] and view.version == v
    assert all(c.persona_id != sam for c in view.lane_cells)
    persona_service.delete_persona(dana)
    view = map_view.get_map_view(filled.map_id)
    assert view.personas == () and view.version == v + 1
    assert all(c.persona_id is None for c in view.lane_cells)
    assert all(p.persona_id is None for p in view.pain_points)


def test_set_map_personas_attaches_exactly_those(engine):
    filled = filled_map()
    dana, sam = filled.persona_ids
    third = persona_service.create_persona("Tom", committee_role="executive sponsor")
    map_edits.set_map_personas(filled.map_id, [third, dana], expected_version=filled.version)
    assert [p.name for p in map_view.get_map_view(filled.map_id).personas] == ["Dana", "Tom"]
    with pytest.raises(NotFoundError):
        map_edits.set_map_personas(filled.map_id, [9999], expected_version=None)


def test_opportunity_ranking_weights_moments_of_truth(engine):
    filled = filled_map()
    ranking = map_tables.compute_opportunity_ranking(map_view.get_map_view(filled.map_id))
    # Same values and effort: the one on the Demo (a moment of truth) ranks first, ×1.5.
    assert ranking["description"].tolist() == ["Self-serve demo", "Better blog", "Comparison guide"]
    assert ranking["priority"].tolist() == [pytest.approx(3.0), pytest.approx(2.0), pytest.approx(0.2)]
    assert ranking["rank"].tolist() == [1, 2, 3]
    assert journey_map.opportunity_priority(5, 5, 1, True) == 7.5
    assert journey_map.opportunity_priority(1, 1, 5, False) == 0.2


def test_action_plan_marks_overdue_unless_done(engine):
    filled = filled_map()
    plan = map_tables.compute_action_plan(map_view.get_map_view(filled.map_id), today=date(2020, 2, 1)).set_index(
        "action"
    )
    assert bool(plan.loc["Add booking widget", "overdue"]) is True
    assert bool(plan.loc["Quarterly review", "overdue"]) is False  # done
    assert plan.loc["Add booking widget", "touchpoint"] == "Demo"


def test_map_measures_for_the_grid_overlay(engine):
    filled, view = filled_map_view()
    demo = view.stages[1].touchpoints[1]
    emotion = map_tables.compute_map_measure(view, "emotion").set_index("touchpoint_id")
    assert emotion.loc[demo.id, "value"] == 2.0  # everyone's score wins over the persona's −1
    assert emotion.attrs["name"].startswith("Emotion")
    pains = map_tables.compute_map_measure(view, "pain_severity")
    assert pains["touchpoint_id"].tolist() == [demo.id] and pains["value"].tolist() == [5.0]
    actions = map_tables.compute_map_measure(view, "open_actions")
    assert actions.set_index("touchpoint_id").loc[demo.id, "value"] == 1.0
    with pytest.raises(UnknownNameError, match="No map measure is named 'nps'; the measures are: emotion"):
        map_tables.compute_map_measure(view, "nps")


def test_raci_matrix_and_ownership_gaps(engine):
    map_id = create_map_from_template(template_key="b2b-4-stage", name="RACI")
    view = map_view.get_map_view(map_id)
    demo = view.stages[1].touchpoints[1]
    ads = view.stages[0].touchpoints[0]
    v = map_edits.apply_touchpoint_edits(
        map_id,
        RowEdits(
            updated={
                demo.id: {"accountable": "CRO", "consulted": "Legal, Security", "informed": "Marketing"},
                ads.id: {"owner_team": "", "accountable": "Marketing; Sales"},
            }
        ),
        expected_version=view.version,
    )
    view = map_view.get_map_view(map_id)
    matrix = map_tables.compute_raci_matrix(view).set_index("team")
    assert matrix.loc["Sales", "Consideration › Demo"] == "O/R"
    assert matrix.loc["CRO", "Consideration › Demo"] == "A"
    assert matrix.loc["Security", "Consideration › Demo"] == "C"
    assert matrix.loc["Marketing", "Consideration › Demo"] == "I"
    assert matrix.loc["Marketing", "Awareness › Online ads"] == "R/A"
    assert matrix.loc["Legal", "Awareness › Online ads"] == ""
    gaps = map_tables.compute_ownership_gaps(view)
    by_tp = gaps.set_index("touchpoint")["gaps"].to_dict()
    assert by_tp["Online ads"] == "no owner team, 2 teams accountable"
    assert "Demo" not in by_tp
    # Moments of truth without an accountable team come first.
    assert gaps.iloc[0]["moment_of_truth"] and v.version == view.version
