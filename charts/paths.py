"""Path figures: top variants, loops, outcomes, time in stage. Data in, figure out."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from analytics.numbers import SECONDS_PER_DAY, plural
from analytics.outcomes import NO_OUTCOME
from charts.flows import empty_figure
from charts.palette import CATEGORICAL, FORWARD, NEGATIVE, NEUTRAL, colour_map


def _shorten(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def variants_figure(variants: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """Horizontal bars of ``compute_variants``: journeys per path, in the twin's rank order (most common on
    top), with the share and, when a goal is set, the conversion rate in the label.

    One bar per row of the twin: each bar is keyed by its rank, not by its label, because two long paths
    can shorten to the same label and Plotly merges bars with equal categories. The tick shows the
    shortened path; hovering shows the whole path.
    """
    if variants.empty:
        return empty_figure("No journeys for these settings")
    keys = [f"#{rank}" for rank in range(1, len(variants) + 1)]
    has_rate = variants["conversion_rate"].notna().any()
    text = [
        f"{100 * s:.1f} %" + (f" · {100 * r:.1f} % convert" if has_rate and pd.notna(r) else "")
        for s, r in zip(variants.share, variants.conversion_rate, strict=False)
    ]
    labels = [str(p) for p in variants.path_label]
    fig = go.Figure(
        go.Bar(
            x=variants.journeys.astype(int).tolist(),
            y=keys,
            orientation="h",
            text=text,
            textposition="auto",
            marker_color=[NEUTRAL if len(p) == 0 else FORWARD for p in variants.path],
            customdata=[html.escape(p) for p in labels],
            hovertemplate="%{customdata}<br>%{x:,} journeys<extra></extra>",
        )
    )
    fig.update_yaxes(
        type="category",  # keys read as numbers otherwise ("#2" → 2), losing the order below
        categoryorder="array",
        categoryarray=keys[::-1],  # rank 1 at the top
        tickmode="array",
        tickvals=keys,
        ticktext=[html.escape(_shorten(p)) for p in labels],
    )
    fig.update_layout(
        height=height or max(260, 28 * len(keys) + 60), margin={"l": 8, "r": 8, "t": 16, "b": 8}, xaxis_title="journeys"
    )
    return fig


def loops_figure(loops: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """Horizontal bars of ``compute_top_loops``: backward moves per "from → back to" pair. The bar is
    the moves; its label says so, with the journeys that made them (one journey can loop twice)."""
    if loops.empty:
        return empty_figure("No journey moves back to an earlier stage")
    rows = loops.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=rows.moves.astype(int).tolist(),
            y=[html.escape(f"{a} → {b}") for a, b in zip(rows.from_stage, rows.to_stage, strict=False)],
            orientation="h",
            marker_color=NEGATIVE,
            text=[
                f"{plural(int(m), 'move')} · {plural(int(j), 'journey')}"
                for m, j in zip(rows.moves, rows.journeys, strict=True)
            ],
            textposition="auto",
            customdata=rows.journeys.astype(int).tolist(),
            hovertemplate="%{y}<br>%{x:,} moves by %{customdata:,} journeys<extra></extra>",
        )
    )
    fig.update_layout(
        height=height or max(220, 30 * len(rows) + 60),
        margin={"l": 8, "r": 8, "t": 16, "b": 8},
        xaxis_title="moves back",
    )
    return fig


def outcomes_figure(outcomes: pd.DataFrame, *, height: int = 300) -> go.Figure:
    """Bars of ``compute_outcomes``: journeys per outcome, with its share."""
    if outcomes.empty:
        return empty_figure("No outcomes")
    colours = colour_map(outcomes.outcome.astype(str).tolist())
    fig = go.Figure(
        go.Bar(
            x=[html.escape(o) for o in outcomes.outcome.astype(str)],
            y=outcomes.journeys.astype(int).tolist(),
            text=[f"{100 * s:.1f}%" for s in outcomes.share],
            textposition="auto",
            marker_color=[NEUTRAL if o == NO_OUTCOME else colours[o] for o in outcomes.outcome.astype(str)],
            hovertemplate="%{x}<br>%{y:,} journeys<extra></extra>",
        )
    )
    fig.update_layout(height=height, margin={"l": 8, "r": 8, "t": 16, "b": 8}, yaxis_title="journeys")
    return fig


def untimed_note(times: pd.DataFrame) -> str | None:
    """What :func:`time_in_stage_figure` leaves out and why: the rows with no timed visit (every visit
    there is a journey's last step, so nothing ends it); None when every row is drawn."""
    untimed = [str(n) for n in times.loc[times["timed_visits"] == 0, "node"]]
    if not untimed:
        return None
    which = ", ".join(untimed[:5]) + (f" and {len(untimed) - 5} more" if len(untimed) > 5 else "")
    return (
        f"Not drawn: {which}: every visit there is a journey's last step, so no next one ends it "
        "(the table lists it, with its visits)."
    )


def time_in_stage_figure(times: pd.DataFrame, *, height: int = 320) -> go.Figure:
    """Median and p90 days per visit of ``compute_time_in_stage``, one group of bars per row, left to right
    in the rows' order (the stage order where it has one)."""
    timed = times[times.timed_visits > 0]
    if timed.empty:
        return empty_figure("No visit has a next step to end it")
    fig = go.Figure()
    x = [html.escape(n) for n in timed.node.astype(str)]
    fig.add_bar(name="median", x=x, y=(timed.median_seconds / SECONDS_PER_DAY).tolist(), marker_color=CATEGORICAL[0])
    fig.add_bar(name="p90", x=x, y=(timed.p90_seconds / SECONDS_PER_DAY).tolist(), marker_color=CATEGORICAL[1])
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x)  # the rows' order, never sorted
    fig.update_layout(
        barmode="group", height=height, yaxis_title="days per visit", margin={"l": 8, "r": 8, "t": 16, "b": 8}
    )
    return fig
