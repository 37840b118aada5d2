"""Building the store: the DuckDB pass from the staged rows to the stored layout of :mod:`analytics.schema`.

:func:`build_event_store` (through :func:`analytics.engine.scratch_connection`) parses timestamps
and numbers (:mod:`analytics.ingest.parse`), rejects bad values, counts rows identical in every
column of the file (dropped only when asked), computes the integer codes and the order
(timestamp, then file row) once, adds the neighbour facts, and writes the stored layout as
Parquet with the dataset's counts.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics.engine import scratch_connection
from analytics.file_facts import facts_json, kv_metadata_option
from analytics.ingest.parse import (
    CLOCK_PLAIN,
    CLOCK_REPEATED,
    CLOCK_SKIPPED,
    ISO_PREFIX,
    NUMBER_RANGES,
    TIMESTAMP_EXPECTED,
    ClockExample,
    DayOrder,
    LocalTimes,
    SlashedDates,
    clock_change_sql,
    date_parts_sql,
    decide_day_order,
    flag_sql,
    number_sql,
    sql_ident,
    sql_literal,
    timestamp_sql,
    wall_time_sql,
    without_offset_sql,
)
from analytics.ingest.read import Progress, system_memory_pool
from analytics.ingest.rejects import NoRowLeftError, Reject, shown_value
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
    PREV_ACTIVITY_CODE,
    SEGMENT_PREFIX,
    SEQ,
    STORED_COLUMN,
    STORED_COLUMNS,
    EventCounts,
    Role,
    segment_column,
)
from core.errors import BadInputError

# Rows per Parquet row group of the stored events: DuckDB reads row groups in parallel, so a file
# of several groups is read by every core (one group of a million rows is read by one).
ROW_GROUP_ROWS = 122_880

# Zones whose clocks never change: their times need no check against a clock change.
FIXED_ZONES = frozenset({"UTC", "Etc/UTC", "UCT", "Etc/UCT", "GMT", "Etc/GMT", "Zulu", "Etc/Zulu", "Universal"})


@dataclass(frozen=True)
class BuildSpec:
    """What :func:`build_event_store` needs: which staging column plays which role, and how to read it."""

    roles: dict[Role, str]  # role → staging column key
    segments: tuple[tuple[str, str], ...]  # (staging key, source name) of each segment column
    labels: dict[str, str]  # staging key → source column name (for messages)
    timezone: str = "UTC"
    dayfirst: bool | None = None
    date_only: bool = False
    delimiter: str = ","
    allow_bad_rows: bool = False
    drop_identical_rows: bool = False
    row_keys: tuple[str, ...] = ()  # staging keys of every column of the file (identical rows)
    memory_limit: str = "1GB"


@dataclass(frozen=True)
class BuildResult(EventCounts):
    """What :func:`build_event_store` wrote: the counts, what it set aside, and how it read dates."""

    identical_rows: int  # rows identical in every column of the file to an earlier row
    identical_rows_dropped: int  # of those, dropped (only with ``drop_identical_rows``)
    ties: int
    rejects: list[Reject]
    day_order: DayOrder
    local_times: LocalTimes = field(default_factory=LocalTimes)  # how times without an offset were read
    timings: list[tuple[str, float]] = field(default_factory=list)  # (statement, seconds)


class _Timed:
    """A connection wrapper that records how long each statement took (reported with the result)."""

    def __init__(self, con: Any, log: list[tuple[str, float]]) -> None:
        self.con, self.log = con, log

    def execute(self, sql: str, *params: Any) -> Any:
        started = time.perf_counter()
        result = self.con.execute(sql, *params)
        self.log.append((" ".join(sql.split())[:70], time.perf_counter() - started))
        if os.environ.get("JOURNEYLENS_TRACE_MEMORY"):
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.log[-1] = (f"{self.log[-1][0][:50]} peak {peak:.0f} MB", self.log[-1][1])
        return result

    def executemany(self, sql: str, rows: Any) -> Any:
        return self.con.executemany(sql, rows)


def _ts_from_us(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(value))


def _local_times(con: _Timed, timezone: str, ts_col: str) -> LocalTimes:
    """:class:`LocalTimes` of the rows left in ``parsed`` (its ``_clock`` codes), with the first
    skipped and the first repeated time as written in ``staged``."""
    events, skipped, repeated, first_skipped, first_repeated = con.execute(
        f"SELECT count(*) FILTER (WHERE _clock IS NOT NULL), count(*) FILTER (WHERE _clock = {CLOCK_SKIPPED}), "
        f"count(*) FILTER (WHERE _clock = {CLOCK_REPEATED}), min(file_row) FILTER (WHERE _clock = {CLOCK_SKIPPED}), "
        f"min(file_row) FILTER (WHERE _clock = {CLOCK_REPEATED}) FROM parsed"
    ).fetchone()

    def example(file_row: int | None) -> ClockExample | None:
        if file_row is None:
            return None
        line, value, stored = con.execute(
            f"SELECT s.file_line, s.{sql_ident(ts_col)}, epoch_us(p.timestamp) FROM parsed p "
            "JOIN staged s ON s.file_row = p.file_row WHERE p.file_row = ?",
            [file_row],
        ).fetchone()
        return ClockExample(int(file_row), int(line), shown_value(value or ""), _ts_from_us(stored) or datetime.min)

    return LocalTimes(
        timezone=timezone,
        events=int(events),
        skipped=int(skipped),
        repeated=int(repeated),
        skipped_example=example(first_skipped),
        repeated_example=example(first_repeated),
    )


def neighbour_facts_sql(rows: str, *, has_stage: bool, order_by: str = SEQ) -> str:
    """A query adding :data:`analytics.schema.NEIGHBOUR_COLUMNS` to the rows of the query ``rows``,
    which holds ``journey_code, seq, activity_code, timestamp`` (and ``stage`` with ``has_stage``):
    what each event's neighbours in its contact journey say. ``order_by`` orders a journey's events
    as ``seq`` does (``timestamp, file_row`` where ``seq`` is computed in the same query saves a sort)."""
    journey = f"(PARTITION BY {JOURNEY_CODE} ORDER BY {order_by})"
    next_stage = f"lead(stage) OVER {journey}" if has_stage else "NULL::VARCHAR"
    facts = (
        f"SELECT *, lead({ACTIVITY_CODE}) OVER {journey} AS {NEXT_ACTIVITY_CODE}, "
        # The same doubles as analytics.journeys computes on Ibis's UTC session (EPOCH of the UTC
        # time), whatever this session's time zone (the import sets the user's).
        f"epoch_us(lead(timestamp) OVER {journey}) / 1000000.0 - epoch_us(timestamp) / 1000000.0 "
        f"AS {GAP_TO_NEXT}, "
        f"{next_stage} AS {NEXT_STAGE}, "
        f"lag({ACTIVITY_CODE}) OVER {journey} AS {PREV_ACTIVITY_CODE}, "
        f"row_number() OVER (PARTITION BY {JOURNEY_CODE}, {ACTIVITY_CODE} ORDER BY {order_by}) = 1 "
        f"AS {FIRST_OF_ACTIVITY}, "
        f"count(*) OVER (PARTITION BY {JOURNEY_CODE})::INTEGER AS {JOURNEY_EVENTS} FROM ({rows})"
    )
    return (
        f"SELECT *, row_number() OVER (PARTITION BY {JOURNEY_CODE}, {ACTIVITY_CODE}, {NEXT_ACTIVITY_CODE} "
        f"ORDER BY {SEQ}) = 1 AS {FIRST_OF_PAIR} FROM ({facts})"
    )


def add_neighbour_facts(path: Path, *, has_stage: bool, temp_directory: Path) -> int:
    """Rewrite the stored events at ``path`` (a dataset imported before the neighbour facts) with
    them, as an import today writes it; the rows and their order do not change. The new file
    replaces the old one only once it is complete. Returns the number of events."""

    tmp = path.with_name(path.name + ".neighbours.tmp")
    try:
        events = _write_with_neighbours(path, tmp, has_stage=has_stage, temp_directory=temp_directory)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return events


def _write_with_neighbours(path: Path, tmp: Path, *, has_stage: bool, temp_directory: Path) -> int:
    with scratch_connection(temp_directory=str(temp_directory)) as con:
        columns = [
            r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_literal(str(path))})").fetchall()
        ]
        kept = [c for c in columns if c in STORED_COLUMNS or c.startswith(SEGMENT_PREFIX)]
        rows = f"SELECT {', '.join(sql_ident(c) for c in kept)} FROM read_parquet({sql_literal(str(path))})"
        facts = neighbour_facts_sql(rows, has_stage=has_stage)
        con.execute(f"CREATE TEMP TABLE _upgraded AS {facts}")
        file_facts = facts_json(
            con,
            dictionary=f"SELECT DISTINCT {ACTIVITY_CODE} AS code, activity FROM _upgraded",
            events="SELECT * FROM _upgraded",
        )
        out = ", ".join(sql_ident(c) for c in (*kept, *NEIGHBOUR_COLUMNS))
        con.execute(
            f"COPY (SELECT {out} FROM _upgraded ORDER BY {JOURNEY_CODE}, {SEQ}) TO {sql_literal(str(tmp))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}{kv_metadata_option(file_facts)})"
        )
        return int(con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(str(tmp))})").fetchone()[0])


def build_event_store(
    staging_path: Path,
    out_path: Path,
    spec: BuildSpec,
    *,
    temp_directory: Path,
    progress: Progress | None = None,
) -> BuildResult:
    """Validate the staged rows and write the stored layout of :mod:`analytics.schema` to ``out_path``.

    Rules (exact):
    - Text is trimmed; an empty value is missing. Journey id, activity and timestamp are required.
    - Timestamps: see :func:`timestamp_sql`; dates like 03/04/2024 follow :class:`DayOrder`.
      Stored in UTC. ``local_times`` counts the stored events whose timestamp has no offset (read
      in ``spec.timezone``) and, of those, the times the zone's clocks skipped or showed twice
      (:func:`clock_change_sql`; read by :data:`analytics.ingest.parse.CLOCK_CHANGE_RULE`), with
      the first of each in the file.
    - Numbers: :func:`number_sql`; NPS must lie in 0..10, CSAT in 1..5. FCR: yes/no words or 1/0.
    - A row with any problem is rejected (raised unless ``allow_bad_rows``).
    - Every row is an event. ``identical_rows`` counts the rows whose (trimmed) text equals an
      earlier row's in every column of ``spec.row_keys`` (every column of the file): a hash of
      the whole row finds the candidates, a full compare of every column decides. Rows equal
      only on the mapped columns are different events and are kept. With
      ``drop_identical_rows`` the repeats go, the first in the file stays
      (``identical_rows_dropped``; a repeat of a rejected row is rejected with it).
    - Order within a journey: timestamp, then file row (stable). ``ties``: events that share their
      timestamp with an earlier event (in the file) of the same journey: a journey's k events at
      one instant count k - 1.
    - Codes: dense, in sorted order of the text (code-point order), as
      :func:`analytics.layout.to_stored_layout`.
    - After the segments, the neighbour facts of :data:`analytics.schema.NEIGHBOUR_COLUMNS`.
    """

    def step(fraction: float, message: str) -> None:
        if progress:
            progress(fraction, message)

    timings: list[tuple[str, float]] = []
    roles = spec.roles

    def raw(role: Role) -> str:
        return f"nullif({sql_ident(roles[role])}, '')"  # values arrive trimmed (scan_csv)

    with (
        system_memory_pool(),
        scratch_connection(memory_limit=spec.memory_limit, temp_directory=str(temp_directory)) as raw_con,
    ):
        con = _Timed(raw_con, timings)
        try:
            con.execute(f"SET TimeZone = {sql_literal(spec.timezone)}")
        except Exception as exc:  # noqa: BLE001 - DuckDB raises its own error types
            raise BadInputError(
                "Unknown time zone", value=spec.timezone, expected="an IANA zone such as Europe/Paris"
            ) from exc
        con.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM read_parquet({sql_literal(str(staging_path))})")
        ts_col = roles[Role.TIMESTAMP]
        ts_raw = raw(Role.TIMESTAMP)

        step(0.72, "Reading timestamps…")
        non_iso = con.execute(
            f"SELECT count(*) FROM (SELECT {ts_raw} AS v FROM staged) "
            f"WHERE v IS NOT NULL AND NOT regexp_matches(v, '{ISO_PREFIX}')"
        ).fetchone()[0]
        dates = SlashedDates()
        if non_iso:
            con.execute(f"CREATE TEMP VIEW dated AS SELECT *, {date_parts_sql(ts_raw)} FROM staged")
            dates = SlashedDates(
                *con.execute(
                    "SELECT count(*), count(*) FILTER (WHERE try_cast(_dmy.a AS INT) > 12), "
                    "count(*) FILTER (WHERE try_cast(_dmy.b AS INT) > 12), "
                    f"arg_min({sql_ident(ts_col)}, file_row) FILTER (WHERE try_cast(_dmy.a AS INT) > 12), "
                    f"arg_min({sql_ident(ts_col)}, file_row) FILTER (WHERE try_cast(_dmy.b AS INT) > 12) "
                    "FROM dated WHERE _dmy.a <> ''"
                ).fetchone()
            )
        day_order = decide_day_order(dates, dayfirst=spec.dayfirst, delimiter=spec.delimiter)
        reading = {"dayfirst": day_order.dayfirst, "date_only": spec.date_only, "iso_only": not non_iso}
        ts_sql = timestamp_sql(ts_raw, **reading)
        select = [
            "file_row",
            "file_line",
            f"{raw(Role.JOURNEY)} AS journey_id",
            f"{raw(Role.ACTIVITY)} AS activity",
            f"{ts_raw} AS _ts_raw",
            f"{ts_sql} AS timestamp",
            f"{without_offset_sql(ts_raw, date_only=spec.date_only, iso_only=not non_iso)} AS _naive",
        ]
        clock_changes = spec.timezone not in FIXED_ZONES and not spec.timezone.startswith("Etc/GMT")
        if clock_changes:
            select.append(f"{wall_time_sql(ts_raw, **reading)} AS _wall")
        # Per row: NULL (the time carries its own offset) or how the zone's clock showed it (CLOCK_*).
        clock = clock_change_sql("timestamp", "_wall", spec.timezone) if clock_changes else str(CLOCK_PLAIN)
        clock_sql = f"(CASE WHEN _naive AND timestamp IS NOT NULL THEN {clock} END)::TINYINT AS _clock"
        label = spec.labels.get
        checks: list[tuple[str, str, str, str, str]] = [  # condition, column label, staging key, reason, expected
            (
                "journey_id IS NULL",
                label(roles[Role.JOURNEY], ""),
                roles[Role.JOURNEY],
                "Empty journey id",
                "a journey id",
            ),
            (
                "activity IS NULL",
                label(roles[Role.ACTIVITY], ""),
                roles[Role.ACTIVITY],
                "Empty activity",
                "an activity name",
            ),
            ("_ts_raw IS NULL", label(ts_col, ""), ts_col, "Empty timestamp", "a date and time"),
            (
                "_ts_raw IS NOT NULL AND timestamp IS NULL",
                label(ts_col, ""),
                ts_col,
                "Unreadable timestamp",
                TIMESTAMP_EXPECTED.format(
                    dmy="25/03/2024 14:30 (day-first)" if day_order.dayfirst else "03/25/2024 14:30 (month-first)"
                ),
            ),
        ]
        for role in (Role.ACCOUNT, Role.CONTACT, Role.ROLE, Role.CHANNEL, Role.STAGE, Role.OUTCOME):
            if role in roles:
                select.append(f"{raw(role)} AS {STORED_COLUMN[role]}")
        account = f"coalesce({raw(Role.ACCOUNT)}, {raw(Role.JOURNEY)})" if Role.ACCOUNT in roles else raw(Role.JOURNEY)
        select.append(f"{account} AS _account")
        for role, (low, high, expected) in NUMBER_RANGES.items():
            if role not in roles:
                continue
            col = STORED_COLUMN[role]
            select.append(f"{raw(role)} IS NOT NULL AS _{col}_given")
            select.append(f"{number_sql(raw(role))} AS {col}")
            bad = f"_{col}_given AND ({col} IS NULL OR isnan({col}) OR isinf({col})"
            if low is not None:
                bad += f" OR {col} < {low} OR {col} > {high}"
            checks.append((bad + ")", label(roles[role], ""), roles[role], f"Unreadable {role.value}", expected))
        if Role.FCR in roles:
            select.append(f"{raw(Role.FCR)} IS NOT NULL AS _fcr_given")
            select.append(f"{flag_sql(raw(Role.FCR))} AS fcr")
            checks.append(
                (
                    "_fcr_given AND fcr IS NULL",
                    label(roles[Role.FCR], ""),
                    roles[Role.FCR],
                    "Unreadable first-contact-resolution flag",
                    "yes/no, true/false or 1/0",
                )
            )
        seg_cols = []
        for i, (key, name) in enumerate(spec.segments):
            alias = f"_seg{i}"
            seg_cols.append((alias, name))
            select.append(f"nullif({sql_ident(key)}, '') AS {alias}")
        row = ", ".join(sql_ident(k) for k in spec.row_keys)
        if spec.row_keys:
            # A 64-bit hash of the whole row, computed in the same read of the staged rows.
            select.append(f"hash({row}) AS _row_hash")
        # Checks become one bitmask column, so the stored table carries no raw text.
        keep_cols = [
            c.rsplit(" AS ", 1)[-1] for c in select if not c.endswith(("_ts_raw", "_given", "_naive", "_wall"))
        ]
        keep_cols = [c for c in keep_cols if c != "file_line"]
        bad_mask = " | ".join(f"(CASE WHEN {c[0]} THEN {1 << i} ELSE 0 END)" for i, c in enumerate(checks))
        con.execute(
            f"CREATE TEMP TABLE parsed AS SELECT {', '.join(keep_cols)}, ({bad_mask})::INTEGER AS _bad, {clock_sql} "
            f"FROM (SELECT {', '.join(select)} FROM {'dated' if non_iso else 'staged'})"
        )

        step(0.78, "Counting identical rows…")
        n_identical = n_dropped = 0
        if spec.row_keys:
            # Rows sharing a hash are the candidates; comparing every column decides.
            con.execute(
                "CREATE TEMP TABLE _identical AS SELECT file_row FROM (SELECT s.* FROM staged s SEMI JOIN "
                "(SELECT file_row FROM parsed WHERE _row_hash IN "
                "(SELECT _row_hash FROM parsed GROUP BY _row_hash HAVING count(*) > 1)) c "
                f"ON s.file_row = c.file_row) QUALIFY row_number() OVER (PARTITION BY {row} ORDER BY file_row) > 1"
            )
            n_identical = con.execute("SELECT count(*) FROM _identical").fetchone()[0]

        step(0.8, "Checking values…")
        n_bad = con.execute("SELECT count(*) FROM parsed WHERE _bad <> 0").fetchone()[0]
        rejects: list[Reject] = []
        if n_bad:
            limit = "" if spec.allow_bad_rows else "ORDER BY file_row LIMIT 1"
            con.execute(f"CREATE TEMP TABLE _bad_rows AS SELECT file_row, _bad FROM parsed WHERE _bad <> 0 {limit}")
            details = con.execute(
                f"SELECT b.file_row, b._bad, s.file_line, {', '.join('s.' + sql_ident(c[2]) for c in checks)} "
                "FROM _bad_rows b JOIN staged s ON s.file_row = b.file_row ORDER BY b.file_row"
            ).fetchall()
            for file_row, mask, file_line, *values in details:
                for k, (_, column, _, reason, expected) in enumerate(checks):
                    if mask & (1 << k):
                        rejects.append(
                            Reject(
                                int(file_row), int(file_line), column, shown_value(values[k] or ""), reason, expected
                            )
                        )
            if not spec.allow_bad_rows:
                raise rejects[0].error(more=int(n_bad) - 1)
            con.execute("DELETE FROM parsed WHERE _bad <> 0")

        n_valid = con.execute("SELECT count(*) FROM parsed").fetchone()[0]
        if n_valid == 0:
            raise NoRowLeftError(rejects)

        if n_identical and spec.drop_identical_rows:
            n_dropped = con.execute(
                "SELECT count(*) FROM parsed WHERE file_row IN (SELECT file_row FROM _identical)"
            ).fetchone()[0]
            con.execute("DELETE FROM parsed WHERE file_row IN (SELECT file_row FROM _identical)")

        local_times = _local_times(con, spec.timezone, ts_col)

        step(0.84, "Encoding…")
        for name, column in (("jc", "journey_id"), ("ac", "_account"), ("tc", "activity")):
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT {column} AS k, "
                f"(row_number() OVER (ORDER BY {column}) - 1)::INTEGER AS code FROM (SELECT DISTINCT {column} FROM parsed)"
            )
        # Keys as integers: cheap to group and sort.
        con.execute(
            f"CREATE TEMP TABLE _keys AS SELECT d.file_row, d.timestamp, jc.code AS {JOURNEY_CODE}, "
            f"ac.code AS {ACCOUNT_CODE}, tc.code AS {ACTIVITY_CODE}"
            + (", d.stage AS stage" if Role.STAGE in roles else "")
            + " FROM parsed d JOIN jc ON d.journey_id = jc.k "
            "JOIN ac ON d._account = ac.k JOIN tc ON d.activity = tc.k"
        )

        step(0.88, "Sorting…")
        # The order of each journey and account, then what each event's neighbours in its journey say.
        order = (
            f"SELECT file_row, timestamp, {JOURNEY_CODE}, {ACCOUNT_CODE}, {ACTIVITY_CODE}"
            + (", stage" if Role.STAGE in roles else "")
            + f", (row_number() OVER (PARTITION BY {JOURNEY_CODE} ORDER BY timestamp, file_row) - 1)::INTEGER AS {SEQ}"
            + f", (row_number() OVER (PARTITION BY {ACCOUNT_CODE} ORDER BY timestamp, file_row) - 1)::INTEGER "
            + f"AS {ACCOUNT_SEQ} FROM _keys"
        )
        facts = neighbour_facts_sql(order, has_stage=Role.STAGE in roles, order_by="timestamp, file_row")
        drop = "timestamp, stage" if Role.STAGE in roles else "timestamp"
        con.execute(f"CREATE TEMP TABLE _order AS SELECT * EXCLUDE ({drop}) FROM ({facts})")

        def col_or_null(role: Role, sql_type: str) -> str:
            col = STORED_COLUMN[role]
            return f"d.{col} AS {col}" if role in roles else f"NULL::{sql_type} AS {col}"

        columns = [
            "d.journey_id AS journey_id",
            f"o.{JOURNEY_CODE}",
            f"o.{SEQ}",
            "d._account AS account_id",
            f"o.{ACCOUNT_CODE}",
            f"o.{ACCOUNT_SEQ}",
            col_or_null(Role.CONTACT, "VARCHAR"),
            col_or_null(Role.ROLE, "VARCHAR"),
            "d.timestamp AS timestamp",
            f"d.file_row AS {FILE_ROW}",
            "d.activity AS activity",
            f"o.{ACTIVITY_CODE}",
            col_or_null(Role.CHANNEL, "VARCHAR"),
            col_or_null(Role.STAGE, "VARCHAR"),
            col_or_null(Role.OUTCOME, "VARCHAR"),
            col_or_null(Role.VALUE, "DOUBLE"),
            col_or_null(Role.NPS, "DOUBLE"),
            col_or_null(Role.CSAT, "DOUBLE"),
            col_or_null(Role.EFFORT, "DOUBLE"),
            col_or_null(Role.FCR, "BOOLEAN"),
            *(f"d.{alias} AS {sql_ident(segment_column(name))}" for alias, name in seg_cols),
            *(f"o.{c}" for c in NEIGHBOUR_COLUMNS),
        ]
        file_facts = facts_json(con, dictionary="SELECT code, k AS activity FROM tc", events="SELECT * FROM _order")
        step(0.9, "Writing Parquet…")
        con.execute(
            f"COPY (SELECT {', '.join(columns)} FROM parsed d JOIN _order o ON d.file_row = o.file_row "
            f"ORDER BY o.{JOURNEY_CODE}, o.{SEQ}) TO {sql_literal(str(out_path))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}{kv_metadata_option(file_facts)})"
        )
        summary = con.execute(
            "SELECT count(*), (SELECT count(*) FROM jc), (SELECT count(*) FROM ac), (SELECT count(*) FROM tc), "
            "epoch_us(min(timestamp)), epoch_us(max(timestamp)), "
            f"(SELECT count(*) FROM (SELECT DISTINCT {JOURNEY_CODE}, timestamp FROM _keys)) FROM _keys"
        ).fetchone()
    n_events = int(summary[0])
    return BuildResult(
        events=n_events,
        journeys=int(summary[1]),
        accounts=int(summary[2]),
        activities=int(summary[3]),
        first_timestamp=_ts_from_us(summary[4]),
        last_timestamp=_ts_from_us(summary[5]),
        identical_rows=int(n_identical),
        identical_rows_dropped=int(n_dropped),
        # Sorted by timestamp, an event ties with its predecessor exactly when it is not the
        # first of its (journey, timestamp) group.
        ties=n_events - int(summary[6]),
        rejects=rejects,
        day_order=day_order,
        local_times=local_times,
        timings=timings,
    )
