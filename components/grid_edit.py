"""Edit on the map: a touchpoint or a pain point clicked on the grid opens in a dialog.

The grid (``charts.map_grid_html``) links a touchpoint name to ``?edit=touchpoint:ID``, a pain point to
``?edit=pain:ID``, an opportunity to ``opportunity:ID``, an action to ``action:ID``, a stage's "+ touchpoint",
"+ pain point", "+ opportunity" and "+ action" to ``add-touchpoint:STAGE_ID`` / ``add-pain:`` /
``add-opportunity:`` / ``add-action:``, and a lane
cell to ``lane:LANE:STAGE_ID:TOUCHPOINT_ID:PERSONA_ID`` (0 for the whole stage / everyone). This module reads that
parameter and opens the matching dialog; a save goes through ``components.map_editor.save`` (versioned,
the same conflict rules as the tables, which stay the bulk editor). An unknown or stale target is said
plainly, never ignored.

The four item kinds share one dialog, driven by :data:`ITEM_KINDS`: each kind names its form fields
(among its field list in ``core.journey_map``), where its items are in the view and which edit saves it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from charts.map_grid import SEVERITY_WORDS
from components import map_editor as ed
from core.journey_map import ACTION_FIELDS, OPPORTUNITY_FIELDS, PAIN_POINT_FIELDS, TOUCHPOINT_FIELDS, MapView
from db.models import ActionStatus, Lane
from services import map_edits
from services.map_edits import RowEdits, Saved

EDITABLE_LANES = (Lane.THINKING.value, Lane.DOING.value, Lane.FEELING.value)
EMOTION_HELP = "−2 very negative … 0 neutral … +2 very positive"
SCORE_HELP = "1 very low … 5 very high"

EDIT_PARAM = "edit"
SEVERITY_HELP = ", ".join(f"{k} {word}" for k, word in SEVERITY_WORDS.items())  # "1 minor, … 5 severe"


def _close() -> None:
    st.query_params.pop(EDIT_PARAM, None)


def _parse(value: str) -> tuple[str, int] | tuple[str, str, int, int | None, int | None] | None:
    """``(kind, id)`` for an item, ``("lane", lane, stage_id, touchpoint_id, persona_id)`` for a lane cell."""
    kind, _, raw = value.partition(":")
    if kind == "lane":
        lane, _, rest = raw.partition(":")
        ids = rest.split(":")
        if lane not in EDITABLE_LANES or len(ids) != 3 or not all(i.isdigit() for i in ids):
            return None
        stage_id, tp_id, persona_id = (int(i) for i in ids)
        return "lane", lane, stage_id, tp_id or None, persona_id or None
    if kind.removeprefix("add-") not in ITEM_KINDS or not raw.isdigit():
        return None
    return kind, int(raw)


@dataclass(frozen=True)
class FormField:
    """One input of an item's dialog: a field of the item (``core.journey_map``'s field lists)."""

    name: str
    label: str
    widget: str = "text"  # text | area | check | score | status | date
    help: str | None = None
    on_add: bool = True  # asked when adding an item too


@dataclass(frozen=True)
class ItemKind:
    """What the grid lets a user edit or add on one kind of item, and how its dialog looks."""

    key: str  # ``?edit=KEY:ID`` edits an item, ``?edit=add-KEY:STAGE_ID`` adds one to a stage
    noun: str  # "pain point"
    article: str  # "a" or "an"
    save_key: str  # the pending-conflict key of ``components.map_editor.save``
    field_list: tuple[str, ...]  # the item's editable fields; the form's fields must be among them
    fields: tuple[FormField, ...]
    items: Callable[[MapView], Sequence[Any]]
    apply: Callable[..., Saved]
    deletable: bool = True
    add_asks_where: bool = True  # the add form offers "the whole stage" or one of its touchpoints
    named: bool = False  # messages name the item ("Touchpoint “Demo” saved.")

    @property
    def title(self) -> str:
        return self.noun.capitalize()


_SCORE = {"widget": "score", "help": SCORE_HELP}
ITEM_KINDS: dict[str, ItemKind] = {
    kind.key: kind
    for kind in (
        ItemKind(
            "touchpoint", "touchpoint", "a", "grid_touchpoint", TOUCHPOINT_FIELDS,
            (
                FormField("name", "Name"),
                FormField("channel", "Channel"),
                FormField("owner_team", "Owner team"),
                FormField("moment_of_truth", "Moment of truth", "check"),
            ),
            lambda view: view.touchpoints, map_edits.apply_touchpoint_edits,
            deletable=False, add_asks_where=False, named=True,
        ),
        ItemKind(
            "pain", "pain point", "a", "grid_pain", PAIN_POINT_FIELDS,
            (
                FormField("description", "Pain point", "area"),
                FormField("severity", "Severity", "score", SEVERITY_HELP),
            ),
            lambda view: view.pain_points, map_edits.apply_pain_point_edits,
        ),
        ItemKind(
            "opportunity", "opportunity", "an", "grid_opportunity", OPPORTUNITY_FIELDS,
            (
                FormField("description", "Opportunity", "area"),
                FormField("effort", "Effort", **_SCORE),
                FormField("customer_value", "Customer value", **_SCORE),
                FormField("business_value", "Business value", **_SCORE),
            ),
            lambda view: view.opportunities, map_edits.apply_opportunity_edits,
        ),
        ItemKind(
            "action", "action", "an", "grid_action", ACTION_FIELDS,
            (
                FormField("action", "Action", "area"),
                FormField("owner", "Owner"),
                FormField("status", "Status", "status", on_add=False),
                FormField("due_date", "Due date", "date"),
                FormField("expected_effect", "Expected effect", on_add=False),
            ),
            lambda view: view.actions, map_edits.apply_action_edits,
        ),
    )
}  # fmt: skip
_STATUSES = [s.value for s in ActionStatus]


def _input(f: FormField, current: Any, key: str) -> Any:
    """The widget of one form field, showing ``current`` (None when adding)."""
    if f.widget == "area":
        return st.text_area(f.label, value=current or "", key=key)
    if f.widget == "check":
        return st.checkbox(f.label, value=bool(current), key=key)
    if f.widget == "score":
        return st.slider(f.label, 1, 5, int(current) if current is not None else 3, help=f.help, key=key)
    if f.widget == "status":
        index = _STATUSES.index(current) if current in _STATUSES else 0
        return st.selectbox(f.label, _STATUSES, index=index, key=key)
    if f.widget == "date":
        return st.date_input(f.label, value=current, key=key)
    return st.text_input(f.label, value=current or "", max_chars=200 if f.name == "name" else None, key=key)


def _item_dialog(view: MapView, kind: ItemKind, item_id: int, *, adding: bool) -> None:
    """The dialog body: edit item ``item_id`` of ``kind``, or add one to stage ``item_id``."""
    item = None if adding else next(i for i in kind.items(view) if i.id == item_id)
    form = f"grid_{'add_' if adding else ''}{kind.key}::{item_id}"
    values: dict[str, Any] = {}
    delete = False
    with st.form(form):
        if adding:
            stage = view.stage(item_id)
            values["stage_id"] = stage.id
            if kind.add_asks_where:
                names = {t.id: t.name for t in stage.touchpoints}
                st.caption(f"Stage: {stage.name}")
                values["touchpoint_id"] = st.selectbox(
                    "Where", [None, *names], format_func=lambda i: "The whole stage" if i is None else names[i],
                    key=f"{form}:where",
                )  # fmt: skip
            else:
                st.caption(f"Stage: {stage.name} (added after its last touchpoint)")
        for f in kind.fields:
            if f.on_add or not adding:
                values[f.name] = _input(f, getattr(item, f.name, None), f"{form}:{f.name}")
        if not adding and kind.deletable:
            delete = st.checkbox(f"Delete this {kind.noun}", key=f"{form}:delete")
        saved = st.form_submit_button("Add" if adding else "Save", type="primary")
    if not saved:
        return
    _close()
    what = f"{kind.title} “{str(values.get('name', '')).strip()}”" if kind.named else kind.title
    if adding:
        edits, success = RowEdits(added=[values]), f"{what} added."
    elif delete:
        edits, success = RowEdits(deleted=[item_id]), f"{what} deleted."
    else:
        edits, success = RowEdits(updated={item_id: values}), f"{what} saved."
    ed.save(view.id, kind.save_key, edits, lambda p, v: kind.apply(view.id, p, expected_version=v), success=success)


def _open_item_dialog(view: MapView, kind: ItemKind, item_id: int, *, adding: bool) -> None:
    title = f"Add {kind.article} {kind.noun}" if adding else f"Edit {kind.noun}"
    st.dialog(title, on_dismiss=_close)(_item_dialog)(view, kind, item_id, adding=adding)


@st.dialog("Edit lane cell", on_dismiss=_close)
def _lane_dialog(view: MapView, lane: str, stage_id: int, tp_id: int | None, persona_id: int | None) -> None:
    stage = view.stage(stage_id)
    cell = next(
        (
            c
            for c in view.lane_cells
            if (c.lane, c.stage_id, c.touchpoint_id, c.persona_id) == (lane, stage_id, tp_id, persona_id)
        ),
        None,
    )
    place = stage.name + (f" › {view.touchpoint(tp_id).name}" if tp_id is not None else " (the whole stage)")
    whose = "everyone" if persona_id is None else next(p.name for p in view.personas if p.id == persona_id)
    with st.form(f"grid_lane::{lane}:{stage_id}:{tp_id}:{persona_id}"):
        st.caption(f"{lane.capitalize()} · {place} · for {whose}. Leave it empty to clear the cell.")
        text = st.text_area(lane.capitalize(), value=cell.text if cell is not None else "")
        emotion = None
        if lane == Lane.FEELING.value:
            current = cell.emotion if cell is not None and cell.emotion is not None else "none"
            emotion = st.select_slider(
                "Emotion", ["none", -2, -1, 0, 1, 2], value=current, help=EMOTION_HELP,
                format_func=lambda v: "no score" if v == "none" else f"{v:+d}",
            )  # fmt: skip
        saved = st.form_submit_button("Save", type="primary")
    if saved:
        _close()
        edit = map_edits.LaneCellEdit(
            stage_id,
            tp_id,
            persona_id,
            lane,
            text,
            None if emotion in (None, "none") else int(emotion),
            set_emotion=lane == Lane.FEELING.value,
        )
        ed.save(
            view.id,
            "grid_lane",
            [edit],
            lambda p, v: map_edits.set_lane_cells(view.id, p, expected_version=v),
            success=f"{lane.capitalize()} saved.",
        )


def _known(view: MapView, target: tuple) -> bool:
    kind = target[0]
    if kind == "lane":
        _, _, stage_id, tp_id, persona_id = target
        stage = next((s for s in view.stages if s.id == stage_id), None)
        return (
            stage is not None
            and (tp_id is None or any(t.id == tp_id for t in stage.touchpoints))
            and (persona_id is None or any(p.id == persona_id for p in view.personas))
        )
    if kind.startswith("add-"):
        return any(s.id == target[1] for s in view.stages)
    return any(i.id == target[1] for i in ITEM_KINDS[kind].items(view))


def render_grid_editor(view: MapView) -> None:
    """Open the dialog that ``?edit=`` asks for, if any (see the module docstring)."""
    value = st.query_params.get(EDIT_PARAM)
    if not value:
        return
    target = _parse(value)
    if target is None or not _known(view, target):
        st.warning(
            f"Nothing to edit for “{value}” on this map (it may have been deleted): pick a cell, touchpoint, pain "
            "point, opportunity or action on the grid.",
            icon=":material/edit_off:",
        )
        _close()
        return
    if target[0] == "lane":
        _, lane, stage_id, tp_id, persona_id = target  # type: ignore[misc]
        _lane_dialog(view, lane, stage_id, tp_id, persona_id)
        return
    kind = str(target[0])
    _open_item_dialog(view, ITEM_KINDS[kind.removeprefix("add-")], int(target[1]), adding=kind.startswith("add-"))


def render_grid_conflicts(view: MapView) -> None:
    """A dialog's save that met someone else's newer version: said, with the edit kept to re-apply or discard
    (``components.map_editor.render_conflict``, as for the tables)."""
    for kind in ITEM_KINDS.values():
        ed.render_conflict(
            view.id,
            kind.save_key,
            lambda p, v, apply=kind.apply: apply(view.id, p, expected_version=v),
            lambda p: ed.describe_row_edits(p, {}),
        )
    ed.render_conflict(
        view.id,
        "grid_lane",
        lambda p, v: map_edits.set_lane_cells(view.id, p, expected_version=v),
        lambda p: pd.DataFrame(
            [{"lane": e.lane, "text": e.text, "emotion": "–" if e.emotion is None else e.emotion} for e in p]
        ),
    )
