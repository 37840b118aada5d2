"""Every reference figure of ../shared/data/README.md, reproduced by the analytics core.

The logs are read with pandas and stored with ``to_stored_layout`` (what an import does), so these
tests do not depend on the importer. They skip with a message where the shared data is absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics.conversion import goal
from analytics.engine import memtable
from analytics.funnel import FunnelSpec, compute_funnel
from analytics.journeys import JourneyQuery
from analytics.layout import to_stored_layout
from analytics.outcomes import compute_outcomes
from analytics.paths import compute_variants
from analytics.schema import EventSchema, Role
from analytics.summary import compute_summary, summary_record
from analytics.timing import compute_time_to_convert
from analytics.transitions import ENTRY, compute_transitions
from tests.realdata_figures import HELPDESK_AFTER_TAKE_IN_CHARGE

# Module fixtures read a whole real log: the module on one xdist worker, so they run once.
pytestmark = [pytest.mark.realdata, pytest.mark.xdist_group("realdata-analytics")]

DAY = 86400.0
KEEP = JourneyQuery(collapse_repeats=False)
COLUMNS = ["journey_id", "account_id", "contact_id", "timestamp", "activity", "stage", "outcome", "value"]
ROLES = frozenset(
    {Role.JOURNEY, Role.TIMESTAMP, Role.ACTIVITY, Role.ACCOUNT, Role.CONTACT, Role.STAGE, Role.OUTCOME, Role.VALUE}
)


def _load(shared: Path, name: str):
    frame = pd.read_csv(shared / name / f"{name}_journey_events.csv.gz", dtype=str, usecols=COLUMNS)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    schema = EventSchema(roles=ROLES)
    return memtable(to_stored_layout(frame, schema)), schema


@pytest.fixture(scope="module")
def bpic(shared_data):
    return _load(shared_data, "bpic2012")


@pytest.fixture(scope="module")
def helpdesk(shared_data):
    return _load(shared_data, "helpdesk")


def _out_of(frame: pd.DataFrame, source: str) -> dict[str, int]:
    rows = frame[frame.source == source]
    return dict(zip(rows.target, rows["count"], strict=True))


# --------------------------------------------------------------------------- BPIC 2012


def test_bpic_size(bpic):
    s = summary_record(compute_summary(*bpic))
    # The README's 24 activities count every lifecycle event of the raw export; COMPLETE events have 23.
    assert (s["events"], s["journeys"], s["activities"]) == (164_506, 13_087, 23)


def test_bpic_outcomes(bpic):
    o = compute_outcomes(*bpic).set_index("outcome")
    assert o["journeys"].to_dict() == {"declined": 7_635, "cancelled": 2_807, "approved": 2_246, "open": 399}
    assert [round(100 * o.loc[k, "share"], 2) for k in ("approved", "declined", "cancelled", "open")] == [
        17.16,
        58.34,
        21.45,
        3.05,
    ]


BPIC_STEPS = ("A_SUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED", "A_APPROVED")


@pytest.mark.parametrize("mode", ["ordered", "strict", "any"])
def test_bpic_funnel_counts_and_strict_order_equality(bpic, mode):
    f = compute_funnel(*bpic, KEEP, FunnelSpec(BPIC_STEPS, mode=mode))
    assert f["journeys"].tolist() == [13_087, 7_367, 5_113, 5_015, 2_246]
    assert [round(100 * x, 2) for x in f["conversion_from_previous"][1:]] == [56.29, 69.40, 98.08, 44.79]


def test_bpic_days_from_submitted_to_approved(bpic):
    f = compute_funnel(*bpic, JourneyQuery(), FunnelSpec(("A_SUBMITTED", "A_APPROVED")))
    assert f.loc[1, "journeys"] == 2_246
    assert f.loc[1, "median_seconds_from_previous"] / DAY == pytest.approx(14.4366, abs=5e-5)
    assert f.loc[1, "p90_seconds_from_previous"] / DAY == pytest.approx(28.6837, abs=5e-5)
    # A_SUBMITTED is every application's first event, so time to convert is the same span (and has the mean).
    t = compute_time_to_convert(*bpic, JourneyQuery(), goal("A_APPROVED")).iloc[0]
    assert t.converted == 2_246
    assert t.median_seconds / DAY == pytest.approx(14.4366, abs=5e-5)
    assert t.mean_seconds / DAY == pytest.approx(16.6589, abs=5e-5)
    assert t.p90_seconds / DAY == pytest.approx(28.6837, abs=5e-5)


def test_bpic_transitions(bpic):
    t = compute_transitions(*bpic, KEEP)
    out = _out_of(t, "A_PARTLYSUBMITTED")
    assert {k: out[k] for k in ("A_PREACCEPTED", "A_DECLINED", "W_Afhandelen leads", "W_Beoordelen fraude")} == {
        "A_PREACCEPTED": 6_959,
        "A_DECLINED": 5_301,
        "W_Afhandelen leads": 760,
        "W_Beoordelen fraude": 67,
    }
    assert sum(out.values()) == 6_959 + 5_301 + 760 + 67
    top = t.iloc[0]
    assert (top.source, top.target, top["count"]) == ("W_Nabellen offertes", "W_Nabellen offertes", 13_521)


def test_bpic_paths(bpic):
    v = compute_variants(*bpic, KEEP, top=1)
    assert v.loc[0, "distinct_paths"] == 4_336
    assert v.loc[0, "path"] == ("A_SUBMITTED", "A_PARTLYSUBMITTED", "A_DECLINED")
    assert v.loc[0, "journeys"] == 3_429


# --------------------------------------------------------------------------- Helpdesk


def test_helpdesk_size(helpdesk):
    s = summary_record(compute_summary(*helpdesk))
    assert (s["events"], s["journeys"], s["accounts"], s["activities"]) == (21_348, 4_580, 397, 14)


def test_helpdesk_paths(helpdesk):
    v = compute_variants(*helpdesk, KEEP, top=1)
    assert v.loc[0, "distinct_paths"] == 226
    assert v.loc[0, "path"] == ("Assign seriousness", "Take in charge ticket", "Resolve ticket", "Closed")
    assert v.loc[0, "journeys"] == 2_366
    assert round(100 * v.loc[0, "share"], 2) == 51.66


def test_helpdesk_closed_and_wait(helpdesk):
    t = compute_time_to_convert(*helpdesk, JourneyQuery(), goal("Closed")).iloc[0]
    assert t.converted == 4_559 and round(100 * t.conversion_rate, 2) == 99.54
    assert t.median_seconds / DAY == pytest.approx(39.7151, abs=5e-5)
    wait = summary_record(compute_summary(*helpdesk, JourneyQuery(through=("Wait",))))
    assert wait["journeys"] == 1_236 and round(100 * wait["journeys"] / 4_580, 2) == 26.99


def test_helpdesk_transitions_and_first_activities(helpdesk):
    t = compute_transitions(*helpdesk, KEEP)
    out = _out_of(t, "Take in charge ticket")
    assert {k: out[k] for k in HELPDESK_AFTER_TAKE_IN_CHARGE} == HELPDESK_AFTER_TAKE_IN_CHARGE
    first = _out_of(t, ENTRY)
    assert {k: first[k] for k in ("Assign seriousness", "Insert ticket", "Take in charge ticket")} == {
        "Assign seriousness": 4_384,
        "Insert ticket": 118,
        "Take in charge ticket": 74,
    }
    assert sum(first.values()) == 4_580
