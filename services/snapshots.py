"""Versions of a map: named snapshots (save, what changed since, restore) and future-state clones.

A snapshot stores the map's complete JSON document (``services.map_io``) together with the database
ids behind its refs, so "what changed since" can follow a stage or touchpoint through renames and
moves. Restoring first saves the current state as a snapshot ("Before restoring …"), then replaces
the map's content with the snapshot's, as one versioned write.

A future-state map is a copy of a current-state map (``state = future``, ``parent_map_id`` = the
original) sharing its personas; :func:`compare_maps` shows the two side by side as a list of
differences, matching stages and touchpoints by name.

Differences (:func:`compute_map_diff`) are rows ``area, change, item, field, before, after`` where
``change`` is added / removed / changed / moved. Matching: stages and touchpoints by database id
where both sides have one, then by name (a touchpoint first within its matched stage, then anywhere:
that is a move); lane cells by (stage, touchpoint, persona, lane); pain points and opportunities by
(place, description); actions by their text; personas and metrics by name. Cells and items of an
added or removed stage or touchpoint are not listed again under it. "moved" marks the stages (and
touchpoints within a stage) that left the longest run of items still in their old order.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import select

from core.errors import BadInputError, NotFoundError
from db import audit, crud
from db.access import AccessRole, require
from db.engine import read_session, write_session
from db.models import JourneyMap, MapState, Snapshot
from services import map_io
from services.studio import MapView, Saved, load_map_view

DIFF_COLUMNS = ["area", "change", "item", "field", "before", "after"]


@dataclass(frozen=True)
class SnapshotSummary:
    id: int
    map_id: int
    name: str
    created_at: datetime
    map_version: int | None
    stages: int
    touchpoints: int


def _payload(view: MapView) -> dict[str, Any]:
    refs = map_io.document_refs(view)
    return {
        "document": map_io.document_from_view(view),
        "ids": {kind: {ref: ident for ident, ref in table.items()} for kind, table in refs.items()},
        "map_version": view.version,
    }


def _summary(s: Snapshot) -> SnapshotSummary:
    doc = s.payload.get("document", {})
    stages = doc.get("stages", [])
    return SnapshotSummary(
        id=s.id or 0,
        map_id=s.map_id,
        name=s.name,
        created_at=s.created_at,
        map_version=s.payload.get("map_version"),
        stages=len(stages),
        touchpoints=sum(len(st.get("touchpoints", [])) for st in stages),
    )


def create_snapshot(map_id: int, name: str, *, engine: Engine | None = None) -> int:
    """Save the map as it is now under ``name``. A snapshot does not change the map (nor its version)."""
    clean = crud.clean_name(name, "snapshot name")
    with write_session(engine) as session:
        view = load_map_view(session, map_id)
        snapshot = Snapshot(map_id=map_id, name=clean, payload=_payload(view))
        session.add(snapshot)
        session.flush()
        return snapshot.id or 0


def list_snapshots(map_id: int, *, engine: Engine | None = None) -> list[SnapshotSummary]:
    """A map's snapshots, newest first."""
    with read_session(engine) as session:
        return [_summary(s) for s in crud.list_snapshots(session=session, map_id=map_id)]


def delete_snapshot(snapshot_id: int, *, engine: Engine | None = None) -> None:
    with write_session(engine) as session:
        session.delete(crud.get_snapshot(session=session, snapshot_id=snapshot_id))


def get_snapshot_document(snapshot_id: int, *, engine: Engine | None = None) -> dict[str, Any]:
    """The snapshot's map document (the same JSON as an export made at that time)."""
    with read_session(engine) as session:
        return dict(crud.get_snapshot(session=session, snapshot_id=snapshot_id).payload.get("document", {}))


def diff_since_snapshot(snapshot_id: int, *, engine: Engine | None = None) -> pd.DataFrame:
    """What changed in the map since the snapshot (rows as in :func:`compute_map_diff`)."""
    with read_session(engine) as session:
        snapshot = crud.get_snapshot(session=session, snapshot_id=snapshot_id)
        view = load_map_view(session, snapshot.map_id)
        current = _payload(view)
        return compute_map_diff(
            snapshot.payload.get("document", {}),
            current["document"],
            old_ids=snapshot.payload.get("ids"),
            new_ids=current["ids"],
        )


