"""Neutralise spreadsheet formulas in exported CSV cells (CSV injection).

A text cell that begins with ``= + - @``, a tab, CR, LF or NUL is prefixed with a single quote so
a spreadsheet shows it as text instead of running it. Numbers stay numbers: only strings are
touched, and a string that is a plain number (``-3``, ``+4.5``) is left alone.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every dangerous text cell (and header) neutralised."""
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_cell)
    return out


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM so spreadsheets detect the encoding) with formulas neutralised."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")
