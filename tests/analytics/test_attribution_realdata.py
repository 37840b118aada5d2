"""Attribution and outlook on the real BPIC 2012 log, held against the reference figures of
shared/data/README.md (computed independently with plain pandas)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.attribution import compute_attribution
from analytics.conversion import Conversion
from analytics.engine import memtable
from analytics.journeys import JourneyQuery
from analytics.layout import to_stored_layout
from analytics.outlook import compute_outlook
from analytics.schema import REQUIRED_ROLES, EventSchema, Role

# The module fixture reads a whole real log: the module on one xdist worker, so it runs once.
pytestmark = [pytest.mark.realdata, pytest.mark.slow, pytest.mark.xdist_group("realdata-attribution")]

SCHEMA = EventSchema(roles=frozenset(REQUIRED_ROLES) | {Role.ACCOUNT, Role.CONTACT, Role.STAGE, Role.OUTCOME})
LOST = ("A_DECLINED", "A_CANCELLED")
APPROVAL = Conversion(goals=("A_APPROVED",), lost_goals=LOST)


@pytest.fixture(scope="module")
def bpic(shared_data):
    frame = pd.read_csv(
        shared_data / "bpic2012" / "bpic2012_journey_events.csv.gz",
        dtype=str,
        usecols=["journey_id", "account_id", "contact_id", "timestamp", "activity", "stage", "outcome"],
    )
    return memtable(to_stored_layout(frame, SCHEMA))


def test_attribution_toward_approval(bpic):
    result = compute_attribution(bpic, SCHEMA, JourneyQuery(), APPROVAL)
    # README: 13,087 applications, 2,246 reach A_APPROVED; every application starts with A_SUBMITTED.
    assert result.journeys == 13_087
    assert result.conversions == 2_246
    table = result.table.set_index("touchpoint")
    assert table.loc["A_SUBMITTED", "first_touch"] == 2_246
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov"):
        assert table[model].sum() == pytest.approx(2_246)
    # Every application passes A_SUBMITTED and A_PARTLYSUBMITTED: removing either loses everything.
    assert table.loc["A_SUBMITTED", "removal_effect"] == pytest.approx(1.0)
    assert table.loc["A_PARTLYSUBMITTED", "removal_effect"] == pytest.approx(1.0)
    # Lost touchpoints end a path, so they earn nothing; a declined offer never leads to approval.
    assert "A_DECLINED" not in table.index
    assert table.loc["O_DECLINED", "removal_effect"] == pytest.approx(0.0)
    # A chain fitted by counts from complete paths conserves flow (into a state = out of it), so its
    # absorption probability from the start is exactly the observed approval rate, 2,246 / 13,087;
    # a path built wrong (a lost transition, a missing entry) breaks the identity.
    assert result.conversion_probability == pytest.approx(2_246 / 13_087)


def test_outlook_statuses_match_the_outcomes(bpic):
    result = compute_outlook(bpic, SCHEMA, JourneyQuery(), APPROVAL)
    # README outcomes: approved 2,246; declined 7,635 + cancelled 2,807 = 10,442; open 399.
    assert result.counts["converted"] == 2_246
    assert result.counts["lost"] == 10_442
    assert result.counts["open"] + result.counts["stale"] == 399
    assert str(result.as_of) == "2012-03-14"
    probabilities = result.table["conversion_probability"].dropna()
    assert len(probabilities) == result.counts["open"]
    assert probabilities.between(0, 1).all()
    assert result.baseline_probability == pytest.approx(2_246 / (2_246 + 10_442 + result.counts["stale"]))


def test_an_outcome_definition_credits_every_approved_application(bpic):
    # README: approved 2,246; an outcome converts after the journey's last event, so every approved
    # application has a path to credit and each model hands out exactly 2,246 conversions.
    by_outcome = Conversion(outcomes=("approved",), lost_outcomes=("declined", "cancelled"))
    result = compute_attribution(bpic, SCHEMA, JourneyQuery(), by_outcome)
    assert result.conversions == 2_246
    assert result.uncredited_conversions == 0
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov"):
        assert result.table[model].sum() == pytest.approx(2_246)
    outlook = compute_outlook(bpic, SCHEMA, JourneyQuery(), by_outcome)
    assert outlook.counts["converted"] == 2_246
    assert outlook.counts["lost"] == 10_442


def test_outlook_backtest_on_bpic(bpic):
    from analytics.outlook_backtest import compute_outlook_backtest

    result = compute_outlook_backtest(bpic, SCHEMA, JourneyQuery(), APPROVAL)
    # Two thirds of the way through the start dates (1 Oct 2011 – 14 Mar 2012).
    assert str(result.split_at) == "2012-01-10"
    # Every closed application (README: 13,087 minus 399 open) trains or tests; the test ones are cut once.
    assert result.train_journeys + result.test_journeys == 13_087 - 399
    assert result.test_prefixes <= result.test_journeys
    conv = result.conversion.set_index("model")
    assert conv.loc["learned", "auc"] > conv.loc["last touchpoint rate", "auc"]
    assert conv.loc["learned", "brier"] < min(conv.loc["last touchpoint rate", "brier"], conv.loc["base rate", "brier"])
    nxt = result.next_touchpoint.set_index("model")["accuracy"]
    assert nxt["learned"] > max(nxt["majority"], nxt["markov"])
