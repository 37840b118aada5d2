"""Editing a journey map in the browser: the copy a user edits, table editors and the conflict panel.

The page edits a *base* copy of the map (a ``MapView`` kept in session state), not whatever is in
the database at each rerun: every save states the base's version, so a save made from a copy that
someone else has changed meanwhile is refused (``ConflictError``). The edits are then kept (the
editor still shows them, and they are stored as pending) and the user can reload the map and apply
the same edits onto the latest version, or discard them.

Table edits are read from the ``st.data_editor`` delta (edited cells by row position, added rows,
deleted rows) and turned into ``services.map_edits.RowEdits`` keyed by row id, so re-applying them on a
newer version touches only the rows and cells the user changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from components.errors import show_error, user_errors
from components.flash import flash, form_saved
from components.loaders import clear_caches
from components.text import escape_markdown
from core.errors import ConflictError, JourneyLensError
from core.journey_map import ACTION_TASK_FIELDS, OPPORTUNITY_SHOWN, RACI_FIELDS, MapView
from services import map_io, map_view
from services.map_edits import LaneCellEdit, RowEdits, Saved

BASE_KEY = "studio_base_views"
PENDING_KEY = "studio_pending_edits"
WHOLE_STAGE = "whole stage"
EVERYONE = 0  # persona "id" for cells that apply to everyone

SaveFn = Callable[[Any, int], Saved]


# --------------------------------------------------------------------------- the base copy


def base_view(map_id: int) -> MapView:
    """The copy of the map this session edits (loaded once; replaced after a save or a reload)."""
    store: dict[int, MapView] = st.session_state.setdefault(BASE_KEY, {})
    if map_id not in store:
        store[map_id] = map_view.get_map_view(map_id)
    return store[map_id]


def reload_base(map_id: int) -> MapView:
    store: dict[int, MapView] = st.session_state.setdefault(BASE_KEY, {})
    store[map_id] = map_view.get_map_view(map_id)
    return store[map_id]


def _pending() -> dict[tuple[int, str], Any]:
    return st.session_state.setdefault(PENDING_KEY, {})


def save(
    map_id: int, table: str, payload: Any, fn: SaveFn, *, success: str = "Saved.", form: str | None = None
) -> bool:
    """Save ``payload`` with ``fn(payload, expected_version)`` from the base copy.

    On success: the base is reloaded, caches cleared, the ``form`` it came from (if any) drawn empty
    again (:func:`components.flash.form_saved`), the page reruns with ``success`` shown. On a
    conflict: the payload is kept as pending for :func:`render_conflict` (nothing is lost). On a
    validation error: its message is shown and the editor keeps what the user typed.
    """
    view = base_view(map_id)
    try:
        fn(payload, view.version)
    except ConflictError:
        _pending()[(map_id, table)] = payload
        st.rerun()
    except JourneyLensError as exc:  # a bug's ValueError shows as the bug it is (components.errors)
        show_error(exc)
        return False
    _pending().pop((map_id, table), None)
    reload_base(map_id)
    clear_caches()
    if form is not None:
        form_saved(form)
    flash(success)
    st.rerun()
    return True  # pragma: no cover  (st.rerun does not return)


def render_conflict(map_id: int, table: str, fn: SaveFn, describe: Callable[[Any], pd.DataFrame]) -> bool:
    """If a save of ``table`` met a conflict: explain, show the kept edits, offer re-apply or discard.

    Returns True when a conflict is pending (the caller may skip drawing its editor's save button).
    """
    payload = _pending().get((map_id, table))
    if payload is None:
        return False
    view = base_view(map_id)
    latest = map_view.get_map_version(map_id)
    st.error(
        f"Someone else saved this map while you were editing (you started from version {view.version}; it is "
        f"now at version {latest}). Nothing of yours was saved, and nothing is lost: your edits are below.",
        icon=":material/sync_problem:",
    )
    st.dataframe(describe(payload), hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    if c1.button("Reload the map and re-apply my edits", key=f"reapply::{table}", type="primary"):
        reload_base(map_id)
        save(map_id, table, payload, fn, success="Your edits were applied to the latest version of the map.")
    if c2.button("Discard my edits and reload", key=f"discard::{table}"):
        _pending().pop((map_id, table), None)
        reload_base(map_id)
        clear_caches()
        st.rerun()
    return True


# --------------------------------------------------------------------------- table editor deltas


def _blank(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict) else False
    except (TypeError, ValueError):
        return False


def editor_row_edits(
    key: str,
    frame: pd.DataFrame,
    convert: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    id_column: str = "id",
) -> RowEdits:
    """The pending edits of the ``st.data_editor`` with ``key`` over ``frame`` as ``RowEdits`` (by row id)."""
    state = st.session_state.get(key)
    if not state:
        return RowEdits()
    ids = frame[id_column].tolist()
    updated: dict[int, dict[str, Any]] = {}
    for position, values in (state.get("edited_rows") or {}).items():
        clean = {k: v for k, v in dict(values).items() if not str(k).startswith("_")}
        if clean:
            updated[int(ids[int(position)])] = convert(clean)
    added = []
    for values in state.get("added_rows") or []:
        clean = {k: v for k, v in dict(values).items() if not str(k).startswith("_") and k != id_column}
        if any(not _blank(v) and v != "" for v in clean.values()):
            added.append(convert(clean))
    deleted = [int(ids[int(position)]) for position in state.get("deleted_rows") or []]
    return RowEdits(updated=updated, added=added, deleted=deleted)


def row_table(
    view: MapView,
    table: str,
    frame: pd.DataFrame,
    apply: Callable[..., Saved],
    names: Mapping[int, str],
    convert: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    column_order: list[str],
    column_config: dict[str, Any],
) -> tuple[RowEdits, Callable[[Any, int], Saved]]:
    """One table of the map in a data editor, after the conflict of an earlier save of it if any; returns the
    user's edits and how to save them (``components.map_editor.save``). ``names`` name rows in a conflict."""
    key = f"{table}::{view.id}::{view.version}"

    def save(payload: Any, version: int) -> Saved:
        return apply(view.id, payload, expected_version=version)

    render_conflict(view.id, table, save, lambda p: describe_row_edits(p, names))
    st.data_editor(
        frame,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_order=column_order,
        column_config=column_config,
    )
    return editor_row_edits(key, frame, convert), save


def describe_row_edits(edits: RowEdits, labels: Mapping[int, str]) -> pd.DataFrame:
    """A readable list of table edits (for the conflict panel)."""
    rows = []
    for row_id, values in edits.updated.items():
        for field, value in values.items():
            rows.append(
                {"edit": "change", "row": labels.get(row_id, str(row_id)), "field": field, "value": _show(value)}
            )
    for values in edits.added:
        rows.append({"edit": "add", "row": "new row", "field": "", "value": _show(values)})
    for row_id in edits.deleted:
        rows.append({"edit": "delete", "row": labels.get(row_id, str(row_id)), "field": "", "value": ""})
    return pd.DataFrame(rows, columns=["edit", "row", "field", "value"])


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if not _blank(v))
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return "" if _blank(value) else str(value)


