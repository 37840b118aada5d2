"""Read event-log CSV files: detect the dialect, parse in a stream, validate, and write the stored layout.

Two passes, neither of which holds the file in memory:

1. :func:`scan_csv` (Python, streaming): decompresses gzip, decodes the bytes (UTF-8 with or
   without BOM, UTF-16, cp1252, cp1258, cp874 ...), normalises text to NFC, splits records
   (RFC 4180 quoting: a quoted value may hold delimiters, doubled quotes and line breaks), checks
   every record has as many values as the header, applies the row filter, and writes the kept
   columns of good records, with their ``file_row`` (1-based data-row number: the header and
   blank lines are not rows) and ``file_line`` (1-based physical line), to a staging Parquet file.
2. :func:`build_event_store` (DuckDB, through :func:`analytics.engine.scratch_connection`):
   parses timestamps and numbers, rejects bad values, counts rows identical in every column of
   the file (dropped only when asked), computes the
   integer codes and the order (timestamp, then file row) once, and writes the stored layout of
   :mod:`analytics.schema` as Parquet.

Every problem is a :class:`Reject` naming the row, the line, the column, the value and what was
expected; without ``allow_bad_rows`` the first one is raised as :class:`BadInputError`.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import queue
import re
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analytics.engine import scratch_connection
from analytics.formats import refuse_not_a_table
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
    Role,
    segment_column,
)
from core.errors import BadInputError

Source = Path | str | bytes
Progress = Callable[[float, str], None]

READ_BYTES = 4 << 20  # raw bytes per block
SAMPLE_BYTES = 1 << 20  # bytes looked at to detect the encoding and the delimiter
MAX_RECORD_LINES = 5_000  # a quoted value spanning more lines is taken as a quote never closed
MAX_RECORD_CHARS = 4 << 20
SHOWN_VALUE_CHARS = 200
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "cp1258", "cp874", "latin-1")
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (with BOM)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252 (Western European)",
    "cp1258": "Windows-1258 (Vietnamese)",
    "cp874": "Windows-874 (Thai)",
    "latin-1": "ISO-8859-1 (Latin-1)",
}
REJECT_COLUMNS = ["row", "line", "column", "value", "reason"]

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_BAD_BYTES = re.compile("[\udc00-\udcff]+")


_decode_errors = threading.local()


def _mark_bad_bytes(err: UnicodeDecodeError) -> tuple[str, int]:
    """Decode error handler: keep each undecodable byte as a lone surrogate (U+DC00 + byte)."""
    _decode_errors.count = getattr(_decode_errors, "count", 0) + 1
    raw = err.object[err.start : err.end]
    return "".join(chr(0xDC00 + b) for b in raw), err.end


codecs.register_error("journeylens-mark", _mark_bad_bytes)


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


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Reject:
    """A row that cannot be imported and why (``row``: data-row number; 0 for the header)."""

    row: int
    line: int
    column: str
    value: str
    reason: str
    expected: str = ""

    def error(self, more: int = 0) -> BadInputError:
        where = f" at line {self.line} of the file" if self.line else ""
        err = BadInputError(
            f"{self.reason}{where}",
            row=self.row if self.row > 0 else None,
            column=self.column or None,
            value=self.value if self.value != "" or self.column else None,
            expected=self.expected or None,
        )
        if more > 0:
            err.args = (f"{err.args[0]}. {more:,} more row{'s' if more > 1 else ''} of this file have problems too.",)
        return err


def rejects_frame(rejects: list[Reject]) -> pd.DataFrame:
    """The downloadable report: one row per problem, columns ``row, line, column, value, reason``."""
    frame = pd.DataFrame(
        [(r.row, r.line, r.column, r.value, r.reason) for r in rejects],
        columns=REJECT_COLUMNS,
    )
    frame["row"] = frame["row"].astype("int64")
    frame["line"] = frame["line"].astype("int64")
    return frame.sort_values("row", kind="stable").reset_index(drop=True)


def _shown(text: str) -> str:
    """A value as the report shows it: bad bytes as \\xNN, NUL as \\x00, cut at 200 characters."""
    text = _BAD_BYTES.sub(lambda m: "".join(f"\\x{ord(c) - 0xDC00:02X}" for c in m.group()), text)
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


# --------------------------------------------------------------------------- opening a source


@contextmanager
def open_binary(source: Source) -> Iterator[tuple[IO[bytes], Callable[[], float], bool]]:
    """Open ``source`` (a path or the file's bytes) as a binary stream, gunzipped when gzip.

    Yields ``(stream, fraction_read, is_gzip)``; ``fraction_read()`` reports progress on the raw
    (compressed) bytes.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        raw: IO[bytes] = io.BytesIO(bytes(source))
        total = len(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise BadInputError("File not found", value=str(path), expected="the path of a CSV file")
        raw = open(path, "rb")  # noqa: SIM115
        total = path.stat().st_size
    try:
        magic = raw.read(16)
        raw.seek(0)
        refuse_not_a_table(magic)
        if magic[:4] in (b"PK\x03\x04", b"PAR1"):
            # Workbooks and Parquet files are read through analytics.formats.table_as_csv.
            raise BadInputError(
                "This is a ZIP archive, an Excel workbook or a Parquet file, not CSV text",
                expected="a CSV file, or the file imported as .xlsx or Parquet (the import does that by itself)",
            )
        is_gzip = magic[:2] == b"\x1f\x8b"
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw

        def fraction() -> float:
            return min(raw.tell() / total, 1.0) if total else 1.0

        yield stream, fraction, is_gzip
    finally:
        raw.close()


def _read(stream: IO[bytes], size: int) -> bytes:
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadInputError(
            "The gzip file is damaged or cut short", value=str(exc), expected="a complete .csv.gz file"
        ) from exc


def read_sample(source: Source, size: int = SAMPLE_BYTES) -> tuple[bytes, bool]:
    """The first ``size`` bytes of the (decompressed) file, and whether it was gzip."""
    with open_binary(source) as (stream, _, is_gzip):
        return _read(stream, size), is_gzip


# --------------------------------------------------------------------------- encoding


def normalise_encoding(name: str) -> str:
    """Python's canonical name for an encoding; BadInputError for an unknown one."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError as exc:
        raise BadInputError("Unknown encoding", value=name, expected="one of " + ", ".join(ENCODING_LABELS)) from exc


def encoding_label(name: str) -> str:
    return ENCODING_LABELS.get(name, name)


_VIET_COMBINING = frozenset(b"\xcc\xd2\xde\xec\xf2")  # grave, hook, tilde, acute, dot below in cp1258
_VOWELS = frozenset(b"aeiouyAEIOUY\xe2\xea\xf4\xe3\xf5\xfd\xc2\xca\xd4\xc3\xd5\xdd")
_LETTERS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
        return True
    except UnicodeDecodeError:
        return False


def detect_encoding(sample: bytes) -> str:
    """Guess the encoding of a file from its first bytes.

    BOMs first (UTF-8, UTF-16, UTF-32); then UTF-16 without BOM (NUL bytes on every other
    position); then UTF-8 if the sample decodes. Otherwise a legacy Windows code page: cp874 when
    non-ASCII bytes come in long runs (Thai words), cp1258 when Vietnamese combining tone marks
    follow vowels or đ starts words, else cp1252.
    """
    if sample.startswith(codecs.BOM_UTF32_LE) or sample.startswith(codecs.BOM_UTF32_BE):
        return "utf-32"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(codecs.BOM_UTF16_LE) or sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    head = sample[:4096]
    if len(head) >= 4:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.4 * len(head) / 2 and even < odd / 10:
            return "utf-16-le"
        if even > 0.4 * len(head) / 2 and odd < even / 10:
            return "utf-16-be"
    if _decodes(sample, "utf-8"):
        return "utf-8"
    candidates = [e for e in ("cp874", "cp1258", "cp1252") if _decodes(sample, e)]
    if not candidates:
        return "latin-1"
    arr = np.frombuffer(sample, dtype=np.uint8)
    high = arr >= 0x80
    n_high = int(high.sum())
    starts = int((high[1:] & ~high[:-1]).sum() + high[0]) if n_high else 0
    mean_run = n_high / starts if starts else 0.0
    if "cp874" in candidates and mean_run >= 2.5:
        return "cp874"
    if "cp1258" in candidates:
        evidence = 0
        for i in np.flatnonzero(high):
            b = sample[i]
            prev = sample[i - 1] if i else 0x20
            tone_after_vowel = b in _VIET_COMBINING and prev in _VOWELS
            d_starting_word = b in (0xD0, 0xF0) and prev not in _LETTERS and prev < 0x80
            evidence += tone_after_vowel or d_starting_word
        if evidence >= 2 and evidence >= 0.05 * n_high:
            return "cp1258"
    return "cp1252" if "cp1252" in candidates else candidates[0]


# --------------------------------------------------------------------------- text blocks


def _text_blocks(stream: IO[bytes], encoding: str, first: bytes = b"") -> Iterator[tuple[str, bool]]:
    """Decoded NFC text in blocks that end at a line break (the last block may not), each with
    whether the decoder met undecodable bytes in it.

    Undecodable bytes become lone surrogates (found later, with their line). ``\\r\\n`` and lone
    ``\\r`` line ends become ``\\n``. A BOM at the start is dropped.
    """
    decoder = codecs.getincrementaldecoder(encoding)("journeylens-mark")
    carry = ""
    started = False
    dirty = False
    data = first
    while True:
        data = data or _read(stream, READ_BYTES)
        final = not data
        errors_before = getattr(_decode_errors, "count", 0)
        text = carry + decoder.decode(data, final=final)
        dirty = dirty or getattr(_decode_errors, "count", 0) != errors_before
        data = b""
        if not started and text:
            started = True
            text = text.removeprefix("\ufeff")
        if not final and text.endswith("\r"):
            text, carry = text[:-1], "\r"  # keep a \r\n pair together
        else:
            carry = ""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if final:
            if text:
                yield (text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)), dirty
            return
        cut = text.rfind("\n")
        if cut < 0:
            carry = text + carry
            continue
        block, carry = text[: cut + 1], text[cut + 1 :] + carry
        yield (block if unicodedata.is_normalized("NFC", block) else unicodedata.normalize("NFC", block)), dirty
        dirty = bool(_BAD_BYTES.search(carry)) if carry else False


# --------------------------------------------------------------------------- delimiter and header


def detect_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon, tab or pipe) that splits the first records most consistently."""
    lines = [ln for ln in text.split("\n")[:60] if ln.strip()]
    if text and not text.endswith("\n") and len(lines) > 1:
        lines = lines[:-1]
    best, best_score = ",", (-1.0, 0)
    for d in DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=d))
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        agree = sum(len(r) == width for r in rows) / len(rows)
        score = (agree, width)
        if score > best_score:
            best, best_score = d, score
    return best


