"""Backups taken while users edit restore to a working app; restore refuses what it should."""

from __future__ import annotations

import logging
import random
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select

import cli
from core.errors import BadInputError, ConflictError, StorageError
from db.engine import DB_FILENAME, data_dir, dispose_engines, get_engine, read_session, write_session
from db.models import Dataset
from services import backup as backup_service
from services import datasets as dataset_service
from services import maps as map_service
from services.templates import get_template
from tests import ROOT

# Timing-sensitive (a backup copied while threads edit): run on one xdist worker, one test at a time.
pytestmark = pytest.mark.xdist_group("timing")

log = logging.getLogger(__name__)

TEMPLATE = "b2b-4-stage"
EDITORS = 6


def store_dataset(name: str, events: int, *, seed: int) -> int:
    """Store a small event log the way the importer does: files first (moved into place inside the
    write transaction), then the row commits."""
    rng = random.Random(seed)
    frame = pd.DataFrame(
        {
            "journey_id": [f"j{rng.randrange(events // 3 + 1)}" for _ in range(events)],
            "activity": [rng.choice(["Demo", "Pricing page", "Trial"]) for _ in range(events)],
            "timestamp": pd.date_range("2026-01-01", periods=events, freq="h", tz="UTC"),
        }
    )
    datasets_dir = data_dir() / "datasets"
    work = datasets_dir / f".import-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    frame.to_parquet(work / "events.parquet", index=False)
    with write_session() as session:
        row = Dataset(name=name, content_hash=uuid.uuid4().hex, events=events)
        session.add(row)
        session.flush()
        final = datasets_dir / str(row.id)
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
        row.storage_path = f"datasets/{row.id}/events.parquet"
        session.add(row)
        return row.id or 0


def import_real_log() -> int:
    """One dataset through the real importer (its files: events and the rejected-rows report)."""
    from analytics.schema import ColumnMapping
    from services.importer import ImportOptions, import_event_log

    rows = ["journey,ts,activity"] + [f"j{i % 9},2026-02-{1 + i % 27:02d}T08:00:00Z,step {i % 4}" for i in range(90)]
    rows.append("j1,not a date,step 1")  # one bad row, kept aside in the report
    result = import_event_log(
        ("\n".join(rows) + "\n").encode(),
        name="real import",
        mapping=ColumnMapping.of(journey="journey", timestamp="ts", activity="activity"),
        options=ImportOptions(allow_bad_rows=True),
    )
    assert result.rejected_rows == 1
    return result.dataset_id


