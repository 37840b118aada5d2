"""The audit trail as a table: who changed what and when (recorded by db/audit.py on every write)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from db.audit import list_audit_events
from db.engine import read_session

COLUMNS = ["when", "who", "action", "object", "object_id", "map_id", "summary"]


def audit_table(map_id: int | None = None, *, limit: int = 1000, engine: Engine | None = None) -> pd.DataFrame:
    """Newest first; of one map (``map_id``): its own changes and those of its datasets, links and
    conversion definitions. Empty (with its columns) when nothing was recorded."""
    with read_session(engine) as session:
        rows = list_audit_events(session, map_id=map_id, limit=limit)
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
