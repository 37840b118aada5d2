"""A row that cannot be imported, why, and the downloadable report of them all.

Every problem the import meets (in the streaming pass of :mod:`analytics.ingest.read` or the
value checks of :mod:`analytics.ingest.store`) is a :class:`Reject` naming the row, the line, the
column, the value and what was expected; without ``allow_bad_rows`` the first one is raised as
:class:`core.errors.BadInputError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from core.errors import BadInputError

SHOWN_VALUE_CHARS = 200
REJECT_COLUMNS = ["row", "line", "column", "value", "reason"]
BAD_BYTES = re.compile("[\udc00-\udcff]+")


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
            rows = f"{more:,} more rows of this file have" if more > 1 else "1 more row of this file has"
            err.args = (f"{err.args[0]}. {rows} problems too.",)
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


def shown_value(text: str) -> str:
    """A value as the report shows it: bad bytes as \\xNN, NUL as \\x00, cut at 200 characters."""
    text = BAD_BYTES.sub(lambda m: "".join(f"\\x{ord(c) - 0xDC00:02X}" for c in m.group()), text)
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


def reason_counts(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    """``(reason, column, rows)`` of a rejects report, the most rows first (ties: first met first)."""
    if frame.empty:
        return []
    counted = frame.drop_duplicates(["row", "reason", "column"]).groupby(["reason", "column"], sort=False).size()
    ranked = sorted(counted.items(), key=lambda item: -item[1])
    return [(str(reason), str(column), int(n)) for (reason, column), n in ranked]


class NoRowLeftError(BadInputError):
    """Every row that reached the checks was rejected: says why (rows per reason, the first rows) and
    carries the rejects, so a caller can write them all out."""

    SHOWN_ROWS = 3
    SHOWN_REASONS = 5

    def __init__(self, rejects: list[Reject], *, filtered_out: int = 0) -> None:
        self.rejects = list(rejects)
        frame = rejects_frame(self.rejects)
        rows = int(frame["row"].nunique())
        if filtered_out:
            head = f"No event left to import: every row the filter kept was rejected ({rows:,} rejected, "
            head += f"{filtered_out:,} left out by the filter)"
        else:
            head = f"No event left to import: every row was rejected ({rows:,} row{'s' if rows != 1 else ''})"
        counts = reason_counts(frame)
        reasons = "; ".join(
            f"{reason}{f' in column {column!r}' if column else ''}: {n:,} row{'s' if n != 1 else ''}"
            for reason, column, n in counts[: self.SHOWN_REASONS]
        )
        if len(counts) > self.SHOWN_REASONS:
            reasons += f"; and {len(counts) - self.SHOWN_REASONS:,} other reasons"
        first = "; ".join(
            f"row {r.row} (line {r.line}){f' {r.column}' if r.column else ''}: {r.reason}: {r.value!r}"
            for r in frame.drop_duplicates("row").head(self.SHOWN_ROWS).itertuples(index=False)
        )
        top = counts[0][:2] if counts else ("", "")
        expected = next((r.expected for r in self.rejects if (r.reason, r.column) == top and r.expected), "")
        text = f"{head}. Reasons: {reasons}. First rows: {first}."
        if expected:
            text += f" Expected {expected}."
        super().__init__(text)
        self.expected = "at least one valid row"
