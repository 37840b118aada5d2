"""Export and import journey maps: JSON (complete), CSV (one row per cell) and Mermaid ``flowchart`` text.

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
                  dataset_id, values: [{period, value, respondents, computed}]}],
     "actions": [{stage|null, touchpoint|null, metric|null, action, owner, status, due_date, expected_effect}]}

Items refer to each other by ``ref`` (numbered in display order), never by database id, so a file
moves between workspaces. Export → import → export gives the same document: the map is identical.
Importing validates the whole document first (a malformed file gets an error naming the path of the
bad value, e.g. ``stages[1].touchpoints[0].name``) and writes everything in one transaction, so
nothing is written on any error. Imported personas reuse an existing persona with identical fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.errors import BadInputError
from db import crud
from db.engine import write_session
from db.models import (
    Action,
    ActionStatus,
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
from services.personas import clean_persona_fields, find_identical_persona
from services.studio import (
    MapView,
    clean_choice,
    clean_date,
    clean_emotion,
    clean_list,
    clean_map_fields,
    clean_score,
    clean_text,
    get_map_view,
)

FORMAT = "journeylens-map"
FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 20 * 1024 * 1024
PERSONA_KEYS = (
    "name",
    "description",
    "demographics",
    "job_title",
    "company_size",
    "industry",
    "is_decision_maker",
    "committee_role",
    "goals",
    "pain_points",
    "buying_behaviour",
    "channels",
)
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


def document_refs(view: MapView) -> dict[str, dict[int, str]]:
    """The refs of a view's items: {"stages": {id: "S1"}, "touchpoints": {id: "T1"}, "personas", "metrics"}."""
    return {
        "stages": {s.id: f"S{i}" for i, s in enumerate(view.stages, start=1)},
        "touchpoints": {t.id: f"T{i}" for i, t in enumerate(view.touchpoints, start=1)},
        "personas": {p.id: f"P{i}" for i, p in enumerate(view.personas, start=1)},
        "metrics": {m.id: f"M{i}" for i, m in enumerate(view.metrics, start=1)},
    }


def document_from_view(view: MapView) -> dict[str, Any]:
    """The complete JSON document of a map (format in the module docstring)."""
    refs = document_refs(view)
    s_ref, t_ref, p_ref, m_ref = refs["stages"], refs["touchpoints"], refs["personas"], refs["metrics"]

    def opt(table: dict[int, str], key: int | None) -> str | None:
        return None if key is None else table.get(key)

    return {
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
        "personas": [{"ref": p_ref[p.id], **{k: getattr(p, k) for k in PERSONA_KEYS}} for p in view.personas],
        "stages": [
            {
                "ref": s_ref[s.id],
                "name": s.name,
                "customer_goal": s.customer_goal,
                "business_goal": s.business_goal,
                "outcomes": list(s.outcomes),
                "revisitable": s.revisitable,
                "touchpoints": [
                    {
                        "ref": t_ref[t.id],
                        **{k: list(getattr(t, k)) if k == "activity_names" else getattr(t, k) for k in TOUCHPOINT_KEYS},
                    }
                    for t in s.touchpoints
                ],
            }
            for s in view.stages
        ],
        "lane_cells": [
            {
                "stage": s_ref[c.stage_id],
                "touchpoint": opt(t_ref, c.touchpoint_id),
                "persona": opt(p_ref, c.persona_id),
                "lane": c.lane,
                "text": c.text,
                "emotion": c.emotion,
            }
            for c in view.lane_cells
        ],
        "pain_points": [
            {
                "stage": s_ref[p.stage_id],
                "touchpoint": opt(t_ref, p.touchpoint_id),
                "persona": opt(p_ref, p.persona_id),
                "description": p.description,
                "severity": p.severity,
            }
            for p in view.pain_points
        ],
        "opportunities": [
            {
                "stage": s_ref[o.stage_id],
                "touchpoint": opt(t_ref, o.touchpoint_id),
                "description": o.description,
                "effort": o.effort,
                "customer_value": o.customer_value,
                "business_value": o.business_value,
            }
            for o in view.opportunities
        ],
        "metrics": [
            {
                "ref": m_ref[m.id],
                "stage": opt(s_ref, m.stage_id),
                "touchpoint": opt(t_ref, m.touchpoint_id),
                "kind": m.kind,
                "name": m.name,
                "unit": m.unit,
                "target": m.target,
                "direction": m.direction,
                "source": m.source,
                "dataset_id": m.dataset_id,
                "values": [
                    {"period": v.period, "value": v.value, "respondents": v.respondents, "computed": v.computed}
                    for v in m.values
                ],
            }
            for m in view.metrics
        ],
        "actions": [
            {
                "stage": opt(s_ref, a.stage_id),
                "touchpoint": opt(t_ref, a.touchpoint_id),
                "metric": opt(m_ref, a.metric_id),
                "action": a.action,
                "owner": a.owner,
                "status": a.status,
                "due_date": a.due_date.isoformat() if a.due_date else None,
                "expected_effect": a.expected_effect,
            }
            for a in view.actions
        ],
    }


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
    for column in (
        "stage_order",
        "touchpoint_order",
        "emotion",
        "severity",
        "effort",
        "customer_value",
        "business_value",
    ):
        frame[column] = frame[column].astype("Int64")
    frame["priority"] = frame["priority"].astype("Float64")
    frame["moment_of_truth"] = frame["moment_of_truth"].astype("boolean")
    return frame.reset_index(drop=True)


