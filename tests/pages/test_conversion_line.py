"""Conversion, defined once, on every page: the demo's definitions give one line everywhere; a
change made on one page shows on the others; ids and names in a link that do not exist are refused
with the real ones and the page stays empty (never another dataset or map)."""

from __future__ import annotations

import pytest

from services.context import open_context
from services.conversion import compute_conversion_line
from services.datasets import list_dataset_summaries
from tests.pages.conftest import conversion_line, run_page

PAGES = (
    "pages/5_Flows.py",
    "pages/6_Funnel.py",
    "pages/7_Paths.py",
    "pages/9_Friction.py",
    "pages/10_Attribution.py",
    "pages/11_Outlook.py",
)
MAP_PAGES = ("pages/8_Metrics.py", "pages/12_Overlay.py")


def _demo_b2b() -> tuple[int, int]:
    dataset = next(d for d in list_dataset_summaries() if d.name == "Demo: B2B SaaS event log")
    return dataset.id, dataset.map_id


@pytest.fixture
def demo(demo_engine) -> tuple[int, int]:
    return _demo_b2b()


def test_every_page_shows_the_same_line_for_the_demo(demo):
    dataset_id, map_id = demo
    expected = compute_conversion_line(open_context(dataset_id)).text
    # The demo ships with a definition: the B2B SaaS log converts on the outcome "won".
    assert expected.startswith("Conversion: outcome is won; lost: outcome is lost · 2,131 of 7,065 journeys (30.2%)")
    for page in PAGES:
        at = run_page(page, query={"dataset": str(dataset_id)})
        assert conversion_line(at) == expected, page
    for page in MAP_PAGES:
        at = run_page(page, query={"map": str(map_id), "dataset": str(dataset_id)})
        assert conversion_line(at) == expected, page
    overview = run_page("app.py")
    assert expected in [c.value.replace("\\", "") for c in overview.caption]


def test_a_change_on_one_page_shows_on_the_others(demo):
    dataset_id, _ = demo
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id)})
    at.radio(key="conversion_kind").set_value("goal")
    at.multiselect(key="conversion_goals").set_value(["Store"])
    at.multiselect(key="conversion_lost").set_value([])
    at.button(key="FormSubmitter:conversion_form-Save for the dataset").click().run()
    assert not at.exception
    line = conversion_line(at)
    assert line.startswith("Conversion: reaching Store · ")
    for page in ("pages/5_Flows.py", "pages/10_Attribution.py"):
        assert conversion_line(run_page(page, query={"dataset": str(dataset_id)})) == line
    # The line counts the same journeys as the CLI.
    assert line == compute_conversion_line(open_context(dataset_id)).text


@pytest.mark.parametrize("page", [*PAGES, "pages/8_Metrics.py", "pages/12_Overlay.py", "pages/2_Map_studio.py"])
def test_ids_in_a_link_that_do_not_exist_are_refused(demo_engine, page):
    dataset_id, map_id = _demo_b2b()
    param = "map" if page in ("pages/8_Metrics.py", "pages/12_Overlay.py", "pages/2_Map_studio.py") else "dataset"
    at = run_page(page, query={param: "999"})
    assert any(f"There is no {param} 999" in w.value for w in at.warning), page
    assert not at.dataframe and not at.metric and not at.get("plotly_chart"), page
    assert at.query_params[param] == "999"  # the link is left as it was, not rewritten to another id


@pytest.mark.parametrize("page", ["pages/5_Flows.py", "pages/9_Friction.py", "pages/11_Outlook.py"])
def test_goal_and_through_names_that_do_not_exist_are_refused(demo, page):
    dataset_id, _ = demo
    at = run_page(page, query={"dataset": str(dataset_id), "goal": "Stor"})
    assert any(
        "No touchpoint, activity or stage is named 'Stor'" in w.value and "'Store'" in w.value for w in at.warning
    )
    assert not at.dataframe and not at.get("plotly_chart")


