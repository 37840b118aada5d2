"""components/grid_edit.py: the grid's item dialogs are driven by one table of item kinds."""

from __future__ import annotations

from components.grid_edit import ITEM_KINDS, _parse


def test_every_dialog_field_is_a_field_of_its_item():
    for kind in ITEM_KINDS.values():
        assert kind.fields, kind.key
        assert {f.name for f in kind.fields} <= set(kind.field_list), kind.key


def test_edit_targets_of_every_kind_are_parsed_and_others_refused():
    for key in ITEM_KINDS:
        assert _parse(f"{key}:12") == (key, 12)
        assert _parse(f"add-{key}:3") == (f"add-{key}", 3)
    assert _parse("stage:1") is None
    assert _parse("pain:x") is None
    assert _parse("lane:feeling:1:0:0") == ("lane", "feeling", 1, None, None)
