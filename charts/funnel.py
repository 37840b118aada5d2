"""Funnel figures: the funnel, its breakdown, and the time between steps. Data in, figure out."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from analytics.numbers import SECONDS_PER_DAY
from charts.flows import empty_figure
from charts.palette import CATEGORICAL, FORWARD, NEUTRAL, colour_map


def funnel_figure(funnel: pd.DataFrame, *, height: int = 380) -> go.Figure:
    """Horizontal funnel of ``compute_funnel``: journeys per step with the share from the start and
    from the previous step."""
    if funnel.empty or int(funnel["journeys"].iloc[0]) == 0:
        return empty_figure("No journey enters this funnel")
    labels = [html.escape(f"{int(p)}. {s}") for p, s in zip(funnel.position, funnel.step, strict=False)]
    text = [
        f"{int(n):,} · {100 * a:.1f}% of start" + ("" if i == 0 else f" · {100 * b:.1f}% of previous")
        for i, (n, a, b) in enumerate(
            zip(funnel.journeys, funnel.conversion_from_start, funnel.conversion_from_previous, strict=False)
        )
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=funnel.journeys.astype(int).tolist(),
            text=text,
            textinfo="text",
            textposition="auto",
            marker={"color": FORWARD},
            connector={"fillcolor": "rgba(78, 121, 167, 0.18)"},
            hovertemplate="%{y}<br>%{x:,} journeys<extra></extra>",
        )
    )
    fig.update_layout(height=height, margin={"l": 8, "r": 8, "t": 16, "b": 8})
    return fig


def funnel_breakdown_figure(breakdown: pd.DataFrame, *, height: int = 380) -> go.Figure:
    """Grouped bars of ``compute_funnel_breakdown``: conversion from the start at each step, one bar
    per breakdown value."""
    if breakdown.empty:
        return empty_figure("Nothing to break down")
    values = list(dict.fromkeys(breakdown["breakdown"].astype(str)))
    colours = colour_map(values)
    fig = go.Figure()
    for value in values:
        part = breakdown[breakdown["breakdown"].astype(str) == value]
        fig.add_bar(
            name=value,
            x=[html.escape(f"{int(p)}. {s}") for p, s in zip(part.position, part.step, strict=False)],
            y=(100 * part.conversion_from_start).tolist(),
            marker_color=NEUTRAL if value in ("(other)", "(none)") else colours[value],
            customdata=part.journeys.astype(int).tolist(),
            hovertemplate=f"{value}<br>%{{x}}<br>%{{y:.1f}}% of start · %{{customdata:,}} journeys<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        height=height,
        yaxis_title="% of journeys that entered",
        yaxis_range=[0, 100],
        margin={"l": 8, "r": 8, "t": 16, "b": 8},
        legend_title_text="",
    )
    return fig


def step_times_figure(funnel: pd.DataFrame, *, height: int = 300) -> go.Figure:
    """Median and p90 days from the previous step, per step of ``compute_funnel``."""
    timed = funnel[funnel.position > 1]
    if timed.empty or timed["median_seconds_from_previous"].isna().all():
        return empty_figure("No journey reached a second step")
    x = [f"{int(p)}. {s}" for p, s in zip(timed.position, timed.step, strict=False)]
    fig = go.Figure()
    fig.add_bar(
        name="median",
        x=x,
        y=(timed.median_seconds_from_previous / SECONDS_PER_DAY).tolist(),
        marker_color=CATEGORICAL[0],
    )
    fig.add_bar(
        name="p90", x=x, y=(timed.p90_seconds_from_previous / SECONDS_PER_DAY).tolist(), marker_color=CATEGORICAL[1]
    )
    fig.update_layout(
        barmode="group", height=height, yaxis_title="days from previous step", margin={"l": 8, "r": 8, "t": 16, "b": 8}
    )
    return fig
