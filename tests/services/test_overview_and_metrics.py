"""Metric CRUD and computing, friction and overlay through a map, and the portfolio health."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from analytics.conversion import goal
from analytics.friction import FrictionWeights
from analytics.schema import Role
from core.errors import BadInputError, ConversionUndefinedError, NotFoundError, UnknownNameError
from db.engine import read_session, write_session
from db.models import Action, Metric, MetricValue, Stage, Touchpoint
from services import friction as friction_service
from services import metrics as metric_service
from services import overlay as overlay_service
from services import overview as overview_service
from services import reports
from services.context import open_context
from services.conversion import clear_conversion, compute_conversion_line, set_conversion
from services.maps import create_map_from_template
from tests.factories_metrics import create_dataset, planted_log


@pytest.fixture
def b2b(engine):
    """A map from the 5-stage B2B template and a planted log linked to it."""
    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey", owner="Ops")
    dataset_id = create_dataset(planted_log(journeys=200, unknown_activity="Webinar"), name="b2b", map_id=map_id)
    set_conversion(dataset_id, goal("Advocacy"))  # journeys that reach the map's last stage
    return map_id, dataset_id


def _ids(map_id):
    with read_session() as session:
        stages = {s.name: s.id for s in session.exec(select(Stage).where(Stage.map_id == map_id)).all()}
        tps = {t.name: t.id for t in session.exec(select(Touchpoint).where(Touchpoint.map_id == map_id)).all()}
    return stages, tps


def test_manual_metric_crud_values_status_and_trend(b2b):
    map_id, _ = b2b
    stages, _tps = _ids(map_id)
    metric_id = metric_service.create_metric(map_id=map_id, kind="nps", target=30, stage_id=stages["Service"])
    metric_service.set_metric_value(metric_id, "2026-01", 20, respondents=40)
    metric_service.set_metric_value(metric_id, "2026-02", 28)
    row = metric_service.get_metric(metric_id)
    assert row.scope == "stage: Service" and row.direction == "higher" and row.source == "manual"
    assert (row.latest_period, row.latest_value, row.previous_value, row.change) == ("2026-02", 28, 20, 8)
    assert row.status == "amber"  # 2 below 30, within 10 % of it
    metric_service.set_metric_value(metric_id, "2026-02", 35)  # replaces
    assert metric_service.get_metric(metric_id).status == "green"
    history = metric_service.compute_metric_history(metric_service.get_metric(metric_id))
    assert list(history["period"]) == ["2026-01", "2026-02"] and list(history["status"]) == ["red", "green"]
    metric_service.delete_metric_value(metric_id, "2026-01")
    assert len(metric_service.get_metric(metric_id).values) == 1
    metric_service.update_metric(metric_id, target=38, name="NPS after onboarding")
    assert metric_service.get_metric(metric_id).status == "amber"
    metric_service.delete_metric(metric_id)
    with pytest.raises(NotFoundError):
        metric_service.get_metric(metric_id)


def test_metric_inputs_are_validated(b2b):
    map_id, _ = b2b
    with pytest.raises(BadInputError):
        metric_service.create_metric(map_id=map_id, kind="happiness")
    with pytest.raises(BadInputError):
        metric_service.create_metric(map_id=map_id, kind="nps", direction="up")
    with pytest.raises(BadInputError):
        metric_service.create_metric(map_id=map_id, kind="nps", stage_id=999_999)
    metric_id = metric_service.create_metric(map_id=map_id, kind="custom", name="Demo requests")
    for bad in ("2026-13", "March", "2026-Q5", ""):
        with pytest.raises(BadInputError):
            metric_service.set_metric_value(metric_id, bad, 1)
    with pytest.raises(BadInputError):
        metric_service.set_metric_value(metric_id, "2026-03", float("nan"))
    assert metric_service.create_metric(map_id=map_id, kind="ces") and [
        r.direction for r in metric_service.list_metrics(map_id) if r.kind == "ces"
    ] == ["lower"]


def test_computed_metrics_per_month_store_only_periods_with_data(b2b):
    map_id, dataset_id = b2b
    conv = metric_service.create_metric(map_id=map_id, kind="conversion", target=50, dataset_id=dataset_id)
    df = metric_service.compute_metric_values(conv)
    # The saved definition: reaching the map's last stage (Advocacy), i.e. "Renewal page".
    stored = metric_service.get_metric(conv)
    assert stored.source == "dataset" and len(stored.values) == df["value"].notna().sum()
    assert all(computed for *_, computed in stored.values)
    total = df["base"].sum()
    assert total == 200
    # Recomputing replaces, never duplicates.
    metric_service.compute_metric_values(conv, options=metric_service.ComputeOptions(period="quarter"))
    periods = [p for p, *_ in metric_service.get_metric(conv).values]
    assert periods and all("-Q" in p for p in periods)
    with read_session() as session:
        assert len(session.exec(select(MetricValue).where(MetricValue.metric_id == conv)).all()) == len(periods)


def test_dataset_metrics_table_for_the_cli(b2b):
    map_id, dataset_id = b2b
    metric_service.create_metric(map_id=map_id, kind="nps", target=0)
    df = metric_service.compute_dataset_metrics(dataset_id, options=metric_service.ComputeOptions(period="all"))
    assert set(df["metric"]) >= {"conversion", "nps", "csat"}
    nps = df[df["metric"] == "nps"].iloc[0]
    assert nps["target"] == 0 and nps["status"] in ("red", "green")


def test_friction_through_the_map_puts_pricing_page_on_top(b2b):
    map_id, dataset_id = b2b
    result = friction_service.compute_dataset_friction(dataset_id)
    assert result.stage_order == ("Awareness", "Consideration", "Conversion", "Service", "Advocacy")
    top = result.touchpoints.iloc[0]
    assert top.touchpoint == "Pricing page" and top.stage == "Conversion"
    report = reports.friction_records(result)
    assert report[0]["touchpoint"] == "Pricing page"
    assert set(report[0]["components"]) == {"exit", "backtrack", "repeat", "delay", "feedback"}
    assert report[0]["components"]["exit"]["exit_rate"] > report[0]["components"]["exit"]["base_exit_rate"]
    # Weights change the index, not the components.
    only_delay = friction_service.compute_dataset_friction(
        dataset_id, weights=FrictionWeights(exit=0, backtrack=0, repeat=0, delay=1, feedback=0)
    )
    assert only_delay.touchpoints.iloc[0]["touchpoint"] == "Pricing page"


def test_overlay_has_every_touchpoint_of_the_map_with_targets(b2b):
    map_id, dataset_id = b2b
    _, tps = _ids(map_id)
    metric_service.create_metric(map_id=map_id, kind="csat", target=60, touchpoint_id=tps["Pricing page"])
    ctx = open_context(dataset_id, map_id, conversion=goal("Sales rep"))
    result = friction_service.compute_context_friction(ctx)
    credited = overlay_service.compute_attribution_overlay(ctx)
    assert credited.conversion == goal("Sales rep")
    for measure in overlay_service.MEASURES:
        overlay = overlay_service.compute_overlay(ctx, result, measure, credited.frame)
        assert list(overlay.columns) == overlay_service.OVERLAY_COLUMNS
        assert set(overlay["touchpoint_id"]) == set(tps.values())
    # The one refusal of every analysis without a definition (its type and wording).
    with pytest.raises(ConversionUndefinedError, match="overlay needs conversion defined: goal nodes or outcome"):
        overlay_service.compute_overlay(ctx, result, "removal effect")
    removal = overlay_service.compute_overlay(ctx, result, "removal effect", credited.frame).set_index("touchpoint")
    assert removal.loc["Pricing page", "value"] == 100 and removal.loc["Pricing page", "label"] == "100.0 %"
    assert removal.loc["Store", "label"] == "not reached"
    csat = overlay_service.compute_overlay(ctx, result, "csat").set_index("touchpoint")
    assert csat.loc["Pricing page", "target"] == 60 and csat.loc["Pricing page", "status"] == "red"
    assert csat.loc["Blog", "status"] == "none"  # no target there
    assert csat.loc["Store", "label"] == "not reached" and math.isnan(csat.loc["Store", "value"])
    journeys = overlay_service.compute_overlay(ctx, result, "journeys").set_index("touchpoint")
    assert journeys.loc["Pricing page", "value"] == 200  # every journey reaches it

    # A map-wide CSAT target holds at every touchpoint; a map-wide conversion target marks no cell (it is
    # the whole journey's rate), a stage's own conversion target marks that stage's touchpoints.
    metric_service.create_metric(map_id=map_id, kind="csat", target=70)
    metric_service.create_metric(map_id=map_id, kind="conversion", target=35)
    csat = overlay_service.compute_overlay(ctx, result, "csat").set_index("touchpoint")
    assert csat.loc["Pricing page", "target"] == 60 and csat.loc["Blog", "target"] == 70
    conversion = overlay_service.compute_overlay(ctx, result, "conversion").set_index("touchpoint")
    assert conversion["target"].isna().all() and set(conversion["status"]) == {"none"}
    stages, _ = _ids(map_id)
    metric_service.create_metric(map_id=map_id, kind="conversion", target=40, stage_id=stages["Conversion"])
    conversion = overlay_service.compute_overlay(ctx, result, "conversion").set_index("touchpoint")
    assert conversion.loc["Pricing page", "target"] == 40 and pd.isna(conversion.loc["Blog", "target"])

    dvo = overlay_service.compute_designed_vs_observed(ctx, result)
    assert "Store" in set(dvo.unreached_touchpoints["touchpoint"])
    assert list(dvo.unknown_activities["activity"]) == ["Webinar"]
    back = dvo.backward_transitions
    assert back.iloc[0]["from_touchpoint"] == "Pricing page" and back.iloc[0]["to_stage"] == "Consideration"


def test_portfolio_health_of_every_map(b2b):
    map_id, dataset_id = b2b
    other = create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    from services.maps import rename_map  # noqa: F401  (maps service is the owner of map edits)

    with write_session() as session:
        from db.models import JourneyMap

        m = session.get(JourneyMap, other)
        m.review_by = date(2020, 1, 1)
        session.add(m)
        session.add(
            Action(map_id=map_id, action="Simplify pricing", status="open", due_date=date.today() - timedelta(days=3))
        )
        session.add(Action(map_id=map_id, action="Add ROI calculator", status="in progress"))
        session.add(Action(map_id=map_id, action="Done already", status="done", due_date=date(2020, 1, 1)))

    nps = metric_service.create_metric(map_id=map_id, kind="nps", target=30)
    metric_service.set_metric_value(nps, "2026-01", 10)
    metric_service.set_metric_value(nps, "2026-02", 20)

    portfolio = overview_service.compute_portfolio()
    assert [h.name for h in portfolio] == ["B2B SaaS buyer journey", "Advisory client lifecycle"]
    b = portfolio[0]
    assert b.nps.value == 20 and b.nps.change == 10 and b.nps.status == "red" and b.health == "red"
    assert b.conversion.source == "dataset" and b.conversion.value is not None
    # The card's line is the one every page shows for this dataset and map.
    assert b.conversion_line == compute_conversion_line(open_context(dataset_id, map_id)).text
    assert b.conversion_line.startswith("Conversion: reaching Advocacy · ")
    assert f"({b.conversion.value:.1f}%)" in b.conversion_line
    assert b.hot_spot == "Pricing page" and b.hot_spot_friction > 0
    assert (b.open_actions, b.overdue_actions) == (2, 1)
    assert b.studio_link == f"pages/2_Map_studio.py?map={map_id}"
    a = portfolio[1]
    assert a.stale and a.dataset_id is None and a.hot_spot is None and a.health == "none"

    heat = overview_service.compute_portfolio_heatmap(portfolio)
    assert len(heat) == 2 * len(overview_service.HEATMAP_MEASURES)
    cell = heat[(heat["map"] == "B2B SaaS buyer journey") & (heat["measure"] == "NPS")].iloc[0]
    assert cell["label"] == "20 / 30 (+10) · by hand" and cell["status"] == "red"  # NPS was entered by hand
    review = heat[(heat["map"] == "Advisory client lifecycle") & (heat["measure"] == "Review")].iloc[0]
    assert review["status"] == "red"
    trends = overview_service.compute_trends(portfolio)
    assert list(trends["period"]) == ["2026-01", "2026-02"]
    table = overview_service.compute_portfolio_table(portfolio)
    assert list(table["map"]) == ["B2B SaaS buyer journey", "Advisory client lifecycle"]
    assert list(table["nps_source"]) == ["entered by hand", ""]
    assert list(table["conversion_source"])[0] == "computed"


def test_changing_the_definition_recomputes_the_conversion_metrics(b2b):
    map_id, dataset_id = b2b
    conv = metric_service.create_metric(map_id=map_id, kind="conversion", target=50, dataset_id=dataset_id)
    metric_service.compute_metric_values(conv, options=metric_service.ComputeOptions(period="quarter"))
    before = metric_service.get_metric(conv).values
    set_conversion(dataset_id, goal("Pricing page"))  # every journey of the planted log reaches it
    after = metric_service.get_metric(conv).values
    assert before != after and {v for _, v, *_ in after} == {100.0}
    # Computed per quarter, recomputed per quarter: a new definition never resets the period silently.
    assert all("-Q" in p for p, *_ in before) and [p for p, *_ in after] == [p for p, *_ in before]
    clear_conversion(dataset_id)
    assert metric_service.get_metric(conv).values == ()  # no definition: no number, never a stale one


def test_default_metrics_for_a_demo_map(b2b):
    map_id, dataset_id = b2b
    ids = metric_service.create_default_metrics(map_id, dataset_id)
    kinds = {r.kind for r in metric_service.list_metrics(map_id)}
    assert kinds == {"conversion", "nps", "csat"} and len(ids) == 3
    assert all(r.latest_value is not None and r.target is not None for r in metric_service.list_metrics(map_id))
    assert metric_service.create_default_metrics(map_id, dataset_id) == []  # idempotent


def test_computed_metrics_keep_and_say_the_options_they_were_computed_with(b2b):
    map_id, dataset_id = b2b
    _stages, tps = _ids(map_id)
    create = metric_service.create_metric
    fcr = create(map_id=map_id, kind="fcr", dataset_id=dataset_id, touchpoint_id=tps["Help centre"])
    clv = create(map_id=map_id, kind="clv", dataset_id=dataset_id)
    conv = create(map_id=map_id, kind="conversion", dataset_id=dataset_id)
    assert {metric_service.get_metric(i).computed_with for i in (fcr, clv, conv)} == {""}  # nothing computed yet
    options = metric_service.ComputeOptions(period="quarter", window_days=14, gross_margin=0.5)
    assert metric_service.recompute_map_metrics(map_id, options=options) == 3
    rows = {r.id: r for r in metric_service.list_metrics(map_id)}
    # Each keeps what applies to it: FCR derived its cases with the window, CLV used the margin.
    assert dict(rows[fcr].computed_options) == {"period": "quarter", "fcr_from": "derived", "window_days": 14.0}
    assert rows[fcr].computed_with == "per quarter · repeat window 14 days"
    assert rows[clv].computed_with == "per quarter · gross margin 0.5"
    assert rows[conv].computed_with == "per quarter"
    table = metric_service.compute_metric_table([rows[fcr], rows[clv], rows[conv]])
    assert list(table["computed with"]) == [rows[fcr].computed_with, rows[clv].computed_with, "per quarter"]
    # A new definition recomputes with the options kept.
    set_conversion(dataset_id, goal("Pricing page"))
    after = metric_service.get_metric(conv)
    assert after.computed_with == "per quarter" and all("-Q" in p for p, *_ in after.values)
    # Values computed before the options were kept say so.
    with write_session() as session:
        metric = session.get(Metric, conv)
        metric.computed_with = {}
        session.add(metric)
    assert metric_service.get_metric(conv).computed_with == "options not recorded"
    # Over the whole log, a metric that compares periods is computed per month, and says so.
    options = metric_service.ComputeOptions(period="all", gross_margin=0.5)
    assert options.for_kind("clv").period == "month" and options.for_kind("nps").period == "all"
    # Support touchpoints named for FCR are kept, said and used again; a name that does not exist is refused.
    named = metric_service.ComputeOptions(period="quarter", support=("Help centre", "Demo"))
    metric_service.compute_metric_values(fcr, options=named)
    kept = metric_service.get_metric(fcr).computed_options
    assert dict(kept)["support"] == ["Help centre", "Demo"]
    assert metric_service.ComputeOptions.of_kept(dict(kept)).support == ("Help centre", "Demo")
    assert "support at Help centre, Demo" in metric_service.get_metric(fcr).computed_with
    with pytest.raises(UnknownNameError, match="Help centr.*nearest: 'Help centre'"):
        metric_service.compute_metric_values(fcr, options=replace(named, support=("Help centr",)))
    # Moved to entering by hand: its kept options no longer describe it.
    metric_service.update_metric(clv, dataset_id=None)
    assert (metric_service.get_metric(clv).computed_options, metric_service.get_metric(clv).computed_with) == ((), "")


def test_kept_options_are_checked():
    from analytics.metrics import clean_kept_options, kept_options_words

    assert clean_kept_options(None) == {} and clean_kept_options({"period": "all"}) == {"period": "all"}
    assert clean_kept_options({"window_days": 3, "gross_margin": 1}) == {"window_days": 3.0, "gross_margin": 1.0}
    assert kept_options_words({"period": "month", "fcr_from": "flag"}) == "per month · cases from the fcr column"
    assert clean_kept_options({"support": ("Help centre",)}) == {"support": ["Help centre"]}
    words = kept_options_words({"fcr_from": "derived", "support": ["Help centre", "Chatbot"], "window_days": 7})
    assert words == "support at Help centre, Chatbot · repeat window 7 days"
    bad_values = ({"period": "week"}, {"fcr_from": "guess"}, {"window_days": -1}, {"window_days": math.inf})
    bad_values += ({"support": []}, {"support": "Help centre"}, {"support": [""]}, {"support": [1]})
    bad_values += ({"gross_margin": 1.5}, {"gross_margin": math.nan})
    for bad in (*bad_values, {"gross_margin": True}, {"x": 1}, [1]):
        with pytest.raises(BadInputError):
            clean_kept_options(bad)


def test_deleting_a_dataset_leaves_its_metrics_entered_by_hand(b2b):
    from services.datasets import delete_dataset

    map_id, dataset_id = b2b
    nps = metric_service.create_metric(map_id=map_id, kind="nps", dataset_id=dataset_id)
    metric_service.compute_metric_values(nps)
    before = metric_service.get_metric(nps).values
    delete_dataset(dataset_id)
    row = metric_service.get_metric(nps)
    assert (row.source, row.dataset_id, row.values) == ("manual", None, before)  # its values kept
    # Before, "Compute every computed metric" then failed for the whole map on this metric.
    assert metric_service.recompute_map_metrics(map_id) == 0
    metric_service.set_metric_value(nps, "2026-06", 12)  # entered by hand from now on


def test_a_hand_entered_conversion_cell_shows_the_logs_rate_beside_it(demo_engine):
    # The demo's B2B map holds a hand-entered "Win rate" of 38 % while its log converts 2,131 of 7,065.
    portfolio = overview_service.compute_portfolio(today=date(2026, 12, 1))
    heat = overview_service.compute_portfolio_heatmap(portfolio)
    cell = heat[(heat["map"] == "B2B SaaS buyer journey") & (heat["measure"] == "Conversion %")].iloc[0]
    assert cell["label"].startswith("38") and cell["label"].endswith("· by hand (log 30.2 of all journeys)"), cell[
        "label"
    ]


def test_a_metric_whose_column_is_empty_in_every_row_is_left_out_not_reported_as_zero(engine):
    """A value column mapped at import but empty in every row (a helpdesk export's revenue) leaves CLV
    out with the reason; before, CLV was reported as 0.0 for every period."""
    from services.context import open_context
    from services.metrics import ComputeOptions, compute_context_metrics, context_metrics_left_out
    from tests.factories_metrics import create_dataset as create_planted
    from tests.factories_metrics import planted_log

    log = planted_log(journeys=120)
    empty = create_planted(log.assign(value=float("nan")), name="no revenue")
    full = create_planted(log, name="revenue")
    options = ComputeOptions(period="month")
    ctx = open_context(empty)
    assert ctx.schema.has(Role.VALUE)  # mapped, yet empty
    assert "clv" not in set(compute_context_metrics(ctx, options=options)["metric"])
    assert "clv: the log's value column is empty in every row" in context_metrics_left_out(ctx, options=options)
    assert "clv" in set(compute_context_metrics(open_context(full), options=options)["metric"])
    assert not [w for w in context_metrics_left_out(open_context(full), options=options) if w.startswith("clv")]


def test_a_stored_log_rewritten_is_read_again_for_its_empty_columns(engine):
    # The empty-column check is kept per stored content (the file's size and time), not per path: a file
    # rewritten in place (as storing the neighbour facts does) is read again.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from services.context import open_context
    from services.metrics import ComputeOptions, context_metrics_left_out
    from tests.factories_metrics import create_dataset as create_planted
    from tests.factories_metrics import planted_log

    options = ComputeOptions(period="month")
    dataset_id = create_planted(planted_log(journeys=60).assign(value=float("nan")), name="no revenue")
    ctx = open_context(dataset_id)
    assert [w for w in context_metrics_left_out(ctx, options=options) if w.startswith("clv")]
    path = ctx.source.parquet_path
    table = pq.read_table(path)
    column = ctx.schema.column(Role.VALUE)
    filled = table.set_column(table.schema.get_field_index(column), column, pa.array([12.5] * table.num_rows))
    pq.write_table(filled, path)
    assert not [w for w in context_metrics_left_out(open_context(dataset_id), options=options) if w.startswith("clv")]
