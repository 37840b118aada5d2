"""Export and import journey maps: JSON (complete) and CSV (one row per cell); Mermaid ``flowchart`` text
is :mod:`services.map_mermaid`.

JSON document (``format: "journeylens-map"``, ``format_version: 1``)::

    {"format", "format_version",
     "map": {name, description, scenario, state, owner, review_by (YYYY-MM-DD or null), template_key},
     "personas": [{ref "P1", name, description, demographics, job_title, company_size, industry,
                   is_decision_maker, committee_role, goals, pain_points, buying_behaviour, channels}],
     "stages": [{ref "S1", name, customer_goal, business_goal, outcomes [..], revisitable,
                 touchpoints: [{ref "T1", name, channel, owner_team, responsible, accountable,
                                consulted, informed, moment_of_truth, activity_names [..]}]}],
     "lane_cells": [{stage, touchpoint|null, persona|null, lane, text, emotion|null}],
     "pain_points": [{stage, touchpoint|null, persona|null, description, severity}],
     "opportunities": [{stage, touchpoint|null, description, effort, customer_value, business_value}],
     "metrics": [{ref "M1", stage|null, touchpoint|null, kind, name, unit, target, direction, source,
                  dataset_id, computed_with {period, fcr_from, window_days, gross_margin} (optional),
                  values: [{period, value, respondents, computed}]}],
     "actions": [{stage|null, touchpoint|null, metric|null, action, owner, status, due_date, expected_effect}]}

Items refer to each other by ``ref`` (numbered in display order), never by database id, so a file
moves between workspaces. Export → import → export gives the same document: the map is identical.
Importing validates the whole document first (a malformed file gets an error naming the path of the
bad value, e.g. ``stages[1].touchpoints[0].name``) and writes everything in one transaction, so
nothing is written on any error. Imported personas reuse an existing persona with identical fields.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, select

from analytics.metrics import clean_kept_options
from core.errors import BadInputError
from core.journey_map import PERSONA_FIELDS, MapView
from db import crud
from db.engine import read_session, write_session
from db.inputs import (
    ActionInput,
    Input,
    LaneCellInput,
    OpportunityInput,
    PainPointInput,
    StageCreate,
    TouchpointCreate,
    clean_choice,
    clean_map_fields,
    clean_persona_fields,
    clean_text,
    validate,
)
from db.models import (
    Action,
    Dataset,
    Direction,
    JourneyMap,
    Lane,
    LaneCell,
    MapPersona,
    MapState,
    Metric,
    MetricKind,
    MetricValue,
    Opportunity,
    PainPoint,
    Persona,
    Stage,
    Touchpoint,
)
from services.csv_safety import to_safe_csv
from services.map_view import get_map_view
from services.metrics import check_value_in_range
from services.personas import find_identical_persona

FORMAT = "journeylens-map"
FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 20 * 1024 * 1024
TOUCHPOINT_KEYS = (
    "name",
    "channel",
    "owner_team",
    "responsible",
    "accountable",
    "consulted",
    "informed",
    "moment_of_truth",
    "activity_names",
)


# --------------------------------------------------------------------------- view → document


# Fields of the document's placed items, in document order. A field naming another item ("stage",
# "touchpoint", "persona", "metric") holds that item's ref; the view holds its id in ``<field>_id``.
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "lane_cells": ("stage", "touchpoint", "persona", "lane", "text", "emotion"),
    "pain_points": ("stage", "touchpoint", "persona", "description", "severity"),
    "opportunities": ("stage", "touchpoint", "description", "effort", "customer_value", "business_value"),
    "metrics": (
        "ref",
        "stage",
        "touchpoint",
        "kind",
        "name",
        "unit",
        "target",
        "direction",
        "source",
        "dataset_id",
        "computed_with",
    ),
    "actions": ("stage", "touchpoint", "metric", "action", "owner", "status", "due_date", "expected_effect"),
}
_REF_TABLES = {"stage": "stages", "touchpoint": "touchpoints", "persona": "personas", "metric": "metrics"}


def document_refs(view: MapView) -> dict[str, dict[int, str]]:
    """The refs of a view's items: {"stages": {id: "S1"}, "touchpoints": {id: "T1"}, "personas", "metrics"}."""
    return {
        "stages": {s.id: f"S{i}" for i, s in enumerate(view.stages, start=1)},
        "touchpoints": {t.id: f"T{i}" for i, t in enumerate(view.touchpoints, start=1)},
        "personas": {p.id: f"P{i}" for i, p in enumerate(view.personas, start=1)},
        "metrics": {m.id: f"M{i}" for i, m in enumerate(view.metrics, start=1)},
    }


