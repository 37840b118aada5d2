"""The one error root of JourneyLens and its typed subclasses; each carries the context a page, the
CLI or a test needs (the field, the value, what was expected, the nearest real names).

Every layer raises these; pages and components catch the root once (``components/errors.py``) and
show its text. Anything else (``KeyError``, ``ValueError`` from a bug) is left to surface.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Protocol

# How alike two names must be to call one "near" the other (difflib's ratio, ignoring case): the one
# rule of :func:`nearest_names`, :func:`close_names` and of the refusals' wording.
CLOSE_RATIO = 0.5


def is_close(name: str, other: str) -> bool:
    """True when ``other`` is near ``name``: equal ignoring case, or alike by :data:`CLOSE_RATIO`."""
    a, b = name.casefold(), other.casefold()
    return a == b or difflib.SequenceMatcher(None, b, a).ratio() >= CLOSE_RATIO


def nearest_names(name: str, known: Sequence[str], n: int = 3) -> list[str]:
    """The names of ``known`` nearest to ``name``: equal ignoring case first, then similar
    (difflib ratio ≥ :data:`CLOSE_RATIO`), else the first few known names (which a
    refusal then calls "some that exist", not "nearest")."""
    folded = {k.casefold(): k for k in known}
    out = [folded[name.casefold()]] if name.casefold() in folded else []
    similar = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=CLOSE_RATIO)
    out += [folded[s] for s in similar if folded[s] not in out]
    return out[:n] if out else list(known[:n])


def close_names(name: str, known: Sequence[str], n: int = 1) -> list[str]:
    """Those of :func:`nearest_names` that are near ``name`` (:func:`is_close`); [] when
    none is (a refusal then lists the names there are instead of calling one "nearest")."""
    return [k for k in nearest_names(name, known, n) if is_close(name, k)]


class JourneyLensError(Exception):
    """Base of every error JourneyLens shows to a user as a message instead of a traceback."""


def _shown(value: object, limit: int = 80) -> str:
    """A value as an error message quotes it: text in quotes, a whole number as typed (250, not the
    250.0 a form's number field gives), cut after ``limit`` characters."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    shown = repr(value)
    return shown[:limit] + ("…" if len(shown) > limit else "")


# ── bad input ────────────────────────────────────────────────────────────────────────────────────


class BadInputError(JourneyLensError):
    """Input that cannot be used (a form field, a CSV cell, a CLI option, a JSON map's key): names the
    row, the field or column, the value and what was expected.

    ``BadInputError("message", row=, column=, value=, expected=)`` describes a problem in words;
    ``BadInputError.invalid(field, value, expected)`` is the short form for one field's value.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        expected: str | None = None,
        field: str | None = None,
    ) -> None:
        if message is None:  # the short form: one field's value
            text = f"{field}: {_shown(value)} is not valid; expected {expected}."
        else:
            parts = [message]
            if row is not None:
                parts.append(f"row {row}")
            if column is not None:
                parts.append(f"column {column!r}")
            if value is not None:
                parts.append(f"value {_shown(value)}")
            if expected is not None:
                parts.append(f"expected {expected}")
            text = parts[0] + (" (" + "; ".join(parts[1:]) + ")" if len(parts) > 1 else "")
        super().__init__(text)
        self.row, self.column, self.value, self.expected = row, column, value, expected
        self.field = field if field is not None else column

    @classmethod
    def invalid(cls, field: str, value: object, expected: str) -> BadInputError:
        """``field: 'value' is not valid; expected …`` — one field's value is not acceptable."""
        return cls(field=field, value=value, expected=expected)


# The words every analysis that needs a conversion definition refuses with (one place, one wording).
CONVERSION_EXPECTED = "goal nodes or outcome values"


class ConversionUndefinedError(BadInputError):
    """An analysis that needs the dataset's conversion definition (goal nodes or outcome values) ran
    without one: ``ConversionUndefinedError("the outlook")`` →
    ``the outlook needs conversion defined: goal nodes or outcome values``; ``how`` adds where to define
    it. Carries ``analysis``."""

    def __init__(self, analysis: str, *, how: str | None = None) -> None:
        said = f"{analysis} needs conversion defined: {CONVERSION_EXPECTED}" + (f" ({how})" if how else "")
        super().__init__(said)
        self.expected, self.field, self.analysis = CONVERSION_EXPECTED, "conversion", analysis


# ── not enough data ──────────────────────────────────────────────────────────────────────────────


class NotEnoughDataError(JourneyLensError):
    """The data, under the settings chosen (filters, date, conversion definition, split), cannot support
    an analysis: no events, no journey that converts, too few closed journeys to learn from or to test
    on. The message says what is missing and what to change."""


# ── not found ────────────────────────────────────────────────────────────────────────────────────


class NotFoundError(JourneyLensError):
    """A stored item (a map, a persona, a dataset …) looked up by its id is not there."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!r} does not exist (it may have been deleted).")
        self.kind, self.ident = kind, ident


class UnknownNameError(JourneyLensError):
    """A name the user gave (a goal, a funnel step, an exclusion, a node, a dataset, a map, an analysis,
    a template) that does not exist; carries the nearest real names. Never replaced by another silently."""

    def __init__(
        self,
        what: str,
        name: object,
        nearest: list[str] | tuple[str, ...] = (),
        *,
        message: str | None = None,
        more: int = 0,
    ) -> None:
        self.what, self.name, self.nearest = what, name, tuple(nearest)
        message = message or f"No {what} is named {str(name)!r} in this dataset"
        if self.nearest:
            # ``more``: how many others exist beyond those listed (said, never cut off without a word).
            listed = ", ".join(repr(n) for n in self.nearest) + (f", and {more:,} more" if more > 0 else "")
            # Names offered as "nearest" must be near; otherwise they are only some that exist. An id
            # (a number) has no near one: the ones there are are listed.
            if isinstance(name, int) and not isinstance(name, bool):
                message += "; existing: " + listed
            elif any(is_close(str(name), str(n)) for n in self.nearest):
                message += "; nearest: " + listed
            else:
                message += "; nothing close; some that exist: " + listed
        super().__init__(message)

    @classmethod
    def among(cls, what: str, name: object, known: Sequence[str], *, message: str | None = None) -> UnknownNameError:
        """``name`` is not one of ``known`` (a model, a level, an analysis): refused with the near ones."""
        return cls(what, name, close_names(str(name), list(known), n=len(known)), message=message)


class UnknownColumnError(JourneyLensError):
    """An analysis asked for a role or column the dataset does not have."""


# ── concurrent edits ─────────────────────────────────────────────────────────────────────────────


class ConflictError(JourneyLensError):
    """A save started from a stale copy: someone else saved the map in between."""

    def __init__(self, map_id: int, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"This map was changed by someone else while you were editing (you started from version "
            f"{expected_version}, it is now at version {actual_version}). Nothing was saved: reload "
            f"the map and apply your changes again; what you typed is kept below."
        )
        self.map_id, self.expected_version, self.actual_version = map_id, expected_version, actual_version


# ── access ───────────────────────────────────────────────────────────────────────────────────────


class _Role(Protocol):
    @property
    def label(self) -> str: ...


class _Actor(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def role(self) -> _Role: ...


class AccessDeniedError(JourneyLensError):
    """The signed-in person's role does not allow this change; nothing was changed. ``actor`` and
    ``needed`` are :class:`db.access.Actor` and :class:`db.access.AccessRole` (raised by
    :func:`db.access.require`, which re-exports this class)."""

    def __init__(self, actor: _Actor, needed: _Role, action: str) -> None:
        super().__init__(
            f"{actor.name} is a {actor.role.label} here and may not {action} (it needs the {needed.label} role). "
            "Nothing was changed; ask an admin of this workspace for the role (it is set in "
            "`.streamlit/secrets.toml` under [journeylens.roles])."
        )
        self.actor, self.needed, self.action = actor, needed, action


# ── storage faults ───────────────────────────────────────────────────────────────────────────────


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


class EventsFileError(StorageError):
    """A dataset's stored events file is missing or cannot be read; names the dataset and what to do."""

    def __init__(self, label: str, path: str, problem: str) -> None:
        super().__init__(
            f"{label or 'This dataset'}: its events file is {problem} ({path}). Re-import the CSV on the Data "
            "page (or `python cli.py import`), or restore a backup (`python cli.py restore`); "
            "`python cli.py check` lists every dataset in this state."
        )
        self.label, self.path, self.problem = label, path, problem
