"""The Map studio page through AppTest: every tab, forms, table edits, validation, conflicts, versions, export."""

from __future__ import annotations

import json
from datetime import date

import pytest

from services import map_edits, map_io, map_view, snapshots
from services.maps import list_map_summaries
from tests.pages.conftest import run_page
from tests.studio_factory import filled_map

PAGE = "pages/2_Map_studio.py"
TABS = [
    "Grid",
    "Stages & touchpoints",
    "Lanes",
    "Pain points & opportunities",
    "Action plan",
    "Personas",
    "Versions",
    "Export",
]


@pytest.fixture(autouse=True)
def _no_demo(monkeypatch):
    # These tests build their own small map; the demo would only slow them down.
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")


@pytest.fixture
def filled(engine):
    return filled_map("Studio map")


def _open(map_id, tab="Grid", **query):
    return run_page(PAGE, query={"map": str(map_id), "tab": tab, **query})


def _texts(at):
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader])


def _button(at, label):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    return matches[0]


def test_every_tab_renders_the_map(filled):
    expected_editors = {"Stages & touchpoints": 2, "Lanes": 1, "Pain points & opportunities": 2, "Action plan": 1}
    for tab in TABS:
        at = _open(filled.map_id, tab)
        assert at.subheader[0].value == "Studio map"
        assert [t.label for t in at.tabs] == TABS
        assert len(at.data_editor) == expected_editors.get(tab, 0), tab
        assert not at.error, (tab, [e.value for e in at.error])
        if tab == "Grid":
            # The whole grid as HTML (fitted to the width), every touchpoint of the map in it.
            grids = [h.proto.body for h in at.get("html") if 'data-testid="jl-grid"' in h.proto.body]
            assert len(grids) == 1
            names = [t.name for t in map_view.get_map_view(filled.map_id).touchpoints]
            assert names and all(f">{t}<" in grids[0].replace("&shy;", "") for t in names)
        if tab == "Pain points & opportunities":
            assert any("× 1.5 when the opportunity sits on a moment-of-truth" in c.value for c in at.caption)
            ranking = [d for d in at.dataframe if d.editing_mode == "read_only"][0].value
            assert ranking["description"].tolist() == ["Self-serve demo", "Better blog", "Comparison guide"]
        if tab == "Personas":
            assert "2 of 7 roles covered" in _texts(at)
        if tab == "Export":
            assert {b.label for b in at.get("download_button")} == {
                "JSON (complete)",
                "CSV (one row per cell)",
                "Mermaid flowchart",
                "The grid (HTML page)",
                # "Report" where the map is (the header, on every tab).
                "Download the map's report (HTML)",
                "Download every table (ZIP of CSVs)",
            }


def test_an_unknown_map_is_refused_and_never_replaced_by_another(filled):
    at = run_page(PAGE, query={"map": "999"})
    assert any("There is no map 999" in w.value and str(filled.map_id) in w.value for w in at.warning)
    assert at.query_params["map"] == "999" and not at.tabs  # nothing else is shown meanwhile


def test_add_a_stage_and_a_touchpoint_with_the_forms(filled):
    at = _open(filled.map_id, "Stages & touchpoints")
    stage_name = [t for t in at.text_input if t.label == "Stage name"][0]
    stage_name.set_value("Expansion")
    _button(at, "Add stage").click().run()
    assert not at.exception
    assert any("Stage “Expansion” added." in s.value for s in at.success)
    view = map_view.get_map_view(filled.map_id)
    assert view.stages[-1].name == "Expansion" and view.version == filled.version + 1

    [t for t in at.text_input if t.label == "Touchpoint name"][0].set_value("Upsell call")
    [s for s in at.selectbox if s.label == "In stage"][0].set_value(view.stages[-1].id)
    [c for c in at.checkbox if c.label == "Moment of truth"][0].check()
    _button(at, "Add touchpoint").click().run()
    view = map_view.get_map_view(filled.map_id)
    upsell = view.stages[-1].touchpoints[0]
    assert (upsell.name, upsell.moment_of_truth) == ("Upsell call", True)


