"""Edit on the map: a touchpoint or a pain point clicked on the grid opens in a dialog.

The grid (``charts.map_grid_html``) links a touchpoint name to ``?edit=touchpoint:ID``, a pain point to
``?edit=pain:ID``, an opportunity to ``opportunity:ID``, an action to ``action:ID``, a stage's "+ touchpoint",
"+ pain point", "+ opportunity" and "+ action" to ``add-touchpoint:STAGE_ID`` / ``add-pain:`` /
``add-opportunity:`` / ``add-action:``, and a lane
cell to ``lane:LANE:STAGE_ID:TOUCHPOINT_ID:PERSONA_ID`` (0 for the whole stage / everyone). This module reads that
parameter and opens the matching dialog; a save goes through ``components.map_editor.save`` (versioned,
the same conflict rules as the tables, which stay the bulk editor). An unknown or stale target is said
plainly, never ignored.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import map_editor as ed
from core.journey_map import MapView
from db.models import ActionStatus, Lane
from services import map_edits
from services.map_edits import RowEdits

ITEM_KINDS = (
    "touchpoint",
    "add-touchpoint",
    "pain",
    "opportunity",
    "action",
    "add-pain",
    "add-opportunity",
    "add-action",
)
EDITABLE_LANES = (Lane.THINKING.value, Lane.DOING.value, Lane.FEELING.value)
EMOTION_HELP = "−2 very negative … 0 neutral … +2 very positive"
SCORE_HELP = "1 very low … 5 very high"

EDIT_PARAM = "edit"
SEVERITY_HELP = "1 minor, 2 low, 3 medium, 4 high, 5 severe"


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
    if kind not in ITEM_KINDS or not raw.isdigit():
        return None
    return kind, int(raw)


def _where(view: MapView, stage_id: int, key: str) -> int | None:
    """A "Where" choice inside a stage: the whole stage or one of its touchpoints."""
    stage = view.stage(stage_id)
    names = {t.id: t.name for t in stage.touchpoints}
    st.caption(f"Stage: {stage.name}")
    return st.selectbox(
        "Where",
        [None, *names],
        format_func=lambda i: "The whole stage" if i is None else names[i],
        key=key,
    )


@st.dialog("Edit touchpoint", on_dismiss=_close)
def _touchpoint_dialog(view: MapView, touchpoint_id: int) -> None:
    tp = view.touchpoint(touchpoint_id)
    with st.form(f"grid_tp::{tp.id}"):
        name = st.text_input("Name", value=tp.name, max_chars=200)
        channel = st.text_input("Channel", value=tp.channel)
        owner = st.text_input("Owner team", value=tp.owner_team)
        moment = st.checkbox("Moment of truth", value=tp.moment_of_truth)
        saved = st.form_submit_button("Save", type="primary")
    if saved:
        _close()
        changes = {"name": name, "channel": channel, "owner_team": owner, "moment_of_truth": moment}
        ed.save(
            view.id,
            "grid_touchpoint",
            RowEdits(updated={tp.id: changes}),
            lambda p, v: map_edits.apply_touchpoint_edits(view.id, p, expected_version=v),
            success=f"Touchpoint “{name}” saved.",
        )


@st.dialog("Add a touchpoint", on_dismiss=_close)
def _add_touchpoint_dialog(view: MapView, stage_id: int) -> None:
    stage = view.stage(stage_id)
    with st.form(f"grid_add_tp::{stage.id}"):
        st.caption(f"Stage: {stage.name} (added after its last touchpoint)")
        name = st.text_input("Name", max_chars=200)
        channel = st.text_input("Channel")
        owner = st.text_input("Owner team")
        moment = st.checkbox("Moment of truth")
        saved = st.form_submit_button("Add", type="primary")
    if saved:
        _close()
        row = {
            "stage_id": stage.id,
            "name": name,
            "channel": channel,
            "owner_team": owner,
            "moment_of_truth": moment,
        }
        ed.save(
            view.id,
            "grid_touchpoint",
            RowEdits(added=[row]),
            lambda p, v: map_edits.apply_touchpoint_edits(view.id, p, expected_version=v),
            success=f"Touchpoint “{name.strip()}” added.",
        )


@st.dialog("Edit pain point", on_dismiss=_close)
def _pain_dialog(view: MapView, pain_id: int) -> None:
    pain = next(p for p in view.pain_points if p.id == pain_id)
    with st.form(f"grid_pain::{pain.id}"):
        description = st.text_area("Pain point", value=pain.description)
        severity = st.slider("Severity", 1, 5, int(pain.severity), help=SEVERITY_HELP)
        delete = st.checkbox("Delete this pain point")
        saved = st.form_submit_button("Save", type="primary")
    if saved:
        _close()
        edits = (
            RowEdits(deleted=[pain.id])
            if delete
            else RowEdits(updated={pain.id: {"description": description, "severity": severity}})
        )
        ed.save(
            view.id,
            "grid_pain",
            edits,
            lambda p, v: map_edits.apply_pain_point_edits(view.id, p, expected_version=v),
            success="Pain point deleted." if delete else "Pain point saved.",
        )


@st.dialog("Add a pain point", on_dismiss=_close)
def _add_pain_dialog(view: MapView, stage_id: int) -> None:
    stage = view.stage(stage_id)
    places = [None, *(t.id for t in stage.touchpoints)]
    names = {t.id: t.name for t in stage.touchpoints}
    with st.form(f"grid_add_pain::{stage.id}"):
        st.caption(f"Stage: {stage.name}")
        where = st.selectbox("Where", places, format_func=lambda i: "The whole stage" if i is None else names[i])
        description = st.text_area("Pain point")
        severity = st.slider("Severity", 1, 5, 3, help=SEVERITY_HELP)
        saved = st.form_submit_button("Add", type="primary")
    if saved:
        _close()
        row = {"stage_id": stage.id, "touchpoint_id": where, "description": description, "severity": severity}
        ed.save(
            view.id,
            "grid_pain",
            RowEdits(added=[row]),
            lambda p, v: map_edits.apply_pain_point_edits(view.id, p, expected_version=v),
            success="Pain point added.",
        )


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


def _opportunity_fields(effort: int = 3, customer: int = 3, business: int = 3) -> dict:
    return {
        "effort": st.slider("Effort", 1, 5, effort, help=SCORE_HELP),
        "customer_value": st.slider("Customer value", 1, 5, customer, help=SCORE_HELP),
        "business_value": st.slider("Business value", 1, 5, business, help=SCORE_HELP),
    }


@st.dialog("Edit opportunity", on_dismiss=_close)
def _opportunity_dialog(view: MapView, opportunity_id: int) -> None:
    o = next(o for o in view.opportunities if o.id == opportunity_id)
    with st.form(f"grid_opp::{o.id}"):
        description = st.text_area("Opportunity", value=o.description)
        scores = _opportunity_fields(int(o.effort), int(o.customer_value), int(o.business_value))
        delete = st.checkbox("Delete this opportunity")
        saved = st.form_submit_button("Save", type="primary")
    if saved:
        _close()
        edits = RowEdits(deleted=[o.id]) if delete else RowEdits(updated={o.id: {"description": description, **scores}})
        ed.save(
            view.id,
            "grid_opportunity",
            edits,
            lambda p, v: map_edits.apply_opportunity_edits(view.id, p, expected_version=v),
            success="Opportunity deleted." if delete else "Opportunity saved.",
        )


@st.dialog("Add an opportunity", on_dismiss=_close)
def _add_opportunity_dialog(view: MapView, stage_id: int) -> None:
    with st.form(f"grid_add_opp::{stage_id}"):
        where = _where(view, stage_id, f"grid_add_opp_where::{stage_id}")
        description = st.text_area("Opportunity")
        scores = _opportunity_fields()
        saved = st.form_submit_button("Add", type="primary")
    if saved:
        _close()
        row = {"stage_id": stage_id, "touchpoint_id": where, "description": description, **scores}
        ed.save(
            view.id,
            "grid_opportunity",
            RowEdits(added=[row]),
            lambda p, v: map_edits.apply_opportunity_edits(view.id, p, expected_version=v),
            success="Opportunity added.",
        )


_STATUSES = [s.value for s in ActionStatus]


@st.dialog("Edit action", on_dismiss=_close)
def _action_dialog(view: MapView, action_id: int) -> None:
    a = next(a for a in view.actions if a.id == action_id)
    with st.form(f"grid_action::{a.id}"):
        text = st.text_area("Action", value=a.action)
        owner = st.text_input("Owner", value=a.owner)
        status = st.selectbox("Status", _STATUSES, index=_STATUSES.index(a.status) if a.status in _STATUSES else 0)
        due = st.date_input("Due date", value=a.due_date)
        effect = st.text_input("Expected effect", value=a.expected_effect)
        delete = st.checkbox("Delete this action")
        saved = st.form_submit_button("Save", type="primary")
    if saved:
        _close()
        changes = {"action": text, "owner": owner, "status": status, "due_date": due, "expected_effect": effect}
        edits = RowEdits(deleted=[a.id]) if delete else RowEdits(updated={a.id: changes})
        ed.save(
            view.id,
            "grid_action",
            edits,
            lambda p, v: map_edits.apply_action_edits(view.id, p, expected_version=v),
            success="Action deleted." if delete else "Action saved.",
        )


@st.dialog("Add an action", on_dismiss=_close)
def _add_action_dialog(view: MapView, stage_id: int) -> None:
    with st.form(f"grid_add_action::{stage_id}"):
        where = _where(view, stage_id, f"grid_add_action_where::{stage_id}")
        text = st.text_area("Action")
        owner = st.text_input("Owner")
        due = st.date_input("Due date", value=None)
        saved = st.form_submit_button("Add", type="primary")
    if saved:
        _close()
        row = {"stage_id": stage_id, "touchpoint_id": where, "action": text, "owner": owner, "due_date": due}
        ed.save(
            view.id,
            "grid_action",
            RowEdits(added=[row]),
            lambda p, v: map_edits.apply_action_edits(view.id, p, expected_version=v),
            success="Action added.",
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
    ids = {
        "touchpoint": [t.id for t in view.touchpoints],
        "pain": [p.id for p in view.pain_points],
        "opportunity": [o.id for o in view.opportunities],
        "action": [a.id for a in view.actions],
    }.get(kind, [s.id for s in view.stages])
    return target[1] in ids


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
    kind, item_id = target[0], int(target[1])
    dialogs = {
        "touchpoint": _touchpoint_dialog,
        "add-touchpoint": _add_touchpoint_dialog,
        "pain": _pain_dialog,
        "add-pain": _add_pain_dialog,
        "opportunity": _opportunity_dialog,
        "add-opportunity": _add_opportunity_dialog,
        "action": _action_dialog,
        "add-action": _add_action_dialog,
    }
    dialogs[kind](view, item_id)


def render_grid_conflicts(view: MapView) -> None:
    """A dialog's save that met someone else's newer version: said, with the edit kept to re-apply or discard
    (``components.map_editor.render_conflict``, as for the tables)."""
    saves = {
        "grid_touchpoint": map_edits.apply_touchpoint_edits,
        "grid_pain": map_edits.apply_pain_point_edits,
        "grid_opportunity": map_edits.apply_opportunity_edits,
        "grid_action": map_edits.apply_action_edits,
    }
    for table, apply in saves.items():
        ed.render_conflict(
            view.id,
            table,
            lambda p, v, apply=apply: apply(view.id, p, expected_version=v),
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
