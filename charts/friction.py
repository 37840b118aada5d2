"""Figures of the friction index: each touchpoint's (or stage's) index as stacked contributions.

Data in (``analytics.friction.compute_friction`` tables), go.Figure out.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

COMPONENT_COLOURS: dict[str, str] = {
    "exit": "#c62828",
    "backtrack": "#6a1b9a",
    "repeat": "#ef6c00",
    "delay": "#1565c0",
    "feedback": "#00838f",
}
COMPONENT_NAMES: dict[str, str] = {
    "exit": "Exit above base",
    "backtrack": "Backtrack",
    "repeat": "Repeat",
    "delay": "Delay",
    "feedback": "Negative feedback",
}


FRICTION_BARS = 15  # rows the components chart draws at most


def friction_components_figure(
    table: pd.DataFrame, *, label: str = "touchpoint", top_n: int = FRICTION_BARS
) -> go.Figure:
    """Stacked horizontal bars: each component's contribution (``contrib_*``) to the index,
    highest index on top; at most ``top_n`` rows (the table beside it has them all).
    """
    rows = table.sort_values("friction", ascending=False, na_position="last").head(top_n)
    # Touchpoint and stage names are user text: escaped, as Plotly renders tags in tick labels.
    names = [
        html.escape(
            f"{r[label]}" + (f" ({r['stage']})" if label == "touchpoint" and isinstance(r.get("stage"), str) else "")
        )
        for _, r in rows.iterrows()
    ]
    fig = go.Figure()
    for key, colour in COMPONENT_COLOURS.items():
        values = rows[f"contrib_{key}"].fillna(0.0)
        fig.add_trace(
            go.Bar(
                x=values,
                y=names,
                orientation="h",
                name=COMPONENT_NAMES[key],
                marker={"color": colour},
                hovertemplate="%{y}<br>" + COMPONENT_NAMES[key] + ": %{x:.1f} points<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=rows["friction"].fillna(0.0),
            y=names,
            mode="text",
            text=[f"{v:.0f}" if pd.notna(v) else "–" for v in rows["friction"]],
            textposition="middle right",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        barmode="stack",
        xaxis={"title": "friction index (0–100)", "range": [0, max(100.0, float(rows["friction"].max() or 0) + 8)]},
        yaxis={"autorange": "reversed"},
        height=max(260, 80 + 28 * len(rows)),
        margin={"l": 20, "r": 20, "t": 20, "b": 40},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig
