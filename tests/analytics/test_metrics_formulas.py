"""Every metric formula on hand-computed data, with empty, single-respondent and no-data periods."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics import metrics as M
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from core.errors import BadInputError, UnknownColumnError
from tests.factories import events_of
from tests.factories_metrics import journeys_frame


def _row(df: pd.DataFrame, period: str = "2026-01", scope: str = "all") -> pd.Series:
    sel = df[(df["period"] == period) & (df["scope"] == scope)]
    assert len(sel) == 1, df
    return sel.iloc[0]


# --------------------------------------------------------------------------- pure formulas


def test_pure_formulas_and_empty_bases():
    assert M.nps_value(5, 2, 10) == 30.0
    assert math.isnan(M.nps_value(0, 0, 0))
    assert M.csat_value(3, 4) == 75.0
    assert math.isnan(M.csat_value(0, 0))
    assert M.ces_value(9.0, 3) == 3.0
    assert M.fcr_value(7, 10) == 70.0
    assert M.retention_value(active_end=90, new=20, active_start=100) == 70.0
    assert math.isnan(M.retention_value(5, 5, 0))
    assert M.clv_value(100.0, 0.8, 0.05) == pytest.approx(1600.0)
    assert math.isnan(M.clv_value(100.0, 0.8, 0.0))
    assert M.conversion_value(1, 4) == 25.0


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        (50, 50, "higher", "green"),
        (60, 50, "higher", "green"),
        (45, 50, "higher", "amber"),  # misses by 5 = 10 % of 50: still amber
        (44.9, 50, "higher", "red"),
        (2.0, 2.0, "lower", "green"),
        (2.2, 2.0, "lower", "amber"),
        (2.21, 2.0, "lower", "red"),
        (-5, -10, "higher", "green"),
        (-11, -10, "higher", "amber"),
        (1, 0, "lower", "red"),  # a target of 0 has no amber band
        (None, 50, "higher", "none"),
        (float("nan"), 50, "higher", "none"),
        (40, None, "higher", "none"),
    ],
)
def test_status_red_amber_green(value, target, direction, expected):
    assert M.metric_status(value, target, direction) == expected


def test_status_rejects_unknown_direction():
    with pytest.raises(BadInputError):
        M.metric_status(1, 2, "sideways")


def test_period_labels_and_ranges():
    assert M.previous_period("2026-01") == "2025-12"
    assert M.previous_period("2026-Q1") == "2025-Q4"
    assert M.previous_period("all") is None
    assert M.period_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert M.period_range("2025-Q4", "2026-Q2") == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert M.period_label(pd.Timestamp("2026-03-31T23:59:59Z"), "quarter") == "2026-Q1"


# --------------------------------------------------------------------------- survey metrics


def _survey_log() -> pd.DataFrame:
    # January: 4 NPS answers (10, 9, 7, 3): 2 promoters, 1 passive, 1 detractor → NPS 25.
    # February: nothing. March: one answer (6) → NPS −100 from a single respondent.
    rows = [
        ("a", "Demo", "2026-01-05", 10, 5, 2),
        ("a", "Pricing", "2026-01-06", 9, 4, 6),
        ("b", "Demo", "2026-01-10", 7, 3, 3),
        ("b", "Pricing", "2026-01-11", 3, 1, 7),
        ("c", "Demo", "2026-03-02", 6, None, None),
        ("c", "Blog", "2026-03-03", None, None, None),
    ]
    return pd.DataFrame(
        [
            {"journey_id": j, "activity": a, "timestamp": pd.Timestamp(ts, tz="UTC"), "nps": n, "csat": c, "effort": e}
            for j, a, ts, n, c, e in rows
        ]
    )


def test_nps_per_month_with_an_empty_month_and_a_single_respondent():
    events, schema = events_of(_survey_log())
    df = M.compute_nps(events, schema, period="month")
    assert list(df["period"]) == ["2026-01", "2026-02", "2026-03"]
    jan = _row(df, "2026-01")
    assert (jan.promoters, jan.passives, jan.detractors, jan.base, jan.value) == (2, 1, 1, 4, 25.0)
    feb = _row(df, "2026-02")
    assert feb.base == 0 and math.isnan(feb.value)
    assert _row(df, "2026-03").value == -100.0


def test_nps_by_touchpoint_and_whole_period():
    events, schema = events_of(_survey_log())
    df = M.compute_nps(events, schema, period="all", by="touchpoint")
    assert _row(df, "all", "Demo").value == pytest.approx(100 * (1 - 1) / 3)
    assert _row(df, "all", "Pricing").value == 0.0  # one promoter (9), one detractor (3)
    assert "Blog" not in set(df["scope"])  # no responses there


def test_csat_and_ces_hand_computed():
    events, schema = events_of(_survey_log())
    csat = M.compute_csat(events, schema, period="quarter")
    q1 = _row(csat, "2026-Q1")
    assert (q1.satisfied, q1.base, q1.value) == (2, 4, 50.0)
    ces = M.compute_ces(events, schema, period="month")
    assert _row(ces, "2026-01").value == pytest.approx((2 + 6 + 3 + 7) / 4)
    assert math.isnan(_row(ces, "2026-03").value)


def test_survey_metric_without_its_column_says_so():
    events, schema = events_of(journeys_frame({"a": ["X"]}))
    with pytest.raises(UnknownColumnError, match="nps"):
        M.compute_nps(events, schema)


def test_empty_log_gives_an_empty_table():
    frame = _survey_log()
    events, schema = events_of(frame)
    df = M.compute_nps(events.filter(events.journey_id == "nobody"), schema)
    assert df.empty and list(df.columns[:5]) == M.RESULT_COLUMNS


# --------------------------------------------------------------------------- FCR


def test_fcr_from_flag_column():
    frame = journeys_frame({"t1": ["Ticket"], "t2": ["Ticket"], "t3": ["Ticket"], "t4": ["Ticket"]})
    frame["fcr"] = [True, False, True, None]
    events, schema = events_of(frame)
    df = M.compute_fcr(events, schema, period="all")
    row = _row(df, "all")
    assert (row.resolved, row.base, row.value, row.method) == (2, 3, pytest.approx(200 / 3), "flag")


def test_fcr_derived_from_repeat_contacts_within_the_window():
    day = 24.0
    # j1: one support contact → resolved. j2: two contacts a day apart → one case, not resolved.
    # j3: two contacts 10 days apart → two cases, both resolved. Blog visits are not support.
    frame = pd.concat(
        [
            journeys_frame({"j1": ["Blog", "Support"]}, hours_between=1),
            journeys_frame({"j2": ["Support", "Support"]}, hours_between=day),
            journeys_frame({"j3": ["Support", "Blog", "Support"]}, hours_between=5 * day),
        ]
    )
    events, schema = events_of(frame)
    df = M.compute_fcr(events, schema, period="all", support=("Support",), window_days=7)
    row = _row(df, "all")
    assert (row.resolved, row.base, row.method) == (3, 4, "derived")
    assert row.value == 75.0
    with pytest.raises(BadInputError, match="support"):
        M.compute_fcr(events, schema)


# --------------------------------------------------------------------------- retention and CLV


def _accounts_log() -> pd.DataFrame:
    # Jan: A, B active (both new). Feb: A, C (C new; B churned). Mar: nobody. Apr: A (returns).
    rows = [
        ("A", "2026-01-10", 100.0),
        ("B", "2026-01-12", 50.0),
        ("A", "2026-02-03", 100.0),
        ("C", "2026-02-20", 30.0),
        ("A", "2026-04-01", 100.0),
    ]
    return pd.DataFrame(
        [
            {
                "journey_id": f"{a}-{i}",
                "account_id": a,
                "activity": "Renewal",
                "timestamp": pd.Timestamp(ts, tz="UTC"),
                "value": v,
            }
            for i, (a, ts, v) in enumerate(rows)
        ]
    )


def test_retention_per_month_hand_computed():
    events, schema = events_of(_accounts_log())
    df = M.compute_retention(events, schema, period="month").set_index("period")
    assert list(df.index) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert math.isnan(df.loc["2026-01", "value"])  # no start
    # Feb: (active 2 − new 1) / start 2 = 50 %.
    assert df.loc["2026-02", "value"] == 50.0
    # Mar: nobody active: (0 − 0) / 2 = 0 %. Apr: start is March's 0 accounts → no value.
    assert df.loc["2026-03", "value"] == 0.0
    assert math.isnan(df.loc["2026-04", "value"])
    with pytest.raises(BadInputError):
        M.compute_retention(events, schema, period="all")


def test_clv_per_month_hand_computed():
    events, schema = events_of(_accounts_log())
    df = M.compute_clv(events, schema, period="month", gross_margin=0.5).set_index("period")
    # Feb: revenue 130 over 2 active accounts → ARPA 65; churn: B of {A, B} → 0.5; CLV = 65 × 0.5 / 0.5.
    assert df.loc["2026-02", "arpa"] == 65.0
    assert df.loc["2026-02", "churn_rate"] == 0.5
    assert df.loc["2026-02", "value"] == 65.0
    # Mar: no account active → no ARPA, no value.
    assert math.isnan(df.loc["2026-03", "value"])
    with pytest.raises(BadInputError):
        M.compute_clv(events, schema, gross_margin=1.5)


# --------------------------------------------------------------------------- conversion


def test_conversion_overall_per_touchpoint_and_per_stage():
    frame = journeys_frame(
        {"a": ["Blog", "Demo", "Store"], "b": ["Blog", "Demo"], "c": ["Blog"], "d": ["Ads", "Store"]}
    )
    events, schema = events_of(frame)
    q = JourneyQuery(stage_of=(("Blog", "Aware"), ("Ads", "Aware"), ("Demo", "Consider"), ("Store", "Buy")))
    overall = M.compute_conversion(events, schema, q, conversion=Conversion(goals=("Buy",)), period="all")
    assert _row(overall, "all").value == 50.0  # a and d of four
    by_tp = M.compute_conversion(
        events, schema, q, conversion=Conversion(goals=("Store",)), period="all", by="touchpoint"
    )
    assert _row(by_tp, "all", "Blog").value == pytest.approx(100 / 3)
    assert _row(by_tp, "all", "Demo").value == 50.0
    by_stage = M.compute_conversion(events, schema, q, conversion=Conversion(goals=("Buy",)), period="all", by="stage")
    assert _row(by_stage, "all", "Consider").value == 50.0
    scoped = M.compute_conversion(
        events, schema, q, conversion=Conversion(goals=("Buy",)), period="all", scope="Consider", scope_by="stage"
    )
    assert _row(scoped, "all").base == 2
    with pytest.raises(BadInputError):
        M.compute_conversion(events, schema, q, conversion=Conversion(goals=("",)))


def test_conversion_period_is_the_journeys_first_event():
    frame = pd.concat(
        [
            journeys_frame({"jan": ["Blog", "Store"]}, start=pd.Timestamp("2026-01-31T23:00Z")),
            journeys_frame({"mar": ["Blog"]}, start=pd.Timestamp("2026-03-01T00:00Z")),
        ]
    )
    events, schema = events_of(frame)
    df = M.compute_conversion(events, schema, conversion=Conversion(goals=("Store",)), period="month")
    assert _row(df, "2026-01").value == 100.0  # converted in February, counted in January
    assert _row(df, "2026-02").base == 0 and math.isnan(_row(df, "2026-02").value)
    assert _row(df, "2026-03").value == 0.0


# --------------------------------------------------------------------------- outcomes


def test_outcome_shares_of_a_stage_with_declared_outcomes():
    frame = journeys_frame(
        {"a": ["Referral", "Proposal"], "b": ["Website", "Proposal"], "c": ["Website"], "d": ["Referral"]}
    )
    frame["outcome"] = [None, "hired", None, "not now", None, "lost in space"]
    events, schema = events_of(frame)
    df = M.compute_outcome_shares(events, schema, outcomes=("hired", "not now", "no way")).set_index("outcome")
    assert df.loc["hired", "journeys"] == 1 and df.loc["not now", "journeys"] == 1
    assert df.loc["no way", "journeys"] == 0
    assert df.loc["(other)", "journeys"] == 1 and df.loc["(no outcome)", "journeys"] == 1
    # The same share as the Paths page's outcomes: a fraction, shown as "25.0 %" by charts.labels.
    assert df.loc["hired", "share"] == 0.25


def test_touchpoint_labels_keep_same_named_touchpoints_apart(engine):
    from db import crud
    from db.engine import write_session
    from services.linking import map_touchpoints

    with write_session() as session:
        m = crud.create_map(session=session, name="Labels")
        stages = {
            n: crud.create_stage(session=session, map_id=m.id, name=n, position=i)
            for i, n in enumerate(("Awareness", "Consideration", "Advocacy"))
        }
        for position, (name, stage) in enumerate(
            [
                ("Newsletter", "Awareness"),
                ("Demo", "Consideration"),
                ("Newsletter", "Advocacy"),
                ("Demo", "Consideration"),
            ]
        ):
            crud.create_touchpoint(session=session, stage=stages[stage], name=name, position=position)
        map_id = m.id
    labels = [t.label for t in map_touchpoints(map_id)]
    assert labels == ["Newsletter (Awareness)", "Demo", "Demo 2", "Newsletter (Advocacy)"]