def _item_document(item: Any, kind: str, refs: Mapping[str, Mapping[int, str]]) -> dict[str, Any]:
    """One placed item of a view as the document writes it (``ITEM_FIELDS[kind]``)."""
    out: dict[str, Any] = {}
    for name in ITEM_FIELDS[kind]:
        if name == "ref":
            out[name] = refs[kind][item.id]
        elif name in _REF_TABLES:
            ident = getattr(item, f"{name}_id")
            out[name] = None if ident is None else refs[_REF_TABLES[name]].get(ident)
        else:
            value = getattr(item, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def document_from_view(view: MapView) -> dict[str, Any]:
    """The complete JSON document of a map (format in the module docstring)."""
    refs = document_refs(view)
    stage_ref, tp_ref, persona_ref = refs["stages"], refs["touchpoints"], refs["personas"]
    document: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "map": {
            "name": view.name,
            "description": view.description,
            "scenario": view.scenario,
            "state": view.state,
            "owner": view.owner,
            "review_by": view.review_by.isoformat() if view.review_by else None,
            "template_key": view.template_key,
        },
        "personas": [{"ref": persona_ref[p.id], **{k: getattr(p, k) for k in PERSONA_FIELDS}} for p in view.personas],
        "stages": [
            {
                "ref": stage_ref[s.id],
                "name": s.name,
                "customer_goal": s.customer_goal,
                "business_goal": s.business_goal,
                "outcomes": list(s.outcomes),
                "revisitable": s.revisitable,
                "touchpoints": [
                    {
                        "ref": tp_ref[t.id],
                        **{k: list(getattr(t, k)) if k == "activity_names" else getattr(t, k) for k in TOUCHPOINT_KEYS},
                    }
                    for t in s.touchpoints
                ],
            }
            for s in view.stages
        ],
    }
    for kind in ITEM_FIELDS:
        document[kind] = [_item_document(item, kind, refs) for item in getattr(view, kind)]
    for metric, item in zip(document["metrics"], view.metrics, strict=True):
        metric["values"] = [
            {"period": v.period, "value": v.value, "respondents": v.respondents, "computed": v.computed}
            for v in item.values
        ]
    return document


