"""Refusals a map keeps whichever way its content comes in (by hand, by edit, by import, by snapshot):

- a metric's value or target off its kind's scale (NPS −100..100; CSAT, FCR, conversion 0..100;
  retention ≥ 0) is refused naming the metric, the value and the range, in a map document as by hand;
- two touchpoints of one stage with one name (ignoring case and spaces at the ends) are refused,
  naming the stage that has it; other stages may share it;
- two snapshots of one map with one name are refused, naming the snapshot that has it; the snapshots
  saved by a restore get names of their own.

A refusal writes nothing: the database's full SQL dump is the same before and after.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from core.errors import BadInputError
from db import crud
from db.engine import write_session
from db.models import MetricValue, Stage
from services import map_edits, map_io, map_view, snapshots
from services import metrics as metric_service
from services.map_edits import RowEdits
from services.maps import create_map_from_template


@pytest.fixture
def map_id(engine) -> int:
    return create_map_from_template(template_key="b2b-4-stage", name="Scales and names", owner="Ops")


def _refused_import(doc: Any, dump: Callable[[], str]) -> str:
    """Import ``doc``: it must be refused with nothing written. Returns the refusal's text."""
    before = dump()
    with pytest.raises(BadInputError) as refused:
        map_io.import_map_document(doc)
    assert dump() == before
    return str(refused.value)


def _metric_document(map_id: int, kind: str) -> dict[str, Any]:
    """The map's document holding one metric of ``kind`` (named after the kind) with one value."""
    metric_id = metric_service.create_metric(map_id=map_id, kind=kind, name=f"Our {kind}")
    metric_service.set_metric_value(metric_id, "2026-01", 10)
    return map_io.export_map_document(map_id)


# --------------------------------------------------------------------------- metric scales in a map document


@pytest.mark.parametrize(
    ("kind", "number", "scale"),
    [
        ("nps", 250, "from -100 to 100"),
        ("nps", -100.5, "from -100 to 100"),
        ("csat", 120, "from 0 to 100"),
        ("fcr", -1, "from 0 to 100"),
        ("conversion", 100.1, "from 0 to 100"),
        ("retention", -3, "of 0 or more"),
    ],
)
@pytest.mark.parametrize("where", ["value", "target"])
def test_an_imported_value_or_target_off_the_scale_is_refused_and_nothing_is_written(
    map_id, dump, kind, number, scale, where
):
    doc = _metric_document(map_id, kind)
    metric = doc["metrics"][0]
    if where == "value":
        metric["values"][0]["value"] = number
        path, words = "metrics[0].values[0].value", f"Our {kind} value for 2026-01"
    else:
        metric["target"] = number
        path, words = "metrics[0].target", f"Our {kind} target"
    text = _refused_import(doc, dump)
    # The metric (its name and its kind's scale), the value and the range, in the hand entry's words.
    assert text.startswith(f"{path} ({words}): {number!r} is not valid; expected a number {scale}")  # 250, not 250.0
    assert f"the scale of {metric_service.DEFAULT_NAMES[kind]}" in text
    with pytest.raises(BadInputError, match=scale):  # checked alone too (the page's "check the file")
        map_io.parse_map_document(doc)


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        ("nps", -100),
        ("nps", 100),
        ("csat", 0),
        ("conversion", 100),
        ("retention", 130),  # returning accounts: a retention rate can exceed 100
        ("ces", 9),
        ("clv", -5000),
        ("custom", 1e9),
    ],
)
def test_an_imported_value_and_target_on_the_scale_or_of_an_unbounded_kind_are_kept(map_id, kind, number):
    doc = _metric_document(map_id, kind)
    doc["metrics"][0]["values"][0]["value"] = number
    doc["metrics"][0]["target"] = number
    (metric,) = map_view.get_map_view(map_io.import_map_document(doc)).metrics
    assert metric.target == number and [v.value for v in metric.values] == [number]


def test_a_target_off_the_scale_is_refused_by_hand_as_in_a_document(map_id):
    """The import and the hand entry refuse the same targets in the same words."""
    with pytest.raises(BadInputError, match=r"^Promoters target: 250 is not valid; expected a number from -100"):
        metric_service.create_metric(map_id=map_id, kind="nps", name="Promoters", target=250)
    assert not metric_service.list_metrics(map_id)
    metric_id = metric_service.create_metric(map_id=map_id, kind="csat", name="Satisfaction", target=80)
    with pytest.raises(BadInputError, match=r"^Satisfaction target: 101 is not valid; expected a number from 0"):
        metric_service.update_metric(metric_id, target=101)
    assert metric_service.get_metric(metric_id).target == 80
    metric_service.update_metric(metric_id, target=100)
    assert metric_service.get_metric(metric_id).target == 100


