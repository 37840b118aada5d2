"""Outlook: how likely each open journey is to convert, where it goes next, and the next best action."""

from __future__ import annotations

import math

import streamlit as st

from charts.attribution import (
    ACTION_BARS,
    STATE_BARS,
    calibration_figure,
    next_best_action_figure,
    probability_bands_figure,
    state_probability_figure,
)
from charts.labels import cut_note, for_people
from components.analysis_controls import data_days, open_log_page, open_view, render_conversion_line
from components.attribution import render_active_days, render_model_settings
from components.errors import user_errors
from components.loaders import load_conversion_line
from components.safe_table import csv_download_button
from components.url_select import query_date, query_number, query_toggle
from services.attribution import (
    compute_backtest_table,
    compute_outlook_summary,
    compute_ranked_open_journeys,
    count_models_disagreeing,
)
from services.csv_safety import to_safe_csv

PAGE_SIZE = 50

dataset_id, token, map_id, level = open_log_page(
    "Outlook",
    "Journey outlook",
    (
        "For every open journey: the probability of reaching the goal from where it stands, the most likely "
        "next touchpoints, and the next best action, the touchpoint whose visit raises that probability most."
    ),
    level_help="At account level, a buying committee's contacts move as one journey.",
)

with user_errors():
    view = open_view(dataset_id, token, map_id, level=level)
    if view is None:
        st.stop()
    render_conversion_line(view)
    if not view.ctx.conversion.defined:
        st.stop()
    c6, c7 = st.columns(2)
    first_day, last_day = data_days(dataset_id)
    with c6:
        as_of = query_date(
            st,
            "As of",
            key="as_of",
            lo=first_day,
            hi=last_day,
            empty="the day of the last event",
            help="Events after this day are ignored. Empty: the day of the last event.",
        )
    with c7:
        active_days = render_active_days()
    model, min_transitions = render_model_settings()

    result = view.run(
        "outlook",
        as_of=as_of,
        active_days=int(active_days),
        min_transitions=int(min_transitions),
        model=model or "learned",
    )
    counts = result.counts
    line = load_conversion_line(view.token, view.ctx)  # the numbers of the Conversion line above
    earlier = last_day is not None and result.as_of < last_day  # the outlook stops before the log does
    if earlier:
        to_the_end = f", to its last event ({last_day:%Y-%m-%d})" if last_day else ""
        st.info(
            f"The Conversion line above covers the whole log{to_the_end}; the outlook below counts only the "
            f"events up to {result.as_of:%Y-%m-%d}, the day chosen in **As of**.",
            icon=":material/event:",
        )
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric(
        f"Open {level}s", f"{counts['open']:,}", help=f"Not converted, not lost, active in the last {active_days} days"
    )
    m2.metric("Converted", f"{counts['converted']:,}")
    m3.metric("Lost", f"{counts['lost']:,}")
    m4.metric("Gone quiet", f"{counts['stale']:,}", help=f"No event in the last {active_days} days")
    closed = counts["converted"] + counts["lost"] + counts["stale"]
    m5.metric(
        "Probability from the start",
        f"{result.baseline_probability:.1%}",
        help="Chance that a journey converts, from its first touchpoint on, learned from the closed journeys "
        "(converted, lost or gone quiet).",
    )
    total = sum(counts.values())
    learned = (
        f"The probability from the start is learned from the {closed:,} closed {level}s, so it leaves out "
        f"the {counts['open']:,} open ones"
    )
    # Open and gone quiet split the journeys with no outcome yet (one count elsewhere, e.g. Paths' outcomes).
    undecided = (
        f" Open and gone quiet together are the {counts['open'] + counts['stale']:,} {level}s neither converted "
        "nor lost."
    )
    if not earlier:
        st.caption(
            f"As of {result.as_of:%Y-%m-%d} (UTC), the day of the last event: the {total:,} {level}s of the "
            f"Conversion line above. {learned}, which that line counts too." + undecided
        )
    else:  # an earlier day: the counts are of the log cut there, the Conversion line of all of it
        st.caption(
            f"As of {result.as_of:%Y-%m-%d} (UTC): {total:,} of the log's {line.journeys:,} {level}s had begun by "
            f"that day, {counts['converted']:,} of them converted by then (the Conversion line's "
            f"{line.converted or 0:,} are over the whole log). {learned}." + undecided
        )
    if result.model_note:
        st.warning(result.model_note[0].upper() + result.model_note[1:] + ".")

    if result.table.empty:
        st.info(f"No open {level}: {result.empty_reason}.")
        st.stop()

    left, right = st.columns(2)
    with left:
        st.subheader("How likely the open journeys are to convert")
        bands = result.bands()
        st.plotly_chart(probability_bands_figure(bands), key="bands_chart")
        # The chart's data twin: the open journeys per band, as drawn (each journey is in the list below).
        csv_download_button(
            bands,
            file_name=f"outlook_bands_{level}_{dataset_id}.csv",
            label="Download the chart's data",
            key="bands_csv",
        )
    with right:
        st.subheader("Next best actions")
        summary = compute_outlook_summary(result)
        st.plotly_chart(next_best_action_figure(summary), key="actions_chart")
        if note := cut_note(
            ACTION_BARS, len(summary), "actions with the most open journeys", "each journey's own is in the table below"
        ):
            st.caption(note)
        csv_download_button(
            summary,
            file_name=f"next_best_actions_{level}_{dataset_id}.csv",
            label="Download the chart's data",
            key="nba_csv",
        )

    ranked = compute_ranked_open_journeys(result)
    st.subheader(f"Open {level}s, most likely to convert first")
    if (result.table["model"] == "learned").any():  # the learned model's two parts: say which gives what
        disagree = count_models_disagreeing(result)
        st.caption(
            "Probability: calibrated gradient boosting on each journey so far. Most likely next: a separate "
            "model of the next step. The lift is in percentage points of that probability."
            + (
                f" The two disagree for {disagree:,} of {len(ranked):,} open {level}s (a next step lost more often,"
                " or converting more often, than the probability allows): read those rows' next steps with care."
                if disagree
                else ""
            )
        )
    pages = max(1, math.ceil(len(ranked) / PAGE_SIZE))
    p1, p2 = st.columns([1, 5])
    with p1:
        page = query_number(st, "number_input", f"Page (of {pages})", lo=1, hi=pages, value=1, key="page")
    with p2:
        st.download_button(
            f"Download all {len(ranked):,} for the sales team (CSV)",
            to_safe_csv(ranked),
            file_name=f"open_{level}s_{dataset_id}_{result.as_of:%Y%m%d}.csv",
            mime="text/csv",
            icon=":material/download:",
        )
    start = (int(page) - 1) * PAGE_SIZE
    shown = ranked.iloc[start : start + PAGE_SIZE].copy()
    # As on the chart: no next best action means no visit would raise the probability.
    shown["next_best_action"] = shown["next_best_action"].fillna("(none: no move raises it)")
    st.dataframe(
        for_people(
            shown.drop(columns=["model"], errors="ignore"),
            labels={
                "rank": "#",
                "journey_key": level.capitalize(),
                "conversion_probability": "Probability",
                "last_touchpoint": "Stands on",
                "last_timestamp": "Last activity",
                "next_touchpoints": "Most likely next",
                "lift": "Lift",
                "support": "Similar journeys that took it",
                "probability_after_action": "Conversion after it",
                "factors": "What moves the probability most",
                "markov_probability": "Markov chain's probability",
            },
            kinds={
                "rank": "count",
                "steps": "count",
                "support": "count",
                "conversion_probability": "fraction",
                "lift": "points",
                "probability_after_action": "fraction",
                "markov_probability": "fraction",
            },
        ),
        hide_index=True,
    )

    with st.expander("Probability of converting from each touchpoint"):
        st.plotly_chart(state_probability_figure(result.states), key="states_chart")
        if note := cut_note(STATE_BARS, len(result.states), "most visited touchpoints", "the table has every one"):
            st.caption(note)
        st.dataframe(for_people(result.states), hide_index=True)
        st.download_button(
            "Download (CSV)",
            to_safe_csv(result.states),
            file_name=f"outlook_touchpoints_{level}_{dataset_id}.csv",
            mime="text/csv",
        )

    with st.expander("Backtest: is the model worth acting on?"):
        st.markdown(
            "Journeys that started in the first two thirds of the time range train the model; each later journey "
            "that has ended is cut at a random moment before its conversion or loss, and the model, fitted "
            "without it, predicts its next touchpoint and whether it converts. Beside it, in the same run: the "
            "most frequent next touchpoint, a first-order Markov chain and a 3-gram back-off; the last "
            "touchpoint's conversion rate and the base rate. Higher accuracy and AUC are better, a lower Brier "
            "score is better."
        )
        if query_toggle(
            st,
            "Run the backtest",
            value=False,
            key="backtest",
            help="Fits the model again: up to a minute on large logs.",
        ):
            backtest = view.run("outlook_backtest", active_days=int(active_days))
            st.caption(
                f"Split at {backtest.split_at:%Y-%m-%d}: {backtest.train_journeys:,} training journeys, "
                f"{backtest.test_prefixes:,} test journeys cut once each."
            )
            figures = compute_backtest_table(backtest)
            st.dataframe(
                for_people(figures.drop(columns=["model"]), labels={"label": "Model"}),
                hide_index=True,
                key="backtest_table",
            )
            st.plotly_chart(calibration_figure(backtest.calibration), key="calibration_chart")
            st.dataframe(
                for_people(
                    backtest.calibration, kinds=dict.fromkeys(("low", "high", "predicted", "observed"), "fraction")
                ),
                hide_index=True,
                key="calibration_table",
            )
            csv_download_button(
                backtest.calibration,
                file_name=f"outlook_calibration_{level}_{dataset_id}.csv",
                label="Download the calibration (CSV)",
                key="calibration_csv",
            )
            st.download_button(
                "Download the backtest (CSV)",
                to_safe_csv(figures),
                file_name=f"outlook_backtest_{level}_{dataset_id}.csv",
                mime="text/csv",
            )
