"""Datasets that live as a table on another Ibis backend (a cluster or a warehouse).

``register_external_dataset`` records such a table as a dataset: every analysis then runs on that
backend, unchanged, through :func:`analytics.engine.events_table` (which routes a dataset with a
``backend_url`` to ``ibis.connect(url).table(name)``). Nothing is copied to this machine; only the
dataset's description (counts, roles, the URL and table name) is stored in SQLite.

The table either already has the stored layout of :mod:`analytics.schema` (e.g. the
``events.parquet`` of an import, loaded into the warehouse), or it is a raw event table and a
column mapping is given: the stored layout is then computed *on the backend* into a new table
(``<table>_journeylens`` unless named) with :func:`analytics.external.stored_layout_expr`.

Connection URLs are those of ``ibis.connect``: ``pyspark://?spark.master=spark://host:7077``,
``trino://user@host:8080/catalog/schema``, ``bigquery://project/dataset``,
``snowflake://user@account/db/schema?warehouse=wh``, ``clickhouse://host:9000/db``,
``duckdb:///path/file.duckdb``. ``${VAR}`` in a URL is expanded from the environment when it is
used, so secrets need not be stored: ``trino://${TRINO_USER}:${TRINO_PASSWORD}@host/...``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import sqlglot as sg
from sqlalchemy import Engine
from sqlmodel import select

from analytics import engine as query_engine
from analytics.engine import EventSource, events_table
from analytics.external import infer_schema, missing_stored_columns, stored_layout_expr
from analytics.schema import (
    ACCOUNT_CODE,
    ACTIVITY_CODE,
    JOURNEY_CODE,
    ColumnMapping,
    EventCounts,
    EventSchema,
    Role,
    counts_of,
)
from core.errors import BadInputError
from db import crud
from db.engine import read_session, write_session
from db.models import Dataset


@dataclass(frozen=True)
class ExternalDatasetResult:
    """What a registration did: the dataset, whether it is new, and what the table holds."""

    dataset_id: int
    created: bool
    table_name: str
    events: int
    journeys: int
    accounts: int
    activities: int
    schema: EventSchema


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and the source name)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _check_url(backend_url: str) -> None:
    scheme = urlsplit(backend_url).scheme
    if not scheme or len(scheme) < 2:
        raise BadInputError.invalid(
            "backend_url", backend_url, "an Ibis connection URL such as pyspark://, trino://..., bigquery://..."
        )


def _content_hash(backend_url: str, table_name: str) -> str:
    return hashlib.sha256(f"external\0{backend_url}\0{table_name}".encode()).hexdigest()


def _open_table(backend_url: str, table_name: str):  # type: ignore[no-untyped-def]
    try:
        con = query_engine.connection(backend_url)
    except Exception as exc:  # the backend's own error (driver missing, host unreachable, bad URL)
        raise BadInputError.invalid(
            "backend_url",
            redact_url(backend_url),
            f"a backend JourneyLens can connect to ({type(exc).__name__}: {exc})",
        ) from exc
    try:
        return con, con.table(table_name)
    except Exception as exc:
        raise BadInputError.invalid(
            "table_name", table_name, f"a table on {redact_url(backend_url)} ({type(exc).__name__}: {exc})"
        ) from exc


def _drop_table(con, name: str) -> None:  # type: ignore[no-untyped-def]
    """Drop ``name`` if it exists. (Ibis 12's own ``drop_table``/``overwrite=True`` render
    ``DROP TABLE IF EXISTS`` without the table name under the sqlglot installed here.)"""
    try:
        con.table(name)  # (list_tables() fails on ibis 12 with duckdb 2.0)
    except Exception:
        return
    con.raw_sql(f"DROP TABLE {sg.table(name, quoted=True).sql(con.dialect)}")


def register_external_dataset(
    name: str,
    backend_url: str,
    table_name: str,
    schema_roles: Iterable[str] | None = None,
    *,
    segments: Iterable[str] = (),
    mapping: ColumnMapping | None = None,
    order_column: str | None = None,
    layout_table: str | None = None,
    engine: Engine | None = None,
) -> ExternalDatasetResult:
    """Register ``table_name`` on the backend at ``backend_url`` as a dataset named ``name``.

    Without ``mapping`` the table must have the stored layout; its optional roles are
    ``schema_roles`` (e.g. ``["account", "channel", "stage", "outcome"]``) or, when None, read off
    the table (a role is present when its column has a non-null value). With ``mapping`` the table
    is raw: the stored layout is computed on the backend into ``layout_table`` (default
    ``<table_name>_journeylens``, replaced if present), ties broken by ``order_column``.

    Registering the same URL and table again adds nothing and returns the existing dataset.
    """
    name = crud.clean_name(name)
    _check_url(backend_url)
    if not table_name or not table_name.strip():
        raise BadInputError.invalid("table_name", table_name, "the name of a table on the backend")
    con, table = _open_table(backend_url, table_name)

    target = table_name
    if mapping is not None:
        target = layout_table or f"{table_name}_journeylens"
        layout = stored_layout_expr(table, mapping, order_column=order_column)
        _drop_table(con, target)
        con.create_table(target, layout)
        table = con.table(target)
    else:
        missing = missing_stored_columns(table)
        if missing:
            raise BadInputError.invalid(
                "table_name",
                table_name,
                "a table in the stored layout (missing: "
                + ", ".join(missing)
                + "); for a raw event table, give a column mapping so the layout is computed on the backend",
            )

    if schema_roles is None:
        schema = infer_schema(table)
        if mapping is not None:
            schema = EventSchema(roles=schema.roles | mapping.schema().roles, segments=mapping.segments)
    else:
        roles = frozenset(Role(r) for r in schema_roles)
        schema = EventSchema(
            roles=roles | frozenset((Role.JOURNEY, Role.TIMESTAMP, Role.ACTIVITY)), segments=tuple(segments)
        )

    digest = _content_hash(backend_url, target)
    with write_session(engine) as session:
        existing = session.exec(select(Dataset).where(Dataset.content_hash == digest)).first()
        if existing is not None:
            return _result(
                existing, created=False, schema=EventSchema.from_dict(existing.import_options.get("schema", {}))
            )

    stats = query_engine.execute(
        table.aggregate(
            events=table.count(),
            journeys=table[JOURNEY_CODE].nunique(),
            accounts=table[ACCOUNT_CODE].nunique(),
            activities=table[ACTIVITY_CODE].nunique(),
            first_timestamp=table.timestamp.min(),
            last_timestamp=table.timestamp.max(),
        )
    ).iloc[0]

    def _ts(value):  # type: ignore[no-untyped-def]
        return None if value is None or value != value else value.to_pydatetime()

    counts = EventCounts(
        events=int(stats["events"]),
        journeys=int(stats["journeys"]),
        accounts=int(stats["accounts"]),
        activities=int(stats["activities"]),
        first_timestamp=_ts(stats["first_timestamp"]),
        last_timestamp=_ts(stats["last_timestamp"]),
    )
    with write_session(engine) as session:
        dataset = Dataset(
            name=name,
            source_name=f"{redact_url(backend_url)} table {target}",
            content_hash=digest,
            column_mapping=mapping.to_json() if mapping is not None else {},
            import_options={
                "schema": schema.to_dict(),
                "external": True,
                "order_column": order_column,
                "source_table": table_name,
            },
            storage_path="",
            backend_url=backend_url,
            table_name=target,
            **counts_of(counts),
        )
        session.add(dataset)
        session.flush()
        return _result(dataset, created=True, schema=schema)


def _result(dataset: Dataset, *, created: bool, schema: EventSchema) -> ExternalDatasetResult:
    """What a registration reports of the dataset as recorded."""
    return ExternalDatasetResult(
        dataset_id=dataset.id or 0,
        created=created,
        table_name=dataset.table_name or "",
        events=dataset.events,
        journeys=dataset.journeys,
        accounts=dataset.accounts,
        activities=dataset.activities,
        schema=schema,
    )


def check_external_dataset(dataset_id: int, *, engine: Engine | None = None) -> int:
    """Count the events of an external dataset on its backend now (proves the URL and table work).
    An unknown id is refused with the real ones, as every analysis refuses it."""
    from services.context import check_dataset_id
    from services.datasets import get_event_source

    with read_session(engine) as session:
        check_dataset_id(session, dataset_id)
    source, _ = get_event_source(dataset_id, engine=engine)
    if not source.backend_url:
        raise BadInputError.invalid("dataset", dataset_id, "a dataset registered on an external backend")
    return int(
        query_engine.execute_scalar(
            events_table(EventSource(backend_url=source.backend_url, table_name=source.table_name)).count()
        )
    )


__all__ = ["ExternalDatasetResult", "check_external_dataset", "redact_url", "register_external_dataset"]
