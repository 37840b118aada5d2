"""Map export (JSON, CSV, Mermaid) and JSON import: formats, neutralised CSV, clear errors, nothing written."""

from __future__ import annotations

import copy
import io
import json
import re

import pandas as pd
import pytest

from core.errors import BadInputError
from services import map_edits, map_io, map_mermaid, map_view
from services.map_edits import RowEdits
from services.maps import create_map_from_template, list_map_summaries
from tests.studio_factory import filled_map


def _named(doc: dict, name: str) -> dict:
    """``doc`` with its map named ``name`` (a document imported where its name is taken is numbered)."""
    return {**doc, "map": {**doc["map"], "name": name}}


def test_json_export_is_complete_and_import_gives_back_an_identical_map(engine):
    filled = filled_map()
    doc = map_io.export_map_document(filled.map_id)
    assert doc["format"] == "journeylens-map" and doc["format_version"] == 1
    assert [p["name"] for p in doc["personas"]] == ["Dana", "Sam"]
    assert [s["ref"] for s in doc["stages"]] == ["S1", "S2", "S3", "S4"]
    assert doc["stages"][1]["touchpoints"][1] == {
        "ref": "T4",
        "name": "Demo",
        "channel": "demo",
        "owner_team": "Sales",
        "responsible": "Sales",
        "accountable": "",
        "consulted": "",
        "informed": "",
        "moment_of_truth": True,
        "activity_names": ["Demo"],
    }
    assert {
        "stage": "S2",
        "touchpoint": "T4",
        "persona": "P1",
        "lane": "feeling",
        "text": "Worried about cost",
        "emotion": -1,
    } in doc["lane_cells"]
    assert len(doc["pain_points"]) == 2 and len(doc["opportunities"]) == 3 and len(doc["actions"]) == 2
    text = map_io.export_map_json(filled.map_id)
    new_id = map_io.import_map_document(text.encode("utf-8-sig"))  # a BOM is fine
    assert new_id != filled.map_id
    assert map_io.export_map_document(new_id) == _named(doc, "Filled (2)")  # the name is taken: numbered
    # Personas with identical fields are reused, not duplicated.
    assert [p.id for p in map_view.get_map_view(new_id).personas] == sorted(filled.persona_ids)


def test_import_can_rename(engine):
    filled = filled_map()
    new_id = map_io.import_map_document(map_io.export_map_json(filled.map_id), name="Copy")
    assert map_view.get_map_view(new_id).name == "Copy"


def test_csv_has_one_row_per_cell_and_neutralises_formulas(engine):
    filled = filled_map()
    view = map_view.get_map_view(filled.map_id)
    demo = view.stages[1].touchpoints[1]
    map_edits.set_lane_cell(
        filled.map_id, stage_id=demo.stage_id, touchpoint_id=demo.id, lane="doing",
        text="=HYPERLINK(\"http://evil\")", expected_version=filled.version,
    )  # fmt: skip
    view = map_view.get_map_view(filled.map_id)
    cells = map_io.compute_map_cells(view)
    expected_rows = (
        sum(1 for s in view.stages if s.customer_goal)
        + sum(1 for s in view.stages if s.business_goal)
        + len(view.touchpoints)
        + len(view.lane_cells)
        + len(view.pain_points)
        + len(view.opportunities)
        + len(view.actions)
    )
    assert len(cells) == expected_rows
    assert list(cells.columns) == map_io.CSV_COLUMNS
    row = cells[(cells["item"] == "feeling") & (cells["persona"] == "Dana")].iloc[0]
    assert (row["stage"], row["touchpoint"], row["emotion"], row["moment_of_truth"]) == (
        "Consideration",
        "Demo",
        -1,
        True,
    )
    opp = cells[cells["item"] == "opportunity"].set_index("text")
    assert opp.loc["Self-serve demo", "priority"] == pytest.approx(3.0)
    raw = map_io.export_map_csv(filled.map_id)
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert '\'=HYPERLINK("http://evil")' in back["text"].tolist()
    assert not any(v.startswith(("=", "+", "@")) for v in back["text"])
    # Numbers stay numbers (−1 is not neutralised).
    assert "-1" in back["emotion"].tolist()


