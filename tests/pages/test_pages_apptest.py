"""One AppTest per page: each runs on the demo without an exception and shows what it must."""

from __future__ import annotations

from tests.pages.conftest import run_page


def _markdown_text(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_overview_lists_demo_maps():
    at = run_page("app.py")  # a new database: the first start seeds the demo (the other tests copy it)
    assert at.title[0].value == "Overview"
    text = _markdown_text(at)
    assert "B2B SaaS buyer journey" in text
    assert "Advisory client lifecycle" in text


def test_a_map_refused_keeps_what_was_typed(demo_engine):
    at = run_page("pages/1_Maps.py")
    at.text_input[0].set_value("   ")
    [t for t in at.text_input if t.label == "Owner"][0].set_value("Dana")
    at.button[0].click().run()
    assert at.error and not at.success
    assert [t for t in at.text_input if t.label == "Owner"][0].value == "Dana"


def test_maps_page_creates_renames_and_deletes(demo_engine):
    at = run_page("pages/1_Maps.py")
    at.text_input[0].set_value("Renewal journey")
    at.selectbox[0].set_value("lifecycle-7-stage")
    at.button[0].click().run()
    assert not at.exception
    assert any("Created map" in s.value for s in at.success)
    assert at.text_input[0].value == ""  # the form is empty again once the map is created

    from services.maps import list_map_summaries

    created = [m for m in list_map_summaries() if m.name == "Renewal journey"]
    assert created and created[0].stages == 7

    # Deleting without confirmation is refused with a warning.
    at = run_page("pages/1_Maps.py")
    at.selectbox(key=None) if False else None
    delete_button = [b for b in at.button if b.label == "Delete map"][0]
    delete_button.click().run()
    assert any("Tick the box" in w.value for w in at.warning)


def test_data_page_runs(demo_engine):
    at = run_page("pages/4_Data.py")
    assert at.title[0].value == "Event logs"


def test_clicking_a_maps_row_opens_it_in_the_studio(demo_engine):
    at = run_page("pages/1_Maps.py")
    assert at.title[0].value == "Journey maps"
    table = at.dataframe[0].value
    assert len(table) >= 2
    # Dates as people read them: no "None", no "+00:00".
    assert table["Last updated"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC").all(), table["Last updated"]
    assert table["Review by"].str.fullmatch(r"\d{4}-\d\d-\d\d|not set").all(), table["Review by"]
    row = len(table) - 1
    at.session_state["maps_table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params["map"] == str(table["Id"].iloc[row])
    assert at.title[0].value == "Map studio"
    assert at.subheader[0].value == table["Map"].iloc[row]
    # Coming back to the Maps page does not jump to the studio again: the click is not remembered.
    at.switch_page("pages/1_Maps.py").run()
    assert not at.exception and at.title[0].value == "Journey maps"


def test_the_log_map_and_level_controls_have_one_name_on_every_analysis_page(demo_engine):
    """The pickers read the same on Flows, Funnel and Paths as on Friction, Attribution and Outlook
    (before: "Dataset" / "Journey level" on some, "Event log" / "Journey of a" on others)."""
    labels = {}
    for page in ("pages/5_Flows.py", "pages/6_Funnel.py", "pages/9_Friction.py", "pages/10_Attribution.py"):
        at = run_page(page, query={"dataset": "1"})
        assert not at.exception, page
        from components.analysis_controls import DATASET_PICKER

        level = next(w.label for w in at.get("button_group") if w.label.startswith("Journey"))
        labels[page] = (at.selectbox(key=DATASET_PICKER).label, at.selectbox(key="_pick_map").label, level)
    assert set(labels.values()) == {("Event log", "Journey map", "Journey level")}, labels
