"""The audit trail: every change to a map, dataset, link or conversion definition, recorded by the
session that makes it (who, when, what), in the same transaction.

Recorded structurally (session events), not by each service: a change cannot skip the trail. A
change to a map's content (stages, touchpoints, cells, pain points, metrics, ...) is recorded
once per transaction as an edit of that map, naming what changed. Deletes of maps, datasets,
snapshots and personas need the admin role (:mod:`db.access`), checked here before anything is
written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, SQLModel, col, select

from db.access import AccessRole, current_actor, require
from db.models import (
    Action,
    ActivityLink,
    AuditEvent,
    ConversionDefinition,
    Dataset,
    JourneyMap,
    LaneCell,
    MapPersona,
    Metric,
    MetricValue,
    Opportunity,
    PainPoint,
    Persona,
    Snapshot,
    Stage,
    Touchpoint,
)

# Content of a map: a change to one is an edit of the map (by its map_id).
_MAP_PARTS: dict[type[SQLModel], str] = {
    Stage: "stage",
    Touchpoint: "touchpoint",
    LaneCell: "cell",
    PainPoint: "pain point",
    Opportunity: "opportunity",
    Action: "action",
    Metric: "metric",
    MapPersona: "persona on map",
    Snapshot: "snapshot",
}
_ADMIN_DELETES: dict[type[SQLModel], str] = {
    JourneyMap: "delete a map",
    Dataset: "delete a dataset",
    Snapshot: "delete a snapshot",
}
_ADMIN_DELETES[Persona] = "delete a persona"
_KEY = "journeylens_audit"
_recording: ContextVar[bool] = ContextVar("journeylens_audit_recording", default=True)
_label: ContextVar[str | None] = ContextVar("journeylens_audit_label", default=None)


@contextmanager
def labelled(action: str) -> Iterator[None]:
    """Record the edits made inside as ``action`` (a restore is a restore, not an edit)."""
    token = _label.set(action)
    try:
        yield
    finally:
        _label.reset(token)


@contextmanager
def suspended() -> Iterator[None]:
    """Record nothing (rows written into a database of a schema before the trail, by migration tests)."""
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)


def _name(obj: Any) -> str:
    return str(getattr(obj, "name", "") or "")


def _record(session: Session, key: tuple, text: str) -> None:
    if not _recording.get():
        return
    session.info.setdefault(_KEY, {}).setdefault(key, []).append(text)


@event.listens_for(Session, "before_flush")
def _admin_deletes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        action = _ADMIN_DELETES.get(type(obj))
        if action is not None:
            require(AccessRole.ADMIN, action)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    changes = [("create", o) for o in session.new] + [("delete", o) for o in session.deleted]
    changes += [("update", o) for o in session.dirty if session.is_modified(o, include_collections=False)]
    for verb, obj in changes:
        kind = type(obj)
        if kind is JourneyMap:  # an update (version bump, rename) joins the edit of its content
            action = "edit" if verb == "update" else verb
            _record(session, (action, "map", obj.id, obj.id), f"{verb} map {_name(obj)!r}")
        elif kind is Dataset:
            _record(session, (verb, "dataset", obj.id, obj.map_id), f"{verb} dataset {_name(obj)!r}")
        elif kind is ActivityLink:
            _record(session, ("link", "link", obj.dataset_id, obj.map_id), f"{verb} {obj.activity!r}")
        elif kind is ConversionDefinition:
            _record(session, (verb, "conversion", obj.dataset_id, obj.map_id), f"{verb} definition")
        elif kind in _MAP_PARTS and getattr(obj, "map_id", None) is not None:
            _record(session, ("edit", "map", obj.map_id, obj.map_id), f"{verb} {_MAP_PARTS[kind]} {_name(obj)!r}")
        elif kind is MetricValue:
            _record(session, ("edit", "metric value", obj.metric_id, None), f"{verb} value")


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: Any) -> None:
    """Bulk deletes and updates (links replaced at once) are recorded too."""
    if not (state.is_delete or state.is_update) or state.bind_mapper is None:
        return
    kind = state.bind_mapper.class_
    if kind is ActivityLink:
        params = state.statement.compile().params
        ids = {k.rsplit("_", 1)[0]: v for k, v in params.items() if isinstance(v, int)}
        _record(state.session, ("link", "link", ids.get("dataset_id"), ids.get("map_id")), "replace links")
    elif kind in (JourneyMap, Dataset) or kind in _MAP_PARTS:
        _record(state.session, ("edit", kind.__tablename__, None, None), "bulk change")


@event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    session.flush()  # what is still pending is collected now (before_commit runs before the last flush)
    pending: dict[tuple, list[str]] = session.info.pop(_KEY, {})
    if not pending:
        return
    actor = current_actor().name
    label = _label.get()
    created = {(t, i) for (a, t, i, _m) in pending if a == "create"}
    for (action, object_type, object_id, map_id), texts in pending.items():
        if action == "update" and (object_type, object_id) in created:
            continue  # finishing what this transaction created (an import setting its file) is its creation
        if object_type == "metric value" and object_id is not None:
            metric = session.get(Metric, object_id)
            map_id = metric.map_id if metric is not None else None
        if action == "delete" and object_type == "map":
            summary = texts[0]
        else:
            counts: dict[str, int] = defaultdict(int)
            for t in texts:
                counts[t] += 1
            shown = [f"{t}" + (f" ×{n}" if n > 1 else "") for t, n in list(counts.items())[:6]]
            more = len(counts) - len(shown)
            summary = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        if label is not None and action in ("edit", "update"):
            action = label
        session.add(
            AuditEvent(
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                map_id=map_id,
                summary=summary[:500],
            )
        )


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)


def list_audit_events(
    session: Session, *, map_id: int | None = None, since: datetime | None = None, limit: int = 1000
) -> list[AuditEvent]:
    """The trail, newest first (of one map: its own changes and its datasets', links' and definitions')."""
    query = select(AuditEvent)
    if map_id is not None:
        query = query.where(AuditEvent.map_id == map_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))