def _unlabel(label: str) -> str:
    """Mermaid's reading of a quoted label: entity codes back to characters, ``<br>`` back to a line break."""
    assert label.startswith('"') and label.endswith('"') and '"' not in label[1:-1], label
    text = label[1:-1].replace("<br>", "\n")
    codes = re.findall(r"#(\w+);", text)
    names = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}
    for code in codes:
        text = text.replace(f"#{code};", names[code] if code in names else chr(int(code)), 1)
    return text


def _label_of(lines: list[str], node: str) -> str:
    line = next(line.strip() for line in lines if line.strip()[: len(node) + 1] in (node + "[", node + ">", node + "("))
    return re.search(r'"[^"]*"', line).group(0)


def test_mermaid_flowchart_has_stages_touchpoints_pain_points_and_personas(engine):
    filled = filled_map()
    view = map_view.get_map_view(filled.map_id)
    text = map_mermaid.export_map_mermaid(filled.map_id)
    lines = text.splitlines()
    assert lines[:4] == ["---", 'title: "Filled"', "---", "flowchart LR"]
    # A subgraph per stage, in order, linked stage to stage.
    assert [_unlabel(_label_of(lines, f"subgraph S{s.id}")) for s in view.stages] == [s.name for s in view.stages]
    for a, b in zip(view.stages, view.stages[1:], strict=False):
        assert f"    S{a.id} --> S{b.id}" in lines
    demo = next(t for t in view.touchpoints if t.name == "Demo")
    # Demo: everyone feels +2; a moment of truth is starred; its owner team is shown.
    assert _unlabel(_label_of(lines, f"T{demo.id}")) == "★ Demo\nSales · emotion +2 (−2..+2)"
    blog = next(t for t in view.touchpoints if t.name == "Blog")
    assert _unlabel(_label_of(lines, f"T{blog.id}")) == "Blog\nMarketing · emotion +1 (−2..+2)"  # its stage's +1
    # Every pain point is there, with its severity, its persona and a link to its touchpoint.
    assert view.pain_points
    for p in view.pain_points:
        label = _unlabel(_label_of(lines, f"P{p.id}"))
        assert label.startswith(f"Pain (severity {p.severity}/5)") and label.endswith(p.description)
        if p.persona_id is not None:
            assert next(r.name for r in view.personas if r.id == p.persona_id) in label
        if p.touchpoint_id is not None:
            assert f"        T{p.touchpoint_id} -.- P{p.id}" in lines
    # Every persona, with its committee role.
    assert len(view.personas) == 2
    for r in view.personas:
        assert _unlabel(_label_of(lines, f"R{r.id}")).split("\n")[0] == r.name
    assert "Dana\ndecision maker" in [_unlabel(_label_of(lines, f"R{r.id}")) for r in view.personas]
    assert text.count("subgraph ") == text.count("    end") == len(view.stages) + 1


AWKWARD = [
    'Map: "one"; #1 [draft] (v2) {x} a|b <tag> `code` & co',
    "Line one\nline two",
    "#quot; literally",
    "end",
]


@pytest.mark.parametrize("title", AWKWARD)
def test_mermaid_keeps_awkward_titles_intact(engine, title):
    map_id = create_map_from_template(template_key=None, name=title.replace("\n", " "))
    view = map_view.get_map_view(map_id)
    v = map_edits.add_stage(map_id, title.replace("\n", " ") + " stage", expected_version=view.version)
    v = map_edits.add_touchpoint(map_id, v.ids[0], title.replace("\n", " ") + " tp", expected_version=v.version)
    view = map_view.get_map_view(map_id)
    stage, tp = view.stages[0], view.stages[0].touchpoints[0]
    map_edits.apply_pain_point_edits(
        map_id,
        RowEdits(added=[{"stage_id": stage.id, "touchpoint_id": tp.id, "description": title, "severity": 4}]),
        expected_version=view.version,
    )
    view = map_view.get_map_view(map_id)
    lines = map_mermaid.export_map_mermaid(map_id).splitlines()
    assert json.loads(lines[1].removeprefix("title: ")) == view.name
    assert _unlabel(_label_of(lines, f"subgraph S{stage.id}")) == stage.name
    assert _unlabel(_label_of(lines, f"T{tp.id}")) == f"{tp.name}\nCustomer · no emotion"
    pain = view.pain_points[0]
    assert _unlabel(_label_of(lines, f"P{pain.id}")) == f"Pain (severity 4/5): {title}"
    # Nothing outside the quotes: one label per line, no stray statement separators or line breaks.
    for line in lines[4:]:
        outside = re.sub(r'"[^"]*"', "", line)
        assert ";" not in outside and "#" not in outside and "%%" not in outside, line


