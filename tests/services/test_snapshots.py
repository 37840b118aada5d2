"""Snapshots (save, what changed since, restore), future-state clones and map comparison."""

from __future__ import annotations

import pytest

from core.errors import BadInputError, ConflictError, UnknownNameError
from services import map_edits, map_io, map_view, snapshots
from services.map_edits import RowEdits
from tests.studio_factory import filled_map


def _changes(diff):
    return {(r.area, r.change, r.item, r.field) for r in diff.itertuples(index=False)}


def test_snapshot_does_not_change_the_map_and_lists_newest_first(engine):
    filled = filled_map()
    first = snapshots.create_snapshot(filled.map_id, "Workshop 1")
    second = snapshots.create_snapshot(filled.map_id, "Workshop 2")
    assert map_view.get_map_view(filled.map_id).version == filled.version
    listed = snapshots.list_snapshots(filled.map_id)
    assert [s.id for s in listed] == [second, first]
    assert (listed[0].stages, listed[0].touchpoints, listed[0].map_version) == (4, 8, filled.version)
    assert snapshots.get_snapshot_document(first) == map_io.export_map_document(filled.map_id)
    with pytest.raises(BadInputError):
        snapshots.create_snapshot(filled.map_id, "  ")


def test_diff_since_snapshot_names_each_change(engine):
    filled = filled_map()
    snap = snapshots.create_snapshot(filled.map_id, "Before")
    assert snapshots.diff_since_snapshot(snap).empty
    view = map_view.get_map_view(filled.map_id)
    awareness, consideration, decision, retention = view.stages
    blog = awareness.touchpoints[1]
    v = map_edits.apply_stage_edits(
        filled.map_id,
        RowEdits(
            updated={consideration.id: {"name": "Evaluate"}, retention.id: {"position": 0}},
            added=[{"name": "Onboarding"}],
            deleted=[decision.id],
        ),
        expected_version=view.version,
    ).version
    v = map_edits.apply_touchpoint_edits(
        filled.map_id,
        RowEdits(
            updated={blog.id: {"stage_id": consideration.id, "name": "Blog posts"}},
            added=[{"stage_id": awareness.id, "name": "Podcast"}],
        ),
        expected_version=v,
    ).version
    v = map_edits.set_lane_cell(
        filled.map_id, stage_id=awareness.id, touchpoint_id=None, lane="doing", text="Reads a lot", expected_version=v
    ).version
    v = map_edits.apply_pain_point_edits(
        filled.map_id,
        RowEdits(updated={next(p.id for p in view.pain_points if p.severity == 5): {"severity": 3}}),
        expected_version=v,
    ).version
    v = map_edits.apply_pain_point_edits(
        filled.map_id,
        RowEdits(added=[{"stage_id": awareness.id, "description": "Too many ads", "severity": 4}]),
        expected_version=v,
    ).version
    v = map_edits.update_map_details(filled.map_id, expected_version=v, owner="Bea").version
    diff = snapshots.diff_since_snapshot(snap)
    # An added item says what it holds, not an empty before and after.
    added = diff[(diff["area"] == "pain point") & (diff["change"] == "added")].iloc[0]
    assert (added["item"], added["before"], added["after"]) == ("Awareness · Too many ads", "", "severity: 4")
    changes = _changes(diff)
    assert ("map", "changed", "Filled", "owner") in changes
    assert ("stage", "changed", "Evaluate", "name") in changes
    assert ("stage", "moved", "Retention", "position") in changes
    assert ("stage", "removed", "Decision", "") in changes
    assert ("stage", "added", "Onboarding", "") in changes
    assert ("touchpoint", "changed", "Evaluate › Blog posts", "name") in changes
    assert ("touchpoint", "moved", "Evaluate › Blog posts", "stage") in changes
    assert ("touchpoint", "added", "Awareness › Podcast", "") in changes
    assert ("lane cell", "changed", "Awareness · doing", "text") in changes
    assert ("pain point", "changed", "Evaluate › Demo · Demo slots two weeks out", "severity") in changes
    # The touchpoints of the removed stage are removed too, each on a line of its own, named by their old place.
    removed = {c[2] for c in changes if c[:2] == ("touchpoint", "removed")}
    assert removed == {"Decision › Pricing page", "Decision › Sales rep"}
    summary = snapshots.summarise_diff(snapshots.diff_since_snapshot(snap)).set_index("area")
    assert summary.loc["stage", "added"] == 1 and summary.loc["stage", "removed"] == 1
    assert summary.loc["touchpoint", "removed"] == 2