def normalise_delimiter(value: str) -> str:
    named = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
    d = named.get(value.strip().lower(), value) if value.strip() else value
    if len(d) != 1 or d in ('"', "\n", "\r"):
        raise BadInputError("Unusable delimiter", value=value, expected="one character: , ; tab or |")
    return d


def distinct_names(names: list[str]) -> list[str]:
    """Column names made distinct, in order: an empty name becomes ``column N`` (its 1-based
    position); a name met again becomes ``name (2)``, ``name (3)`` ... (skipping any such name the
    header already has), so every column is kept and each is named as the page and the CLI show it."""
    named = [name or f"column {i + 1}" for i, name in enumerate(names)]
    taken = set(named)
    seen: set[str] = set()
    out = []
    for name in named:
        if name in seen:
            k = 2
            while f"{name} ({k})" in taken:
                k += 1
            name = f"{name} ({k})"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def column_not_found(name: str, headers: list[str], hint: str = "") -> BadInputError:
    """The error for a mapped column the header lacks, naming the nearest real column (a repeated
    name is shown as ``name (2)``)."""
    import difflib

    near = difflib.get_close_matches(name, headers, n=1, cutoff=0.6)
    nearest = f" The nearest column is {near[0]!r}." if near else ""
    return BadInputError(
        f"Column not found in the file's header.{nearest}{hint}",
        column=name,
        expected="one of the columns " + ", ".join(repr(h) for h in headers[:30]),
    )


