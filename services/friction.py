"""Friction of a dataset seen through a map: the index per touchpoint and stage, hot spots,
and the table shown beside the chart (its JSON: ``services.reports``). Formula: :mod:`analytics.friction`.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from analytics import friction as af
from analytics.friction import FrictionResult, FrictionWeights
from analytics.journeys import JourneyQuery, Level
from services.analysis import run
from services.context import AnalysisContext, open_context


def compute_context_friction(ctx: AnalysisContext, *, weights: FrictionWeights = FrictionWeights()) -> FrictionResult:
    """The friction index of a context's events, converting as the dataset's definition says (no
    definition: no journey converts, and every journey's end is an exit)."""
    return run("friction", ctx, weights=weights)


def compute_dataset_friction(
    dataset_id: int,
    map_id: int | None = None,
    *,
    weights: FrictionWeights = FrictionWeights(),
    level: Level = "contact",
    engine: Engine | None = None,
) -> FrictionResult:
    """The friction index of a dataset, through ``map_id`` (default: the map it is linked to)."""
    ctx = open_context(dataset_id, map_id, query=JourneyQuery(level=level), engine=engine)
    return compute_context_friction(ctx, weights=weights)


def compute_friction_table(result: FrictionResult, *, level: str = "touchpoint") -> pd.DataFrame:
    """The table shown and downloaded beside the friction chart (touchpoints or stages), in
    readable units: rates in % and times in hours; ``contrib_*`` are index points.
    """
    df = result.touchpoints if level == "touchpoint" else result.stages
    out = pd.DataFrame()
    if level == "touchpoint":
        out["touchpoint"] = df["touchpoint"]
    out["stage"] = df["stage"]
    out["friction"] = df["friction"].round(1)
    out["journeys"] = df["journeys"]
    out["events"] = df["events"]
    for col in ("exit_rate", "base_exit_rate", "backtrack_rate", "repeat_rate", "negative_rate"):
        out[f"{col}_pct"] = (100.0 * df[col]).round(1)
    out["median_gap_hours"] = (df["median_gap_seconds"] / 3600.0).round(2)
    out["reference_gap_hours"] = (df["reference_gap_seconds"] / 3600.0).round(2)
    for k in af.COMPONENTS:
        out[f"contrib_{k}"] = df[f"contrib_{k}"].round(2)
    out["reason"] = df["reason"]
    return out.reset_index(drop=True)
