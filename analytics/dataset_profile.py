"""Profiles of a stored dataset: its activities and stages, with where they typically fall in a journey.

Used to link a dataset to a map (activity names to touchpoints) and to draft a map from a dataset
(stages in their typical order, each activity in the stage it most often carries).

Semantics
- Contact-level journeys; positions are ``seq`` (0 for a journey's first event).
- ``typical_position`` of an activity: the mean, over the journeys that contain it, of the
  position of its first occurrence in the journey.
- ``typical_position`` of a stage: the same for the journey's first event in that stage.
  ``first_row`` is the first file row (source order) carrying the stage, the tie-breaker.
- ``stage`` of an activity: the stage value its events carry most often (ties: the alphabetically
  first); null when the dataset has no stage column or the activity's events carry none.
"""

from __future__ import annotations

import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.schema import FILE_ROW, JOURNEY_CODE, SEQ, EventSchema, Role

ACTIVITY_PROFILE_COLUMNS = ["activity", "events", "journeys", "stage", "typical_position"]
STAGE_PROFILE_COLUMNS = ["stage", "events", "journeys", "typical_position", "first_row"]


def compute_activity_profile(events: Table, schema: EventSchema) -> pd.DataFrame:
    """One row per activity: ``activity, events, journeys, stage, typical_position``, most events first."""
    t = events
    first = t.group_by([JOURNEY_CODE, "activity"]).aggregate(_first=t[SEQ].min(), _n=t.count())
    agg = first.group_by("activity").aggregate(
        events=first._n.sum(), journeys=first.count(), typical_position=first._first.mean()
    )
    profile = execute(agg)
    if schema.has(Role.STAGE):
        s = events.filter(events.stage.notnull())
        counts = execute(s.group_by(["activity", "stage"]).aggregate(n=s.count()))
        if not counts.empty:
            counts = counts.sort_values(["activity", "n", "stage"], ascending=[True, False, True])
            top = counts.drop_duplicates("activity")[["activity", "stage"]]
            profile = profile.merge(top, on="activity", how="left")
    if "stage" not in profile.columns:
        profile["stage"] = None
    profile = profile.sort_values(["events", "activity"], ascending=[False, True], kind="stable")
    profile["events"] = profile["events"].astype("int64")
    profile["journeys"] = profile["journeys"].astype("int64")
    return profile[ACTIVITY_PROFILE_COLUMNS].reset_index(drop=True)


def compute_stage_profile(events: Table, schema: EventSchema) -> pd.DataFrame:
    """One row per stage value, in typical order: ``stage, events, journeys, typical_position, first_row``.

    Empty when the dataset has no stage column.
    """
    if not schema.has(Role.STAGE):
        return pd.DataFrame(columns=STAGE_PROFILE_COLUMNS)
    t = events.filter(events.stage.notnull())
    first = t.group_by([JOURNEY_CODE, "stage"]).aggregate(
        _first=t[SEQ].min(), events=t.count(), first_row=t[FILE_ROW].min()
    )
    agg = first.group_by("stage").aggregate(
        events=first.events.sum(),
        journeys=first.count(),
        typical_position=first._first.mean(),
        first_row=first.first_row.min(),
    )
    profile = execute(agg)
    profile = profile.sort_values(["typical_position", "first_row", "stage"], kind="stable").reset_index(drop=True)
    for col in ("events", "journeys", "first_row"):
        profile[col] = profile[col].astype("int64")
    return profile[STAGE_PROFILE_COLUMNS]
