"""The audit trail as a table: who changed what and when (recorded by db/audit.py on every write)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from core.errors import BadInputError
from db.audit import list_audit_events
from db.engine import read_session

COLUMNS = ["when", "who", "action", "object", "object_id", "map_id", "summary"]


def audit_table(map_id: int | None = None, *, limit: int = 1000, engine: Engine | None = None) -> pd.DataFrame:
    """Newest first; of one map (``map_id``): its own changes and those of its datasets, links and
    conversion definitions. Empty (with its columns) when nothing was recorded.

    A ``limit`` below 1 is refused (SQLite would read ``LIMIT -1`` as no limit at all). A ``map_id``
    that no map has and no change names is refused with the maps there are; a deleted map's changes
    are still listed."""
    if limit < 1:
        raise BadInputError.invalid("limit", limit, "a whole number of at least 1")
    with read_session(engine) as session:
        rows = list_audit_events(session, map_id=map_id, limit=limit)
        if map_id is not None and not rows:
            from services.context import check_map_id  # the one refusal of an unknown map id

            check_map_id(session, map_id)
    return pd.DataFrame(
        [
            {
                "when": e.at,
                "who": e.actor,
                "action": e.action,
                "object": e.object_type,
                "object_id": e.object_id,
                "map_id": e.map_id,
                "summary": e.summary,
            }
            for e in rows
        ],
        columns=COLUMNS,
    ).astype({"object_id": "Int64", "map_id": "Int64"})
