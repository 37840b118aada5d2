"""Attribution and outlook results made ready for people and the CLI: the map overlay's per-touchpoint
credits and the outlook's summaries (the CLI's JSON rows: ``services.reports``). The analyses themselves run through the
registry on the one context (``services.analysis.run(ctx, "attribution" | "outlook", ...)``), so a
journey converts (and is lost) as the dataset's definition says.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.attribution import AttributionResult
from analytics.outlook import OutlookResult
from services.context import AnalysisContext

ATTRIBUTION_OVERLAY_COLUMNS = ["touchpoint_id", "touchpoint", "attributed_conversions", "removal_effect"]


def compute_touchpoint_attribution(ctx: AnalysisContext, result: AttributionResult) -> pd.DataFrame:
    """Overlay measures for the map grid: one row per touchpoint of the context's map, in display order.

    Columns: ``touchpoint_id``, ``touchpoint``, ``attributed_conversions`` (Markov credit: removal
    effects normalised to the conversions) and ``removal_effect`` (fraction 0..1). A touchpoint no
    journey reaches gets 0 for both.
    """
    credits = result.table.set_index(result.by)
    rows = []
    for tp in ctx.touchpoints:
        key = tp.label if tp.label in credits.index else tp.name
        found = key in credits.index
        rows.append(
            {
                "touchpoint_id": tp.id,
                "touchpoint": tp.name,
                "attributed_conversions": float(credits.loc[key, "markov"]) if found else 0.0,
                "removal_effect": float(credits.loc[key, "removal_effect"]) if found else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=ATTRIBUTION_OVERLAY_COLUMNS)


def compute_top_transitions(result: AttributionResult, top_n: int = 200) -> pd.DataFrame:
    """The chain's ``top_n`` most counted transitions (ties: by source, then target), for display;
    the download carries them all."""
    t = result.transitions
    return (
        t.sort_values(["count", "source", "target"], ascending=[False, True, True]).head(top_n).reset_index(drop=True)
    )


# --------------------------------------------------------------------------- outlook


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
    "support",
    "probability_after_action",
    "factors",
    "markov_probability",
    "model",
)


def compute_ranked_open_journeys(result: OutlookResult) -> pd.DataFrame:
    """The list for the sales team: open journeys (accounts at account level) ranked by their
    probability of reaching the goal, 1-based ``rank`` first, internal codes left out."""
    table = result.table.copy()
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[list(RANKED_COLUMNS)]


def count_models_disagreeing(result: OutlookResult) -> int:
    """The open journeys whose likeliest next steps (one model) leave less room than their probability of
    converting (another model) allows: a next step that is lost more often than ``1 − probability``, or
    that converts more often than the probability. The learned outlook's two models are fitted apart,
    so the page says how often they disagree instead of letting one row contradict itself unsaid."""
    from analytics.outlook import goal_label

    won_name, lost_names = goal_label(result.conversion), set(result.conversion.lost_names())
    count = 0
    for p, nxt in zip(result.table["conversion_probability"], result.table["next_touchpoint_list"], strict=True):
        if pd.isna(p):
            continue
        lost = sum(q for name, q in nxt if name in lost_names)
        won = sum(q for name, q in nxt if name == won_name)
        count += bool(lost > 1 - p + 1e-9 or won > p + 1e-9)
    return count


BACKTEST_MODELS = {
    "learned": "Learned model",
    "majority": "Majority class",
    "markov": "First-order Markov chain",
    "3-gram": "3-gram back-off",
    "last touchpoint rate": "Last touchpoint's conversion rate",
    "base rate": "Base rate",
}


def compute_backtest_table(result: Any) -> pd.DataFrame:
    """The backtest's figures, one row per model and measure: ``measure`` (``next touchpoint
    accuracy``, ``conversion AUC``, ``conversion Brier``), ``model`` (machine name), ``label`` (for
    people) and ``value``."""
    nxt = result.next_touchpoint.rename(columns={"accuracy": "value"}).assign(measure="next touchpoint accuracy")
    conv = result.conversion.melt(id_vars="model", var_name="measure", value_name="value")
    conv["measure"] = "conversion " + conv["measure"].map({"auc": "AUC", "brier": "Brier"})
    table = pd.concat([nxt, conv], ignore_index=True)
    table["label"] = table["model"].map(BACKTEST_MODELS).fillna(table["model"])
    return table[["measure", "model", "label", "value"]]
