"""Turn canonical event rows into the stored layout of :mod:`analytics.schema`.

Used by the import (once per dataset) and by tests that build tiny logs by hand. Sorting and
integer coding happen here once, so every analysis starts from sorted, encoded data.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from analytics.file_facts import FILE_FACTS_KEY, facts_of_frame
from analytics.schema import (
    ACCOUNT_CODE,
    ACCOUNT_SEQ,
    ACTIVITY_CODE,
    FILE_ROW,
    FIRST_OF_ACTIVITY,
    FIRST_OF_PAIR,
    GAP_TO_NEXT,
    JOURNEY_CODE,
    JOURNEY_EVENTS,
    NEIGHBOUR_COLUMNS,
    NEXT_ACTIVITY_CODE,
    NEXT_STAGE,
    NUMERIC_ROLES,
    PREV_ACTIVITY_CODE,
    SEQ,
    STORED_COLUMN,
    STORED_COLUMNS,
    STRING_ROLES,
    EventSchema,
    Role,
)


def _codes(values: pd.Series) -> pd.Series:
    """Dense int32 codes in order of the sorted distinct values (deterministic)."""
    return pd.Series(pd.factorize(values, sort=True)[0].astype("int32"), index=values.index)


def to_stored_layout(frame: pd.DataFrame, schema: EventSchema) -> pd.DataFrame:
    """Return ``frame`` (canonical column names, timestamps tz-aware) in the stored layout.

    ``frame`` must hold ``journey_id``, ``timestamp`` (UTC) and ``activity``, plus the stored
    column of every other role in ``schema`` and ``segment:<name>`` for each segment. If it has no
    ``file_row`` column, the current row order is taken as the file order (1-based).

    Order: journey, then timestamp, then file_row (stable: ties keep their file order).
    ``account_seq`` orders an account's events (all its contacts) by timestamp, then file_row.
    """
    df = frame.copy()
    if FILE_ROW not in df.columns:
        df[FILE_ROW] = range(1, len(df) + 1)
    df[FILE_ROW] = df[FILE_ROW].astype("int64")
    df["journey_id"] = df["journey_id"].astype("string")
    df["activity"] = df["activity"].astype("string")
    ts = pd.to_datetime(df["timestamp"], utc=True)
    df["timestamp"] = ts.dt.as_unit("us")
    if schema.has(Role.ACCOUNT):
        df["account_id"] = df["account_id"].astype("string").fillna(df["journey_id"])
    else:
        df["account_id"] = df["journey_id"]
    for role in STRING_ROLES:
        col = STORED_COLUMN[role]
        df[col] = df[col].astype("string") if schema.has(role) else pd.Series(pd.NA, index=df.index, dtype="string")
    for role in NUMERIC_ROLES:
        col = STORED_COLUMN[role]
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64") if schema.has(role) else float("nan")
    if schema.has(Role.FCR):
        df["fcr"] = df["fcr"].astype("boolean")
    else:
        df["fcr"] = pd.Series(pd.NA, index=df.index, dtype="boolean")
    for col in schema.segment_columns():
        df[col] = df[col].astype("string")

    df[JOURNEY_CODE] = _codes(df["journey_id"])
    df[ACCOUNT_CODE] = _codes(df["account_id"])
    df[ACTIVITY_CODE] = _codes(df["activity"])

    df = df.sort_values([ACCOUNT_CODE, "timestamp", FILE_ROW], kind="stable")
    df[ACCOUNT_SEQ] = df.groupby(ACCOUNT_CODE, sort=False).cumcount().astype("int32")
    df = df.sort_values([JOURNEY_CODE, "timestamp", FILE_ROW], kind="stable").reset_index(drop=True)
    df[SEQ] = df.groupby(JOURNEY_CODE, sort=False).cumcount().astype("int32")
    df = add_neighbours(df)

    ordered = [*STORED_COLUMNS, *schema.segment_columns(), *NEIGHBOUR_COLUMNS]
    return df[ordered]


def add_neighbours(df: pd.DataFrame) -> pd.DataFrame:
    """The neighbour facts of :data:`analytics.schema.NEIGHBOUR_COLUMNS` on a frame sorted by
    journey code and ``seq`` (as the import computes them)."""
    journey = df.groupby(JOURNEY_CODE, sort=False)
    df[NEXT_ACTIVITY_CODE] = journey[ACTIVITY_CODE].shift(-1).astype("Int32")
    epoch = df["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]").astype("int64") / 1e6
    df[GAP_TO_NEXT] = epoch.groupby(df[JOURNEY_CODE], sort=False).shift(-1) - epoch  # as DuckDB's EPOCH difference
    df[NEXT_STAGE] = journey["stage"].shift(-1).astype("string")
    df[PREV_ACTIVITY_CODE] = journey[ACTIVITY_CODE].shift(1).astype("Int32")
    df[FIRST_OF_ACTIVITY] = ~df.duplicated([JOURNEY_CODE, ACTIVITY_CODE])
    df[FIRST_OF_PAIR] = ~df.duplicated([JOURNEY_CODE, ACTIVITY_CODE, NEXT_ACTIVITY_CODE])
    df[JOURNEY_EVENTS] = journey[ACTIVITY_CODE].transform("size").astype("int32")
    return df


def write_parquet(stored: pd.DataFrame, path: str) -> None:
    """Write a stored-layout frame as Parquet (row groups sized for fast scans), with the file
    facts of :mod:`analytics.file_facts` in its footer."""
    table = pa.Table.from_pandas(stored, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[FILE_FACTS_KEY.encode()] = facts_of_frame(stored).encode()
    table = table.replace_schema_metadata(metadata)
    import pyarrow.parquet as pq

    pq.write_table(table, path, row_group_size=1_000_000, compression="zstd")
