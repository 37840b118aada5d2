"""Use cases of attribution and journey outlook, by dataset (and optionally the map it is linked to).

Each use case opens the dataset like every other analysis (:func:`services.analysis.open_analysis`):
with a map (the one given, else the dataset's own), activities are relabelled to the map's
touchpoints and stages, so a goal can be a touchpoint or a stage of the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from analytics import attribution as attribution_core
from analytics import outlook as outlook_core
from analytics.attribution import AttributeBy, AttributionResult
from analytics.journeys import JourneyQuery
from analytics.outlook import OutlookResult
from analytics.schema import Role
from db import crud
from db.engine import read_session
from services.analysis import Analysis, open_analysis
from services.datasets import get_event_source

# --------------------------------------------------------------------------- journeys of a dataset


def open_dataset(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> Analysis:
    """The events and completed query of a dataset (:func:`services.analysis.open_analysis`)."""
    return open_analysis(dataset_id, map_id=map_id, query=query, engine=engine)


def has_channel(dataset_id: int, *, engine: Engine | None = None) -> bool:
    """Whether attribution by channel is possible (the dataset has a channel column)."""
    return get_event_source(dataset_id, engine=engine)[1].has(Role.CHANNEL)


@dataclass(frozen=True)
class GoalOptions:
    """What a goal (and lost names) can be: touchpoints, most visited first, then stages (map order
    when linked, else most visited first); with a suggested goal and suggested lost touchpoints."""

    touchpoints: tuple[str, ...]
    stages: tuple[str, ...]
    goal: str | None
    lost: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.touchpoints, *self.stages)))


def list_goal_options(
    dataset_id: int, *, map_id: int | None = None, query: JourneyQuery = JourneyQuery(), engine: Engine | None = None
) -> GoalOptions:
    a = open_dataset(dataset_id, map_id=map_id, query=replace(query, by="touchpoint"), engine=engine)
    nodes = attribution_core.node_counts(a.events, a.schema, a.query)
    stages: tuple[str, ...] = a.map_stage_order
    if not stages and (a.schema.has(Role.STAGE) or a.query.stage_of):
        stages = tuple(attribution_core.node_counts(a.events, a.schema, replace(a.query, by="stage"))["node"])
    return GoalOptions(
        touchpoints=tuple(nodes["node"]),
        stages=stages,
        goal=attribution_core.suggest_goal(nodes),
        lost=tuple(attribution_core.suggest_lost(nodes)),
    )


# --------------------------------------------------------------------------- attribution


def compute_attribution(
    dataset_id: int,
    *,
    goal: str,
    by: AttributeBy = "touchpoint",
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    lost: tuple[str, ...] = (),
    engine: Engine | None = None,
) -> AttributionResult:
    """Conversions credited by first touch, last touch, linear, position-based and Markov models
    (semantics: :func:`analytics.attribution.compute_attribution`). ``query`` sets the level,
    repeats and filters."""
    a = open_dataset(dataset_id, map_id=map_id, query=query, engine=engine)
    return attribution_core.compute_attribution(a.events, a.schema, a.query, goal, by=by, lost=tuple(lost))


def _touchpoint_labels(map_id: int, engine: Engine | None) -> list[tuple[int, str, str]]:
    """``(id, name, label)`` of a map's touchpoints in display order; the label is what relabelled
    journeys carry (:mod:`services.linking`): the name, or ``name (stage)`` when the name occurs in
    several stages."""
    with read_session(engine) as session:
        stages = {s.id: s.name for s in crud.list_stages(session=session, map_id=map_id)}
        rows = [
            (t.id or 0, t.name, stages.get(t.stage_id, ""))
            for t in crud.list_touchpoints(session=session, map_id=map_id)
        ]
    stages_of: dict[str, set[str]] = {}
    for _, name, stage in rows:
        stages_of.setdefault(name, set()).add(stage)
    return [(i, name, name if len(stages_of[name]) == 1 else f"{name} ({stage})") for i, name, stage in rows]


def compute_touchpoint_attribution(
    dataset_id: int,
    map_id: int,
    goal: str,
    *,
    query: JourneyQuery = JourneyQuery(),
    lost: tuple[str, ...] = (),
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Overlay measures for the map grid: one row per touchpoint of the map, in display order.

    Columns: ``touchpoint_id``, ``touchpoint``, ``attributed_conversions`` (Markov credit: removal
    effects normalised to the conversions) and ``removal_effect`` (fraction 0..1). A touchpoint no
    journey reaches gets 0 for both.
    """
    result = compute_attribution(dataset_id, goal=goal, map_id=map_id, query=query, lost=lost, engine=engine)
    credits = result.table.set_index("touchpoint")
    rows = []
    for touchpoint_id, name, label in _touchpoint_labels(map_id, engine):
        key = label if label in credits.index else name
        found = key in credits.index
        rows.append(
            {
                "touchpoint_id": touchpoint_id,
                "touchpoint": name,
                "attributed_conversions": float(credits.loc[key, "markov"]) if found else 0.0,
                "removal_effect": float(credits.loc[key, "removal_effect"]) if found else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=["touchpoint_id", "touchpoint", "attributed_conversions", "removal_effect"])


def compute_top_transitions(result: AttributionResult, top_n: int = 200) -> pd.DataFrame:
    """The chain's ``top_n`` most counted transitions (ties: by source, then target), for display;
    the download carries them all."""
    t = result.transitions
    return (
        t.sort_values(["count", "source", "target"], ascending=[False, True, True]).head(top_n).reset_index(drop=True)
    )


def attribution_records(result: AttributionResult) -> list[dict[str, Any]]:
    """The CLI's JSON rows: ``{<by>, first_touch, last_touch, linear, position_based, removal_effect, markov}``."""
    columns = [result.by, "first_touch", "last_touch", "linear", "position_based", "removal_effect", "markov"]
    return [
        {k: (str(v) if k == result.by else round(float(v), 6)) for k, v in row.items()}
        for row in result.table[columns].to_dict(orient="records")
    ]


# --------------------------------------------------------------------------- outlook


def compute_outlook(
    dataset_id: int,
    *,
    goal: str,
    lost: tuple[str, ...] = (),
    as_of: date | None = None,
    active_days: int = outlook_core.DEFAULT_ACTIVE_DAYS,
    map_id: int | None = None,
    query: JourneyQuery = JourneyQuery(),
    min_transitions: int = outlook_core.DEFAULT_MIN_TRANSITIONS,
    engine: Engine | None = None,
) -> OutlookResult:
    """Open journeys with their conversion probability, likely next touchpoints and next best action
    (semantics: :mod:`analytics.outlook`). ``query`` sets the level, repeats and filters."""
    a = open_dataset(dataset_id, map_id=map_id, query=query, engine=engine)
    return outlook_core.compute_outlook(
        a.events,
        a.schema,
        a.query,
        goal,
        lost=tuple(lost),
        as_of=as_of,
        active_days=active_days,
        min_transitions=min_transitions,
    )


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 6)