def test_mermaid_label_codes_special_characters():
    assert map_mermaid.mermaid_label('a "b" #c; [d]') == '"a #quot;b#quot; #35;c#59; #91;d#93;"'
    assert map_mermaid.mermaid_label("x\r\ny") == '"x<br>y"'


def _valid_doc(engine):
    return map_io.export_map_document(filled_map().map_id)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "{", "line 1, column 2"),
        (lambda d: b"\xff\xfe\x00", "UTF-8"),
        (lambda d: [1, 2], "an object"),
        (lambda d: {**d, "format": "uxpressia"}, "journeylens-map"),
        (lambda d: {}, "this JSON file has no format field, so it is not a map exported by JourneyLens"),
        (lambda d: {**d, "format_version": 7}, "format_version"),
        (lambda d: {**d, "map": {**d["map"], "name": ""}}, "map.name"),
        (lambda d: {**d, "map": {**d["map"], "review_by": "tomorrow"}}, "map.review_by"),
        (lambda d: {**d, "stages": "Awareness"}, "stages"),
        (lambda d: {**d, "stages": [{**d["stages"][0], "name": None}]}, r"stages\[0\].name"),
        (lambda d: {**d, "stages": [d["stages"][0], {**d["stages"][1], "ref": "S1"}]}, r"stages\[1\].ref"),
        (
            lambda d: _set(d, ["stages", 1, "touchpoints", 0, "moment_of_truth"], "yes"),
            r"stages\[1\].touchpoints\[0\].moment_of_truth",
        ),
        (lambda d: _set(d, ["stages", 0, "touchpoints", 0, "activity_names"], [1]), "activity_names"),
        (lambda d: _set(d, ["lane_cells", 0, "stage"], "S99"), r"lane_cells\[0\].stage"),
        (lambda d: _set(d, ["lane_cells", 0, "lane"], "mood"), r"lane_cells\[0\].lane"),
        (lambda d: _set(d, ["lane_cells", 1, "emotion"], 5), "emotion"),
        (lambda d: {**d, "lane_cells": d["lane_cells"] + [d["lane_cells"][0]]}, "one cell per stage"),
        (lambda d: _set(d, ["pain_points", 0, "severity"], 9), r"pain_points\[0\].severity"),
        (lambda d: _set(d, ["pain_points", 0, "persona"], "P9"), r"pain_points\[0\].persona"),
        (lambda d: _set(d, ["opportunities", 0, "effort"], "low"), r"opportunities\[0\].effort"),
        (lambda d: _set(d, ["opportunities", 2, "stage"], "S1"), "the stage of touchpoint"),
        (lambda d: _set(d, ["actions", 0, "due_date"], "31/01/2020"), r"actions\[0\].due_date"),
        (lambda d: _set(d, ["actions", 0, "status"], "blocked"), r"actions\[0\].status"),
        (lambda d: _set(d, ["personas", 0, "committee_role"], "boss"), r"personas\[0\].committee role"),
        (lambda d: _set(d, ["personas", 0, "is_decision_maker"], "yes"), r"personas\[0\].is_decision_maker"),
    ],
)
def test_malformed_documents_get_a_clear_error_and_nothing_is_written(engine, mutate, message):
    doc = _valid_doc(engine)
    before = list_map_summaries()
    bad = mutate(copy.deepcopy(doc))
    data = bad if isinstance(bad, str | bytes) else json.dumps(bad)
    with pytest.raises(BadInputError, match=message):
        map_io.import_map_document(data)
    assert list_map_summaries() == before


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def test_a_late_error_leaves_no_partial_map(engine):
    """Every check runs before the first write: a bad action at the end of a long file writes nothing."""
    doc = _valid_doc(engine)
    doc["actions"].append({"action": "x", "metric": "M42"})
    before = list_map_summaries()
    with pytest.raises(BadInputError, match=r"actions\[2\].metric"):
        map_io.import_map_document(doc)
    assert list_map_summaries() == before


