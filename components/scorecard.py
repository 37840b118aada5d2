"""The Metrics page's parts: a metric's card, its trend, the forms that add metrics and values, and
the outcomes of the stages. Every write clears the caches (:func:`components.loaders.clear_caches`)."""

from __future__ import annotations

import streamlit as st

from analytics.metrics import FORMULAS
from analytics.numbers import MONEY_KINDS, NO_CURRENCY, format_metric_value
from charts.labels import for_people
from charts.metrics import STATUS_TEXT, metric_trend_figure, outcome_shares_figure
from components.analysis_controls import AnalysisView
from components.badges import STATUS_BADGE
from components.data_table import render_data_table
from components.errors import user_errors
from components.flash import form_key, form_saved
from components.loaders import (
    clear_caches,
    load_has_role,
    load_map_outcomes,
    load_map_scopes,
    load_outcome_shares,
    load_referrals,
)
from components.text import escape_markdown
from components.url_select import query_pick
from core.errors import BadInputError
from services import metrics as metric_service
from services.csv_safety import to_safe_csv


def _signed(change: float, r: metric_service.MetricRow) -> str:
    """A change since the previous period, signed, in the metric's own format (money with its currency)."""
    if r.kind in MONEY_KINDS:
        return ("-" if change < 0 else "+") + format_metric_value(abs(change), r.unit, r.kind)
    return f"{change:+,.1f}"


def render_metric_card(r: metric_service.MetricRow, *, editor: bool) -> None:
    """A metric's latest value against its target, its status and formula; for an editor, the currency
    of a money metric that has none."""
    delta = None if r.change is None else f"{_signed(r.change, r)} since {r.previous_period}"
    st.metric(  # the scope on a line of its own: a card's label is cut to its width
        r.name,
        format_metric_value(r.latest_value, r.unit, r.kind),
        delta=delta,
        delta_color="normal" if r.direction == "higher" else "inverse",
    )
    target = (
        f"target {format_metric_value(r.target, r.unit, r.kind)} ({r.direction} is better)"
        if r.target is not None
        else "no target"
    )
    badge = STATUS_BADGE.get(r.status, STATUS_BADGE["none"])
    st.markdown(
        f"{badge} {escape_markdown(target)} · {escape_markdown(r.latest_period or 'no value yet')}  \n"
        f"Scope: {escape_markdown(r.scope)}"
    )
    if r.source == "dataset":
        how = f"computed from data ({r.computed_with})" if r.computed_with else "computed from data"
        st.caption(escape_markdown(f"{r.formula} · {how}"))
    else:  # the formula says what the number is meant to be; nothing here computed it
        meant = "" if r.kind == "custom" else f" Meant as: {r.formula}"  # a custom metric's formula is its own
        st.caption(escape_markdown(f"Entered by hand, not computed from an event log.{meant}"))
    if r.kind in MONEY_KINDS and not r.unit.strip() and editor:
        with st.form(f"currency_{r.id}", border=False):
            currency = st.text_input(
                "Currency", max_chars=12, placeholder="EUR", help=f"The values show “{NO_CURRENCY}” until set."
            )
            if st.form_submit_button("Set the currency"):
                with user_errors():
                    metric_service.update_metric(r.id, unit=currency.strip())
                    clear_caches()
                    st.rerun()


def render_metric_trend(rows: list[metric_service.MetricRow]) -> None:
    """One metric's values per period (``?metric=``): chart, status per period, table and CSV."""
    by_id = {r.id: r for r in rows}
    metric_id = query_pick(
        "Metric", {i: f"{r.name} ({r.scope})" for i, r in by_id.items()}, param="metric", what="metric"
    )
    if metric_id is None:
        return
    r = by_id[metric_id]
    history = metric_service.compute_metric_history(r)
    if history.empty:
        st.info("No values yet: enter one or compute it from a dataset.")
    else:
        st.plotly_chart(metric_trend_figure(history, name=r.name, unit=r.unit), width="stretch")
        st.caption(f"{escape_markdown(r.formula)}. Status per period: {', '.join(STATUS_TEXT.values())}.")
        # The status in the words of the caption (the CSV keeps the machine names: red, amber, green).
        shown = history.assign(status=history["status"].map(STATUS_TEXT).fillna(history["status"]))
        st.dataframe(for_people(shown), hide_index=True, width="stretch")
        st.download_button("Download CSV", to_safe_csv(history), f"metric_{r.id}.csv", "text/csv", key="dl_hist")


