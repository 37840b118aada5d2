"""The writer processes of tests/db/test_crash_safety.py: each saves maps through the services in a
loop until it is killed, and acknowledges each save on a file only after the service returned (commit).

``python -m tests.db.crash_writer URL ACK_PATH MAP_ID...`` starts a zygote: it imports and warms up
once, then for every ``<round> <seed>`` line on its standard input forks one writer and prints the
writer's pid. Forking from a warm process makes a round cost milliseconds instead of a Python start.

Acknowledgement lines (appended with one ``os.write`` each, so a kill never leaves half a line):
``ready <round>``, ``rename <round> <map_id> <version> <name>``,
``create <round> <map_id> <stages> <touchpoints> <name>``, ``delete <round> <map_id>``,
``import <round> <dataset_id> <events>`` (an event log through the importer).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import traceback

from sqlalchemy import Engine

from core.errors import ConflictError, NotFoundError
from db.engine import create_db_engine
from services import maps as map_service

TEMPLATE = "b2b-5-stage"


def _ack(fd: int, *parts: object) -> None:
    os.write(fd, (" ".join(str(p) for p in parts) + "\n").encode())


def run_writer(engine: Engine, ack_path: str, shared_map_ids: list[int], round_: int, seed: int) -> None:
    """Save forever (until SIGKILL): renames of shared maps, whole maps created and deleted."""
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    rng = random.Random(seed)
    own: list[int] = []
    _ack(fd, "ready", round_)
    op = 0
    while True:
        op += 1
        choice = rng.random()
        if choice < 0.12:
            dataset_id, events = _import_log(engine, round_, op)
            _ack(fd, "import", round_, dataset_id, events)
        elif choice < 0.6:
            map_id = rng.choice(shared_map_ids)
            current = map_service.get_map_summary(map_id, engine=engine)
            name = f"r{round_}-op{op}"
            try:
                version = map_service.rename_map(map_id, name, expected_version=current.version, engine=engine)
            except ConflictError:  # pragma: no cover - one writer at a time
                continue
            _ack(fd, "rename", round_, map_id, version, name)
        elif choice < 0.85 or not own:
            name = f"crash-r{round_}-op{op}"
            map_id = map_service.create_map_from_template(template_key=TEMPLATE, name=name, engine=engine)
            summary = map_service.get_map_summary(map_id, engine=engine)
            own.append(map_id)
            _ack(fd, "create", round_, map_id, summary.stages, summary.touchpoints, name)
        else:
            map_id = own.pop(rng.randrange(len(own)))
            try:
                map_service.delete_map(map_id, engine=engine)
            except NotFoundError:  # pragma: no cover
                continue
            _ack(fd, "delete", round_, map_id)


def _import_log(engine: Engine, round_: int, op: int) -> tuple[int, int]:
    from analytics.schema import ColumnMapping
    from services.importer import import_event_log

    lines = ["journey,ts,activity"] + [
        f"r{round_}o{op}j{j % 7},2026-01-{1 + j % 28:02d}T{j % 24:02d}:00:00Z,step {j % 5}" for j in range(40)
    ]
    result = import_event_log(
        ("\n".join(lines) + "\n").encode(),
        name=f"log-r{round_}-op{op}",
        mapping=ColumnMapping.of(journey="journey", timestamp="ts", activity="activity"),
        engine=engine,
    )
    return result.dataset_id, result.events


def zygote(url: str, ack_path: str, shared_map_ids: list[int]) -> None:
    """Warm up, then fork one writer per input line; print each writer's pid."""
    from sqlalchemy.orm import configure_mappers

    import services.importer  # noqa: F401 - imported before the fork, no connection opened

    configure_mappers()
    engine = create_db_engine(url)
    for map_id in shared_map_ids:  # compile the statements once, here
        map_service.get_map_summary(map_id, engine=engine)
    engine.dispose()  # no SQLite connection may cross a fork
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps killed writers
    print("zygote-ready", flush=True)
    for line in sys.stdin:
        round_, seed = (int(x) for x in line.split())
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                run_writer(engine, ack_path, shared_map_ids, round_, seed)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        print(pid, flush=True)


if __name__ == "__main__":
    zygote(sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]])
