"""What kind of file an event log is, and tables that are not CSV (Excel .xlsx, Parquet) as CSV.

A file is told by its first bytes, never by its name: CSV text (or gzip-compressed CSV), an
Excel workbook (.xlsx: a ZIP holding ``xl/workbook.xml``), a Parquet file (``PAR1``). Anything
else a user is likely to pick by mistake (another ZIP, an old Excel 97-2003 .xls, a PDF, an image,
a Word or OpenDocument file) is refused with what it looks like and what to do.

An .xlsx sheet or a Parquet file is written out as UTF-8 CSV (comma, RFC 4180 quoting) and read
by the same streaming pass as any CSV (:func:`analytics.ingest.read.scan_csv`), so the mapping, the
checks and the messages are the same. The workbook is read by openpyxl in read-only mode, row by
row; Parquet by pyarrow, batch by batch: neither holds the file in memory. In a sheet, line N of
the CSV is row N of the sheet (empty rows stay as blank lines, which are not events), so a
message's "line" is the sheet's row number.

Cell values as text: dates and times in ISO 8601 (``2024-03-25T14:30:00``, no offset: the
import's time zone applies), whole numbers without ``.0``, other numbers as Python writes them,
booleans ``true``/``false``, empty cells empty.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.errors import BadInputError, close_names

Source = Path | str | bytes  # an event-log file: its path, or its bytes

CSV, XLSX, PARQUET = "csv", "xlsx", "parquet"
KIND_LABELS = {CSV: "CSV", XLSX: "Excel workbook (.xlsx)", PARQUET: "Parquet file"}
SAVE_AS = "save it as .xlsx or CSV (UTF-8) and import that"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# First bytes of files that are not tables: (magic, what it looks like, what to do).
NOT_TABLES: tuple[tuple[bytes, str, str], ...] = (
    (OLE2, "an Excel 97-2003 workbook (.xls) or another old Office file", f"open it in Excel and {SAVE_AS}"),
    (b"%PDF", "a PDF document", "export the data as CSV or .xlsx from the tool that made the PDF"),
    (b"\x89PNG", "a PNG image", "export the data itself as CSV or .xlsx"),
    (b"\xff\xd8\xff", "a JPEG image", "export the data itself as CSV or .xlsx"),
    (b"GIF8", "a GIF image", "export the data itself as CSV or .xlsx"),
    (b"Rar!", "a RAR archive", "extract it and import the CSV inside"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "extract it and import the CSV inside"),
    (b"SQLite format 3\x00", "an SQLite database", "export the events table as CSV"),
)


@dataclass(frozen=True)
class FileKind:
    """What a file is: ``kind`` (csv, xlsx, parquet) and, for a workbook, its sheet names."""

    kind: str
    sheets: tuple[str, ...] = ()

    @property
    def converted(self) -> bool:
        """True when the file is read through a CSV written from it."""
        return self.kind != CSV

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _head(source: Source, size: int = 16) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:size])
    path = Path(source)
    if not path.is_file():
        raise BadInputError(
            "This is a folder, not a file" if path.is_dir() else "File not found",
            value=str(path),
            expected="the path of a CSV, .xlsx or Parquet file",
        )
    with open(path, "rb") as fh:
        return fh.read(size)


def _zip_names(source: Source) -> list[str]:
    try:
        with zipfile.ZipFile(
            io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray | memoryview) else source
        ) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadInputError(
            "This looks like a ZIP archive or an Excel workbook, but it is damaged or cut short",
            value=str(exc),
            expected="a complete .xlsx or CSV file",
        ) from exc


def refuse_not_a_table(head: bytes) -> None:
    """Raise BadInputError when the first bytes are those of a file that is not a table."""
    for magic, what, todo in NOT_TABLES:
        if head.startswith(magic):
            raise BadInputError(f"This looks like {what}, not a table of events", expected=todo)


def detect_kind(source: Source, sheet: str | None = None) -> FileKind:
    """Tell a file by its first bytes (see the module docstring); non-tables raise BadInputError.

    ``sheet`` is only for a workbook; given for another kind of file it is refused.
    """
    head = _head(source)
    refuse_not_a_table(head)
    if head.startswith(b"PAR1"):
        kind = FileKind(PARQUET)
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        names = _zip_names(source)
        if "xl/workbook.xml" in names:
            kind = FileKind(XLSX, _sheet_names(source))
        elif "xl/workbook.bin" in names:
            raise BadInputError(
                "This looks like an Excel binary workbook (.xlsb), not a table JourneyLens reads",
                expected=f"open it in Excel and {SAVE_AS}",
            )
        elif any(n.startswith("word/") for n in names):
            raise BadInputError("This looks like a Word document, not a table of events", expected="a CSV or .xlsx")
        elif "content.xml" in names:
            raise BadInputError(
                "This looks like an OpenDocument file (.ods), not a table JourneyLens reads",
                expected=SAVE_AS,
            )
        elif any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names:
            raise BadInputError(
                "This looks like an Excel workbook, but it has no workbook part: it is damaged or not saved by Excel",
                expected=f"open it in Excel and {SAVE_AS}",
            )
        else:
            raise BadInputError(
                "This is a ZIP archive, not a table of events",
                expected="extract it and import the CSV, .xlsx or Parquet file inside",
            )
    else:
        kind = FileKind(CSV)
    if sheet and kind.kind != XLSX:
        raise BadInputError(
            "A sheet was named, but this file is not an Excel workbook", value=sheet, expected="no sheet for a CSV file"
        )
    return kind


# --------------------------------------------------------------------------- Excel


def _open_workbook(source: Source) -> Any:
    import openpyxl

    try:
        data: Any = io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray | memoryview) else str(source)
        return openpyxl.load_workbook(data, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (KeyError, XML errors ...)
        raise BadInputError(
            "This Excel workbook cannot be read",
            value=f"{type(exc).__name__}: {exc}"[:200],
            expected=f"a workbook Excel opens; if it does, {SAVE_AS}",
        ) from exc


def _sheet_names(source: Source) -> tuple[str, ...]:
    wb = _open_workbook(source)
    try:
        return tuple(wb.sheetnames)
    finally:
        wb.close()


def cell_text(value: Any) -> str:
    """A cell's value as the CSV holds it (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _xlsx_rows(source: Source, sheet: str | None) -> Iterator[list[str]]:
    wb = _open_workbook(source)
    try:
        if sheet:
            if sheet not in wb.sheetnames:
                near = close_names(sheet, wb.sheetnames)
                raise BadInputError(
                    "Sheet not found in the workbook" + (f". The nearest is {near[0]!r}" if near else ""),
                    value=sheet,
                    expected="one of the sheets " + ", ".join(repr(s) for s in wb.sheetnames),
                )
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        width: int | None = None
        for row in ws.iter_rows(values_only=True):
            cells = [cell_text(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            if not cells:
                yield []
                continue
            if width is None:
                width = len(cells)  # the header: trailing empty cells are not columns
            elif len(cells) < width:
                cells += [""] * (width - len(cells))
            yield cells
    finally:
        wb.close()


def _write_rows(rows: Iterator[list[str]], out: IO[str], max_rows: int | None) -> int:
    writer = csv.writer(out, lineterminator="\n")
    n = 0
    for cells in rows:
        if cells:
            writer.writerow(cells)
        else:
            out.write("\n")  # an empty sheet row: a blank line keeps line = sheet row
        n += 1
        if max_rows is not None and n > max_rows:
            break
    return n


# --------------------------------------------------------------------------- Parquet


def _parquet_tables(source: Source, max_rows: int | None) -> Iterator[Any]:
    try:
        handle: Any = (
            pa.BufferReader(bytes(source)) if isinstance(source, bytes | bytearray | memoryview) else str(source)
        )
        pf = pq.ParquetFile(handle)
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors
        raise BadInputError(
            "This Parquet file cannot be read", value=str(exc)[:200], expected="a complete Parquet file"
        ) from exc
    seen = 0
    for batch in pf.iter_batches(batch_size=65_536):
        table = pa.Table.from_batches([batch])
        columns = []
        for name, column in zip(table.column_names, table.columns, strict=True):
            kind = column.type
            if pa.types.is_nested(kind):
                raise BadInputError(
                    "A column of this Parquet file holds lists or records, not single values",
                    column=name,
                    expected="one value per cell (flatten the column first)",
                )
            if pa.types.is_timestamp(kind) and kind.unit == "ns":
                column = column.cast(pa.timestamp("us", kind.tz), safe=False)
            columns.append(column)
        yield pa.table(columns, names=table.column_names)
        seen += table.num_rows
        if max_rows is not None and seen > max_rows:
            return


def _write_parquet(source: Source, out: IO[bytes], max_rows: int | None) -> None:
    writer = None
    try:
        for table in _parquet_tables(source, max_rows):
            if writer is None:
                writer = pacsv.CSVWriter(out, table.schema, write_options=pacsv.WriteOptions(quoting_style="needed"))
            writer.write_table(table)
        if writer is None:  # no row group at all: still a header
            handle: Any = (
                pa.BufferReader(bytes(source)) if isinstance(source, bytes | bytearray | memoryview) else str(source)
            )
            schema = pq.read_schema(handle)
            pacsv.write_csv(schema.empty_table(), out, write_options=pacsv.WriteOptions(quoting_style="needed"))
    finally:
        if writer is not None:
            writer.close()


# --------------------------------------------------------------------------- as CSV


def table_as_csv(
    source: Source,
    kind: FileKind,
    *,
    sheet: str | None = None,
    out_path: Path | None = None,
    max_rows: int | None = None,
) -> Path | bytes:
    """The workbook's sheet (``sheet``, or the first) or the Parquet file as UTF-8 CSV: written to
    ``out_path`` and returned as that path, or returned as bytes (``max_rows``: stop after about
    that many rows, for a preview)."""
    buffer = io.BytesIO()
    target: IO[bytes] = open(out_path, "wb") if out_path is not None else buffer  # noqa: SIM115
    try:
        if kind.kind == XLSX:
            text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
            try:
                _write_rows(_xlsx_rows(source, sheet), text, max_rows)
                text.flush()
            finally:
                text.detach()
        elif kind.kind == PARQUET:
            _write_parquet(source, target, max_rows)
        else:
            raise ValueError(f"not a converted kind: {kind.kind}")
    finally:
        if out_path is not None:
            target.close()
    return out_path if out_path is not None else buffer.getvalue()