# --------------------------------------------------------------------------- where things sit


def place_options(view: MapView, *, allow_none: bool = False) -> dict[str, str]:
    """Option value → label for "stage or touchpoint" pickers: ``s:<id>`` (whole stage), ``t:<id>``."""
    options: dict[str, str] = {"": "(whole map)"} if allow_none else {}
    for stage in view.stages:
        options[f"s:{stage.id}"] = f"{stage.name} ({WHOLE_STAGE})"
        for tp in stage.touchpoints:
            options[f"t:{tp.id}"] = f"{stage.name} › {tp.name}"
    return options


def place_value(stage_id: int | None, touchpoint_id: int | None) -> str:
    if touchpoint_id is not None:
        return f"t:{touchpoint_id}"
    if stage_id is not None:
        return f"s:{stage_id}"
    return ""


def place_fields(value: Any) -> dict[str, int | None]:
    """``s:3`` → stage 3 (whole stage); ``t:7`` → touchpoint 7; blank → neither."""
    if _blank(value) or not str(value):
        return {"stage_id": None, "touchpoint_id": None}
    kind, _, ident = str(value).partition(":")
    if kind == "t":
        return {"stage_id": None, "touchpoint_id": int(ident)}
    return {"stage_id": int(ident), "touchpoint_id": None}


