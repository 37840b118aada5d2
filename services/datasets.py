"""Use cases on stored datasets (event logs): list, describe, locate, delete."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from analytics.engine import EventSource
from analytics.schema import EventSchema
from db import crud
from db.engine import data_dir, read_session, write_session
from db.models import Dataset


@dataclass(frozen=True)
class DatasetSummary:
    id: int
    name: str
    source_name: str
    events: int
    journeys: int
    accounts: int
    activities: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    map_id: int | None
    created_at: datetime


def _summary(d: Dataset) -> DatasetSummary:
    return DatasetSummary(
        id=d.id or 0,
        name=d.name,
        source_name=d.source_name,
        events=d.events,
        journeys=d.journeys,
        accounts=d.accounts,
        activities=d.activities,
        first_timestamp=d.first_timestamp,
        last_timestamp=d.last_timestamp,
        map_id=d.map_id,
        created_at=d.created_at,
    )


def list_dataset_summaries(*, engine: Engine | None = None) -> list[DatasetSummary]:
    with read_session(engine) as session:
        return [_summary(d) for d in crud.list_datasets(session=session)]


def get_dataset_summary(dataset_id: int, *, engine: Engine | None = None) -> DatasetSummary:
    with read_session(engine) as session:
        return _summary(crud.get_dataset(session=session, dataset_id=dataset_id))


def dataset_datadir(dataset_id: int) -> Path:
    """Directory holding a dataset's files inside the data directory."""
    return data_dir() / "datasets" / str(dataset_id)


def get_event_source(dataset_id: int, *, engine: Engine | None = None) -> tuple[EventSource, EventSchema]:
    """Where a dataset's events are and which roles it has: what every analysis starts from."""
    with read_session(engine) as session:
        d = crud.get_dataset(session=session, dataset_id=dataset_id)
        schema = EventSchema.from_dict(d.import_options.get("schema", {}))
        if d.backend_url:
            return EventSource(backend_url=d.backend_url, table_name=d.table_name), schema
        return EventSource(parquet_path=str(data_dir() / d.storage_path)), schema


def delete_dataset(dataset_id: int, *, engine: Engine | None = None) -> None:
    """Delete a dataset's description, links and stored events."""
    with write_session(engine) as session:
        d = crud.get_dataset(session=session, dataset_id=dataset_id)
        storage = d.storage_path
        session.delete(d)
    if storage:
        shutil.rmtree((data_dir() / storage).parent, ignore_errors=True)
