"""Paths: the most common journeys, how often they loop back, how they end and how long they take."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from charts.labels import format_days
from charts.paths import loops_figure, outcomes_figure, time_in_stage_figure, untimed_note, variants_figure
from components.analysis_controls import AnalysisView, clear_node_filter_button, render_analysis_controls
from components.bootstrap import bootstrap
from components.data_table import render_data_table
from components.errors import user_errors
from components.text import escape_markdown
from components.url_select import link_refused, query_multiselect, query_number, say_unused

LOOPS_DRAWN = 10  # loops the chart draws; the table has them all

bootstrap("Paths")
st.title("Paths")
st.caption("Whole journeys: their most common paths, their loops, their outcomes and their timing.")

with user_errors():
    view = render_analysis_controls(default_by="stage")
    if view is not None:
        clear_node_filter_button(view)

        st.subheader("Top paths")
        top = query_number(st, "slider", "Paths shown", lo=5, hi=50, value=15, key="paths")
        variants = view.run("variants", top=top, include_other=True)
        if not variants.empty:
            distinct = int(variants["distinct_paths"].iloc[0])
            total = int(variants["total_journeys"].iloc[0])
            st.caption(f"{distinct:,} distinct paths among {total:,} journeys, at {view.query.by} level.")
        st.plotly_chart(variants_figure(variants), key="variants")
        # The totals are in the caption above; the CSV keeps them on every row (one file says it all).
        kept = variants.drop(columns=["path"])
        shown = kept.drop(columns=["distinct_paths", "total_journeys"], errors="ignore")
        render_data_table(shown, file_name="paths.csv", key="variants", download=kept)

        looped = view  # the view with the stage order: the linked map's, or the one given below
        refused = False
        if view.ctx.has_stages:
            st.subheader("Loops back to an earlier stage")
            stage_query_order: tuple[str, ...] = ()
            linked = bool(view.ctx.stage_order)
            if linked:
                say_unused("stage_order", "the linked map orders the stages")
            else:
                stage_query_order = tuple(
                    query_multiselect(
                        st,
                        "Stage order",
                        view.run("stage_order"),
                        key="stage_order",
                        help="No map is linked: earlier means earlier in this order (stages left out follow in the"
                        " order journeys first reach them).",
                        refuse=True,
                        refused_means=(
                            "The loops and the time per visit are not drawn until the order is changed."
                            if view.query.by == "stage"
                            else "The loops are not drawn until the order is changed."
                        ),
                    )
                )
                looped = AnalysisView(view.token, replace(view.ctx, stage_order=stage_query_order))
            refused = not linked and link_refused("stage_order")
            if not refused:  # else the order the link asks for names a stage the log lacks: said above its box
                order = looped.run("stage_order")
                source = "the linked map" if linked else "your order" if stage_query_order else "first appearance"
                st.caption(f"Stage order used ({source}): " + " → ".join(escape_markdown(s) for s in order))
                n = looped.run("nonlinearity").iloc[0]
                c1, c2, c3 = st.columns(3)
                c1.metric("Journeys moving back", f"{100 * n['share_moving_back']:.1f}%" if n["journeys"] else "–")
                c2.metric("Loops per journey", f"{n['loops_per_journey']:.2f}" if n["journeys"] else "–")
                c3.metric("Backward moves", f"{int(n['backward_moves']):,}")
                loops = looped.run("top_loops", top=None)
                st.plotly_chart(loops_figure(loops.head(LOOPS_DRAWN)), key="loops")
                if len(loops) > LOOPS_DRAWN:
                    st.caption(
                        f"The chart shows the {LOOPS_DRAWN} most common of {len(loops):,} loops "
                        f"({int(loops['moves'].head(LOOPS_DRAWN).sum()):,} of {int(loops['moves'].sum()):,} backward "
                        "moves); every one is in the data below."
                    )
                render_data_table(loops, file_name="loops.csv", key="loops")

        if view.has_role("outcome"):
            st.subheader("Outcomes")
            outcomes = view.run("outcomes")
            st.plotly_chart(outcomes_figure(outcomes), key="outcomes")
            render_data_table(outcomes, file_name="outcomes.csv", key="outcomes")

        st.subheader("Time")
        if view.ctx.conversion.defined:
            t = view.run("time_to_convert").iloc[0]
            c1, c2, c3 = st.columns(3)
            c1.metric("Converted", f"{int(t['converted']):,} of {int(t['journeys']):,}")
            c2.metric("Median days to convert", "–" if t["converted"] == 0 else format_days(t["median_seconds"]))
            c3.metric("p90 days to convert", "–" if t["converted"] == 0 else format_days(t["p90_seconds"]))
        else:
            st.caption("Define conversion on the line above to see the time to convert.")
        if refused and view.query.by == "stage":  # the time per visit follows the stage order
            st.caption("Time per visit: not drawn until the stage order above is changed.")
        else:
            times = looped.run("time_in_stage")  # stages in the order above, touchpoints in the map's; else by visits
            by = view.query.by
            order = (
                ", in the stage order above."
                if by == "stage" and looped.ctx.stage_order
                else ", in the linked map's touchpoint order (stage by stage); any other after, most visited first."
                if by == "touchpoint" and looped.ctx.touchpoints
                else ", most visited first."
            )
            st.caption(f"Time per visit, at {by} level: from entering to entering the next one" + order)
            st.plotly_chart(time_in_stage_figure(times), key="time_in_stage")
            if note := untimed_note(times):
                st.caption(escape_markdown(note))
            render_data_table(times, file_name="time_in_stage.csv", key="time_in_stage")