@dataclass
class Edits:
    """What the editors had acknowledged, with the time of each acknowledgement."""

    renames: list[tuple[float, int, int]] = field(default_factory=list)  # (t, map id, version)
    datasets_created: list[tuple[float, int, str]] = field(default_factory=list)
    datasets_deleted: list[tuple[float, int, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _map_editor(index: int, map_ids: list[int], stop: threading.Event, edits: Edits) -> None:
    rng = random.Random(index)
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if rng.random() < 0.7:
                map_id = rng.choice(map_ids)
                version = map_service.get_map_summary(map_id).version
                try:
                    new_version = map_service.rename_map(map_id, f"e{index}-{n}", expected_version=version)
                except ConflictError:
                    continue
                with edits.lock:
                    edits.renames.append((time.monotonic(), map_id, new_version))
            else:
                map_service.create_map_from_template(template_key=TEMPLATE, name=f"new e{index}-{n}")
        except BaseException as exc:  # noqa: BLE001
            edits.errors.append(exc)
            return


def _dataset_editor(stop: threading.Event, edits: Edits) -> None:
    rng = random.Random(99)
    mine: list[tuple[int, str]] = []
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if mine and rng.random() < 0.4:
                dataset_id, name = mine.pop(rng.randrange(len(mine)))
                dataset_service.delete_dataset(dataset_id)
                edits.datasets_deleted.append((time.monotonic(), dataset_id, name))
            else:
                name = f"log {n}"
                dataset_id = store_dataset(name, 30 + n, seed=n)
                mine.append((dataset_id, name))
                edits.datasets_created.append((time.monotonic(), dataset_id, name))
        except BaseException as exc:  # noqa: BLE001
            edits.errors.append(exc)
            return


def _use_data_dir(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    dispose_engines()
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(directory))


def test_backup_during_edits_restores_to_a_working_app(engine, data_dir, tmp_path, monkeypatch):
    template = get_template(TEMPLATE)
    full = (len(template.stages), sum(len(s["touchpoints"]) for s in template.stages))
    map_ids = [map_service.create_map_from_template(template_key=TEMPLATE, name=f"Shared {i}") for i in range(4)]
    for i in range(2):
        store_dataset(f"seed log {i}", 200, seed=i)
    imported = import_real_log()

    edits, stop = Edits(), threading.Event()
    threads = [threading.Thread(target=_map_editor, args=(i, map_ids, stop, edits)) for i in range(EDITORS)]
    threads.append(threading.Thread(target=_dataset_editor, args=(stop, edits)))
    for t in threads:
        t.start()
    try:
        while len(edits.renames) < 30 and not edits.errors:  # edits are flowing
            time.sleep(0.01)
        started = time.monotonic()
        report = backup_service.create_backup(tmp_path / "backup")
        ended = time.monotonic()
        # The editors carry on after the backup: it did not block them.
        count_at_end = len(edits.renames)
        while len(edits.renames) < count_at_end + 10 and not edits.errors:
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert edits.errors == []
    log.info(
        "backup figures: %s maps, %s datasets, %s files, db %s bytes, datasets %s bytes, %.3f s, skipped %s",
        report.maps,
        report.datasets,
        report.dataset_files,
        report.database_bytes,
        report.dataset_bytes,
        report.duration_seconds,
        report.skipped_datasets,
    )
    assert report.maps >= 4 and report.datasets >= 1
    assert not list(tmp_path.glob(".backup.partial-*"))

    # Restore into a new data directory and open it as the app would.
    restored_dir = tmp_path / "restored"
    restore = backup_service.restore_backup(tmp_path / "backup", target_dir=restored_dir)
    assert restore.maps == report.maps and restore.previous_data_backup is None
    _use_data_dir(monkeypatch, restored_dir)
    restored_engine = get_engine()  # runs the migrations
    with restored_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []

    maps = {m.id: m for m in map_service.list_map_summaries()}
    assert len(maps) == report.maps
    for m in maps.values():  # every map whole: the snapshot is transactional
        assert (m.stages, m.touchpoints) == full, m
    # Everything acknowledged before the backup began is in it.
    for t, map_id, version in edits.renames:
        if t < started:
            assert maps[map_id].version >= version
    with read_session() as session:
        stored = {d.id: d for d in session.exec(select(Dataset)).all()}
    for t, dataset_id, name in edits.datasets_created:
        deleted_after = [d for d in edits.datasets_deleted if d[1] == dataset_id and d[2] == name]
        if t < started and not (deleted_after and deleted_after[0][0] < ended):
            assert stored[dataset_id].name == name
    for t, dataset_id, name in edits.datasets_deleted:
        if t < started:
            assert dataset_id not in stored or stored[dataset_id].name != name
    # The real import came back with its rejected-rows report.
    from services.importer import get_rejected_rows

    assert len(get_rejected_rows(imported)) >= 1
    # Every dataset in the backup has its events, and they read back whole.
    for d in stored.values():
        source, _ = dataset_service.get_event_source(d.id)
        assert len(pd.read_parquet(source.parquet_path)) == d.events

    # The app itself runs on the restored data.
    from streamlit.testing.v1 import AppTest

    from components.text import escape_markdown

    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")  # show exactly what was restored
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(m.value for m in at.markdown)
    for m in maps.values():
        assert escape_markdown(m.name) in shown


def test_dataset_deleted_during_the_copy_is_left_out(engine, tmp_path, monkeypatch):
    keep = store_dataset("keep", 50, seed=1)
    gone = store_dataset("gone", 50, seed=2)
    real_copy = backup_service._copy_dataset

    def copy_then_delete(source: Path, target: Path) -> bool:
        if source.name == str(gone):
            dataset_service.delete_dataset(gone)  # someone deletes it just as we copy it
        return real_copy(source, target)

    monkeypatch.setattr(backup_service, "_copy_dataset", copy_then_delete)
    report = backup_service.create_backup(tmp_path / "b")
    assert report.skipped_datasets == (gone,)
    assert report.datasets == 1
    assert not (tmp_path / "b" / "datasets" / str(gone)).exists()
    restored = tmp_path / "r"
    backup_service.restore_backup(tmp_path / "b", target_dir=restored)
    import sqlite3

    with sqlite3.connect(restored / DB_FILENAME) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM dataset")] == [keep]


def test_dataset_replaced_under_the_same_id_is_left_out(engine, tmp_path, monkeypatch):
    first = store_dataset("first", 40, seed=1)
    real_copy = backup_service._copy_dataset

    def copy_after_replacement(source: Path, target: Path) -> bool:
        dataset_service.delete_dataset(first)
        assert store_dataset("second", 41, seed=2) != first  # ids are never reused (AUTOINCREMENT)
        return real_copy(source, target)

    monkeypatch.setattr(backup_service, "_copy_dataset", copy_after_replacement)
    report = backup_service.create_backup(tmp_path / "b")
    assert report.skipped_datasets == (first,) and report.datasets == 0


def test_refusals_change_nothing(engine, data_dir, tmp_path):
    map_service.create_map_from_template(template_key=TEMPLATE, name="Live map")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(BadInputError, match="new or empty folder"):
        backup_service.create_backup(tmp_path / "full")
    with pytest.raises(BadInputError, match="outside the data directory"):
        backup_service.create_backup(data_dir / "inside")

    backup_service.create_backup(tmp_path / "b")
    # A live data directory with maps is not overwritten without --force.
    with pytest.raises(BadInputError, match="holds 1 maps"):
        backup_service.restore_backup(tmp_path / "b")

    # A damaged backup is refused before anything is touched.
    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "b", damaged)
    with (damaged / DB_FILENAME).open("r+b") as fh:
        fh.seek(5000)
        fh.write(b"\xff" * 16)
    target = tmp_path / "target"
    with pytest.raises(StorageError, match="checksum"):
        backup_service.restore_backup(damaged, target_dir=target)
    assert not target.exists()
    with pytest.raises(StorageError, match="not a JourneyLens backup"):
        backup_service.restore_backup(tmp_path / "full", target_dir=target)


def test_restore_with_force_keeps_the_previous_data(engine, tmp_path):
    map_service.create_map_from_template(template_key=TEMPLATE, name="Before the backup")
    backup_service.create_backup(tmp_path / "b")
    map_service.create_map_from_template(template_key=TEMPLATE, name="After the backup")
    report = backup_service.restore_backup(tmp_path / "b", force=True)
    assert [m.name for m in map_service.list_map_summaries()] == ["Before the backup"]
    assert report.previous_data_backup is not None
    kept = backup_service.verify_backup(report.previous_data_backup)
    assert kept["maps"] == 2


def test_cli_backup_and_restore(engine, tmp_path, capsys):
    map_service.create_map_from_template(template_key=TEMPLATE, name="From the terminal")
    store_dataset("terminal log", 20, seed=3)
    assert cli.main(["backup", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "1 maps" in out and "1 datasets" in out
    assert cli.main(["backup", str(tmp_path / "b")]) == 2
    assert "new or empty folder" in capsys.readouterr().err
    assert cli.main(["restore", str(tmp_path / "b")]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["restore", str(tmp_path / "b"), "--force"]) == 0
    assert "Restored 1 maps and 1 datasets" in capsys.readouterr().out
