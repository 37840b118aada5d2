"""Attribution and outlook use cases on a stored dataset, with and without a linked map."""

from __future__ import annotations

import json

import pytest

from analytics.attribution import compute_attribution as core_attribution
from analytics.journeys import JourneyQuery
from db import crud
from db.engine import write_session
from services import attribution as service
from tests.factories_attribution import SCHEMA, create_stored_dataset, events_from_frame, funnel_log

RENAMED = {
    "Blog post": "Content",
    "Newsletter": "Content",
    "Webinar": "Webinar",
    "Demo": "Demo",
    "Pricing page": "Pricing",
    "Proposal": "Proposal",
    "Closed won": "Won",
    "Closed lost": "Lost",
}


@pytest.fixture
def dataset_id(engine) -> int:
    return create_stored_dataset(funnel_log(), name="Funnel log")


@pytest.fixture
def map_id(engine) -> int:
    """A map whose touchpoints claim the log's activities by name (two activities share "Content")."""
    with write_session() as session:
        journey_map = crud.create_map(session=session, name="Attribution test map")
        aware = crud.create_stage(session=session, map_id=journey_map.id, name="Awareness", position=0)
        decide = crud.create_stage(session=session, map_id=journey_map.id, name="Decision", position=1)
        for stage, name, position in [
            (aware, "Content", 0),
            (aware, "Webinar", 1),
            (aware, "Chatbot", 2),
            (decide, "Demo", 0),
            (decide, "Pricing", 1),
            (decide, "Proposal", 2),
            (decide, "Won", 3),
            (decide, "Lost", 4),
        ]:
            names = [a for a, t in RENAMED.items() if t == name]
            crud.create_touchpoint(session=session, stage=stage, name=name, position=position, activity_names=names)
        return int(journey_map.id)


def test_touchpoint_attribution_for_the_map_overlay(dataset_id, map_id):
    overlay = service.compute_touchpoint_attribution(dataset_id, map_id, "Won", lost=("Lost",))
    assert list(overlay.columns) == ["touchpoint_id", "touchpoint", "attributed_conversions", "removal_effect"]
    assert list(overlay["touchpoint"]) == [
        "Content",
        "Webinar",
        "Chatbot",
        "Demo",
        "Pricing",
        "Proposal",
        "Won",
        "Lost",
    ]
    # The same log relabelled by hand gives the same credits.
    frame = funnel_log()
    frame["activity"] = frame["activity"].map(RENAMED)
    expected = core_attribution(events_from_frame(frame), SCHEMA, JourneyQuery(), "Won", lost=("Lost",))
    credits = expected.table.set_index("touchpoint")
    got = overlay.set_index("touchpoint")
    for name in credits.index:
        assert got.loc[name, "attributed_conversions"] == pytest.approx(credits.loc[name, "markov"])
        assert got.loc[name, "removal_effect"] == pytest.approx(credits.loc[name, "removal_effect"])
    # Never reached (Chatbot) or never before the goal (Won, Lost): nothing credited.
    for name in ("Chatbot", "Won", "Lost"):
        assert got.loc[name, "attributed_conversions"] == 0 and got.loc[name, "removal_effect"] == 0
    assert got["attributed_conversions"].sum() == pytest.approx(expected.conversions)


def test_goal_options_suggest_goal_and_lost(dataset_id, map_id):
    raw = service.list_goal_options(dataset_id)
    assert raw.goal == "Closed won" and raw.lost == ("Closed lost",)
    linked = service.list_goal_options(dataset_id, map_id=map_id)
    assert "Content" in linked.touchpoints and "Blog post" not in linked.touchpoints
    assert linked.goal == "Won"
    # The map's stages, in its order, can be goals too.
    assert linked.stages == ("Awareness", "Decision")
    assert linked.names[-2:] == ("Awareness", "Decision")
    assert service.has_channel(dataset_id)


def test_records_for_the_cli_are_json_ready(dataset_id):
    result = service.compute_attribution(dataset_id, goal="Closed won", by="channel")
    records = service.attribution_records(result)
    json.dumps(records)
    assert set(records[0]) == {
        "channel",
        "first_touch",
        "last_touch",
        "linear",
        "position_based",
        "removal_effect",
        "markov",
    }
    assert sum(r["first_touch"] for r in records) == pytest.approx(result.conversions)
    assert all(0 <= r["removal_effect"] <= 1 for r in records)

    outlook = service.compute_outlook(dataset_id, goal="Closed won", lost=("Closed lost",), min_transitions=1)
    rows = service.outlook_records(outlook)
    json.dumps(rows)
    assert rows and set(rows[0]) == {"journey", "last_touchpoint", "conversion_probability", "next_best_action", "lift"}
    assert [r["journey"] for r in rows] == list(outlook.table["journey_key"])
    probabilities = [r["conversion_probability"] for r in rows if r["conversion_probability"] is not None]
    assert probabilities == sorted(probabilities, reverse=True)
    summary = service.compute_outlook_summary(outlook)
    assert summary["journeys"].sum() == len(rows)


def test_top_transitions_for_display(dataset_id):
    result = service.compute_attribution(dataset_id, goal="Closed won")
    top = service.compute_top_transitions(result, top_n=5)
    assert len(top) == 5
    assert top["count"].tolist() == sorted(result.transitions["count"], reverse=True)[:5]
