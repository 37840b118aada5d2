"""The streaming pass over a CSV file: split records, check each, filter, and stage the good rows.

:func:`scan_csv` (Python, streaming; the file is never held in memory) decodes the text
(:mod:`analytics.ingest.sniff`), splits records (RFC 4180 quoting: a quoted value may hold
delimiters, doubled quotes and line breaks), checks every record has as many values as the
header, applies the row filter, and writes the kept columns of good records, with their
``file_row`` (1-based data-row number: the header and blank lines are not rows) and ``file_line``
(1-based physical line), to a staging Parquet file. Blocks without quotes (or with only
well-formed quotes) are parsed by Arrow; anything else goes through an exact per-record path.
"""

from __future__ import annotations

import codecs
import csv
import io
import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analytics.formats import Source
from analytics.ingest.rejects import Reject, shown_value
from analytics.ingest.sniff import (
    DELIMITER_NAMES,
    SAMPLE_BYTES,
    column_not_found,
    detect_delimiter,
    detect_encoding,
    distinct_names,
    encoding_label,
    normalise_delimiter,
    normalise_encoding,
    open_binary,
    read_bytes,
    text_blocks,
)
from analytics.schema import FILE_ROW
from core.errors import BadInputError

Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening): the import's progress report
MAX_RECORD_LINES = 5_000  # a quoted value spanning more lines is taken as a quote never closed
MAX_RECORD_CHARS = 4 << 20
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


@contextmanager
def system_memory_pool() -> Iterator[None]:
    """Arrow allocations from the system allocator while importing.

    Arrow's default pool (mimalloc or jemalloc) keeps freed memory for reuse; across a
    multi-gigabyte import that retained memory alone would push the process past its budget.
    """
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
        previous.release_unused()


def _check_header(fields: list[str], line: int) -> list[str]:
    """The header's column names, trimmed and made distinct; a name with unreadable bytes is refused."""
    names = []
    for i, name in enumerate(fields):
        name = name.strip().lstrip("\ufeff").strip()
        if _BAD_CHAR.search(name):
            raise Reject(
                0,
                line,
                f"column {i + 1}",
                shown_value(name),
                "The header row has bytes or characters that cannot be read",
                "a header in the file's encoding",
            ).error()
        names.append(name)
    return distinct_names(names)


# --------------------------------------------------------------------------- records


@dataclass
class ScanResult:
    """What the streaming pass saw."""

    headers: list[str]
    encoding: str
    delimiter: str
    rows_read: int = 0
    rows_kept: int = 0
    rejects: list[Reject] = field(default_factory=list)
    frame: pd.DataFrame | None = None  # preview mode: the kept rows as text
    complete: bool = True  # False when a preview stopped early
    where_values: dict[str, list[str]] = field(default_factory=dict)  # a few values seen per filter column
    where_matched: frozenset[str] = frozenset()  # the filter columns whose value some row had


class _Stop(Exception):
    pass


def staging_key(headers: list[str], column: str) -> str:
    """Name of a source column in the staging file (``c<index>``: headers may be any text)."""
    return f"c{headers.index(column)}"