def empty_document() -> dict[str, Any]:
    """The document of a map with nothing in it (name it before writing it)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "map": {"name": ""}}


def export_map_document(map_id: int, *, engine: Engine | None = None) -> dict[str, Any]:
    return document_from_view(get_map_view(map_id, engine=engine))


def document_to_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_map_json(map_id: int, *, engine: Engine | None = None) -> str:
    """The map as a JSON document (UTF-8 text; format in the module docstring)."""
    return document_to_json(export_map_document(map_id, engine=engine))


# --------------------------------------------------------------------------- CSV: one row per cell

CSV_COLUMNS = [
    "map",
    "stage_order",
    "stage",
    "touchpoint_order",
    "touchpoint",
    "channel",
    "owner_team",
    "raci",
    "moment_of_truth",
    "persona",
    "item",
    "text",
    "emotion",
    "severity",
    "effort",
    "customer_value",
    "business_value",
    "priority",
    "owner",
    "status",
    "due_date",
    "metric",
    "expected_effect",
]


def compute_map_cells(view: MapView) -> pd.DataFrame:
    """Every cell of the map as one row (columns ``CSV_COLUMNS``), in stage and touchpoint order.

    ``item`` says what the row is: ``touchpoint`` (its own row: channel, owner, RACI, moment of truth),
    ``customer goal`` / ``your goal`` (a stage's goals), a lane (``thinking``, ``doing``, ``feeling``
    with its emotion −2..+2, ...), ``pain point`` (severity 1–5), ``opportunity`` (effort and values
    1–5, priority as in ``services.studio``) or ``action``. Rows about a whole stage have no touchpoint.
    """
    stage_pos = {s.id: i for i, s in enumerate(view.stages, start=1)}
    tp_pos: dict[int, int] = {}
    for s in view.stages:
        for i, t in enumerate(s.touchpoints, start=1):
            tp_pos[t.id] = i
    stages = {s.id: s for s in view.stages}
    tps = {t.id: t for t in view.touchpoints}
    personas = {p.id: p.name for p in view.personas}
    metrics = {m.id: m.name for m in view.metrics}
    rows: list[dict[str, Any]] = []

    def base(stage_id: int | None, tp_id: int | None, item: str, **values: Any) -> dict[str, Any]:
        tp = tps.get(tp_id) if tp_id is not None else None
        row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS)
        row.update(
            map=view.name,
            stage_order=stage_pos.get(stage_id) if stage_id is not None else None,
            stage=stages[stage_id].name if stage_id in stages else "",
            touchpoint_order=tp_pos.get(tp_id) if tp_id is not None else None,
            touchpoint=tp.name if tp else "",
            channel=tp.channel if tp else "",
            owner_team=tp.owner_team if tp else "",
            raci=tp.raci if tp else "",
            moment_of_truth=tp.moment_of_truth if tp else None,
            persona="",
            item=item,
            text="",
        )
        row.update(values)
        return row

    for s in view.stages:
        if s.customer_goal:
            rows.append(base(s.id, None, "customer goal", text=s.customer_goal))
        if s.business_goal:
            rows.append(base(s.id, None, "your goal", text=s.business_goal))
        for t in s.touchpoints:
            rows.append(base(s.id, t.id, "touchpoint", text=t.name))
    for c in view.lane_cells:
        rows.append(
            base(
                c.stage_id,
                c.touchpoint_id,
                c.lane,
                text=c.text,
                emotion=c.emotion,
                persona=personas.get(c.persona_id, ""),
            )
        )
    for p in view.pain_points:
        rows.append(
            base(
                p.stage_id, p.touchpoint_id, "pain point",
                text=p.description, severity=p.severity, persona=personas.get(p.persona_id, ""),
            )
        )  # fmt: skip
    for o in view.opportunities:
        rows.append(
            base(
                o.stage_id, o.touchpoint_id, "opportunity", text=o.description, effort=o.effort,
                customer_value=o.customer_value, business_value=o.business_value, priority=o.priority,
            )
        )  # fmt: skip
    for a in view.actions:
        rows.append(
            base(
                a.stage_id, a.touchpoint_id, "action", text=a.action, owner=a.owner, status=a.status,
                due_date=a.due_date.isoformat() if a.due_date else None,
                metric=metrics.get(a.metric_id, "") if a.metric_id else "", expected_effect=a.expected_effect,
            )
        )  # fmt: skip
    item_order = ["customer goal", "your goal", "touchpoint", "thinking", "doing", "feeling"]
    item_order += [lane.value for lane in Lane if lane.value not in item_order]
    item_order += ["pain point", "opportunity", "action"]
    order = {name: i for i, name in enumerate(item_order)}
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS)
    frame["_s"] = frame["stage_order"].fillna(10**6)
    frame["_t"] = frame["touchpoint_order"].fillna(0)
    frame["_i"] = frame["item"].map(lambda i: order.get(i, 100))
    frame = frame.sort_values(["_s", "_t", "_i"], kind="stable").drop(columns=["_s", "_t", "_i"])
    whole = ["stage_order", "touchpoint_order", "emotion", "severity", "effort", "customer_value", "business_value"]
    frame = frame.astype({c: "Int64" for c in whole} | {"priority": "Float64", "moment_of_truth": "boolean"})
    return frame.reset_index(drop=True)


def export_map_csv(map_id: int, *, engine: Engine | None = None) -> bytes:
    """The map's cells as CSV bytes (UTF-8 with BOM; formula-like text neutralised by services.csv_safety)."""
    return to_safe_csv(compute_map_cells(get_map_view(map_id, engine=engine)))


# --------------------------------------------------------------------------- document → map (validated)


def _expect(value: Any, kind: type, path: str, expected: str) -> Any:
    if not isinstance(value, kind):
        raise BadInputError.invalid(path, value, expected)
    return value


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    return _expect(value, dict, path, "an object { ... }")


def _arr(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    return _expect(value, list, path, "a list [ ... ]")


# The JSON type of each kind of document field (the document is JSON: "3" is not a number, "yes" is not
# true or false) and what its refusal expects. What the values mean (lengths, ranges, choices, dates) is
# checked by the input models of ``db.inputs``, as for every other writer. "name" and "required" fields
# are passed on even when missing, so the model refuses them.
_JSON_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "name": ((str,), "a non-empty name (text)"),
    "required": ((str, type(None)), "text"),
    "text": ((str, type(None)), "text"),
    "number": ((int, float, type(None)), "a number"),
    "flag": ((bool, type(None)), "true or false"),
    "list": ((list, type(None)), "a list [ ... ]"),
    "date": ((str, type(None)), "a date as YYYY-MM-DD or null"),
    "any": ((object,), ""),
}


def _fields(obj: Mapping[str, Any], path: str, **kinds: str) -> dict[str, Any]:
    """The fields of ``obj`` named in ``kinds`` (field → kind of ``_JSON_TYPES``), each of its JSON type."""
    out: dict[str, Any] = {}
    for key, kind in kinds.items():
        if key not in obj and kind not in ("name", "required"):
            continue
        value = obj.get(key)
        types, expected = _JSON_TYPES[kind]
        if (isinstance(value, bool) and bool not in types and kind != "any") or not isinstance(value, types):
            raise BadInputError.invalid(f"{path}.{key}", value, expected)
        out[key] = value
    return out


