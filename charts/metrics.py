"""Figures of success metrics: a metric's trend against its target, outcome shares.

Data in (the ``compute_*`` twins of services.metrics / analytics.metrics), go.Figure out. User text
(metric names, outcomes) is HTML-escaped: Plotly renders tags such as ``<a href>`` in labels.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from charts.palette import NO_STATUS, STATUS_COLOURS

STATUS_TEXT: dict[str, str] = {"green": "on target", "amber": "near target", "red": "off target", "none": "no target"}


def metric_trend_figure(history: pd.DataFrame, *, name: str = "", unit: str = "") -> go.Figure:
    """Values per period (markers coloured by status) with the target as a dashed line.

    ``history``: ``period, value, target, status`` (``services.metrics.compute_metric_history``).
    """
    fig = go.Figure()
    if len(history):
        fig.add_trace(
            go.Scatter(
                x=history["period"],
                y=history["value"],
                mode="lines+markers",
                name=html.escape(name) if name else "value",
                line={"color": "#5c6bc0", "width": 2},
                marker={"size": 11, "color": [STATUS_COLOURS.get(s, NO_STATUS) for s in history["status"]]},
                customdata=[STATUS_TEXT.get(s, s) for s in history["status"]],
                hovertemplate="%{x}: %{y:.1f}" + (f" {unit}" if unit else "") + " (%{customdata})<extra></extra>",
            )
        )
        target = history["target"].dropna()
        if len(target):
            fig.add_trace(
                go.Scatter(
                    x=history["period"],
                    y=[float(target.iloc[0])] * len(history),
                    mode="lines",
                    name="target",
                    line={"color": "#9e9e9e", "dash": "dash"},
                    hovertemplate="target %{y:.1f}<extra></extra>",
                )
            )
    fig.update_layout(
        title=html.escape(name) if name else None,
        xaxis={"type": "category", "title": "period"},
        yaxis={"title": unit or "value"},
        margin={"l": 40, "r": 20, "t": 50 if name else 20, "b": 40},
        height=320,
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def outcome_shares_figure(shares: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Horizontal bars of journeys per outcome with their share (``outcome, journeys, share``)."""
    fig = go.Figure(
        go.Bar(
            x=shares["journeys"],
            y=[html.escape(str(o)) for o in shares["outcome"]],
            orientation="h",
            text=[
                f"{n:,} ({100 * s:.0f}%)" if pd.notna(s) else f"{n:,}"
                for n, s in zip(shares["journeys"], shares["share"], strict=True)
            ],
            textposition="auto",
            marker={"color": "#5c6bc0"},
            hovertemplate="%{y}: %{x:,} journeys<extra></extra>",
        )
    )
    fig.update_layout(
        title=html.escape(title) if title else None,
        yaxis={"autorange": "reversed"},
        xaxis={"title": "journeys"},
        height=max(200, 60 + 40 * len(shares)),
        margin={"l": 20, "r": 20, "t": 40 if title else 10, "b": 40},
    )
    return fig
