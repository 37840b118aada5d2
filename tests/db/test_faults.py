"""Faults a deployment meets, answered with one clear line (exit 2) and nothing changed on disk.

Each test damages a real data directory (a deleted or truncated Parquet file, a damaged database
file, a read-only directory, a full disk, a held write lock) and runs the CLI as a user would.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import select

import cli
from core.errors import DatabaseDamagedError, DatabaseLockedError, EventsFileError, ReadOnlyError
from db.engine import dispose_engines
from services import datasets as dataset_service
from services import maps as map_service
from tests import ROOT
from tests.factories import b2b_log, create_dataset

SAMPLE = ROOT / "sample_data" / "pro_services_events.csv"


def _tree(directory: Path) -> dict[str, int]:
    """Every file under ``directory`` with its size (what "nothing changed on disk" compares)."""
    return {str(p.relative_to(directory)): p.stat().st_size for p in sorted(directory.rglob("*")) if p.is_file()}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_clear_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def dataset(engine) -> int:
    return create_dataset(b2b_log(journeys=30), name="Web log")


def test_deleted_parquet_is_named_with_what_to_do(dataset, data_dir, capsys):
    events = data_dir / "datasets" / str(dataset) / "events.parquet"
    events.unlink()
    before = _tree(data_dir)
    code, out, err = _run(capsys, "analyze", "--dataset", str(dataset), "--report", "summary")
    line = _one_clear_line(err)
    assert code == 2 and out == ""
    assert f"Dataset {dataset} (Web log)" in line and "missing" in line and "Re-import" in line
    assert _tree(data_dir) == before
    assert dataset_service.get_dataset_summary(dataset).status == "missing"


def test_truncated_parquet_is_named_as_damaged(dataset, data_dir, capsys):
    events = data_dir / "datasets" / str(dataset) / "events.parquet"
    with events.open("r+b") as handle:
        handle.truncate(events.stat().st_size // 2)
    before = _tree(data_dir)
    code, _, err = _run(capsys, "analyze", "--dataset", str(dataset), "--report", "transitions")
    line = _one_clear_line(err)
    assert code == 2
    assert "Web log" in line and "damaged" in line and "restore" in line
    assert _tree(data_dir) == before
    assert dataset_service.get_dataset_summary(dataset).status.startswith("damaged")


def test_the_service_raises_the_typed_error_with_the_label(dataset, data_dir):
    from analytics.engine import events_table

    (data_dir / "datasets" / str(dataset) / "events.parquet").unlink()
    source, _ = dataset_service.get_event_source(dataset)
    with pytest.raises(EventsFileError, match="Web log") as info:
        events_table(source)
    assert info.value.problem == "missing"


def test_damaged_database_file(engine, data_dir, capsys):
    map_service.create_map_from_template(template_key=None, name="Kept?")
    dispose_engines()
    db_file = data_dir / "journeylens.db"
    for extra in ("-wal", "-shm"):
        Path(str(db_file) + extra).unlink(missing_ok=True)
    db_file.write_bytes(b"this is not a database, " * 400)
    before = _tree(data_dir)
    code, _, err = _run(capsys, "maps", "list")
    line = _one_clear_line(err)
    assert code == 2
    assert "damaged" in line and "restore" in line
    assert _tree(data_dir) == before
    dispose_engines()
    with pytest.raises(DatabaseDamagedError):
        map_service.list_map_summaries()


@contextmanager
def _read_only(directory: Path):
    """Make ``directory`` read-only for this process: chmod for a normal user; for root (which
    chmod does not stop) a read-only tmpfs mount, else the test is skipped."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [directory, *directory.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield directory
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    mount = directory.parent / "ro-mount"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("running as root without permission to mount a read-only file system")
    try:
        subprocess.run(["cp", "-a", f"{directory}/.", str(mount)], check=True)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount
    finally:
        dispose_engines()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_read_only_data_directory(engine, data_dir, capsys, monkeypatch):
    map_service.create_map_from_template(template_key=None, name="Existing")
    dispose_engines()
    with _read_only(data_dir) as directory:
        monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(directory))
        before = _tree(directory)
        code, _, err = _run(capsys, "maps", "new", "--name", "Refused")
        line = _one_clear_line(err)
        assert code == 2
        assert "read-only" in line or "cannot be opened" in line or "writable" in line
        assert _tree(directory) == before


