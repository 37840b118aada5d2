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
(place, description); actions by their text; personas and metrics by name. "moved" marks the stages
(and touchpoints within a stage) that left the longest run of items still in their old order.

What is counted: every item that found no partner is one row, "added" (new side) or "removed" (old
side), in its own area, also when its stage or touchpoint was added or removed with it. A stage added
with one touchpoint "QBR" holding a lane cell is three rows: the stage (its after says "1 touchpoint"),
the touchpoint "Expansion › QBR" and the lane cell "Expansion › QBR · doing"; so the summary
(:func:`summarise_diff`) counts the touchpoints, cells, pain points, opportunities and actions of a new or
deleted stage as added or removed. An item of a removed stage or touchpoint is named by its old place.
A touchpoint (and what it holds) that moved to an added stage is "moved", not added.
"""

from __future__ import annotations

import bisect
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import col, select

from analytics.numbers import plural
from core.errors import BadInputError, NotFoundError, UnknownNameError
from core.journey_map import PERSONA_FIELDS, MapView
from db import audit, crud
from db.access import AccessRole, require
from db.engine import read_session, write_session
from db.models import JourneyMap, MapState, Snapshot
from services import map_io
from services.map_edits import Saved
from services.map_view import load_map_view

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


def check_snapshot_id(session, snapshot_id: int) -> Snapshot:  # noqa: ANN001
    """The snapshot ``snapshot_id``; refused when there is none, naming the snapshots nearest by id
    (as :func:`services.context.check_map_id` names the maps there are)."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is not None:
        return snapshot
    rows = session.exec(select(Snapshot.id, Snapshot.map_id, Snapshot.name)).all()
    nearest = sorted(rows, key=lambda r: (abs((r[0] or 0) - snapshot_id), r[0]))[:5]
    raise UnknownNameError(
        "snapshot",
        snapshot_id,
        [f"{i} (map {m}: {n})" for i, m, n in nearest],
        message=f"There is no snapshot {snapshot_id}" + ("" if rows else " (no snapshot yet)"),
    )


def _snapshot_names(session, map_id: int) -> dict[str, Snapshot]:  # noqa: ANN001
    """The snapshots of a map by name as compared (:func:`db.crud.name_key`)."""
    rows = session.exec(select(Snapshot).where(Snapshot.map_id == map_id).order_by(col(Snapshot.id))).all()
    return {crud.name_key(s.name): s for s in rows}


def _automatic_name(session, map_id: int, name: str) -> str:  # noqa: ANN001
    """``name`` for a snapshot JourneyLens saves by itself, made unique within the map: " (2)", " (3)" …
    are added when a snapshot has it already (restoring one snapshot twice), within the longest name."""
    return crud.unique_name(name, _snapshot_names(session, map_id))


def create_snapshot(map_id: int, name: str, *, engine: Engine | None = None) -> int:
    """Save the map as it is now under ``name``. A snapshot does not change the map (nor its version).

    A name another snapshot of the map has (ignoring case and spaces at the ends) is refused, naming
    that snapshot: lists, links and the CLI tell snapshots apart by name."""
    from services.context import check_map_id  # the one refusal of an unknown map id, with the real ones

    clean = crud.clean_name(name, "snapshot name")
    with write_session(engine) as session:
        check_map_id(session, map_id)
        taken = _snapshot_names(session, map_id).get(crud.name_key(clean))
        if taken is not None:
            raise BadInputError.invalid(
                "snapshot name",
                clean,
                f"a name no other snapshot of this map has (snapshot {taken.id}, “{taken.name}”, has it)",
            )
        view = load_map_view(session, map_id)
        snapshot = Snapshot(map_id=map_id, name=clean, payload=_payload(view))
        session.add(snapshot)
        session.flush()
        return snapshot.id or 0


