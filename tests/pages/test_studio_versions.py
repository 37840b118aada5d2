"""The Map studio's Versions tab through AppTest: what changed since a snapshot reads as people read it
(column headers, counts, the touchpoint added to an added stage, times in UTC), and its CSV keeps the
machine names."""

from __future__ import annotations

import re

import pytest

from services import map_edits, map_view, snapshots
from tests.pages.conftest import run_page
from tests.studio_factory import filled_map

PAGE = "pages/2_Map_studio.py"


@pytest.fixture(autouse=True)
def _no_demo(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")  # a small map of the test's own


@pytest.fixture
def downloads(monkeypatch) -> list[dict]:
    """Every ``st.download_button`` the page draws: its label, file name and bytes."""
    import streamlit

    seen: list[dict] = []
    original = streamlit.download_button

    def record(label, data, file_name=None, mime=None, **kwargs):
        seen.append({"label": label, "file_name": file_name, "data": data})
        return original(label, data, file_name=file_name, mime=mime, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", record)
    return seen


def test_the_changes_since_a_snapshot_read_as_people_read_them(engine, downloads):
    filled = filled_map("Studio map")
    snap = snapshots.create_snapshot(filled.map_id, "Baseline")
    view = map_view.get_map_view(filled.map_id)
    saved = map_edits.add_stage(filled.map_id, "Expansion", expected_version=view.version)
    map_edits.add_touchpoint(filled.map_id, saved.ids[0], "QBR", expected_version=saved.version)

    at = run_page(PAGE, query={"map": str(filled.map_id), "tab": "Versions", "snapshot": str(snap)})
    assert not at.error, [e.value for e in at.error]
    frames = {tuple(d.value.columns): d.value for d in at.dataframe}

    listed = frames[("Snapshot", "Saved", "Map version", "Stages", "Touchpoints")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", listed.iloc[0]["Saved"]), listed.iloc[0]["Saved"]

    summary = frames[("Area", "Added", "Removed", "Changed", "Moved")].set_index("Area")
    assert summary.loc["stage", "Added"] == "1"
    assert summary.loc["touchpoint", "Added"] == "1"

    detail = frames[("Area", "Change", "Item", "Field", "Before", "After")]
    rows = set(zip(detail["Area"], detail["Change"], detail["Item"], detail["After"], strict=True))
    assert ("stage", "added", "Expansion", "1 touchpoint") in rows
    assert ("touchpoint", "added", "Expansion › QBR", "") in rows

    # The CSV keeps the machine names, as the change log's CSV does.
    csv = next(d for d in downloads if d["label"] == "Download the changes since this snapshot (CSV)")
    header = csv["data"].decode("utf-8-sig").splitlines()[0]
    assert header == "area,change,item,field,before,after"
