"""Review fixes: a refused persona keeps what was typed, the loops chart's label says what its bar
shows, and the Maps page's "Map to change" is bound to ``?map=``."""

from __future__ import annotations

import pandas as pd
import pytest

from charts.paths import loops_figure
from services import personas as persona_service
from services.maps import list_map_summaries
from tests.pages.conftest import run_page

PERSONAS = "pages/3_Personas.py"
MAPS = "pages/1_Maps.py"


def _field(widgets, label):
    matches = [w for w in widgets if w.label == label]
    assert matches, f"no widget {label!r}"
    return matches[0]


def test_a_refused_persona_keeps_what_was_typed_and_a_created_one_empties_the_form(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    at = run_page(PERSONAS)
    _field(at.text_area, "Description").set_value("Runs vendor selection")
    _field(at.text_input, "Job title").set_value("Procurement lead")
    _field(at.text_area, "Goals").set_value("Fair price")
    _field(at.button, "Create persona").click().run()
    assert not at.exception
    assert any("persona name" in e.value and "non-empty name" in e.value for e in at.error)
    assert persona_service.list_personas() == []
    # Refused: every field still holds what was typed.
    assert _field(at.text_area, "Description").value == "Runs vendor selection"
    assert _field(at.text_input, "Job title").value == "Procurement lead"
    assert _field(at.text_area, "Goals").value == "Fair price"

    _field(at.text_input, "Name").set_value("Priya Nair")
    _field(at.button, "Create persona").click().run()
    assert not at.exception and not at.error
    (p,) = persona_service.list_personas()
    assert (p.name, p.description, p.job_title, p.goals) == (
        "Priya Nair",
        "Runs vendor selection",
        "Procurement lead",
        "Fair price",
    )
    # Saved: the create form is drawn afresh, empty (the edit form below shows the new persona).
    assert _field(at.text_input, "Name").value == ""
    assert _field(at.text_area, "Description").value == ""
    assert _field(at.text_input, "Job title").value == ""


def test_the_loops_label_says_what_the_bar_shows():
    loops = pd.DataFrame(
        {"from_stage": ["Conversion"], "to_stage": ["Consideration"], "moves": [1708], "journeys": [1530]}
    )
    bar = loops_figure(loops).data[0]
    assert list(bar.x) == [1708]
    assert list(bar.text) == ["1,708 moves · 1,530 journeys"]
    assert list(bar.customdata) == [1530]  # the hover names both too
    one = pd.DataFrame({"from_stage": ["B"], "to_stage": ["A"], "moves": [1], "journeys": [1]})
    assert list(loops_figure(one).data[0].text) == ["1 move · 1 journey"]  # before: "1 moves · 1 journeys"


def test_a_maps_link_opens_that_map_and_keeps_the_choice(demo_engine):
    maps = list_map_summaries()
    assert len(maps) >= 2
    second = maps[1]
    at = run_page(MAPS, query={"map": str(second.id)})
    assert _field(at.selectbox, "Map to change").value == second.id
    assert _field(at.text_input, "New name").value == second.name
    # Picking another map puts it in the link, so a reload opens it.
    first = maps[0]
    _field(at.selectbox, "Map to change").set_value(first.id).run()
    assert not at.exception
    assert at.query_params["map"] == str(first.id)
    assert _field(at.text_input, "New name").value == first.name


@pytest.mark.parametrize("raw", ["999999", "nope"])
def test_a_maps_link_to_no_map_is_refused_with_the_real_ones(demo_engine, raw):
    maps = list_map_summaries()
    at = run_page(MAPS, query={"map": raw})
    warnings = [w.value for w in at.warning]
    assert any(f"There is no map {raw}" in w and f"{maps[0].id} (" in w for w in warnings), warnings
    assert _field(at.selectbox, "Map to change").value is None
    assert not [t for t in at.text_input if t.label == "New name"]  # nothing is changed meanwhile
    assert at.query_params["map"] == raw  # the link is left as it was