def restore_snapshot(
    snapshot_id: int, *, expected_version: int | None, keep_name: bool = False, engine: Engine | None = None
) -> Saved:
    """Make the map what it was at the snapshot. The state before is saved first as a snapshot.

    Versioned like every edit (``ConflictError`` from a stale copy). ``Saved.ids`` holds the id of the
    "Before restoring" snapshot.
    """
    require(AccessRole.ADMIN, "restore a map from a snapshot")
    with audit.labelled("restore"), write_session(engine) as session:
        snapshot = crud.get_snapshot(session=session, snapshot_id=snapshot_id)
        journey_map = crud.check_version(session=session, map_id=snapshot.map_id, expected_version=expected_version)
        doc = map_io.parse_map_document(snapshot.payload.get("document", {}))
        before = Snapshot(
            map_id=snapshot.map_id,
            name=f"Before restoring “{snapshot.name}”"[: crud.MAX_NAME_LENGTH],
            payload=_payload(load_map_view(session, snapshot.map_id)),
        )
        session.add(before)
        session.flush()
        persona_ids = {ref: int(i) for ref, i in (snapshot.payload.get("ids", {}).get("personas") or {}).items()}
        map_io.replace_map_content(session, journey_map, doc, persona_ids=persona_ids, keep_name=keep_name)
        crud.touch_map(session=session, journey_map=journey_map)
        return Saved(version=journey_map.version, ids=(before.id or 0,))


def clone_as_future_state(map_id: int, name: str, *, review_by: Any = None, engine: Engine | None = None) -> int:
    """Copy a map into a new future-state map (``parent_map_id`` = ``map_id``, same personas). Returns its id."""
    clean = crud.clean_name(name, "future-state map name")
    with read_session(engine) as session:
        view = load_map_view(session, map_id)
    payload = _payload(view)
    doc = payload["document"]
    if review_by is not None:
        doc["map"]["review_by"] = review_by.isoformat() if hasattr(review_by, "isoformat") else review_by
    persona_ids = {ref: int(i) for ref, i in payload["ids"]["personas"].items()}
    return map_io.import_map_document(
        doc,
        name=clean,
        parent_map_id=map_id,
        state=MapState.FUTURE.value,
        persona_ids=persona_ids,
        engine=engine,
    )


def list_related_maps(map_id: int, *, engine: Engine | None = None) -> list[tuple[int, str, str]]:
    """(id, name, relation) of the map's parent ("current state") and children ("future state")."""
    with read_session(engine) as session:
        journey_map = crud.get_map(session=session, map_id=map_id)
        out: list[tuple[int, str, str]] = []
        if journey_map.parent_map_id is not None:
            parent = session.get(JourneyMap, journey_map.parent_map_id)
            if parent is not None:
                out.append((parent.id or 0, parent.name, "cloned from"))
        for child in session.exec(select(JourneyMap).where(JourneyMap.parent_map_id == map_id)).all():
            out.append((child.id or 0, child.name, "future state"))
        return out


def compare_maps(old_map_id: int, new_map_id: int, *, engine: Engine | None = None) -> pd.DataFrame:
    """Differences from one map to another (e.g. current → future state), matching by name."""
    if old_map_id == new_map_id:
        raise BadInputError.invalid("map to compare", new_map_id, "a different map")
    with read_session(engine) as session:
        old = map_io.document_from_view(load_map_view(session, old_map_id))
        new = map_io.document_from_view(load_map_view(session, new_map_id))
    diff = compute_map_diff(old, new)
    # Two different maps always differ in name and state; those are not differences of the journey.
    return diff[~((diff["area"] == "map") & diff["field"].isin(["name", "state"]))].reset_index(drop=True)


# --------------------------------------------------------------------------- the diff


