"""Outcomes: how journeys ended, e.g. hired / not now / no way, or approved / declined.

Semantics
- A journey's outcome is the value of the ``outcome`` column on its last event that has one (order:
  timestamp, then position in the file); a journey with none has ``NO_OUTCOME``.
- Journeys are those of :func:`analytics.journeys.journey_steps` for the query (level, filters and
  node, so a stage-level query leaves out journeys with no stage), with every event kept as a step
  (repeats never hide an outcome).
- ``share`` is ``journeys`` over all journeys of the query. Sorted by journeys descending, then outcome.
"""

from __future__ import annotations

from dataclasses import replace

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.journeys import JOURNEY, POSITION, JourneyQuery, journey_steps
from analytics.schema import EventSchema, Role

NO_OUTCOME = "(no outcome)"
OTHER_OUTCOME = "(other)"  # outcomes outside a declared list (analytics.metrics.compute_outcome_shares)
OUTCOME_COLUMNS = ["outcome", "journeys", "share"]


def journey_outcomes(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """One row per journey: ``journey`` and ``outcome`` (null when it has none)."""
    col = schema.column(Role.OUTCOME) if schema.has(Role.OUTCOME) else None
    if col is None:
        from core.errors import UnknownColumnError

        raise UnknownColumnError("outcomes need an outcome column, and this dataset has none")
    s = journey_steps(
        events, schema, replace(query, collapse_repeats=False), columns=(col,), labelled=False, numbered=False
    )
    return last_outcomes(s, col)


def last_outcomes(steps: Table, column: str) -> Table:
    """``journey, outcome`` per journey of ``steps`` (every event a step, with ``position``): the
    value of ``column`` on its last step that has one (null when none)."""
    return steps.group_by(JOURNEY).aggregate(
        outcome=steps[column].argmax(steps[POSITION], where=steps[column].notnull())
    )


def compute_outcomes(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> pd.DataFrame:
    """Counts and shares of journey outcomes: ``outcome, journeys, share``. Semantics in the module docstring."""
    o = journey_outcomes(events, schema, query)
    o = o.mutate(outcome=o.outcome.fill_null(ibis.literal(NO_OUTCOME)))
    frame = execute(o.group_by("outcome").aggregate(journeys=o.count()))
    if frame.empty:
        return pd.DataFrame(
            {
                "outcome": pd.Series(dtype="object"),
                "journeys": pd.Series(dtype="int64"),
                "share": pd.Series(dtype="float64"),
            }
        )
    frame["journeys"] = frame["journeys"].astype("int64")
    frame["share"] = frame["journeys"] / frame["journeys"].sum()
    frame = frame.sort_values(["journeys", "outcome"], ascending=[False, True], kind="stable")
    return frame[OUTCOME_COLUMNS].reset_index(drop=True)
