"""Pages as each role sees them: viewers get no editing controls, editors no deletes; with the
signed-in user mocked as tests/pages/test_sign_in.py does."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from services import maps as map_service
from services import personas, snapshots
from tests.factories import b2b_log, create_dataset
from tests.pages.conftest import run_page
from tests.pages.test_sign_in import AUTH

ROLES = {"admin": ["ada@example.com"], "editor": ["eddie@example.com"], "default": "viewer"}
USERS = {
    "viewer": {"is_logged_in": True, "email": "val@example.com", "name": "Val"},
    "editor": {"is_logged_in": True, "email": "eddie@example.com", "name": "Eddie"},
    "admin": {"is_logged_in": True, "email": "ada@example.com", "name": "Ada"},
}
PAGES = [
    "app.py",
    "pages/1_Maps.py",
    "pages/2_Map_studio.py",
    "pages/3_Personas.py",
    "pages/4_Data.py",
    "pages/5_Flows.py",
    "pages/8_Metrics.py",
    "pages/9_Friction.py",
    "pages/6_Funnel.py",
    "pages/7_Paths.py",
    "pages/10_Attribution.py",
    "pages/11_Outlook.py",
    "pages/12_Overlay.py",
]


@pytest.fixture
def world(engine, monkeypatch) -> dict[str, int]:
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    map_id = map_service.create_map_from_template(template_key="b2b-4-stage", name="Shared map")
    dataset_id = create_dataset(b2b_log(journeys=30), name="Shared log", map_id=map_id)
    snapshots.create_snapshot(map_id, "Kick-off")
    personas.create_persona("Champion")
    return {"map": map_id, "dataset": dataset_id}


def _run(page: str, role: str | None, world: dict[str, int], **query: str) -> AppTest:
    signed_in = role is not None
    return run_page(
        page,
        timeout=90,
        query={"map": str(world["map"]), "dataset": str(world["dataset"]), **query},
        secrets={"auth": AUTH, "journeylens": {"roles": ROLES}} if signed_in else None,
        user=USERS[role] if signed_in else None,
    )


def _buttons(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_opens_every_page_and_finds_no_editing_control(world, page):
    at = _run(page, "viewer", world)
    assert not at.error, [e.value for e in at.error]  # nothing a page does on its own needs a write
    editing = {
        "Create map",
        "Rename",
        "Delete map",
        "Import map",
        "Save snapshot",
        "Restore",
        "Delete snapshot",
        "Create persona",
        "Save persona",
        "Delete persona",
        "Add metric",
        "Save value",
        "Import",
        "Save links",
        "Delete dataset",
        "Save for the dataset",
    }
    assert not _buttons(at) & editing, _buttons(at) & editing
    if page in ("pages/1_Maps.py", "pages/2_Map_studio.py", "pages/4_Data.py", "pages/8_Metrics.py"):
        assert any("You are a viewer here" in c.value for c in at.caption)


def test_the_studio_shows_a_viewer_only_the_read_only_tabs(world):
    at = _run("pages/2_Map_studio.py", "viewer", world, tab="Versions")
    assert [t.label for t in at.tabs] == ["Grid", "Versions", "Export"]
    trail = at.dataframe[-1].value
    assert {"Who", "Action", "Summary"} <= set(trail.columns)
    assert "create map 'Shared map'" in set(trail["Summary"])


def test_a_viewer_follows_a_snapshot_link_to_its_changes_and_is_told_of_one_that_does_not_exist(world):
    kick_off = snapshots.list_snapshots(world["map"])[0].id
    at = _run("pages/2_Map_studio.py", "viewer", world, tab="Versions", snapshot=str(kick_off))
    assert not at.error and not at.exception
    assert any("What changed since “Kick" in m.value for m in at.markdown)  # markdown escapes the "-"
    assert not {"Restore", "Delete snapshot", "Save snapshot"} & _buttons(at)
    at = _run("pages/2_Map_studio.py", "viewer", world, tab="Versions", snapshot="999")
    assert any("999" in w.value and "Kick-off" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not any("What changed since" in m.value for m in at.markdown)


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        ("editor", {"Create map", "Rename"}, {"Delete map"}),
        ("admin", {"Create map", "Rename", "Delete map"}, set()),
        (None, {"Create map", "Rename", "Delete map"}, set()),  # no sign-in: everyone is admin
    ],
)
def test_maps_page_controls_by_role(world, role, present, absent):
    buttons = _buttons(_run("pages/1_Maps.py", role, world))
    assert present <= buttons and not buttons & absent


def test_an_editor_saves_snapshots_but_restores_and_deletes_are_for_admins(world):
    at = _run("pages/2_Map_studio.py", "editor", world, tab="Versions")
    assert "Save snapshot" in _buttons(at)
    assert not _buttons(at) & {"Restore", "Delete snapshot"}
    at = _run("pages/2_Map_studio.py", "admin", world, tab="Versions")
    assert {"Save snapshot", "Restore", "Delete snapshot"} <= _buttons(at)


def test_a_viewer_sees_the_role_in_the_sidebar(world):
    at = _run("app.py", "viewer", world)
    assert any("Signed in as Val (viewer)" in c.value for c in at.sidebar.caption)


def test_the_edits_of_a_signed_in_editor_are_on_the_versions_tab(world):
    at = _run("pages/1_Maps.py", "editor", world)
    form = next(f for f in at.text_input if f.label == "New name")
    form.set_value("Renamed by Eddie")
    next(b for b in at.button if b.label == "Rename").click()
    at.run()
    assert not at.exception
    at = _run("pages/2_Map_studio.py", "admin", world, tab="Versions")
    trail = at.dataframe[-1].value
    assert trail.iloc[0]["Who"] == "eddie@example.com"
    assert trail.iloc[0]["Summary"] == "update map 'Renamed by Eddie'"
    assert "Download the change log (CSV)" in {b.label for b in at.get("download_button")}


@pytest.mark.parametrize(("role", "deletes"), [("editor", False), ("admin", True)])
def test_data_page_links_for_editors_deletes_for_admins(world, role, deletes):
    at = _run("pages/4_Data.py", role, world, data_tab="Datasets and links")
    buttons = _buttons(at)
    assert "Save links" in buttons
    assert ("Delete dataset" in buttons) is deletes


def test_empty_states_tell_a_viewer_who_can_fill_them(world):
    # A viewer has no "Add a metric" tab and no Change control: the empty states do not send them there.
    at = _run("pages/8_Metrics.py", "viewer", world)
    said = [i.value for i in at.info]
    assert "This map has no metrics yet: an editor of this map can add them." in said, said
    assert not any("**Add a metric**" in s for s in said)
    editor = _run("pages/8_Metrics.py", "editor", world)
    assert "This map has no metrics yet: add one in **Add a metric**." in [i.value for i in editor.info]
