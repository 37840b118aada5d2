"""Typed errors of the analytics core and the event-log import."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Base of errors raised by the analytics core; the message is shown to the user as is."""


class BadInputError(AnalyticsError):
    """Input that cannot be read: names the row, the column, the value and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        expected: str | None = None,
    ) -> None:
        parts = [message]
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column!r}")
        if value is not None:
            shown = repr(value)
            parts.append(f"value {shown[:80] + ('…' if len(shown) > 80 else '')}")
        if expected is not None:
            parts.append(f"expected {expected}")
        super().__init__(": ".join(parts[:1]) + (" (" + "; ".join(parts[1:]) + ")" if len(parts) > 1 else ""))
        self.row, self.column, self.value, self.expected = row, column, value, expected


class UnknownColumnError(AnalyticsError):
    """An analysis asked for a role or column the dataset does not have."""
