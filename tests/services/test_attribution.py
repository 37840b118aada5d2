"""Attribution and outlook use cases on a stored dataset, with and without a linked map."""

from __future__ import annotations

import json

import pytest

from analytics.attribution import compute_attribution as core_attribution
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from db import crud
from db.engine import write_session
from services import analysis, reports
from services import attribution as service
from services.context import open_context
from services.conversion import suggest_conversions
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


WON = Conversion(goals=("Closed won",), lost_goals=("Closed lost",))


def _attribution(dataset_id, conversion, map_id=None, **params):
    return analysis.run("attribution", open_context(dataset_id, map_id=map_id, conversion=conversion), **params)


def test_touchpoint_attribution_for_the_map_overlay(dataset_id, map_id):
    ctx = open_context(dataset_id, map_id, conversion=Conversion(goals=("Won",), lost_goals=("Lost",)))
    overlay = service.compute_touchpoint_attribution(ctx, analysis.run("attribution", ctx))
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
    expected = core_attribution(
        events_from_frame(frame), SCHEMA, JourneyQuery(), Conversion(goals=("Won",), lost_goals=("Lost",))
    )
    credits = expected.table.set_index("touchpoint")
    got = overlay.set_index("touchpoint")
    for name in credits.index:
        assert got.loc[name, "attributed_conversions"] == pytest.approx(credits.loc[name, "markov"])
        assert got.loc[name, "removal_effect"] == pytest.approx(credits.loc[name, "removal_effect"])
    # Never reached (Chatbot) or never before the goal (Won, Lost): nothing credited.
    for name in ("Chatbot", "Won", "Lost"):
        assert got.loc[name, "attributed_conversions"] == 0 and got.loc[name, "removal_effect"] == 0
    assert got["attributed_conversions"].sum() == pytest.approx(expected.conversions)


def test_suggestions_offer_the_win_and_the_losses(dataset_id, map_id):
    raw = suggest_conversions(open_context(dataset_id))
    assert raw[0].conversion == Conversion(goals=("Closed won",), lost_goals=("Closed lost",))
    linked = suggest_conversions(open_context(dataset_id, map_id))
    assert linked[0].conversion == Conversion(goals=("Won",), lost_goals=("Lost",))
    # The map's last stage is offered too.
    assert Conversion(goals=("Decision",)) in [s.conversion for s in linked]


def test_records_for_the_cli_are_json_ready(dataset_id):
    result = _attribution(dataset_id, WON, by="channel")
    records = reports.attribution_records(result)
    json.dumps(records)
    assert set(records[0]) == {
        "channel",
        "first_touch",
        "last_touch",
        "linear",
        "position_based",
        "removal_effect",
        "markov",
        "journeys",
    }
    assert sum(r["first_touch"] for r in records) == pytest.approx(result.conversions)
    assert all(0 <= r["removal_effect"] <= 1 for r in records)

    outlook = analysis.run("outlook", open_context(dataset_id, conversion=WON), min_transitions=1)
    rows = reports.outlook_records(outlook)
    json.dumps(rows)
    assert rows and set(rows[0]) == {
        "rank",
        "journey",
        "last_touchpoint",
        "last_timestamp",
        "steps",
        "probability_after_action",
        "conversion_probability",
        "markov_probability",
        "next_touchpoints",
        "next_best_action",
        "lift",
        "support",
        "factors",
        "model",
    }
    assert {r["model"] for r in rows} == {outlook.table["model"].iloc[0]}
    for row in rows:
        assert len(row["next_touchpoints"]) <= 3
        assert all(0 <= n["probability"] <= 1 for n in row["next_touchpoints"])
    assert [r["journey"] for r in rows] == list(outlook.table["journey_key"])
    probabilities = [r["conversion_probability"] for r in rows if r["conversion_probability"] is not None]
    assert probabilities == sorted(probabilities, reverse=True)
    summary = service.compute_outlook_summary(outlook)
    assert summary["journeys"].sum() == len(rows)


def test_top_transitions_for_display(dataset_id):
    result = _attribution(dataset_id, WON)
    top = service.compute_top_transitions(result, top_n=5)
    assert len(top) == 5
    assert top["count"].tolist() == sorted(result.transitions["count"], reverse=True)[:5]


def test_the_outlook_model_is_keyed_by_the_dataset_content(dataset_id):
    import os

    ctx = open_context(dataset_id, None)
    key = analysis.content_key(ctx)
    assert key is not None and key[0] == dataset_id
    assert analysis.content_key(ctx) == key
    path = ctx.source.parquet_path
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # the file rewritten
    assert analysis.content_key(ctx) != key