def test_readonly_write_is_typed():
    from sqlalchemy.exc import OperationalError

    from db.engine import storage_error

    exc = OperationalError("INSERT", {}, sqlite3.OperationalError("attempt to write a readonly database"))
    assert isinstance(storage_error(exc), ReadOnlyError)
    assert storage_error(OperationalError("x", {}, sqlite3.OperationalError("no such column: y"))) is None


def test_full_disk_during_import_leaves_nothing_half_written(engine, data_dir, capsys, monkeypatch):
    import services.importer as importer

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(importer, "build_event_store", full)
    maps_before = [m.id for m in map_service.list_map_summaries()]
    code, _, err = _run(
        capsys,
        "import",
        str(SAMPLE),
        "--name",
        "Too big",
        "--journey",
        "journey_id",
        "--time",
        "timestamp",
        "--activity",
        "activity",
    )
    line = _one_clear_line(err)
    assert code == 2
    assert "disk is full" in line and "free some space" in line
    assert dataset_service.list_dataset_summaries() == []
    leftovers = list((data_dir / "datasets").glob(".import-*")) if (data_dir / "datasets").exists() else []
    assert leftovers == []
    assert [m.id for m in map_service.list_map_summaries()] == maps_before


def test_full_disk_on_a_save_is_typed(engine, capsys, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def full(**_kwargs):
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(map_service, "create_map_from_template", full)
    code, _, err = _run(capsys, "maps", "new", "--name", "X")
    assert code == 2 and "disk holding the data directory is full" in _one_clear_line(err)


def test_database_locked_past_the_wait(engine, data_dir, capsys, monkeypatch):
    import db.engine as db_engine

    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_MS", 200)
    dispose_engines()
    holder = sqlite3.connect(data_dir / "journeylens.db", check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, _, err = _run(capsys, "maps", "new", "--name", "Waits")
        line = _one_clear_line(err)
        assert code == 2 and "busy" in line and "try again" in line
    finally:
        holder.rollback()
        holder.close()
    dispose_engines()
    assert [m.name for m in map_service.list_map_summaries()] == []
    assert isinstance(db_engine.storage_error(sqlite3.OperationalError("database is locked")), DatabaseLockedError)


def test_missing_events_do_not_stop_the_portfolio(dataset, engine, data_dir):
    from services.overview import compute_portfolio

    map_id = map_service.create_map_from_template(template_key=None, name="Linked")
    from db.engine import write_session
    from db.models import Dataset

    with write_session() as session:
        d = session.get(Dataset, dataset)
        d.map_id = map_id
        session.add(d)
    (data_dir / "datasets" / str(dataset) / "events.parquet").unlink()
    (health,) = compute_portfolio()
    assert health.dataset_error is not None and "Web log" in health.dataset_error


# --------------------------------------------------------------------------- python cli.py check


def _check(capsys, *extra: str) -> tuple[int, dict]:
    import json

    code = cli.main(["check", "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_check_on_a_healthy_directory(dataset, capsys):
    code, report = _check(capsys)
    assert code == 0 and report["healthy"] is True
    assert report["findings"] == [] and report["datasets_checked"] == 1


def test_check_names_each_damage_and_repair_does_the_safe_fixes(engine, data_dir, capsys):
    kept = create_dataset(b2b_log(journeys=20), name="Kept log")
    gone = create_dataset(b2b_log(journeys=25, seed=2), name="Gone log")
    cut = create_dataset(b2b_log(journeys=30, seed=3), name="Cut log")
    (data_dir / "datasets" / str(gone) / "events.parquet").unlink()
    cut_file = data_dir / "datasets" / str(cut) / "events.parquet"
    cut_file.write_bytes(cut_file.read_bytes()[:200])
    dead = data_dir / "datasets" / ".import-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "staging.parquet").write_bytes(b"x" * 10)
    running = data_dir / "datasets" / f".import-{os.getpid()}-def"  # this process: still running
    running.mkdir()
    code, report = _check(capsys)
    assert code == 1
    found = {(f["check"], f["subject"]) for f in report["findings"]}
    assert found == {
        ("dataset", f"dataset {gone} (Gone log)"),
        ("dataset", f"dataset {cut} (Cut log)"),
        ("leftover", "datasets/.import-999999999-abc"),
        ("leftover", f"datasets/.import-{os.getpid()}-def"),
    }
    assert all(f["fix"] for f in report["findings"])
    code, report = _check(capsys, "--repair")
    assert code == 1  # the datasets still need a re-import
    assert not dead.exists() and running.exists()
    assert {f["subject"] for f in report["findings"] if f["repaired"]} == {"datasets/.import-999999999-abc"}
    dispose_engines()
    from db.engine import read_session
    from db.models import Dataset

    with read_session() as session:
        status = {d.id: d.status for d in session.exec(select(Dataset))}
    assert status == {kept: "ok", gone: "missing", cut: "ok"}


def test_check_finds_a_damaged_database_and_dangling_rows(engine, data_dir, capsys):
    map_id = map_service.create_map_from_template(template_key=None, name="M")
    dispose_engines()
    con = sqlite3.connect(data_dir / "journeylens.db")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("INSERT INTO map_persona (map_id, persona_id) VALUES (?, 99999)", (map_id,))
    con.commit()
    con.close()
    code, report = _check(capsys)
    assert code == 1 and [f["check"] for f in report["findings"]] == ["foreign_keys"]
    db_file = data_dir / "journeylens.db"
    for extra in ("-wal", "-shm"):
        Path(str(db_file) + extra).unlink(missing_ok=True)
    db_file.write_bytes(b"garbage" * 1000)
    code, report = _check(capsys, "--repair")
    assert code == 1 and [f["check"] for f in report["findings"]] == ["database"]
    assert db_file.read_bytes() == b"garbage" * 1000  # never written


def test_check_on_a_missing_directory_is_a_fault(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(tmp_path / "nowhere"))
    code, _, err = _run(capsys, "check")
    assert code == 2 and "does not exist" in _one_clear_line(err)
    assert not (tmp_path / "nowhere").exists()


def test_a_backup_that_does_not_match_its_manifest(dataset, data_dir, tmp_path, capsys):
    assert cli.main(["backup", str(tmp_path / "bk")]) == 0
    capsys.readouterr()
    events = next((tmp_path / "bk").rglob("events.parquet"))
    events.write_bytes(events.read_bytes()[:-10] + b"0123456789")
    before = _tree(data_dir)
    code, _, err = _run(capsys, "restore", str(tmp_path / "bk"), "--force")
    line = _one_clear_line(err)
    assert code == 2 and "does not match its checksum" in line
    assert _tree(data_dir) == before


def test_a_really_full_disk_during_import(tmp_path, monkeypatch, capsys):
    """A 400 kB file system (tmpfs, when this process may mount one) fills during the import."""
    mount = tmp_path / "small"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a small file system here (needs root); the patched writer test covers it")
    try:
        monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(mount))
        dispose_engines()
        assert cli.main(["maps", "new", "--name", "Before"]) == 0
        capsys.readouterr()
        code, _, err = _run(
            capsys,
            *("import", str(ROOT / "sample_data" / "b2b_saas_events.csv"), "--name", "Big", "--journey", "journey_id"),
            *("--time", "timestamp", "--activity", "activity"),
        )
        assert code == 2 and "disk is full" in _one_clear_line(err)
        assert list((mount / "datasets").iterdir()) == []  # no half-written dataset, no working folder
        assert [m.name for m in map_service.list_map_summaries()] == ["Before"]
        assert dataset_service.list_dataset_summaries() == []
    finally:
        dispose_engines()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _damage_pages(path: Path) -> None:
    """Overwrite the data pages of a Parquet file, keeping its footer (its metadata still reads)."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    for i in range(4, len(data) - footer, 3):
        data[i] = 0xAB
    path.write_bytes(bytes(data))


def test_damaged_pages_are_named_and_found_by_a_deep_check(dataset, data_dir, capsys):
    path = data_dir / "datasets" / str(dataset) / "events.parquet"
    _, before, _ = _run(capsys, "analyze", "--dataset", str(dataset), "--report", "transitions")
    _damage_pages(path)
    code, _, err = _run(capsys, "analyze", "--dataset", str(dataset), "--report", "variants")
    line = _one_clear_line(err)
    assert code == 2 and f"Dataset {dataset} (Web log)" in line and "damaged" in line
    # The whole log's transitions are answered from the file facts in the intact footer, unchanged.
    code, out, err = _run(capsys, "analyze", "--dataset", str(dataset), "--report", "transitions")
    assert code == 0 and "Traceback" not in err and out == before and "(entry)" in out
    code, report = _check(capsys)
    assert code == 0  # the footer and the row count are as recorded: only reading the pages tells
    code, report = _check(capsys, "--deep")
    assert code == 1 and [f["subject"] for f in report["findings"]] == [f"dataset {dataset} (Web log)"]
