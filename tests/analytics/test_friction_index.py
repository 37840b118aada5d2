"""The friction index, one component at a time, then together on a seeded log with planted friction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics import friction as F
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from core.errors import BadInputError
from tests.factories import events_of
from tests.factories_metrics import B2B_ORDER, B2B_STAGE_OF, T0, journeys_frame, planted_log

STAGES = (("A1", "A"), ("A2", "A"), ("B1", "B"), ("B2", "B"), ("C1", "C"))
Q = JourneyQuery(stage_of=STAGES)
ORDER = ("A", "B", "C")


def _tp(result: F.FrictionResult, name: str) -> pd.Series:
    return result.touchpoints.set_index("touchpoint").loc[name]


def test_pure_component_scores():
    assert F.exit_score(0.6, 0.2) == pytest.approx(0.5)
    assert F.exit_score(0.1, 0.2) == 0.0
    assert F.exit_score(0.5, 1.0) == 0.0
    assert F.delay_score(7200, 3600) == pytest.approx(0.5)
    assert F.delay_score(1800, 3600) == 0.0
    assert F.delay_score(10, 0) == 1.0
    assert math.isnan(F.delay_score(float("nan"), 3600))
    total, contrib = F.friction_index(
        {"exit": 1.0, "backtrack": 0.0, "repeat": 0.0, "delay": 0.0, "feedback": float("nan")}, F.FrictionWeights()
    )
    # Feedback is absent: the index is renormalised over the four present weights (sum 0.8).
    assert total == pytest.approx(100 * 0.3 / 0.8)
    assert math.isnan(contrib["feedback"])


def test_exit_component_against_the_base_rate():
    # Four journeys; two end at B2 unconverted, two convert at C1.
    log = journeys_frame({"a": ["A1", "B2"], "b": ["A1", "B2"], "c": ["A1", "B1", "C1"], "d": ["A1", "B1", "C1"]})
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, Q, conversion=Conversion(goals=("C",)), stage_order=ORDER)
    b2 = _tp(r, "B2")
    # Exits: B2 2 of 2 journeys; others 0. Base = 2 exits / (4 + 2 + 2 + 2) journeys-at-touchpoint = 0.2.
    assert (b2.exits, b2.journeys, b2.exit_rate) == (2, 2, 1.0)
    assert b2.base_exit_rate == pytest.approx(0.2)
    assert b2.exit_score == pytest.approx(1.0)
    assert _tp(r, "A1").exit_score == 0.0
    # Only the exit component is above zero; nothing follows B2, so delay is absent and so is
    # feedback (no scores): the index is the exit weight's share of exit + backtrack + repeat.
    assert math.isnan(b2.delay_score)
    assert b2.friction == pytest.approx(100 * 0.3 / 0.65)
    assert r.touchpoints.iloc[0]["touchpoint"] == "B2"


def test_backtrack_component_counts_moves_to_an_earlier_stage():
    log = journeys_frame({"a": ["A1", "B1", "A2", "B1", "C1"], "b": ["A1", "B1", "C1"], "c": ["A1", "B2", "C1"]})
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, Q, conversion=Conversion(goals=("C",)), stage_order=ORDER)
    b1 = _tp(r, "B1")
    # Moves out of B1: a→A2 (back), a→C1, b→C1: 1 of 3.
    assert (b1.backtracks, b1.moves_out) == (1, 3)
    assert b1.backtrack_score == pytest.approx(1 / 3)
    assert _tp(r, "B2").backtrack_score == 0.0
    bt = F.compute_backward_transitions(events, schema, Q, stage_order=ORDER)
    assert bt.to_dict("records") == [
        {
            "from_touchpoint": "B1",
            "from_stage": "B",
            "to_touchpoint": "A2",
            "to_stage": "A",
            "transitions": 1,
            "journeys": 1,
        }
    ]


def test_backtrack_follows_the_designed_order_not_the_data():
    log = journeys_frame({"a": ["A1", "B1", "C1"]})
    events, schema = events_of(log)
    # Designed order C, B, A: every move in the data runs against it.
    r = F.compute_friction(events, schema, Q, stage_order=("C", "B", "A"))
    assert _tp(r, "A1").backtrack_rate == 1.0 and _tp(r, "B1").backtrack_rate == 1.0


def test_repeat_component_counts_consecutive_repeats_and_revisits():
    log = journeys_frame({"a": ["A1", "A1", "A1", "B1", "A1"], "b": ["A1", "B1"]})
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, Q, stage_order=ORDER)
    a1 = _tp(r, "A1")
    # A1 events: a×4, b×1 = 5; consecutive repeats 2 (a's 2nd, 3rd); revisit 1 (a's last).
    assert (a1.events, a1.consecutive_repeats, a1.revisits) == (5, 2, 1)
    assert a1.repeat_score == pytest.approx(3 / 5)
    assert _tp(r, "B1").repeat_score == 0.0


def test_delay_component_against_the_stage_median():
    # In stage A, A1 waits 4 h before the next event, A2 1 h; the stage's median gap is the median
    # of {4, 4, 1, 1, 1} = 1 h... built so the medians are exact:
    rows = []
    for j in range(3):
        rows += [
            {"journey_id": f"slow{j}", "activity": "A1", "timestamp": T0},
            {"journey_id": f"slow{j}", "activity": "B1", "timestamp": T0 + pd.Timedelta(hours=4)},
        ]
    for j in range(5):
        rows += [
            {"journey_id": f"fast{j}", "activity": "A2", "timestamp": T0},
            {"journey_id": f"fast{j}", "activity": "B1", "timestamp": T0 + pd.Timedelta(hours=1)},
        ]
    events, schema = events_of(pd.DataFrame(rows))
    r = F.compute_friction(events, schema, Q, stage_order=ORDER)
    a1, a2 = _tp(r, "A1"), _tp(r, "A2")
    assert a1.median_gap_seconds == 4 * 3600 and a1.reference_gap_seconds == 3600
    assert a1.delay_ratio == 4.0
    assert a1.delay_score == pytest.approx(0.75)
    assert a2.delay_score == 0.0
    assert math.isnan(_tp(r, "B1").delay_score)  # nothing follows B1


def test_feedback_component_counts_each_score_column():
    log = journeys_frame({"a": ["A1", "B1"], "b": ["A1", "B1"]})
    log["nps"] = [3, 10, 9, None]  # A1: one detractor of 2; B1: 0 of 1
    log["csat"] = [1, 5, 5, 2]  # A1: one low of 2; B1: one low (2) of 2
    log["effort"] = [None, 6, None, None]  # B1: one high effort of 1
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, Q, stage_order=ORDER)
    assert (_tp(r, "A1").negative, _tp(r, "A1").responses) == (2, 4)
    assert _tp(r, "A1").feedback_score == 0.5
    assert (_tp(r, "B1").negative, _tp(r, "B1").responses) == (2, 4)


def test_feedback_is_absent_without_score_columns_and_weights_renormalise():
    events, schema = events_of(journeys_frame({"a": ["A1", "B1"]}))
    r = F.compute_friction(events, schema, Q, stage_order=ORDER)
    assert r.touchpoints["feedback_score"].isna().all()


def test_weights_are_adjustable_and_validated():
    log = journeys_frame({"a": ["A1", "A1", "B1"], "b": ["A1", "B2"]})
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, Q, stage_order=ORDER, conversion=Conversion(goals=("B1",)))
    only_repeat = F.reweight(r, F.FrictionWeights(exit=0, backtrack=0, repeat=1, delay=0, feedback=0))
    a1 = only_repeat.touchpoints.set_index("touchpoint").loc["A1"]
    assert a1.friction == pytest.approx(100 * a1.repeat_rate)
    assert a1.contrib_repeat == pytest.approx(a1.friction)
    with pytest.raises(BadInputError):
        F.FrictionWeights(exit=-1).validate()
    with pytest.raises(BadInputError):
        F.FrictionWeights(0, 0, 0, 0, 0).validate()


def test_contributions_add_up_to_the_index_and_stages_are_scored():
    log = journeys_frame({"a": ["A1", "B1", "A1", "B1", "C1"], "b": ["A1", "B1", "B1"], "c": ["A1", "B2"]})
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, Q, conversion=Conversion(goals=("C",)), stage_order=ORDER)
    tp = r.touchpoints
    contrib = tp[[f"contrib_{k}" for k in F.COMPONENTS]].sum(axis=1, skipna=True)
    assert np.allclose(contrib, tp["friction"])
    st = r.stages.set_index("stage")
    # Stage B: journeys b and c end there unconverted (2 of 3), A none.
    assert (st.loc["B", "exits"], st.loc["B", "journeys"]) == (2, 3)
    assert st.loc["B", "friction"] > st.loc["A", "friction"]


def test_stage_order_is_derived_from_the_data_without_a_map():
    log = journeys_frame({"a": ["A1", "B1", "C1"], "b": ["A2", "B2", "C1"]})
    events, schema = events_of(log)
    assert F.compute_friction(events, schema, Q).stage_order == ("A", "B", "C")


def test_spearman_rank_correlation():
    assert F.spearman(pd.Series([1, 2, 3, 4]), pd.Series([10, 20, 30, 40])) == pytest.approx(1.0)
    assert F.spearman(pd.Series([1, 2, 3, 4]), pd.Series([4, 3, 2, 1])) == pytest.approx(-1.0)
    assert F.spearman(pd.Series([1, 2, 3, 4]), pd.Series([2, 1, 4, 3])) == pytest.approx(0.6)
    assert math.isnan(F.spearman(pd.Series([1, 2]), pd.Series([1, 2])))


# --------------------------------------------------------------------------- planted friction


def _planted_query() -> tuple[JourneyQuery, tuple[str, ...]]:
    return JourneyQuery(stage_of=B2B_STAGE_OF), B2B_ORDER


def test_planted_friction_comes_out_on_top_with_its_reasons():
    events, schema = events_of(planted_log())
    q, order = _planted_query()
    r = F.compute_friction(events, schema, q, conversion=Conversion(goals=("Service",)), stage_order=order)
    top = r.touchpoints.iloc[0]
    assert top.touchpoint == "Pricing page"
    assert top.friction > r.touchpoints.iloc[1].friction + 10
    for component in ("exit", "backtrack", "delay", "feedback"):
        assert top[f"{component}_score"] > 0, component
    assert "end there unconverted" in top.reason
    assert r.stages.iloc[0]["stage"] == "Conversion"
    hot = F.compute_hot_spots(r.touchpoints, top_n=3)
    assert hot.iloc[0]["touchpoint"] == "Pricing page" and len(hot) == 3
    # Each component alone also puts the planted touchpoint first.
    for component in ("exit", "backtrack", "delay", "feedback"):
        weights = F.FrictionWeights(**{k: (1.0 if k == component else 0.0) for k in F.COMPONENTS})
        assert F.reweight(r, weights).touchpoints.iloc[0]["touchpoint"] == "Pricing page", component


def test_behavioural_index_agrees_with_survey_scores():
    events, schema = events_of(planted_log())
    q, order = _planted_query()
    r = F.compute_friction(events, schema, q, conversion=Conversion(goals=("Service",)), stage_order=order)
    v = F.compute_friction_validation(r).set_index("score")
    assert set(v.index) == {"NPS", "CSAT"}
    assert v.loc["CSAT", "touchpoints"] == 8
    assert v.loc["CSAT", "rho"] < 0 and v.loc["NPS", "rho"] < 0


def test_account_level_and_filters_pass_through():
    log = pd.concat(
        [journeys_frame({"a": ["A1", "B1"]}), journeys_frame({"b": ["A1"]}, start=T0 + pd.Timedelta(hours=2))]
    )
    log["account_id"] = "acme"
    events, schema = events_of(log)
    r = F.compute_friction(events, schema, JourneyQuery(level="account", stage_of=STAGES), stage_order=ORDER)
    # One account journey: A1, B1, A1 → B1 moves back to A.
    assert _tp(r, "B1").backtracks == 1 and _tp(r, "A1").journeys == 1


def test_a_friction_index_has_one_status_rule():
    # The Overview's heat map colours by it and its legend quotes it (both once wrote 50 and 25 themselves).
    from analytics.friction import friction_status
    from services.overview import heatmap_legend

    assert [friction_status(v) for v in (None, 0.0, 24.9, 25.0, 49.9, 50.0, 100.0)] == [
        "none", "green", "green", "amber", "amber", "red", "red"
    ]  # fmt: skip
    assert "worst friction red from 50, amber from 25" in heatmap_legend()
