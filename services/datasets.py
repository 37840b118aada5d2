"""Use cases on stored datasets (event logs): list, describe, locate, delete, bring up to date."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from analytics.engine import EventSource, hot_status
from analytics.file_facts import FILE_FACTS_KEY, left_out_because
from analytics.schema import NEIGHBOUR_COLUMNS, EventCounts, EventSchema, Role, counts_of
from db import crud
from db.access import AccessRole, require
from db.engine import data_dir, read_session, write_session
from db.models import Dataset, Metric
from services.dataset_files import parquet_problem


@dataclass(frozen=True, kw_only=True)
class DatasetSummary(EventCounts):
    """A stored dataset as the pages list it: its counts (:class:`EventCounts`) and its record."""

    id: int
    name: str
    source_name: str
    map_id: int | None
    created_at: datetime
    # "ok", "external" (a table on another backend), or what is wrong with its events file:
    # "missing" / "damaged: <reason>" (its analyses refuse with a message; `cli.py check` lists it).
    status: str = "ok"


def file_problem(d: Dataset) -> str | None:
    """What is wrong with a stored dataset's events file (missing, unreadable footer, row count
    not as recorded), or None when it reads; external datasets are not checked here."""
    if d.backend_url or not d.storage_path:
        return None
    return parquet_problem(data_dir() / d.storage_path, d.events)


def _summary(d: Dataset) -> DatasetSummary:
    return DatasetSummary(
        id=d.id or 0,
        name=d.name,
        source_name=d.source_name,
        **counts_of(d),
        map_id=d.map_id,
        created_at=d.created_at,
        status="external" if d.backend_url else (file_problem(d) or "ok"),
    )


def newest_linked(rows: Iterable[tuple[int, str, int | None, datetime]]) -> dict[int, tuple[int, str]]:
    """Each map's event log that its pages read, from ``(dataset id, name, map id, created at)``
    rows: the newest linked (ties: the higher id). One rule for the Overview, the report and Metrics."""
    latest: dict[int, tuple[datetime, int, str]] = {}
    for ds_id, name, map_id, created in rows:
        if map_id is not None and (map_id not in latest or (created, ds_id) > latest[map_id][:2]):
            latest[map_id] = (created, ds_id, name)
    return {m: (ds_id, name) for m, (_, ds_id, name) in latest.items()}


def list_dataset_summaries(*, engine: Engine | None = None) -> list[DatasetSummary]:
    with read_session(engine) as session:
        return [_summary(d) for d in crud.list_datasets(session=session)]


def get_dataset_summary(dataset_id: int, *, engine: Engine | None = None) -> DatasetSummary:
    with read_session(engine) as session:
        return _summary(crud.get_dataset(session=session, dataset_id=dataset_id))


def get_event_source(dataset_id: int, *, engine: Engine | None = None) -> tuple[EventSource, EventSchema]:
    """Where a dataset's events are and which roles it has: what every analysis starts from."""
    with read_session(engine) as session:
        d = crud.get_dataset(session=session, dataset_id=dataset_id)
        schema = EventSchema.from_dict(d.import_options.get("schema", {}))
        label = f"Dataset {d.id} ({d.name})"
        if d.backend_url:
            return EventSource(backend_url=d.backend_url, table_name=d.table_name, label=label), schema
        return EventSource(parquet_path=str(data_dir() / d.storage_path), label=label), schema


def memory_status(dataset_id: int, *, engine: Engine | None = None) -> str:
    """Where this process answers the dataset's questions from: "in memory (27.5 MB)", or "read from
    Parquet (...)" with why (not in use yet, loading, larger than the memory budget, hot datasets off)."""
    source, _ = get_event_source(dataset_id, engine=engine)
    status = hot_status(source)
    return f"in memory ({status.megabytes:,} MB)" if status.in_memory else str(status)


