"""A writer process saving maps is SIGKILLed at random moments, again and again: after every kill
the database passes integrity_check and foreign_key_check, every acknowledged save is there, and no
map is half-written.

Each writer (tests/db/crash_writer.py) is forked from a warmed-up zygote process, so a round costs
milliseconds instead of a Python start-up; it acknowledges a save on a file only after the service
returned, i.e. after COMMIT. A writer is killed a random delay after its first acknowledged save,
so every kill lands in the middle of the save loop (mid-transaction, mid-commit, mid-checkpoint).
"""

from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from db.engine import DB_FILENAME, database_url
from services import maps as map_service
from services.templates import get_template
from tests import ROOT
from tests.db.crash_writer import TEMPLATE

# Timing-sensitive (a writer killed at random moments): run on one xdist worker, one test at a time.
pytestmark = pytest.mark.xdist_group("timing")


log = logging.getLogger(__name__)

KILLS = 55
SEED = 20260
SHARED_MAPS = 3
# After the writer's first acknowledged save, it is killed after a random delay in this range (seconds).
DELAY_RANGE_S = (0.0, 0.08)


@dataclass
class Expected:
    """What the acknowledgements promise: the database may be ahead by one in-flight save, never behind."""

    renamed: dict[int, tuple[int, str]] = field(default_factory=dict)  # map id -> (version, name)
    created: dict[int, int] = field(default_factory=dict)  # map id -> round that created it
    # SQLite reuses the highest deleted id, so a deleted map is known by its id and its unique name.
    deleted: set[tuple[int, str]] = field(default_factory=set)
    names: dict[int, str] = field(default_factory=dict)
    datasets: dict[int, int] = field(default_factory=dict)  # dataset id -> events
    lines_read: int = 0


def _read_acks(path: Path, expected: Expected, round_: int) -> tuple[bool, int]:
    """Apply the new complete ack lines; return (writer was ready, saves acknowledged this round)."""
    lines = path.read_text().split("\n")[:-1] if path.exists() else []  # a line counts once it is whole
    ready, saves = False, 0
    for line in lines[expected.lines_read :]:
        kind, rnd, *rest = line.split(" ")
        if int(rnd) != round_:
            continue
        if kind == "ready":
            ready = True
            continue
        saves += 1
        map_id = int(rest[0])
        if kind == "import":
            expected.datasets[map_id] = int(rest[1])
        elif kind == "rename":
            expected.renamed[map_id] = (int(rest[1]), rest[2])
        elif kind == "create":
            expected.created[map_id] = round_
            expected.names[map_id] = rest[3]
        elif kind == "delete":
            expected.created.pop(map_id, None)
            expected.deleted.add((map_id, expected.names.pop(map_id)))
    expected.lines_read = len(lines)
    return ready, saves