class _Scanner:
    """Turns text blocks into validated records, batch by batch (see :func:`scan_csv`)."""

    def __init__(
        self,
        encoding: str,
        delimiter: str,
        *,
        where: tuple[tuple[str, str], ...],
        allow_bad_rows: bool,
        require: list[str] | None = None,
        max_rows: int | None,
        sink: Callable[[pa.Table], None],
    ) -> None:
        self.encoding, self.d = encoding, delimiter
        self.where = where
        self.require = require or []
        self.allow, self.max_rows, self.sink = allow_bad_rows, max_rows, sink
        self.headers: list[str] | None = None
        self.line = 0  # physical lines consumed
        self.row = 0  # data rows seen (records after the header)
        self.kept = 0
        self.rejects: list[Reject] = []
        self.pending: list[str] = []
        self.pending_quotes = 0
        self.pending_line = 0
        self.where_values: dict[str, set[str]] = {}
        self.where_matched: set[str] = set()
        # RE2 pattern of a one-line record whose values are unquoted or wholly, correctly quoted.
        d = f"\\x{{{ord(delimiter):x}}}"
        field = f'(?:"[^"\n]*(?:""[^"\n]*)*"|[^{d}"\n]*)'
        self.quoted_record = f"^{field}(?:{d}{field})*$"

    # -- header and columns
    def _set_header(self, fields: list[str], line: int) -> None:
        self.headers = _check_header(fields, line)
        self.ncols = len(self.headers)
        missing = [c for c in [*self.require, *(c for c, _ in self.where)] if c not in self.headers]
        if missing:
            hint = ""
            if self.ncols == 1:
                hint = f" The file has a single column: is the delimiter ({DELIMITER_NAMES.get(self.d, self.d)}) right?"
            raise column_not_found(missing[0], self.headers, hint)
        self.read_idx = list(range(self.ncols))  # every column is staged
        self.keys = [staging_key(self.headers, c) for c in self.headers]
        self.where_keys = [(staging_key(self.headers, c), v) for c, v in self.where]

    # -- problems
    def _reject(self, rj: Reject) -> None:
        if not self.allow:
            raise rj.error()
        self.rejects.append(rj)

    def _check_text(self, text: str, row: int, line: int) -> bool:
        """False (and a reject) when the record holds undecodable bytes or NUL characters."""
        m = _BAD_CHAR.search(text)
        if not m:
            return True
        col = ""
        if self.headers:
            idx = text[: m.start()].count(self.d)
            col = self.headers[idx] if idx < len(self.headers) else ""
        fields = text.split(self.d)
        value = next((f for f in fields if _BAD_CHAR.search(f)), text)
        if m.group() == "\x00":
            reason, expected = "NUL character in the row", "text without NUL bytes (is the file binary?)"
        else:
            label = encoding_label(self.encoding)
            reason = f"Bytes that are not valid {label}"
            expected = f"text in {label}: choose the file's encoding (cp1252 for Western European Excel files)"
        self._reject(Reject(row, line, col, shown_value(value), reason, expected))
        return False

    # -- blocks
    def feed(self, block: str, dirty: bool = False) -> None:
        """Process a block of complete lines (``dirty``: it holds undecodable bytes)."""
        if self.headers is None and not self.pending:
            lines = block.split("\n")
            quotes, end = 0, -1
            for j, ln in enumerate(lines):
                if quotes == 0 and not ln.strip():
                    continue
                quotes += ln.count('"')
                if quotes % 2 == 0:
                    end = j
                    break
            if end < 0 or end == len(lines) - 1:
                self._slow(lines[:-1] if lines[-1] == "" else lines)
                return
            self._slow(lines[: end + 1])
            block = "\n".join(lines[end + 1 :])
            if not block:
                return
        if self.pending or dirty or "\x00" in block or "\n\n" in block or block.startswith("\n"):
            self._slow_block(block)
        elif '"' not in block:
            self._fast(block)
        elif self._simply_quoted(block):
            self._fast(block, quoted=True)
        else:
            self._slow_block(block)

    def _slow_block(self, block: str) -> None:
        lines = block.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self._slow(lines)

    def _simply_quoted(self, block: str) -> bool:
        """True when every line of ``block`` is one whole record whose quotes are all well formed:
        each value is either unquoted (no quote in it) or wholly quoted (quotes inside doubled),
        with the delimiter or the line end right after a closing quote. Such a block reads the same
        in Arrow's quoted parser as in the exact per-record path, one record per line; anything
        else (a line break inside quotes, text after a closing quote...) takes the exact path.
        Checked by RE2 over the block's lines (linear time, in C++)."""
        lines = pc.list_flatten(pc.split_pattern(pa.array([block.removesuffix("\n")]), "\n"))
        return bool(pc.all(pc.match_substring_regex(lines, self.quoted_record)).as_py())

    def finish(self) -> None:
        while self.pending:
            self._reject_unclosed()
        if self.headers is None:
            raise BadInputError("The file is empty", expected="a header row and at least one event")

    def _fast(self, block: str, *, quoted: bool = False) -> None:
        """A block without NUL or bad bytes, one record per line, parsed by Arrow: without quotes,
        or (``quoted``) with quotes all well formed (:meth:`_simply_quoted`).

        Any line Arrow finds irregular (wrong number of values, blank) sends the whole block
        through the exact per-line path, which numbers rows and reports problems.
        """
        n = block.count("\n") + (0 if block.endswith("\n") else 1)
        irregular: list[object] = []

        def note(row: object) -> str:
            irregular.append(row)
            return "skip"

        table = pacsv.read_csv(
            io.BytesIO(block.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(self.ncols)], block_size=1 << 26),
            parse_options=pacsv.ParseOptions(
                delimiter=self.d,
                quote_char='"' if quoted else False,
                double_quote=True,
                newlines_in_values=False,
                escape_char=False,
                ignore_empty_lines=False,
                invalid_row_handler=note,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in self.read_idx},
                include_columns=[f"c{i}" for i in self.read_idx],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if irregular or table.num_rows != n:
            lines = block.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            self._slow(lines)
            return
        rows = np.arange(self.row + 1, self.row + n + 1, dtype=np.int64)
        line_nos = np.arange(self.line + 1, self.line + n + 1, dtype=np.int64)
        self.row += n
        self.line += n
        self._emit(rows, line_nos, [table.column(f"c{i}") for i in self.read_idx])

    def _ragged(self, row: int, line: int, text: str, found: int) -> Reject:
        return Reject(
            row,
            line,
            "",
            shown_value(text),
            f"The row has {found} values but the header has {self.ncols} columns",
            f"{self.ncols} values separated by {DELIMITER_NAMES.get(self.d, repr(self.d))}s",
        )

    def _slow(self, lines: list[str]) -> None:
        """Records that may be quoted: group lines into records by quote parity, parse each."""
        records: list[tuple[str, int, int]] = []  # text, row, line
        for ln in lines:
            self.line += 1
            if not self.pending:
                q = ln.count('"')
                if q % 2 == 0:
                    if ln.strip():
                        if self.headers is None:
                            records.append((ln, 0, self.line))
                        else:
                            self.row += 1
                            records.append((ln, self.row, self.line))
                    if self.headers is None and records:
                        self._parse(records)
                        records = []
                    continue
                self.pending, self.pending_quotes, self.pending_line = [ln], q, self.line
            else:
                self.pending.append(ln)
                self.pending_quotes += ln.count('"')
            if self.pending_quotes % 2 == 0:
                text = "\n".join(self.pending)
                if self.headers is None:
                    records.append((text, 0, self.pending_line))
                    self.pending = []
                    self._parse(records)
                    records = []
                    continue
                self.row += 1
                records.append((text, self.row, self.pending_line))
                self.pending = []
            elif len(self.pending) > MAX_RECORD_LINES or sum(map(len, self.pending)) > MAX_RECORD_CHARS:
                self._parse(records)
                records = []
                self._reject_unclosed()
        self._parse(records)

    def _reject_unclosed(self) -> None:
        """Reject the pending record, whose quote is never closed, where it opened; read on from its next line."""
        lines, start_line = self.pending, self.pending_line
        self.pending, self.pending_quotes = [], 0
        if self.headers is None:
            raise BadInputError(
                "A quoted value in the header row is never closed",
                expected='a closing " (quotes inside a value doubled as "")',
            )
        self.row += 1
        self.line = start_line
        self._reject(
            Reject(
                self.row,
                start_line,
                "",
                shown_value(lines[0]),
                "A quoted value is never closed",
                'a closing " (quotes inside a value doubled as "")',
            )
        )
        self._slow(lines[1:])

    def _parse(self, records: list[tuple[str, int, int]]) -> None:
        if not records:
            return
        reader = csv.reader((r[0] for r in records), delimiter=self.d, quotechar='"', doublequote=True, strict=True)
        parsed: list[list[str]] = []
        rows: list[int] = []
        lines: list[int] = []
        for text, row, line in records:
            try:
                fields = next(reader)
            except csv.Error as exc:
                if self.headers is None:
                    raise BadInputError(
                        f"The header row cannot be read as CSV ({exc})", value=shown_value(text)
                    ) from exc
                msg = str(exc)
                if "expected after" in msg:
                    reason, expected = (
                        "Text follows a closing quote",
                        'the delimiter or the end of the row after a closing "',
                    )
                else:
                    reason, expected = "A quote is not balanced", 'quoted values with their quotes doubled inside ("")'
                self._reject(Reject(row, line, "", shown_value(text), reason, expected))
                continue
            if self.headers is None:
                self._set_header(fields, line)
                continue
            if _BAD_CHAR.search(text) and not self._check_text(text, row, line):
                continue
            if len(fields) != self.ncols:
                self._reject(self._ragged(row, line, text, len(fields)))
                continue
            parsed.append(fields)
            rows.append(row)
            lines.append(line)
        if not parsed:
            return
        columns = [pa.array([f[i] for f in parsed], type=pa.string()) for i in self.read_idx]
        self._emit(np.asarray(rows, dtype=np.int64), np.asarray(lines, dtype=np.int64), columns)

    def _emit(self, rows: np.ndarray, lines: np.ndarray, columns: list[Any]) -> None:
        # Values are trimmed of whitespace (spaces, tabs, no-break spaces) here, once.
        columns = [pc.utf8_trim_whitespace(c) for c in columns]
        table = pa.table(
            {FILE_ROW: pa.array(rows), "file_line": pa.array(lines), **dict(zip(self.keys, columns, strict=True))}
        )
        if self.where:
            mask = None
            for (key, value), (col, _) in zip(self.where_keys, self.where, strict=True):
                values = table.column(key)
                seen = self.where_values.setdefault(col, set())
                if len(seen) < 12:
                    seen.update(pc.unique(values).to_pylist()[:12])
                cond = pc.equal(values, value.strip())
                if col not in self.where_matched and pc.any(cond).as_py():
                    self.where_matched.add(col)
                mask = cond if mask is None else pc.and_(mask, cond)
            table = table.filter(mask)
        if self.max_rows is not None and self.kept + table.num_rows >= self.max_rows:
            table = table.slice(0, self.max_rows - self.kept)
            self.kept += table.num_rows
            self.sink(table.select([FILE_ROW, "file_line", *self.keys]))
            raise _Stop
        self.kept += table.num_rows
        if table.num_rows:
            self.sink(table.select([FILE_ROW, "file_line", *self.keys]))


