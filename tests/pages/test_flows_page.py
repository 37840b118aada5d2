"""AppTest of the Flows page: empty state, the view from a dataset, the URL reproducing it."""

from __future__ import annotations

from tests.factories import b2b_log, create_dataset
from tests.pages.conftest import run_page
from tests.pages.page_checks import assert_says_no_dataset, no_demo  # noqa: F401 - no_demo is autouse


def _text(at) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption), *(i.value for i in at.info)])


def test_flows_page_without_dataset_says_where_to_import(engine):
    assert_says_no_dataset("pages/5_Flows.py", "Flows")


def test_flows_page_shows_the_views_of_a_dataset(engine):
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id)})
    assert [s.value for s in at.subheader] == ["Step by step", "Stage flow", "Transition graph"]
    journeys = [m for m in at.metric if m.label == "Journeys"][0]
    assert journeys.value == "60"
    # The transitions table is the twin of the graph: entry rows add up to the journeys.
    tables = [df.value for df in at.dataframe]
    transitions = [t for t in tables if {"Source", "Target", "Moves", "Share"} <= set(t.columns)][-1]
    # Written for people: counts without decimals, shares as percentages with one decimal.
    moves = transitions.loc[transitions.Source == "(entry)", "Moves"].str.replace(",", "").astype(int)
    assert moves.sum() == 60
    assert transitions["Share"].str.fullmatch(r"\d+\.\d %").all()
    # Under the graph: how much of it is drawn (40 arrows by default).
    drawn = [c.value for c in at.caption if c.value.startswith("Drawn: ")]
    n = len(transitions)
    assert len(drawn) == 1 and (
        f"all {n} transitions" in drawn[0] or f"the 40 largest of {n:,} transitions" in drawn[0]
    )


def test_flows_page_reads_its_view_from_the_url(engine):
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    at = run_page(
        "pages/5_Flows.py",
        query={"dataset": str(dataset_id), "level": "account", "by": "stage", "through": "Decision", "steps": "3"},
    )
    assert at.session_state["level"] == "account"
    assert at.session_state["by"] == "stage"
    assert at.session_state["through"] == ["Decision"]
    assert "Showing only journeys through" in _text(at)
    sankey = [df.value for df in at.dataframe if "From step" in df.value.columns][0]
    assert sankey["To step"].astype(int).max() == 2
    assert set(sankey["Source"]) <= {"Awareness", "Consideration", "Decision", "Onboarding", "Other"}


def test_flows_page_opens_the_demo_dataset_by_default(demo_engine, monkeypatch):
    monkeypatch.delenv("JOURNEYLENS_NO_DEMO")
    at = run_page("pages/5_Flows.py")
    journeys = [m for m in at.metric if m.label == "Journeys"][0]
    assert int(journeys.value.replace(",", "")) > 1000
    assert at.selectbox[0].value is not None  # the first dataset is picked
    sankey = [df.value for df in at.dataframe if "From step" in df.value.columns][0]
    # The demo is linked to a map: its last stage is the default goal, so ends split into
    # converted and dropped-off journeys.
    assert {"Converted", "Drop-off"} <= set(sankey["Target"])


def test_a_link_value_the_page_cannot_use_is_named_with_what_is_shown(engine):
    # b2b_log's events run over 2024; a link from another year, an impossible step count and a
    # level that does not exist are each named, and the page shows its defaults instead.
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    at = run_page(
        "pages/5_Flows.py",
        query={"dataset": str(dataset_id), "steps": "50", "level": "team", "from": "1999-01-01"},
    )
    said = [w.value for w in at.warning]
    assert any("steps=50 is not a whole number from 2 to 10; showing 5 instead" in w for w in said), said
    assert any("level=team is not one of the choices here" in w and "showing contact instead" in w for w in said), said
    assert any(w.startswith("The link's from=1999-01-01 is not a day from ") for w in said), said
    sankey = [df.value for df in at.dataframe if "From step" in df.value.columns][0]
    assert sankey["To step"].astype(int).max() == 4  # five steps shown: 0 to 4
    journeys = [m for m in at.metric if m.label == "Journeys"][0]
    assert journeys.value == "60"  # no date filter kept


def test_a_link_that_filters_opens_the_filters(engine):
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id)})
    assert not [e for e in at.expander if e.label == "Filters"][0].proto.expanded
    for query in ({"from": "2024-02-01"}, {"seg_region": "EMEA"}):
        at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id), **query})
        assert [e for e in at.expander if e.label == "Filters"][0].proto.expanded, query