def export_map_csv(map_id: int, *, engine: Engine | None = None) -> bytes:
    """The map's cells as CSV bytes (UTF-8 with BOM; formula-like text neutralised by services.csv_safety)."""
    return to_safe_csv(compute_map_cells(get_map_view(map_id, engine=engine)))


# --------------------------------------------------------------------------- Mermaid flowchart text

# Characters that would end or change a quoted Mermaid label, written as Mermaid entity codes (``#quot;``,
# ``#35;``): the diagram then shows the title exactly as typed. One pass, so a code's own "#" and ";" stay.
_MERMAID_ENTITIES = str.maketrans({'"': "#quot;", "<": "#lt;", ">": "#gt;"} | {c: f"#{ord(c)};" for c in "#;[](){}|`"})


def mermaid_label(text: object) -> str:
    """``text`` as a quoted Mermaid label: special characters as entity codes, line breaks as ``<br>``."""
    out = str(text).replace("\r\n", "\n").replace("\r", "\n").translate(_MERMAID_ENTITIES)
    return '"' + out.replace("\n", "<br>") + '"'


def mermaid_score(emotion: float | None) -> int:
    """A 1 (worst) .. 5 (best) score: emotion −2..+2 plus 3; no emotion → 3."""
    if emotion is None:
        return 3
    return max(1, min(5, round(emotion) + 3))


def compute_mermaid(view: MapView) -> str:
    """Mermaid ``flowchart`` text: the map's title, a subgraph per stage (in order, linked by arrows) holding its
    touchpoints (★ marks a moment of truth) and its pain points (dotted to their touchpoint), and a subgraph of
    the map's personas, each pain point naming the persona it belongs to.

    Names are kept as typed (:func:`mermaid_label`). A touchpoint shows its owner team and its feeling score
    1..5 (:func:`mermaid_score`: the emotion for everyone there, else at its stage, else the personas' mean;
    "no score" when there is none).
    """
    personas = {p.id: p.name for p in view.personas}
    lines = ["---", f"title: {json.dumps(view.name, ensure_ascii=False)}", "---", "flowchart LR"]

    def emotion(stage_id: int, tp_id: int | None) -> float | None:
        cells = [
            c
            for c in view.lane_cells
            if c.lane == "feeling" and c.stage_id == stage_id and c.touchpoint_id == tp_id and c.emotion is not None
        ]
        shared = [c.emotion for c in cells if c.persona_id is None]
        if shared:
            return float(shared[0])  # type: ignore[arg-type]
        scores = [c.emotion for c in cells if c.emotion is not None]
        return sum(scores) / len(scores) if scores else None

    for s in view.stages:
        lines.append(f"    subgraph S{s.id}[{mermaid_label(s.name)}]")
        lines.append("        direction TB")
        for t in s.touchpoints:
            score = emotion(s.id, t.id)
            if score is None:
                score = emotion(s.id, None)
            details = [t.owner_team or "Customer", "no score" if score is None else f"score {mermaid_score(score)}/5"]
            text = ("★ " if t.moment_of_truth else "") + t.name + "\n" + " · ".join(details)
            lines.append(f"        T{t.id}[{mermaid_label(text)}]")
        for p in (p for p in view.pain_points if p.stage_id == s.id):
            whose = f" · {personas[p.persona_id]}" if p.persona_id in personas else ""
            lines.append(f"        P{p.id}>{mermaid_label(f'Pain (severity {p.severity}/5){whose}: {p.description}')}]")
            if p.touchpoint_id is not None:
                lines.append(f"        T{p.touchpoint_id} -.- P{p.id}")
        lines.append("    end")
    for a, b in zip(view.stages, view.stages[1:], strict=False):
        lines.append(f"    S{a.id} --> S{b.id}")
    if view.personas:
        lines.append(f"    subgraph Personas[{mermaid_label('Personas')}]")
        for p in view.personas:
            role = p.committee_role or p.job_title
            lines.append(f"        R{p.id}([{mermaid_label(p.name + (chr(10) + role if role else ''))}])")
        lines.append("    end")
    return "\n".join(lines) + "\n"


