"""Import an event log (CSV, optionally gzip-compressed; an Excel .xlsx sheet; a Parquet file) as a
dataset: the use case behind the Data page and ``python cli.py import``.

What an import does, in order:

0. Tells the file by its first bytes (:mod:`analytics.formats`): a file that is not a table is
   refused with what it looks like; a workbook's sheet or a Parquet file is written out as CSV
   and read like any CSV from there on.
1. Resolves the encoding and delimiter (detected from the first megabyte when not given) and
   hashes the file's bytes with the options and the column mapping: if a dataset with that hash
   exists, nothing is added and that dataset is returned (``created=False``).
2. Streams the file once (:func:`analytics.ingest.read.scan_csv`): decodes, normalises text to NFC,
   checks every record, applies the row filter, stages the mapped columns.
3. Validates values and writes the stored layout (:func:`analytics.ingest.store.build_event_store`):
   timestamps to UTC, rows identical in every column counted (dropped only when asked), order =
   timestamp then file row, integer codes. Every other row is an event.
4. Records the dataset in SQLite (description, column mapping, options, counts) and moves its
   files to ``<data dir>/datasets/<id>/`` in one step; on any error nothing is kept.

Bad input raises :class:`core.errors.BadInputError` naming the row, the column, the value
and what was expected. With ``allow_bad_rows`` the good rows are imported and every problem is in
``ImportResult.rejected`` (also kept as ``rejected.parquet`` beside the events).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from analytics.formats import CSV, XLSX, FileKind, Source, detect_kind, table_as_csv
from analytics.ingest import build_event_store, scan_csv
from analytics.ingest.notes import (
    ALREADY_IMPORTED,
    ROW_FATES,
    describe_rows,
    describe_ties,
    reading_notes,
)
from analytics.ingest.parse import DayOrder, LocalTimes, detect_day_order  # noqa: F401 - the import form reads it here
from analytics.ingest.read import Progress, staging_key
from analytics.ingest.rejects import REJECT_COLUMNS, NoRowLeftError, reason_counts, rejects_frame
from analytics.ingest.roles import (
    ROLE_HEADER_NAMES,
    ROLE_HEADER_WORDS,
    ROLE_LABELS,
    SEGMENT_HEADER_WORDS,
    header_words,
    normal_header,
)
from analytics.ingest.sniff import (
    DELIMITER_NAMES,
    column_not_found,
    detect_delimiter,
    detect_encoding,
    encoding_label,
    generated_names,  # noqa: F401 - the Data page names a file's repeated headers with it
    normalise_delimiter,
    normalise_encoding,
    read_sample,
)
from analytics.ingest.store import BuildResult, BuildSpec
from analytics.numbers import plural
from analytics.schema import ColumnMapping, EventCounts, Role, counts_of
from core.errors import BadInputError, nearest_names
from db import crud
from db.engine import data_dir, read_session, write_session
from db.models import ColumnMappingPreset, Dataset
from services.dataset_files import WORK_PREFIX, sweep_abandoned_imports

EVENTS_FILE = "events.parquet"
REJECTED_FILE = "rejected.parquet"
REJECTED_SHOWN = 20  # rejected rows listed by the CLI's text and JSON output (the report has them all)
PREVIEW_BYTES = 2 << 20
IMPORT_MEMORY_LIMIT = "1GB"  # DuckDB's share; the import stays under 2 GB in all


@dataclass(frozen=True)
class ImportOptions:
    """How to read the file. None: detected (and reported)."""

    encoding: str | None = None
    delimiter: str | None = None
    dayfirst: bool | None = None
    timezone: str = "UTC"  # zone for timestamps without an offset
    date_only: bool = False  # keep the date, drop any time of day (midnight in ``timezone``)
    where: tuple[tuple[str, str], ...] = ()  # keep rows where COL == VALUE (all must hold)
    allow_bad_rows: bool = False
    drop_identical_rows: bool = False  # drop rows identical in every column of the file to an earlier row
    sheet: str | None = None  # the sheet of an Excel workbook (None: the first)

    def reading_json(self) -> dict[str, object]:
        """How the file is read, as a mapping preset keeps it (not the choices made per import)."""
        return {
            "dayfirst": self.dayfirst,
            "timezone": self.timezone,
            "date_only": self.date_only,
            "where": [list(w) for w in self.where],
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }

    @classmethod
    def from_reading_json(cls, data: Mapping[str, Any]) -> ImportOptions:
        """The options :meth:`reading_json` wrote (the defaults for what it lacks)."""
        return cls(
            dayfirst=data.get("dayfirst"),
            timezone=data.get("timezone", "UTC"),
            date_only=bool(data.get("date_only", False)),
            where=tuple((str(c), str(v)) for c, v in data.get("where", [])),
            encoding=data.get("encoding"),
            delimiter=data.get("delimiter"),
        )


@dataclass(frozen=True, eq=False)
class ImportResult(EventCounts):
    """What an import did: the dataset, whether it is new, its counts, and what became of each row."""

    dataset_id: int
    created: bool  # False when the same file and options were already imported (nothing added)
    identical_rows: int  # rows identical in every column of the file to an earlier row (counted always)
    identical_rows_dropped: int  # of those, dropped (only with ``drop_identical_rows``)
    ties: int
    rejected_rows: int
    rejected: pd.DataFrame  # row, line, column, value, reason: the downloadable report
    encoding: str = ""
    delimiter: str = ""
    dayfirst: bool | None = None
    dayfirst_detected: bool = False
    rows_read: int = 0
    rows_filtered_out: int = 0
    notes: tuple[str, ...] = ()  # what the reading chose or assumed, one sentence each (text and JSON alike)
    seconds: float = 0.0
    encoding_detected: bool = True  # False: as the options said
    delimiter_detected: bool = True
    gzip: bool = False
    kind: str = CSV  # csv, xlsx or parquet (analytics.formats)
    sheet: str | None = None  # the sheet read (a workbook's)
    timezone: str = "UTC"  # the zone of times without an offset
    date_only: bool = False
    day_order: DayOrder | None = None  # how dates like 03/04/2024 were read (None: not known, an older import)
    local_times: LocalTimes | None = None  # times without an offset (None: not counted, an older import)

    def summary(self) -> dict[str, object]:
        """What the CLI prints with ``--format json``: the counts, and the facts and ``notes`` the
        text output says (encoding, delimiter, day order, time zone, clock changes, ties, time span)."""
        return {
            "dataset_id": self.dataset_id,
            "created": self.created,
            "rows_read": self.rows_read,
            "events": self.events,
            "journeys": self.journeys,
            "accounts": self.accounts,
            "activities": self.activities,
            "first_timestamp": self.first_timestamp.isoformat() if self.first_timestamp else None,
            "last_timestamp": self.last_timestamp.isoformat() if self.last_timestamp else None,
            "identical_rows": self.identical_rows,
            "identical_rows_dropped": self.identical_rows_dropped,
            "rows_filtered_out": self.rows_filtered_out,
            "ties": self.ties,
            "ties_note": self.ties_line(),
            "kind": self.kind,
            "sheet": self.sheet,
            "encoding": self.encoding,
            "encoding_label": encoding_label(self.encoding) if self.encoding else "",
            "encoding_detected": self.encoding_detected,
            "delimiter": self.delimiter,
            "delimiter_label": DELIMITER_NAMES.get(self.delimiter, self.delimiter),
            "delimiter_detected": self.delimiter_detected,
            "gzip": self.gzip,
            "day_order": self.day_order.to_json() if self.day_order else None,
            "timezone": self.timezone,
            "date_only": self.date_only,
            "local_times": self.local_times.to_json() if self.local_times else None,
            "notes": list(self.notes),
            "rejected_rows": self.rejected_rows,
            # One entry per problem (a row may have several): the first few, how many, and why.
            "rejected_problems": len(self.rejected),
            "rejected_reasons": [
                {"reason": reason, "column": column, "rows": n} for reason, column, n in reason_counts(self.rejected)
            ],
            "rejected": [
                {"row": int(r.row), "line": int(r.line), "column": r.column, "value": r.value, "reason": r.reason}
                for r in self.rejected.head(REJECTED_SHOWN).itertuples(index=False)
            ],
        }

    def rows_line(self) -> str:
        """One line saying what became of the file's rows (the page, the CLI text, ``analyze FILE``)."""
        return describe_rows(**{k: getattr(self, k) for k in ROW_FATES})

    def ties_line(self) -> str:
        """What ``ties`` counts: :func:`describe_ties`."""
        return describe_ties(self.ties)


