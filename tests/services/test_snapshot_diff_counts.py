"""What changed since a snapshot counts every item added or removed, those of an added or removed stage or
touchpoint too (the Versions tab once showed "stage added 1" and no line for the touchpoint added to it)."""

from __future__ import annotations

from services import map_edits, map_view, snapshots
from services.map_edits import RowEdits
from tests.studio_factory import filled_map


def _rows(diff, change):
    return {(r.area, r.item) for r in diff.itertuples(index=False) if r.change == change}


def _snapshot_then_qbr_in_a_new_stage():
    """A filled map's snapshot, then a stage "Expansion" added with a touchpoint "QBR":
    ``(filled, snapshot id, stage id, QBR's id, the last save)``."""
    filled = filled_map()
    snap = snapshots.create_snapshot(filled.map_id, "Before")
    view = map_view.get_map_view(filled.map_id)
    saved = map_edits.add_stage(filled.map_id, "Expansion", expected_version=view.version)
    stage_id = saved.ids[0]
    saved = map_edits.add_touchpoint(filled.map_id, stage_id, "QBR", expected_version=saved.version)
    return filled, snap, stage_id, saved.ids[0], saved


def test_a_touchpoint_added_to_an_added_stage_is_counted_and_named(engine):
    filled, snap, _stage_id, _qbr, _saved = _snapshot_then_qbr_in_a_new_stage()
    assert sum(len(s.touchpoints) for s in map_view.get_map_view(filled.map_id).stages) == 9  # 8 before

    diff = snapshots.diff_since_snapshot(snap)
    summary = snapshots.summarise_diff(diff).set_index("area")
    assert summary.loc["stage", "added"] == 1
    assert summary.loc["touchpoint", "added"] == 1
    assert ("touchpoint", "Expansion › QBR") in _rows(diff, "added")
    stage = diff[(diff["area"] == "stage") & (diff["change"] == "added")].iloc[0]
    assert (stage["item"], stage["after"]) == ("Expansion", "1 touchpoint")


def test_the_cells_and_items_of_an_added_stage_and_touchpoint_show_as_added(engine):
    filled, snap, stage_id, qbr, saved = _snapshot_then_qbr_in_a_new_stage()
    v = map_edits.add_touchpoint(filled.map_id, stage_id, "Renewal call", expected_version=saved.version).version
    v = map_edits.set_lane_cell(
        filled.map_id, stage_id=stage_id, touchpoint_id=None, lane="doing", text="Reviews usage", expected_version=v
    ).version
    v = map_edits.set_lane_cell(
        filled.map_id, stage_id=stage_id, touchpoint_id=qbr, lane="thinking", text="Worth it?", expected_version=v
    ).version
    v = map_edits.apply_pain_point_edits(
        filled.map_id,
        RowEdits(added=[{"touchpoint_id": qbr, "description": "No usage data", "severity": 4}]),
        expected_version=v,
    ).version
    v = map_edits.apply_opportunity_edits(
        filled.map_id,
        RowEdits(added=[{"stage_id": stage_id, "description": "Usage report", "effort": 2}]),
        expected_version=v,
    ).version
    map_edits.apply_action_edits(
        filled.map_id, RowEdits(added=[{"touchpoint_id": qbr, "action": "Build the QBR deck"}]), expected_version=v
    )

    diff = snapshots.diff_since_snapshot(snap)
    assert _rows(diff, "added") == {
        ("stage", "Expansion"),
        ("touchpoint", "Expansion › QBR"),
        ("touchpoint", "Expansion › Renewal call"),
        ("lane cell", "Expansion · doing"),
        ("lane cell", "Expansion › QBR · thinking"),
        ("pain point", "Expansion › QBR · No usage data"),
        ("opportunity", "Expansion · Usage report"),
        ("action", "Build the QBR deck"),
    }
    assert not _rows(diff, "removed") and not _rows(diff, "changed") and not _rows(diff, "moved")
    stage = diff[(diff["area"] == "stage") & (diff["change"] == "added")].iloc[0]
    assert stage["after"] == "2 touchpoints"
    summary = snapshots.summarise_diff(diff).set_index("area")
    assert summary["added"].to_dict() == {
        "stage": 1,
        "touchpoint": 2,
        "lane cell": 2,
        "pain point": 1,
        "opportunity": 1,
        "action": 1,
    }