_In = TypeVar("_In", bound=Input)


def _checked(model: type[_In], values: Mapping[str, Any], path: str, *, other: str = "") -> _In:
    """``values`` through the input model; a refusal names the document path of the field (``other``: the
    key of a field the model labels otherwise, a lane cell's text being named after its lane)."""
    try:
        return validate(model, values)
    except BadInputError as exc:
        titles = {f.title or k.replace("_", " "): k for k, f in model.model_fields.items()}  # as validate names them
        key = exc.field if exc.field in model.model_fields else titles.get(exc.field, other or exc.field)
        raise BadInputError.invalid(f"{path}.{key}", exc.value, exc.expected) from None


def _ref(obj: Mapping[str, Any], key: str, path: str, known: Mapping[str, Any], *, required: bool) -> Any:
    value = obj.get(key)
    if value is None:
        if required:
            raise BadInputError.invalid(f"{path}.{key}", value, f"the ref of one of the document's {key}s")
        return None
    if not isinstance(value, str) or value not in known:
        listed = ", ".join(list(known)[:10]) or "none"
        raise BadInputError.invalid(f"{path}.{key}", value, f"a ref defined in the document ({listed})")
    return known[value]


def parse_map_document(data: str | bytes | Mapping[str, Any], *, own: bool = False) -> dict[str, Any]:
    """Read and check a JSON document; returns it as a dict or raises ``BadInputError`` naming what is wrong.

    Accepts text, bytes (UTF-8, with or without BOM) or an already-parsed dict. Checks the format
    marker and version, every field's type and range (a metric's target and values on its kind's
    scale, :data:`services.metrics.VALUE_RANGES`), that every ref is defined, and that no ref, lane
    cell or touchpoint name within a stage is defined twice.

    ``own``: a document this workspace wrote itself (a snapshot restored, a map cloned). Its content
    passed the checks of the day it was saved, so those added since (stage names unique within a map,
    touchpoint names within a stage, metric values and targets on their kind's scale) are not asked
    again: a version the app kept can always come back, and a map can always be cloned, as it is.
    """
    if isinstance(data, bytes | bytearray):
        if len(data) > MAX_IMPORT_BYTES:
            raise BadInputError.invalid("JSON file", f"{len(data)} bytes", f"at most {MAX_IMPORT_BYTES // 2**20} MB")
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInputError.invalid("JSON file", f"byte {exc.start}", "UTF-8 encoded JSON") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise BadInputError.invalid(
                "JSON file", f"line {exc.lineno}, column {exc.colno}: {exc.msg}", "a JSON map exported by JourneyLens"
            ) from None
        except RecursionError:
            raise BadInputError.invalid(
                "JSON file", "nested too deeply", "a JSON map exported by JourneyLens"
            ) from None
    doc = dict(_obj(data, "document"))
    if "format" not in doc:  # said as it is, not as "format: None is not valid"
        raise BadInputError(
            "this JSON file has no format field, so it is not a map exported by JourneyLens",
            expected=f'"format": "{FORMAT}"',
        )
    if doc.get("format") != FORMAT:
        raise BadInputError.invalid("format", doc.get("format"), f'"{FORMAT}" (a map exported by JourneyLens)')
    if doc.get("format_version") != FORMAT_VERSION:
        raise BadInputError.invalid("format_version", doc.get("format_version"), f"{FORMAT_VERSION}")
    _write_document(None, doc, map_id=None, own=own)  # every check of the write, without a session
    return doc


