"""The one gateway to the query engine.

Every analysis is an Ibis expression over :func:`events_table`; only this module opens
connections, registers Parquet files and executes expressions. DuckDB (embedded, in memory,
reading the dataset's Parquet) is the default; a dataset can instead live as a table on any Ibis
backend named by a connection URL (``pyspark://``, ``bigquery://``, ``trino://``, ...), and the
same expressions run there unchanged.

The default backend is one DuckDB in-memory database per process. A DuckDB connection is not safe
to share between threads (Streamlit runs each session in its own thread), so each thread queries
through its own cursor of that database: the cursors share its tables and views (and its
``threads`` setting), while temporary tables and registered frames stay with the cursor that made
them.

**Hot datasets.** A dataset is read through a view of the shared database (``events_<hash>`` of
its path, modification time and size). At first the view reads the Parquet file; once the dataset
is in use (asked for again at least :data:`HOT_AFTER_SECONDS` after its first question, or
:func:`make_hot`), a background thread copies the file, in file order and with its columns and
types, into a table of a compressed in-memory database attached as ``jl_hot`` and points the view
at it, so every later question of every session reads memory, not Parquet. The copy goes by chunks,
each compressed by a checkpoint: uncompressed, text would take ten times the memory and group and
filter more slowly than on Parquet, which DuckDB reads as dictionaries. The tables stay within a
budget (``JOURNEYLENS_HOT_MB``; default a quarter of the machine's memory, at most 4096 MB; ``0``
turns hot datasets off), each counted as the memory DuckDB reports its load added; the least
recently asked dataset is dropped first (its view reads Parquet again); one larger than the whole
budget stays on Parquet. A file with a new modification time or size (a re-import, an upgrade) gets
a new view, and its old table is dropped. :func:`hot_status` says where a dataset is read from.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from core.errors import BadInputError, EventsFileError

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


HOT_DATABASE = "jl_hot"
_database: Any = None  # the process's DuckDB database (a duckdb connection; threads use cursors of it)
_database_lock = threading.Lock()


def _cursor() -> Any:
    """A new connection (cursor) to the process's DuckDB database, created on first use."""
    global _database
    with _database_lock:
        if _database is None:
            import duckdb

            _database = duckdb.connect(config={"threads": DUCKDB_THREADS})
            # Hot datasets live in a compressed in-memory database (see the module docstring).
            _database.execute(f"ATTACH ':memory:' AS {HOT_DATABASE} (COMPRESS)")
        return _database.cursor()


def _duckdb() -> Any:
    con = getattr(_local, "duckdb", None)
    if con is None:
        con = ibis.duckdb.from_connection(_cursor())
        _local.duckdb = con
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
    name = _hot.asked(str(path), _version(path), source.label)
    return _duckdb().table(name)


def stored_key_values(table: Table) -> dict[str, str]:
    """The key-value metadata in the footer of the Parquet file that ``table`` (as
    :func:`events_table` gives it) reads, read once per version of the file; {} for a table of
    another backend or a table derived from it."""
    from ibis.expr import operations as ops

    op = table.op()
    if not isinstance(op, ops.DatabaseTable) or getattr(op.source, "name", "") != "duckdb":
        return {}
    return _hot.key_values(op.name)


def memtable(frame: pd.DataFrame | pa.Table) -> Table:
    """An in-memory table on the default engine (tests and small inputs; an Arrow table is read as
    it is, a pandas frame is converted to Arrow first)."""
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


def execute_arrow(expr: Any) -> pa.Table:
    """Run an Ibis table expression and return an Arrow table (no conversion to pandas: for results
    that go on as numpy arrays)."""
    with _damaged_files():
        return _backend_of(expr).to_pyarrow(expr)


def quantiles_of(table: pa.Table, wanted: dict[str, tuple[str, float]]) -> dict[str, float | None]:
    """DuckDB's ``quantile_cont`` (what Ibis's ``quantile`` runs) of columns of an Arrow table, on this
    thread's connection: ``wanted`` maps each result's name to (column, quantile); an empty column
    gives None. For a small aggregate over figures computed in memory, whose Ibis expression costs
    more to compile than to run."""
    if not wanted:
        return {}
    cols = set(table.column_names)
    terms = []
    for column, q in wanted.values():
        if column not in cols or not 0 <= q <= 1:
            raise ValueError(f"no quantile {q!r} of column {column!r}")
        quoted = column.replace('"', '""')
        terms.append(f'quantile_cont("{quoted}", {float(q)!r})')
    (row,) = _duckdb().con.from_arrow(table).aggregate(", ".join(terms)).fetchall()
    return dict(zip(wanted, row, strict=True))


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