def render_add_metric(
    map_id: int, linked: list[int], dataset_names: dict[int, str], rows: list[metric_service.MetricRow]
) -> None:
    """The form that binds a new metric to the map, a stage or a touchpoint, by hand or from a dataset."""
    stages, touchpoints = load_map_scopes(map_id)
    stage_label = dict(stages)
    tp_label = {t.id: f"{t.stage} › {t.name}" for t in touchpoints}
    with st.form(form_key("add_metric")):  # refused: what was typed is kept; added: a new, empty form next run
        kind = st.selectbox("Metric", list(metric_service.DEFAULT_NAMES), format_func=metric_service.DEFAULT_NAMES.get)
        name = st.text_input("Name (optional)", max_chars=200)
        scope_options = [("map", None)] + [("stage", i) for i in stage_label] + [("touchpoint", i) for i in tp_label]
        scope = st.selectbox(
            "Bound to",
            scope_options,
            format_func=lambda s: (
                "the whole map"
                if s[0] == "map"
                else (f"stage {stage_label[s[1]]}" if s[0] == "stage" else f"touchpoint {tp_label[s[1]]}")
            ),
        )
        c1, c2, c3 = st.columns(3)
        target = c1.number_input("Target", value=None, step=1.0)
        direction = c2.selectbox("Better when", ["default", "higher", "lower"])
        unit = c3.text_input(
            "Unit or currency",
            max_chars=40,
            help="Blank: the metric's usual unit (% for CSAT, points for NPS). For CLV, the currency (EUR, USD, "
            "€); without one its values say “no currency set”.",
        )
        source = st.selectbox(
            "Values",
            [None, *linked],
            format_func=lambda i: "entered by hand" if i is None else f"computed from {dataset_names[i]}",
        )
        st.caption(FORMULAS.get(kind, ""))
        if st.form_submit_button("Add metric", type="primary"):
            with user_errors():
                new_id = metric_service.create_metric(
                    map_id=map_id,
                    kind=kind,
                    name=name or None,
                    target=target,
                    direction=None if direction == "default" else direction,
                    unit=unit.strip() or None,
                    stage_id=scope[1] if scope[0] == "stage" else None,
                    touchpoint_id=scope[1] if scope[0] == "touchpoint" else None,
                    dataset_id=source,
                )
                try:
                    if source is not None:  # with the options the map's other metrics were computed with
                        options = last_options(rows).for_kind(kind)
                        metric_service.compute_metric_values(new_id, options=options)
                finally:  # the metric is added even where computing it failed: show it
                    clear_caches()
                    form_saved("add_metric")
                st.success(f"Added “{escape_markdown(name or metric_service.DEFAULT_NAMES[kind])}”.")


def last_options(rows: list[metric_service.MetricRow]) -> metric_service.ComputeOptions:
    """The options the map's computed metrics were computed with (the form computes them all with
    the same ones, and a metric added later gets them too; each keeps those that apply to it, and
    where two differ the newer metric's win); the defaults where none were kept."""
    kept: dict[str, object] = {}
    for r in sorted(rows, key=lambda r: r.id):
        if r.source == "dataset":
            kept.update(dict(r.computed_options))
    return metric_service.ComputeOptions.of_kept(kept)