def outlook_records(result: OutlookResult) -> list[dict[str, Any]]:
    """The CLI's JSON rows: ``{journey, last_touchpoint, conversion_probability, next_best_action, lift}``
    (``journey`` is the journey's id as in the data; unknown values are null)."""
    return [
        {
            "journey": str(row["journey_key"]),
            "last_touchpoint": str(row["last_touchpoint"]),
            "conversion_probability": _number(row["conversion_probability"]),
            "next_best_action": row["next_best_action"] if isinstance(row["next_best_action"], str) else None,
            "lift": _number(row["lift"]),
        }
        for row in result.table.to_dict(orient="records")
    ]


def compute_outlook_summary(result: OutlookResult) -> pd.DataFrame:
    """Next best actions across the open journeys: ``next_best_action, journeys, mean_lift,
    mean_probability`` (journeys without an action are counted as ``(none)``), most journeys first."""
    table = result.table.copy()
    table["next_best_action"] = table["next_best_action"].where(
        table["next_best_action"].map(lambda v: isinstance(v, str)), "(none)"
    )
    if table.empty:
        return pd.DataFrame(columns=["next_best_action", "journeys", "mean_lift", "mean_probability"])
    summary = table.groupby("next_best_action", as_index=False).agg(
        journeys=("journey", "count"),
        mean_lift=("lift", "mean"),
        mean_probability=("conversion_probability", "mean"),
    )
    return summary.sort_values(["journeys", "next_best_action"], ascending=[False, True], ignore_index=True)


RANKED_COLUMNS = (
    "rank",
    "journey_key",
    "conversion_probability",
    "last_touchpoint",
    "last_timestamp",
    "steps",
    "next_touchpoints",
    "next_best_action",
    "lift",
    "probability_after_action",
)


def compute_ranked_open_journeys(result: OutlookResult) -> pd.DataFrame:
    """The list for the sales team: open journeys (accounts at account level) ranked by their
    probability of reaching the goal, 1-based ``rank`` first, internal codes left out."""
    table = result.table.copy()
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[list(RANKED_COLUMNS)]
