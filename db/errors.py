"""Typed errors of the persistence layer; each carries the context a page shows to the user."""

from __future__ import annotations


class JourneyLensError(Exception):
    """Base of every error JourneyLens shows to a user as a message instead of a traceback."""


class NotFoundError(JourneyLensError):
    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!r} does not exist (it may have been deleted).")
        self.kind, self.ident = kind, ident


class ConflictError(JourneyLensError):
    """A save started from a stale copy: someone else saved the map in between."""

    def __init__(self, map_id: int, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"This map was changed by someone else while you were editing (you started from version "
            f"{expected_version}, it is now at version {actual_version}). Nothing was saved: reload "
            f"the map and apply your changes again; what you typed is kept below."
        )
        self.map_id, self.expected_version, self.actual_version = map_id, expected_version, actual_version


class ValidationError(JourneyLensError):
    """A value a user entered is not acceptable; names the field, the value and what is expected."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "...'"
        super().__init__(f"{field}: {shown} is not valid; expected {expected}.")
        self.field, self.value, self.expected = field, value, expected


class StorageError(JourneyLensError):
    """The database could not take a write or a read (busy past the timeout, disk full, read-only)."""


class DiskFullError(StorageError):
    """The disk holding the data directory is full (ENOSPC)."""


class ReadOnlyError(StorageError):
    """The data directory (or the database file) cannot be written by this process."""


class DataDirMissingError(StorageError):
    """The data directory, or the database file in it, is not there or cannot be opened."""


class DatabaseLockedError(StorageError):
    """Other writers held the database past the busy timeout."""


class DatabaseDamagedError(StorageError):
    """The database file is not a database, or its pages are damaged."""
