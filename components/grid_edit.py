"""Edit on the map: a touchpoint or a pain point clicked on the grid opens in a dialog.

The grid (``charts.map_grid_html``) links a touchpoint name to ``?edit=touchpoint:ID``, a pain point to
``?edit=pain:ID`` and a stage's "+ pain point" to ``?edit=add-pain:STAGE_ID``. This module reads that
parameter and opens the matching dialog; a save goes through ``components.map_editor.save`` (versioned,
the same conflict rules as the tables, which stay the bulk editor). An unknown or stale target is said
plainly, never ignored.
"""

from __future__ import annotations

import streamlit as st

from components import map_editor as ed
from services import studio
from services.studio import MapView, RowEdits

EDIT_PARAM = "edit"
SEVERITY_HELP = "1 minor, 2 low, 3 medium, 4 high, 5 severe"


def _close() -> None:
    st.query_params.pop(EDIT_PARAM, None)


def _parse(value: str) -> tuple[str, int] | None:
    kind, _, raw = value.partition(":")
    if kind not in ("touchpoint", "pain", "add-pain") or not raw.isdigit():
        return None
    return kind, int(raw)


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
            lambda p, v: studio.apply_touchpoint_edits(view.id, p, expected_version=v),
            success=f"Touchpoint “{name}” saved.",
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
            lambda p, v: studio.apply_pain_point_edits(view.id, p, expected_version=v),
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
            lambda p, v: studio.apply_pain_point_edits(view.id, p, expected_version=v),
            success="Pain point added.",
        )


def render_grid_editor(view: MapView) -> None:
    """Open the dialog that ``?edit=`` asks for, if any (see the module docstring)."""
    value = st.query_params.get(EDIT_PARAM)
    if not value:
        return
    target = _parse(value)
    known = target is not None and (
        (target[0] == "touchpoint" and any(t.id == target[1] for t in view.touchpoints))
        or (target[0] == "pain" and any(p.id == target[1] for p in view.pain_points))
        or (target[0] == "add-pain" and any(s.id == target[1] for s in view.stages))
    )
    if not known:
        st.warning(
            f"Nothing to edit for “{value}” on this map (it may have been deleted): pick a touchpoint or pain "
            "point on the grid.",
            icon=":material/edit_off:",
        )
        _close()
        return
    kind, item_id = target  # type: ignore[misc]
    if kind == "touchpoint":
        _touchpoint_dialog(view, item_id)
    elif kind == "pain":
        _pain_dialog(view, item_id)
    else:
        _add_pain_dialog(view, item_id)