# --------------------------------------------------------------------------- touchpoint names within a stage


def test_a_touchpoint_name_its_stage_has_already_is_refused_on_add_rename_and_move(map_id, dump):
    view = map_view.get_map_view(map_id)
    first, second = view.stages[0], view.stages[1]
    taken, other = first.touchpoints[0], first.touchpoints[1]
    before = dump()
    expected = f"a name no other touchpoint of stage “{first.name}” has (“{taken.name}” is taken)"
    with pytest.raises(BadInputError, match=f"^touchpoint name: .* is not valid; expected {re.escape(expected)}"):
        map_edits.add_touchpoint(map_id, first.id, f"  {taken.name.upper()} ", expected_version=view.version)
    with pytest.raises(BadInputError, match=re.escape(expected)):
        map_edits.apply_touchpoint_edits(
            map_id, RowEdits(updated={other.id: {"name": taken.name.lower()}}), expected_version=view.version
        )
    # A touchpoint of another stage moved in with the name.
    mover = second.touchpoints[0]
    with pytest.raises(BadInputError, match=re.escape(expected)):
        map_edits.apply_touchpoint_edits(
            map_id,
            RowEdits(updated={mover.id: {"stage_id": first.id, "name": taken.name}}),
            expected_version=view.version,
        )
    # Two new ones with one name in one save.
    with pytest.raises(
        BadInputError, match=re.escape(f"no other touchpoint of stage “{first.name}” has (“Podcast” is taken")
    ):
        map_edits.apply_touchpoint_edits(
            map_id,
            RowEdits(added=[{"stage_id": first.id, "name": "Podcast"}, {"stage_id": first.id, "name": "podcast"}]),
            expected_version=view.version,
        )
    assert dump() == before


def test_another_stage_may_share_a_touchpoint_name_and_two_names_may_swap(map_id):
    view = map_view.get_map_view(map_id)
    first, second = view.stages[0], view.stages[1]
    a, b = first.touchpoints[0], first.touchpoints[1]
    v = map_edits.add_touchpoint(map_id, second.id, a.name, expected_version=view.version).version
    # Checked once all the edits are made: swapping two names in one save is fine.
    swap = RowEdits(updated={a.id: {"name": b.name}, b.id: {"name": a.name}})
    v = map_edits.apply_touchpoint_edits(map_id, swap, expected_version=v).version
    # Other fields of a touchpoint change freely; renaming to a new case of its own name is fine.
    map_edits.apply_touchpoint_edits(
        map_id, RowEdits(updated={a.id: {"channel": "web", "name": b.name.upper()}}), expected_version=v
    )
    after = map_view.get_map_view(map_id)
    assert [t.name for t in after.stages[0].touchpoints[:2]] == [b.name.upper(), a.name]
    assert a.name in [t.name for t in after.stages[1].touchpoints]


def test_an_imported_stage_with_two_touchpoints_of_one_name_is_refused_and_nothing_is_written(map_id, dump):
    doc = map_io.export_map_document(map_id)
    stage = doc["stages"][1]
    twin = {**copy.deepcopy(stage["touchpoints"][0]), "ref": "T99", "name": f" {stage['touchpoints'][0]['name']} "}
    stage["touchpoints"].append(twin)
    at = len(stage["touchpoints"]) - 1
    text = _refused_import(doc, dump)
    assert text.startswith(f"stages[1].touchpoints[{at}].name: ")
    assert f"a name no other touchpoint of stage “{stage['name']}” has" in text
    assert f"(“{stage['touchpoints'][0]['name']}” is taken)" in text
    # The same name in another stage is fine.
    doc["stages"][1]["touchpoints"].pop()
    doc["stages"][0]["touchpoints"].append({**twin, "name": stage["touchpoints"][0]["name"]})
    new_id = map_io.import_map_document(doc)
    assert stage["touchpoints"][0]["name"] in [t.name for t in map_view.get_map_view(new_id).stages[0].touchpoints]


# --------------------------------------------------------------------------- snapshot names within a map


