"""Back up and restore a JourneyLens data directory while the app keeps running.

A backup is a folder:

- ``journeylens.db``: a copy made with SQLite's online backup API in one step, i.e. one consistent
  snapshot read under a single read transaction (writers in WAL mode carry on meanwhile), switched
  to a self-contained rollback-journal file and checked with ``integrity_check``;
- ``datasets/<id>/``: the stored events of every dataset in that snapshot;
- ``manifest.json``: what is inside, with sizes and SHA-256 checksums.

Consistency with edits running: the database snapshot is taken first; a dataset's files are in place
before its row commits (the importer moves them inside its write transaction) and are deleted only
after its row's deletion commits. So after copying a dataset's folder, the backup checks that the
live database still holds the same dataset (same id, same content hash): if it does, nothing touched
the files during the copy; if not, the dataset was deleted (or its id reused) while the backup ran,
and it is left out of the backup, row and files, and named in the report.

The backup is written to a temporary sibling folder and renamed into place at the end: a failed or
interrupted backup never leaves a half-written backup under the requested name.

A restore first verifies the backup (manifest, checksums, integrity), then, when the target already
holds data and ``force`` is given, backs that data up to ``<data dir>/backups/pre-restore-<time>``,
puts the datasets in place and copies the database in with the online backup API (safe even while
another process has it open), then applies any newer migrations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.errors import BadInputError, StorageError
from db.access import AccessRole, require
from db.engine import BUSY_TIMEOUT_MS, DB_FILENAME, create_db_engine, data_dir, dispose_engines, upgrade

MANIFEST = "manifest.json"
BACKUP_FORMAT = 1
DATASETS = "datasets"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    database_bytes: int
    maps: int
    datasets: int
    dataset_files: int
    dataset_bytes: int
    # Datasets deleted (or replaced) while the backup ran: left out, with their row.
    skipped_datasets: tuple[int, ...]
    schema_revision: str
    duration_seconds: float


@dataclass(frozen=True)
class RestoreReport:
    target: Path
    maps: int
    datasets: int
    schema_revision: str
    # Where the data that was there before went (None: the target held no data).
    previous_data_backup: Path | None
    duration_seconds: float


@dataclass
class _Manifest:
    format: int
    created_at: str
    source: str
    schema_revision: str
    maps: int
    database: dict[str, object]
    datasets: list[dict[str, object]] = field(default_factory=list)
    skipped_datasets: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk (a backup must survive a power cut)."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(Path(folder) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _revision(conn: sqlite3.Connection) -> str:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return ""
    return row[0] if row else ""


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0


def _dataset_folder(storage_path: str) -> Path | None:
    """The folder of a dataset's files, relative to the data directory (None: nothing stored)."""
    if not storage_path:
        return None
    folder = Path(storage_path).parent
    # Only folders inside datasets/: a tampered row must not make the backup copy /etc.
    if folder.is_absolute() or ".." in folder.parts or folder.parts[:1] != (DATASETS,) or len(folder.parts) < 2:
        raise StorageError(f"Dataset storage path {storage_path!r} is outside the datasets folder; backup stopped.")
    return folder