# --------------------------------------------------------------------------- hot datasets

HOT_AFTER_SECONDS = 1.0  # a dataset asked for again this long after its first question is loaded
HOT_CHUNK_ROWS = 1_048_576  # rows copied between two checkpoints (Arrow's default row group)
_HOT_MB_CAP = 4096


def default_hot_mb() -> int:
    """The budget when ``JOURNEYLENS_HOT_MB`` is unset: a quarter of the memory, at most 4096 MB."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1024
    return max(0, min(_HOT_MB_CAP, total // 4 // 2**20))


def _hot_mb_from_env() -> int:
    raw = os.environ.get("JOURNEYLENS_HOT_MB", "").strip()
    if not raw:
        return default_hot_mb()
    try:
        mb = int(raw)
    except ValueError:
        mb = -1
    if mb < 0:
        raise BadInputError.invalid("JOURNEYLENS_HOT_MB", raw, "a whole number of megabytes, 0 or more (0: off)")
    return mb


@dataclass(frozen=True)
class HotStatus:
    """Where a dataset's questions are answered from: ``where`` is "in memory" or "read from Parquet"."""

    where: str
    reason: str  # why, in a few words ("loading", "over the memory budget", "hot datasets off", ...)
    bytes: int  # the memory the table holds (or would hold, when over the budget); 0 when unknown
    budget_bytes: int

    @property
    def in_memory(self) -> bool:
        return self.where == "in memory"

    @property
    def megabytes(self) -> float:
        return round(self.bytes / 2**20, 1)

    def __str__(self) -> str:
        return self.where if not self.reason else f"{self.where} ({self.reason})"


@dataclass
class _Entry:
    path: str
    version: tuple[int, int]  # the file's modification time (ns) and size
    view: str
    table: str
    state: str = "parquet"  # parquet | queued | loading | memory | over budget | failed
    bytes: int = 0
    first_asked: float | None = None
    used: int = 0  # the LRU clock: higher is more recent
    error: str = ""
    key_values: dict[str, str] | None = None  # the file's footer metadata, once read