def test_a_snapshot_name_the_map_has_already_is_refused_naming_that_snapshot(map_id, dump):
    first = snapshots.create_snapshot(map_id, "Workshop 1")
    before = dump()
    expected = f"a name no other snapshot of this map has (snapshot {first}, “Workshop 1”, has it)"
    with pytest.raises(
        BadInputError, match=re.escape(f"snapshot name: 'workshop 1' is not valid; expected {expected}")
    ):
        snapshots.create_snapshot(map_id, "  workshop 1 ")
    assert dump() == before
    # Another name, or the same name on another map, is fine.
    snapshots.create_snapshot(map_id, "Workshop 2")
    other_map = create_map_from_template(template_key="b2b-4-stage", name="Another map")
    snapshots.create_snapshot(other_map, "Workshop 1")
    assert [s.name for s in snapshots.list_snapshots(map_id)] == ["Workshop 2", "Workshop 1"]


def test_restoring_one_snapshot_again_saves_the_state_before_under_names_of_its_own(map_id):
    snap = snapshots.create_snapshot(map_id, "Good")
    # A snapshot saved by hand under the name a restore would give takes that name first.
    snapshots.create_snapshot(map_id, "Before restoring “Good”")
    names = []
    for _ in range(3):
        version = map_view.get_map_view(map_id).version
        (before_id,) = snapshots.restore_snapshot(snap, expected_version=version).ids
        names.append(snapshots.get_snapshot_summary(before_id).name)
    assert names == [
        "Before restoring “Good” (2)",
        "Before restoring “Good” (3)",
        "Before restoring “Good” (4)",
    ]
    listed = [s.name.casefold() for s in snapshots.list_snapshots(map_id)]
    assert len(listed) == len(set(listed)) == 5


def test_an_automatic_snapshot_name_stays_unique_within_the_longest_name(map_id):
    long_name = "L" * 200
    snap = snapshots.create_snapshot(map_id, long_name)
    names = []
    for _ in range(2):
        version = map_view.get_map_view(map_id).version
        (before_id,) = snapshots.restore_snapshot(snap, expected_version=version).ids
        names.append(snapshots.get_snapshot_summary(before_id).name)
    assert all(len(n) == 200 for n in names)
    assert names[0].startswith("Before restoring “LLL") and names[1].endswith("LL (2)")
    assert names[0] != names[1]


def test_two_touchpoints_that_shared_a_name_before_the_rule_do_not_block_edits_elsewhere(map_id):
    """Only the names a save gives are checked: a map saved with a shared name before this rule can
    still be edited, and the pair is told apart by renaming one of them."""
    view = map_view.get_map_view(map_id)
    first, second = view.stages[0], view.stages[1]
    with write_session() as session:
        stage = session.get(Stage, first.id)
        twin = crud.create_touchpoint(session=session, stage=stage, name=first.touchpoints[0].name, position=99)
        session.flush()
        twin_id = twin.id
    v = map_edits.add_touchpoint(map_id, second.id, "Webinar", expected_version=view.version).version
    v = map_edits.apply_touchpoint_edits(
        map_id, RowEdits(updated={first.touchpoints[1].id: {"channel": "web"}}), expected_version=v
    ).version
    map_edits.apply_touchpoint_edits(
        map_id, RowEdits(updated={twin_id: {"name": "Ads (retargeting)"}}), expected_version=v
    )
    assert "Ads (retargeting)" in [t.name for t in map_view.get_map_view(map_id).stages[0].touchpoints]


@pytest.mark.parametrize("kind", ["custom", "nps"])
@pytest.mark.parametrize("where", ["value", "target"])
@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_an_imported_value_or_target_that_is_no_finite_number_is_refused_by_its_path(map_id, dump, kind, where, word):
    """JSON text may say NaN or Infinity (Python reads them); a metric of any kind refuses them, as by hand."""
    doc = _metric_document(map_id, kind)
    doc["metrics"][0]["target"] = 1
    text = map_io.document_to_json(doc)
    spot = '"value": 10.0' if where == "value" else '"target": 1'
    assert text.count(spot) == 1
    before = dump()
    path = "metrics[0].values[0].value" if where == "value" else "metrics[0].target"
    with pytest.raises(BadInputError, match=re.escape(f"{path}: {float(word)!r} is not valid; expected a finite")):
        map_io.import_map_document(text.replace(spot, spot.split(":")[0] + f": {word}"))
    assert dump() == before


