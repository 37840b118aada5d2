"""Opening an event-log file and telling how it reads: gzip, the encoding, the delimiter, the header's names.

:func:`open_binary` opens a path or the file's bytes (gunzipped when gzip) and refuses what is not
CSV text; :func:`detect_encoding` and :func:`detect_delimiter` guess from the first megabyte;
:func:`text_blocks` decodes the stream into NFC text in blocks of whole lines, keeping each
undecodable byte as a lone surrogate so that the reading pass can report it with its line.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import threading
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

import numpy as np

from analytics.formats import Source, refuse_not_a_table
from analytics.ingest.rejects import BAD_BYTES
from core.errors import BadInputError, close_names

READ_BYTES = 4 << 20  # raw bytes per block
SAMPLE_BYTES = 1 << 20  # bytes looked at to detect the encoding and the delimiter
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
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


_decode_errors = threading.local()


def _mark_bad_bytes(err: UnicodeError) -> tuple[str | bytes, int]:
    """Decode error handler: keep each undecodable byte as a lone surrogate (U+DC00 + byte)."""
    if not isinstance(err, UnicodeDecodeError):  # registered for decoding only
        raise err
    _decode_errors.count = getattr(_decode_errors, "count", 0) + 1
    raw = err.object[err.start : err.end]
    return "".join(chr(0xDC00 + b) for b in raw), err.end


codecs.register_error("journeylens-mark", _mark_bad_bytes)

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
            raise BadInputError(
                "This is a folder, not a file" if path.is_dir() else "File not found",
                value=str(path),
                expected="the path of a CSV file",
            )
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
        stream: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if is_gzip else raw

        def fraction() -> float:
            return min(raw.tell() / total, 1.0) if total else 1.0

        yield stream, fraction, is_gzip
    finally:
        raw.close()


def read_bytes(stream: IO[bytes], size: int) -> bytes:
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadInputError(
            "The gzip file is damaged or cut short", value=str(exc), expected="a complete .csv.gz file"
        ) from exc


def read_sample(source: Source, size: int = SAMPLE_BYTES) -> tuple[bytes, bool]:
    """The first ``size`` bytes of the (decompressed) file, and whether it was gzip."""
    with open_binary(source) as (stream, _, is_gzip):
        return read_bytes(stream, size), is_gzip


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


def text_blocks(stream: IO[bytes], encoding: str, first: bytes = b"") -> Iterator[tuple[str, bool]]:
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
        data = data or read_bytes(stream, READ_BYTES)
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
        dirty = bool(BAD_BYTES.search(carry)) if carry else False


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


def generated_names(headers: list[str]) -> list[str]:
    """The names the import gave (see :func:`distinct_names`): ``column N`` at
    position N, and ``name (k)`` where ``name`` is another column's."""
    out = []
    for i, h in enumerate(headers):
        m = re.fullmatch(r"(.+) \((\d+)\)", h)
        if h == f"column {i + 1}" or (m and m.group(1) in headers):
            out.append(h)
    return out


def column_not_found(name: str, headers: list[str], hint: str = "") -> BadInputError:
    """The error for a mapped column the header lacks, naming the nearest real column (a repeated
    name is shown as ``name (2)``)."""
    near = close_names(name, headers)
    nearest = f" The nearest column is {near[0]!r}." if near else ""
    return BadInputError(
        f"Column not found in the file's header.{nearest}{hint}",
        column=name,
        expected="one of the columns " + ", ".join(repr(h) for h in headers[:30]),
    )