def _check_header(fields: list[str], line: int) -> list[str]:
    names = []
    for i, name in enumerate(fields):
        name = name.strip().lstrip("\ufeff").strip()
        if _BAD_CHAR.search(name):
            raise Reject(
                0,
                line,
                f"column {i + 1}",
                _shown(name),
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


class _Stop(Exception):
    pass


def staging_key(headers: list[str], column: str) -> str:
    """Name of a source column in the staging file (``c<index>``: headers may be any text)."""
    return f"c{headers.index(column)}"


class _Scanner:
    """Turns text blocks into validated records, batch by batch (see :func:`scan_csv`)."""

    def __init__(
        self,
        *,
        encoding: str,
        delimiter: str,
        keep: list[str] | None,
        where: tuple[tuple[str, str], ...],
        allow_bad_rows: bool,
        require: list[str] | None = None,
        max_rows: int | None,
        sink: Callable[[pa.Table], None],
    ) -> None:
        self.encoding, self.d = encoding, delimiter
        self.keep_names, self.where = keep, where
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
        self.csv_opts = {"delimiter": delimiter, "quotechar": '"', "doublequote": True, "strict": True}
        # RE2 pattern of a one-line record whose values are unquoted or wholly, correctly quoted.
        d = f"\\x{{{ord(delimiter):x}}}"
        field = f'(?:"[^"\n]*(?:""[^"\n]*)*"|[^{d}"\n]*)'
        self.quoted_record = f"^{field}(?:{d}{field})*$"

    # -- header and columns
    def _set_header(self, fields: list[str], line: int) -> None:
        self.headers = _check_header(fields, line)
        self.ncols = len(self.headers)
        wanted = list(dict.fromkeys([*(self.keep_names or self.headers), *(c for c, _ in self.where)]))
        missing = [c for c in [*self.require, *wanted] if c not in self.headers]
        if missing:
            hint = ""
            if self.ncols == 1:
                hint = f" The file has a single column: is the delimiter ({DELIMITER_NAMES.get(self.d, self.d)}) right?"
            raise column_not_found(missing[0], self.headers, hint)
        self.read_idx = [self.headers.index(c) for c in wanted]
        self.read_keys = [staging_key(self.headers, c) for c in wanted]
        self.out_keys = [staging_key(self.headers, c) for c in (self.keep_names or self.headers)]
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
            self._reject(
                Reject(
                    row,
                    line,
                    col,
                    _shown(value),
                    "NUL character in the row",
                    "text without NUL bytes (is the file binary?)",
                )
            )
        else:
            label = encoding_label(self.encoding)
            self._reject(
                Reject(
                    row,
                    line,
                    col,
                    _shown(value),
                    f"Bytes that are not valid {label}",
                    f"text in {label}: choose the file's encoding (cp1252 for Western European Excel files)",
                )
            )
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
            # A quote never closed: reject the record where it opened, read on from its next line.
            lines, start_line, start_row = self.pending, self.pending_line, self.row + 1
            self.pending, self.pending_quotes = [], 0
            self.row += 1
            if self.headers is None:
                raise BadInputError(
                    "A quoted value in the header row is never closed",
                    expected='a closing " (quotes inside a value doubled as "")',
                )
            self._reject(
                Reject(
                    start_row,
                    start_line,
                    "",
                    _shown(lines[0]),
                    "A quoted value is never closed",
                    'a closing " (quotes inside a value doubled as "")',
                )
            )
            self.line = start_line
            self._slow(lines[1:])
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
            _shown(text),
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
                rest = self.pending
                self.line = self.pending_line - 1
                self.finish_one(rest)
        self._parse(records)

    def finish_one(self, lines: list[str]) -> None:
        """Reject the record of a quote never closed and re-read the lines after it."""
        start_line = self.line + 1
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
                _shown(lines[0]),
                "A quoted value is never closed",
                'a closing " (quotes inside a value doubled as "")',
            )
        )
        self._slow(lines[1:])

    def _parse(self, records: list[tuple[str, int, int]]) -> None:
        if not records:
            return
        reader = csv.reader((r[0] for r in records), **self.csv_opts)
        parsed: list[list[str]] = []
        rows: list[int] = []
        lines: list[int] = []
        for text, row, line in records:
            try:
                fields = next(reader)
            except csv.Error as exc:
                if self.headers is None:
                    raise BadInputError(f"The header row cannot be read as CSV ({exc})", value=_shown(text)) from exc
                msg = str(exc)
                if "expected after" in msg:
                    reason, expected = (
                        "Text follows a closing quote",
                        'the delimiter or the end of the row after a closing "',
                    )
                else:
                    reason, expected = "A quote is not balanced", 'quoted values with their quotes doubled inside ("")'
                self._reject(Reject(row, line, "", _shown(text), reason, expected))
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
            {FILE_ROW: pa.array(rows), "file_line": pa.array(lines), **dict(zip(self.read_keys, columns, strict=True))}
        )
        if self.where:
            mask = None
            for (key, value), (col, _) in zip(self.where_keys, self.where, strict=True):
                values = table.column(key)
                seen = self.where_values.setdefault(col, set())
                if len(seen) < 12:
                    seen.update(pc.unique(values).to_pylist()[:12])
                cond = pc.equal(values, value.strip())
                mask = cond if mask is None else pc.and_(mask, cond)
            table = table.filter(mask)
        if self.max_rows is not None and self.kept + table.num_rows >= self.max_rows:
            table = table.slice(0, self.max_rows - self.kept)
            self.kept += table.num_rows
            self.sink(table.select([FILE_ROW, "file_line", *self.out_keys]))
            raise _Stop
        self.kept += table.num_rows
        if table.num_rows:
            self.sink(table.select([FILE_ROW, "file_line", *self.out_keys]))


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
    keep: list[str] | None = None,
    where: tuple[tuple[str, str], ...] = (),
    allow_bad_rows: bool = False,
    require: list[str] | None = None,
    staging_path: Path | None = None,
    max_rows: int | None = None,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Stream ``source`` once: validate every record and keep the ``keep`` columns of good rows.

    With ``staging_path``, good rows go to that Parquet file (``file_row``, ``file_line`` and the
    kept columns as text); otherwise (preview) up to ``max_rows`` of them come back as
    ``ScanResult.frame``, reading at most ``max_bytes``. ``where`` keeps rows whose (trimmed)
    value in a column equals the given text; ``require`` names columns the header must have (the
    mapped ones, when every column is kept). ``encoding``/``delimiter`` None: detected.
    Raises :class:`BadInputError` on the first problem unless ``allow_bad_rows``.
    """
    with system_memory_pool(), open_binary(source) as (stream, fraction, _):
        sample = _read(stream, SAMPLE_BYTES)
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
            encoding=enc,
            delimiter=delim,
            keep=keep,
            where=where,
            allow_bad_rows=allow_bad_rows,
            require=require,
            max_rows=max_rows,
            sink=sink,
        )
        complete = True
        consumed = 0
        try:
            for block, dirty in _text_blocks(stream, enc, first=sample):
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
        )
        names = [FILE_ROW, "file_line", *(keep or scanner.headers)]
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
                    **{k: pa.array([], pa.string()) for k in scanner.out_keys},
                }
            )
            pq.write_table(empty, str(staging_path))
        return result


# --------------------------------------------------------------------------- timestamps

# Date first with separators: 25/03/2024, 03-25-24, 25.03.2024 14:30, 3/5/2024 1:05 PM.
DMY_RE = (
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp]\.?[Mm]\.?)?)?$"
)
YMD_SLASH_RE = r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$"
ISO_PREFIX = r"^\d{4}-\d{1,2}-\d{1,2}"
TEXT_FORMATS = (
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y %H:%M:%S",
    "%d %B %Y %H:%M",
    "%d %B %Y",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y %H:%M:%S",
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y",
    "%a, %d %b %Y %H:%M:%S",
    "%a %b %d %H:%M:%S %Y",
)
TIMESTAMP_EXPECTED = (
    "a date and time such as 2024-03-25T14:30:00+01:00 (ISO 8601), 2024-03-25 14:30, {dmy} or 25 Mar 2024 14:30"
)
_PY_DMY = re.compile(DMY_RE)


@dataclass(frozen=True)
class DayOrder:
    """How dates like 03/04/2024 are read: ``dayfirst``, whether the data showed it, and why."""

    dayfirst: bool
    detected: bool
    note: str


def decide_day_order(
    *,
    first_over_12: int,
    second_over_12: int,
    example_first: str | None,
    example_second: str | None,
    dayfirst: bool | None,
    delimiter: str,
    slashed: int,
) -> DayOrder:
    """Pick day-first or month-first for slashed dates (see the import's docstring for the rule)."""
    if dayfirst is not None:
        return DayOrder(dayfirst, False, "day-first (as chosen)" if dayfirst else "month-first (as chosen)")
    if not slashed:
        return DayOrder(False, False, "")
    if first_over_12 and (not second_over_12 or first_over_12 >= second_over_12):
        return DayOrder(True, True, f"day-first (detected: {example_first!r} can only be day-first)")
    if second_over_12:
        return DayOrder(False, True, f"month-first (detected: {example_second!r} can only be month-first)")
    guess = delimiter in (";", "\t")
    return DayOrder(
        guess,
        True,
        ("day-first" if guess else "month-first")
        + " (assumed: every date reads both ways, e.g. 03/04; say which if this is wrong)",
    )


def detect_day_order(values: list[str], *, dayfirst: bool | None = None, delimiter: str = ",") -> DayOrder:
    """:func:`decide_day_order` on a list of raw values (the preview's sample)."""
    first = second = slashed = 0
    ex_first = ex_second = None
    for v in values:
        m = _PY_DMY.match(str(v).strip())
        if not m:
            continue
        slashed += 1
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12:
            first += 1
            ex_first = ex_first or v
        if b > 12:
            second += 1
            ex_second = ex_second or v
    return decide_day_order(
        first_over_12=first,
        second_over_12=second,
        example_first=ex_first,
        example_second=ex_second,
        dayfirst=dayfirst,
        delimiter=delimiter,
        slashed=slashed,
    )


def _q(text: str) -> str:
    """SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def timestamp_sql(v: str, *, dayfirst: bool, date_only: bool, iso_only: bool = False) -> str:
    """A DuckDB expression turning text ``v`` into TIMESTAMPTZ (NULL when unreadable).

    Values with an offset (``Z``, ``+01:00``, ``+0100``) are absolute; the others are read in the
    connection's TimeZone (the import sets it to the chosen zone). ``date_only`` keeps the date
    and reads it as midnight. Epoch seconds (10 digits) and milliseconds (13 digits) are UTC.
    The expression expects columns ``_dmy`` and ``_ymd`` (see :func:`date_parts_sql`) unless
    ``iso_only`` (every value starts like 2024-03-25).
    """
    iso = (
        f"coalesce(try_cast({v} AS TIMESTAMPTZ), "
        f"try_cast(regexp_replace({v}, '\\s+(Z|UTC|GMT|[+-]\\d{{2}}(:?\\d{{2}})?)$', '\\1') AS TIMESTAMPTZ))"
    )
    if date_only:
        iso = f"try_cast(try_cast(regexp_extract({v}, '{ISO_PREFIX}') AS DATE) AS TIMESTAMPTZ)"
    if iso_only:
        return iso

    def canonical(s: str, y: str, m: str, d: str) -> str:
        year = (
            f"CASE WHEN length({s}.{y}) = 2 THEN (CASE WHEN try_cast({s}.{y} AS INT) < 69 THEN 2000 ELSE 1900 END)"
            f" + try_cast({s}.{y} AS INT) ELSE try_cast({s}.{y} AS INT) END"
        )
        if date_only:
            return (
                f"try_cast(try_cast(printf('%04d-%02d-%02d', {year}, try_cast({s}.{m} AS INT), "
                f"try_cast({s}.{d} AS INT)) AS DATE) AS TIMESTAMPTZ)"
            )
        hour = f"coalesce(try_cast(nullif({s}.hh, '') AS INT), 0)"
        if s == "_dmy":
            pm = f"upper(left({s}.ap, 1))"
            hour = (
                f"(CASE WHEN {pm} = 'P' AND {hour} < 12 THEN {hour} + 12 "
                f"WHEN {pm} = 'A' AND {hour} = 12 THEN 0 ELSE {hour} END)"
            )
        frac = f"CASE WHEN {s}.fr <> '' THEN '.' || {s}.fr ELSE '' END"
        minute = f"coalesce(try_cast(nullif({s}.mi, '') AS INT), 0)"
        second = f"coalesce(try_cast(nullif({s}.ss, '') AS INT), 0)"
        text = (
            f"printf('%04d-%02d-%02d %02d:%02d:%02d', {year}, try_cast({s}.{m} AS INT), try_cast({s}.{d} AS INT), "
            f"{hour}, {minute}, {second}) || {frac}"
        )
        return f"try_cast({text} AS TIMESTAMPTZ)"

    day, month = ("a", "b") if dayfirst else ("b", "a")
    dmy = canonical("_dmy", "yy", month, day)
    ymd = canonical("_ymd", "yy", "mo", "dd")
    fmts = "[" + ", ".join(_q(f) for f in TEXT_FORMATS) + "]"
    text = f"try_cast(try_strptime({v}, {fmts}) AS TIMESTAMPTZ)"
    epoch_s = f"to_timestamp(try_cast({v} AS DOUBLE))"
    epoch_ms = f"to_timestamp(try_cast({v} AS DOUBLE) / 1000.0)"
    if date_only:
        text, epoch_s, epoch_ms = (f"date_trunc('day', {e})" for e in (text, epoch_s, epoch_ms))
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN regexp_matches({v}, '{ISO_PREFIX}') THEN {iso} "
        f"WHEN _ymd.yy <> '' THEN {ymd} "
        f"WHEN _dmy.a <> '' THEN {dmy} "
        f"WHEN regexp_full_match({v}, '\\d{{10}}(\\.\\d+)?') THEN {epoch_s} "
        f"WHEN regexp_full_match({v}, '\\d{{13}}') THEN {epoch_ms} "
        f"ELSE {text} END"
    )


def date_parts_sql(v: str) -> str:
    """Columns ``_dmy`` and ``_ymd``: the parts of dates like 25/03/2024 and 2024/03/25 (only
    computed for values that do not start like ISO 8601)."""
    not_iso = f"{v} IS NOT NULL AND NOT regexp_matches({v}, '{ISO_PREFIX}')"
    return (
        f"CASE WHEN {not_iso} THEN regexp_extract({v}, {_q(DMY_RE)}, {_DMY_FIELDS!r}) END AS _dmy, "
        f"CASE WHEN {not_iso} THEN regexp_extract({v}, {_q(YMD_SLASH_RE)}, {_YMD_FIELDS!r}) END AS _ymd"
    )


_DMY_FIELDS = ["a", "b", "yy", "hh", "mi", "ss", "fr", "ap"]
_YMD_FIELDS = ["yy", "mo", "dd", "hh", "mi", "ss", "fr"]


# --------------------------------------------------------------------------- numbers and flags

TRUE_WORDS = ("1", "true", "t", "yes", "y", "ja", "oui", "si", "sí", "wahr", "x")
FALSE_WORDS = ("0", "false", "f", "no", "n", "nein", "non", "falsch")
NUMBER_RANGES: dict[Role, tuple[float | None, float | None, str]] = {
    Role.VALUE: (None, None, "a number such as 1234.5 or 1234,5"),
    Role.NPS: (0, 10, "an NPS score from 0 to 10"),
    Role.CSAT: (1, 5, "a CSAT score from 1 to 5"),
    Role.EFFORT: (None, None, "an effort score (a number)"),
}


def number_sql(v: str) -> str:
    """Text to DOUBLE: ``1234.5``, ``-3``, ``1e3``, decimal comma ``1234,5``, grouped ``1,234.5`` or
    ``1.234,5``; NULL when unreadable."""
    return (
        f"coalesce(try_cast({v} AS DOUBLE), "
        f"CASE WHEN regexp_full_match({v}, '[+-]?\\d+,\\d+') THEN try_cast(replace({v}, ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({v}, '[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?') THEN try_cast(replace({v}, ',', '') AS DOUBLE) "
        f"WHEN regexp_full_match({v}, '[+-]?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?') "
        f"THEN try_cast(replace(replace({v}, '.', ''), ',', '.') AS DOUBLE) END)"
    )


def flag_sql(v: str) -> str:
    trues = ", ".join(_q(w) for w in TRUE_WORDS)
    falses = ", ".join(_q(w) for w in FALSE_WORDS)
    return f"CASE WHEN lower({v}) IN ({trues}) THEN TRUE WHEN lower({v}) IN ({falses}) THEN FALSE END"


# --------------------------------------------------------------------------- the DuckDB pass


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


@dataclass
class BuildResult:
    events: int
    journeys: int
    accounts: int
    activities: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    identical_rows: int  # rows identical in every column of the file to an earlier row
    identical_rows_dropped: int  # of those, dropped (only with ``drop_identical_rows``)
    ties: int
    rejects: list[Reject]
    day_order: DayOrder
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
    return datetime.fromtimestamp(0, UTC) + pd.Timedelta(microseconds=int(value)).to_pytimedelta()


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
    from analytics.engine import scratch_connection

    with scratch_connection(temp_directory=str(temp_directory)) as con:
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_q(str(path))})").fetchall()]
        kept = [c for c in columns if c in STORED_COLUMNS or c.startswith(SEGMENT_PREFIX)]
        rows = f"SELECT {', '.join(_ident(c) for c in kept)} FROM read_parquet({_q(str(path))})"
        facts = neighbour_facts_sql(rows, has_stage=has_stage)
        out = ", ".join(_ident(c) for c in (*kept, *NEIGHBOUR_COLUMNS))
        con.execute(
            f"COPY (SELECT {out} FROM ({facts}) ORDER BY {JOURNEY_CODE}, {SEQ}) TO {_q(str(tmp))} "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
        return int(con.execute(f"SELECT count(*) FROM read_parquet({_q(str(tmp))})").fetchone()[0])


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
      Stored in UTC.
    - Numbers: :func:`number_sql`; NPS must lie in 0..10, CSAT in 1..5. FCR: yes/no words or 1/0.
    - A row with any problem is rejected (raised unless ``allow_bad_rows``).
    - Every row is an event. ``identical_rows`` counts the rows whose (trimmed) text equals an
      earlier row's in every column of ``spec.row_keys`` (every column of the file): a hash of
      the whole row finds the candidates, a full compare of every column decides. Rows equal
      only on the mapped columns are different events and are kept. With
      ``drop_identical_rows`` the repeats go, the first in the file stays
      (``identical_rows_dropped``; a repeat of a rejected row is rejected with it).
    - Order within a journey: timestamp, then file row (stable). ``ties``: events whose timestamp
      equals that of the previous event of the same journey.
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
        return f"nullif({_ident(roles[role])}, '')"  # values arrive trimmed (scan_csv)

    with (
        system_memory_pool(),
        scratch_connection(memory_limit=spec.memory_limit, temp_directory=str(temp_directory)) as raw_con,
    ):
        con = _Timed(raw_con, timings)
        try:
            con.execute(f"SET TimeZone = {_q(spec.timezone)}")
        except Exception as exc:  # noqa: BLE001 - DuckDB raises its own error types
            raise BadInputError(
                "Unknown time zone", value=spec.timezone, expected="an IANA zone such as Europe/Paris"
            ) from exc
        con.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM read_parquet({_q(str(staging_path))})")
        ts_col = roles[Role.TIMESTAMP]
        ts_raw = raw(Role.TIMESTAMP)

        step(0.72, "Reading timestamps…")
        non_iso = con.execute(
            f"SELECT count(*) FROM (SELECT {ts_raw} AS v FROM staged) "
            f"WHERE v IS NOT NULL AND NOT regexp_matches(v, '{ISO_PREFIX}')"
        ).fetchone()[0]
        slashed = first_over = second_over = 0
        ex_first = ex_second = None
        if non_iso:
            con.execute(f"CREATE TEMP VIEW dated AS SELECT *, {date_parts_sql(ts_raw)} FROM staged")
            slashed, first_over, second_over, ex_first, ex_second = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE try_cast(_dmy.a AS INT) > 12), "
                "count(*) FILTER (WHERE try_cast(_dmy.b AS INT) > 12), "
                f"arg_min({_ident(ts_col)}, file_row) FILTER (WHERE try_cast(_dmy.a AS INT) > 12), "
                f"arg_min({_ident(ts_col)}, file_row) FILTER (WHERE try_cast(_dmy.b AS INT) > 12) "
                "FROM dated WHERE _dmy.a <> ''"
            ).fetchone()
        day_order = decide_day_order(
            slashed=slashed,
            first_over_12=first_over,
            second_over_12=second_over,
            example_first=ex_first,
            example_second=ex_second,
            dayfirst=spec.dayfirst,
            delimiter=spec.delimiter,
        )
        ts_sql = timestamp_sql(ts_raw, dayfirst=day_order.dayfirst, date_only=spec.date_only, iso_only=not non_iso)
        select = [
            "file_row",
            "file_line",
            f"{raw(Role.JOURNEY)} AS journey_id",
            f"{raw(Role.ACTIVITY)} AS activity",
            f"{ts_raw} AS _ts_raw",
            f"{ts_sql} AS timestamp",
        ]
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
            select.append(f"nullif({_ident(key)}, '') AS {alias}")
        row = ", ".join(_ident(k) for k in spec.row_keys)
        if spec.row_keys:
            # A 64-bit hash of the whole row, computed in the same read of the staged rows.
            select.append(f"hash({row}) AS _row_hash")
        # Checks become one bitmask column, so the stored table carries no raw text.
        keep_cols = [c.rsplit(" AS ", 1)[-1] for c in select if not c.endswith(("_ts_raw", "_given"))]
        keep_cols = [c for c in keep_cols if c != "file_line"]
        bad_mask = " | ".join(f"(CASE WHEN {c[0]} THEN {1 << i} ELSE 0 END)" for i, c in enumerate(checks))
        con.execute(
            f"CREATE TEMP TABLE parsed AS SELECT {', '.join(keep_cols)}, ({bad_mask})::INTEGER AS _bad "
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
                f"SELECT b.file_row, b._bad, s.file_line, {', '.join('s.' + _ident(c[2]) for c in checks)} "
                "FROM _bad_rows b JOIN staged s ON s.file_row = b.file_row ORDER BY b.file_row"
            ).fetchall()
            for file_row, mask, file_line, *values in details:
                for k, (_, column, _, reason, expected) in enumerate(checks):
                    if mask & (1 << k):
                        rejects.append(
                            Reject(int(file_row), int(file_line), column, _shown(values[k] or ""), reason, expected)
                        )
            if not spec.allow_bad_rows:
                raise rejects[0].error(more=int(n_bad) - 1)
            con.execute("DELETE FROM parsed WHERE _bad <> 0")

        n_valid = con.execute("SELECT count(*) FROM parsed").fetchone()[0]
        if n_valid == 0:
            raise BadInputError("No event left to import: every row was rejected", expected="at least one valid row")

        if n_identical and spec.drop_identical_rows:
            n_dropped = con.execute(
                "SELECT count(*) FROM parsed WHERE file_row IN (SELECT file_row FROM _identical)"
            ).fetchone()[0]
            con.execute("DELETE FROM parsed WHERE file_row IN (SELECT file_row FROM _identical)")

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
            *(f"d.{alias} AS {_ident(segment_column(name))}" for alias, name in seg_cols),
            *(f"o.{c}" for c in NEIGHBOUR_COLUMNS),
        ]
        step(0.9, "Writing Parquet…")
        con.execute(
            f"COPY (SELECT {', '.join(columns)} FROM parsed d JOIN _order o ON d.file_row = o.file_row "
            f"ORDER BY o.{JOURNEY_CODE}, o.{SEQ}) TO {_q(str(out_path))} "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
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
        timings=timings,
    )


def file_size(source: Source) -> int:
    """Size in bytes of a source (its bytes, or the file on disk)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return len(source)
    return os.path.getsize(source)
