"""The malformed-file corpus of the event-log import, made here (never hand-edited).

Each :class:`Case` is a small file that must be refused with a clear message naming what is
wrong (and, for problems in a row, the row and the column), with nothing stored. Cases marked
``row_level`` concern single rows: imported with ``allow_bad_rows`` the other rows go in and the
bad row is listed in the rejected-rows report.

    python tests/corpus/make_corpus.py OUT_DIR   # writes every case's file, for a look or the CLI
"""

from __future__ import annotations

import gzip
import io
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HEADER = ["case", "ts", "act", "channel", "value", "nps", "csat", "fcr", "region"]
GOOD = [
    ["c1", "2024-03-01T10:00:00Z", "Visit", "web", "10", "9", "5", "yes", "EU"],
    ["c1", "2024-03-02T10:00:00Z", "Demo", "sales", "20", "7", "4", "no", "EU"],
    ["c2", "2024-03-01T11:00:00Z", "Visit", "email", "", "", "", "", "US"],
]
MAPPING: dict[str, object] = {
    "journey": "case",
    "timestamp": "ts",
    "activity": "act",
    "channel": "channel",
    "value": "value",
    "nps": "nps",
    "csat": "csat",
    "fcr": "fcr",
    "segments": ["region"],
}
MINIMAL = {"journey": "case", "timestamp": "ts", "activity": "act"}


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    message: str  # must appear in the error text
    row: int | None = None  # data-row number the error names (None: a file-level problem)
    column: str | None = None
    mapping: dict[str, object] = field(default_factory=lambda: dict(MAPPING))
    options: dict[str, object] = field(default_factory=dict)
    row_level: bool = False  # with allow_bad_rows: the other rows import, this row is reported
    suffix: str = ".csv"
    line: int | None = None  # physical line the error names, where it differs from row + 1


def text(rows: list[list[str]], header: list[str] = HEADER, sep: str = ",", end: str = "\n") -> str:
    return end.join(sep.join(r) for r in [header, *rows]) + end


def utf8(rows: list[list[str]], **kw: str) -> bytes:
    return text(rows, **kw).encode("utf-8")


def with_row(position: int, row: list[str]) -> list[list[str]]:
    """GOOD with ``row`` inserted as data row ``position`` (1-based)."""
    rows = [list(r) for r in GOOD]
    rows.insert(position - 1, row)
    return rows


def event(**changes: str) -> list[str]:
    """A data row of the header's shape (c9 visiting on the web) with the named columns changed."""
    row = ["c9", "2024-03-01T10:00:00Z", "Visit", "web", "", "", "", "", "EU"]
    for column, value in changes.items():
        row[HEADER.index(column)] = value
    return row


def bad_row(name: str, data: bytes, message: str, row: int, column: str | None = None, **kw) -> Case:
    """A row-level case: the error names data row ``row`` (and ``column``); other rows may import."""
    return Case(name, data, message, row=row, column=column, row_level=True, **kw)


def bad_setting(name: str, message: str, column: str | None = None, **kw) -> Case:
    """A good file refused for how it is to be read (``mapping`` or ``options``), naming ``column``."""
    return Case(name, utf8(GOOD), message, column=column, **kw)


def bad_value(name: str, column: str, value: str, message: str, *, mapping: dict | None = None, **options) -> Case:
    row = list(GOOD[1])
    row[HEADER.index(column)] = value
    return bad_row(name, utf8(with_row(2, row)), message, 2, column, mapping=dict(mapping or MAPPING), options=options)


VIETNAMESE_TONES = "\u0300\u0301\u0303\u0309\u0323"


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text as Excel writes it in cp1258: base letters precomposed, tone marks combining."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in parts if c in VIETNAMESE_TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in VIETNAMESE_TONES))
            out += (base + tones).encode("cp1258")
    return bytes(out)


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
        fh.write(data)
    return buf.getvalue()


def xlsx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    return buf.getvalue()


