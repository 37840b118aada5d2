"""Figures of attribution and journey outlook: data in (the ``compute_*`` twins), ``go.Figure`` out.

Colours come from one qualitative palette readable on light and dark backgrounds; backgrounds and
fonts are left to the app's theme.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from analytics.attribution import ATTRIBUTION_MODELS, CREDIT_BARS, compute_credit_bars
from charts.labels import cut_note
from charts.palette import CATEGORICAL, NEUTRAL, POSITIVE

# One colour per model, in the order the page shows them (the Markov model in the palette's red).
MODEL_COLOURS: dict[str, str] = {
    "First touch": CATEGORICAL[0],
    "Last touch": CATEGORICAL[1],
    "Linear": CATEGORICAL[2],
    "Position-based 40/20/40": CATEGORICAL[3],
    "Markov removal effect": CATEGORICAL[8],
}
ACCENT = CATEGORICAL[0]
NO_ACTION = "(none)"


def _layout(fig: go.Figure, *, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        title={"text": title} if title else None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def credit_bars_note(table: pd.DataFrame, by: str) -> str | None:
    """The caption under :func:`attribution_figure` when it sums some labels into Other: how many it
    draws apart, of how many credited; None when it draws them all."""
    credited = int((table[list(ATTRIBUTION_MODELS)].max(axis=1) > 0).sum())
    rest = f"the other {credited - CREDIT_BARS:,} are summed into Other, and the table below has every one"
    return cut_note(CREDIT_BARS, credited, f"{by}s with the most credit", rest)


def attribution_figure(table: pd.DataFrame, by: str) -> go.Figure:
    """Grouped horizontal bars: conversions credited to each touchpoint (or channel) by each model.

    ``table`` is the attribution's table; its bars are :func:`analytics.attribution.compute_credit_bars`
    (``<by>, model, conversions``).
    """
    bars = compute_credit_bars(table, by)
    fig = go.Figure()
    labels = [html.escape(str(v)) for v in dict.fromkeys(bars[by])] if not bars.empty else []
    # Plotly stacks a horizontal group's first trace at the bottom: add them in reverse so each
    # group reads top-down in the legend's order.
    for model, colour in reversed(MODEL_COLOURS.items()):
        part = bars[bars["model"] == model]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                name=model,
                y=[html.escape(str(v)) for v in part[by]],
                x=part["conversions"],
                orientation="h",
                marker_color=colour,
                hovertemplate="%{y}<br>" + model + ": %{x:.1f} conversions<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05, legend_traceorder="reversed")
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], automargin=True)
    fig.update_xaxes(title_text="conversions credited", rangemode="tozero")
    return _layout(fig, height=max(320, 34 * len(labels) * 2 + 80))


REMOVAL_BARS = 15  # touchpoints the removal-effect chart draws at most
ACTION_BARS = 12  # next best actions the outlook's chart draws at most
STATE_BARS = 20  # touchpoints the outlook's state chart draws at most (the most visited)


def removal_effect_figure(table: pd.DataFrame, by: str, top_n: int = REMOVAL_BARS) -> go.Figure:
    """Horizontal bars: share of conversion probability lost when each touchpoint is removed
    (the ``top_n`` largest; touchpoints whose removal loses nothing are left out)."""
    top = table[table["removal_effect"] > 0].sort_values(["removal_effect", by], ascending=[False, True]).head(top_n)
    fig = go.Figure(
        go.Bar(
            y=top[by],
            x=top["removal_effect"],
            orientation="h",
            marker_color=MODEL_COLOURS["Markov removal effect"],
            text=[f"{v:.1%}" for v in top["removal_effect"]],
            textposition="outside",
            hovertemplate="%{y}: %{x:.1%} of conversion probability lost without it<extra></extra>",
        )
    )
    fig.update_yaxes(categoryorder="array", categoryarray=list(top[by])[::-1], automargin=True)
    fig.update_xaxes(title_text="removal effect", tickformat=".0%", range=[0, 1.12])
    return _layout(fig, height=max(260, 26 * len(top) + 80))


def probability_bands_figure(bands: pd.DataFrame) -> go.Figure:
    """Columns: open journeys per band of conversion probability, ``band, journeys`` (the outlook's
    ``OutlookResult.bands()``, the chart's data twin)."""
    fig = go.Figure(
        go.Bar(
            x=bands["band"],
            y=bands["journeys"],
            marker_color=ACCENT,
            hovertemplate="%{x}: %{y} open journeys<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="probability of reaching the goal", type="category")
    fig.update_yaxes(title_text="open journeys", rangemode="tozero")
    return _layout(fig, height=300)


def next_best_action_figure(summary: pd.DataFrame, top_n: int = ACTION_BARS) -> go.Figure:
    """Horizontal bars: open journeys per next best action, labelled with the mean lift."""
    top = summary.head(top_n)
    fig = go.Figure(
        go.Bar(
            y=top["next_best_action"],
            x=top["journeys"],
            orientation="h",
            marker_color=[NEUTRAL if a == NO_ACTION else POSITIVE for a in top["next_best_action"]],
            # The lift is a difference of probabilities: points, not a relative rise ("+36 points", not "+36%").
            text=[
                ("no move raises it" if pd.isna(v) else f"+{100 * v:.0f} points on average") for v in top["mean_lift"]
            ],
            textposition="outside",
            hovertemplate="%{y}: %{x} journeys<extra></extra>",
        )
    )
    fig.update_yaxes(categoryorder="array", categoryarray=list(top["next_best_action"])[::-1], automargin=True)
    most = float(top["journeys"].max()) if not top.empty else 1.0
    fig.update_xaxes(title_text="open journeys", range=[0, most * 1.45])
    fig.update_traces(cliponaxis=False)
    return _layout(fig, height=max(240, 28 * len(top) + 80))


def state_probability_figure(states: pd.DataFrame, top_n: int = STATE_BARS) -> go.Figure:
    """Horizontal bars: probability of reaching the goal from each touchpoint (the fitted chain)."""
    top = states.sort_values(["visits", "touchpoint"], ascending=[False, True]).head(top_n)
    top = top.sort_values(["conversion_probability", "touchpoint"], ascending=[False, True])
    fig = go.Figure(
        go.Bar(
            y=top["touchpoint"],
            x=top["conversion_probability"],
            orientation="h",
            marker_color=ACCENT,
            customdata=top["visits"],
            hovertemplate="%{y}: %{x:.1%} (%{customdata} closed journeys left it)<extra></extra>",
        )
    )
    fig.update_yaxes(categoryorder="array", categoryarray=list(top["touchpoint"])[::-1], automargin=True)
    # A little past 100 %, so the last tick (100 %) is drawn at the edge of a bar that reaches it.
    fig.update_xaxes(
        title_text="probability of reaching the goal from here", tickformat=".0%", range=[0, 1.06], dtick=0.2
    )
    return _layout(fig, height=max(260, 24 * len(top) + 80))


def calibration_figure(calibration: pd.DataFrame) -> go.Figure:
    """Predicted against observed conversion per probability bin of the backtest's test prefixes
    (:func:`analytics.outlook_backtest.calibration_table`), with the diagonal of a perfect calibration;
    marker size grows with the prefixes in the bin."""
    sizes = calibration["prefixes"].astype(float)
    scale = 30.0 / max(float(sizes.max()), 1.0) ** 0.5 if len(sizes) else 1.0
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", line={"color": NEUTRAL, "dash": "dot"}, name="perfect", hoverinfo="skip"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=calibration["predicted"],
            y=calibration["observed"],
            mode="lines+markers",
            marker={"color": ACCENT, "size": [max(6.0, scale * s**0.5) for s in sizes]},
            line={"color": ACCENT},
            customdata=calibration[["bin", "prefixes"]].to_numpy(),
            name="learned model",
            hovertemplate="%{customdata[0]}: predicted %{x:.1%}, observed %{y:.1%} "
            "(%{customdata[1]} test journeys)<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="predicted probability of converting", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title_text="observed conversion rate", tickformat=".0%", range=[0, 1])
    return _layout(fig, height=340)
