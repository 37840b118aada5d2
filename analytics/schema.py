"""The one schema object for an event log: column roles, and the stored (canonical) layout.

An import maps the columns of a user's CSV to *roles*; the events are then stored as Parquet
under canonical column names, so no analysis ever sees a user's header. :class:`EventSchema`
says which optional roles a dataset has and which segment columns it carries.

Stored layout (one Parquet file per dataset, ``events.parquet``), sorted by
``journey_code, timestamp, file_row`` (the tie rule: timestamp, then position in the file):

=================  ==========================  ==============================================
column             type                        meaning
=================  ==========================  ==============================================
journey_id         string                      contact-level journey id as in the file
journey_code       int32                       dense code of journey_id (0..n-1)
seq                int32                       0-based position within the journey (tie rule)
account_id         string, nullable            account (buying committee); journey_id if absent
account_code       int32                       dense code of account_id
account_seq        int32                       0-based position within the account's events,
                                               ordered by timestamp, then file_row
contact_id         string, nullable
role               string, nullable            contact's committee role
timestamp          timestamp[us, tz=UTC]
file_row           int64                       1-based data-row number in the source file
activity           string                      the event's activity (a touchpoint, once linked)
activity_code      int32                       dense code of activity
channel, stage,    string, nullable
outcome
value, nps, csat,  float64, nullable
effort
fcr                bool, nullable              resolved on first contact
segment columns    string                      named ``segment:<source column>``
=================  ==========================  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from core.errors import UnknownColumnError


class Role(StrEnum):
    """Column roles an import can map a CSV column to."""

    JOURNEY = "journey"
    TIMESTAMP = "timestamp"
    ACTIVITY = "activity"
    ACCOUNT = "account"
    CONTACT = "contact"
    ROLE = "role"
    CHANNEL = "channel"
    STAGE = "stage"
    OUTCOME = "outcome"
    VALUE = "value"
    NPS = "nps"
    CSAT = "csat"
    EFFORT = "effort"
    FCR = "fcr"


REQUIRED_ROLES: tuple[Role, ...] = (Role.JOURNEY, Role.TIMESTAMP, Role.ACTIVITY)
OPTIONAL_ROLES: tuple[Role, ...] = tuple(r for r in Role if r not in REQUIRED_ROLES)

# Canonical stored column for each role.
STORED_COLUMN: dict[Role, str] = {
    Role.JOURNEY: "journey_id",
    Role.TIMESTAMP: "timestamp",
    Role.ACTIVITY: "activity",
    Role.ACCOUNT: "account_id",
    Role.CONTACT: "contact_id",
    Role.ROLE: "role",
    Role.CHANNEL: "channel",
    Role.STAGE: "stage",
    Role.OUTCOME: "outcome",
    Role.VALUE: "value",
    Role.NPS: "nps",
    Role.CSAT: "csat",
    Role.EFFORT: "effort",
    Role.FCR: "fcr",
}

NUMERIC_ROLES: frozenset[Role] = frozenset({Role.VALUE, Role.NPS, Role.CSAT, Role.EFFORT})
SEGMENT_PREFIX = "segment:"

# Derived columns computed once at import.
JOURNEY_CODE = "journey_code"
ACCOUNT_CODE = "account_code"
ACTIVITY_CODE = "activity_code"
SEQ = "seq"
ACCOUNT_SEQ = "account_seq"
FILE_ROW = "file_row"


STRING_ROLES: tuple[Role, ...] = (Role.CONTACT, Role.ROLE, Role.CHANNEL, Role.STAGE, Role.OUTCOME)

# Every stored column but the segments, in stored order (segments follow as ``segment:<name>``).
STORED_COLUMNS: tuple[str, ...] = (
    "journey_id",
    JOURNEY_CODE,
    SEQ,
    "account_id",
    ACCOUNT_CODE,
    ACCOUNT_SEQ,
    "contact_id",
    "role",
    "timestamp",
    FILE_ROW,
    "activity",
    ACTIVITY_CODE,
    "channel",
    "stage",
    "outcome",
    "value",
    "nps",
    "csat",
    "effort",
    "fcr",
)

# What each event's neighbours in its contact journey (stored order) say, stored once at import
# after the stored columns and the segments, so the commonest analyses need no window function
# (see :func:`analytics.journeys.event_neighbours`). Optional: a dataset imported before they
# existed, or a table on another backend, lacks them, and the analyses compute the same values
# with window functions.
NEXT_ACTIVITY_CODE = "next_activity_code"  # the next event's activity code; null at the last event
GAP_TO_NEXT = "gap_to_next"  # seconds from this event to the next (epoch seconds apart); null at the last
NEXT_STAGE = "next_stage"  # the next event's stage column; null at the last event or without one
PREV_ACTIVITY_CODE = "prev_activity_code"  # the previous event's activity code; null at the first event
FIRST_OF_ACTIVITY = "first_of_activity"  # the journey's first event with this activity
FIRST_OF_PAIR = "first_of_pair"  # the journey's first event with this (activity, next activity)
JOURNEY_EVENTS = "journey_events"  # events in the journey
NEIGHBOUR_COLUMNS: tuple[str, ...] = (
    NEXT_ACTIVITY_CODE,
    GAP_TO_NEXT,
    NEXT_STAGE,
    PREV_ACTIVITY_CODE,
    FIRST_OF_ACTIVITY,
    FIRST_OF_PAIR,
    JOURNEY_EVENTS,
)


def segment_column(source_name: str) -> str:
    """Stored name of a segment column."""
    return f"{SEGMENT_PREFIX}{source_name}"


class RoleSet(frozenset[Role]):
    """A frozenset of roles that pickles (and so keys Streamlit's caches) in one order, its sorted one.

    A plain frozenset pickles in its iteration order, which depends on the order its members were
    added; a copy read back from a cache can then iterate in another order, and ``st.cache_data``
    (which hashes a set by that order) misses for an equal schema: a fresh session recomputed
    every analysis once more.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (RoleSet, (sorted(self),))


@dataclass(frozen=True)
class EventSchema:
    """Which roles a stored dataset has. Hashable, so it can key caches.

    ``roles`` holds every role present (the required ones always are); ``segments`` the source
    names of segment columns (stored as ``segment:<name>``).
    """

    roles: frozenset[Role] = field(default_factory=lambda: RoleSet(REQUIRED_ROLES))
    segments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if type(self.roles) is not RoleSet:
            object.__setattr__(self, "roles", RoleSet(self.roles))

    def has(self, role: Role) -> bool:
        return role in self.roles

    def column(self, role: Role) -> str:
        """Stored column for ``role``; raises :class:`UnknownColumnError` if the dataset lacks it."""
        if role not in self.roles:
            raise UnknownColumnError(f"this dataset has no {role.value} column")
        return STORED_COLUMN[role]

    def segment_columns(self) -> tuple[str, ...]:
        return tuple(segment_column(s) for s in self.segments)

    def to_dict(self) -> dict[str, list[str]]:
        return {"roles": sorted(r.value for r in self.roles), "segments": list(self.segments)}

    @classmethod
    def from_dict(cls, data: dict[str, list[str]]) -> EventSchema:
        return cls(
            roles=frozenset(Role(r) for r in data.get("roles", [])) | frozenset(REQUIRED_ROLES),
            segments=tuple(data.get("segments", [])),
        )


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column of a CSV plays each role (the import's side of the schema).

    ``columns`` maps a role to a source header; ``segments`` lists source headers kept as segment
    columns. Journey, timestamp and activity are required.
    """

    columns: tuple[tuple[Role, str], ...]
    segments: tuple[str, ...] = ()

    @classmethod
    def of(cls, segments: tuple[str, ...] | list[str] = (), **roles: str | None) -> ColumnMapping:
        """``ColumnMapping.of(journey="case", timestamp="ts", activity="act", account=None, ...)``."""
        cols = tuple((Role(k), v) for k, v in roles.items() if v)
        return cls(columns=cols, segments=tuple(segments))

    def as_dict(self) -> dict[Role, str]:
        return dict(self.columns)

    def source(self, role: Role) -> str | None:
        return self.as_dict().get(role)

    def missing_required(self) -> list[Role]:
        present = self.as_dict()
        return [r for r in REQUIRED_ROLES if r not in present]

    def schema(self) -> EventSchema:
        return EventSchema(roles=frozenset(self.as_dict()) | frozenset(REQUIRED_ROLES), segments=self.segments)

    def to_json(self) -> dict[str, object]:
        return {**{r.value: c for r, c in self.columns}, "segments": list(self.segments)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ColumnMapping:
        segments = tuple(cast("Iterable[str]", data.get("segments", []) or []))
        cols = tuple((Role(k), str(v)) for k, v in data.items() if k != "segments" and v)
        return cls(columns=cols, segments=segments)


@dataclass(frozen=True)
class EventCounts:
    """What a stored event log holds: its events, journeys, accounts and activities, and its time span."""

    events: int
    journeys: int
    accounts: int
    activities: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None


def counts_of(record: object) -> dict[str, Any]:
    """The :class:`EventCounts` fields of ``record`` (a result, a dataset's row), as keyword arguments."""
    return {f.name: getattr(record, f.name) for f in fields(EventCounts)}