def _files_of(root: Path, base: Path) -> list[dict[str, object]]:
    return [
        {"path": str(p.relative_to(base)), "bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def _prepare_destination(destination: Path) -> Path:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BadInputError.invalid("backup path", str(destination), "a new or empty folder")
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = destination.parent / f".{destination.name}.partial-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir()
    return work


# --------------------------------------------------------------------------- backup


def create_backup(destination: Path | str, *, source_dir: Path | None = None) -> BackupReport:
    """Back up the data directory (database and datasets) into the new folder ``destination``."""
    started = time.monotonic()
    source_dir = (source_dir or data_dir()).resolve()
    destination = Path(destination).resolve()
    if destination == source_dir or source_dir in destination.parents and destination.parent != source_dir / "backups":
        raise BadInputError.invalid(
            "backup path", str(destination), "a folder outside the data directory (or in its backups/)"
        )
    source_db = source_dir / DB_FILENAME
    if not source_db.exists():
        raise StorageError(f"There is no JourneyLens database in {source_dir} to back up.")

    work = _prepare_destination(destination)
    try:
        manifest = _snapshot(source_dir, work)
        manifest_path = work / MANIFEST
        manifest_path.write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False), encoding="utf-8")
        _fsync_tree(work)
        if destination.exists():
            destination.rmdir()  # empty, checked above
        work.rename(destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise

    files = [f for d in manifest.datasets for f in d["files"]]  # type: ignore[union-attr]
    return BackupReport(
        path=destination,
        database_bytes=int(manifest.database["bytes"]),  # type: ignore[arg-type]
        maps=manifest.maps,
        datasets=len(manifest.datasets),
        dataset_files=len(files),
        dataset_bytes=sum(int(f["bytes"]) for f in files),
        skipped_datasets=tuple(manifest.skipped_datasets),
        schema_revision=manifest.schema_revision,
        duration_seconds=time.monotonic() - started,
    )


def _snapshot(source_dir: Path, work: Path) -> _Manifest:
    copy_db = work / DB_FILENAME
    src = _connect(source_dir / DB_FILENAME)
    dst = sqlite3.connect(copy_db, isolation_level=None)
    try:
        # pages=-1: the whole database in one step, under one read transaction: one snapshot.
        src.backup(dst, pages=-1)
        # A self-contained file: no -wal beside it to lose when the folder is copied around.
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.execute("PRAGMA foreign_keys=ON")
        snapshot = dst.execute("SELECT id, content_hash, storage_path FROM dataset ORDER BY id").fetchall()

        kept: list[dict[str, object]] = []
        skipped: list[int] = []
        for dataset_id, content_hash, storage_path in snapshot:
            folder = _dataset_folder(storage_path)
            if folder is None:
                continue  # a table on an external backend: nothing stored here
            copied = _copy_dataset(source_dir / folder, work / folder)
            still_there = src.execute(
                "SELECT 1 FROM dataset WHERE id = ? AND content_hash = ?", (dataset_id, content_hash)
            ).fetchone()
            if copied and still_there:
                kept.append({"id": dataset_id, "folder": str(folder), "files": _files_of(work / folder, work)})
                continue
            if still_there:
                raise StorageError(
                    f"The files of dataset {dataset_id} ({folder}) are missing from the data directory; "
                    "the backup stopped rather than record a dataset without its events."
                )
            # Deleted (or its id reused) while we copied: leave it out, row and files.
            shutil.rmtree(work / folder, ignore_errors=True)
            dst.execute("DELETE FROM dataset WHERE id = ?", (dataset_id,))
            skipped.append(dataset_id)

        integrity = dst.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            raise StorageError(f"The backup copy of the database failed its integrity check: {integrity[:3]}")
        if dst.execute("PRAGMA foreign_key_check").fetchall():
            raise StorageError("The backup copy of the database has rows pointing at missing rows.")
        revision, maps = _revision(dst), _count(dst, "journey_map")
    finally:
        dst.close()
        src.close()
    return _Manifest(
        format=BACKUP_FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=str(source_dir),
        schema_revision=revision,
        maps=maps,
        database={"file": DB_FILENAME, "bytes": copy_db.stat().st_size, "sha256": _sha256(copy_db)},
        datasets=kept,
        skipped_datasets=skipped,
    )


def _copy_dataset(source: Path, target: Path) -> bool:
    """Copy one dataset folder; False when it vanished (deleted) while we copied it."""
    try:
        shutil.copytree(source, target)
        return True
    except FileNotFoundError:
        return False
    except shutil.Error as exc:  # copytree gathers per-file errors, e.g. a file deleted under it
        if all(isinstance(e, tuple) and "No such file" in str(e[-1]) for e in exc.args[0]):
            return False
        raise


# --------------------------------------------------------------------------- verify and restore


def verify_backup(source: Path | str) -> dict[str, object]:
    """Check a backup folder (manifest, checksums, integrity); return its manifest or raise StorageError."""
    source = Path(source)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise StorageError(f"{source} is not a JourneyLens backup: {MANIFEST} is missing.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StorageError(f"{manifest_path} is damaged: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise StorageError(
            f"{source}: unknown backup format {manifest.get('format') if isinstance(manifest, dict) else None!r}."
        )

    database = source / DB_FILENAME
    if not database.is_file() or _sha256(database) != manifest["database"]["sha256"]:
        raise StorageError(f"{database} is missing or does not match the checksum in the manifest.")
    for dataset in manifest["datasets"]:
        _dataset_folder(f"{dataset['folder']}/x")  # refuses folders outside datasets/
        for entry in dataset["files"]:
            path = source / entry["path"]
            if not path.resolve().is_relative_to(source.resolve()) or not path.is_file():
                raise StorageError(f"Backup file {entry['path']} is missing.")
            if _sha256(path) != entry["sha256"]:
                raise StorageError(f"Backup file {entry['path']} does not match its checksum.")
    conn = _connect(database, readonly=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
            raise StorageError(f"{database} fails SQLite's integrity check.")
    finally:
        conn.close()
    return manifest


def _holds_data(target: Path) -> tuple[int, int]:
    db_path = target / DB_FILENAME
    if not db_path.exists():
        return 0, 0
    conn = _connect(db_path)
    try:
        return _count(conn, "journey_map"), _count(conn, "dataset")
    finally:
        conn.close()


def restore_backup(source: Path | str, *, target_dir: Path | None = None, force: bool = False) -> RestoreReport:
    """Restore a backup folder into the data directory (``force``: replace what is there, after saving it)."""
    require(AccessRole.ADMIN, "restore a backup")
    started = time.monotonic()
    source = Path(source).resolve()
    target = (target_dir or data_dir()).resolve()
    manifest = verify_backup(source)

    maps_now, datasets_now = _holds_data(target)
    previous: Path | None = None
    if maps_now or datasets_now:
        if not force:
            raise BadInputError.invalid(
                "restore target",
                str(target),
                f"an empty data directory: it holds {maps_now} maps and {datasets_now} datasets "
                "(use --force to replace them; they are backed up first under backups/)",
            )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        previous = create_backup(target / "backups" / f"pre-restore-{stamp}", source_dir=target).path

    target.mkdir(parents=True, exist_ok=True)
    dispose_engines()  # this process's pooled connections must not outlive the old content

    # 1. Datasets: staged beside the live folder, then swapped in.
    staging = target / f".restore-{os.getpid()}-{time.monotonic_ns()}"
    staging.mkdir()
    try:
        for dataset in manifest["datasets"]:
            shutil.copytree(source / str(dataset["folder"]), staging / str(dataset["folder"]))
        live = target / DATASETS
        old = staging / "previous-datasets"
        if live.exists():
            live.rename(old)
        (staging / DATASETS).mkdir(exist_ok=True)
        (staging / DATASETS).rename(live)

        # 2. Database: copied in with the online backup API (other processes may have it open).
        src = _connect(source / DB_FILENAME, readonly=True)
        dst = _connect(target / DB_FILENAME)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
            src.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    # 3. A backup from an older version gets this version's migrations.
    engine = create_db_engine(f"sqlite:///{target / DB_FILENAME}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    dispose_engines()

    conn = _connect(target / DB_FILENAME)
    try:
        maps, datasets, revision = _count(conn, "journey_map"), _count(conn, "dataset"), _revision(conn)
    finally:
        conn.close()
    return RestoreReport(
        target=target,
        maps=maps,
        datasets=datasets,
        schema_revision=revision,
        previous_data_backup=previous,
        duration_seconds=time.monotonic() - started,
    )
