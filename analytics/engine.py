"""The one gateway to the query engine.

Every analysis is an Ibis expression over :func:`events_table`; only this module opens
connections, registers Parquet files and executes expressions. DuckDB (embedded, in memory,
reading the dataset's Parquet) is the default; a dataset can instead live as a table on any Ibis
backend named by a connection URL (``pyspark://``, ``bigquery://``, ``trino://``, ...), and the
same expressions run there unchanged.

DuckDB connections are not safe to share between threads (Streamlit runs each session in its
own thread), so the default backend keeps one connection per thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
from ibis.expr.types import Table

from core.errors import EventsFileError

DUCKDB_THREADS = int(os.environ.get("JOURNEYLENS_DUCKDB_THREADS", "0")) or (os.cpu_count() or 2)

_local = threading.local()
_shared: dict[str, Any] = {}
_shared_lock = threading.Lock()
# How each registered events file is named in messages ("Dataset 3 (Web log)").
_labels: dict[str, str] = {}


@dataclass(frozen=True)
class EventSource:
    """Where a dataset's events are: a Parquet file (default engine) or a table on a named backend."""

    parquet_path: str | None = None
    backend_url: str | None = None
    table_name: str | None = None
    # How messages name this source ("dataset 3 (Web log)"); not part of its identity.
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.parquet_path and not (self.backend_url and self.table_name):
            raise ValueError("an event source needs a Parquet path, or a backend URL and a table name")


def _duckdb() -> Any:
    con = getattr(_local, "duckdb", None)
    if con is None:
        con = ibis.duckdb.connect(threads=DUCKDB_THREADS)
        _local.duckdb = con
        _local.views = {}
    return con


def connection(backend_url: str | None = None) -> Any:
    """The Ibis backend for ``backend_url`` (None: the embedded DuckDB of this thread)."""
    if not backend_url:
        return _duckdb()
    with _shared_lock:
        con = _shared.get(backend_url)
        if con is None:
            # ${VAR} is expanded here, so a stored URL need not hold secrets.
            con = ibis.connect(os.path.expandvars(backend_url))
            _shared[backend_url] = con
        return con


def events_table(source: EventSource) -> Table:
    """The stored events of a dataset as an Ibis table (columns of :mod:`analytics.schema`)."""
    if source.backend_url:
        return connection(source.backend_url).table(source.table_name)
    assert source.parquet_path, "EventSource requires a Parquet path without a backend table"
    path = Path(source.parquet_path)
    if source.label:
        _labels[str(path)] = source.label
    if not path.is_file():
        raise EventsFileError(source.label, str(path), "missing")
    con = _duckdb()
    key = (str(path), path.stat().st_mtime_ns)
    name = _local.views.get(key)
    if name is None:
        name = "events_" + hashlib.sha1(repr(key).encode()).hexdigest()[:16]
        try:
            con.read_parquet(str(path), table_name=name)
        except Exception as exc:  # DuckDB's IOException / InvalidInputException on a truncated or foreign file
            raise EventsFileError(source.label, str(path), f"damaged (cannot be read: {_first_line(exc)})") from exc
        _local.views[key] = name
    return con.table(name)


def memtable(frame: pd.DataFrame) -> Table:
    """An in-memory table on the default engine (tests and small inputs)."""
    return ibis.memtable(frame)


