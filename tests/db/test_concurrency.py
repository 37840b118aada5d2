"""Twenty users edit five shared maps at once through the services: nothing acknowledged is lost,
nothing stale is applied, no "database is locked" reaches anyone, the file stays sound.

The edits: renames (services.maps.rename_map), the map's owner (services.map_edits.update_map_details)
and lane cells (services.map_edits.set_lane_cell), each with the version the user last read, re-read
and retried after a conflict; plus deliberately stale saves that must be refused.

Every committed change of a map is recorded by a trigger (inside the same transaction), so the test
compares what the database really committed with what the services acknowledged to the users.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine

from core.errors import ConflictError, NotFoundError
from db.engine import create_db_engine, database_url
from services import map_edits, map_view
from services import maps as map_service

log = logging.getLogger(__name__)

USERS = 20
MAPS = 5
# Two users write through their own engine, as a second process (the CLI) would.
OWN_ENGINE_USERS = {18, 19}
DURATION_S = 3.0
MAX_OPS_PER_USER = 400
STALE_SHARE = 0.2
RETRIES_AFTER_CONFLICT = 3

AUDIT_SQL = (
    "CREATE TABLE test_audit (map_id INTEGER, version INTEGER, name TEXT)",
    "CREATE TRIGGER test_audit_update AFTER UPDATE ON journey_map WHEN new.version <> old.version "
    "BEGIN INSERT INTO test_audit VALUES (new.id, new.version, new.name); END",
)

# Timing-sensitive (threads racing for the write lock): run on one xdist worker, one test at a time.
pytestmark = pytest.mark.xdist_group("timing")


@dataclass
class UserLog:
    # (map id, version the save produced, what it wrote: ("name", text) / ("owner", text) / ("cell", key, text))
    acks: list[tuple[int, int, tuple]] = field(default_factory=list)
    stale_refused: int = 0
    stale_applied: list[tuple[int, str]] = field(default_factory=list)
    conflicts: int = 0
    gave_up: int = 0
    reads: int = 0
    unexpected: list[BaseException] = field(default_factory=list)


def _save(kind: str, map_id: int, version: int, text: str, cells: dict[int, list], engine: Engine | None) -> tuple:
    """One versioned save through the services; returns (new version, what was written)."""
    if kind == "name":
        return map_service.rename_map(map_id, text, expected_version=version, engine=engine), ("name", text)
    if kind == "owner":
        saved = map_edits.update_map_details(map_id, expected_version=version, engine=engine, owner=text)
        return saved.version, ("owner", text)
    stage_id, touchpoint_id, lane = cells[map_id][zlib.crc32(text.encode()) % len(cells[map_id])]
    saved = map_edits.set_lane_cell(
        map_id, stage_id=stage_id, touchpoint_id=touchpoint_id, lane=lane, text=text,
        expected_version=version, engine=engine,
    )  # fmt: skip
    return saved.version, ("cell", (stage_id, touchpoint_id, lane), text)


def _user(index: int, map_ids: list[int], cells: dict[int, list], engine: Engine | None, deadline: float,
          out: UserLog) -> None:  # fmt: skip
    rng = random.Random(1000 + index)
    for op in range(MAX_OPS_PER_USER):
        if time.monotonic() > deadline:
            return
        try:
            map_id = rng.choice(map_ids)
            current = map_service.get_map_summary(map_id, engine=engine)
            out.reads += 1
            kind = rng.choice(["name", "name", "owner", "cell", "cell"])
            if rng.random() < STALE_SHARE and current.version > 1:
                # A save from a copy someone else has already moved past: must be refused.
                try:
                    _save(kind, map_id, current.version - 1, f"STALE-u{index}-{op}", cells, engine)
                except ConflictError:
                    out.stale_refused += 1
                else:
                    out.stale_applied.append((map_id, f"STALE-u{index}-{op}"))
                continue
            text = f"u{index}-{op}"
            version = current.version
            for _attempt in range(1 + RETRIES_AFTER_CONFLICT):
                try:
                    new_version, written = _save(kind, map_id, version, text, cells, engine)
                except ConflictError:
                    out.conflicts += 1
                    version = map_service.get_map_summary(map_id, engine=engine).version  # re-read, retry
                    out.reads += 1
                else:
                    out.acks.append((map_id, new_version, written))
                    break
            else:
                out.gave_up += 1
            if rng.random() < 0.3:
                map_service.list_map_summaries(engine=engine)  # someone opens the Overview
                out.reads += 1
        except BaseException as exc:  # noqa: BLE001 - anything but a conflict is a failure
            out.unexpected.append(exc)
            return


def test_twenty_users_edit_five_maps(engine, data_dir):
    map_ids = [
        map_service.create_map_from_template(template_key="b2b-5-stage", name=f"Shared map {i}") for i in range(MAPS)
    ]
    with engine.begin() as conn:
        for statement in AUDIT_SQL:
            conn.exec_driver_sql(statement)
    cells = {}
    for map_id in map_ids:
        view = map_view.get_map_view(map_id)
        cells[map_id] = [
            (st.id, tp.id, lane) for st in view.stages for tp in st.touchpoints for lane in ("thinking", "doing")
        ]

    other_engines = {i: create_db_engine(database_url(data_dir)) for i in OWN_ENGINE_USERS}
    logs = [UserLog() for _ in range(USERS)]
    deadline = time.monotonic() + DURATION_S
    threads = [
        threading.Thread(
            target=_user, args=(i, map_ids, cells, other_engines.get(i), deadline, logs[i]), name=f"user-{i}"
        )
        for i in range(USERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    for e in other_engines.values():
        e.dispose()

    unexpected = [exc for lg in logs for exc in lg.unexpected]
    assert unexpected == [], f"errors other than conflicts reached users: {unexpected[:3]!r}"
    assert not any("locked" in repr(exc) for exc in unexpected)

    acks = [a for lg in logs for a in lg.acks]
    stale_applied = [s for lg in logs for s in lg.stale_applied]
    stale_refused = sum(lg.stale_refused for lg in logs)
    conflicts = sum(lg.conflicts for lg in logs)

    # Stale saves: every one refused, none committed.
    assert stale_applied == []
    assert stale_refused > 0

    with engine.connect() as conn:
        audit = [tuple(r) for r in conn.exec_driver_sql("SELECT map_id, version, name FROM test_audit")]
        final = {r[0]: tuple(r[1:]) for r in conn.exec_driver_sql("SELECT id, version, name, owner FROM journey_map")}
        stored_cells = {
            (r[0], (r[1], r[2], r[3])): r[4]
            for r in conn.exec_driver_sql(
                "SELECT map_id, stage_id, touchpoint_id, lane, text FROM lane_cell WHERE persona_id IS NULL"
            )
        }
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []

    # Every acknowledged save was committed, and every committed save was acknowledged: one version each.
    assert Counter((m, v) for m, v, _ in audit) == Counter((m, v) for m, v, _ in acks)
    names_at = {(m, v): n for m, v, n in audit}
    assert not any(n.startswith("STALE") for n in names_at.values())
    for map_id in map_ids:
        mine = sorted((v, w) for m, v, w in acks if m == map_id)
        # Versions 2, 3, ... with no gap and no duplicate: no save overwrote another silently.
        assert [v for v, _ in mine] == list(range(2, 2 + len(mine)))
        assert final[map_id][0] == 1 + len(mine)
        # What each save wrote is what the database holds, unless a later acknowledged save replaced it.
        renames = [(v, w[1]) for v, w in mine if w[0] == "name"]
        for v, name in renames:
            assert names_at[(map_id, v)] == name
        if renames:
            assert final[map_id][1] == renames[-1][1]
        owners = [w[1] for _, w in mine if w[0] == "owner"]
        if owners:
            assert final[map_id][2] == owners[-1]
        last_cell: dict[tuple, str] = {}
        for _, w in mine:
            if w[0] == "cell":
                last_cell[w[1]] = w[2]
        for key, text in last_cell.items():
            assert stored_cells[(map_id, key)] == text
    assert not any(text.startswith("STALE") for text in stored_cells.values())

    figures = {
        "users": USERS,
        "maps": MAPS,
        "acknowledged": len(acks),
        "by_kind": dict(Counter(w[0] for _, _, w in acks)),
        "stale_refused": stale_refused,
        "conflicts_retried": conflicts,
        "gave_up": sum(lg.gave_up for lg in logs),
        "reads": sum(lg.reads for lg in logs),
    }
    log.info("concurrency figures: %s", figures)
    assert len(acks) >= USERS  # the run did real work


def test_stale_save_for_a_deleted_map_never_lands_on_a_new_one(engine):
    map_service.create_map_from_template(template_key=None, name="Kept")
    doomed = map_service.create_map_from_template(template_key=None, name="Deleted by Ana")
    bens_copy = map_service.get_map_summary(doomed)  # Ben has it open
    map_service.delete_map(doomed)
    carla = map_service.create_map_from_template(template_key=None, name="Carla's new map")
    with pytest.raises((ConflictError, NotFoundError)):
        map_service.rename_map(bens_copy.id, "Ben's rename", expected_version=bens_copy.version)
    assert map_service.get_map_summary(carla).name == "Carla's new map"
