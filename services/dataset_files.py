"""Whether a stored dataset's events file is there and readable (light: pyarrow only, for `check`), and
the working folders imports leave behind when killed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def parquet_problem(path: Path, recorded_rows: int, *, deep: bool = False) -> str | None:
    """What is wrong with an events file: "missing", "damaged: <why>" (footer unreadable, or not the
    row count recorded); None when it reads. ``deep`` also reads every page (slower: the whole file)."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return "missing"
    try:
        rows = pq.read_metadata(path).num_rows
    except Exception as exc:  # pyarrow's ArrowInvalid / OSError on a truncated or foreign file
        return f"damaged: {str(exc).splitlines()[0][:160]}"
    if recorded_rows and rows != recorded_rows:
        return f"damaged: {rows:,} rows where {recorded_rows:,} were imported"
    if deep:
        try:
            parquet = pq.ParquetFile(path)
            for group in range(parquet.num_row_groups):
                parquet.read_row_group(group)
        except Exception as exc:  # a damaged page: ArrowInvalid, OSError
            return f"damaged: {str(exc).splitlines()[0][:160]}"
    return None


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a working folder named after it is not a leftover)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


WORK_PREFIX = ".import-"


def sweep_abandoned_imports(datasets_dir: Path) -> list[Path]:
    """Remove the working folders of imports whose process is gone (killed mid-import).

    A working folder is ``.import-<pid>-<random>``; one whose process no longer runs is removed.
    Folders of running imports (this process's or another's) are kept. Returns what was removed.
    """
    removed: list[Path] = []
    if not datasets_dir.is_dir():
        return removed
    for folder in datasets_dir.glob(f"{WORK_PREFIX}*"):
        pid_text = folder.name.removeprefix(WORK_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or process_alive(int(pid_text)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
