"""Event tables that live on another Ibis backend (Spark, BigQuery, Snowflake, Trino, ...).

Every analysis reads the stored layout of :mod:`analytics.schema` (canonical columns, dense
codes, ``seq``/``account_seq``). A table on a cluster is used in one of two ways:

- it already has the stored layout (for example the ``events.parquet`` of an import, loaded into
  the warehouse): :func:`missing_stored_columns` checks it and :func:`infer_schema` reads which
  optional roles it carries;
- it is a raw event table: :func:`stored_layout_expr` builds the stored layout from it as one Ibis
  expression that runs on that backend (materialise it there once, then analyse the result).

The semantics match :func:`analytics.layout.to_stored_layout` exactly when ``order_column`` holds
the position in the source file: codes are dense ranks of the sorted distinct ids (0-based), and
order within a journey (and an account) is timestamp, then ``order_column``. Without an
``order_column``, ties on the timestamp are broken by activity name: deterministic, but not the
export's order (say so to users whose logs have ties).
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.schema import (
    ACCOUNT_CODE,
    ACCOUNT_SEQ,
    ACTIVITY_CODE,
    FILE_ROW,
    JOURNEY_CODE,
    NUMERIC_ROLES,
    SEGMENT_PREFIX,
    SEQ,
    STORED_COLUMN,
    STORED_COLUMNS,
    STRING_ROLES,
    ColumnMapping,
    EventSchema,
    Role,
    segment_column,
)
from core.errors import BadInputError, UnknownColumnError


def missing_stored_columns(table: Table) -> list[str]:
    """Stored-layout columns ``table`` lacks (empty: analyses can read it as it is)."""
    present = set(table.columns)
    return [c for c in STORED_COLUMNS if c not in present]


def infer_schema(table: Table) -> EventSchema:
    """Which optional roles a stored-layout table carries: a role is present when its column has
    at least one non-null value (one aggregate query). ``account`` is present when some
    ``account_id`` differs from its ``journey_id``. Segment columns are the ``segment:*`` columns.
    """
    optional = [r for r in Role if r not in (Role.JOURNEY, Role.TIMESTAMP, Role.ACTIVITY, Role.ACCOUNT)]
    aggs = {r.value: table[STORED_COLUMN[r]].count() for r in optional}
    aggs["account"] = (table.account_id != table.journey_id).cast("int64").sum()
    counts = execute(table.aggregate(**aggs)).iloc[0]
    roles = {Role(k) for k, v in counts.items() if v is not None and int(v) > 0}
    segments = tuple(c[len(SEGMENT_PREFIX) :] for c in table.columns if c.startswith(SEGMENT_PREFIX))
    return EventSchema(
        roles=frozenset(roles) | frozenset((Role.JOURNEY, Role.TIMESTAMP, Role.ACTIVITY)), segments=segments
    )


def _source(raw: Table, name: str, role: str) -> ibis.Value:
    if name not in raw.columns:
        raise UnknownColumnError(f"the {role} column {name!r} is not in the table (columns: {', '.join(raw.columns)})")
    return raw[name]


def _dense_codes(t: Table, column: str, code: str) -> Table:
    """Join a 0-based dense code of ``column`` in sorted order (a window over distinct values only,
    so a cluster ranks the ids, not every event)."""
    ids = t.select(column).distinct()
    ids = ids.mutate(**{code: ibis.row_number().over(order_by=ids[column]).cast("int32")})
    return t.join(ids, column)


def stored_layout_expr(raw: Table, mapping: ColumnMapping, *, order_column: str | None = None) -> Table:
    """The stored layout of a raw event table, as an Ibis expression on the table's backend.

    ``mapping`` names the raw column of each role (journey, timestamp and activity required);
    the timestamp column must already be a timestamp on the backend. ``order_column`` (an integer
    or sortable column, e.g. an event id or the row number of the export) breaks timestamp ties and
    becomes ``file_row``; without it ``file_row`` is the position within the journey by timestamp,
    then activity name. ``account_id`` falls back to ``journey_id`` where absent, as at import.
    """
    missing = mapping.missing_required()
    if missing:
        raise BadInputError(
            "a column mapping needs journey, timestamp and activity", expected=", ".join(r.value for r in missing)
        )
    cols = mapping.as_dict()
    schema = mapping.schema()
    ts = _source(raw, cols[Role.TIMESTAMP], "timestamp")
    if not ts.type().is_timestamp():
        raise BadInputError(
            "the timestamp column must be a timestamp on the backend",
            column=cols[Role.TIMESTAMP],
            value=str(ts.type()),
            expected="a timestamp type (cast it in the warehouse first)",
        )
    journey = _source(raw, cols[Role.JOURNEY], "journey").cast("string")
    values: dict[str, ibis.Value] = {
        "journey_id": journey,
        "timestamp": ts,
        "activity": _source(raw, cols[Role.ACTIVITY], "activity").cast("string"),
    }
    if Role.ACCOUNT in cols:
        values["account_id"] = _source(raw, cols[Role.ACCOUNT], "account").cast("string").coalesce(journey)
    else:
        values["account_id"] = journey
    for role in STRING_ROLES:
        col = STORED_COLUMN[role]
        values[col] = (
            _source(raw, cols[role], role.value).cast("string") if role in cols else ibis.null().cast("string")
        )
    for role in NUMERIC_ROLES:
        col = STORED_COLUMN[role]
        values[col] = (
            _source(raw, cols[role], role.value).cast("float64") if role in cols else ibis.null().cast("float64")
        )
    values["fcr"] = (
        _source(raw, cols[Role.FCR], "fcr").cast("boolean") if Role.FCR in cols else ibis.null().cast("boolean")
    )
    for seg in schema.segments:
        values[segment_column(seg)] = _source(raw, seg, "segment").cast("string")
    if order_column is not None:
        values["_order"] = _source(raw, order_column, "order")
    t = raw.select(**values)

    if order_column is not None:
        t = t.mutate(**{FILE_ROW: t._order.cast("int64")}) if t._order.type().is_integer() else t
    if FILE_ROW not in t.columns:
        tie = [t._order] if order_column is not None else []
        w = ibis.window(group_by=t.journey_id, order_by=[t.timestamp, *tie, t.activity])
        t = t.mutate(**{FILE_ROW: (ibis.row_number().over(w) + 1).cast("int64")})
    if "_order" in t.columns:
        t = t.drop("_order")

    t = _dense_codes(t, "journey_id", JOURNEY_CODE)
    t = _dense_codes(t, "account_id", ACCOUNT_CODE)
    t = _dense_codes(t, "activity", ACTIVITY_CODE)
    t = t.mutate(
        **{
            SEQ: ibis.row_number()
            .over(ibis.window(group_by=t[JOURNEY_CODE], order_by=[t.timestamp, t[FILE_ROW]]))
            .cast("int32"),
            ACCOUNT_SEQ: ibis.row_number()
            .over(ibis.window(group_by=t[ACCOUNT_CODE], order_by=[t.timestamp, t[FILE_ROW]]))
            .cast("int32"),
        }
    )
    return t.select(*STORED_COLUMNS, *schema.segment_columns())


__all__ = ["STORED_COLUMNS", "infer_schema", "missing_stored_columns", "stored_layout_expr"]