def test_metrics_and_their_values_round_trip(engine):
    doc = _valid_doc(engine)
    doc["metrics"] = [
        {
            "ref": "M1",
            "stage": None,
            "touchpoint": "T4",
            "kind": "nps",
            "name": "Demo NPS",
            "unit": "",
            "target": 30.0,
            "direction": "higher",
            "source": "manual",
            "dataset_id": 4242,  # not in this workspace: dropped on import
            "computed_with": {"period": "quarter", "window_days": 14.0},
            "values": [
                {"period": "2026-01", "value": 12.0, "respondents": 40, "computed": False},
                {"period": "2026-02", "value": 18.5, "respondents": None, "computed": False},
            ],
        }
    ]
    doc["actions"][0]["metric"] = "M1"
    new_id = map_io.import_map_document(doc)
    out = map_io.export_map_document(new_id)
    assert out["metrics"][0]["dataset_id"] is None
    doc["metrics"][0]["dataset_id"] = None
    assert out["metrics"] == doc["metrics"] and out["actions"] == doc["actions"]
    view = map_view.get_map_view(new_id)
    assert view.actions[0].metric_id == view.metrics[0].id
    doc["metrics"][0]["computed_with"] = {"period": "week"}
    with pytest.raises(BadInputError, match=r"metrics\[0\]\.computed_with\.period"):
        map_io.import_map_document(doc)


def test_empty_map_round_trips(engine):
    map_id = create_map_from_template(template_key=None, name="Empty")
    doc = map_io.export_map_document(map_id)
    assert doc["stages"] == [] and doc["lane_cells"] == []
    assert map_io.export_map_document(map_io.import_map_document(doc)) == _named(doc, doc["map"]["name"] + " (2)")


def test_stage_without_touchpoints_and_goal_lanes(engine):
    map_id = create_map_from_template(template_key="buying-committee", name="Goals")
    view = map_view.get_map_view(map_id)
    saved = map_edits.add_stage(map_id, "Expansion", expected_version=view.version)
    map_edits.set_lane_cell(
        map_id, stage_id=view.stages[0].id, touchpoint_id=view.touchpoints[0].id, lane="your goal",
        text="Get on the shortlist", expected_version=saved.version,
    )  # fmt: skip
    doc = map_io.export_map_document(map_id)
    assert doc["stages"][-1] == {
        "ref": "S5",
        "name": "Expansion",
        "customer_goal": "",
        "business_goal": "",
        "outcomes": [],
        "revisitable": False,
        "touchpoints": [],
    }
    assert map_io.export_map_document(map_io.import_map_document(doc)) == _named(doc, doc["map"]["name"] + " (2)")


def test_rows_added_through_the_services_export_in_display_order(engine):
    """Items are exported in stage and touchpoint order whatever order they were added in."""
    map_id = create_map_from_template(template_key="b2b-4-stage", name="Order")
    view = map_view.get_map_view(map_id)
    last, first = view.touchpoints[-1], view.touchpoints[0]
    map_edits.apply_pain_point_edits(
        map_id,
        RowEdits(
            added=[
                {"touchpoint_id": last.id, "description": "late", "severity": 1},
                {"touchpoint_id": first.id, "description": "early", "severity": 1},
            ]
        ),
        expected_version=view.version,
    )
    doc = map_io.export_map_document(map_id)
    assert [p["description"] for p in doc["pain_points"]] == ["early", "late"]
    assert map_io.export_map_document(map_io.import_map_document(doc)) == _named(doc, doc["map"]["name"] + " (2)")
