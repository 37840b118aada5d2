"""Check a data directory as a whole (``python cli.py check``), and do the safe repairs.

What is checked, each finding with its fix:
- the database file: SQLite ``integrity_check`` and ``foreign_key_check``, read-only (a damaged
  file is reported, never opened for writing);
- migrations: the schema revision is the one this version of JourneyLens expects;
- every stored dataset: its events file is present, readable (Parquet footer) and holds the row
  count recorded at import;
- leftovers: working folders of killed imports (``datasets/.import-<pid>-*``) and restores
  (``.restore-<pid>-*``), half-written updates (``*.neighbours.tmp``).

``repair=True`` does only what is safe: removes leftovers whose process is gone (or, for update
files with no process id, older than :data:`STALE_SECONDS`), and marks datasets whose file is
missing (``dataset.status = "missing"``; back to ``"ok"`` when the file is there again). It never
deletes a dataset, a map or a database row.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.errors import DataDirMissingError
from db.engine import DB_FILENAME
from services.dataset_files import parquet_problem, process_alive

STALE_SECONDS = 600
_LEFTOVERS = (("datasets", ".import-*"), (".", ".restore-*"))


@dataclass
class Finding:
    check: str  # database, foreign_keys, migrations, dataset, leftover
    subject: str  # what it is about ("dataset 3 (Web log)", a path, "journeylens.db")
    problem: str
    fix: str
    repaired: bool = False


@dataclass
class CheckReport:
    data_dir: str
    findings: list[Finding] = field(default_factory=list)
    datasets_checked: int = 0
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return all(f.repaired for f in self.findings)

    def as_dict(self) -> dict:
        return {
            "data_dir": self.data_dir,
            "healthy": self.healthy,
            "datasets_checked": self.datasets_checked,
            "seconds": round(self.seconds, 3),
            "findings": [asdict(f) for f in self.findings],
        }


def _directory(directory: Path | None) -> Path:
    """The data directory to check, never created (a missing one is a fault, not something to make)."""
    path = (directory or Path(os.environ.get("JOURNEYLENS_DATA_DIR") or "data")).resolve()
    if not path.is_dir():
        raise DataDirMissingError(
            f"The data directory {path} does not exist: set JOURNEYLENS_DATA_DIR to the folder holding "
            "journeylens.db, or restore a backup into it (`python cli.py restore`)."
        )
    return path


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parents[1] / "db" / "migrations"))
    return ",".join(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def _check_database(db_file: Path, report: CheckReport) -> list[tuple]:
    """Integrity, foreign keys and revision; returns the dataset rows (empty when unreadable)."""
    if not db_file.is_file():
        report.findings.append(
            Finding(
                "database",
                DB_FILENAME,
                "the database file is missing",
                "restore a backup (`python cli.py restore BACKUP_DIR`), or start the app to create an empty one",
            )
        )
        return []
    damaged_fix = "restore the last backup: `python cli.py restore BACKUP_DIR --force` (the damaged data is kept aside)"
    try:
        con = sqlite3.connect(f"{db_file.as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        report.findings.append(Finding("database", DB_FILENAME, f"cannot be opened ({exc})", damaged_fix))
        return []
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            shown = "; ".join(str(r) for r in rows[:3]) + (f" (+{len(rows) - 3} more)" if len(rows) > 3 else "")
            report.findings.append(Finding("database", DB_FILENAME, f"integrity check failed: {shown}", damaged_fix))
        broken = con.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            tables = sorted({r[0] for r in broken})
            report.findings.append(
                Finding(
                    "foreign_keys",
                    DB_FILENAME,
                    f"{len(broken)} rows point at rows that do not exist (tables: {', '.join(tables)})",
                    damaged_fix,
                )
            )
        try:
            revision = ",".join(sorted(r[0] for r in con.execute("SELECT version_num FROM alembic_version")))
        except sqlite3.OperationalError:
            revision = ""
        head = _head_revision()
        if revision != head:
            report.findings.append(
                Finding(
                    "migrations",
                    DB_FILENAME,
                    f"schema revision {revision or 'none'}, this version expects {head}",
                    "start the app or any command once (migrations run by themselves); a newer revision "
                    "needs a newer JourneyLens",
                )
            )
        columns = {r[1] for r in con.execute("PRAGMA table_info(dataset)")}
        status = "status" if "status" in columns else "'ok'"
        return con.execute(
            f"SELECT id, name, storage_path, backend_url, events, {status} FROM dataset ORDER BY id"
        ).fetchall()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed": nothing more to read
        report.findings.append(Finding("database", DB_FILENAME, f"damaged ({exc})", damaged_fix))
        return []
    finally:
        con.close()


def _leftovers(directory: Path) -> list[tuple[Path, bool]]:
    """(path, safe to remove now) of every temporary file or folder a killed operation left."""
    found: list[tuple[Path, bool]] = []
    for parent, pattern in _LEFTOVERS:
        base = directory / parent
        if not base.is_dir():
            continue
        for path in sorted(base.glob(pattern)):
            pid_text = path.name.split("-", 2)[1] if path.name.count("-") >= 1 else ""
            found.append((path, pid_text.isdigit() and not process_alive(int(pid_text))))
    datasets = directory / "datasets"
    if datasets.is_dir():
        now = time.time()
        for path in sorted(datasets.glob("*/*.neighbours.tmp")):
            found.append((path, now - path.stat().st_mtime > STALE_SECONDS))
    return found


def _remove(path: Path) -> bool:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return False
    return True


def _mark(db_file: Path, updates: dict[int, str]) -> None:
    """Set ``dataset.status`` in one short ``BEGIN IMMEDIATE`` transaction (queued behind other writers)."""
    from db.access import AccessRole, require
    from db.engine import BUSY_TIMEOUT_MS

    require(AccessRole.ADMIN, "repair the data directory")
    con = sqlite3.connect(db_file, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.executemany("UPDATE dataset SET status = ? WHERE id = ?", [(s, i) for i, s in updates.items()])
        con.execute("COMMIT")
    finally:
        con.close()


def _migrate(db_file: Path) -> bool:
    """Apply pending migrations (what any start-up does); False when the database is newer."""
    from core.errors import StorageError
    from db.engine import database_url, get_engine

    try:
        get_engine(database_url(db_file.parent))
    except StorageError:
        return False
    return True


def check_data_dir(directory: Path | None = None, *, repair: bool = False, deep: bool = False) -> CheckReport:
    """Check ``directory`` (default: the data directory); with ``repair``, do the safe fixes;
    ``deep`` reads every page of every events file (finds damage inside a file, not only at its end)."""
    t0 = time.perf_counter()
    directory = _directory(directory)
    report = CheckReport(data_dir=str(directory))
    db_file = directory / DB_FILENAME
    rows = _check_database(db_file, report)
    database_ok = db_file.is_file() and not [f for f in report.findings if f.check == "database"]
    if repair and database_ok:
        for finding in report.findings:
            if finding.check == "migrations" and _migrate(db_file):
                finding.repaired = True
    marks: dict[int, str] = {}
    for dataset_id, name, storage_path, backend_url, events, status in rows:
        if backend_url or not storage_path:
            continue
        report.datasets_checked += 1
        problem = parquet_problem(directory / storage_path, int(events or 0), deep=deep)
        if problem is None:
            if status != "ok":
                marks[dataset_id] = "ok"
            continue
        if problem == "missing" and status != "missing":
            marks[dataset_id] = "missing"
        report.findings.append(
            Finding(
                "dataset",
                f"dataset {dataset_id} ({name})",
                f"events file {problem} ({storage_path})",
                "re-import its CSV (Data page or `python cli.py import`) and delete this one, or restore a backup"
                + (" (--repair marks it missing)" if problem == "missing" else ""),
            )
        )
    for path, safe in _leftovers(directory):
        finding = Finding(
            "leftover",
            str(path.relative_to(directory)),
            "temporary file of a killed import, restore or update"
            if safe
            else "temporary file of an operation that may still be running",
            "--repair removes it" if safe else "wait for the operation to finish; run check again",
        )
        if repair and safe:
            finding.repaired = _remove(path)
        report.findings.append(finding)
    if repair and marks and database_ok:
        _mark(db_file, marks)
    report.seconds = time.perf_counter() - t0
    return report