@dataclass(frozen=True, eq=False)
class Preview:
    """The first rows of a file as text, and how it reads."""

    headers: list[str]
    frame: pd.DataFrame  # up to ``rows`` data rows, the file's columns, as text
    encoding: str
    delimiter: str
    encoding_detected: bool
    delimiter_detected: bool
    is_gzip: bool
    rows_shown: int
    complete: bool  # False when the file holds more rows than shown
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    kind: str = CSV  # csv, xlsx or parquet (analytics.formats)
    sheets: tuple[str, ...] = ()  # a workbook's sheets, in order
    sheet: str | None = None  # the sheet shown (a workbook's)

    @property
    def encoding_label(self) -> str:
        return encoding_label(self.encoding)

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


# --------------------------------------------------------------------------- mapping suggestions


def suggest_mapping(headers: list[str]) -> ColumnMapping:
    """Suggest a role for columns from their names (process-mining names included).

    Exact names first (``case:concept:name`` → journey, ``concept:name`` → activity,
    ``time:timestamp`` → timestamp, ``journey_id``, ``account_id`` ...), then words in the name
    (``Ticket case ID``, ``Event timestamp``). Each column gets at most one role. Columns named
    like a grouping (``org:resource``, ``region``, ``product``, ``service_level`` ...) are
    suggested as segments.
    """
    normal = {h: normal_header(h) for h in headers}
    taken: set[str] = set()
    chosen: dict[Role, str] = {}
    for role in Role:
        for candidate in ROLE_HEADER_NAMES[role]:
            hit = next((h for h in headers if normal[h] == candidate and h not in taken), None)
            if hit:
                chosen[role] = hit
                taken.add(hit)
                break
    for role, words in ROLE_HEADER_WORDS:
        if role in chosen:
            continue
        hit = next((h for h in headers if h not in taken and words <= header_words(h)), None)
        if hit:
            chosen[role] = hit
            taken.add(hit)
    segments = [
        h
        for h in headers
        if h not in taken
        and header_words(h) & SEGMENT_HEADER_WORDS
        and not header_words(h) & {"date", "time", "timestamp", "id"}
    ]
    return ColumnMapping.of(segments=segments, **{r.value: chosen.get(r) for r in Role})


