"""The one analysis context (services.context) and running the registry's analyses on it
(services.analysis): datasets on disk, the map's links completing the query, the map's stage order,
and ids that do not exist refused with the real ones."""

from __future__ import annotations

import pytest

from analytics.journeys import JourneyQuery
from analytics.registry import ANALYSES
from core.errors import BadInputError, UnknownNameError
from services import analysis, context
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

    monkeypatch.setattr(context, "get_journey_labels", fake)
    return dataset_id, map_id, calls


def test_unlinked_dataset_keeps_the_query(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    ctx = context.open_context(dataset_id)
    assert ctx.query == JourneyQuery() and ctx.map_id is None and ctx.stage_order == ()
    assert ctx.conversion_scope == "none" and not ctx.conversion.defined
    assert analysis.first_dataset_id() == dataset_id


def test_linked_dataset_is_relabelled_through_its_map(linked):
    dataset_id, map_id, calls = linked
    t = analysis.run("transitions", context.open_context(dataset_id), include_entry_exit=False)
    assert {(r.source, r.target) for r in t.itertuples()} == {
        ("Blog", "Demos"),
        ("Demos", "Blog"),
        ("Blog", "Pricing page"),
    }
    assert calls[-1] == (dataset_id, map_id)
    stages = analysis.run(
        "transitions", context.open_context(dataset_id, query=JourneyQuery(by="stage")), include_entry_exit=False
    )
    assert set(stages["source"]) == {"Awareness", "Consideration"}


def test_the_maps_stage_order_decides_what_is_backward(linked):
    dataset_id, _, _ = linked
    # The map says Awareness → Consideration → Conversion: Consideration → Awareness is a loop.
    order = analysis.run("stage_order", context.open_context(dataset_id))
    assert order[:5] == ["Awareness", "Consideration", "Conversion", "Service", "Advocacy"]
    given = ["Conversion", "Consideration", "Awareness"]
    # The map's order decides when linked: a given one would be ignored, so it is refused (before: ignored).
    with pytest.raises(BadInputError, match="the stage order comes from the map's stages"):
        context.open_context(dataset_id, stage_order=given)
    graph = analysis.run("transition_graph", context.open_context(dataset_id))
    directions = {(r.source, r.target): r.direction for r in graph.itertuples()}
    assert directions[("Demos", "Blog")] == "backward" and directions[("Blog", "Demos")] == "forward"
    assert directions[("(entry)", "Blog")] == "entry"


def test_a_given_stage_order_serves_when_no_map_is_linked(engine):
    dataset_id = create_dataset(log_frame(ROWS, ("journey_id", "timestamp", "activity", "stage")))
    # Without a map, Web comes first (first appearance): Sales → Web is backward once.
    assert analysis.run("nonlinearity", context.open_context(dataset_id)).iloc[0]["backward_moves"] == 1
    # In the order Sales, Web the move Web → Sales goes back instead: twice (a: Web→Sales twice).
    ctx = context.open_context(dataset_id, stage_order=["Sales", "Web"])
    reversed_order = analysis.run("nonlinearity", ctx).iloc[0]
    assert reversed_order["backward_moves"] == 2
    # A stage the log does not have is refused with the nearest real one (before: taken as given).
    with pytest.raises(UnknownNameError, match="No stage is named 'Sale' in this dataset; nearest: 'Sales'"):
        context.open_context(dataset_id, stage_order=["Sale", "Web"])


def test_a_stage_order_for_a_log_without_stages_is_refused(engine):
    dataset_id = create_dataset(log_frame(ROWS, ("journey_id", "timestamp", "activity", "stage")).drop(columns="stage"))
    with pytest.raises(BadInputError, match="this log has no stage column"):
        context.open_context(dataset_id, stage_order=["Sales", "Web"])


def test_describing_a_dataset(engine):
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    ctx = context.open_context(dataset_id)
    assert analysis.list_breakdown_columns(ctx) == ["channel", "role", "outcome", "stage", "account", "region"]
    assert analysis.list_filter_columns(ctx) == ["channel", "role", "outcome"]
    assert set(analysis.list_column_values(ctx, "region")) == {"EMEA", "NA"}
    names = context.context_names(ctx)
    assert {"Awareness", "Consideration", "Decision", "Onboarding"} <= set(names.stages) and "Demo" in names.nodes
    nodes = analysis.list_nodes(ctx.with_query(by="stage"))
    assert set(nodes) == {"Awareness", "Consideration", "Decision", "Onboarding"}
    assert ctx.has_stages
    assert analysis.list_levels(ctx) == ["touchpoint", "stage", "channel"]


def test_ids_and_names_that_do_not_exist_are_refused_with_the_real_ones(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    with pytest.raises(UnknownNameError, match=rf"There is no dataset 999.*'{dataset_id} \(Pipeline\)'"):
        context.open_context(999)
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Launch map", engine=engine)
    with pytest.raises(UnknownNameError, match=rf"There is no map 4242.*'{map_id} \(Launch map\)'"):
        context.open_context(dataset_id, 4242)
    with pytest.raises(UnknownNameError, match="nearest: 'Demo'"):
        context.open_context(dataset_id, query=JourneyQuery(through=("demo",)))


def test_every_registered_analysis_names_its_parameters():
    for name, entry in ANALYSES.items():
        assert entry.name == name and entry.help
    with pytest.raises(TypeError, match="takes no parameter goal"):
        from analytics.registry import Inputs, run_analysis

        run_analysis("variants", Inputs(events=None, schema=None), goal="X")  # type: ignore[arg-type]