def _version(path: Path) -> tuple[int, int]:
    """What tells two contents of a file apart: its modification time (ns) and its size."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _table_memory(con: Any) -> int:
    row = con.execute("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'").fetchone()
    return int(row[0]) if row else 0


class _HotStore:
    """The datasets of this process and the view each is read through; see the module docstring.

    ``_lock`` guards the entries and every view/table change (made on ``_ddl``, one cursor used
    under the lock); loads run one at a time under ``_load_lock`` on ``_loader`` (so a load never
    blocks a question on a dataset already open), in the background thread or in :func:`make_hot`.
    """

    def __init__(self) -> None:
        self.budget = _hot_mb_from_env() * 2**20
        self._lock = threading.RLock()
        self._load_lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}  # by path: the current version of each file
        self._views: set[str] = set()
        self._clock = itertools.count(1)
        self._ddl_con: Any = None
        self._loader_con: Any = None
        self._queue: queue.Queue[_Entry | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closing = False

    # -- connections (created on first use)

    def _ddl(self) -> Any:
        if self._ddl_con is None:
            self._ddl_con = _cursor()
        return self._ddl_con

    def _loader(self) -> Any:
        if self._loader_con is None:
            self._loader_con = _cursor()
        return self._loader_con

    # -- the view of a file version

    def asked(self, path: str, version: tuple[int, int], label: str = "") -> str:
        """The view to read ``path`` (as of ``version``) through; counts the question for hotness."""
        with self._lock:
            entry = self._entries.get(path)
            if entry is None or entry.version != version:
                digest = hashlib.sha1(repr((path, version)).encode()).hexdigest()[:16]
                fresh = _Entry(path, version, view=f"events_{digest}", table=f'{HOT_DATABASE}."hot_{digest}"')
                self._create_view(fresh, label)
                if entry is not None:
                    self._to_parquet(entry)  # a re-imported file: its old table is stale
                self._entries[path] = entry = fresh
            entry.used = next(self._clock)
            now = time.monotonic()
            if entry.state == "parquet" and self.budget > 0:
                if entry.first_asked is None:
                    entry.first_asked = now
                elif now - entry.first_asked >= HOT_AFTER_SECONDS:
                    entry.state = "queued"
                    self._start_loader()
                    self._queue.put(entry)
            return entry.view

    def key_values(self, view: str) -> dict[str, str]:
        """The key-value metadata in the footer of the file read through ``view`` ({} for another view)."""
        with self._lock:
            entry = next((e for e in self._entries.values() if e.view == view), None)
        if entry is None:
            return {}
        if entry.key_values is None:
            import pyarrow.parquet as pq

            try:
                metadata = pq.read_schema(entry.path).metadata or {}
            except Exception:  # noqa: BLE001 - a damaged file: the queries over it raise the typed error
                return {}
            entry.key_values = {k.decode(): v.decode() for k, v in metadata.items()}
        return entry.key_values

    def _create_view(self, entry: _Entry, label: str) -> None:
        if entry.view in self._views:
            return
        try:
            self._ddl().execute(
                f'CREATE OR REPLACE VIEW "{entry.view}" AS SELECT * FROM read_parquet({_quote(entry.path)})'
            )
        except Exception as exc:  # DuckDB's IOException / InvalidInputException on a truncated or foreign file
            raise EventsFileError(label, entry.path, f"damaged (cannot be read: {_first_line(exc)})") from exc
        self._views.add(entry.view)

    def _to_parquet(self, entry: _Entry) -> None:
        """Point ``entry``'s view back at its file and drop its table (an eviction or a stale version)."""
        if entry.state == "memory":
            self._ddl().execute(
                f'CREATE OR REPLACE VIEW "{entry.view}" AS SELECT * FROM read_parquet({_quote(entry.path)})'
            )
            self._ddl().execute(f"DROP TABLE IF EXISTS {entry.table}")
        entry.state, entry.first_asked = "parquet", None

    # -- loading

    def _start_loader(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run_loader, name="journeylens-hot", daemon=True)
            self._thread.start()

    def _run_loader(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None or self._closing:
                return
            with contextlib.suppress(Exception):  # a failed load leaves the dataset on Parquet (state says why)
                self.load(entry)

    def load(self, entry: _Entry) -> None:
        """Load ``entry``'s file into its table within the budget (a no-op when it is already hot)."""
        with self._load_lock:
            with self._lock:
                if self._entries.get(entry.path) is not entry or entry.state == "memory" or self.budget <= 0:
                    return
                entry.state = "loading"
            con = self._loader()
            before = _table_memory(con)
            try:
                self._copy(con, entry)
            except Exception as exc:
                with self._lock:
                    entry.state, entry.error = "failed", _first_line(exc)
                con.execute(f"DROP TABLE IF EXISTS {entry.table}")
                raise
            size = max(_table_memory(con) - before, 1)
            with self._lock:
                current = self._entries.get(entry.path) is entry and self._file_unchanged(entry)
                entry.bytes = size
                if not current or size > self.budget:
                    self._ddl().execute(f"DROP TABLE IF EXISTS {entry.table}")
                    entry.state = "over budget" if current else "parquet"
                    return
                self._evict_for(size, keep=entry)
                self._ddl().execute(f'CREATE OR REPLACE VIEW "{entry.view}" AS SELECT * FROM {entry.table}')
                entry.state = "memory"

    @staticmethod
    def _copy(con: Any, entry: _Entry) -> None:
        """Copy the file into the table, in file order, :data:`HOT_CHUNK_ROWS` rows at a time.

        A table is compressed when its database is checkpointed (dictionaries for text, bit packing
        for codes: about a tenth of the memory, and grouping or filtering on text as fast as on
        Parquet, where it is slower uncompressed). Checkpointing after each chunk keeps the
        uncompressed part, and so the load's extra memory, to one chunk.
        """
        source = f"read_parquet({_quote(entry.path)}, file_row_number = true)"
        rows = con.execute(f"SELECT count(*) FROM read_parquet({_quote(entry.path)})").fetchone()[0]
        con.execute(
            f"CREATE OR REPLACE TABLE {entry.table} AS SELECT * EXCLUDE (file_row_number) FROM {source} LIMIT 0"
        )
        for start in range(0, max(int(rows), 1), HOT_CHUNK_ROWS):
            con.execute(
                f"INSERT INTO {entry.table} SELECT * EXCLUDE (file_row_number) FROM {source} "
                f"WHERE file_row_number >= {start} AND file_row_number < {start + HOT_CHUNK_ROWS}"
            )
            with contextlib.suppress(Exception):  # not compressed is still correct, only larger
                con.execute(f"CHECKPOINT {HOT_DATABASE}")

    @staticmethod
    def _file_unchanged(entry: _Entry) -> bool:
        try:
            return _version(Path(entry.path)) == entry.version
        except OSError:
            return False

    def _evict_for(self, size: int, keep: _Entry | None = None) -> None:
        """Drop the least recently asked tables until ``size`` more bytes fit in the budget."""
        hot = sorted((e for e in self._entries.values() if e.state == "memory" and e is not keep), key=lambda e: e.used)
        used = sum(e.bytes for e in hot)
        for victim in hot:
            if used + size <= self.budget:
                break
            self._to_parquet(victim)
            used -= victim.bytes

    # -- status and settings

    def status(self, path: str, version: tuple[int, int] | None) -> HotStatus:
        budget_mb = round(self.budget / 2**20, 1)
        with self._lock:
            entry = self._entries.get(path)
            if entry is not None and version is not None and entry.version != version:
                entry = None
            state = entry.state if entry else "parquet"
            size = entry.bytes if entry else 0
        if state == "memory":
            return HotStatus("in memory", "", size, self.budget)
        reason = {
            "queued": "loading into memory",
            "loading": "loading into memory",
            "over budget": f"larger than the memory budget of {budget_mb} MB",
            "failed": f"could not be loaded: {entry.error if entry else ''}",
        }.get(state, "hot datasets off (JOURNEYLENS_HOT_MB=0)" if self.budget <= 0 else "not in use yet")
        return HotStatus("read from Parquet", reason, size, self.budget)

    def set_budget(self, budget_bytes: int) -> None:
        with self._lock:
            self.budget = budget_bytes
            if self.budget <= 0:
                for entry in list(self._entries.values()):
                    self._to_parquet(entry)
            else:
                self._evict_for(0)
                for entry in self._entries.values():
                    if entry.state == "over budget" and entry.bytes <= self.budget:
                        entry.state, entry.first_asked = "parquet", None

    def in_memory(self) -> list[tuple[str, float]]:
        """(path, MB) of the tables in memory, least recently asked first."""
        with self._lock:
            hot = sorted((e for e in self._entries.values() if e.state == "memory"), key=lambda e: e.used)
            return [(e.path, e.bytes / 2**20) for e in hot]

    def close(self) -> None:
        """Stop the background load (at exit: a load in flight is interrupted, not waited for)."""
        self._closing = True
        if self._thread is not None and self._thread.is_alive():
            if self._loader_con is not None:
                with contextlib.suppress(Exception):
                    self._loader_con.interrupt()
            self._queue.put(None)
            self._thread.join(timeout=5)


_hot = _HotStore()
atexit.register(_hot.close)


def _entry_for(source: EventSource) -> _Entry:
    assert source.parquet_path, "hot datasets are Parquet datasets of the default engine"
    events_table(source)  # registers the view (and checks the file)
    with _hot._lock:
        return _hot._entries[str(Path(source.parquet_path))]


def make_hot(source: EventSource) -> HotStatus:
    """Load ``source``'s events into memory now (waiting for it), within the budget; returns where it
    is read from. The benchmark's ``--hot`` and a command that asks many questions use it; the app
    relies on the background load."""
    entry = _entry_for(source)
    with contextlib.suppress(Exception):  # a file that cannot be loaded stays on Parquet; hot_status says why
        _hot.load(entry)
    return hot_status(source)


def hot_status(source: EventSource) -> HotStatus:
    """Where ``source``'s questions are answered from now ("in memory" / "read from Parquet", and why)."""
    if source.backend_url or not source.parquet_path:
        return HotStatus("read from its backend", "", 0, _hot.budget)
    path = Path(source.parquet_path)
    return _hot.status(str(path), _version(path) if path.is_file() else None)


def hot_budget() -> float:
    """The budget of this process, in MB (0: hot datasets off)."""
    return _hot.budget / 2**20


def set_hot_budget(megabytes: float) -> None:
    """Change the budget of this process (0: off); datasets over it are dropped, least recently asked first."""
    if megabytes < 0:
        raise BadInputError.invalid("hot budget", megabytes, "0 or more megabytes (0: off)")
    _hot.set_budget(int(megabytes * 2**20))


def hot_datasets() -> list[tuple[str, float]]:
    """The files whose events are in memory, with their MB, least recently asked first."""
    return _hot.in_memory()