def list_snapshots(map_id: int, *, engine: Engine | None = None) -> list[SnapshotSummary]:
    """A map's snapshots, newest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(Snapshot)
            .where(Snapshot.map_id == map_id)
            .order_by(col(Snapshot.created_at).desc(), col(Snapshot.id).desc())
        ).all()
        return [_summary(s) for s in rows]


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
        snapshot = check_snapshot_id(session, snapshot_id)
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
    "Before restoring" snapshot; its name is unique within the map (" (2)" … after a second restore
    of one snapshot, :func:`_automatic_name`).
    """
    require(AccessRole.ADMIN, "restore a map from a snapshot")
    with audit.labelled("restore"), write_session(engine) as session:
        snapshot = crud.get_snapshot(session=session, snapshot_id=snapshot_id)
        journey_map = crud.check_version(session=session, map_id=snapshot.map_id, expected_version=expected_version)
        doc = map_io.parse_map_document(snapshot.payload.get("document", {}), own=True)
        before = Snapshot(
            map_id=snapshot.map_id,
            name=_automatic_name(session, snapshot.map_id, f"Before restoring “{snapshot.name}”"),
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
        own=True,
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


# Items placed on the map, a stage or a touchpoint, matched by a key and compared on some fields:
# (area, document list, key field, whether the key includes the item's place, fields compared).
_ITEM_DIFFS: tuple[tuple[str, str, str, bool, tuple[str, ...]], ...] = (
    ("lane cell", "lane_cells", "lane", True, ("text", "emotion")),
    ("pain point", "pain_points", "description", True, ("severity",)),
    ("opportunity", "opportunities", "description", True, ("effort", "customer_value", "business_value")),
    ("action", "actions", "action", False, ("owner", "status", "due_date", "expected_effect")),
    ("metric", "metrics", "name", False, ("kind", "unit", "target", "direction", "source")),
)
STAGE_DIFF_FIELDS = ("name", "customer_goal", "business_goal", "outcomes", "revisitable")


def _touchpoint_count(stage: Mapping[str, Any]) -> str:
    """What an added or removed stage held: "1 touchpoint", "3 touchpoints" (each also has a row)."""
    return plural(len(stage.get("touchpoints", [])), "touchpoint")


class _Diff:
    """The differences from document ``old`` to document ``new``, found area by area into ``rows``.

    Sides are named "old" and "new". Stages and touchpoints are matched first; the maps from old refs
    to new refs they leave (``stage_map``, ``tp_map``) place every other item (:meth:`place`).
    """

    def __init__(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        ids: Mapping[str, Mapping[str, Mapping[str, int]]] | None,
    ) -> None:
        self.docs = {"old": old, "new": new}
        self.ids = ids
        self.rows: list[dict[str, Any]] = []
        self.stage_map: dict[str, str] = {}
        self.tp_map: dict[str, str] = {}
        self.stage_follow: dict[str, str] = {}
        self.stage_name = {side: {s["ref"]: s["name"] for s in self.items_of(side, "stages")} for side in self.docs}
        self.persona_name = {side: {p["ref"]: p["name"] for p in self.items_of(side, "personas")} for side in self.docs}
        self.tps = {
            side: [{**t, "_stage": s["ref"]} for s in self.items_of(side, "stages") for t in s.get("touchpoints", [])]
            for side in self.docs
        }
        self.tp_label = {
            side: {t["ref"]: f"{self.stage_name[side][t['_stage']]} › {t['name']}" for t in self.tps[side]}
            for side in self.docs
        }

    def items_of(self, side: str, kind: str) -> list[Any]:
        return self.docs[side].get(kind, [])

    def add(self, area: str, change: str, item: str, field: str = "", before: Any = None, after: Any = None) -> None:
        self.rows.append(
            {"area": area, "change": change, "item": item, "field": field, "before": _fmt(before), "after": _fmt(after)}
        )

    def compare(self, area: str, item: str, a: Mapping[str, Any], b: Mapping[str, Any], fields: Sequence[str]) -> None:
        for f in fields:
            if a.get(f) != b.get(f):
                self.add(area, "changed", item, f, a.get(f), b.get(f))

    def ident(self, side: str, kind: str, ref: str) -> int | None:
        """The database id behind a ref, when both sides have ids."""
        return None if not self.ids else (self.ids[side].get(kind) or {}).get(ref)

    def unmatched(
        self, area: str, items: Sequence[Any], side: str, matched: Container[int], label: Any, note: Any = None
    ) -> None:
        """Rows for the items of one side that found no partner: removed (old side) or added (new side).
        ``label`` None skips an item; ``note`` says what went with it."""
        for i, item in enumerate(items):
            name = None if i in matched else label(item)
            if name is None:
                continue
            detail = note(item) if note else None
            before, after = (detail, None) if side == "old" else (None, detail)
            self.add(area, "removed" if side == "old" else "added", name, "", before, after)

    def map_fields(self) -> None:
        new_map = self.docs["new"].get("map", {})
        self.compare("map", new_map.get("name", ""), self.docs["old"].get("map", {}), new_map, list(new_map))

    def personas(self) -> None:
        old_p, new_p = self.items_of("old", "personas"), self.items_of("new", "personas")
        pm = _match(old_p, new_p, [lambda p, side: p.get("name")])
        fields = [k for k in PERSONA_FIELDS if k != "name"]
        for i, p in enumerate(old_p):
            if i in pm:
                self.compare("persona", p["name"], p, new_p[pm[i]], fields)
            else:
                self.add("persona", "removed", p["name"])
        self.unmatched("persona", new_p, "new", set(pm.values()), lambda p: p["name"])

    def stages(self) -> None:
        old_s, new_s = self.items_of("old", "stages"), self.items_of("new", "stages")
        sm = _match(
            old_s, new_s, [lambda s, side: self.ident(side, "stages", s["ref"]), lambda s, side: s["name"].casefold()]
        )
        self.stage_map = {old_s[i]["ref"]: new_s[j]["ref"] for i, j in sm.items()}
        keep = _lis_keep([sm[i] for i in sorted(sm)])
        for n, i in enumerate(sorted(sm)):
            a, b = old_s[i], new_s[sm[i]]
            self.compare("stage", b["name"], a, b, STAGE_DIFF_FIELDS)
            if n not in keep:
                self.add("stage", "moved", b["name"], "position", i + 1, sm[i] + 1)
        self.unmatched("stage", old_s, "old", sm, lambda s: s["name"], _touchpoint_count)
        self.unmatched("stage", new_s, "new", set(sm.values()), lambda s: s["name"], _touchpoint_count)

    def tp_key(self, t: Mapping[str, Any], side: str) -> Any:
        """A touchpoint's (new stage ref, name), for matching within its matched stage."""
        if side == "new":
            return (t["_stage"], t["name"].casefold())
        return (self.stage_map[t["_stage"]], t["name"].casefold()) if t["_stage"] in self.stage_map else None

    def touchpoints_diff(self) -> None:
        old_t, new_t = self.tps["old"], self.tps["new"]
        tm = _match(
            old_t,
            new_t,
            [
                lambda t, side: self.ident(side, "touchpoints", t["ref"]),
                self.tp_key,
                lambda t, side: t["name"].casefold(),
            ],
        )
        self.tp_map = {old_t[i]["ref"]: new_t[j]["ref"] for i, j in tm.items()}
        self.stage_follow = self.renamed_stages()
        self.touchpoint_changes(tm)
        # Every touchpoint without a partner, those of an added or removed stage too (module docstring).
        for side, matched in (("old", set(tm)), ("new", set(tm.values()))):
            self.unmatched(
                "touchpoint", self.tps[side], side, matched, lambda t, side=side: self.tp_label[side][t["ref"]]
            )

    def renamed_stages(self) -> dict[str, str]:
        """Old stages without a partner whose matched touchpoints all went to one new stage without a partner,
        and no other old stage's did: a stage renamed where no ids tell it (a comparison of two maps, an old
        snapshot). The stages' own rows stay removed and added; what sat on the whole stage follows it
        (:meth:`place`), so an unchanged cell is not counted as removed and added."""
        lone_old = {s["ref"] for s in self.items_of("old", "stages")} - set(self.stage_map)
        lone_new = {s["ref"] for s in self.items_of("new", "stages")} - set(self.stage_map.values())
        stage_of = {t["ref"]: t["_stage"] for t in self.tps["new"]}
        went: dict[str, set[str]] = {}
        for t in self.tps["old"]:
            if t["_stage"] in lone_old and t["ref"] in self.tp_map:
                went.setdefault(t["_stage"], set()).add(stage_of[self.tp_map[t["ref"]]])
        follow = {old: next(iter(new)) for old, new in went.items() if len(new) == 1 and new <= lone_new}
        targets = list(follow.values())
        return {old: new for old, new in follow.items() if targets.count(new) == 1}

    def touchpoint_changes(self, tm: Mapping[int, int]) -> None:
        """Rows for matched touchpoints (old index → new index ``tm``): changed fields, a move to another
        stage, a move within its stage."""
        old_t, new_t = self.tps["old"], self.tps["new"]
        by_stage: dict[str, list[int]] = {}
        for i in sorted(tm):
            a, b = old_t[i], new_t[tm[i]]
            label = self.tp_label["new"][b["ref"]]
            self.compare("touchpoint", label, a, b, list(map_io.TOUCHPOINT_KEYS))
            if self.stage_map.get(a["_stage"]) != b["_stage"]:
                old_stage, new_stage = self.stage_name["old"][a["_stage"]], self.stage_name["new"][b["_stage"]]
                self.add("touchpoint", "moved", label, "stage", old_stage, new_stage)
            else:
                by_stage.setdefault(b["_stage"], []).append(i)
        for indexes in by_stage.values():
            keep = _lis_keep([tm[i] for i in indexes])
            for n, i in enumerate(indexes):
                if n not in keep:
                    self.add("touchpoint", "moved", self.tp_label["new"][new_t[tm[i]]["ref"]], "position")

    def place(self, item: Mapping[str, Any], side: str) -> tuple[str, str | None, str]:
        """Where an item sits: (kind, ref, side of that ref), kind "tp", "stage" or "map" (ref None).

        In new refs where the place is on the new side, so items of matched places match; an old item
        whose stage or touchpoint was removed keeps its old ref, tagged "old", and matches nothing (it is
        removed); a new item of an added place matches nothing either (it is added)."""
        for field, kind, table in (("touchpoint", "tp", self.tp_map), ("stage", "stage", self.stage_map)):
            ref = item.get(field)
            if ref is None:
                continue
            if side == "old":
                if ref in table:
                    return (kind, table[ref], "new")
                if kind == "stage" and ref in self.stage_follow:  # a renamed stage (:meth:`renamed_stages`)
                    return (kind, self.stage_follow[ref], "new")
                return (kind, ref, "old")
            return (kind, ref, "new")
        return ("map", None, "new")

    def place_label(self, place: tuple[str, str | None, str]) -> str:
        kind, ref, side = place
        if kind == "map" or ref is None:
            return "whole map"
        return self.tp_label[side][ref] if kind == "tp" else self.stage_name[side][ref]

    def item_key(self, item: Mapping[str, Any], side: str, key_field: str, placed: bool) -> Any:
        if not placed:
            return item.get(key_field)
        place = self.place(item, side)
        if key_field == "lane":
            persona = self.persona_name[side].get(item["persona"]) if item.get("persona") else None
            return (place, persona, item.get("lane"))
        return (place, item.get(key_field))

    def item_label(self, key: Any, key_field: str, placed: bool) -> str:
        if not placed:
            return str(key)
        if key_field == "lane":
            place, persona, lane = key
            return f"{self.place_label(place)} · {lane}" + (f" · {persona}" if persona else "")
        return f"{self.place_label(key[0])} · {key[1]}"

    def items(self, area: str, kind: str, key_field: str, placed: bool, fields: Sequence[str]) -> None:
        """Items matched by key, each old one to the first unused new one with the same key."""
        olds = [(i, self.item_key(x, "old", key_field, placed)) for i, x in enumerate(self.items_of("old", kind))]
        news = [(j, self.item_key(x, "new", key_field, placed)) for j, x in enumerate(self.items_of("new", kind))]
        pool: dict[Any, list[int]] = {}
        for j, k in news:
            if k is not None:
                pool.setdefault(k, []).append(j)
        used: set[int] = set()
        for i, k in olds:
            if k is None:
                continue
            if pool.get(k):
                j = pool[k].pop(0)
                used.add(j)
                old_item, new_item = self.items_of("old", kind)[i], self.items_of("new", kind)[j]
                self.compare(area, self.item_label(k, key_field, placed), old_item, new_item, fields)
            else:
                old_item = self.items_of("old", kind)[i]
                self.add(area, "removed", self.item_label(k, key_field, placed), "", _said(old_item, fields), None)
        for j, k in news:
            if k is not None and j not in used:
                new_item = self.items_of("new", kind)[j]
                self.add(area, "added", self.item_label(k, key_field, placed), "", None, _said(new_item, fields))


def _said(item: Mapping[str, Any], fields: Sequence[str]) -> str:
    """What an added or removed item held, in its compared fields ("text: Slow quote · severity: 5"),
    so the diff shows it rather than an empty before or after."""
    return " · ".join(f"{f}: {_fmt(item[f])}" for f in fields if item.get(f) not in (None, "", [], {}))


def compute_map_diff(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_ids: Mapping[str, Mapping[str, int]] | None = None,
    new_ids: Mapping[str, Mapping[str, int]] | None = None,
) -> pd.DataFrame:
    """Differences from document ``old`` to document ``new`` (matching in the module docstring).

    Counted: a row per changed field of a matched item, per move, and per item added or removed, in its
    own area; the touchpoints, lane cells, pain points, opportunities and actions of an added or removed
    stage or touchpoint are each added or removed too (never left to their parent's row)."""
    diff = _Diff(old, new, {"old": old_ids, "new": new_ids} if old_ids and new_ids else None)
    diff.map_fields()
    diff.personas()
    diff.stages()
    diff.touchpoints_diff()
    for spec in _ITEM_DIFFS:
        diff.items(*spec)
    return pd.DataFrame(diff.rows, columns=DIFF_COLUMNS)


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
