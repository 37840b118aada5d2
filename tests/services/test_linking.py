"""Linking a dataset to a map: suggestions, saved links, labels for analyses, coverage, drafts."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.engine import events_table, execute
from analytics.journeys import JourneyQuery, journey_steps
from analytics.schema import ColumnMapping
from core.errors import BadInputError
from db import crud
from db.engine import read_session, write_session
from db.models import Dataset
from services.datasets import get_event_source
from services.importer import import_event_log
from services.linking import (
    compute_coverage,
    draft_map_from_dataset,
    foreign_map_note,
    get_journey_labels,
    link_dataset_to_map,
    normalise_name,
    renamed_in_draft,
    save_links,
    suggest_links,
)

LOG = (
    "case,when,step,stage\n"
    "j1,2024-01-01,read blog post,Awareness\n"
    "j1,2024-01-02,Pricing-Page,Decision\n"
    "j1,2024-01-03,book_demo,Consideration\n"
    "j1,2024-01-04,Fax sent,Decision\n"
    "j2,2024-01-01,Blog,Awareness\n"
    "j2,2024-01-05,Casestudies,Consideration\n"
    "j2,2024-01-06,Casestudies,Consideration\n"
)


@pytest.fixture
def setup(engine):
    dataset = import_event_log(
        LOG.encode(),
        name="web",
        mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step", stage="stage"),
    ).dataset_id
    with write_session() as session:
        m = crud.create_map(session=session, name="Map")
        awareness = crud.create_stage(session=session, map_id=m.id, name="Awareness", position=0)
        consideration = crud.create_stage(session=session, map_id=m.id, name="Consideration", position=1)
        decision = crud.create_stage(session=session, map_id=m.id, name="Decision", position=2)
        tps = {
            "blog": crud.create_touchpoint(
                session=session, stage=awareness, name="Blog", activity_names=["read blog post"]
            ),
            "cases": crud.create_touchpoint(session=session, stage=consideration, name="Case studies"),
            "demo": crud.create_touchpoint(session=session, stage=consideration, name="Book demo"),
            "pricing": crud.create_touchpoint(session=session, stage=decision, name="Pricing page"),
            "email_a": crud.create_touchpoint(session=session, stage=awareness, name="Email"),
            "email_d": crud.create_touchpoint(session=session, stage=decision, name="Email"),
        }
        ids = {k: v.id for k, v in tps.items()}
        map_id = m.id
    return dataset, map_id, ids


def test_normalise_name():
    assert normalise_name("  Pricing-Page ") == normalise_name("pricing page") == "pricing page"
    assert normalise_name("Réunion_Découverte") == "reunion decouverte"


def test_suggestions_by_activity_name_then_name_then_similarity(setup):
    dataset, map_id, ids = setup
    links = suggest_links(dataset, map_id).set_index("activity")
    assert list(links.columns) == ["touchpoint_id", "touchpoint", "stage", "match", "events"]
    assert links.loc["read blog post", "match"] == "activity name"
    assert links.loc["read blog post", "touchpoint_id"] == ids["blog"]
    assert links.loc["Blog", "match"] == "name"
    assert (links.loc["Pricing-Page", "match"], links.loc["Pricing-Page", "touchpoint"]) == ("name", "Pricing page")
    assert (links.loc["book_demo", "match"], links.loc["book_demo", "stage"]) == ("name", "Consideration")
    assert (links.loc["Casestudies", "match"], links.loc["Casestudies", "touchpoint_id"]) == ("similar", ids["cases"])
    assert links.loc["Casestudies", "events"] == 2
    assert links.loc["Fax sent", "match"] == "none" and pd.isna(links.loc["Fax sent", "touchpoint"])


def test_saved_links_win_and_set_the_dataset_map(setup):
    dataset, map_id, ids = setup
    save_links(dataset, map_id, {"Fax sent": ids["email_d"], "Blog": None})
    links = suggest_links(dataset, map_id).set_index("activity")
    assert (links.loc["Fax sent", "match"], links.loc["Fax sent", "touchpoint"]) == ("saved", "Email (Decision)")
    assert links.loc["Blog", "match"] == "saved" and pd.isna(links.loc["Blog", "touchpoint"])
    with read_session() as session:
        assert session.get(Dataset, dataset).map_id == map_id


def test_save_links_refuses_foreign_touchpoints_and_unknown_activities(setup, engine):
    dataset, map_id, _ = setup
    other = draft_map_from_dataset(dataset, "Other")
    with read_session() as session:
        foreign = crud.list_touchpoints(session=session, map_id=other)[0].id
    with pytest.raises(BadInputError):
        save_links(dataset, map_id, {"Blog": foreign})
    with pytest.raises(BadInputError):
        save_links(dataset, map_id, {"Not an activity": None})


def test_labels_feed_journey_query_at_stage_level(setup):
    dataset, map_id, ids = setup
    assert get_journey_labels(dataset) == ((), ())  # not linked yet
    link_dataset_to_map(dataset, map_id)
    touchpoint_of, stage_of = get_journey_labels(dataset)
    assert dict(touchpoint_of)["Pricing-Page"] == "Pricing page"
    assert "Fax sent" not in dict(touchpoint_of)
    # Duplicate names across stages get the stage in their label, so they never merge.
    assert dict(stage_of)["Email (Awareness)"] == "Awareness" and dict(stage_of)["Email (Decision)"] == "Decision"
    source, schema = get_event_source(dataset)
    query = JourneyQuery(by="stage", touchpoint_of=touchpoint_of, stage_of=stage_of)
    steps = execute(journey_steps(events_table(source), schema, query)).sort_values(["journey_key", "step"])
    # Fax sent has no touchpoint: its own stage column says Decision; j1's Decision repeats collapse.
    assert steps[steps.journey_key == "j1"]["node"].tolist() == ["Awareness", "Decision", "Consideration", "Decision"]


def test_coverage_lists_unmatched_activities_and_unreached_touchpoints(setup):
    dataset, map_id, ids = setup
    unmatched, unreached = compute_coverage(dataset, map_id)
    assert unmatched == ["Fax sent"]
    assert unreached == ["Email (Awareness)", "Email (Decision)"]


def test_a_log_seen_through_a_map_it_is_not_linked_to_is_said(setup):
    dataset, map_id, _ = setup
    # Not linked to any map: the map's touchpoints claim 5 of the 6 activities by name (not Fax sent).
    note = foreign_map_note(dataset, map_id)
    assert note is not None and note.startswith(
        "This event log is not linked to any map, so not to “Map” either: that map's touchpoints claim 5 of its 6 "
        "activities (86% of its events), by names that match; the others keep"
    ), note
    with write_session() as session:
        empty = crud.create_map(session=session, name="Empty").id
    assert "claim none of its 6 activities; they all keep the log's own names" in foreign_map_note(dataset, empty)
    link_dataset_to_map(dataset, map_id)
    assert foreign_map_note(dataset, map_id) is None  # its own map: nothing to say
    note = foreign_map_note(dataset, empty)
    assert note.startswith("This event log is linked to “Map”, not to “Empty”: ") and "differ from those" in note


def test_draft_map_from_dataset(setup):
    dataset, _, _ = setup
    map_id = draft_map_from_dataset(dataset, "Drafted")
    with read_session() as session:
        stages = crud.list_stages(session=session, map_id=map_id)
        touchpoints = crud.list_touchpoints(session=session, map_id=map_id)
        assert session.get(Dataset, dataset).map_id == map_id
    # Stages in typical order of first appearance in journeys.
    assert [s.name for s in stages] == ["Awareness", "Decision", "Consideration"]
    by_stage = {s.name: [t.name for t in touchpoints if t.stage_id == s.id] for s in stages}
    assert by_stage == {
        "Awareness": ["Blog", "read blog post"],
        "Decision": ["Pricing-Page", "Fax sent"],
        "Consideration": ["Casestudies", "book_demo"],
    }
    assert all(t.activity_names == [t.name] for t in touchpoints)
    unmatched, unreached = compute_coverage(dataset, map_id)
    assert unmatched == [] and unreached == []


def test_draft_without_stage_column_uses_one_stage(engine):
    dataset = import_event_log(
        b"case,when,step\nj1,2024-01-01,A\nj1,2024-01-02,B\n",
        name="nostage",
        mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step"),
    ).dataset_id
    map_id = draft_map_from_dataset(dataset, "Flat")
    with read_session() as session:
        assert [s.name for s in crud.list_stages(session=session, map_id=map_id)] == ["Journey"]
        assert [t.name for t in crud.list_touchpoints(session=session, map_id=map_id)] == ["A", "B"]


def test_a_drafted_map_tells_apart_activities_and_stages_that_differ_only_in_case(engine):
    log = (
        "case,when,step,stage\n"
        "j1,2024-01-01,Demo,Decision\n"
        "j1,2024-01-02,demo,Decision\n"
        "j2,2024-01-01,Demo,decision\n"
        "j2,2024-01-02,DEMO,Decision\n"
    )
    dataset = import_event_log(
        log.encode(),
        name="cases",
        mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step", stage="stage"),
    ).dataset_id
    map_id = draft_map_from_dataset(dataset, "Drafted")
    with read_session() as session:
        stages = crud.list_stages(session=session, map_id=map_id)
        touchpoints = crud.list_touchpoints(session=session, map_id=map_id)
    stage_names = [s.name for s in stages]
    assert sorted(n.casefold() for n in stage_names) == ["decision", "decision (2)"], stage_names
    assert len({t.stage_id for t in touchpoints}) == 1  # the three activities share a stage
    names = [t.name for t in touchpoints]
    assert sorted(names) == ["DEMO (2)", "Demo", "demo (3)"], names
    # Every activity keeps its own touchpoint, linked to it.
    assert sorted(a for t in touchpoints for a in t.activity_names) == ["DEMO", "Demo", "demo"]
    # What was named apart from its activity is told (the Data page says it under the draft's confirmation).
    assert sorted(renamed_in_draft(map_id)) == [("DEMO", "DEMO (2)"), ("demo", "demo (3)")]
    # The draft is a map like any other: its document comes back through an import from a file.
    from services import map_io

    map_io.import_map_document(map_io.export_map_document(map_id), name="Copy")
