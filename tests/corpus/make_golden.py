"""Golden files of the import: one small event log per encoding, as the tools that write them do,
and the events each must give once stored (NFC text, UTC timestamps, order, numbers).

    python tests/corpus/make_golden.py    # rewrites tests/corpus/golden/*

The test checks the committed files are exactly what this script writes, then imports each one
with the encoding and delimiter detected and compares the stored events with ``*.expected.json``.
"""

from __future__ import annotations

import codecs
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tests.corpus.make_corpus import encode_cp1258

GOLDEN_DIR = Path(__file__).parent / "golden"
HEADER = ["journey_id", "timestamp", "activity", "channel", "stage", "value"]


@dataclass(frozen=True)
class Golden:
    name: str
    encoding: str  # what detection must report
    delimiter: str
    rows: list[list[str]]  # as written in the file (text before encoding)
    # Expected stored events in stored order: journey, seq, UTC timestamp, activity, channel, stage, value.
    expected: list[tuple[str, int, str, str, str, str, float | None]]
    writer: str = ""  # how the bytes are made: "" plain, "bom", "utf16-excel", "nfd"
    options: dict[str, object] | None = None

    def data(self) -> bytes:
        text = "\r\n".join(self.delimiter.join(r) for r in [HEADER, *self.rows]) + "\r\n"
        if self.writer == "nfd":
            return unicodedata.normalize("NFD", text).encode("utf-8")
        if self.encoding == "cp1258":
            return encode_cp1258(text)
        if self.writer == "bom":
            return codecs.BOM_UTF8 + text.encode("utf-8")
        return text.encode(self.encoding)


# name: (encoding detection must report, delimiter, writer, time zone the import is given)
FILES = {
    "utf-8": ("utf-8", ",", "", None),
    "utf-8-sig": ("utf-8-sig", ";", "bom", None),
    "utf-16": ("utf-16", "\t", "", "Europe/Athens"),
    "utf-16-be": ("utf-16-be", "\t", "", None),
    "cp1252": ("cp1252", ";", "", "Europe/Paris"),
    "cp1258": ("cp1258", ",", "", "Asia/Ho_Chi_Minh"),
    "cp874": ("cp874", ",", "", "Asia/Bangkok"),
    "utf-8-nfd": ("utf-8", ",", "nfd", None),
}
# One line per row of a file, in file order: the file's name, the row as written, then what it must
# give once stored: its seq in the journey, its UTC timestamp and its value (the text stays, NFC).
# The events are stored by journey id, then seq.
# fmt: off
ROWS: list[tuple[str, list[str], int, str, float | None]] = [
    ("utf-8", ["J-1", "2024-03-01T09:00:00+01:00", "Découverte 🚀", "web", "Awareness", "1200.50"], 0, "2024-03-01T08:00:00+00:00", 1200.5),
    ("utf-8", ["J-1", "2024-03-01T09:30:00+01:00", "デモ", "sales rep", "Consideration", ""], 1, "2024-03-01T08:30:00+00:00", None),
    ("utf-8", ["J-2", "2024-03-02T10:00:00Z", "Đăng ký", "email", "Awareness", "99"], 0, "2024-03-02T10:00:00+00:00", 99.0),
    ("utf-8", ["J-1", "2024-03-01T09:30:00+01:00", "การสมัคร", "web", "Decision", ""], 2, "2024-03-01T08:30:00+00:00", None),
    ("utf-8-sig", ["A1", "2024-01-15 08:00", "Webinaire", "events", "Awareness", "1,5"], 0, "2024-01-15T08:00:00+00:00", 1.5),
    ("utf-8-sig", ["A1", "2024-01-16 08:00", "Prüfung", "web", "Decision", "2.000,75"], 1, "2024-01-16T08:00:00+00:00", 2000.75),
    ("utf-16", ["T1", "2024-06-01T12:00:00", "Ολοκλήρωση", "chat", "Service", ""], 1, "2024-06-01T09:00:00+00:00", None),
    ("utf-16", ["T1", "2024-06-01T11:00:00", "Привет", "chat", "Service", "3"], 0, "2024-06-01T08:00:00+00:00", 3.0),
    ("utf-16-be", ["B1", "2024-02-29T23:59:59.999+00:00", "Renewal", "email", "Renewal", "10"], 0, "2024-02-29T23:59:59.999000+00:00", 10.0),
    ("cp1252", ["K-7", "25/03/2024 14:30", "Réunion découverte", "sales rep", "Considération", "1.234,50"], 0, "2024-03-25T13:30:00+00:00", 1234.5),
    ("cp1252", ["K-7", "26/03/2024 09:05", "Angebot geprüft", "email", "Décision", ""], 1, "2024-03-26T08:05:00+00:00", None),
    ("cp1252", ["K-8", "01/04/2024 10:00", "Señal € œuvre", "web", "Awareness", "7,25"], 0, "2024-04-01T08:00:00+00:00", 7.25),
    ("cp1258", ["VN1", "2024-05-02 09:00", "Đăng ký dùng thử", "web", "Nhận biết", ""], 0, "2024-05-02T02:00:00+00:00", None),
    ("cp1258", ["VN1", "2024-05-03 15:00", "Gọi điện tư vấn", "phone", "Cân nhắc", "5000000"], 1, "2024-05-03T08:00:00+00:00", 5000000.0),
    ("cp1258", ["VN1", "2024-05-10 10:00", "Hợp đồng đã ký", "sales rep", "Quyết định", ""], 2, "2024-05-10T03:00:00+00:00", None),
    ("cp874", ["TH1", "2024-07-01 10:00", "ลงทะเบียน", "web", "การรับรู้", ""], 0, "2024-07-01T03:00:00+00:00", None),
    ("cp874", ["TH1", "2024-07-02 10:00", "สาธิตสินค้า", "demo", "การพิจารณา", ""], 1, "2024-07-02T03:00:00+00:00", None),
    ("cp874", ["TH1", "2024-07-09 16:45", "ปิดการขาย", "sales rep", "การตัดสินใจ", "250000"], 2, "2024-07-09T09:45:00+00:00", 250000.0),
    ("utf-8-nfd", ["N1", "2024-08-01T10:00:00Z", "Café crème", "web", "Étape 1", ""], 0, "2024-08-01T10:00:00+00:00", None),
]
# fmt: on


def _golden(name: str) -> Golden:
    encoding, delimiter, writer, timezone = FILES[name]
    rows = [(row, seq, utc, value) for file, row, seq, utc, value in ROWS if file == name]
    stored = sorted(rows, key=lambda r: (r[0][0], r[1]))
    return Golden(
        name,
        encoding,
        delimiter,
        [row for row, _, _, _ in rows],
        [(row[0], seq, utc, row[2], row[3], row[4], value) for row, seq, utc, value in stored],
        writer=writer,
        options={"timezone": timezone} if timezone else None,
    )


GOLDENS = [_golden(name) for name in FILES]


def expected_json(golden: Golden) -> str:
    rows = [
        dict(zip(["journey_id", "seq", "timestamp", "activity", "channel", "stage", "value"], e, strict=True))
        for e in golden.expected
    ]
    return json.dumps({"encoding": golden.encoding, "events": rows}, ensure_ascii=False, indent=1) + "\n"


def write_goldens(directory: Path = GOLDEN_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for g in GOLDENS:
        path = directory / f"{g.name}.csv"
        path.write_bytes(g.data())
        (directory / f"{g.name}.expected.json").write_text(expected_json(g), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    print(f"{len(write_goldens())} golden files written to {GOLDEN_DIR}")