class _StagingWriter:
    """Writes staged batches to Parquet on a thread of its own, so parsing and writing overlap.

    The queue is short: a slow disk holds the reader back instead of filling memory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=4)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.written = False

    def put(self, table: pa.Table) -> None:
        self.raise_error()
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, args=(table.schema,), daemon=True, name="staging-writer")
            self.thread.start()
        self.queue.put(table)

    def _run(self, schema: pa.Schema) -> None:
        writer = None
        try:
            writer = pq.ParquetWriter(
                str(self.path), schema, compression="lz4", use_dictionary=False, write_statistics=False
            )
            while (table := self.queue.get()) is not None:
                writer.write_table(table)
                self.written = True
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self.error = exc
            while self.queue.get() is not None:  # keep draining so the reader never blocks
                pass
        finally:
            if writer is not None:
                writer.close()

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def scan_csv(
    source: Source,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    where: tuple[tuple[str, str], ...] = (),
    allow_bad_rows: bool = False,
    require: list[str] | None = None,
    staging_path: Path | None = None,
    max_rows: int | None = None,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Stream ``source`` once: validate every record and keep every column of good rows.

    With ``staging_path``, good rows go to that Parquet file (``file_row``, ``file_line`` and the
    columns as text, named by :func:`staging_key`); otherwise (preview) up to ``max_rows`` of them come back as
    ``ScanResult.frame``, reading at most ``max_bytes``. ``where`` keeps rows whose (trimmed)
    value in a column equals the given text; ``require`` names columns the header must have (the
    mapped ones). ``encoding``/``delimiter`` None: detected.
    Raises :class:`BadInputError` on the first problem unless ``allow_bad_rows``.
    """
    with system_memory_pool(), open_binary(source) as (stream, fraction, _):
        sample = read_bytes(stream, SAMPLE_BYTES)
        if not sample.strip():
            raise BadInputError("The file is empty", expected="a header row and at least one event")
        enc = normalise_encoding(encoding) if encoding else detect_encoding(sample)
        if not enc.startswith(("utf-16", "utf-32")):
            nuls = sample.count(0)
            if nuls >= 8 and nuls >= len(sample) / 100:
                raise BadInputError(
                    "The file holds NUL bytes: it is binary, or UTF-16 text read with another encoding",
                    expected="a CSV text file (choose UTF-16 if it is one)",
                )
        head_text = codecs.getincrementaldecoder(enc)("journeylens-mark").decode(sample[:65536], final=False)
        delim = normalise_delimiter(delimiter) if delimiter else detect_delimiter(head_text.replace("\r", "\n"))

        writer = _StagingWriter(staging_path) if staging_path is not None else None
        tables: list[pa.Table] = []

        def sink(table: pa.Table) -> None:
            if writer is None:
                tables.append(table)
            else:
                writer.put(table)

        scanner = _Scanner(
            enc, delim, where=where, allow_bad_rows=allow_bad_rows, require=require, max_rows=max_rows, sink=sink
        )
        complete = True
        consumed = 0
        try:
            for block, dirty in text_blocks(stream, enc, first=sample):
                scanner.feed(block, dirty)
                consumed += len(block)
                if progress:
                    progress(fraction(), f"Reading rows… {scanner.row:,} so far")
                if max_bytes is not None and consumed >= max_bytes:
                    complete = False
                    break
            else:
                scanner.finish()
        except _Stop:
            complete = False
        finally:
            if writer is not None:
                writer.close()
        if writer is not None:
            writer.raise_error()
        if scanner.headers is None:
            raise BadInputError("The file is empty", expected="a header row and at least one event")
        result = ScanResult(
            headers=scanner.headers,
            encoding=enc,
            delimiter=delim,
            rows_read=scanner.row,
            rows_kept=scanner.kept,
            rejects=scanner.rejects,
            complete=complete,
            where_values={k: sorted(v)[:12] for k, v in scanner.where_values.items()},
            where_matched=frozenset(scanner.where_matched),
        )
        names = [FILE_ROW, "file_line", *scanner.headers]
        if staging_path is None:
            if tables:
                frame = pa.concat_tables(tables).to_pandas()
                frame.columns = names
            else:
                frame = pd.DataFrame({n: pd.Series(dtype="object") for n in names})
            result.frame = frame
        elif writer is not None and not writer.written:
            # No good row: still leave an (empty) staging file with the right columns.
            empty = pa.table(
                {
                    FILE_ROW: pa.array([], pa.int64()),
                    "file_line": pa.array([], pa.int64()),
                    **{k: pa.array([], pa.string()) for k in scanner.keys},
                }
            )
            pq.write_table(empty, str(staging_path))
        return result
