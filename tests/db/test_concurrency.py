"""Twenty users edit five shared maps at once through the services: nothing acknowledged is lost,
nothing stale is applied, no "database is locked" reaches anyone, the file stays sound.

Every committed change of a map is recorded by a trigger (inside the same transaction), so the test
compares what the database really committed with what the services acknowledged to the users.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine

from db.engine import create_db_engine, database_url
from db.errors import ConflictError
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


@dataclass
class UserLog:
    acks: list[tuple[int, int, str]] = field(default_factory=list)
    stale_refused: int = 0
    stale_applied: list[tuple[int, str]] = field(default_factory=list)
    conflicts: int = 0
    gave_up: int = 0
    reads: int = 0
    unexpected: list[BaseException] = field(default_factory=list)


def _user(index: int, map_ids: list[int], engine: Engine | None, deadline: float, out: UserLog) -> None:
    rng = random.Random(1000 + index)
    for op in range(MAX_OPS_PER_USER):
        if time.monotonic() > deadline:
            return
        try:
            map_id = rng.choice(map_ids)
            current = map_service.get_map_summary(map_id, engine=engine)
            out.reads += 1
            if rng.random() < STALE_SHARE and current.version > 1:
                # A save from a copy someone else has already moved past: must be refused.
                name = f"STALE-u{index}-{op}"
                try:
                    map_service.rename_map(map_id, name, expected_version=current.version - 1, engine=engine)
                except ConflictError:
                    out.stale_refused += 1
                else:
                    out.stale_applied.append((map_id, name))
                continue
            name = f"u{index}-{op}"
            version = current.version
            for _attempt in range(1 + RETRIES_AFTER_CONFLICT):
                try:
                    new_version = map_service.rename_map(map_id, name, expected_version=version, engine=engine)
                except ConflictError:
                    out.conflicts += 1
                    version = map_service.get_map_summary(map_id, engine=engine).version  # re-read, retry
                    out.reads += 1
                else:
                    out.acks.append((map_id, new_version, name))
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

    other_engines = {i: create_db_engine(database_url(data_dir)) for i in OWN_ENGINE_USERS}
    logs = [UserLog() for _ in range(USERS)]
    deadline = time.monotonic() + DURATION_S
    threads = [
        threading.Thread(target=_user, args=(i, map_ids, other_engines.get(i), deadline, logs[i]), name=f"user-{i}")
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
        final = {r[0]: (r[1], r[2]) for r in conn.exec_driver_sql("SELECT id, version, name FROM journey_map")}
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []

    # Every acknowledged write was committed, and every committed write was acknowledged.
    assert Counter(audit) == Counter(acks)
    assert not any(name.startswith("STALE") for _, _, name in audit)
    for map_id in map_ids:
        mine = sorted((v, n) for m, v, n in acks if m == map_id)
        # Versions 2, 3, ... with no gap and no duplicate: no write overwrote another silently.
        assert [v for v, _ in mine] == list(range(2, 2 + len(mine)))
        assert final[map_id] == (1 + len(mine), mine[-1][1] if mine else f"Shared map {map_ids.index(map_id)}")

    figures = {
        "users": USERS,
        "maps": MAPS,
        "acknowledged": len(acks),
        "stale_refused": stale_refused,
        "conflicts_retried": conflicts,
        "gave_up": sum(lg.gave_up for lg in logs),
        "reads": sum(lg.reads for lg in logs),
    }
    log.info("concurrency figures: %s", figures)
    assert len(acks) >= USERS  # the run did real work