def test_the_touchpoints_cells_and_items_of_a_removed_stage_show_as_removed(engine):
    filled = filled_map()
    snap = snapshots.create_snapshot(filled.map_id, "Before")
    view = map_view.get_map_view(filled.map_id)
    consideration = view.stages[1]  # its "Demo" holds three lane cells, a pain point and an opportunity
    map_edits.apply_stage_edits(filled.map_id, RowEdits(deleted=[consideration.id]), expected_version=view.version)

    diff = snapshots.diff_since_snapshot(snap)
    removed = _rows(diff, "removed")
    tps = {("touchpoint", f"Consideration › {t.name}") for t in consideration.touchpoints}
    assert len(tps) == 2 and tps <= removed
    assert {
        ("stage", "Consideration"),
        ("lane cell", "Consideration › Demo · feeling"),
        ("lane cell", "Consideration › Demo · feeling · Dana"),
        ("lane cell", "Consideration › Demo · thinking · Sam"),
        ("pain point", "Consideration › Demo · Demo slots two weeks out"),
        ("opportunity", "Consideration › Demo · Self-serve demo"),
    } <= removed
    stage = diff[(diff["area"] == "stage") & (diff["change"] == "removed")].iloc[0]
    assert (stage["before"], stage["after"]) == ("2 touchpoints", "")
    summary = snapshots.summarise_diff(diff).set_index("area")
    assert summary.loc["touchpoint", "removed"] == 2 and summary.loc["lane cell", "removed"] == 3
    assert not _rows(diff, "added")


def test_a_stage_of_one_touchpoint_says_touchpoint_in_the_singular():
    old = {"map": {"name": "M"}, "stages": []}
    new = {
        "map": {"name": "M"},
        "stages": [
            {"ref": "s1", "name": "Solo", "touchpoints": [{"ref": "t1", "name": "Call"}]},
            {"ref": "s2", "name": "Empty", "touchpoints": []},
        ],
    }
    diff = snapshots.compute_map_diff(old, new)
    stages = diff[diff["area"] == "stage"].set_index("item")["after"].to_dict()
    assert stages == {"Solo": "1 touchpoint", "Empty": "0 touchpoints"}
    assert ("touchpoint", "Solo › Call") in _rows(diff, "added")


def _doc(stages, cells):
    return {"map": {"name": "M"}, "stages": stages, "lane_cells": cells, "pain_points": [], "personas": []}


def test_a_stage_renamed_without_ids_keeps_its_whole_stage_cells_unchanged():
    # A comparison of two maps (no ids): stage "A" renamed "A renamed", its touchpoints and its whole-stage
    # feeling cell as they were. Before: the cell counted removed under "A" and added under "A renamed".
    old = _doc(
        [{"ref": "s1", "name": "A", "touchpoints": [{"ref": "t1", "name": "Call"}, {"ref": "t2", "name": "Mail"}]}],
        [{"stage": "s1", "touchpoint": None, "persona": None, "lane": "feeling", "text": "", "emotion": 1}],
    )
    new = _doc(
        [
            {
                "ref": "s9",
                "name": "A renamed",
                "touchpoints": [{"ref": "t8", "name": "Call"}, {"ref": "t9", "name": "Mail"}],
            }
        ],
        [{"stage": "s9", "touchpoint": None, "persona": None, "lane": "feeling", "text": "", "emotion": 1}],
    )
    diff = snapshots.compute_map_diff(old, new)
    assert set(diff["area"]) == {"stage", "touchpoint"}, diff
    assert _rows(diff, "moved") == {("touchpoint", "A renamed › Call"), ("touchpoint", "A renamed › Mail")}
    # A cell that did change under the renamed stage is one changed row, not a removal and an addition.
    new["lane_cells"][0]["emotion"] = -1
    cells = snapshots.compute_map_diff(old, new).query("area == 'lane cell'")
    assert list(cells["change"]) == ["changed"], cells
    # Two stages whose touchpoints went to one new stage: no rename is guessed; the cells are removed.
    old["stages"].append({"ref": "s2", "name": "B", "touchpoints": [{"ref": "t3", "name": "Chat"}]})
    new["stages"][0]["touchpoints"].append({"ref": "t7", "name": "Chat"})
    old["lane_cells"].append({"stage": "s2", "touchpoint": None, "persona": None, "lane": "doing", "text": "x"})
    diff = snapshots.compute_map_diff(old, new)
    assert ("lane cell", "B · doing") in _rows(diff, "removed"), diff
