"""services.analysis: datasets on disk, the map's links completing the query, the map's stage order."""

from __future__ import annotations

import pytest

from analytics.journeys import JourneyQuery
from services import analysis
from services.maps import create_map_from_template
from tests.factories import b2b_log, create_dataset, log_frame

ROWS = [
    ("a", 0, "blog_view", "Web"),
    ("a", 1, "demo_booked", "Sales"),
    ("a", 2, "blog_view", "Web"),
    ("a", 3, "signed", "Sales"),
    ("b", 0, "ad_click", "Web"),
]


@pytest.fixture
def linked(engine, monkeypatch):
    """A dataset linked to a 5-stage map, with the link service's answer stubbed (its own tests own it)."""
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Map", engine=engine)
    dataset_id = create_dataset(log_frame(ROWS, ("journey_id", "timestamp", "activity", "stage")), map_id=map_id)
    labels = (
        (("ad_click", "Online ads"), ("blog_view", "Blog"), ("demo_booked", "Demos"), ("signed", "Pricing page")),
        (
            ("Blog", "Awareness"),
            ("Online ads", "Awareness"),
            ("Demos", "Consideration"),
            ("Pricing page", "Conversion"),
        ),
    )
    calls = []

    def fake(dataset, the_map, *, engine=None):
        calls.append((dataset, the_map))
        return labels

    monkeypatch.setattr(analysis, "_get_journey_labels", fake)
    return dataset_id, map_id, calls


def test_unlinked_dataset_keeps_the_query(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    a = analysis.open_analysis(dataset_id)
    assert a.query == JourneyQuery() and a.map_id is None and a.map_stage_order == ()
    assert analysis.first_dataset_id() == dataset_id
    assert analysis.default_goal(dataset_id) is None


def test_linked_dataset_is_relabelled_through_its_map(linked):
    dataset_id, map_id, calls = linked
    t = analysis.compute_transitions(dataset_id, include_entry_exit=False)
    assert {(r.source, r.target) for r in t.itertuples()} == {
        ("Blog", "Demos"),
        ("Demos", "Blog"),
        ("Blog", "Pricing page"),
    }
    assert calls[-1] == (dataset_id, map_id)
    stages = analysis.compute_transitions(dataset_id, query=JourneyQuery(by="stage"), include_entry_exit=False)
    assert set(stages["source"]) == {"Awareness", "Consideration"}


def test_the_maps_stage_order_decides_what_is_backward(linked):
    dataset_id, _, _ = linked
    # The map says Awareness → Consideration → Conversion: Consideration → Awareness is a loop.
    order = analysis.compute_stage_order(dataset_id)
    assert order[:5] == ["Awareness", "Consideration", "Conversion", "Service", "Advocacy"]
    n = analysis.compute_nonlinearity(dataset_id, stage_order=["Conversion", "Consideration", "Awareness"]).iloc[0]
    assert n["backward_moves"] == 1  # the map's order wins over a given one when linked
    graph = analysis.compute_transition_graph(dataset_id)
    directions = {(r.source, r.target): r.direction for r in graph.itertuples()}
    assert directions[("Demos", "Blog")] == "backward" and directions[("Blog", "Demos")] == "forward"
    assert directions[("(entry)", "Blog")] == "entry"
    assert analysis.default_goal(dataset_id) == "Advocacy"


def test_describing_a_dataset(engine):
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    assert analysis.list_breakdown_columns(dataset_id) == ["channel", "role", "outcome", "stage", "account", "region"]
    assert analysis.list_filter_columns(dataset_id) == ["channel", "role", "outcome"]
    assert set(analysis.list_column_values(dataset_id, "region")) == {"EMEA", "NA"}
    goals = analysis.list_goal_candidates(dataset_id)
    assert goals[:4] == ["Awareness", "Consideration", "Decision", "Onboarding"] and "Demo" in goals
    nodes = analysis.list_nodes(dataset_id, query=JourneyQuery(by="stage"))
    assert set(nodes) == {"Awareness", "Consideration", "Decision", "Onboarding"}
    assert analysis.has_stages(dataset_id)