# --------------------------------------------------------------------------- editor tables built from a view


def _row(item: object, columns: Sequence[str], **computed: Any) -> dict[str, Any]:
    """One editor row: each column from the item's field of that name, or from ``computed``."""
    return {c: computed[c] if c in computed else getattr(item, c) for c in columns}


def stage_table(view: MapView) -> pd.DataFrame:
    columns = ["id", "order", "name", "customer_goal", "business_goal", "outcomes", "revisitable", "touchpoints"]
    rows = [
        _row(s, columns, order=s.position + 1, outcomes=list(s.outcomes), touchpoints=len(s.touchpoints))
        for s in view.stages
    ]
    return pd.DataFrame(rows, columns=columns)


def convert_stage(values: dict[str, Any]) -> dict[str, Any]:
    return convert_touchpoint({k: v for k, v in values.items() if k != "touchpoints"})


def touchpoint_table(view: MapView) -> pd.DataFrame:
    columns = ["id", "stage_id", "order", "name", "channel", "owner_team", "moment_of_truth", *RACI_FIELDS]
    columns.append("activity_names")
    rows = [_row(t, columns, order=t.position + 1, activity_names=list(t.activity_names)) for t in view.touchpoints]
    return pd.DataFrame(rows, columns=columns)


def convert_touchpoint(values: dict[str, Any]) -> dict[str, Any]:
    """An edited row of stages or touchpoints: the 1-based "order" shown becomes the 0-based position."""
    out = dict(values)
    if "order" in out:
        order = out.pop("order")
        out["position"] = None if _blank(order) else float(order) - 1
    return out


def lane_table(view: MapView, persona_id: int | None, lanes: Sequence[str]) -> pd.DataFrame:
    """One row per stage (whole stage) and per touchpoint; a column per lane plus the emotion score."""
    rows = []
    for stage in view.stages:
        for tp in (None, *stage.touchpoints):
            tp_id = tp.id if tp is not None else None
            row: dict[str, Any] = {
                "stage_id": stage.id,
                "touchpoint_id": tp_id if tp_id is not None else -1,
                "where": f"{stage.name} ({WHOLE_STAGE})" if tp is None else f"{stage.name} › {tp.name}",
            }
            for lane in lanes:
                cell = view.cell(stage_id=stage.id, touchpoint_id=tp_id, persona_id=persona_id, lane=lane)
                row[lane] = cell.text if cell else ""
                if lane == "feeling":
                    row["emotion"] = cell.emotion if cell and cell.emotion is not None else None
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["stage_id", "touchpoint_id", "where", *lanes, "emotion"])
    frame["emotion"] = frame["emotion"].astype("Int64")
    return frame


def editor_lane_edits(key: str, frame: pd.DataFrame, persona_id: int | None) -> list[LaneCellEdit]:
    """The lane editor's pending edits as ``LaneCellEdit``s (text per lane; the emotion on the feeling lane)."""
    state = st.session_state.get(key)
    if not state:
        return []
    edits: list[LaneCellEdit] = []
    for position, values in (state.get("edited_rows") or {}).items():
        row = frame.iloc[int(position)]
        stage_id = int(row["stage_id"])
        tp_id = None if int(row["touchpoint_id"]) < 0 else int(row["touchpoint_id"])
        values = dict(values)
        emotion_set = "emotion" in values
        for lane, text in values.items():
            if lane in ("emotion", "where") or str(lane).startswith("_"):
                continue
            feeling = lane == "feeling"
            edits.append(
                LaneCellEdit(
                    stage_id,
                    tp_id,
                    persona_id,
                    lane,
                    text="" if _blank(text) else str(text),
                    emotion=values.get("emotion") if feeling and emotion_set else None,
                    set_emotion=feeling and emotion_set,
                )
            )
        if emotion_set and "feeling" not in values:
            edits.append(
                LaneCellEdit(stage_id, tp_id, persona_id, "feeling", None, values.get("emotion"), set_emotion=True)
            )
    return edits


