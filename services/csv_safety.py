"""Neutralise spreadsheet formulas in exported CSV cells (CSV injection).

A text cell that begins with ``= + - @``, a tab, CR, LF or NUL is prefixed with a single quote so
a spreadsheet shows it as text instead of running it; cells holding a line break are quoted. Numbers stay numbers: only strings are
touched, and a string that is a plain number (``-3``, ``+4.5``) is left alone.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    # fullmatch, not match: "$" would also accept a trailing newline ("-1\n" is text, not a number).
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every dangerous text cell (and header) neutralised."""
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    # By position: a frame may carry two columns of the same name.
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            out.isetitem(position, series.map(neutralise_cell))
    return out


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM so spreadsheets detect the encoding) with formulas neutralised.

    Rows end with CRLF (RFC 4180): the writer then quotes every cell holding a CR or LF. With a
    bare LF terminator it leaves a lone CR unquoted, and a spreadsheet that breaks rows at CR
    would start a new row with what follows it (``"x\r=cmd|..."`` smuggles a formula past the
    prefix check).
    """
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
