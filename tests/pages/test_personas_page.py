"""The Personas page through AppTest: create with every field, edit, validation, role filter, delete."""

from __future__ import annotations

import pytest

from services import map_view
from services import personas as persona_service
from tests.pages.conftest import run_page
from tests.studio_factory import filled_map

PAGE = "pages/3_Personas.py"


@pytest.fixture(autouse=True)
def _no_demo(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")


def _field(widgets, label):
    matches = [w for w in widgets if w.label == label]
    assert matches, f"no widget {label!r}"
    return matches[0]


def _button(at, label):
    return _field(at.button, label)


def test_create_a_persona_with_every_field(engine):
    at = run_page(PAGE)
    assert at.title[0].value == "Personas"
    assert any("No personas yet" in i.value for i in at.info)
    _field(at.text_input, "Name").set_value("Priya Nair")
    _field(at.selectbox, "Buying-committee role").set_value("procurement")
    _field(at.text_area, "Description").set_value("Runs vendor selection")
    _field(at.text_input, "Job title").set_value("Procurement lead")
    _field(at.text_input, "Company size").set_value("1,000–5,000")
    _field(at.text_input, "Industry").set_value("Manufacturing")
    _field(at.checkbox, "Decision maker").check()
    _field(at.text_input, "Demographics").set_value("40s, Pune")
    _field(at.text_area, "Goals").set_value("Fair price")
    _field(at.text_area, "Pain points").set_value("=opaque pricing")
    _field(at.text_area, "Buying behaviour").set_value("Three quotes")
    _field(at.text_area, "Channels and media").set_value("Email")
    _button(at, "Create persona").click().run()
    assert not at.exception
    assert any("Persona “Priya Nair” created." in s.value for s in at.success)
    (p,) = persona_service.list_personas()
    assert (p.committee_role, p.job_title, p.company_size, p.industry, p.is_decision_maker) == (
        "procurement",
        "Procurement lead",
        "1,000–5,000",
        "Manufacturing",
        True,
    )
    assert (p.description, p.demographics, p.goals, p.pain_points, p.buying_behaviour, p.channels) == (
        "Runs vendor selection",
        "40s, Pune",
        "Fair price",
        "=opaque pricing",
        "Three quotes",
        "Email",
    )
    assert at.query_params["persona"] == str(p.id)
    table = at.dataframe[0].value
    assert table["Name"].tolist() == ["Priya Nair"]


def test_an_empty_name_is_refused(engine):
    at = run_page(PAGE)
    _button(at, "Create persona").click().run()
    assert any("persona name" in e.value and "non-empty name" in e.value for e in at.error)
    assert persona_service.list_personas() == []


def test_edit_a_persona_and_see_the_maps_it_is_on(engine):
    filled = filled_map("Committee map")
    dana, _ = filled.persona_ids
    at = run_page(PAGE, query={"persona": str(dana)})
    assert any("On maps: Committee map" in c.value for c in at.caption)
    matrix = [d.value for d in at.dataframe if "Missing" in d.value.columns][0]
    assert matrix.set_index("Map").loc["Committee map", "Missing"] == "5"
    job = [t for t in at.text_input if t.label == "Job title"][-1]
    assert job.value == "Head of RevOps"
    job.set_value("VP Revenue Operations")
    _button(at, "Save persona").click().run()
    assert persona_service.get_persona(dana).job_title == "VP Revenue Operations"
    # The map showing Dana has a new version.
    assert map_view.get_map_view(filled.map_id).version == filled.version + 1


def test_role_filter_in_the_url(engine):
    persona_service.create_persona("Dana", committee_role="decision maker")
    persona_service.create_persona("Sam", committee_role="technical evaluator")
    persona_service.create_persona("Nobody")
    at = run_page(PAGE, query={"role": "technical evaluator"})
    assert at.dataframe[0].value["Name"].tolist() == ["Sam"]
    at = run_page(PAGE, query={"role": "no role"})
    assert at.dataframe[0].value["Name"].tolist() == ["Nobody"]


def test_the_editor_offers_the_personas_the_role_filter_shows(engine):
    # Before: with ?role=technical evaluator the table showed Sam and the editor opened Dana.
    dana = persona_service.create_persona("Dana", committee_role="decision maker")
    sam = persona_service.create_persona("Sam", committee_role="technical evaluator")
    at = run_page(PAGE, query={"role": "technical evaluator"})
    picker = at.selectbox(key="qp_persona")
    assert picker.options == ["Sam (technical evaluator)"] and picker.value == sam
    assert at.query_params["persona"] == str(sam)
    assert [c.value for c in at.caption if c.value.startswith("Of the personas shown above (technical evaluator)")]
    # A persona the link names stays offered (and chosen) when the filter hides it; all roles offer every one.
    at = run_page(PAGE, query={"role": "technical evaluator", "persona": str(dana)})
    assert at.selectbox(key="qp_persona").value == dana and not at.warning
    at = run_page(PAGE)
    assert len(at.selectbox(key="qp_persona").options) == 2
    # The filter changed on the page: the persona the page itself opened before is not kept.
    assert at.selectbox(key="qp_persona").value == dana
    at.selectbox(key="role").set_value("technical evaluator").run()
    picker = at.selectbox(key="qp_persona")
    assert picker.options == ["Sam (technical evaluator)"] and picker.value == sam and not at.exception
    # A link persona that is not a plain number is refused as one that does not exist, never a traceback.
    at = run_page(PAGE, query={"persona": "²"})
    assert not at.exception and [w.value for w in at.warning if w.value.startswith("There is no persona ²")]


def test_delete_needs_confirmation(engine):
    pid = persona_service.create_persona("Temp")
    at = run_page(PAGE, query={"persona": str(pid)})
    _button(at, "Delete persona").click().run()
    assert any("Tick the box" in w.value for w in at.warning)
    assert persona_service.list_personas()
    _field(at.checkbox, "Yes, delete this persona").check()
    _button(at, "Delete persona").click().run()
    assert persona_service.list_personas() == []


def test_a_new_persona_is_the_one_shown_for_editing(engine):
    dana = persona_service.create_persona("Dana")
    at = run_page(PAGE, query={"persona": str(dana)})
    assert [t for t in at.text_input if t.label == "Name"][-1].value == "Dana"
    _field(at.text_input, "Name").set_value("Sam")
    _button(at, "Create persona").click().run()
    assert not at.exception
    sam = next(p.id for p in persona_service.list_personas() if p.name == "Sam")
    assert at.query_params["persona"] == str(sam)
    assert [t for t in at.text_input if t.label == "Name"][-1].value == "Sam"


def test_a_link_role_that_does_not_exist_is_named(engine):
    """?role= that is not a committee role is left out with a warning naming the nearest ones."""
    persona_service.create_persona("Dana", committee_role="decision maker")
    at = run_page(PAGE, query={"role": "decision-maker"})
    warnings = [w.value for w in at.warning]
    assert any("role=decision-maker" in w and "decision maker" in w for w in warnings), warnings


def test_a_link_persona_that_does_not_exist_is_refused(engine):
    dana = persona_service.create_persona("Dana", committee_role="decision maker")
    at = run_page(PAGE, query={"persona": "999"})
    said = [w.value for w in at.warning if w.value.startswith("There is no persona 999")]
    assert len(said) == 1 and f"{dana} (Dana (decision maker))" in said[0], [w.value for w in at.warning]
    assert not [b for b in at.button if b.label == "Save persona"]  # no other persona opened for editing
    assert at.query_params["persona"] == "999"