def _backend_of(expr: Any) -> Any:
    """The backend that runs ``expr``: its external backend, else this thread's DuckDB.

    Expressions over stored Parquet and memtables (bound to no backend, or to Ibis's default
    DuckDB) run on this thread's connection; an expression over a table of a named backend
    (including a DuckDB database file) runs there.
    """
    backend = expr._find_backend(use_default=True) if hasattr(expr, "_find_backend") else None
    if backend is not None:
        with _shared_lock:
            if any(backend is con for con in _shared.values()):
                return backend
    if backend is None or getattr(backend, "name", "") == "duckdb":
        return _duckdb()
    return backend


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _unreadable(path: str) -> bool:
    """Whether every page of a Parquet file fails to read (checked only after a query failed)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        for group in range(parquet.num_row_groups):
            parquet.read_row_group(group)
    except Exception:  # noqa: BLE001 - any failure to read is the answer
        return True
    return False


@contextmanager
def _damaged_files() -> Iterator[None]:
    """A Parquet file damaged past its footer fails only when its pages are read: say which, typed.

    On a DuckDB error, the events files named in it (else those this process registered) are read
    with pyarrow; one that does not read is the cause. Any other error is raised as it is.
    """
    try:
        yield
    except Exception as exc:
        if "duckdb" not in type(exc).__module__:
            raise
        text = str(exc)
        named = re.findall(r"""["']([^"']+\.parquet)["']""", text)
        for path in named or list(_labels):
            if Path(path).is_file() and _unreadable(path):
                raise EventsFileError(
                    _labels.get(path, ""), path, f"damaged (cannot be read: {_first_line(exc)})"
                ) from exc
        raise


def runs_on_duckdb(expr: Any) -> bool:
    """True when ``expr`` runs on DuckDB (this thread's connection or a DuckDB database file)."""
    return getattr(_backend_of(expr), "name", "") == "duckdb"


def execute(expr: Any) -> pd.DataFrame:
    """Run an Ibis expression on the backend it is bound to and return a pandas frame."""
    with _damaged_files():
        result = _backend_of(expr).execute(expr)
    if isinstance(result, pd.Series):
        return result.to_frame()
    return result


def execute_scalar(expr: Any) -> Any:
    """Run a scalar Ibis expression."""
    with _damaged_files():
        return _backend_of(expr).execute(expr)


_temp_names = itertools.count()


class TemporaryTables:
    """Intermediate results materialised once and read many times, dropped when the block ends.

    An analysis that refers to one intermediate table several times (a funnel's candidate steps)
    would otherwise have the engine recompute it for every reference. On DuckDB the table is a
    temporary table of this thread's connection; on another backend, Ibis' ``cache()``.
    """

    def __init__(self) -> None:
        self._dropped: list[Any] = []

    def materialize(self, expr: Table) -> Table:
        backend = _backend_of(expr)
        if backend is _duckdb():
            con = backend
            name = f"_jl_tmp_{os.getpid()}_{next(_temp_names)}"
            table = con.create_table(name, expr, temp=True)
            self._dropped.append(lambda: con.con.execute(f'DROP TABLE IF EXISTS "{name}"'))
            return table
        cached = expr.cache()
        self._dropped.append(cached.release)
        return cached

    def close(self) -> None:
        while self._dropped:
            drop = self._dropped.pop()
            with contextlib.suppress(Exception):  # cleanup must not hide the analysis' own error
                drop()


@contextmanager
def temporary_tables() -> Iterator[TemporaryTables]:
    """``with temporary_tables() as tmp: t = tmp.materialize(expr)``: dropped at the end of the block."""
    tmp = TemporaryTables()
    try:
        yield tmp
    finally:
        tmp.close()


@contextmanager
def scratch_connection(
    *, memory_limit: str = "1GB", threads: int | None = None, temp_directory: str | None = None
) -> Iterator[Any]:
    """A private DuckDB connection for bulk work (the import), closed after use.

    It has its own memory limit and spill directory, so a large import neither grows the
    process past ``memory_limit`` nor leaves temporary tables on the shared per-thread
    connection. Callers use the DB-API of the connection (``execute``, ``fetchall``).
    """
    import duckdb

    # Insertion order is never relied on (every order is explicit), and not keeping it saves memory.
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "threads": threads or DUCKDB_THREADS,
        "preserve_insertion_order": False,
    }
    if temp_directory:
        config["temp_directory"] = temp_directory
    con = duckdb.connect(config=config)
    try:
        yield con
    finally:
        con.close()