def render_metric_values(map_id: int, rows: list[metric_service.MetricRow]) -> None:
    """The forms that enter a value by hand and compute every computed metric from the linked dataset."""
    by_id = {r.id: r for r in rows}
    manual = [r.id for r in rows if r.source == "manual"]
    computed = [r.id for r in rows if r.source == "dataset"]
    left, right = st.columns(2)
    with left, st.form("enter_value"):  # kept after a save too: the next period's value is typed over it
        st.markdown("**Enter a value by hand**")
        if not manual:
            st.caption("Every metric of this map is computed from data.")
        chosen = st.selectbox("Metric", manual or [None], format_func=lambda i: "—" if i is None else by_id[i].name)
        period = st.text_input("Period", placeholder="2026-03 (month) or 2026-Q1 (quarter)")
        value = st.number_input("Value", value=None, step=0.1)
        respondents = st.number_input("Respondents (optional)", value=None, min_value=0, step=1)
        if st.form_submit_button("Save value", disabled=not manual):
            with user_errors():
                if value is None:
                    raise BadInputError("Enter a value.")
                metric_service.set_metric_value(
                    chosen, period, value, respondents=None if respondents is None else int(respondents)
                )
                clear_caches()
                st.success(f"Saved {escape_markdown(by_id[chosen].name)} for {escape_markdown(period.strip())}.")
    with right, st.form("compute_values"):
        st.markdown("**Compute from the linked dataset**")
        if not computed:
            st.caption("No metric of this map is bound to a dataset.")
        last = last_options(rows)  # the form opens with the options the values were last computed with
        periods = ["month", "quarter"]
        period_kind = st.radio(
            "Per", periods, index=periods.index(last.period) if last.period in periods else 0, horizontal=True
        )
        window = st.number_input("FCR repeat window (days)", min_value=0.0, value=float(last.window_days), step=1.0)
        margin = st.number_input(
            "Gross margin (CLV)", min_value=0.0, max_value=1.0, value=float(last.gross_margin), step=0.05
        )
        if st.form_submit_button("Compute every computed metric", disabled=not computed, type="primary"):
            with user_errors():
                options = metric_service.ComputeOptions(period=period_kind, window_days=window, gross_margin=margin)
                n = metric_service.recompute_map_metrics(map_id, options=options)
                clear_caches()
                st.success(f"Computed {n} metrics per {period_kind}.")


def render_outcomes(map_id: int, view: AnalysisView | None) -> None:
    """Outcomes of the journeys that reached each stage (as the map declares them), and referrals."""
    if view is None or not load_has_role(view.dataset_id, "outcome"):
        st.info("Link an event log with an outcome column to this map to see its outcomes.")
        return
    token, ctx = view.token, view.ctx
    stages_with_outcomes = [(sid, name) for sid, name in load_map_scopes(map_id)[0]]
    declared = load_map_outcomes(map_id)
    with user_errors():
        any_shown = False
        for stage_name, outcomes in declared:
            shares = load_outcome_shares(token, ctx, stage_name, tuple(outcomes))
            any_shown = True
            st.markdown(f"**{escape_markdown(stage_name)}**: outcomes of the journeys that reached it")
            st.plotly_chart(outcome_shares_figure(shares), width="stretch", key=f"out_{stage_name}")
            render_data_table(shares, file_name=f"outcomes_{stage_name}.csv", key=f"out_{stage_name}")
        if not any_shown:
            shares = load_outcome_shares(token, ctx, None, ())
            st.markdown("**Every journey by outcome**")
            st.plotly_chart(outcome_shares_figure(shares), width="stretch", key="out_all")
            render_data_table(shares, file_name="outcomes.csv", key="out_all")
        _, tps = load_map_scopes(map_id)
        referral = tuple(t.name for t in tps if "referr" in t.name.lower())
        last_stage = stages_with_outcomes[-1][1] if stages_with_outcomes else None
        if referral and last_stage:
            refs = load_referrals(token, ctx, last_stage, referral)
            r0 = refs.iloc[0]
            st.markdown(
                f"**Referrals**: {int(r0.referring_clients)} of {int(r0.former_clients)} former clients "
                f"({escape_markdown(last_stage)}) referred new ones; {int(r0.new_accounts_referred)} new accounts "
                "came by referral."
            )
            render_data_table(refs, file_name="referrals.csv", key="referrals")