def test_a_saved_definition_naming_what_the_dataset_lacks_is_named_in_the_form(engine):
    # A definition can outlive a relinked map or a re-import: the Change form names what the dataset
    # no longer has (nearest real names too) instead of dropping it silently, and still opens.
    from sqlmodel import select

    from analytics.conversion import Conversion
    from db.engine import write_session
    from db.models import ConversionDefinition
    from services.conversion import save_conversion
    from tests.factories import b2b_log, create_dataset

    dataset_id = create_dataset(b2b_log(), segments=["region"], name="Pipeline")
    save_conversion(dataset_id, Conversion(goals=("Decision",), lost_goals=("Awareness",)))
    with write_session() as session:
        row = session.exec(select(ConversionDefinition)).one()
        row.goals, row.lost_goals = ["Decision", "Decisoin"], ["Awareness", "Old page"]
        session.add(row)
    at = run_page("pages/5_Flows.py", query={"dataset": str(dataset_id)})
    said = [w.value for w in at.warning if w.value.startswith("The saved definition names")]
    assert len(said) == 1, [w.value for w in at.warning]
    assert "Decisoin (nearest: Decision" in said[0] and "Old page (nearest: " in said[0]
    assert "saving it drops them" in said[0]
    assert at.multiselect(key="conversion_goals").value == ["Decision"]
    assert at.multiselect(key="conversion_lost").value == ["Awareness"]


def test_a_refused_link_lists_six_choices_and_says_how_many_more(engine, monkeypatch):
    from tests.factories import b2b_log, create_dataset

    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    ids = [create_dataset(b2b_log(journeys=4, seed=n), name=f"Log {n}") for n in range(8)]
    at = run_page("pages/5_Flows.py", query={"dataset": "999"})
    said = [w.value for w in at.warning if "There is no dataset 999" in w.value]
    assert len(said) == 1 and "; and 2 more." in said[0], said
    assert f"{ids[5]} (Log 5)" in said[0] and f"{ids[6]} (Log 6)" not in said[0]


@pytest.mark.parametrize("page", ["pages/5_Flows.py", "pages/9_Friction.py", "pages/12_Overlay.py"])
def test_a_maps_link_opens_its_own_log_and_another_log_says_it_is_not_linked(demo_engine, page):
    from services.maps import list_map_summaries

    maps = {m.name: m.id for m in list_map_summaries()}
    logs = {d.name: d.id for d in list_dataset_summaries()}
    advisory, b2b = logs["Demo: advisory client log"], logs["Demo: B2B SaaS event log"]
    at = run_page(page, query={"map": str(maps["Advisory client lifecycle"])})
    assert at.query_params["dataset"] == str(advisory)  # the map's own log, not the first one
    assert not [w for w in at.warning if "not to “" in w.value]
    # A map with no log of its own: the log shown is marked, and the page says what that map covers of it.
    at = run_page(page, query={"map": str(maps["Enterprise buying committee"])})
    assert at.query_params["dataset"] == str(b2b)
    said = [w.value for w in at.warning if "not to “Enterprise buying committee”" in w.value]
    assert len(said) == 1 and "that map's touchpoints claim 1 of its 21 activities" in said[0], said
    assert "(not linked to this map)" in at.selectbox(key="_pick_dataset").format_func(b2b)


def test_a_map_or_log_made_since_the_page_last_read_them_is_found_not_refused(demo_engine):
    from services.maps import create_map_from_template

    run_page("pages/9_Friction.py")  # the lists of maps and logs are read (and cached)
    made = create_map_from_template(template_key="b2b-5-stage", name="Made from the terminal")  # not via the app
    at = run_page("pages/9_Friction.py", query={"map": str(made)})
    assert not [w.value for w in at.warning if w.value.startswith(f"There is no map {made}")]
    assert at.selectbox(key="_pick_map").value == made