def _check(db_path: Path, expected: Expected, round_: int, stages: int, touchpoints: int) -> int:
    """Verify the database after a kill; return how many saves it holds beyond the acknowledged ones."""
    import pyarrow.parquet as pq

    conn = sqlite3.connect(db_path)
    try:
        datasets = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, storage_path, events FROM dataset")}
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], f"round {round_}"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], f"round {round_}"
        maps = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, version, name FROM journey_map")}
        counts = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "SELECT m.id, (SELECT count(*) FROM stage s WHERE s.map_id = m.id),"
                " (SELECT count(*) FROM touchpoint t WHERE t.map_id = m.id) FROM journey_map m"
            )
        }
    finally:
        conn.close()

    ahead = 0
    # Every dataset row, acknowledged or not, has its events on disk, whole.
    for dataset_id, (storage_path, events) in datasets.items():
        path = db_path.parent / storage_path
        assert path.is_file(), f"round {round_}: dataset {dataset_id} has no events file"
        assert pq.ParquetFile(path).metadata.num_rows == events, f"round {round_}: dataset {dataset_id}"
    for dataset_id, events in expected.datasets.items():
        assert datasets.get(dataset_id, (None, None))[1] == events, f"round {round_}: dataset {dataset_id} lost"
    unacked_imports = set(datasets) - set(expected.datasets)
    expected.datasets.update({d: datasets[d][1] for d in unacked_imports})
    ahead += len(unacked_imports)
    for map_id, (version, name) in list(expected.renamed.items()):
        db_version, db_name = maps[map_id]
        assert db_version >= version, f"round {round_}: map {map_id} lost acknowledged version {version}"
        if db_version == version:
            assert db_name == name, f"round {round_}: map {map_id} at version {version} is {db_name!r}"
        else:  # the save in flight when the writer died was committed but not acknowledged
            assert db_version == version + 1 and db_name.startswith(f"r{round_}-"), (round_, map_id, maps[map_id])
            expected.renamed[map_id] = (db_version, db_name)
            ahead += 1
    for map_id, created_in in list(expected.created.items()):
        if map_id not in maps:
            # Only an in-flight delete of a map this writer created may be committed unacknowledged.
            assert created_in == round_, f"round {round_}: acknowledged map {map_id} is gone"
            del expected.created[map_id]
            expected.deleted.add((map_id, expected.names.pop(map_id)))
            ahead += 1
    for map_id, name in expected.deleted:
        assert maps.get(map_id, (0, ""))[1] != name, f"round {round_}: deleted map {map_id} {name!r} is back"
    # No half-written map: every map has all of its template's stages and touchpoints.
    for map_id, (n_stages, n_touchpoints) in counts.items():
        assert (n_stages, n_touchpoints) == (stages, touchpoints), (round_, map_id, n_stages, n_touchpoints)
    for map_id in set(maps) - set(expected.created) - set(expected.renamed):
        assert maps[map_id][1].startswith(f"crash-r{round_}-"), (round_, map_id, maps[map_id])
        expected.created[map_id] = round_  # an in-flight create, committed: later rounds must keep it
        expected.names[map_id] = maps[map_id][1]
        ahead += 1
    assert ahead <= 1, f"round {round_}: {ahead} unacknowledged saves committed; one writer has one in flight"
    return ahead


def _wait_gone(pid: int) -> None:
    """Wait until a killed writer has gone (the zygote ignores SIGCHLD, so the kernel reaps it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.001)
    raise AssertionError(f"writer {pid} survived SIGKILL")


@pytest.mark.slow
def test_writer_killed_at_random_moments(engine, data_dir, tmp_path):
    template = get_template(TEMPLATE)
    stages = len(template.stages)
    touchpoints = sum(len(s["touchpoints"]) for s in template.stages)
    shared = [
        map_service.create_map_from_template(template_key=TEMPLATE, name=f"shared {i}") for i in range(SHARED_MAPS)
    ]
    expected = Expected(renamed={m: (1, f"shared {i}") for i, m in enumerate(shared)})
    engine.dispose()  # the writer processes own the file from here

    url = database_url(data_dir)
    db_path = data_dir / DB_FILENAME
    acks = tmp_path / "acks.txt"
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.db.crash_writer", url, str(acks), *map(str, shared)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    rng = random.Random(SEED)
    kills = saves = in_flight_committed = 0
    try:
        assert zygote.stdout.readline().strip() == "zygote-ready"
        for round_ in range(KILLS):
            zygote.stdin.write(f"{round_} {SEED + round_}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            first_save = False
            wait_until = time.monotonic() + 60
            while not first_save and time.monotonic() < wait_until:
                _, acknowledged = _read_acks(acks, expected, round_)
                saves += acknowledged
                first_save = acknowledged > 0
                if not first_save:
                    time.sleep(0.002)
            assert first_save, f"round {round_}: the writer saved nothing"
            time.sleep(rng.uniform(*DELAY_RANGE_S))
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
            kills += 1
            _, acknowledged = _read_acks(acks, expected, round_)
            saves += acknowledged
            in_flight_committed += _check(db_path, expected, round_, stages, touchpoints)
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)

    figures = {
        "kills": kills,
        "acknowledged_saves": saves,
        "in_flight_saves_found_committed": in_flight_committed,
        "maps_alive": len(expected.created) + SHARED_MAPS,
        "datasets_imported": len(expected.datasets),
        "orphaned_import_folders": len(list((data_dir / "datasets").glob(".import-*"))),
        "db_bytes": db_path.stat().st_size,
    }
    log.info("crash-safety figures: %s", figures)
    assert kills >= 50
    assert saves >= kills  # every writer saved at least once before it was killed
