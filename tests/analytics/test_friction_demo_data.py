"""The demo log's planted friction (sample_data/generate.py, "Planted effects") comes out on top."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import friction as F
from analytics import metrics as M
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from tests import ROOT
from tests.factories import events_of

ORDER = ("Awareness", "Consideration", "Conversion", "Service", "Advocacy")


@pytest.fixture(scope="module")
def b2b_events():
    df = pd.read_csv(ROOT / "sample_data" / "b2b_saas_events.csv", dtype={"fcr": "string"})
    frame = df.rename(columns={"contact_role": "role"})[
        ["journey_id", "account_id", "contact_id", "role", "timestamp", "activity", "channel", "stage"]
        + ["outcome", "value", "nps", "csat", "effort", "fcr"]
    ]
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["fcr"] = frame["fcr"].map({"true": True, "false": False}).astype("boolean")
    return events_of(frame)


def test_pricing_page_is_the_hot_spot_of_the_demo_journey(b2b_events):
    events, schema = b2b_events
    # The map's default goal: its last stage.
    r = F.compute_friction(
        events, schema, JourneyQuery(), conversion=Conversion(goals=("Advocacy",)), stage_order=ORDER
    )
    tp = r.touchpoints.set_index("touchpoint")
    assert r.touchpoints.iloc[0]["touchpoint"] == "Pricing page"
    pricing = tp.loc["Pricing page"]
    # Each planted component shows: it stalls, loops back, loses buyers and is rated low.
    others = tp.drop(index="Pricing page")
    conversion = others[others["stage"] == "Conversion"]
    assert pricing.backtrack_rate > 0.4 and pricing.backtrack_rate == tp["backtrack_rate"].max()
    assert pricing.delay_ratio > 2
    assert pricing.exit_rate > conversion["exit_rate"].max() and pricing.exit_score > 0
    assert pricing.negative_rate > others["negative_rate"].median()
    hot = F.compute_hot_spots(r.touchpoints, top_n=3)
    assert hot.iloc[0]["touchpoint"] == "Pricing page"
    assert "end there unconverted" in hot.iloc[0]["reason"] and pricing.contrib_backtrack > 0
    assert r.stages.set_index("stage").loc["Conversion", "backtrack_rate"] > 0.2
    # The behavioural index (feedback left out) runs against the survey's satisfaction scores.
    v = F.compute_friction_validation(r).set_index("score")
    assert v.loc["CSAT", "rho"] < 0 and v.loc["NPS", "rho"] < 0


def test_account_journeys_find_chatbot_as_the_service_hot_spot(b2b_events):
    events, schema = b2b_events
    r = F.compute_friction(
        events, schema, JourneyQuery(level="account"), conversion=Conversion(goals=("Store",)), stage_order=ORDER
    )
    assert r.touchpoints.iloc[0]["touchpoint"] == "Pricing page"
    service = r.touchpoints[r.touchpoints["stage"] == "Service"]
    assert service.iloc[0]["touchpoint"] == "Chatbot"


def test_demo_metrics_show_the_planted_trends(b2b_events):
    events, schema = b2b_events
    fcr = M.compute_fcr(events, schema, period="quarter").set_index("period")
    assert (fcr["method"] == "flag").all()
    # First-contact resolution improves after the Help centre relaunch of March 2026.
    assert fcr.loc["2026-Q3", "value"] > fcr.loc["2025-Q3", "value"]
    by_tp = M.compute_fcr(events, schema, period="all", by="touchpoint").set_index("scope")
    assert by_tp.loc["Chatbot", "value"] < by_tp.loc["Support agent", "value"]
    csat = M.compute_csat(events, schema, period="all", by="touchpoint").set_index("scope")
    assert csat["value"].idxmin() == "Pricing page" or csat.loc["Pricing page", "value"] < 30