def describe_lane_edits(edits: Sequence[LaneCellEdit], view: MapView) -> pd.DataFrame:
    labels = place_options(view)
    rows = [
        {
            "where": labels.get(place_value(e.stage_id, e.touchpoint_id), ""),
            "lane": e.lane,
            "text": "" if e.text is None else e.text,
            "emotion": "" if not e.set_emotion or e.emotion is None else str(e.emotion),
        }
        for e in edits
    ]
    return pd.DataFrame(rows, columns=["where", "lane", "text", "emotion"])


def pain_table(view: MapView) -> pd.DataFrame:
    columns = ["id", "where", "persona", "description", "severity"]
    rows = [
        _row(p, columns, where=place_value(p.stage_id, p.touchpoint_id), persona=p.persona_id or EVERYONE)
        for p in view.pain_points
    ]
    return pd.DataFrame(rows, columns=columns)


def _converted(
    values: Mapping[str, Any], *, read_only: Sequence[str] = (), refs: Mapping[str, tuple[str, int]] = {}
) -> dict[str, Any]:
    """An edited row of items as the edit's fields: "where" becomes the stage/touchpoint ids; each choice
    column in ``refs`` (column → field, its "none" value) an id or None; read-only columns are dropped."""
    out = {k: v for k, v in values.items() if k not in read_only}
    if "where" in out:
        out.update(place_fields(out.pop("where")))
    for column, (name, none) in refs.items():
        if column in out:
            value = out.pop(column)
            out[name] = None if _blank(value) or int(value) == none else int(value)
    return out


def convert_pain(values: dict[str, Any]) -> dict[str, Any]:
    return _converted(values, refs={"persona": ("persona_id", EVERYONE)})


def opportunity_table(view: MapView) -> pd.DataFrame:
    columns = ["id", "where", *OPPORTUNITY_SHOWN]
    rows = [_row(o, columns, where=place_value(o.stage_id, o.touchpoint_id)) for o in view.opportunities]
    return pd.DataFrame(rows, columns=columns)


def convert_opportunity(values: dict[str, Any]) -> dict[str, Any]:
    return _converted(values, read_only=("priority", "moment_of_truth"))


def action_table(view: MapView) -> pd.DataFrame:
    columns = ["id", *ACTION_TASK_FIELDS, "where", "metric", "expected_effect"]
    rows = [
        _row(a, columns, where=place_value(a.stage_id, a.touchpoint_id), metric=a.metric_id or 0) for a in view.actions
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["due_date"] = pd.to_datetime(frame["due_date"]).dt.date if not frame.empty else frame["due_date"]
    return frame


def convert_action(values: dict[str, Any]) -> dict[str, Any]:
    return _converted(values, refs={"metric": ("metric_id", 0)})


def import_map_json(uploader: str, uploader_key: str, page: str, link_label: str, **button_kwargs: Any) -> None:
    """An uploader for a map's JSON export and an "Import map" button: imports it as a new map, says its
    id and links to it on ``page``."""
    upload = st.file_uploader(uploader, type=["json"], key=uploader_key)
    if upload is not None and st.button("Import map", **button_kwargs):
        with user_errors():
            imported = map_io.import_map_file(upload.getvalue())
            new_id = imported.id
            clear_caches()
            # Where the file's name was taken, why the new map's name is numbered (the CLI prints imported.note()).
            why = f": a map “{imported.asked}” exists (map {imported.taken_by})" if imported.taken_by else ""
            st.success(escape_markdown(f"Imported as a new map “{imported.name}” (id {new_id}){why}."))
            st.page_link(page, label=link_label, query_params={"map": str(new_id)}, icon=":material/open_in_new:")