def export_map_mermaid(map_id: int, *, engine: Engine | None = None) -> str:
    return compute_mermaid(get_map_view(map_id, engine=engine))


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


def _str(obj: Mapping[str, Any], key: str, path: str, *, max_length: int | None = None) -> str:
    value = obj.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInputError.invalid(f"{path}.{key}", value, "text")
    if max_length is not None:
        return clean_text(value, f"{path}.{key}", max_length=max_length)
    return clean_text(value, f"{path}.{key}")


def _name(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise BadInputError.invalid(f"{path}.{key}", value, "a non-empty name (text)")
    return crud.clean_name(value, f"{path}.{key}")


def _bool(obj: Mapping[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInputError.invalid(f"{path}.{key}", value, "true or false")
    return value


def _int(obj: Mapping[str, Any], key: str, path: str, default: Any = 3) -> Any:
    value = obj.get(key, default)
    if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
        raise BadInputError.invalid(f"{path}.{key}", value, "a number")
    return value


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


def parse_map_document(data: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """Read and check a JSON document; returns it as a dict or raises ``BadInputError`` naming what is wrong.

    Accepts text, bytes (UTF-8, with or without BOM) or an already-parsed dict. Checks the format
    marker and version, every field's type and range, that every ref is defined, and that no ref
    or lane cell is defined twice.
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
    if doc.get("format") != FORMAT:
        raise BadInputError.invalid("format", doc.get("format"), f'"{FORMAT}" (a map exported by JourneyLens)')
    if doc.get("format_version") != FORMAT_VERSION:
        raise BadInputError.invalid("format_version", doc.get("format_version"), f"{FORMAT_VERSION}")
    _check_document(doc)
    return doc


def _check_document(doc: Mapping[str, Any]) -> None:
    """Validate everything before any write (same checks as :func:`_write_document`, without a session)."""
    _write_document(None, doc, map_id=None)


def _write_document(
    session: Session | None,
    doc: Mapping[str, Any],
    *,
    map_id: int | None,
    persona_ids: Mapping[str, int] | None = None,
) -> None:
    """Check (``session`` None) or write the content of ``doc`` into map ``map_id``.

    One walk does both so the checks and the writes can never disagree. Personas: refs listed in
    ``persona_ids`` map to those existing personas (snapshot restore); others reuse an identical
    persona or are created.
    """
    write = session is not None
    seen: set[str] = set()

    def define(ref: Any, path: str, prefix: str) -> str:
        if not isinstance(ref, str) or not ref.strip():
            raise BadInputError.invalid(f"{path}.ref", ref, f"a ref such as {prefix}1")
        if ref in seen:
            raise BadInputError.invalid(f"{path}.ref", ref, "a ref used only once in the document")
        seen.add(ref)
        return ref

    personas: dict[str, int | None] = {}
    for i, item in enumerate(_arr(doc.get("personas"), "personas")):
        path = f"personas[{i}]"
        p = _obj(item, path)
        ref = define(p.get("ref"), path, "P")
        raw = {k: p.get(k) for k in PERSONA_KEYS if k in p}
        for k, v in raw.items():
            if k == "is_decision_maker" and not isinstance(v, bool | None):
                raise BadInputError.invalid(f"{path}.{k}", v, "true or false")
            if k != "is_decision_maker" and not isinstance(v, str | None):
                raise BadInputError.invalid(f"{path}.{k}", v, "text or null")
        try:
            fields = clean_persona_fields(raw, new=True)
        except BadInputError as exc:
            raise BadInputError.invalid(f"{path}.{exc.field}", exc.value, exc.expected) from None
        personas[ref] = None
        if write:
            assert session is not None
            existing_id = (persona_ids or {}).get(ref)
            persona = session.get(Persona, existing_id) if existing_id is not None else None
            if persona is None or persona.id in personas.values():
                persona = find_identical_persona(session, fields)
            # Two refs of one document are two personas, even with the same fields.
            if persona is None or persona.id in personas.values():
                persona = Persona(**fields)
                session.add(persona)
                session.flush()
            personas[ref] = persona.id
            if session.get(MapPersona, (map_id, persona.id)) is None:
                session.add(MapPersona(map_id=map_id or 0, persona_id=persona.id or 0))
                session.flush()

    stages: dict[str, int | None] = {}
    touchpoints: dict[str, int | None] = {}
    tp_stage: dict[str, str] = {}
    for i, item in enumerate(_arr(doc.get("stages"), "stages")):
        path = f"stages[{i}]"
        s = _obj(item, path)
        ref = define(s.get("ref"), path, "S")
        stage = Stage(
            map_id=map_id or 0,
            position=i,
            name=_name(s, "name", path),
            customer_goal=_str(s, "customer_goal", path),
            business_goal=_str(s, "business_goal", path),
            outcomes=clean_list(_arr(s.get("outcomes"), f"{path}.outcomes"), f"{path}.outcomes"),
            revisitable=_bool(s, "revisitable", path),
        )
        stages[ref] = None
        if write:
            assert session is not None
            session.add(stage)
            session.flush()
            stages[ref] = stage.id
        for j, titem in enumerate(_arr(s.get("touchpoints"), f"{path}.touchpoints")):
            tpath = f"{path}.touchpoints[{j}]"
            t = _obj(titem, tpath)
            tref = define(t.get("ref"), tpath, "T")
            names = _arr(t.get("activity_names"), f"{tpath}.activity_names")
            for k, name in enumerate(names):
                if not isinstance(name, str):
                    raise BadInputError.invalid(f"{tpath}.activity_names[{k}]", name, "text")
            tp = Touchpoint(
                map_id=map_id or 0,
                stage_id=stages[ref] or 0,
                position=j,
                name=_name(t, "name", tpath),
                **{k: _str(t, k, tpath, max_length=crud.MAX_NAME_LENGTH) for k in TOUCHPOINT_KEYS[1:7]},
                moment_of_truth=_bool(t, "moment_of_truth", tpath),
                activity_names=clean_list(names, f"{tpath}.activity_names"),
            )
            touchpoints[tref] = None
            tp_stage[tref] = ref
            if write:
                assert session is not None
                session.add(tp)
                session.flush()
                touchpoints[tref] = tp.id

    def place(obj: Mapping[str, Any], path: str, *, required: bool) -> tuple[Any, Any]:
        """(stage id, touchpoint id) of an item. Items that must sit on a stage (cells, pain points,
        opportunities) take their touchpoint's stage; metrics and actions keep a stage only if given."""
        stage_id = _ref(obj, "stage", path, stages, required=required and obj.get("touchpoint") is None)
        tp_id = _ref(obj, "touchpoint", path, touchpoints, required=False)
        if obj.get("touchpoint") is not None:
            owner = tp_stage[obj["touchpoint"]]
            if obj.get("stage") is not None and obj["stage"] != owner:
                raise BadInputError.invalid(
                    f"{path}.stage", obj.get("stage"), f"{owner}, the stage of touchpoint {obj['touchpoint']}"
                )
            if required:
                stage_id = stages[owner]
        return stage_id, tp_id

    lane_names = [lane.value for lane in Lane]
    cell_keys: set[tuple[Any, ...]] = set()
    for i, item in enumerate(_arr(doc.get("lane_cells"), "lane_cells")):
        path = f"lane_cells[{i}]"
        c = _obj(item, path)
        stage_id, tp_id = place(c, path, required=True)
        persona_id = _ref(c, "persona", path, personas, required=False)
        lane = clean_choice(c.get("lane"), f"{path}.lane", lane_names)
        key = (c.get("stage"), c.get("touchpoint"), c.get("persona"), lane)
        if key in cell_keys:
            raise BadInputError.invalid(
                path, key, "one cell per stage, touchpoint, persona and lane (this one repeats)"
            )
        cell_keys.add(key)
        emotion = clean_emotion(_int(c, "emotion", path, None), f"{path}.emotion (−2..+2)")
        if emotion is not None and lane != Lane.FEELING.value:
            raise BadInputError.invalid(f"{path}.emotion", emotion, "an emotion score on the feeling lane only")
        cell = LaneCell(
            map_id=map_id or 0,
            stage_id=stage_id or 0,
            touchpoint_id=tp_id,
            persona_id=persona_id,
            lane=lane or "",
            text=_str(c, "text", path),
            emotion=emotion,
        )
        if write:
            assert session is not None
            session.add(cell)

    for i, item in enumerate(_arr(doc.get("pain_points"), "pain_points")):
        path = f"pain_points[{i}]"
        p = _obj(item, path)
        stage_id, tp_id = place(p, path, required=True)
        pain = PainPoint(
            map_id=map_id or 0,
            stage_id=stage_id or 0,
            touchpoint_id=tp_id,
            persona_id=_ref(p, "persona", path, personas, required=False),
            description=_required(p, "description", path),
            severity=clean_score(_int(p, "severity", path), f"{path}.severity (1–5)"),
        )
        if write:
            assert session is not None
            session.add(pain)

    for i, item in enumerate(_arr(doc.get("opportunities"), "opportunities")):
        path = f"opportunities[{i}]"
        o = _obj(item, path)
        stage_id, tp_id = place(o, path, required=True)
        opp = Opportunity(
            map_id=map_id or 0,
            stage_id=stage_id or 0,
            touchpoint_id=tp_id,
            description=_required(o, "description", path),
            effort=clean_score(_int(o, "effort", path), f"{path}.effort (1–5)"),
            customer_value=clean_score(_int(o, "customer_value", path), f"{path}.customer_value (1–5)"),
            business_value=clean_score(_int(o, "business_value", path), f"{path}.business_value (1–5)"),
        )
        if write:
            assert session is not None
            session.add(opp)

    metrics: dict[str, int | None] = {}
    kinds = [k.value for k in MetricKind]
    directions = [d.value for d in Direction]
    for i, item in enumerate(_arr(doc.get("metrics"), "metrics")):
        path = f"metrics[{i}]"
        m = _obj(item, path)
        ref = define(m.get("ref"), path, "M")
        stage_id, tp_id = place(m, path, required=False)
        target = _int(m, "target", path, None)
        dataset_id = m.get("dataset_id")
        if dataset_id is not None and (isinstance(dataset_id, bool) or not isinstance(dataset_id, int)):
            raise BadInputError.invalid(f"{path}.dataset_id", dataset_id, "a dataset id or null")
        source = _str(m, "source", path, max_length=40) or "manual"
        metric = Metric(
            map_id=map_id or 0,
            stage_id=stage_id,
            touchpoint_id=tp_id,
            kind=clean_choice(m.get("kind") or "custom", f"{path}.kind", kinds) or "custom",
            name=_name(m, "name", path),
            unit=_str(m, "unit", path, max_length=40),
            target=None if target is None else float(target),
            direction=clean_choice(m.get("direction") or "higher", f"{path}.direction", directions) or "higher",
            source=source,
            dataset_id=dataset_id,
        )
        periods: set[str] = set()
        values = []
        for k, vitem in enumerate(_arr(m.get("values"), f"{path}.values")):
            vpath = f"{path}.values[{k}]"
            v = _obj(vitem, vpath)
            period = _name(v, "period", vpath)
            if period in periods:
                raise BadInputError.invalid(f"{vpath}.period", period, "each period once per metric")
            periods.add(period)
            number = _int(v, "value", vpath, None)
            if number is None:
                raise BadInputError.invalid(f"{vpath}.value", None, "a number")
            respondents = _int(v, "respondents", vpath, None)
            if respondents is not None and (not float(respondents).is_integer() or respondents < 0):
                raise BadInputError.invalid(f"{vpath}.respondents", respondents, "a whole number ≥ 0 or null")
            values.append(
                MetricValue(
                    metric_id=0,
                    period=period,
                    value=float(number),
                    respondents=None if respondents is None else int(respondents),
                    computed=_bool(v, "computed", vpath),
                )
            )
        metrics[ref] = None
        if write:
            assert session is not None
            if dataset_id is not None and session.get(Dataset, dataset_id) is None:
                metric.dataset_id = None  # the dataset is not in this workspace
            session.add(metric)
            session.flush()
            metrics[ref] = metric.id
            for value in values:
                value.metric_id = metric.id or 0
                session.add(value)

    statuses = [s.value for s in ActionStatus]
    for i, item in enumerate(_arr(doc.get("actions"), "actions")):
        path = f"actions[{i}]"
        a = _obj(item, path)
        stage_id, tp_id = place(a, path, required=False)
        due = a.get("due_date")
        if due is not None and not isinstance(due, str):
            raise BadInputError.invalid(f"{path}.due_date", due, "a date as YYYY-MM-DD or null")
        action = Action(
            map_id=map_id or 0,
            stage_id=stage_id,
            touchpoint_id=tp_id,
            metric_id=_ref(a, "metric", path, metrics, required=False),
            action=_required(a, "action", path),
            owner=_str(a, "owner", path, max_length=crud.MAX_NAME_LENGTH),
            status=clean_choice(a.get("status") or "open", f"{path}.status", statuses) or "open",
            due_date=clean_date(due, f"{path}.due_date"),
            expected_effect=_str(a, "expected_effect", path),
        )
        if write:
            assert session is not None
            session.add(action)
    if write:
        assert session is not None
        session.flush()


def _required(obj: Mapping[str, Any], key: str, path: str) -> str:
    text = _str(obj, key, path)
    if not text:
        raise BadInputError.invalid(f"{path}.{key}", obj.get(key), "a non-empty text")
    return text


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
    engine: Engine | None = None,
) -> int:
    """Create a new map from a document (named as in the file unless ``name`` is given). Returns its id.

    Everything is checked before the write and written in one transaction: a bad document raises
    ``BadInputError`` and leaves the database as it was.
    """
    doc = parse_map_document(data)
    fields = map_fields_from_document(doc)
    if name is not None:
        fields["name"] = crud.clean_name(name, "map name")
    if state is not None:
        fields["state"] = clean_choice(state, "state", [s.value for s in MapState])
    with write_session(engine) as session:
        journey_map = crud.create_map(session=session, parent_map_id=parent_map_id, **fields)
        _write_document(session, doc, map_id=journey_map.id, persona_ids=persona_ids)
        return journey_map.id or 0


def replace_map_content(
    session: Session,
    journey_map: JourneyMap,
    doc: Mapping[str, Any],
    *,
    persona_ids: Mapping[str, int] | None = None,
    keep_name: bool = False,
) -> None:
    """Inside an open write session: make ``journey_map`` hold exactly ``doc`` (snapshot restore).

    The caller has checked the version and bumps it. Stages (and with them touchpoints, cells, pain
    points, opportunities), actions, metrics and persona links are replaced.
    """
    fields = map_fields_from_document(doc)
    if keep_name:
        fields.pop("name")
    map_id = journey_map.id or 0
    for model in (Action, Metric, Stage, MapPersona):
        for row in session.exec(select(model).where(model.map_id == map_id)).all():
            session.delete(row)
    session.flush()
    for key, value in fields.items():
        setattr(journey_map, key, value)
    session.add(journey_map)
    _write_document(session, doc, map_id=map_id, persona_ids=persona_ids)