def suggest_where(headers: list[str], frame: pd.DataFrame | None = None) -> tuple[tuple[str, str], ...]:
    """A row filter worth suggesting: process-mining exports repeat each activity per lifecycle
    transition (start, complete ...); keep ``COMPLETE`` events."""
    for h in headers:
        if normal_header(h) in ("lifecycle:transition", "lifecycle_transition", "transition"):
            values = [] if frame is None or h not in frame.columns else frame[h].dropna().astype(str).unique().tolist()
            complete = next((v for v in values if v.strip().casefold() == "complete"), "COMPLETE")
            return ((h, complete),)
    return ()


def header_signature(headers: list[str]) -> str:
    """A file's shape: its column names in order (trimmed, case-folded), hashed."""
    return hashlib.sha256("\x1f".join(h.strip().casefold() for h in headers).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class MappingPreset:
    id: int
    name: str
    mapping: ColumnMapping
    options: ImportOptions
    created_at: datetime


def _preset(row: ColumnMappingPreset) -> MappingPreset:
    data = dict(row.column_mapping)
    opts = data.pop("options", {}) or {}
    return MappingPreset(
        id=row.id or 0,
        name=row.name,
        mapping=ColumnMapping.from_json(data),
        options=ImportOptions.from_reading_json(opts),
        created_at=row.created_at,
    )


def save_mapping_preset(
    name: str,
    headers: list[str],
    mapping: ColumnMapping,
    options: ImportOptions = ImportOptions(),
    *,
    engine: Engine | None = None,
) -> int:
    """Save a mapping (and the reading options) for files with these headers; same name replaces."""
    _check_mapping(mapping, headers)
    signature = header_signature(headers)
    payload = {**mapping.to_json(), "options": options.reading_json()}
    with write_session(engine) as session:
        clean = crud.clean_name(name, "preset name")
        row = session.exec(
            select(ColumnMappingPreset).where(
                ColumnMappingPreset.header_signature == signature, ColumnMappingPreset.name == clean
            )
        ).first()
        if row is None:
            row = ColumnMappingPreset(name=clean, header_signature=signature)
        row.column_mapping = payload
        session.add(row)
        session.flush()
        return row.id or 0


def find_mapping_preset(headers: list[str], *, engine: Engine | None = None) -> MappingPreset | None:
    """The most recently saved preset for files with exactly these headers, if any."""
    with read_session(engine) as session:
        row = session.exec(
            select(ColumnMappingPreset)
            .where(ColumnMappingPreset.header_signature == header_signature(headers))
            .order_by(col(ColumnMappingPreset.created_at).desc(), col(ColumnMappingPreset.id).desc())
        ).first()
        return _preset(row) if row else None


def list_mapping_presets(*, engine: Engine | None = None) -> list[MappingPreset]:
    with read_session(engine) as session:
        rows = session.exec(select(ColumnMappingPreset).order_by(col(ColumnMappingPreset.name))).all()
        return [_preset(r) for r in rows]


# --------------------------------------------------------------------------- preview


def read_preview(source: Source, options: ImportOptions = ImportOptions(), rows: int = 20) -> Preview:
    """The header and first ``rows`` rows of a file (reading at most about 2 MB), with the encoding
    and delimiter used (detected unless given). Header problems raise BadInputError; row problems
    are listed in ``Preview.problems``. A workbook shows ``options.sheet`` (or its first sheet)."""
    _check_delimiter(options.delimiter)
    kind = detect_kind(source, options.sheet)
    if kind.converted:
        text = table_as_csv(source, kind, sheet=options.sheet, max_rows=rows + 1)
        result = scan_csv(text, encoding="utf-8", delimiter=",", allow_bad_rows=True, max_rows=rows)
        is_gzip = False
    else:
        result = scan_csv(
            source,
            encoding=options.encoding,
            delimiter=options.delimiter,
            allow_bad_rows=True,
            max_rows=rows,
            max_bytes=PREVIEW_BYTES,
        )
        _, is_gzip = read_sample(source, 4)
    frame = result.frame if result.frame is not None else pd.DataFrame(columns=result.headers)
    frame = frame.drop(columns=["file_row", "file_line"], errors="ignore")
    return Preview(
        headers=result.headers,
        frame=frame.reset_index(drop=True),
        encoding=result.encoding,
        delimiter=result.delimiter,
        encoding_detected=options.encoding is None,
        delimiter_detected=options.delimiter is None,
        is_gzip=is_gzip,
        rows_shown=len(frame),
        complete=result.complete,
        problems=rejects_frame(result.rejects),
        kind=kind.kind,
        sheets=kind.sheets,
        sheet=(options.sheet or kind.sheets[0]) if kind.sheets else None,
    )


# --------------------------------------------------------------------------- import


def _check_mapping(mapping: ColumnMapping, headers: list[str] | None = None) -> None:
    missing = mapping.missing_required()
    if missing:
        raise BadInputError(
            "Map the required columns first",
            column=", ".join(ROLE_LABELS[r] for r in missing),
            expected="a column for each of journey id, timestamp and activity",
        )
    if len(set(mapping.segments)) != len(mapping.segments):
        dup = next(s for s in mapping.segments if mapping.segments.count(s) > 1)
        raise BadInputError("A segment column is listed twice", column=dup, expected="each segment once")
    if headers is not None:
        for source in [c for _, c in mapping.columns] + list(mapping.segments):
            if source not in headers:
                raise column_not_found(source, headers)


def _check_delimiter(value: str | None) -> None:
    """Refuse a delimiter other than the four the import reads, before the file is read (any other
    character would split the header wrongly and fail later with a confusing message)."""
    if value is None:
        return
    delimiter = normalise_delimiter(value)
    if delimiter not in DELIMITER_NAMES:
        allowed = ", ".join(f"{name} ({d!r})" if name != "tab" else name for d, name in DELIMITER_NAMES.items())
        raise BadInputError("Unusable delimiter", value=value, expected=f"one of {allowed}")


def _no_row_matches(
    where: tuple[tuple[str, str], ...],
    seen_values: Mapping[str, list[str]],
    filtered_out: int,
    rejected_rows: int,
    matched: frozenset[str] = frozenset(),
) -> BadInputError:
    """The filter kept no row: name the condition no row met (``matched``: the columns whose value
    some row had) and the column's nearest real values (``seen_values``: a few of each column's)."""
    column, value = where[0]
    for c, v in where:
        if c not in matched:
            column, value = c, v
            break
    else:  # each value occurs, but never all together
        if len(where) > 1:
            cond = " and ".join(f"{c} = {v!r}" for c, v in where)
            return BadInputError(
                f"No row matches the filter: each value occurs, but no row has {cond}",
                column=column,
                value=value,
                expected="conditions that hold together in some row",
            )
    seen = seen_values.get(column, [])
    rejected = f"; {plural(rejected_rows, 'other row')} rejected" if rejected_rows else ""
    nearest = ", ".join(repr(n) for n in nearest_names(value.strip(), seen)) if seen else ""
    return BadInputError(
        f"No row matches the filter: it left out {plural(filtered_out, 'row')}{rejected}",
        column=column,
        value=value,
        expected=f"a value present in the column; nearest: {nearest}" if nearest else "a value present in the column",
    )


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInputError(
            "Unknown time zone", value=name, expected="an IANA zone such as Europe/Paris or UTC"
        ) from exc


def _content_hash(source: Source, payload: Mapping[str, object]) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes | bytearray | memoryview):
        digest.update(source)
    else:
        with open(source, "rb") as fh:
            for chunk in iter(lambda: fh.read(8 << 20), b""):
                digest.update(chunk)
    digest.update(b"\x00" + json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _existing_result(
    dataset: Dataset, *, options: ImportOptions, kind: FileKind, sheet: str | None, is_gzip: bool
) -> ImportResult:
    """The dataset an earlier import of the same file and options made, with the notes that import
    gave: what was chosen or assumed still governs the stored events (``options``, ``kind``,
    ``sheet``, ``is_gzip``: this reading, which hashes the same)."""
    rejected_path = data_dir() / Path(dataset.storage_path).parent / REJECTED_FILE
    rejected = pd.read_parquet(rejected_path) if rejected_path.exists() else pd.DataFrame(columns=REJECT_COLUMNS)
    opts = dataset.import_options
    day_order = DayOrder(
        bool(opts.get("dayfirst_used", False)),
        bool(opts.get("dayfirst_detected", False)),
        str(opts.get("day_order", "")),
        # Kept since the flag was added; before, only the note said so.
        bool(opts.get("dayfirst_assumed", "(assumed" in str(opts.get("day_order", "")))),
    )
    local_times = LocalTimes.from_json(opts["local_times"]) if opts.get("local_times") else None
    encoding, delimiter = str(opts.get("encoding", "")), str(opts.get("delimiter", ""))
    filtered_out = int(opts.get("rows_filtered_out", 0))
    # The first import's notes (a dataset imported before they were kept says only that it was).
    notes = tuple(opts.get("notes", ()))
    return ImportResult(
        dataset_id=dataset.id or 0,
        created=False,
        **counts_of(dataset),
        identical_rows=int(opts.get("identical_rows", 0)),
        identical_rows_dropped=dataset.duplicates_removed,
        ties=dataset.ties,
        rejected_rows=dataset.rejected_rows,
        rejected=rejected,
        dayfirst=opts.get("dayfirst_used"),
        dayfirst_detected=bool(opts.get("dayfirst_detected", False)),
        rows_read=int(opts.get("rows_read", 0)),
        rows_filtered_out=filtered_out,
        notes=(ALREADY_IMPORTED, *notes),
        **_as_read(options, kind, sheet, is_gzip, encoding, delimiter),
        timezone=str(opts.get("timezone", options.timezone)),
        date_only=bool(opts.get("date_only", options.date_only)),
        day_order=day_order,
        local_times=local_times,
    )


def describe_dataset(dataset_id: int, *, engine: Engine | None = None) -> dict[str, object]:
    """How a dataset was read (encoding, delimiter, zone, day order, filter) and what was set aside."""
    with read_session(engine) as session:
        d = crud.get_dataset(session=session, dataset_id=dataset_id)
        opts = dict(d.import_options)
        counts = {
            "identical_rows": int(d.import_options.get("identical_rows", 0)),
            "identical_rows_dropped": d.duplicates_removed,  # the column keeps its first name
            # Imported before every row was kept: rows equal in every mapped column were removed.
            "removed_by_mapped_columns": 0 if "identical_rows" in d.import_options else d.duplicates_removed,
            "ties": d.ties,
            "rejected_rows": d.rejected_rows,
        }
        if counts["removed_by_mapped_columns"]:
            counts["identical_rows_dropped"] = 0
        mapping = dict(d.column_mapping)
    delimiter = str(opts.get("delimiter", ""))
    return {
        "encoding": opts.get("encoding", ""),
        "encoding_label": encoding_label(str(opts.get("encoding", ""))) if opts.get("encoding") else "—",
        "delimiter": delimiter,
        "delimiter_label": DELIMITER_NAMES.get(delimiter, delimiter or "—"),
        "timezone": opts.get("timezone", "UTC"),
        "day_order": opts.get("day_order", ""),
        "kind": opts.get("kind", "csv"),
        "sheet": opts.get("sheet"),
        "where": [tuple(w) for w in opts.get("where", [])],
        "date_only": bool(opts.get("date_only", False)),
        "rows_read": int(opts.get("rows_read", 0)),
        "rows_filtered_out": int(opts.get("rows_filtered_out", 0)),
        "mapping": mapping,
        **counts,
    }


def get_rejected_rows(dataset_id: int, *, engine: Engine | None = None) -> pd.DataFrame:
    """The rejected-rows report kept with a dataset (empty when every row was imported)."""
    with read_session(engine) as session:
        dataset = crud.get_dataset(session=session, dataset_id=dataset_id)
    path = data_dir() / Path(dataset.storage_path).parent / REJECTED_FILE
    return pd.read_parquet(path) if dataset.storage_path and path.exists() else pd.DataFrame(columns=REJECT_COLUMNS)


def import_event_log(
    source: Source,
    *,
    name: str,
    mapping: ColumnMapping,
    options: ImportOptions = ImportOptions(),
    source_name: str = "",
    map_id: int | None = None,
    is_demo: bool = False,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> ImportResult:
    """Import a CSV (or .csv.gz) event log as a new dataset; see the module docstring.

    ``source`` is a path or the file's bytes. ``map_id`` links the new dataset to that map with
    the suggested activity → touchpoint links. Every row of the file is an event; rows identical
    in every column of the file to an earlier row are counted (``identical_rows``) and dropped only
    with ``options.drop_identical_rows``. Ties: events that share a timestamp with an earlier event of
    their journey (kept in file order). ``notes`` says what the reading chose or assumed: encoding,
    delimiter, day order, the zone of times without an offset and the times its clocks skip or
    repeat. Raises BadInputError (nothing stored) on bad input.
    """
    started = time.monotonic()

    def report(fraction: float, message: str) -> None:
        if progress:
            progress(max(0.0, min(fraction, 1.0)), message)

    clean_name = crud.clean_name(name, "dataset name")
    _check_mapping(mapping)
    _check_timezone(options.timezone)
    _check_delimiter(options.delimiter)
    if map_id is not None:
        from services.context import check_map_id  # the one refusal of an unknown map id, with the real ones

        with read_session(engine) as session:
            check_map_id(session, map_id)

    report(0.0, "Detecting the encoding and delimiter…")
    kind = detect_kind(source, options.sheet)
    sheet = (options.sheet or kind.sheets[0]) if kind.kind == XLSX and kind.sheets else None
    if kind.converted:
        # Written out as UTF-8 CSV with commas (analytics.formats); the reading options do not apply.
        encoding, delimiter, is_gzip = "utf-8", ",", False
    else:
        sample, is_gzip = read_sample(source)
        if not sample.strip():
            raise BadInputError("The file is empty", expected="a header row and at least one event")
        encoding = normalise_encoding(options.encoding) if options.encoding else detect_encoding(sample)
        if options.delimiter:
            delimiter = normalise_delimiter(options.delimiter)
        else:
            head = sample[:65536].decode(encoding if encoding != "utf-8" else "utf-8", errors="replace")
            delimiter = detect_delimiter(head.replace("\r", "\n").lstrip("\ufeff"))
    payload = {
        "kind": kind.kind,
        "sheet": sheet,
        "mapping": mapping.to_json(),
        "encoding": encoding,
        "delimiter": delimiter,
        "dayfirst": options.dayfirst,
        "timezone": options.timezone,
        "date_only": options.date_only,
        "where": sorted([list(w) for w in options.where]),
        "allow_bad_rows": options.allow_bad_rows,
        "drop_identical_rows": options.drop_identical_rows,
    }
    content_hash = _content_hash(source, payload)
    with read_session(engine) as session:
        existing = session.exec(select(Dataset).where(Dataset.content_hash == content_hash)).first()
        if existing is not None:
            report(1.0, "Already imported")
            return _existing_result(existing, options=options, kind=kind, sheet=sheet, is_gzip=is_gzip)

    datasets_dir = data_dir() / "datasets"
    sweep_abandoned_imports(datasets_dir)
    work = datasets_dir / f"{WORK_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    moved: Path | None = None
    try:
        mapped = list(dict.fromkeys([c for _, c in mapping.columns] + list(mapping.segments)))
        staging = work / "staging.parquet"
        table: Source = source
        if kind.converted:
            report(0.01, f"Reading the {kind.label}…")
            table = table_as_csv(source, kind, sheet=sheet, out_path=work / "table.csv")
        # Every column is staged: rows identical in every column of the file are counted.
        scan = scan_csv(
            table,
            encoding=encoding,
            delimiter=delimiter,
            require=mapped,
            where=options.where,
            allow_bad_rows=options.allow_bad_rows,
            staging_path=staging,
            progress=lambda f, m: report(0.02 + 0.68 * f, m),
        )
        if kind.converted:
            (work / "table.csv").unlink()
        if scan.rows_read == 0:
            raise BadInputError("The file has a header row but no events", expected="at least one data row")
        # Rows the filter left out: neither kept nor rejected (a rejected row never reaches the filter).
        filtered_out = scan.rows_read - scan.rows_kept - len({r.row for r in scan.rejects})
        if scan.rows_kept == 0 and options.where and filtered_out:
            raise _no_row_matches(
                options.where,
                scan.where_values,
                filtered_out,
                len({r.row for r in scan.rejects}),
                scan.where_matched,
            )
        if scan.rows_kept == 0:
            raise NoRowLeftError(scan.rejects)
        headers = scan.headers
        spec = BuildSpec(
            roles={role: staging_key(headers, c) for role, c in mapping.columns},
            segments=tuple((staging_key(headers, s), s) for s in mapping.segments),
            labels={staging_key(headers, c): c for c in mapped},
            timezone=options.timezone,
            dayfirst=options.dayfirst,
            date_only=options.date_only,
            delimiter=delimiter,
            allow_bad_rows=options.allow_bad_rows,
            drop_identical_rows=options.drop_identical_rows,
            row_keys=tuple(staging_key(headers, h) for h in headers),
            memory_limit=IMPORT_MEMORY_LIMIT,
        )
        temp = work / "tmp"
        temp.mkdir()
        try:
            built = build_event_store(staging, work / EVENTS_FILE, spec, temp_directory=temp, progress=report)
        except NoRowLeftError as exc:  # say why for every row, those the streaming pass rejected too
            raise NoRowLeftError(scan.rejects + exc.rejects, filtered_out=filtered_out) from None
        staging.unlink()
        shutil.rmtree(temp, ignore_errors=True)
        all_rejects = scan.rejects + built.rejects
        rejected = rejects_frame(all_rejects)
        rejected_rows = int(rejected["row"].nunique()) if len(rejected) else 0
        if len(rejected):
            rejected.to_parquet(work / REJECTED_FILE, index=False)
        read = {"kind": kind, "sheet": sheet, "is_gzip": is_gzip, "encoding": encoding, "delimiter": delimiter}
        notes = _notes(options, built, filtered_out=filtered_out, headers=headers, **read)

        report(0.97, "Saving the dataset…")
        import_options = {
            "schema": mapping.schema().to_dict(),
            "encoding": encoding,
            "delimiter": delimiter,
            "dayfirst": options.dayfirst,
            "dayfirst_used": built.day_order.dayfirst,
            "dayfirst_detected": built.day_order.detected,
            "dayfirst_assumed": built.day_order.assumed,
            "day_order": built.day_order.note,
            "local_times": built.local_times.to_json(),
            "notes": list(notes),  # said again, word for word, when the same file is imported again
            "timezone": options.timezone,
            "date_only": options.date_only,
            "where": [list(w) for w in options.where],
            "allow_bad_rows": options.allow_bad_rows,
            "drop_identical_rows": options.drop_identical_rows,
            "kind": kind.kind,
            "sheet": sheet,
            "gzip": is_gzip,
            "rows_read": scan.rows_read,
            "identical_rows": built.identical_rows,
            "rows_filtered_out": filtered_out,
            "headers": headers,
        }
        try:
            with write_session(engine) as session:
                dataset = Dataset(
                    name=clean_name,
                    source_name=source_name or (Path(source).name if isinstance(source, str | Path) else ""),
                    content_hash=content_hash,
                    column_mapping=mapping.to_json(),
                    import_options=import_options,
                    **counts_of(built),
                    duplicates_removed=built.identical_rows_dropped,
                    ties=built.ties,
                    rejected_rows=rejected_rows,
                    is_demo=is_demo,
                )
                session.add(dataset)
                session.flush()
                final = datasets_dir / str(dataset.id)
                if final.exists():  # left over by a crash after a deleted dataset with this id
                    shutil.rmtree(final)
                work.rename(final)
                moved = final
                dataset.storage_path = f"datasets/{dataset.id}/{EVENTS_FILE}"
                session.add(dataset)
                dataset_id = dataset.id or 0
        except IntegrityError:
            # The same file was imported concurrently: keep theirs.
            if moved is not None:
                shutil.rmtree(moved, ignore_errors=True)
            with read_session(engine) as session:
                existing = session.exec(select(Dataset).where(Dataset.content_hash == content_hash)).first()
            if existing is None:
                raise
            return _existing_result(existing, options=options, kind=kind, sheet=sheet, is_gzip=is_gzip)
    except BaseException:
        if moved is not None:
            shutil.rmtree(moved, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if map_id is not None:
        from services.linking import link_dataset_to_map

        report(0.99, "Linking to the map…")
        link_dataset_to_map(dataset_id, map_id, engine=engine)
    report(1.0, "Done")
    return ImportResult(
        dataset_id=dataset_id,
        created=True,
        **counts_of(built),
        identical_rows=built.identical_rows,
        identical_rows_dropped=built.identical_rows_dropped,
        ties=built.ties,
        rejected_rows=rejected_rows,
        rejected=rejected,
        dayfirst=built.day_order.dayfirst,
        dayfirst_detected=built.day_order.detected,
        rows_read=scan.rows_read,
        rows_filtered_out=filtered_out,
        notes=notes,
        seconds=time.monotonic() - started,
        **_as_read(options, kind, sheet, is_gzip, encoding, delimiter),
        timezone=options.timezone,
        date_only=options.date_only,
        day_order=built.day_order,
        local_times=built.local_times,
    )


def _as_read(
    options: ImportOptions, kind: FileKind, sheet: str | None, is_gzip: bool, encoding: str, delimiter: str
) -> dict[str, Any]:
    """The fields of an :class:`ImportResult` saying how the file was read, and which the options decided."""
    return {
        "encoding": encoding,
        "delimiter": delimiter,
        "encoding_detected": options.encoding is None,
        "delimiter_detected": options.delimiter is None,
        "gzip": is_gzip,
        "kind": kind.kind,
        "sheet": sheet,
    }


def _notes(options: ImportOptions, built: BuildResult, **facts: Any) -> tuple[str, ...]:
    """:func:`analytics.ingest.notes.reading_notes` of the file's ``facts``, what the store's build
    found (day order, times without an offset, events) and what ``options`` chose."""
    found = {"day_order": built.day_order, "local_times": built.local_times, "events": built.events}
    chosen = {"timezone": options.timezone, "date_only": options.date_only, "where": options.where}
    detected = {"encoding_detected": options.encoding is None, "delimiter_detected": options.delimiter is None}
    return reading_notes(sheet_chosen=options.sheet is not None, **detected, **chosen, **found, **facts)
