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


class UnknownNameError(AnalyticsError):
    """A name the user gave (a goal, a funnel step, an exclusion, a node, a dataset or a map) that
    does not exist; carries the nearest real names. Never replaced by another silently."""

    def __init__(
        self, what: str, name: object, nearest: list[str] | tuple[str, ...] = (), *, message: str | None = None
    ) -> None:
        self.what, self.name, self.nearest = what, name, tuple(nearest)
        message = message or f"No {what} is named {str(name)!r} in this dataset"
        if self.nearest:
            message += "; nearest: " + ", ".join(repr(n) for n in self.nearest)
        super().__init__(message)


class EventsFileError(AnalyticsError):
    """A dataset's stored events file is missing or cannot be read; names the dataset and what to do."""

    def __init__(self, label: str, path: str, problem: str) -> None:
        super().__init__(
            f"{label or 'This dataset'}: its events file is {problem} ({path}). Re-import the CSV on the Data "
            "page (or `python cli.py import`), or restore a backup (`python cli.py restore`); "
            "`python cli.py check` lists every dataset in this state."
        )
        self.label, self.path, self.problem = label, path, problem