def test_restore_brings_back_the_snapshot_and_saves_the_state_before(engine):
    filled = filled_map()
    original = map_io.export_map_document(filled.map_id)
    snap = snapshots.create_snapshot(filled.map_id, "Good")
    view = map_view.get_map_view(filled.map_id)
    v = map_edits.apply_stage_edits(
        filled.map_id, RowEdits(deleted=[view.stages[1].id]), expected_version=view.version
    ).version
    v = map_edits.update_map_details(filled.map_id, expected_version=v, name="Renamed").version
    changed = map_io.export_map_document(filled.map_id)
    saved = snapshots.restore_snapshot(snap, expected_version=v, keep_name=True)
    assert saved.version == v + 1
    restored = map_io.export_map_document(filled.map_id)
    assert restored["stages"] == original["stages"] and restored["lane_cells"] == original["lane_cells"]
    assert restored["map"]["name"] == "Renamed"  # kept
    assert snapshots.diff_since_snapshot(snap)[lambda d: d["area"] != "map"].empty
    # The personas are the same rows, not copies.
    assert [p.id for p in map_view.get_map_view(filled.map_id).personas] == sorted(filled.persona_ids)
    # The state before the restore was saved and can itself be restored.
    before = saved.ids[0]
    assert snapshots.get_snapshot_document(before)["stages"] == changed["stages"]
    with pytest.raises(ConflictError):
        snapshots.restore_snapshot(before, expected_version=v)


def test_clone_into_future_state_and_compare(engine):
    filled = filled_map()
    future = snapshots.clone_as_future_state(filled.map_id, "Filled (future)")
    fview = map_view.get_map_view(future)
    assert (fview.state, fview.parent_map_id) == ("future", filled.map_id)
    assert [p.id for p in fview.personas] == sorted(filled.persona_ids)
    assert snapshots.compare_maps(filled.map_id, future).empty  # same journey
    assert snapshots.list_related_maps(future) == [(filled.map_id, "Filled", "cloned from")]
    assert snapshots.list_related_maps(filled.map_id) == [(future, "Filled (future)", "future state")]
    demo = fview.stages[1].touchpoints[1]
    v = map_edits.apply_touchpoint_edits(
        future, RowEdits(updated={demo.id: {"name": "Instant demo"}}, added=[{"stage_id": fview.stages[1].id, "name": "Sandbox"}]),
        expected_version=fview.version,
    ).version  # fmt: skip
    map_edits.set_lane_cell(
        future,
        stage_id=demo.stage_id,
        touchpoint_id=demo.id,
        lane="feeling",
        emotion=2,
        set_emotion=True,
        text="Delighted",
        expected_version=v,
    )
    diff = snapshots.compare_maps(filled.map_id, future)
    changes = _changes(diff)
    # Matched by name across maps: a renamed touchpoint is one removed and one added.
    assert ("touchpoint", "removed", "Consideration › Demo", "") in changes
    assert ("touchpoint", "added", "Consideration › Instant demo", "") in changes
    assert ("touchpoint", "added", "Consideration › Sandbox", "") in changes
    assert not any(c[0] == "map" and c[3] in ("name", "state") for c in changes)
    # The original is untouched.
    assert map_view.get_map_view(filled.map_id).version == filled.version
    with pytest.raises(BadInputError):
        snapshots.compare_maps(future, future)


def test_snapshot_errors(engine):
    with pytest.raises(UnknownNameError, match=r"There is no snapshot 12345 \(no snapshot yet\)"):
        snapshots.diff_since_snapshot(12345)
    filled = filled_map()
    with pytest.raises(UnknownNameError, match=rf"There is no map 999; existing: '{filled.map_id} "):
        snapshots.create_snapshot(999, "x")
    snap = snapshots.create_snapshot(filled.map_id, "x")
    snapshots.delete_snapshot(snap)
    assert snapshots.list_snapshots(filled.map_id) == []