def test_an_empty_stage_name_is_refused_with_a_message(filled):
    at = _open(filled.map_id, "Stages & touchpoints")
    [t for t in at.text_input if t.label == "Customer goal"][0].set_value("Grow the account")
    _button(at, "Add stage").click().run()
    assert any("stage name" in e.value and "non-empty name" in e.value for e in at.error)
    assert map_view.get_map_view(filled.map_id).version == filled.version
    # What was typed is kept to be mended; once saved, the form is empty again.
    assert [t for t in at.text_input if t.label == "Customer goal"][0].value == "Grow the account"
    [t for t in at.text_input if t.label == "Stage name"][0].set_value("Expansion")
    _button(at, "Add stage").click().run()
    assert any("Stage “Expansion” added." in s.value for s in at.success)
    assert [t.value for t in at.text_input if t.label in ("Stage name", "Customer goal")] == ["", ""]


def test_editing_the_lanes_table_saves_cells(filled):
    view = map_view.get_map_view(filled.map_id)
    at = _open(filled.map_id, "Lanes")
    key = f"lanes::{filled.map_id}::0::{view.version}"
    frame = at.data_editor[0].value
    row = frame.index[frame["where"] == "Consideration › Case studies"][0]
    at.session_state[key] = {
        "edited_rows": {int(row): {"thinking": "Typed in the table", "emotion": -2}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    _button(at, "Save lanes").click().run()
    assert any("Lanes saved." in s.value for s in at.success)
    view = map_view.get_map_view(filled.map_id)
    case_studies = view.stages[1].touchpoints[0]
    thinking = view.cell(
        stage_id=case_studies.stage_id, touchpoint_id=case_studies.id, persona_id=None, lane="thinking"
    )
    feeling = view.cell(stage_id=case_studies.stage_id, touchpoint_id=case_studies.id, persona_id=None, lane="feeling")
    assert thinking.text == "Typed in the table" and feeling.emotion == -2


def test_edit_one_cell_form_for_a_persona(filled):
    dana = filled.persona_ids[0]
    at = _open(filled.map_id, "Lanes")
    [s for s in at.selectbox if s.label == "Whose lanes"][0].set_value(dana).run()
    view = map_view.get_map_view(filled.map_id)
    blog = view.stages[0].touchpoints[1]
    [s for s in at.selectbox if s.label == "Stage or touchpoint"][0].set_value(f"t:{blog.id}")
    [s for s in at.selectbox if s.label == "Lane"][0].set_value("feeling")
    [t for t in at.text_area if t.label == "Text"][0].set_value("Bored")
    [s for s in at.select_slider if s.label.startswith("Emotion")][0].set_value(-1)
    _button(at, "Save cell").click().run()
    cell = map_view.get_map_view(filled.map_id).cell(
        stage_id=blog.stage_id, touchpoint_id=blog.id, persona_id=dana, lane="feeling"
    )
    assert (cell.text, cell.emotion) == ("Bored", -1)


def test_a_bad_value_in_a_table_gets_a_message_and_the_edit_is_kept(filled):
    view = map_view.get_map_view(filled.map_id)
    demo = view.stages[1].touchpoints[1]
    at = _open(filled.map_id, "Pain points & opportunities")
    key = f"pains::{filled.map_id}::{view.version}"
    new_row = {"where": f"t:{demo.id}", "persona": 0, "description": "Slow answers", "severity": 9}
    at.session_state[key] = {"edited_rows": {}, "added_rows": [new_row], "deleted_rows": []}
    at.run()
    _button(at, "Save pain points").click().run()
    assert any("severity (1–5): 9 is not valid; expected a whole number from 1 to 5" in e.value for e in at.error)
    assert len(map_view.get_map_view(filled.map_id).pain_points) == 2  # nothing written
    assert at.session_state[key]["added_rows"][0]["description"] == "Slow answers"  # what was typed is kept


def test_a_stale_save_shows_the_conflict_keeps_the_edit_and_reapplies_it(filled):
    view = map_view.get_map_view(filled.map_id)
    at = _open(filled.map_id, "Action plan")
    # Someone else saves the map meanwhile.
    map_edits.update_map_details(filled.map_id, expected_version=view.version, owner="Ben")
    key = f"actions::{filled.map_id}::{view.version}"
    at.session_state[key] = {
        "edited_rows": {},
        "added_rows": [{"action": "Call every churned account", "status": "open"}],
        "deleted_rows": [],
    }
    at.run()
    assert any("changed elsewhere since you opened it" in w.value for w in at.warning)
    _button(at, "Save action plan").click().run()
    assert not at.exception
    assert any("Someone else saved this map while you were editing" in e.value for e in at.error)
    assert "Call every churned account" not in [a.action for a in map_view.get_map_view(filled.map_id).actions]
    kept = [d for d in at.dataframe if d.editing_mode == "read_only"][0].value
    assert "Call every churned account" in kept["value"].iloc[0]
    _button(at, "Reload the map and re-apply my edits").click().run()
    assert any("applied to the latest version" in s.value for s in at.success)
    after = map_view.get_map_view(filled.map_id)
    assert "Call every churned account" in [a.action for a in after.actions]
    assert after.owner == "Ben"  # the other person's change is still there
    assert not any("Someone else saved" in e.value for e in at.error)


def test_map_details_owner_and_past_review_date_show_stale(filled):
    at = _open(filled.map_id, "Stages & touchpoints")
    [t for t in at.text_input if t.label == "Owner"][0].set_value("Carla")
    [d for d in at.date_input if d.label == "Review by"][0].set_value(date(2020, 1, 1))
    _button(at, "Save map details").click().run()
    view = map_view.get_map_view(filled.map_id)
    assert (view.owner, view.review_by, view.stale) == ("Carla", date(2020, 1, 1), True)
    assert any("stale" in m.value for m in at.markdown)


def test_personas_tab_attaches_and_creates_for_a_missing_role(filled):
    at = _open(filled.map_id, "Personas")
    [t for t in at.text_input if t.label == "Persona name"][0].set_value("Priya")
    [s for s in at.selectbox if s.label == "Committee role"][0].set_value("procurement")
    _button(at, "Create and add to this map").click().run()
    view = map_view.get_map_view(filled.map_id)
    assert [(p.name, p.committee_role) for p in view.personas] == [
        ("Dana", "decision maker"),
        ("Priya", "procurement"),
        ("Sam", "technical evaluator"),
    ]
    assert "3 of 7 roles covered" in _texts(at)
    at.multiselect[0].set_value([filled.persona_ids[0]])
    _button(at, "Save personas").click().run()
    assert [p.name for p in map_view.get_map_view(filled.map_id).personas] == ["Dana"]


def test_versions_tab_snapshot_diff_restore_and_clone(filled):
    at = _open(filled.map_id, "Versions")
    [t for t in at.text_input if t.label == "Snapshot name"][0].set_value("Baseline")
    _button(at, "Save snapshot").click().run()
    assert any("Snapshot “Baseline” saved." in s.value for s in at.success)
    view = map_view.get_map_view(filled.map_id)
    map_edits.add_stage(filled.map_id, "Expansion", expected_version=view.version)
    at = _open(filled.map_id, "Versions")
    diff = [d.value for d in at.dataframe if "Change" in d.value.columns][0]
    assert ("stage", "added", "Expansion") in set(zip(diff["Area"], diff["Change"], diff["Item"], strict=True))
    # Restoring needs the box ticked.
    _button(at, "Restore").click().run()
    assert any("Tick the box to confirm the restore" in w.value for w in at.warning)
    [c for c in at.checkbox if c.label.startswith("Yes, replace")][0].check()
    _button(at, "Restore").click().run()
    assert "Expansion" not in [s.name for s in map_view.get_map_view(filled.map_id).stages]
    assert [s.name for s in snapshots.list_snapshots(filled.map_id)][0] == "Before restoring “Baseline”"
    # Clone into a future state.
    [t for t in at.text_input if t.label == "Future-state map name"][0].set_value("Studio map 2027")
    _button(at, "Clone into a future-state map").click().run()
    future = [m for m in list_map_summaries() if m.name == "Studio map 2027"]
    assert future and future[0].state == "future"
    assert any("Future-state map created" in s.value for s in at.success)


def test_compare_shows_both_maps_and_their_differences(filled):
    future = snapshots.clone_as_future_state(filled.map_id, "Future")
    fview = map_view.get_map_view(future)
    map_edits.add_touchpoint(future, fview.stages[0].id, "Podcast", expected_version=fview.version)
    at = _open(future, "Versions")
    compare = [s for s in at.selectbox if s.label == "Compare with"][0]
    assert compare.value == filled.map_id  # the map it was cloned from
    diffs = [d.value for d in at.dataframe if "Change" in d.value.columns]
    assert ("touchpoint", "added", "Awareness › Podcast") in set(
        zip(diffs[-1]["Area"], diffs[-1]["Change"], diffs[-1]["Item"], strict=True)
    )
    outlines = [d.value for d in at.dataframe if "Touchpoint" in d.value.columns]
    assert len(outlines) == 2 and len(outlines[1]) == len(outlines[0]) + 1
    # The comparison lives in the link and its differences download.
    assert at.query_params["compare"] == str(filled.map_id)
    assert "Download the differences between the two maps (CSV)" in [b.label for b in at.get("download_button")]
    # "No comparison" is kept in the link too (without a word, the link would open the default again).
    [s for s in at.selectbox if s.label == "Compare with"][0].select_index(0).run()  # "No comparison"
    assert at.query_params["compare"] == "none"
    at = _open(future, "Versions", compare="none")
    assert [s for s in at.selectbox if s.label == "Compare with"][0].value is None
    assert not [d for d in at.dataframe if "Change" in d.value.columns]
    assert not [w for w in at.warning if "link" in w.value]


def test_export_and_import_on_the_export_tab(filled):
    at = _open(filled.map_id, "Export")
    assert any('title: "Studio map"\n---\nflowchart LR' in c.value for c in at.code)
    uploader = at.get("file_uploader")[0]
    uploader.set_value(("broken.json", b'{"format": "journeylens-map"', "application/json")).run()
    _button(at, "Import map").click().run()
    assert any("JSON file" in e.value and "line 1" in e.value for e in at.error)
    before = len(list_map_summaries())
    assert before == 1
    good = map_io.export_map_json(filled.map_id).encode("utf-8")
    at.get("file_uploader")[0].set_value(("map.json", good, "application/json")).run()
    _button(at, "Import map").click().run()
    said = [s.value.replace("\\", "") for s in at.success]  # markdown escapes undone
    new_id = max(m.id for m in list_map_summaries())
    # The file's name is the studio map's own: the import is numbered, and the message says so.
    assert said[0] == (  # said once (before: "…: imported as “Studio map (2)”." repeated the name)
        f"Imported as a new map “Studio map (2)” (id {new_id}): a map “Studio map” exists (map {filled.map_id})."
    )
    assert len(list_map_summaries()) == 2
    original = json.loads(good)
    assert json.loads(map_io.export_map_json(new_id)) == {
        **original,
        "map": {**original["map"], "name": "Studio map (2)"},
    }


def _grid_edit(map_id, target):
    return run_page(PAGE, query={"map": str(map_id), "tab": "Grid", "edit": target})


def test_a_touchpoint_clicked_on_the_grid_is_edited_in_a_dialog(filled):
    view = map_view.get_map_view(filled.map_id)
    tp = view.touchpoints[0]
    at = _grid_edit(filled.map_id, f"touchpoint:{tp.id}")
    # The grid links each touchpoint to its editor.
    grid = next(h.proto.body for h in at.get("html") if 'data-testid="jl-grid"' in h.proto.body)
    assert f"edit=touchpoint:{tp.id}" in grid and "edit=add-pain:" in grid
    name = [t for t in at.text_input if t.label == "Name"][0]
    assert name.value == tp.name
    name.set_value("Renamed on the map")
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception
    after = map_view.get_map_view(filled.map_id)
    assert after.touchpoint(tp.id).name == "Renamed on the map"
    assert after.version == view.version + 1
    assert "edit" not in at.query_params


def test_pain_points_are_edited_and_added_from_the_grid(filled):
    view = map_view.get_map_view(filled.map_id)
    pain = view.pain_points[0]
    at = _grid_edit(filled.map_id, f"pain:{pain.id}")
    [s for s in at.slider if s.label == "Severity"][0].set_value(1)
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception
    assert next(p for p in map_view.get_map_view(filled.map_id).pain_points if p.id == pain.id).severity == 1

    stage = view.stages[-1]
    at = _grid_edit(filled.map_id, f"add-pain:{stage.id}")
    [t for t in at.text_area if t.label == "Pain point"][0].set_value("Renewal quote arrives late")
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception
    added = [
        p for p in map_view.get_map_view(filled.map_id).pain_points if p.description == "Renewal quote arrives late"
    ]
    assert len(added) == 1 and added[0].stage_id == stage.id and added[0].severity == 3


def test_a_touchpoint_is_added_to_a_stage_from_the_grid(filled):
    view = map_view.get_map_view(filled.map_id)
    stage = view.stages[0]
    grid = next(h.proto.body for h in _open(filled.map_id).get("html") if 'data-testid="jl-grid"' in h.proto.body)
    assert f"edit=add-touchpoint:{stage.id}" in grid and "+ touchpoint" in grid
    at = _grid_edit(filled.map_id, f"add-touchpoint:{stage.id}")
    [t for t in at.text_input if t.label == "Name"][0].set_value("Chat with sales")
    [t for t in at.text_input if t.label == "Channel"][0].set_value("chat")
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception and not at.error
    after = map_view.get_map_view(filled.map_id)
    names = [t.name for t in after.stage(stage.id).touchpoints]
    assert names == [t.name for t in stage.touchpoints] + ["Chat with sales"]
    added = after.stage(stage.id).touchpoints[-1]
    assert added.channel == "chat" and after.version == view.version + 1
    assert "edit" not in at.query_params
    # An empty name is refused with a message and nothing is added.
    at = _grid_edit(filled.map_id, f"add-touchpoint:{stage.id}")
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception and at.error
    assert len(map_view.get_map_view(filled.map_id).touchpoints) == len(after.touchpoints)


def test_an_unknown_grid_target_is_said_plainly(filled):
    at = _grid_edit(filled.map_id, "touchpoint:999999")
    assert any("Nothing to edit for “touchpoint:999999”" in w.value for w in at.warning)
    assert not at.text_input or all(t.label != "Name" for t in at.text_input)


def test_a_lane_cell_clicked_on_the_grid_is_edited_in_a_dialog(filled):
    view = map_view.get_map_view(filled.map_id)
    stage, tp = view.stages[0], view.stages[0].touchpoints[0]
    at = _open(filled.map_id)
    grid = next(h.proto.body for h in at.get("html") if 'data-testid="jl-grid"' in h.proto.body)
    # Every thinking/doing/feeling cell links to its editor (whole-stage cells with touchpoint 0).
    for lane in ("thinking", "doing", "feeling"):
        assert f"edit=lane:{lane}:{stage.id}:" in grid, lane
    at = _grid_edit(filled.map_id, f"lane:feeling:{stage.id}:{tp.id}:0")
    [t for t in at.text_area if t.label == "Feeling"][0].set_value("Relieved the demo works")
    [s for s in at.select_slider if s.label == "Emotion"][0].set_value(2)
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception and not at.error
    after = map_view.get_map_view(filled.map_id)
    cell = [
        c
        for c in after.lane_cells
        if (c.lane, c.stage_id, c.touchpoint_id, c.persona_id) == ("feeling", stage.id, tp.id, None)
    ]
    assert len(cell) == 1 and cell[0].text == "Relieved the demo works" and cell[0].emotion == 2
    assert after.version == view.version + 1
    assert "edit" not in at.query_params


def test_opportunities_and_actions_are_edited_and_added_from_the_grid(filled):
    view = map_view.get_map_view(filled.map_id)
    at = _open(filled.map_id)
    grid = next(h.proto.body for h in at.get("html") if 'data-testid="jl-grid"' in h.proto.body)
    assert "edit=add-opportunity:" in grid and "edit=add-action:" in grid

    stage = view.stages[0]
    at = _grid_edit(filled.map_id, f"add-opportunity:{stage.id}")
    [t for t in at.text_area if t.label == "Opportunity"][0].set_value("Self-serve trial")
    [s for s in at.slider if s.label == "Effort"][0].set_value(1)
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception and not at.error
    added = [o for o in map_view.get_map_view(filled.map_id).opportunities if o.description == "Self-serve trial"]
    assert len(added) == 1 and added[0].stage_id == stage.id and added[0].effort == 1

    at = _grid_edit(filled.map_id, f"opportunity:{added[0].id}")
    [s for s in at.slider if s.label == "Business value"][0].set_value(5)
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception and not at.error
    opp = next(o for o in map_view.get_map_view(filled.map_id).opportunities if o.id == added[0].id)
    assert opp.business_value == 5
    grid = next(h.proto.body for h in _open(filled.map_id).get("html") if 'data-testid="jl-grid"' in h.proto.body)
    assert f"edit=opportunity:{opp.id}" in grid

    at = _grid_edit(filled.map_id, f"add-action:{stage.id}")
    [t for t in at.text_area if t.label == "Action"][0].set_value("Publish the trial page")
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception and not at.error
    action = next(a for a in map_view.get_map_view(filled.map_id).actions if a.action == "Publish the trial page")
    assert action.stage_id == stage.id and action.status == "open"

    at = _grid_edit(filled.map_id, f"action:{action.id}")
    [s for s in at.selectbox if s.label == "Status"][0].set_value("done")
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception and not at.error
    assert next(a for a in map_view.get_map_view(filled.map_id).actions if a.id == action.id).status == "done"

    at = _grid_edit(filled.map_id, f"action:{action.id}")
    [c for c in at.checkbox if c.label == "Delete this action"][0].check()
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert all(a.id != action.id for a in map_view.get_map_view(filled.map_id).actions)


def test_a_grid_edit_from_a_stale_copy_is_kept_not_written(filled):
    view = map_view.get_map_view(filled.map_id)
    stage = view.stages[0]
    at = _grid_edit(filled.map_id, f"lane:thinking:{stage.id}:0:0")
    [t for t in at.text_area if t.label == "Thinking"][0].set_value("Mine")
    # Someone else saves in between: the map's version moves on.
    map_edits.set_lane_cell(
        filled.map_id, stage_id=stage.id, touchpoint_id=None, lane="thinking", text="Theirs",
        expected_version=view.version,
    )  # fmt: skip
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception
    texts = [
        c.text for c in map_view.get_map_view(filled.map_id).lane_cells
        if (c.lane, c.stage_id, c.touchpoint_id, c.persona_id) == ("thinking", stage.id, None, None)
    ]  # fmt: skip
    assert texts == ["Theirs"]
    # Said, with the edit kept: re-applied onto the latest version on request.
    assert any("Someone else saved this map" in e.value for e in at.error)
    _button(at, "Reload the map and re-apply my edits").click().run()
    texts = [
        c.text for c in map_view.get_map_view(filled.map_id).lane_cells
        if (c.lane, c.stage_id, c.touchpoint_id, c.persona_id) == ("thinking", stage.id, None, None)
    ]  # fmt: skip
    assert texts == ["Mine"]


def test_a_link_to_a_tab_that_does_not_exist_is_named(filled):
    at = _open(filled.map_id, tab="Action plans")
    assert [w.value for w in at.warning] == [
        "The link's tab=Action plans is not a tab here (nearest: Action plan); showing Grid instead."
    ]
    at = _open(filled.map_id, tab="Action plan")
    assert not [w.value for w in at.warning if w.value.startswith("The link's")]
    assert "Action plan" in [t.label for t in at.tabs]


def test_a_grid_measure_in_the_link_is_the_one_shown_and_a_misspelled_one_is_named(filled):
    # The bound select writes the measure as shown; the check reads it the same way (it once read keys,
    # and warned about the page's own link).
    at = _open(filled.map_id, overlay="Emotion (everyone, −2..+2)")
    assert not [w.value for w in at.warning if w.value.startswith("The link's overlay=")]
    assert at.selectbox(key="overlay").value == "emotion"
    at = _open(filled.map_id, overlay="Emotion (everyone)")
    said = [w.value for w in at.warning if w.value.startswith("The link's overlay=")]
    assert said == [
        "The link's overlay=Emotion (everyone) is not one of the choices here and was left out (nearest: "
        "overlay=Emotion (everyone, −2..+2)" + said[0].split("overlay=Emotion (everyone, −2..+2)", 1)[1]
    ], said


def test_the_grid_view_lives_in_the_link_and_its_edit_links_keep_it(filled):
    persona = filled.persona_ids[0]
    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Grid", "persona": str(persona), "zoom": "Large"})
    assert not [w.value for w in at.warning if w.value.startswith("The link's")]
    assert at.query_params["persona"] == str(persona) and at.query_params["zoom"] == "Large"
    grids = [h.proto.body for h in at.get("html") if "jl-edit" in h.proto.body]
    assert grids, "the grid draws its edit links"
    # An edit link reloads the page: it carries the persona and zoom, so the view stays as it was.
    assert f"persona={persona}" in grids[0] and "zoom=Large" in grids[0]


def test_everyone_s_view_of_the_grid_puts_no_persona_in_the_link(filled):
    # Before: everyone's view wrote persona=0 into the link, a number that names no persona.
    persona = filled.persona_ids[0]
    key = f"grid_persona::{filled.map_id}"
    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Grid"})
    assert "persona" not in at.query_params
    assert at.selectbox(key=key).value is None
    at.selectbox(key=key).set_value(persona).run()
    assert at.query_params["persona"] == str(persona)
    at.selectbox(key=key).set_value(None).run()
    assert "persona" not in at.query_params and not at.exception
    # A link made before, with persona=0 for everyone, still opens everyone's view without a warning.
    for tab in ("Grid", "Lanes"):
        at = run_page(PAGE, query={"map": str(filled.map_id), "tab": tab, "persona": "0"})
        assert not at.warning and "persona" not in at.query_params and not at.exception, tab


def test_the_lanes_tab_reads_the_persona_from_the_link_and_refuses_one_the_map_lacks(filled):
    # Before: the Lanes tab drew everyone's lanes for ?persona=<id> and for ?persona=999, without a word.
    persona = filled.persona_ids[0]
    key = f"lanes_persona::{filled.map_id}"
    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Lanes", "persona": str(persona)})
    assert at.selectbox(key=key).value == persona and not at.warning
    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Lanes", "persona": "999"})
    said = [w.value for w in at.warning if w.value.startswith("There is no persona 999 on this map")]
    assert len(said) == 1 and "The tab shows everyone's view until you pick one." in said[0]
    assert at.selectbox(key=key).value is None and at.query_params["persona"] == "999"
    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Lanes"})
    assert at.selectbox(key=key).value is None and "persona" not in at.query_params


def test_the_pain_points_tab_names_severity_as_the_grid_does(filled):
    # Before: "5 (critical)" here, "5 severe" in the grid's legend, chips and edit dialog.
    from charts.map_grid import SEVERITY_WORDS

    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Pain points & opportunities"})
    assert "**Pain points** — severity 1 (minor) to 5 (severe)." in [m.value for m in at.markdown]
    assert SEVERITY_WORDS[5] == "severe"


def test_another_map_drops_the_parameters_that_named_things_of_the_last(filled):
    from services.maps import create_map_from_template

    other = create_map_from_template(template_key="b2b-4-stage", name="Other map")
    persona = filled.persona_ids[0]
    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Grid", "persona": str(persona)})
    assert at.query_params["persona"] == str(persona)
    at.selectbox(key="_pick_map").set_value(other).run()
    assert not at.exception
    assert not [w.value for w in at.warning if w.value.startswith("The link's persona")]
    assert at.query_params.get("persona") in (None, "0")  # the new map's own choice (everyone), not the old id