def _lis_keep(sequence: Sequence[int]) -> set[int]:
    """Indexes of ``sequence`` forming a longest increasing subsequence (the items that did not move)."""
    if not sequence:
        return set()
    tails: list[int] = []
    tails_idx: list[int] = []
    prev = [-1] * len(sequence)
    for i, value in enumerate(sequence):
        pos = bisect.bisect_left(tails, value)
        if pos == len(tails):
            tails.append(value)
            tails_idx.append(i)
        else:
            tails[pos] = value
            tails_idx[pos] = i
        prev[i] = tails_idx[pos - 1] if pos > 0 else -1
    keep = set()
    i = tails_idx[-1]
    while i != -1:
        keep.add(i)
        i = prev[i]
    return keep


def _match(
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
    keys: Sequence[Any],
) -> dict[int, int]:
    """Match old items to new ones (by index), trying each key function in turn on the unmatched."""
    matched: dict[int, int] = {}
    used: set[int] = set()
    for key in keys:
        index: dict[Any, list[int]] = {}
        for j, item in enumerate(new):
            if j in used:
                continue
            k = key(item, "new")
            if k is not None:
                index.setdefault(k, []).append(j)
        for i, item in enumerate(old):
            if i in matched:
                continue
            k = key(item, "old")
            if k is None or not index.get(k):
                continue
            j = index[k].pop(0)
            matched[i] = j
            used.add(j)
    return matched


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def compute_map_diff(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_ids: Mapping[str, Mapping[str, int]] | None = None,
    new_ids: Mapping[str, Mapping[str, int]] | None = None,
) -> pd.DataFrame:
    """Differences from document ``old`` to document ``new`` (semantics in the module docstring)."""
    rows: list[dict[str, Any]] = []

    def add(area: str, change: str, item: str, field: str = "", before: Any = None, after: Any = None) -> None:
        rows.append(
            {"area": area, "change": change, "item": item, "field": field, "before": _fmt(before), "after": _fmt(after)}
        )

    def compare(area: str, item: str, a: Mapping[str, Any], b: Mapping[str, Any], fields: Sequence[str]) -> None:
        for f in fields:
            if a.get(f) != b.get(f):
                add(area, "changed", item, f, a.get(f), b.get(f))

    # The map's own fields.
    compare("map", new.get("map", {}).get("name", ""), old.get("map", {}), new.get("map", {}), list(new.get("map", {})))

    # Personas, by name.
    old_p, new_p = old.get("personas", []), new.get("personas", [])
    pm = _match(old_p, new_p, [lambda p, side: p.get("name")])
    old_persona_name = {p["ref"]: p["name"] for p in old_p}
    new_persona_name = {p["ref"]: p["name"] for p in new_p}
    for i, p in enumerate(old_p):
        if i in pm:
            compare("persona", p["name"], p, new_p[pm[i]], [k for k in map_io.PERSONA_KEYS if k != "name"])
        else:
            add("persona", "removed", p["name"])
    for j, p in enumerate(new_p):
        if j not in pm.values():
            add("persona", "added", p["name"])

    # Stages: by id, then by name.
    def ident(ids: Mapping[str, Mapping[str, int]] | None, kind: str, ref: str) -> int | None:
        return None if not ids else (ids.get(kind) or {}).get(ref)

    old_s, new_s = old.get("stages", []), new.get("stages", [])
    both_ids = bool(old_ids and new_ids)
    sm = _match(
        old_s,
        new_s,
        [
            lambda s, side: ident(old_ids if side == "old" else new_ids, "stages", s["ref"]) if both_ids else None,
            lambda s, side: s["name"].casefold(),
        ],
    )
    stage_map = {old_s[i]["ref"]: new_s[j]["ref"] for i, j in sm.items()}
    new_stage_name = {s["ref"]: s["name"] for s in new_s}
    old_stage_name = {s["ref"]: s["name"] for s in old_s}
    keep = _lis_keep([sm[i] for i in sorted(sm)])
    for n, i in enumerate(sorted(sm)):
        a, b = old_s[i], new_s[sm[i]]
        compare("stage", b["name"], a, b, ["name", "customer_goal", "business_goal", "outcomes", "revisitable"])
        if n not in keep:
            add("stage", "moved", b["name"], "position", i + 1, sm[i] + 1)
    for i, s in enumerate(old_s):
        if i not in sm:
            add("stage", "removed", s["name"], "", f"{len(s.get('touchpoints', []))} touchpoints")
    for j, s in enumerate(new_s):
        if j not in sm.values():
            add("stage", "added", s["name"], "", None, f"{len(s.get('touchpoints', []))} touchpoints")

    # Touchpoints: by id, then by name within the matched stage, then by name anywhere (a move).
    old_t = [{**t, "_stage": s["ref"]} for s in old_s for t in s.get("touchpoints", [])]
    new_t = [{**t, "_stage": s["ref"]} for s in new_s for t in s.get("touchpoints", [])]
    tm = _match(
        old_t,
        new_t,
        [
            lambda t, side: ident(old_ids if side == "old" else new_ids, "touchpoints", t["ref"]) if both_ids else None,
            lambda t, side: (
                (stage_map.get(t["_stage"]) if side == "old" else t["_stage"], t["name"].casefold())
                if (side == "new" or t["_stage"] in stage_map)
                else None
            ),
            lambda t, side: t["name"].casefold(),
        ],
    )
    tp_map = {old_t[i]["ref"]: new_t[j]["ref"] for i, j in tm.items()}
    new_tp_label = {t["ref"]: f"{new_stage_name[t['_stage']]} › {t['name']}" for t in new_t}
    old_tp_label = {t["ref"]: f"{old_stage_name[t['_stage']]} › {t['name']}" for t in old_t}
    by_stage: dict[str, list[int]] = {}
    for i in sorted(tm):
        a, b = old_t[i], new_t[tm[i]]
        label = new_tp_label[b["ref"]]
        compare("touchpoint", label, a, b, list(map_io.TOUCHPOINT_KEYS))
        if stage_map.get(a["_stage"]) != b["_stage"]:
            add("touchpoint", "moved", label, "stage", old_stage_name[a["_stage"]], new_stage_name[b["_stage"]])
        else:
            by_stage.setdefault(b["_stage"], []).append(i)
    for indexes in by_stage.values():
        order = [tm[i] for i in indexes]
        keep_t = _lis_keep(order)
        for n, i in enumerate(indexes):
            if n not in keep_t:
                add("touchpoint", "moved", new_tp_label[new_t[tm[i]]["ref"]], "position")
    matched_new_stages = set(stage_map.values())
    for i, t in enumerate(old_t):
        if i not in tm and t["_stage"] in stage_map:
            add("touchpoint", "removed", old_tp_label[t["ref"]])
    for j, t in enumerate(new_t):
        if j not in tm.values() and t["_stage"] in matched_new_stages:
            add("touchpoint", "added", new_tp_label[t["ref"]])

    # Items placed on a stage or touchpoint: old places are translated to new refs; items whose place
    # appeared or disappeared are covered by that stage's or touchpoint's own line.
    def old_place(item: Mapping[str, Any]) -> tuple[Any, Any] | None:
        s, t = item.get("stage"), item.get("touchpoint")
        if t is not None:
            return None if t not in tp_map else ("tp", tp_map[t])
        if s is not None:
            return None if s not in stage_map else ("stage", stage_map[s])
        return ("map", None)

    def new_place(item: Mapping[str, Any]) -> tuple[Any, Any] | None:
        s, t = item.get("stage"), item.get("touchpoint")
        if t is not None:
            return None if t not in tp_map.values() else ("tp", t)
        if s is not None:
            return None if s not in stage_map.values() else ("stage", s)
        return ("map", None)

    def place_label(place: tuple[Any, Any] | None) -> str:
        if place is None or place[0] == "map":
            return "whole map"
        return new_tp_label[place[1]] if place[0] == "tp" else new_stage_name[place[1]]

    def keyed(
        area: str,
        key_old: Any,
        key_new: Any,
        fields: Sequence[str],
        label: Any,
        items_old: Sequence[Mapping[str, Any]],
        items_new: Sequence[Mapping[str, Any]],
    ) -> None:
        olds = [(i, key_old(x)) for i, x in enumerate(items_old)]
        news = [(j, key_new(x)) for j, x in enumerate(items_new)]
        olds = [(i, k) for i, k in olds if k is not None]
        news = [(j, k) for j, k in news if k is not None]
        pool: dict[Any, list[int]] = {}
        for j, k in news:
            pool.setdefault(k, []).append(j)
        used: set[int] = set()
        for i, k in olds:
            if pool.get(k):
                j = pool[k].pop(0)
                used.add(j)
                compare(area, label(items_new[j], k), items_old[i], items_new[j], fields)
            else:
                add(area, "removed", label(items_old[i], k))
        for j, k in news:
            if j not in used:
                add(area, "added", label(items_new[j], k))

    def cell_key(place_fn: Any, names: Mapping[str, str]) -> Any:
        def key(c: Mapping[str, Any]) -> Any:
            place = place_fn(c)
            if place is None:
                return None
            return (place, names.get(c.get("persona")) if c.get("persona") else None, c.get("lane"))

        return key

    def cell_label(c: Mapping[str, Any], k: Any) -> str:
        place, persona, lane = k
        return f"{place_label(place)} · {lane}" + (f" · {persona}" if persona else "")

    keyed(
        "lane cell",
        cell_key(old_place, old_persona_name),
        cell_key(new_place, new_persona_name),
        ["text", "emotion"],
        cell_label,
        old.get("lane_cells", []),
        new.get("lane_cells", []),
    )

    def item_key(place_fn: Any, text_field: str) -> Any:
        def key(x: Mapping[str, Any]) -> Any:
            place = place_fn(x)
            return None if place is None else (place, x.get(text_field))

        return key

    def item_label(x: Mapping[str, Any], k: Any) -> str:
        return f"{place_label(k[0])} · {k[1]}"

    keyed(
        "pain point",
        item_key(old_place, "description"),
        item_key(new_place, "description"),
        ["severity"],
        item_label,
        old.get("pain_points", []),
        new.get("pain_points", []),
    )
    keyed(
        "opportunity",
        item_key(old_place, "description"),
        item_key(new_place, "description"),
        ["effort", "customer_value", "business_value"],
        item_label,
        old.get("opportunities", []),
        new.get("opportunities", []),
    )
    keyed(
        "action",
        lambda a: a.get("action"),
        lambda a: a.get("action"),
        ["owner", "status", "due_date", "expected_effect"],
        lambda a, k: str(k),
        old.get("actions", []),
        new.get("actions", []),
    )
    keyed(
        "metric",
        lambda m: m.get("name"),
        lambda m: m.get("name"),
        ["kind", "unit", "target", "direction", "source"],
        lambda m, k: str(k),
        old.get("metrics", []),
        new.get("metrics", []),
    )
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def summarise_diff(diff: pd.DataFrame) -> pd.DataFrame:
    """Counts of added / removed / changed / moved per area (rows: areas in a fixed order)."""
    areas = ["map", "persona", "stage", "touchpoint", "lane cell", "pain point", "opportunity", "action", "metric"]
    changes = ["added", "removed", "changed", "moved"]
    if diff.empty:
        return pd.DataFrame(columns=["area", *changes])
    counted = diff.drop_duplicates(["area", "change", "item"])
    table = pd.crosstab(counted["area"], counted["change"]).reindex(columns=changes, fill_value=0)
    table = table.reindex([a for a in areas if a in table.index]).reset_index()
    return table


def get_snapshot_summary(snapshot_id: int, *, engine: Engine | None = None) -> SnapshotSummary:
    with read_session(engine) as session:
        snapshot = session.get(Snapshot, snapshot_id)
        if snapshot is None:
            raise NotFoundError("Snapshot", snapshot_id)
        return _summary(snapshot)