def delete_dataset(dataset_id: int, *, engine: Engine | None = None) -> None:
    """Delete a dataset's description, links and stored events. The metrics computed from it keep
    their values and are entered by hand from then on (nothing is left to compute them from)."""
    require(AccessRole.ADMIN, "delete a dataset")
    with write_session(engine) as session:
        d = crud.get_dataset(session=session, dataset_id=dataset_id)
        storage = d.storage_path
        for metric in session.exec(select(Metric).where(Metric.dataset_id == dataset_id)).all():
            metric.dataset_id, metric.source = None, "manual"
            session.add(metric)
        session.delete(d)
    if storage:
        shutil.rmtree((data_dir() / storage).parent, ignore_errors=True)


@dataclass(frozen=True)
class NeighbourUpgrade:
    """One dataset rewritten by :func:`store_neighbour_facts`."""

    id: int
    name: str
    events: int
    seconds: float


def _stored_schema(source: EventSource) -> Any:
    """The schema (with the footer's metadata) of a dataset's events file; None for a table on another
    backend or a missing file."""
    import pyarrow.parquet as pq

    if not source.parquet_path or not Path(source.parquet_path).exists():
        return None
    return pq.read_schema(source.parquet_path)


def _facts_of(stored: Any) -> tuple[bool, str | None]:
    """``(lacks, left_out)`` of a file's schema (:func:`facts_status`); ``(False, None)`` for none."""
    if stored is None:
        return False, None
    text = (stored.metadata or {}).get(FILE_FACTS_KEY.encode())
    lacks = not set(NEIGHBOUR_COLUMNS) <= set(stored.names) or text is None
    return lacks, left_out_because(text.decode() if text else None)


def facts_status(dataset_id: int, *, engine: Engine | None = None) -> tuple[bool, str | None]:
    """``(lacks, left_out)`` from one read of a dataset's file: whether it was imported before the
    neighbour facts or the file facts (:func:`lacks_neighbour_facts`), and why it keeps no file facts
    (:func:`facts_left_out`)."""
    source, _ = get_event_source(dataset_id, engine=engine)
    return _facts_of(_stored_schema(source))


def facts_left_out(dataset_id: int, *, engine: Engine | None = None) -> str | None:
    """Why a dataset's file keeps no stored facts (:mod:`analytics.file_facts`: too many activities or
    pairs of them for its footer), so that its transitions are counted by a query; None otherwise."""
    return facts_status(dataset_id, engine=engine)[1]


def lacks_neighbour_facts(dataset_id: int, *, engine: Engine | None = None) -> bool:
    """True for a stored dataset imported before the neighbour facts or the file facts
    (:mod:`analytics.file_facts`; its analyses run window functions and scans instead: the same
    results, slower on large logs); False for one that has them and for a table on another backend."""
    return facts_status(dataset_id, engine=engine)[0]


def store_neighbour_facts(dataset_id: int, *, engine: Engine | None = None) -> NeighbourUpgrade | None:
    """Give one stored dataset imported before the neighbour facts those facts, as an import writes
    them today (rows, order and results unchanged; only faster). None when it has them already."""
    from analytics.ingest.store import add_neighbour_facts

    source, schema = get_event_source(dataset_id, engine=engine)
    if not _facts_of(_stored_schema(source))[0]:
        return None
    path = Path(source.parquet_path or "")
    t0 = time.perf_counter()
    events = add_neighbour_facts(path, has_stage=schema.has(Role.STAGE), temp_directory=path.parent)
    name = get_dataset_summary(dataset_id, engine=engine).name
    return NeighbourUpgrade(dataset_id, name, events, time.perf_counter() - t0)


def upgrade_datasets(*, engine: Engine | None = None) -> list[NeighbourUpgrade]:
    """:func:`store_neighbour_facts` for every stored dataset that lacks them; returns what was rewritten."""
    done = [store_neighbour_facts(d.id, engine=engine) for d in list_dataset_summaries(engine=engine)]
    return [d for d in done if d is not None]
