"""The outlook's learned model and its backtest: features, words, baselines and the calibration
table worked out by hand on tiny logs, the refusals, and a generated log with a planted signal
(committee breadth) that the last touchpoint cannot see."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.outlook import Cut, compute_outlook, load_journey_log
from analytics.outlook_backtest import baseline_next, calibration_table, compute_outlook_backtest
from analytics.outlook_model import (
    SECONDS_PER_DAY,
    cut_at_random_times,
    factor_words,
    factors_text,
    feature_space,
    prefix_features,
    time_weights,
)
from core.errors import JourneyLensError
from tests.factories_attribution import SCHEMA, T0, committee_log, events_from_frame, events_from_paths

WON = Conversion(goals=("Closed won",), lost_goals=("Closed lost",))
ACCOUNTS = JourneyQuery(level="account")


def _frame(rows):
    frame = pd.DataFrame(rows, columns=["journey_id", "account_id", "timestamp", "activity"])
    frame["contact_id"] = frame["journey_id"]
    frame["channel"] = None
    return frame


def test_features_of_an_account_prefix_by_hand():
    # Account K: x1 does A at T0 and B a day later; x2 does A two hours after T0. At account level the
    # two A events collapse into one step (2 events), then B: 2 steps, 3 events, 2 contacts.
    frame = _frame(
        [
            ("x1", "K", T0, "A"),
            ("x2", "K", T0 + timedelta(hours=2), "A"),
            ("x1", "K", T0 + timedelta(days=1), "B"),
        ]
    )
    log = load_journey_log(Cut(events_from_frame(frame), SCHEMA, ACCOUNTS, WON, date(2024, 1, 5), 30))
    assert log.steps["events"].tolist() == [2, 1]
    assert log.steps["contacts"].tolist() == [2, 2]
    assert log.has_contacts and log.has_channels and not log.has_roles
    space = feature_space(log, log.steps)
    seen_at = T0.timestamp() + 3 * SECONDS_PER_DAY
    x = prefix_features(log, space, np.array([1]), np.array([seen_at])).iloc[0]
    assert x["steps"] == 2 and x["events"] == 3 and x["contacts"] == 2
    assert x["days_since_start"] == pytest.approx(3.0)
    assert x["days_since_last_event"] == pytest.approx(2.0)
    assert x["days_between_last_steps"] == pytest.approx(22 / 24)  # from x2's A (02:00) to B
    names = {v: k for k, v in log.names.items()}
    assert x[f"visits:{names['A']}"] == 1 and x[f"visits:{names['B']}"] == 1
    codes = space.categories["last_node"]
    assert x["last_node"] == codes[names["B"]] and x["node_before"] == codes[names["A"]]
    assert math.isnan(x["node_two_before"])
    # The first prefix (A alone) has no step before it.
    first = prefix_features(log, space, np.array([0]), np.array([seen_at])).iloc[0]
    assert first["steps"] == 1 and math.isnan(first["days_between_last_steps"]) and math.isnan(first["node_before"])


def test_time_weights_and_the_random_cut():
    # One journey, steps at 0 h, 1 h (same node twice: one step with repeats collapsed), 3 h, then Won at 9 h.
    # Prefix waits: A stands still from its last event (1 h) to B (3 h): 2 h; B from 3 h to Won: 6 h.
    frame = _frame(
        [("j", "j", T0, "A"), ("j", "j", T0 + timedelta(hours=1), "A")]
        + [("j", "j", T0 + timedelta(hours=3), "B"), ("j", "j", T0 + timedelta(hours=9), "Closed won")]
    )
    log = load_journey_log(Cut(events_from_frame(frame), SCHEMA, JourneyQuery(), WON, date(2024, 1, 1), 30))
    rows = np.flatnonzero(log.steps["before_stop"].to_numpy())
    assert list(rows) == [0, 1]
    assert time_weights(log, rows, 30) == pytest.approx([2 / 8, 6 / 8])
    picks = [cut_at_random_times(log, rows, np.random.default_rng(s), 30)[0] for s in range(400)]
    assert 0.65 < np.mean(picks) < 0.85  # B is caught three times out of four


def test_factor_words():
    log = load_journey_log(
        Cut(events_from_paths({"1": ["A", "B", "B"]}), SCHEMA, JourneyQuery(), WON, date(2024, 1, 1), 30)
    )
    space = feature_space(log, log.steps)
    b = {v: k for k, v in log.names.items()}["B"]
    assert factor_words("contacts", 3, log, space) == "3 people of the buying committee involved"
    assert factor_words("contacts", 1, log, space) == "1 person of the buying committee involved"
    assert factor_words("days_since_last_event", 41.3, log, space) == "41 days since the last event"
    assert factor_words("days_since_last_event", 0.5, log, space) == "12 hours since the last event"
    assert factor_words("days_since_start", 2.25, log, space) == "2.2 days since the start"
    assert factor_words(f"visits:{b}", 2, log, space) == "B visited twice"
    assert factor_words(f"visits:{b}", 0, log, space) == "B not visited yet"
    assert factor_words("last_node", space.categories["last_node"][b], log, space) == "stands on B"
    assert factors_text([{"factor": "B visited twice", "effect": -0.123}, {"factor": "x", "effect": 0.05}]) == (
        "B visited twice (−12.3 points); x (+5.0 points)"
    )


def test_baselines_by_hand():
    train = pd.DataFrame(
        {
            "last": ["A", "A", "A", "B", "B", "C"],
            "before": [None, "X", "X", "A", "A", "B"],
            "next": ["B", "C", "C", "Won", "Won", "Lost"],
            "weight": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    test = pd.DataFrame({"last": ["A", "A", "D", "C"], "before": [None, "X", "A", "Z"]})
    predicted = baseline_next(train, test)
    # Majority: C and Won twice each, tie by name → C. Markov: after A, C (2) beats B (1); D unseen → C.
    assert list(predicted["majority"]) == ["C"] * 4
    assert list(predicted["markov"]) == ["C", "C", "C", "Lost"]
    # 3-gram: (X, A) → C; no before → Markov's; unseen pair (Z, C) → Markov's.
    assert list(predicted["3-gram"]) == ["C", "C", "C", "Lost"]
    # Weights count: B's one prefix weighing 3 makes it the commonest after A.
    heavy = train.assign(weight=[3.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert baseline_next(heavy, test)["markov"][0] == "B"


def test_calibration_table_by_hand():
    table = calibration_table(np.array([0.05, 0.15, 0.12, 0.95, 1.0]), np.array([0, 1, 0, 1, 1]))
    assert table["bin"].tolist() == ["0–10%", "10–20%", "90–100%"]
    assert table["prefixes"].tolist() == [1, 2, 2]
    assert table["predicted"].tolist() == pytest.approx([0.05, 0.135, 0.975])
    assert table["observed"].tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_backtest_refuses_when_almost_every_journey_converts():
    paths = {f"j{k:03d}": ["A", "B", "Closed won"] for k in range(100)}
    starts = {j: T0 + timedelta(days=k) for k, j in enumerate(paths)}
    events = events_from_paths(paths, start=starts)
    with pytest.raises(JourneyLensError, match=r"100\.0% of the \d+ closed journeys .* convert"):
        compute_outlook_backtest(events, SCHEMA, JourneyQuery(), WON)


def test_backtest_refuses_too_few_test_journeys():
    paths = {f"j{k:03d}": ["A", "B", "Closed won" if k % 3 else "Closed lost"] for k in range(90)}
    starts = {j: T0 + timedelta(days=k) for k, j in enumerate(paths)}
    events = events_from_paths(paths, start=starts)
    with pytest.raises(JourneyLensError, match="backtest needs at least 30; pick an earlier split date"):
        compute_outlook_backtest(events, SCHEMA, JourneyQuery(), WON, split_at=date(2024, 3, 20))


@pytest.fixture(scope="module")
def committee():
    return events_from_frame(committee_log())


def test_the_learned_model_finds_the_planted_signal(committee):
    result = compute_outlook_backtest(committee, SCHEMA, ACCOUNTS, WON)
    conv = result.conversion.set_index("model")
    # Every account stands on Demo before it closes: the last touchpoint's rate cannot rank them.
    assert conv.loc["last touchpoint rate", "auc"] == pytest.approx(0.5, abs=0.05)
    assert conv.loc["learned", "auc"] > conv.loc["last touchpoint rate", "auc"] + 0.2
    assert conv.loc["learned", "brier"] < min(conv.loc["last touchpoint rate", "brier"], conv.loc["base rate", "brier"])
    nxt = result.next_touchpoint.set_index("model")["accuracy"]
    assert nxt["learned"] > max(nxt["majority"], nxt["markov"], nxt["3-gram"])
    assert result.calibration["prefixes"].sum() == result.test_prefixes
    payload = result.to_json()
    assert set(payload) >= {"train_journeys", "test_prefixes", "next_touchpoint", "conversion"}
    assert set(payload["next_touchpoint"]["baselines"]) == {"majority", "markov", "3-gram"}
    assert set(payload["conversion"]["baselines"]) == {"last touchpoint rate", "base rate"}


def test_the_outlook_explains_itself_with_the_committee(committee):
    result = compute_outlook(committee, SCHEMA, ACCOUNTS, WON)
    assert result.model_note is None
    table = result.table
    assert len(table) == 30 and set(table["model"]) == {"learned"}
    # Wide committees are ranked first; for every unlikely account the first factor is its narrow
    # committee, pulling the probability down (the median account has three people, so a wide
    # committee moves little when set to the median, and other factors come first there).
    unlikely = table[table["conversion_probability"] < 0.5]
    assert len(unlikely) >= 5
    for factors in unlikely["factor_list"]:
        assert "of the buying committee involved" in factors[0]["factor"] and factors[0]["effect"] < 0
    people = committee_log().groupby("account_id")["contact_id"].nunique()
    wide = table["journey_key"].map(people).ge(3)
    assert wide.any() and (~wide).any()
    assert table.loc[wide, "conversion_probability"].min() > table.loc[~wide, "conversion_probability"].max()
    assert all(1 <= len(n) <= 3 for n in table["next_touchpoint_list"])
    # The chain, standing on Demo for all, gives every account the same probability.
    assert table["markov_probability"].nunique() == 1


def test_an_outcome_definition_stops_converted_journeys_at_the_touchpoint_that_marks_conversion():
    # 30 won journeys A → Store → Onboarding, 30 lost ones A → B; 5 won A → B. Store: 30 closed
    # journeys, all won (marks conversion); B: 35, 5 won (does not); Onboarding only ever after Store.
    rows = []
    for k in range(65):
        path = ["A", "Store", "Onboarding"] if k < 30 else ["A", "B"]
        outcome = "won" if k < 35 else "lost"
        for step, activity in enumerate(path):
            rows.append((f"j{k:02d}", T0 + timedelta(days=k, hours=step), activity, outcome))
    frame = pd.DataFrame(rows, columns=["journey_id", "timestamp", "activity", "outcome"])
    frame["account_id"] = frame["contact_id"] = frame["journey_id"]
    from analytics.schema import Role

    schema = type(SCHEMA)(roles=SCHEMA.roles | {Role.OUTCOME})
    by_outcome = Conversion(outcomes=("won",), lost_outcomes=("lost",))
    events = events_from_frame(frame.assign(channel=None), schema)
    log = load_journey_log(Cut(events, schema, JourneyQuery(), by_outcome, date(2024, 3, 31), 30))
    assert log.post_conversion == ("Onboarding", "Store")
    names = log.steps["node"].map(log.names)
    kept = names[log.steps["before_stop"]]
    assert set(kept) == {"A", "B"}  # no training prefix ends on Store or after it
    assert len(kept) == 30 + 2 * 35


def _purchase_log() -> tuple[object, object]:
    """30 won journeys A → C → Store → Onboarding, 5 lost A → C, 30 lost A → B, 5 won A → B (by
    outcome: Store and Onboarding mark conversion); 10 open journeys on C, 10 on A and 5 on Store."""
    rows = []
    paths = [(["A", "C", "Store", "Onboarding"], "won")] * 30 + [(["A", "C"], "lost")] * 5
    paths += [(["A", "B"], "lost")] * 30 + [(["A", "B"], "won")] * 5
    paths += [(["A", "C"], None)] * 10 + [(["A"], None)] * 10 + [(["A", "C", "Store"], None)] * 5
    for k, (path, outcome) in enumerate(paths):
        day = k if outcome else 70 + k % 15
        for step, activity in enumerate(path):
            rows.append((f"j{k:02d}", T0 + timedelta(days=day, hours=step), activity, outcome))
    frame = pd.DataFrame(rows, columns=["journey_id", "timestamp", "activity", "outcome"])
    frame["account_id"] = frame["contact_id"] = frame["journey_id"]
    from analytics.schema import Role

    schema = type(SCHEMA)(roles=SCHEMA.roles | {Role.OUTCOME})
    return events_from_frame(frame.assign(channel=None), schema), schema


@pytest.mark.parametrize("model", ["markov", "learned"])
def test_no_model_suggests_a_touchpoint_that_marks_conversion_and_every_action_raises_the_probability(model):
    events, schema = _purchase_log()
    by_outcome = Conversion(outcomes=("won",), lost_outcomes=("lost",))
    result = compute_outlook(events, schema, JourneyQuery(), by_outcome, as_of=date(2024, 3, 31), model=model)
    table = result.table
    assert len(table) == 25 and set(table["model"]) == {model}
    assert not table["next_best_action"].isin(["Store", "Onboarding"]).any()
    acted = table[table["next_best_action"].notna()]
    assert len(acted)  # the journeys on A are told to visit C
    assert set(acted["next_best_action"]) == {"C"}
    assert (acted["probability_after_action"] > acted["conversion_probability"]).all()
    lift = acted["probability_after_action"] - acted["conversion_probability"]
    assert acted["lift"].to_numpy() == pytest.approx(lift.to_numpy())
    if model == "markov":
        # By hand: from C, 30 of 35 closed journeys convert (their paths stop before Store); from A,
        # 35 of 70. Standing on C, no visit raises the probability (Store no longer does).
        on_c = table[table["last_touchpoint"] == "C"]
        assert on_c["conversion_probability"].to_numpy() == pytest.approx([30 / 35] * 10)
        assert on_c["next_best_action"].isna().all()
        on_a = table[table["last_touchpoint"] == "A"]
        assert on_a["conversion_probability"].to_numpy() == pytest.approx([0.5] * 10)
        assert on_a["lift"].to_numpy() == pytest.approx([30 / 35 - 0.5] * 10)
        # A journey standing on a touchpoint that marks conversion is all but converted (before the
        # paths kept the mark: nothing learned from it, no probability at all).
        on_store = table[table["last_touchpoint"] == "Store"]
        assert on_store["conversion_probability"].to_numpy() == pytest.approx([1.0] * 5)


def test_ngram_evidence_interpolates_and_backs_off_by_hand(monkeypatch):
    import analytics.outlook_model as om

    monkeypatch.setattr(om, "NGRAM_ORDERS", (1, 2, 3))
    # Journeys (node codes): j0 0→1→2, j1 0→1→3, j2 5→1→2, j3 6→1 (not counted). Counted prefixes: the
    # ones on node 1 of j0, j1, j2 (rows 1, 4, 7), next C, D, C; only j0 converted.
    paths = [[0, 1, 2], [0, 1, 3], [5, 1, 2], [6, 1]]
    steps = pd.DataFrame(
        [(j, k, n, 0.0, 0.0, 1) for j, path in enumerate(paths) for k, n in enumerate(path)],
        columns=["journey", "position", "node", "first_ts", "last_ts", "events"],
    )
    log = om.JourneyLog(steps=steps, journeys=pd.DataFrame(index=range(4)), names={})
    rows = np.array([1, 4, 7])
    ev = om.fit_ngrams(log, rows, np.array(["C", "D", "C"]), np.array([1.0, 0, 0]), np.ones(3), ("C", "D"))
    f = ev.features(log, np.array([1, 10]))
    # j0's suffix: node 1 (3 prefixes: C C D, 1 converted) → p1 = ([2, 1] + 2·[2/3, 1/3]) / 5 = [2/3, 1/3];
    # 0→1 (2 prefixes: C D, 1 converted) → p2 = ([1, 1] + 2·p1) / 4 = [7/12, 5/12]; the padded
    # 3-suffix has the same two → p3 = ([1, 1] + 2·p2) / 4 = [13/24, 11/24]. Rates: 1/3, 5/12, 11/24.
    assert f["ngram_next:C"][0] == pytest.approx(13 / 24)
    assert f["ngram_next:D"][0] == pytest.approx(11 / 24)
    assert [f[f"ngram_rate:{n}"][0] for n in (1, 2, 3)] == pytest.approx([1 / 3, 5 / 12, 11 / 24])
    assert f["ngram_support"][0] == pytest.approx(2)
    # j3's 6→1 was never counted: it backs off to node 1's estimate.
    assert f["ngram_next:C"][1] == pytest.approx(2 / 3)
    assert f["ngram_rate:3"][1] == pytest.approx(1 / 3)
    assert f["ngram_support"][1] == 0


def test_value_so_far_is_a_feature_by_hand():
    from analytics.schema import EventSchema, Role

    schema = EventSchema(roles=SCHEMA.roles | {Role.VALUE})
    frame = _frame(
        [
            ("x1", "K", T0, "A"),
            ("x1", "K", T0 + timedelta(hours=2), "B"),
            ("x1", "K", T0 + timedelta(days=1), "C"),
        ]
    )
    frame["value"] = [100.0, None, 50.0]
    log = load_journey_log(Cut(events_from_frame(frame, schema), schema, JourneyQuery(), WON, date(2024, 1, 5), 30))
    assert log.has_value
    space = feature_space(log, log.steps)
    x = prefix_features(log, space, np.array([0, 1, 2]), np.full(3, T0.timestamp() + 2 * SECONDS_PER_DAY))
    assert x["value"].tolist() == [100.0, 100.0, 150.0]
    assert factor_words("value", 150.0, log, space) == "value so far 150"


@pytest.fixture(scope="module")
def small_committee():
    """The committee log with a sixth of its accounts: enough to fit on, for tests of what is refitted."""
    return events_from_frame(committee_log(accounts=60, open_accounts=10))


def test_the_fitted_model_is_kept_per_content_and_definition(small_committee, monkeypatch):
    committee = small_committee
    import analytics.outlook as outlook

    fits = []
    real = outlook.fit_learned
    monkeypatch.setattr(outlook, "fit_learned", lambda *a, **k: fits.append(1) or real(*a, **k))
    outlook.clear_fitted()
    first = compute_outlook(committee, SCHEMA, ACCOUNTS, WON, fit_key=("log", 1))
    again = compute_outlook(committee, SCHEMA, ACCOUNTS, WON, fit_key=("log", 1), min_transitions=1)
    assert len(fits) == 1  # a display setting (minimum support) does not refit
    assert again.table["conversion_probability"].tolist() == first.table["conversion_probability"].tolist()
    compute_outlook(committee, SCHEMA, ACCOUNTS, WON, fit_key=("log", 1), active_days=20)
    compute_outlook(committee, SCHEMA, ACCOUNTS, WON, fit_key=("log", 2))
    compute_outlook(committee, SCHEMA, ACCOUNTS, WON)  # no key: fitted afresh
    assert len(fits) == 4
    outlook.clear_fitted()


def test_centred_isotonic_keeps_the_ranking_between_steps() -> None:
    """Plain isotonic regression is flat on each step; the centred map goes through each step's
    centre, so distinct raw scores inside the fitted range keep distinct, ordered probabilities."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    from analytics.outlook_model import CenteredIsotonic

    raw = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    iso = IsotonicRegression(out_of_bounds="clip").fit(raw, y)
    # isotonic steps by hand: [0,0] -> 0; [1,0] pooled -> 0.5; [1,0] pooled -> 0.5; [1,1] -> 1
    centred = CenteredIsotonic.from_isotonic(iso)
    assert list(centred.levels) == [0.0, 0.5, 1.0]
    assert list(centred.centres) == pytest.approx([0.15, 0.5, 0.85])
    scores = np.array([0.3, 0.35, 0.4, 0.6])
    assert len(set(iso.predict(scores))) == 1  # the plain step ties them
    out = centred.predict(scores)
    assert list(out) == sorted(out) and len(set(out)) == 4
    assert centred.predict(np.array([0.5]))[0] == pytest.approx(0.5)
    assert centred.predict(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]  # flat beyond the end centres