def test_a_map_saved_before_the_rules_is_restored_and_cloned_as_it_was_but_not_imported_from_a_file(map_id):
    """A snapshot or a clone is the app's own document: content that passed the checks of its day (a
    touchpoint name twice in a stage, an NPS of 250) comes back as it was; the same content in a file
    from outside is refused."""
    view = map_view.get_map_view(map_id)
    first = view.stages[0]
    metric_id = metric_service.create_metric(map_id=map_id, kind="nps", name="Our nps")
    with write_session() as session:  # as the app wrote them before the rules
        stage = session.get(Stage, first.id)
        crud.create_touchpoint(session=session, stage=stage, name=first.touchpoints[0].name, position=99)
        session.add(MetricValue(metric_id=metric_id, period="2026-01", value=250.0))
    snap = snapshots.create_snapshot(map_id, "Old")
    saved = map_io.export_map_document(map_id)
    version = map_view.get_map_view(map_id).version
    map_edits.apply_touchpoint_edits(
        map_id, RowEdits(deleted=[map_view.get_map_view(map_id).stages[0].touchpoints[-1].id]), expected_version=version
    )
    version = map_view.get_map_view(map_id).version
    snapshots.restore_snapshot(snap, expected_version=version)
    names = [t.name for t in map_view.get_map_view(map_id).stages[0].touchpoints]
    assert names.count(first.touchpoints[0].name) == 2
    assert map_io.export_map_document(map_id)["metrics"] == saved["metrics"]
    clone = snapshots.clone_as_future_state(map_id, "Later")
    assert [t.name for t in map_view.get_map_view(clone).stages[0].touchpoints] == names
    with pytest.raises(BadInputError, match="a name no other touchpoint of stage"):
        map_io.import_map_document(saved)


def test_an_imported_map_with_two_stages_of_one_name_is_refused_and_nothing_is_written(map_id, dump):
    doc = map_io.export_map_document(map_id)
    doc["stages"][1]["name"] = " " + doc["stages"][0]["name"].upper()
    taken = doc["stages"][0]["name"]
    assert f"a name no other stage of this map has (“{taken}” is taken)" in _refused_import(doc, dump)


# --------------------------------------------------------------------------- map names


def test_a_map_name_another_map_has_is_refused_naming_it_and_nothing_is_written(map_id, dump):
    """A name a user gives (new map, rename, future-state clone, a named import, a map drafted from a
    log) that another map has, ignoring case and spaces at the ends, is refused naming that map."""
    from services.linking import draft_map_from_dataset
    from services.maps import rename_map
    from tests.factories import b2b_log, create_dataset

    other = create_map_from_template(template_key=None, name="Other")
    dataset_id = create_dataset(b2b_log(journeys=5), name="log")
    doc = map_io.export_map_document(other)
    expected = f"a name no other map has (“Scales and names” is map {map_id})"
    before = dump()
    for attempt in (
        lambda: create_map_from_template(template_key="b2b-4-stage", name=" scales AND names "),
        lambda: rename_map(other, "SCALES and names", expected_version=None),
        lambda: map_edits.update_map_details(other, expected_version=None, name="Scales and names"),
        lambda: snapshots.clone_as_future_state(other, "Scales and names"),
        lambda: map_io.import_map_document(doc, name="scales and names"),
        lambda: draft_map_from_dataset(dataset_id, "Scales and names"),
    ):
        with pytest.raises(BadInputError, match=re.escape(expected)):
            attempt()
    assert dump() == before
    # A map keeps its own name under another case, and a free name is taken as given.
    rename_map(map_id, "SCALES AND NAMES", expected_version=None)
    assert map_view.get_map_view(map_id).name == "SCALES AND NAMES"
    rename_map(other, "Scales and names 2", expected_version=None)


def test_a_files_map_name_another_map_has_is_numbered_and_said(map_id):
    """A map file imported where its name is taken (the same file twice, a colleague's copy) is told
    apart by " (2)" … and the import says so; a restored snapshot's name likewise."""
    text = map_io.export_map_json(map_id)
    first = map_io.import_map_file(text)
    second = map_io.import_map_file(text.encode())
    assert (first.name, second.name) == ("Scales and names (2)", "Scales and names (3)")
    assert first.note() == f"a map “Scales and names” exists (map {map_id}): imported as “Scales and names (2)”"
    assert map_io.import_map_file(text, name="Fresh").note() is None
    # A snapshot restored with its name, once another map has taken that name, gets a number.
    snapshot_id = snapshots.create_snapshot(map_id, "before the rename")
    map_edits.update_map_details(map_id, expected_version=None, name="Renamed")
    create_map_from_template(template_key=None, name="SCALES and names")
    snapshots.restore_snapshot(snapshot_id, expected_version=None)
    assert map_view.get_map_view(map_id).name == "Scales and names (4)"