RAGGED_3 = "has 3 values but the header has 9 columns"
MULTILINE = '"Demo\nwith notes\non three lines"'
OLE2_HEAD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Office files (.xls, .doc)


def zipped(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("events.csv", data)
    return buf.getvalue()


def cases() -> list[Case]:
    good = utf8(GOOD)
    out = [
        # ---- whole-file problems
        Case("empty", b"", "The file is empty"),
        Case("blank_lines_only", b"\n\n   \n", "The file is empty"),
        Case("header_only", utf8([]), "header row but no events"),
        Case("header_only_no_newline", ",".join(HEADER).encode(), "header row but no events"),
        Case("header_then_blank_lines", utf8([]) + b"\n\n\n", "header row but no events"),
        Case(
            "repeated_header_unknown_copy",
            utf8([["c1", "2024-03-01", "Visit", "Visit"]], header=["case", "ts", "act", "act"]),
            "The nearest column is 'act (2)'",
            column="act (3)",
            mapping={**MINIMAL, "activity": "act (3)"},
        ),
        Case(
            "missing_timestamp_column",
            utf8([r[:1] + r[2:] for r in GOOD], header=[h for h in HEADER if h != "ts"]),
            "Column not found",
            column="ts",
        ),
        Case(
            "missing_journey_column", utf8([r[1:] for r in GOOD], header=HEADER[1:]), "Column not found", column="case"
        ),
        Case(
            "missing_activity_column",
            utf8([r[:2] + r[3:] for r in GOOD], header=HEADER[:2] + HEADER[3:]),
            "Column not found",
            column="act",
        ),
        bad_setting(
            "missing_segment_column", "Column not found", "segment_x", mapping={**MAPPING, "segments": ["segment_x"]}
        ),
        bad_setting(
            "missing_where_column", "Column not found", "lifecycle", options={"where": (("lifecycle", "COMPLETE"),)}
        ),
        bad_setting("wrong_delimiter_forced", "single column", "case", options={"delimiter": ";"}),
        Case(
            "semicolon_file_read_as_comma",
            utf8(GOOD, sep=";"),
            "single column",
            column="case",
            options={"delimiter": ","},
        ),
        Case("excel_workbook_without_workbook_part", xlsx_like(), "Excel workbook", suffix=".xlsx"),
        # ---- files that are not tables: told by their first bytes, whatever their name
        Case("zip_archive", zipped(good), "This is a ZIP archive", suffix=".zip"),
        Case("zip_named_csv", zipped(good), "extract it and import the CSV", suffix=".csv"),
        Case("xls_97_2003", OLE2_HEAD + bytes(512), "Excel 97-2003 workbook (.xls)", suffix=".xls"),
        Case("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "This looks like a PDF document", suffix=".pdf"),
        Case("png", b"\x89PNG\r\n\x1a\n" + bytes(64), "This looks like a PNG image", suffix=".png"),
        Case("jpeg_named_csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "JPEG image", suffix=".csv"),
        Case("truncated_gzip", gz(good * 200)[:-40], "gzip file is damaged", suffix=".csv.gz"),
        bad_row(
            "gzip_with_ragged_row",
            gz(utf8(with_row(2, ["c9", "2024-03-01T10:00:00Z", "Visit"]))),
            RAGGED_3,
            2,
            suffix=".csv.gz",
        ),
        Case("binary_file", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00" * 4, "NUL bytes"),
        bad_setting("unknown_encoding", "Unknown encoding", options={"encoding": "klingon-8"}),
        bad_setting("unusable_delimiter", "Unusable delimiter", options={"delimiter": "ab"}),
        bad_setting("unknown_time_zone", "Unknown time zone", options={"timezone": "Mars/Olympus_Mons"}),
        bad_setting(
            "required_role_unmapped", "Map the required columns first", mapping={"journey": "case", "timestamp": "ts"}
        ),
        bad_setting(
            "where_matches_nothing", "No row matches the filter", "channel", options={"where": (("channel", "fax"),)}
        ),
        Case(
            "every_row_bad_even_allowed",
            utf8([["", "2024-03-01", "Visit"] + [""] * 6] * 3),
            "every row was rejected",
            options={"allow_bad_rows": True},
        ),
        # ---- structure of a row
        bad_row("ragged_too_few", utf8(with_row(2, ["c9", "2024-03-01T10:00:00Z", "Visit"])), RAGGED_3, 2),
        bad_row(
            "ragged_too_many", utf8(with_row(3, GOOD[0] + ["extra"])), "has 10 values but the header has 9 columns", 3
        ),
        bad_row("ragged_last_row_no_newline", utf8(GOOD[:2]) + b"c3,2024-03-05T10:00:00Z,Visit", "has 3 values", 3),
        bad_row(
            "ragged_in_quoted_file",
            utf8([['"' + v + '"' for v in r] for r in with_row(2, ["c9", "2024-03-01T10:00:00Z"])]),
            "has 2 values",
            2,
        ),
        bad_row("ragged_crlf", utf8(with_row(3, ["c9", "x"]), end="\r\n"), "has 2 values", 3),
        bad_row("ragged_cr_only", utf8(with_row(3, ["c9", "x"]), end="\r"), "has 2 values", 3),
        bad_row(
            "ragged_after_blank_lines", utf8(GOOD[:1]) + b"\n\n" + utf8([["c9"]], header=GOOD[1]), "has 1 values", 3
        ),
        bad_row(
            "open_quote_last_row", utf8(GOOD) + b'c4,"2024-03-05T10:00:00Z,Visit,web,1,1,1,1,EU\n', "never closed", 4
        ),
        bad_row("open_quote_mid_file", utf8(with_row(2, event(ts='"2024-03-01'))), "never closed", 2),
        bad_row("stray_quote_unquoted_value", utf8(with_row(2, event(act='The 12" screen'))), "never closed", 2),
        bad_row(
            "text_after_closing_quote", utf8(with_row(2, event(act='"Visit"x'))), "Text follows a closing quote", 2
        ),
        Case(
            "open_quote_in_header",
            b'case,"ts,act\nc1,2024-03-01,Visit\n',
            "header row is never closed",
            mapping=MINIMAL,
        ),
        bad_row("nul_in_row", utf8(with_row(2, event(act="Vis\x00it"))), "NUL character", 2, "act"),
        Case("nul_in_header", b"case,t\x00s,act\nc1,2024-03-01,Visit\n", "header row has bytes", mapping=MINIMAL),
        bad_row(
            "bad_utf8_byte",
            utf8(GOOD[:1]) + b"c9,2024-03-01T10:00:00Z,Caf\xe9,web,,,,,EU\n",
            "not valid UTF-8",
            2,
            "act",
            options={"encoding": "utf-8"},
        ),
        bad_row(
            "cp1252_read_as_utf8",
            text(with_row(3, event(act="Réunion"))).encode("cp1252"),
            "not valid UTF-8",
            3,
            "act",
            options={"encoding": "utf-8"},
        ),
        Case("utf16_read_as_utf8", text(GOOD).encode("utf-16"), "NUL bytes", options={"encoding": "utf-8"}),
        bad_setting("utf8_read_as_utf16", "header row has bytes", options={"encoding": "utf-16-le"}),
        bad_row(
            "truncated_multibyte_at_end",
            utf8(GOOD) + "c4,2024-03-05T10:00:00Z,Caf\u00e9".encode()[:-1],
            "not valid UTF-8",
            4,
        ),
        # ---- values
        bad_row("empty_journey_id", utf8(with_row(2, event(case=""))), "Empty journey id", 2, "case"),
        bad_row("blank_journey_id", utf8(with_row(2, event(case="   "))), "Empty journey id", 2, "case"),
        bad_row("only_delimiters_row", utf8(with_row(3, [""] * 9)), "Empty journey id", 3, "case"),
        bad_row("empty_activity", utf8(with_row(2, event(act=""))), "Empty activity", 2, "act"),
        bad_row("empty_timestamp", utf8(with_row(2, event(ts=""))), "Empty timestamp", 2, "ts"),
        bad_value("timestamp_words", "ts", "yesterday", "Unreadable timestamp"),
        bad_value("timestamp_feb_30", "ts", "2024-02-30 10:00", "Unreadable timestamp"),
        bad_value("timestamp_month_13", "ts", "2024-13-01", "Unreadable timestamp"),
        bad_value("timestamp_hour_25", "ts", "2024-03-01 25:00", "Unreadable timestamp"),
        bad_value("timestamp_short_number", "ts", "12345", "Unreadable timestamp"),
        bad_value("timestamp_dayfirst_forced", "ts", "03/25/2024 10:00", "Unreadable timestamp", dayfirst=True),
        bad_value("timestamp_monthfirst_forced", "ts", "25/03/2024 10:00", "Unreadable timestamp", dayfirst=False),
        bad_row(
            "timestamp_day_month_conflict",
            utf8([["c1", "25/03/2024", "Visit"], ["c1", "03/26/2024", "Demo"]], header=["case", "ts", "act"]),
            "Unreadable timestamp",
            2,
            "ts",
            mapping=MINIMAL,
        ),
        bad_value("date_only_not_a_date", "ts", "soon", "Unreadable timestamp", date_only=True),
        bad_value("nps_eleven", "nps", "11", "Unreadable nps"),
        bad_value("nps_negative", "nps", "-1", "Unreadable nps"),
        bad_value("nps_words", "nps", "high", "Unreadable nps"),
        bad_value("csat_zero", "csat", "0", "Unreadable csat"),
        bad_value("csat_six", "csat", "6", "Unreadable csat"),
        bad_value("value_letters", "value", "12abc", "Unreadable value"),
        bad_value("value_many_commas", "value", '"1,2,3"', "Unreadable value"),
        bad_value("value_nan", "value", "NaN", "Unreadable value"),
        bad_value("value_infinity", "value", "inf", "Unreadable value"),
        bad_value("fcr_maybe", "fcr", "maybe", "Unreadable first-contact-resolution flag"),
        # ---- positions: rows versus lines, other encodings
        bad_row(
            "row_after_multiline_value",
            utf8(
                [
                    GOOD[0],
                    event(case="c1", ts="2024-03-02T10:00:00Z", act=MULTILINE),
                    event(case="c2", ts="never", region="US"),
                ]
            ),
            "Unreadable timestamp",
            3,
            "ts",
            line=6,
        ),
        bad_row(
            "row_after_blank_lines",
            utf8(GOOD[:1]) + b"\n\n" + utf8([event(case="c2", ts="never", region="US")], header=GOOD[1]),
            "Unreadable timestamp",
            3,
            "ts",
            line=6,
        ),
        bad_row(
            "utf16_empty_journey", text(with_row(2, event(case=""))).encode("utf-16"), "Empty journey id", 2, "case"
        ),
        bad_row(
            "cp1258_bad_timestamp",
            encode_cp1258(text(with_row(2, event(ts="hôm qua", act="Đăng ký", region="VN")))),
            "Unreadable timestamp",
            2,
            "ts",
        ),
        bad_row(
            "semicolon_bad_value",
            text(with_row(2, event(value="zwölf")), sep=";").encode("cp1252"),
            "Unreadable value",
            2,
            "value",
        ),
        bad_row("tab_ragged", utf8(with_row(2, ["c9", "x"]), sep="\t"), "has 2 values", 2),
    ]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


def write_corpus(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in cases():
        path = directory / f"{case.name}{case.suffix}"
        path.write_bytes(case.data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    written = write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus"))
    print(f"{len(written)} files written")