@dataclass
class _Walk:
    """One walk over a document's items: checks each and, with a session, writes it into map ``map_id``.

    ``ids`` holds, per kind of item with a ref (personas, stages, touchpoints, metrics), the database id
    behind each ref (None while only checking).
    """

    session: Session | None
    map_id: int
    persona_ids: Mapping[str, int]
    ids: dict[str, dict[str, int | None]] = field(
        default_factory=lambda: {"personas": {}, "stages": {}, "touchpoints": {}, "metrics": {}}
    )
    tp_stage: dict[str, str] = field(default_factory=dict)
    cell_keys: set[tuple[Any, ...]] = field(default_factory=set)
    # Per stage ref: its name, and its touchpoints' names as compared (trimmed, case folded) → as written.
    stage_names: dict[str, str] = field(default_factory=dict)
    tp_names: dict[str, dict[str, str]] = field(default_factory=dict)
    own: bool = False  # a document the app wrote itself (parse_map_document)

    def define(self, kind: str, obj: Mapping[str, Any], path: str) -> str:
        """The item's ref, refused if missing or already defined anywhere in the document."""
        ref = obj.get("ref")
        if not isinstance(ref, str) or not ref.strip():
            raise BadInputError.invalid(f"{path}.ref", ref, f"a ref such as {kind[0].upper()}1")
        if any(ref in refs for refs in self.ids.values()):
            raise BadInputError.invalid(f"{path}.ref", ref, "a ref used only once in the document")
        self.ids[kind][ref] = None
        return ref

    def ref(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
        return _ref(obj, key, path, self.ids[f"{key}s"], required=required)

    def add(self, row: Any, kind: str | None = None, ref: str = "") -> None:
        """Write ``row`` (when writing); a row with a ref is flushed so the items after it can point at it."""
        if self.session is None:
            return
        self.session.add(row)
        if kind is not None:
            self.session.flush()
            self.ids[kind][ref] = row.id

    def place(self, obj: Mapping[str, Any], path: str, *, required: bool) -> tuple[Any, Any]:
        """(stage id, touchpoint id) of an item. Items that must sit on a stage (cells, pain points,
        opportunities) take their touchpoint's stage; metrics and actions keep a stage only if given."""
        touchpoint = obj.get("touchpoint")
        stage_id = self.ref(obj, "stage", path, required=required and touchpoint is None)
        tp_id = self.ref(obj, "touchpoint", path)
        if touchpoint is None:
            return stage_id, tp_id
        owner = self.tp_stage[touchpoint]
        if obj.get("stage") is not None and obj["stage"] != owner:
            raise BadInputError.invalid(
                f"{path}.stage", obj.get("stage"), f"{owner}, the stage of touchpoint {touchpoint}"
            )
        return (self.ids["stages"][owner] if required else stage_id), tp_id


# Checks (and, with a session, writes) one item: (walk, the item, its path in the document, its index).
_ItemWriter = Callable[[_Walk, Mapping[str, Any], str, int], None]


def _persona(walk: _Walk, p: Mapping[str, Any], path: str, position: int) -> None:
    ref = walk.define("personas", p, path)
    raw = {k: p.get(k) for k in PERSONA_FIELDS if k in p}
    for k, v in raw.items():
        if k == "is_decision_maker" and not isinstance(v, bool | None):
            raise BadInputError.invalid(f"{path}.{k}", v, "true or false")
        if k != "is_decision_maker" and not isinstance(v, str | None):
            raise BadInputError.invalid(f"{path}.{k}", v, "text or null")
    try:
        fields = clean_persona_fields(raw, new=True)
    except BadInputError as exc:
        raise BadInputError.invalid(f"{path}.{exc.field}", exc.value, exc.expected) from None
    if walk.session is not None:
        walk.ids["personas"][ref] = _persona_id(walk, walk.session, ref, fields)


def _persona_id(walk: _Walk, session: Session, ref: str, fields: dict[str, Any]) -> int | None:
    """The persona behind ``ref``: the one ``persona_ids`` names, else an identical one, else a new one;
    never one another ref of the document already took. Links it to the map."""
    taken = set(walk.ids["personas"].values())
    existing_id = walk.persona_ids.get(ref)
    persona = session.get(Persona, existing_id) if existing_id is not None else None
    if persona is None or persona.id in taken:
        persona = find_identical_persona(session, fields)
    # Two refs of one document are two personas, even with the same fields.
    if persona is None or persona.id in taken:
        persona = Persona(**fields)
        session.add(persona)
        session.flush()
    if session.get(MapPersona, (walk.map_id, persona.id)) is None:
        session.add(MapPersona(map_id=walk.map_id, persona_id=persona.id or 0))
        session.flush()
    return persona.id


def _stage(walk: _Walk, s: Mapping[str, Any], path: str, position: int) -> None:
    ref = walk.define("stages", s, path)
    kinds = {
        "name": "name",
        "customer_goal": "text",
        "business_goal": "text",
        "outcomes": "list",
        "revisitable": "flag",
    }
    stage_in = _checked(StageCreate, _fields(s, path, **kinds), path)
    # One stage per name (as services.map_edits refuses on an edit): stage-level analyses, grids and
    # diffs name stages, and could not tell two apart.
    taken = next((n for n in walk.stage_names.values() if crud.name_key(n) == crud.name_key(stage_in.name)), None)
    if taken is not None and not walk.own:
        raise BadInputError.invalid(
            f"{path}.name", stage_in.name, f"a name no other stage of this map has (“{taken}” is taken)"
        )
    walk.stage_names[ref] = stage_in.name
    walk.add(Stage(map_id=walk.map_id, position=position, **stage_in.model_dump(exclude={"position"})), "stages", ref)
    for j, item in enumerate(_arr(s.get("touchpoints"), f"{path}.touchpoints")):
        tpath = f"{path}.touchpoints[{j}]"
        _touchpoint(walk, _obj(item, tpath), tpath, j, ref)


_TOUCHPOINT_KINDS = {
    "name": "name",
    **dict.fromkeys(TOUCHPOINT_KEYS[1:7], "text"),
    "moment_of_truth": "flag",
    "activity_names": "list",
}


def _touchpoint(walk: _Walk, t: Mapping[str, Any], path: str, position: int, stage_ref: str) -> None:
    ref = walk.define("touchpoints", t, path)
    fields = _fields(t, path, **_TOUCHPOINT_KINDS)
    for k, name in enumerate(fields.get("activity_names") or []):
        if not isinstance(name, str):
            raise BadInputError.invalid(f"{path}.activity_names[{k}]", name, "text")
    tp_in = _checked(TouchpointCreate, {**fields, "stage_id": walk.ids["stages"][stage_ref] or 0}, path)
    # One touchpoint per name within a stage (as services.map_edits refuses on an edit): grids, exports,
    # diffs and links name touchpoints within their stage, and could not tell two apart.
    names = walk.tp_names.setdefault(stage_ref, {})
    key = crud.name_key(tp_in.name)
    if key in names and not walk.own:
        stage = walk.stage_names[stage_ref]
        raise BadInputError.invalid(
            f"{path}.name", tp_in.name, f"a name no other touchpoint of stage “{stage}” has (“{names[key]}” is taken)"
        )
    names[key] = tp_in.name
    walk.tp_stage[ref] = stage_ref
    walk.add(
        Touchpoint(map_id=walk.map_id, position=position, **tp_in.model_dump(exclude={"position"})), "touchpoints", ref
    )


def _lane_cell(walk: _Walk, c: Mapping[str, Any], path: str, position: int) -> None:
    stage_id, tp_id = walk.place(c, path, required=True)
    persona_id = walk.ref(c, "persona", path)
    fields = _fields(c, path, text="text", emotion="number")
    cell_in = _checked(LaneCellInput, {"lane": c.get("lane"), **fields}, path, other="text")
    key = (c.get("stage"), c.get("touchpoint"), c.get("persona"), cell_in.lane)
    if key in walk.cell_keys:
        raise BadInputError.invalid(path, key, "one cell per stage, touchpoint, persona and lane (this one repeats)")
    walk.cell_keys.add(key)
    walk.add(
        LaneCell(
            map_id=walk.map_id,
            stage_id=stage_id or 0,
            touchpoint_id=tp_id,
            persona_id=persona_id,
            lane=cell_in.lane,
            text=cell_in.text or "",
            emotion=cell_in.emotion,
        )
    )


def _described_item(model: type[PainPoint | Opportunity], model_in: type[Input], *, persona: bool) -> _ItemWriter:
    """The writer of a described item on a stage or touchpoint with 1–5 scores (pain points, opportunities)."""
    scores = [k for k in model_in.model_fields if k not in ("stage_id", "touchpoint_id", "persona_id", "description")]

    def write(walk: _Walk, obj: Mapping[str, Any], path: str, position: int) -> None:
        stage_id, tp_id = walk.place(obj, path, required=True)
        ids = {"stage_id": stage_id or 0, "touchpoint_id": tp_id}
        if persona:
            ids["persona_id"] = walk.ref(obj, "persona", path)
        fields = _fields(obj, path, description="required", **dict.fromkeys(scores, "number"))
        walk.add(model(map_id=walk.map_id, **_checked(model_in, {**fields, **ids}, path).model_dump()))

    return write


def _metric(walk: _Walk, m: Mapping[str, Any], path: str, position: int) -> None:
    ref = walk.define("metrics", m, path)
    stage_id, tp_id = walk.place(m, path, required=False)
    fields = _fields(m, path, target="number", source="text", kind="any", name="name", unit="text", direction="any")
    dataset_id = m.get("dataset_id")
    if dataset_id is not None and (isinstance(dataset_id, bool) or not isinstance(dataset_id, int)):
        raise BadInputError.invalid(f"{path}.dataset_id", dataset_id, "a dataset id or null")
    target = fields.get("target")
    kind = clean_choice(m.get("kind") or "custom", f"{path}.kind", [k.value for k in MetricKind]) or "custom"
    name = crud.clean_name(fields["name"], f"{path}.name")
    if target is not None:  # finite and on the metric's scale, as a target entered by hand (services.metrics)
        if not math.isfinite(target):
            raise BadInputError.invalid(f"{path}.target", target, "a finite number or null")
        if not walk.own:
            check_value_in_range(kind, float(target), field=f"{path}.target ({name} target)")
    metric = Metric(
        map_id=walk.map_id,
        stage_id=stage_id,
        touchpoint_id=tp_id,
        kind=kind,
        name=name,
        unit=clean_text(fields.get("unit"), f"{path}.unit", max_length=40),
        target=None if target is None else float(target),
        direction=clean_choice(m.get("direction") or "higher", f"{path}.direction", [d.value for d in Direction])
        or "higher",
        source=clean_text(fields.get("source"), f"{path}.source", max_length=40) or "manual",
        dataset_id=dataset_id,
        computed_with=clean_kept_options(m.get("computed_with"), f"{path}.computed_with"),
    )
    values = _metric_values(m, path, kind, name, on_scale=not walk.own)
    if walk.session is not None and dataset_id is not None and walk.session.get(Dataset, dataset_id) is None:
        metric.dataset_id = None  # the dataset is not in this workspace
    walk.add(metric, "metrics", ref)
    for value in values:
        value.metric_id = metric.id or 0
        walk.add(value)


def _metric_values(m: Mapping[str, Any], path: str, kind: str, name: str, *, on_scale: bool) -> list[MetricValue]:
    """The values of metric ``name`` of ``kind``; ``on_scale``: each on its kind's scale (as entered by hand)."""
    periods: set[str] = set()
    values = []
    for k, item in enumerate(_arr(m.get("values"), f"{path}.values")):
        vpath = f"{path}.values[{k}]"
        v = _fields(_obj(item, vpath), vpath, period="name", value="number", respondents="number", computed="flag")
        period = crud.clean_name(v["period"], f"{vpath}.period")
        if period in periods:
            raise BadInputError.invalid(f"{vpath}.period", period, "each period once per metric")
        periods.add(period)
        if v.get("value") is None:
            raise BadInputError.invalid(f"{vpath}.value", None, "a number")
        if not math.isfinite(v["value"]):  # JSON text may say NaN or Infinity; hand entry refuses them too
            raise BadInputError.invalid(f"{vpath}.value", v["value"], "a finite number")
        if on_scale:
            check_value_in_range(kind, float(v["value"]), field=f"{vpath}.value ({name} value for {period})")
        respondents = v.get("respondents")
        if respondents is not None and (not float(respondents).is_integer() or respondents < 0):
            raise BadInputError.invalid(f"{vpath}.respondents", respondents, "a whole number ≥ 0 or null")
        values.append(
            MetricValue(
                metric_id=0,
                period=period,
                value=float(v["value"]),
                respondents=None if respondents is None else int(respondents),
                computed=bool(v.get("computed")),
            )
        )
    return values


def _action(walk: _Walk, a: Mapping[str, Any], path: str, position: int) -> None:
    stage_id, tp_id = walk.place(a, path, required=False)
    kinds = {"action": "required", "owner": "text", "status": "any", "due_date": "date", "expected_effect": "text"}
    ids = {"stage_id": stage_id, "touchpoint_id": tp_id, "metric_id": walk.ref(a, "metric", path)}
    walk.add(
        Action(map_id=walk.map_id, **_checked(ActionInput, {**_fields(a, path, **kinds), **ids}, path).model_dump())
    )


# The document's lists in the order they are walked: an item may only point at items of the lists before it.
_ITEM_WRITERS: tuple[tuple[str, _ItemWriter], ...] = (
    ("personas", _persona),
    ("stages", _stage),
    ("lane_cells", _lane_cell),
    ("pain_points", _described_item(PainPoint, PainPointInput, persona=True)),
    ("opportunities", _described_item(Opportunity, OpportunityInput, persona=False)),
    ("metrics", _metric),
    ("actions", _action),
)


def _write_document(
    session: Session | None,
    doc: Mapping[str, Any],
    *,
    map_id: int | None,
    persona_ids: Mapping[str, int] | None = None,
    own: bool = False,
) -> None:
    """Check (``session`` None) or write the content of ``doc`` into map ``map_id`` (``own``: see
    :func:`parse_map_document`).

    One walk does both so the checks and the writes can never disagree. Personas: refs listed in
    ``persona_ids`` map to those existing personas (snapshot restore, the demo); others reuse an
    identical persona or are created.
    """
    walk = _Walk(session, map_id or 0, persona_ids or {}, own=own)
    for kind, write_item in _ITEM_WRITERS:
        for i, item in enumerate(_arr(doc.get(kind), kind)):
            path = f"{kind}[{i}]"
            write_item(walk, _obj(item, path), path, i)
    if session is not None:
        session.flush()


def map_fields_from_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The map's own fields from a document, validated."""
    m = _obj(doc.get("map"), "map")
    raw = {
        "name": m.get("name"),
        "description": m.get("description") or "",
        "scenario": m.get("scenario") or "",
        "state": m.get("state") or MapState.CURRENT.value,
        "owner": m.get("owner") or "",
        "review_by": m.get("review_by"),
    }
    for key in ("name", "description", "scenario", "state", "owner"):
        if raw[key] is not None and not isinstance(raw[key], str):
            raise BadInputError.invalid(f"map.{key}", raw[key], "text")
    if raw["review_by"] is not None and not isinstance(raw["review_by"], str):
        raise BadInputError.invalid("map.review_by", raw["review_by"], "a date as YYYY-MM-DD or null")
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            fields.update(clean_map_fields({key: value}))
        except BadInputError as exc:
            raise BadInputError.invalid(f"map.{key}", exc.value, exc.expected) from None
    template_key = m.get("template_key")
    if template_key is not None and not isinstance(template_key, str):
        raise BadInputError.invalid("map.template_key", template_key, "a template key or null")
    fields["template_key"] = template_key
    return fields


def import_map_document(
    data: str | bytes | Mapping[str, Any],
    *,
    name: str | None = None,
    parent_map_id: int | None = None,
    state: str | None = None,
    persona_ids: Mapping[str, int] | None = None,
    is_demo: bool = False,
    own: bool = False,
    engine: Engine | None = None,
) -> int:
    """Create a new map from a document (named as in the file unless ``name`` is given). Returns its id.

    A ``name`` another map has is refused; the file's own name, when another map has it, is told apart
    by " (2)" … (``crud.map_name``), so the same file imports twice.

    ``persona_ids`` links the document's persona refs it lists to those existing personas; ``is_demo``
    marks a map of the demo (a demo reset deletes it); ``own`` a document the app wrote itself
    (:func:`parse_map_document`).

    Everything is checked before the write and written in one transaction: a bad document raises
    ``BadInputError`` and leaves the database as it was.
    """
    doc = parse_map_document(data, own=own)
    fields = map_fields_from_document(doc)
    if name is not None:
        fields["name"] = crud.clean_name(name, "map name")
    if state is not None:
        fields["state"] = clean_choice(state, "state", [s.value for s in MapState])
    with write_session(engine) as session:
        journey_map = crud.create_map(
            session=session, parent_map_id=parent_map_id, is_demo=is_demo, numbered=name is None, **fields
        )
        _write_document(session, doc, map_id=journey_map.id, persona_ids=persona_ids, own=own)
        return journey_map.id or 0


@dataclass(frozen=True)
class ImportedMap:
    """A map file's import: the new map's ``id`` and ``name``, the name the file (or the caller) gave,
    and, where that name was taken, the map that has it (``taken_by``; the import is then numbered)."""

    id: int
    name: str
    asked: str
    taken_by: int | None = None

    def note(self) -> str | None:
        """What the import changed without being asked: the name, when another map has it."""
        if self.taken_by is None:
            return None
        return f"a map “{self.asked}” exists (map {self.taken_by}): imported as “{self.name}”"


def import_map_file(data: str | bytes, *, name: str | None = None, engine: Engine | None = None) -> ImportedMap:
    """:func:`import_map_document` for a file a user hands over, saying the name the map got."""
    doc = parse_map_document(data)
    map_id = import_map_document(doc, name=name, engine=engine)
    asked = doc["map"]["name"] if name is None else name.strip()
    with read_session(engine) as session:
        maps = crud.list_maps(session=session)
    got = next(m.name for m in maps if m.id == map_id)
    holder = next((m.id for m in maps if m.id != map_id and crud.name_key(m.name) == crud.name_key(asked)), None)
    return ImportedMap(map_id, got, asked, holder if got != asked else None)


def replace_map_content(
    session: Session,
    journey_map: JourneyMap,
    doc: Mapping[str, Any],
    *,
    persona_ids: Mapping[str, int] | None = None,
    keep_name: bool = False,
) -> None:
    """Inside an open write session: make ``journey_map`` hold exactly ``doc`` (snapshot restore: a
    document the app wrote itself, checked by ``parse_map_document(doc, own=True)``).

    The caller has checked the version and bumps it. Stages (and with them touchpoints, cells, pain
    points, opportunities), actions, metrics and persona links are replaced.
    """
    fields = map_fields_from_document(doc)
    map_id = journey_map.id or 0
    if keep_name:
        fields.pop("name")
    else:  # the snapshot's name, unless another map has taken it since
        fields["name"] = crud.map_name(session=session, name=fields["name"], numbered=True, map_id=map_id)
    for model in (Action, Metric, Stage, MapPersona):
        for row in session.exec(select(model).where(model.map_id == map_id)).all():
            session.delete(row)
    session.flush()
    for key, value in fields.items():
        setattr(journey_map, key, value)
    session.add(journey_map)
    _write_document(session, doc, map_id=map_id, persona_ids=persona_ids, own=True)
