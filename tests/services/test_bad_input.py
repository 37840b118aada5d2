"""Absurd form values and malformed map files through the services: a clear message, nothing half-written.

"Nothing half-written" is checked byte for byte: the database's full SQL dump is the same before and
after a refused call. "Clear" means a typed ``JourneyLensError`` (pages show it with ``user_errors``)
that names the field and stays short even for a 10 000-character value.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from core.errors import BadInputError, JourneyLensError
from services import map_edits, map_io, map_view, personas, snapshots
from services import maps as map_service

TEMPLATE = "b2b-4-stage"
LONG = "x" * 10_000

REFUSED_NAMES = {
    "empty": "",
    "blank": "   \t  ",
    "10 000 characters": LONG,
    "10 000 emoji": "🚀" * 10_000,
    "NUL": "a\x00b",
    "line break": "Line one\nforged line two",
    "terminal escape": "\x1b]0;owned\x07Map",
    "zero-width only": "\u200b\u200c\u200d\ufeff",
    "bidi controls only": "\u202e\u2066\u2069",
    "lone surrogate": "bad \ud800 name",
}

ACCEPTED_NAMES = {
    "emoji": "Journey 🚀 for 👩🏽‍💼 buyers",
    "right-to-left": "رحلة العميل",
    "mixed direction": "רכישה: Enterprise plan (שלב 2)",
    "Vietnamese": "Hành trình khách hàng doanh nghiệp",
    "Thai": "เส้นทางลูกค้าองค์กร",
    "200 characters": "é" * 200,
    "markup-looking": "<b>Q3</b> & [beta](x)",
}


@pytest.fixture
def base_map(engine) -> dict[str, Any]:
    map_id = map_service.create_map_from_template(template_key=TEMPLATE, name="Base map")
    view = map_view.get_map_view(map_id)
    persona_id = personas.create_persona("Base persona")
    return {
        "map_id": map_id,
        "version": view.version,
        "stage_id": view.stages[0].id,
        "touchpoint_id": view.stages[0].touchpoints[0].id,
        "persona_id": persona_id,
    }


def name_setters(m: dict[str, Any]) -> dict[str, Callable[[str], Any]]:
    """Every service that takes a name a user types."""
    v = m["version"]
    return {
        "new map": lambda n: map_service.create_map_from_template(template_key=TEMPLATE, name=n),
        "rename map": lambda n: map_service.rename_map(m["map_id"], n, expected_version=v),
        "map details": lambda n: map_edits.update_map_details(m["map_id"], expected_version=v, name=n),
        "new stage": lambda n: map_edits.add_stage(m["map_id"], n, expected_version=v),
        "new touchpoint": lambda n: map_edits.add_touchpoint(m["map_id"], m["stage_id"], n, expected_version=v),
        "new persona": lambda n: personas.create_persona(n),
        "rename persona": lambda n: personas.update_persona(m["persona_id"], name=n),
        "snapshot": lambda n: snapshots.create_snapshot(m["map_id"], n),
        "future-state clone": lambda n: snapshots.clone_as_future_state(m["map_id"], n),
    }


SETTERS = list(name_setters({"map_id": 0, "version": 0, "stage_id": 0, "touchpoint_id": 0, "persona_id": 0}))


def assert_clear(exc: BaseException, *, mentions: str | None = None) -> None:
    assert isinstance(exc, JourneyLensError), f"{type(exc).__name__} is not a message for a user: {exc}"
    message = str(exc)
    assert 10 < len(message) < 400, message
    assert "Traceback" not in message
    if mentions:
        assert mentions.lower() in message.lower(), message


@pytest.mark.parametrize("setter", SETTERS)
def test_absurd_names_are_refused_and_nothing_written(base_map, dump, setter):
    set_name = name_setters(base_map)[setter]
    before = dump()
    for label, name in REFUSED_NAMES.items():
        with pytest.raises(JourneyLensError) as info:
            set_name(name)
        assert_clear(info.value, mentions="name")
        assert dump() == before, label


@pytest.mark.parametrize("setter", SETTERS)
def test_unicode_names_are_kept_exactly(base_map, setter):
    for label, name in ACCEPTED_NAMES.items():
        base_map["version"] = map_service.get_map_summary(base_map["map_id"]).version  # each save moves it on
        name_setters(base_map)[setter](name)
        assert name in _all_names(), (setter, label)


def _all_names() -> set[str]:
    names = {m.name for m in map_service.list_map_summaries()}
    names |= {p.name for p in personas.list_personas()}
    for m in map_service.list_map_summaries():
        view = map_view.get_map_view(m.id)
        names |= {s.name for s in view.stages} | {t.name for s in view.stages for t in s.touchpoints}
        names |= {s.name for s in snapshots.list_snapshots(m.id)}
    return names


@pytest.mark.parametrize(
    ("field", "value", "mentions"),
    [
        ("text", LONG, "characters"),
        ("text", "a\x00b", "NUL"),
        ("emotion", 7, "emotion"),
        ("emotion", "very sad", "emotion"),
        ("lane", "<script>alert(1)</script>", "lane"),
    ],
)
def test_absurd_lane_cells_are_refused(base_map, dump, field, value, mentions):
    kwargs: dict[str, Any] = {"lane": "thinking", "text": "fine"}
    if field == "emotion":
        kwargs.update(lane="feeling", emotion=value, set_emotion=True)
    else:
        kwargs[field] = value
    before = dump()
    with pytest.raises(JourneyLensError) as info:
        map_edits.set_lane_cell(
            base_map["map_id"],
            stage_id=base_map["stage_id"],
            touchpoint_id=base_map["touchpoint_id"],
            expected_version=base_map["version"],
            **kwargs,
        )
    assert_clear(info.value, mentions=mentions)
    assert dump() == before


def test_a_refused_edit_in_a_batch_writes_none_of_it(base_map, dump):
    """Three good cells and one bad one: the whole save is refused, the good ones included."""
    good = [
        map_edits.LaneCellEdit(base_map["stage_id"], base_map["touchpoint_id"], None, "thinking", f"idea {i}")
        for i in range(3)
    ]
    bad = map_edits.LaneCellEdit(base_map["stage_id"], base_map["touchpoint_id"], None, "feeling", None, 9, True)
    before = dump()
    with pytest.raises(BadInputError):
        map_edits.set_lane_cells(base_map["map_id"], [*good, bad], expected_version=base_map["version"])
    assert dump() == before


def test_a_stage_name_the_map_has_already_is_refused(base_map, dump):
    view = map_view.get_map_view(base_map["map_id"])
    first, second = view.stages[0], view.stages[1]
    before = dump()
    with pytest.raises(BadInputError, match=f"“{first.name}” is taken"):
        map_edits.add_stage(base_map["map_id"], f" {first.name.upper()} ", expected_version=base_map["version"])
    renamed = map_edits.RowEdits(updated={second.id: {"name": first.name}})
    with pytest.raises(BadInputError, match="a name no other stage of this map has"):
        map_edits.apply_stage_edits(base_map["map_id"], renamed, expected_version=base_map["version"])
    assert dump() == before
    # Swapping two names in one save is fine: the names are checked once all the edits are made.
    swap = map_edits.RowEdits(updated={first.id: {"name": second.name}, second.id: {"name": first.name}})
    map_edits.apply_stage_edits(base_map["map_id"], swap, expected_version=base_map["version"])
    assert [s.name for s in map_view.get_map_view(base_map["map_id"]).stages[:2]] == [second.name, first.name]


# --------------------------------------------------------------------------- malformed map JSON


def _document(base_map) -> dict[str, Any]:
    return json.loads(map_io.export_map_json(base_map["map_id"]))


def _mutations(doc: dict[str, Any]) -> dict[str, Any]:
    def changed(path: tuple, value: Any) -> dict[str, Any]:
        out = json.loads(json.dumps(doc))
        node = out
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return out

    return {
        "not JSON": "hello",
        "empty file": "",
        "truncated": json.dumps(doc)[: len(json.dumps(doc)) // 2],
        "a list": "[]",
        "a number": "42",
        "cp1252 bytes": "Café décor".encode("cp1252"),
        "binary": bytes(range(256)),
        "wrong format marker": changed(("format",), "someone-elses-map"),
        "future format version": changed(("format_version",), 99),
        "no map": {k: v for k, v in doc.items() if k != "map"},
        "map is a string": changed(("map",), "Base map"),
        "name is a number": changed(("map", "name"), 5),
        "name of 10 000 characters": changed(("map", "name"), LONG),
        "empty name": changed(("map", "name"), "   "),
        "state unknown": changed(("map", "state"), "<script>"),
        "review date not a date": changed(("map", "review_by"), "next Tuesday"),
        "stages is an object": changed(("stages",), {"S1": {}}),
        "stage without a name": changed(("stages", 0, "name"), None),
        "touchpoint name of 10 000 characters": changed(("stages", 0, "touchpoints", 0, "name"), LONG),
        "moment of truth not a flag": changed(("stages", 0, "touchpoints", 0, "moment_of_truth"), "maybe"),
        "duplicate stage ref": changed(("stages", 1, "ref"), doc["stages"][0]["ref"]),
    }


def test_malformed_map_documents_get_a_clear_message(base_map, dump):
    cases = _mutations(_document(base_map))
    before = dump()
    for label, data in cases.items():
        payload = data if isinstance(data, str | bytes) else json.dumps(data)
        with pytest.raises(JourneyLensError) as info:
            map_io.import_map_document(payload)
        assert_clear(info.value)
        assert dump() == before, label


def test_a_good_document_still_imports(base_map):
    """The corpus above is refused for what it breaks, not because the document is refused anyway."""
    new_id = map_io.import_map_document(map_io.export_map_json(base_map["map_id"]), name="Copy")
    assert map_view.get_map_view(new_id).name == "Copy"


def test_deeply_nested_json_gets_a_clear_message(base_map, dump):
    before = dump()
    with pytest.raises(JourneyLensError):
        map_io.import_map_document("[" * 100_000)
    assert dump() == before


def test_lone_surrogates_in_free_text_get_a_clear_message(base_map, dump):
    doc = _document(base_map)
    doc["map"]["description"] = "broken \ud800 text"
    before = dump()
    try:
        map_io.import_map_document(json.dumps(doc))
    except BaseException as exc:  # noqa: BLE001
        assert dump() == before  # rolled back either way
        assert_clear(exc)
    else:
        pytest.fail("a lone surrogate was stored")


def test_decomposed_vietnamese_is_accepted(base_map):
    """Text typed on a keyboard that sends decomposed accents (NFD) is stored and shown."""
    nfd = unicodedata.normalize("NFD", "Hành trình khách hàng")
    map_id = map_service.create_map_from_template(template_key=None, name=nfd)
    assert unicodedata.normalize("NFC", map_service.get_map_summary(map_id).name) == unicodedata.normalize("NFC", nfd)