def test_a_filter_the_log_has_no_column_for_is_named(engine):
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    plain = create_dataset(b2b_log().drop(columns=["channel"]), name="No segments")  # nor a channel
    query = {"dataset": str(dataset_id), "seg_regoin": "EMEA", "seg_region": "EMEA"}
    at = run_page("pages/5_Flows.py", query=query)
    said = [w.value for w in at.warning if "was left out" in w.value]
    assert said == ["The link's seg_regoin was left out: this log has no segment regoin (nearest: region)."], said
    assert [e for e in at.expander if e.label == "Filters"][0].proto.expanded
    at = run_page("pages/5_Flows.py", query={"dataset": str(plain), "seg_region": "EMEA", "channel": "Web"})
    said = [w.value for w in at.warning if "was left out" in w.value]
    assert said == [
        "The link's channel=Web was left out: this log has no channel column. "
        "The link's seg_region was left out: this log has no segment region (it has none)."
    ], said


def test_filters_that_keep_nothing_say_so(engine):
    # b2b_log runs from 2025-01-01 to 2025-02-22: from its last day to its first keeps no event.
    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id), "from": "2025-02-22", "to": "2025-01-01"})
    said = [w.value for w in at.warning]
    assert said == [
        "The filters keep none of this dataset's events (From 2025-02-22 · To 2025-01-01), so every figure "
        "below is empty. Widen them under Filters."
    ]
    assert [m for m in at.metric if m.label == "Journeys"][0].value == "0"
    # Filters that keep events say nothing of the kind.
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id), "from": "2025-01-01", "to": "2025-01-31"})
    assert not [w for w in at.warning if "keep none" in w.value]


def test_filter_words_name_every_filter():
    from datetime import date

    from analytics.journeys import JourneyQuery
    from components.analysis_controls import filter_words

    query = JourneyQuery(
        date_from=date(2025, 1, 2),
        channels=("email", "web"),
        roles=("buyer",),
        outcomes=("won",),
        segments=(("region", ("EMEA",)),),
        through=("Demo",),
    )
    assert filter_words(query) == [
        "From 2025-01-02",
        "Channels: email, web",
        "Contact roles: buyer",
        "Outcomes: won",
        "region: EMEA",
        "Only journeys through: Demo",
    ]
    assert filter_words(JourneyQuery(level="account", by="stage")) == []


def test_a_filter_with_many_values_says_what_it_offers_and_takes_any_from_a_link(engine):
    # 250 journeys, each its own customer: the filter offers the 200 most frequent, says so, and a link
    # naming one past them keeps it (it exists) instead of calling it unknown.
    from tests.factories import log_frame

    rows = [
        (f"j{i}", day, step, f"c{i:03d}") for i in range(250) for day, step in enumerate(["Visit", "Demo"][: 1 + i % 2])
    ]
    dataset_id = create_dataset(
        log_frame(rows, ("journey_id", "timestamp", "activity", "segment:customer")), segments=["customer"], name="Many"
    )
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id)})
    assert "Segment: customer: the 200 most frequent of 250 values are offered; a link may name any." in [
        c.value.replace("\\", "") for c in at.caption
    ]
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id), "seg_customer": "c248"})
    assert not [w.value for w in at.warning if "seg_customer" in w.value]
    assert at.multiselect(key="seg_customer").value == ["c248"]
    assert [m for m in at.metric if m.label == "Journeys"][0].value == "1"


def test_no_transitions_names_the_filters_to_widen():
    from datetime import date

    from analytics.journeys import JourneyQuery
    from components.analysis_controls import AnalysisView, no_transitions_reason

    class _Ctx:  # only the query is read
        query = JourneyQuery(date_from=date(2025, 3, 1), channels=("email",))

    view = AnalysisView(token="t", ctx=_Ctx())  # type: ignore[arg-type]
    assert no_transitions_reason(view) == (
        "No transitions with these filters (From 2025-03-01 · Channels: email): widen them under Filters."
    )


def test_a_filter_value_or_through_node_the_log_lacks_is_refused_and_nothing_is_drawn(engine):
    """A link's filter value or ``through`` node that the log lacks is refused with the nearest real one
    and the page draws nothing (before: the whole log's flows under a warning), as the CLI refuses it."""
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    for query, said in (({"channel": "emial"}, "channel=emial"), ({"through": "Demoo"}, "through=Demoo")):
        at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id), **query})
        errors = [e.value for e in at.error if said in e.value]
        assert len(errors) == 1 and "is refused" in errors[0] and "Nothing is drawn" in errors[0], errors
        assert "nearest" in errors[0], errors
        assert not at.get("plotly_chart") and not at.dataframe, query
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id), "channel": "email"})
    assert not [e.value for e in at.error] and at.get("plotly_chart")
