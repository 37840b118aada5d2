"""Attribution on small logs whose credits and removal effects are worked out by hand below."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.attribution import (
    CONVERSION,
    NULL,
    compute_attribution,
    compute_credit_bars,
)
from analytics.conversion import Conversion, node_counts, suggest_goal, suggest_lost
from analytics.journeys import JourneyQuery
from analytics.markov import START, AbsorbingChain, removal_effects
from analytics.schema import REQUIRED_ROLES, EventSchema, Role
from core.errors import JourneyLensError, UnknownColumnError
from tests.factories_attribution import T0, events_from_frame, events_from_paths, frame_from_paths


def _row(result, label: str) -> pd.Series:
    table = result.table.set_index(result.by)
    return table.loc[label]


def test_two_touchpoints_by_hand():
    # Journeys: 1: A B G (converts), 2: A (null), 3: B G (converts), 4: G A (goal first: nothing to credit).
    # Chain: start→A 2, start→B 1; A→B 1, A→null 1; B→conversion 2.
    #   P(conv) = 2/3 · 1/2 · 1 + 1/3 · 1 = 2/3.
    #   Without A: start→A goes to null, P = 1/3 · 1 = 1/3, RE(A) = 1 − (1/3)/(2/3) = 1/2.
    #   Without B: A→B and start→B go to null, P = 0, RE(B) = 1.
    #   Markov credit (2 conversions): A = 0.5/1.5 · 2 = 2/3, B = 1/1.5 · 2 = 4/3.
    # Heuristics: path A B → first A, last B, linear ½ ½, position ½ ½; path B → everything to B.
    events = events_from_paths({"1": ["A", "B", "G"], "2": ["A"], "3": ["B", "G"], "4": ["G", "A"]})
    result = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)))
    assert result.conversions == 2
    assert result.uncredited_conversions == 1
    assert result.journeys == 3
    assert result.conversion_probability == pytest.approx(2 / 3)
    a, b = _row(result, "A"), _row(result, "B")
    assert (a.first_touch, a.last_touch, a.linear, a.position_based) == pytest.approx((1, 0, 0.5, 0.5))
    assert (b.first_touch, b.last_touch, b.linear, b.position_based) == pytest.approx((1, 2, 1.5, 1.5))
    assert a.removal_effect == pytest.approx(0.5)
    assert b.removal_effect == pytest.approx(1.0)
    assert a.markov == pytest.approx(2 / 3)
    assert b.markov == pytest.approx(4 / 3)
    assert list(result.table["touchpoint"]) == ["B", "A"]  # ordered by Markov credit
    counts = {(r.source, r.target): r.count for r in result.transitions.itertuples()}
    assert counts == {(START, "A"): 2, (START, "B"): 1, ("A", "B"): 1, ("A", NULL): 1, ("B", CONVERSION): 2}


def test_loop_and_dead_end_by_hand():
    # Journeys: 1: A B A G, 2: A C, 3: B G.
    # Transitions: start→A 2, start→B 1; A→B 1, A→conv 1, A→C 1; B→A 1, B→conv 1; C→null 1.
    # x_A = 1/3 x_B + 1/3,  x_B = 1/2 x_A + 1/2  →  x_A = 3/5, x_B = 4/5, x_C = 0.
    # P(conv) = 2/3 · 3/5 + 1/3 · 4/5 = 2/3.
    # Without A: x_B = 1/2 (B→A goes to null), P = 1/3 · 1/2 = 1/6, RE(A) = 1 − (1/6)/(2/3) = 3/4.
    # Without B: x_A = 1/3, P = 2/3 · 1/3 = 2/9, RE(B) = 1 − (2/9)/(2/3) = 2/3.
    # Without C: C only led to null, RE(C) = 0.
    # Markov credit: ΣRE = 17/12, A = (3/4)/(17/12) · 2 = 18/17, B = (2/3)/(17/12) · 2 = 16/17.
    # Heuristics: path A B A (n = 3): first A, last A, linear A 2/3 B 1/3, position A 0.8 B 0.2;
    # path B: all to B.
    events = events_from_paths({"1": ["A", "B", "A", "G"], "2": ["A", "C"], "3": ["B", "G"]})
    result = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)))
    assert result.conversion_probability == pytest.approx(2 / 3)
    a, b, c = _row(result, "A"), _row(result, "B"), _row(result, "C")
    assert (a.removal_effect, b.removal_effect, c.removal_effect) == pytest.approx((3 / 4, 2 / 3, 0))
    assert (a.markov, b.markov, c.markov) == pytest.approx((18 / 17, 16 / 17, 0))
    assert (a.first_touch, a.last_touch, a.linear, a.position_based) == pytest.approx((1, 1, 2 / 3, 0.8))
    assert (b.first_touch, b.last_touch, b.linear, b.position_based) == pytest.approx((1, 1, 4 / 3, 1.2))
    assert (c.first_touch, c.linear, c.journeys) == (0, 0, 1)


def test_absorption_probabilities_by_hand():
    # The chain of the loop example: x_A = 3/5, x_B = 4/5, x_C = 0, from start 2/3.
    counts = pd.DataFrame(
        [
            (START, "A", 2),
            (START, "B", 1),
            ("A", "B", 1),
            ("A", CONVERSION, 1),
            ("A", "C", 1),
            ("B", "A", 1),
            ("B", CONVERSION, 1),
            ("C", NULL, 1),
        ],
        columns=["source", "target", "count"],
    )
    chain = AbsorbingChain.from_counts(counts, absorbing=(CONVERSION, NULL), transient_first=(START,))
    assert chain.transient == (START, "A", "B", "C")
    b = chain.absorption()
    assert b[:, 0] == pytest.approx([2 / 3, 3 / 5, 4 / 5, 0])
    assert b.sum(axis=1) == pytest.approx(np.ones(4))
    # Expected visits to A from the start: N = (I − Q)⁻¹; A is reached with probability
    # 2/3 + 1/3 · 1/2 = 5/6 and revisited from itself with probability 1/3 · 1/2 = 1/6,
    # so N[start, A] = (5/6) / (1 − 1/6) = 1.
    assert chain.fundamental()[0, 1] == pytest.approx(1.0)
    effects = removal_effects(chain, START, CONVERSION)
    assert effects.to_dict() == pytest.approx({"A": 3 / 4, "B": 2 / 3, "C": 0.0})


def test_lost_touchpoints_end_a_path():
    # Journeys: 1: A B G, 2: A L B.
    # Without lost touchpoints: start→A 2; A→B 1, A→L 1; L→B 1; B→conv 1, B→null 1.
    #   x_B = 1/2, x_L = 1/2, x_A = 1/2 · 1/2 + 1/2 · 1/2 = 1/2, P = 1/2.
    #   Without L: x_A = 1/2 · 1/2 = 1/4, RE(L) = 1/2: L earns credit though no converting path has it.
    # With lost = (L,): journey 2 ends at L: start→A 2; A→B 1, A→null 1; B→conv 1.
    #   x_B = 1, x_A = 1/2, P = 1/2; RE(A) = RE(B) = 1; Markov ½ each; L is no state at all.
    events = events_from_paths({"1": ["A", "B", "G"], "2": ["A", "L", "B"]})
    plain = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)))
    assert _row(plain, "L").removal_effect == pytest.approx(0.5)
    assert _row(plain, "B").removal_effect == pytest.approx(1.0)
    cut = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",), lost_goals=("L",)))
    assert set(cut.table["touchpoint"]) == {"A", "B"}
    assert cut.table.set_index("touchpoint")["markov"].to_dict() == pytest.approx({"A": 0.5, "B": 0.5})
    assert cut.conversion_probability == pytest.approx(0.5)
    assert (cut.journeys, cut.conversions) == (2, 1)
    with pytest.raises(JourneyLensError, match="both converted and lost"):
        Conversion(goals=("G",), lost_goals=("G",))


def test_position_based_on_long_path_and_repeats():
    # Path A A B C D G: collapsed to A B C D (n = 4): 0.4 A, 0.1 B, 0.1 C, 0.4 D.
    # Repeats kept: A A B C D (n = 5): A 0.4 + 0.2/3, B 0.2/3, C 0.2/3, D 0.4; linear A 2/5.
    events = events_from_paths({"1": ["A", "A", "B", "C", "D", "G"]})
    collapsed = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)))
    assert _row(collapsed, "A").position_based == pytest.approx(0.4)
    assert _row(collapsed, "B").position_based == pytest.approx(0.1)
    assert _row(collapsed, "D").position_based == pytest.approx(0.4)
    assert _row(collapsed, "A").linear == pytest.approx(0.25)
    kept = compute_attribution(events, *_sq(JourneyQuery(collapse_repeats=False)), conversion=Conversion(goals=("G",)))
    assert _row(kept, "A").position_based == pytest.approx(0.4 + 0.2 / 3)
    assert _row(kept, "C").position_based == pytest.approx(0.2 / 3)
    assert _row(kept, "A").linear == pytest.approx(0.4)
    # A single journey: every touchpoint is on the only converting path, so removing any loses it all.
    assert kept.table["removal_effect"].tolist() == pytest.approx([1.0] * 4)
    assert kept.table["markov"].sum() == pytest.approx(1.0)


def test_by_channel_collapses_consecutive_channels():
    # Touchpoints X, Y (email) and Z (web) then G: the channel path is email, web when repeats
    # are collapsed (linear ½ ½) and email, email, web when kept (linear ⅔ ⅓).
    channel_of = {"X": "email", "Y": "email", "Z": "web", "G": "sales rep"}
    events = events_from_paths({"1": ["X", "Y", "Z", "G"], "2": ["Z"]}, channel_of=channel_of)
    collapsed = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)), by="channel")
    assert set(collapsed.table["channel"]) == {"email", "web"}
    assert _row(collapsed, "email").linear == pytest.approx(0.5)
    assert _row(collapsed, "web").last_touch == 1
    kept = compute_attribution(
        events, *_sq(JourneyQuery(collapse_repeats=False)), conversion=Conversion(goals=("G",)), by="channel"
    )
    assert _row(kept, "email").linear == pytest.approx(2 / 3)
    # Chain by channel: start→email 1, start→web 1, email→web 1, web→conv 1, web→null 1:
    # P = 1/2 · 1/2 + 1/2 · 1/2 = 1/2; without web P = 0 (RE 1); without email P = 1/4 (RE 1/2).
    assert _row(collapsed, "web").removal_effect == pytest.approx(1.0)
    assert _row(collapsed, "email").removal_effect == pytest.approx(0.5)


def test_events_without_channel_take_no_step_and_channel_needs_the_column():
    # X has no channel, so by channel journey 1 is just G: a conversion with nothing before it.
    events = events_from_paths({"1": ["X", "G"], "2": ["Y", "X", "G"]}, channel_of={"G": "web", "Y": "email"})
    result = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)), by="channel")
    assert (result.conversions, result.uncredited_conversions) == (1, 1)
    assert result.table["channel"].tolist() == ["email"]
    plain = EventSchema(roles=frozenset(REQUIRED_ROLES))
    frame = frame_from_paths({"1": ["X", "G"]})[["journey_id", "timestamp", "activity"]]
    with pytest.raises(UnknownColumnError, match="channel"):
        compute_attribution(
            events_from_frame(frame, plain), plain, JourneyQuery(), conversion=Conversion(goals=("G",)), by="channel"
        )


def test_a_stage_can_be_the_goal():
    # Journey 1: Blog (Aware), Demo (Decide), Sign (Decide): it reaches stage Decide at Demo, so its
    # path is Blog alone. Journey 2: Blog, Webinar (both Aware) never reaches it.
    stage_of = {"Blog": "Aware", "Webinar": "Aware", "Demo": "Decide", "Sign": "Decide"}
    frame = frame_from_paths({"1": ["Blog", "Demo", "Sign"], "2": ["Blog", "Webinar"]})
    frame["stage"] = frame["activity"].map(stage_of)
    schema = EventSchema(roles=frozenset(REQUIRED_ROLES) | {Role.STAGE})
    result = compute_attribution(
        events_from_frame(frame, schema), schema, JourneyQuery(), conversion=Conversion(goals=("Decide",))
    )
    assert (result.journeys, result.conversions) == (2, 1)
    table = result.table.set_index("touchpoint")
    assert table["linear"].to_dict() == {"Blog": 1.0, "Webinar": 0.0}
    # Chain: start→Blog 2; Blog→conv 1, Blog→Webinar 1; Webinar→null 1: P = 1/2, RE(Blog) = 1.
    assert result.conversion_probability == pytest.approx(0.5)
    assert table.loc["Blog", "removal_effect"] == pytest.approx(1.0)
    # Credited by stage: journey 1's path is Aware (before Decide), journey 2 stays in Aware.
    stages = compute_attribution(
        events_from_frame(frame, schema), schema, JourneyQuery(), conversion=Conversion(goals=("Decide",)), by="stage"
    )
    assert stages.table["stage"].tolist() == ["Aware"]
    assert stages.table.loc[0, "first_touch"] == 1 and stages.table.loc[0, "journeys"] == 2


def test_account_level_joins_the_committee():
    # Contacts c1 and c2 of account K: c1 reads the Blog at t0, c2 attends the Demo at t1, c1 signs at t2.
    # Account journey: Blog → Demo → G, 1 conversion (linear ½ ½).
    # Contact journeys: c1 Blog → G converts (Blog gets all); c2 Demo → null.
    frame = pd.concat(
        [
            frame_from_paths({"c1": ["Blog"]}, account_of={"c1": "K"}),
            frame_from_paths({"c2": ["Demo"]}, account_of={"c2": "K"}, start={"c2": T0 + timedelta(minutes=30)}),
            frame_from_paths({"c1": ["G"]}, account_of={"c1": "K"}, start={"c1": T0 + timedelta(hours=2)}),
        ],
        ignore_index=True,
    )
    events = events_from_frame(frame)
    account = compute_attribution(events, *_sq(JourneyQuery(level="account")), conversion=Conversion(goals=("G",)))
    assert account.conversions == 1 and account.journeys == 1
    assert _row(account, "Demo").linear == pytest.approx(0.5)
    assert _row(account, "Demo").last_touch == 1
    contact = compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)))
    assert contact.conversions == 1 and contact.journeys == 2
    assert _row(contact, "Blog").linear == 1
    assert _row(contact, "Demo").linear == 0


def test_goal_nobody_reaches_is_an_error():
    events = events_from_paths({"1": ["A", "B"]})
    with pytest.raises(JourneyLensError, match="no journey converts \\(reaching G\\)"):
        compute_attribution(events, *_sq(), conversion=Conversion(goals=("G",)))
    with pytest.raises(JourneyLensError, match="touchpoint, stage or channel"):
        compute_attribution(events, *_sq(), conversion=Conversion(goals=("A",)), by="persona")  # type: ignore[arg-type]


def test_goal_and_lost_suggestions():
    events = events_from_paths(
        {"1": ["Blog", "Demo", "Closed won"], "2": ["Blog", "Closed lost"], "3": ["Blog", "Demo", "Closed lost"]}
    )
    nodes = node_counts(events, *_sq())
    assert nodes.iloc[0].to_dict() == {"node": "Blog", "journeys": 3, "ending_journeys": 0}
    assert nodes.set_index("node").loc["Closed lost", "ending_journeys"] == 2
    assert suggest_goal(nodes) == "Closed won"
    assert suggest_lost(nodes["node"]) == ["Closed lost"]
    # The most telling word wins over the most visited node: "Store" (a shop) before "Closed" (tickets).
    shop = node_counts(events_from_paths({"1": ["Closed", "Blog"], "2": ["Blog", "Closed"], "3": ["Store"]}), *_sq())
    assert suggest_goal(shop) == "Store"
    # No winning name: the node that ends most journeys.
    plain = node_counts(events_from_paths({"1": ["A", "B"], "2": ["A", "B"], "3": ["B", "A"]}), *_sq())
    assert suggest_goal(plain) == "B"


def _sq(query: JourneyQuery | None = None):
    from tests.factories_attribution import SCHEMA

    return SCHEMA, query or JourneyQuery()


def test_credit_bars_keep_the_top_and_sum_the_rest_into_other():
    # 8 touchpoints T0..T7 on 8 paths of one step each, T_k on k + 1 converting paths: top 3 are T7, T6, T5.
    paths = {f"j{k}-{i}": [f"T{k}", "G"] for k in range(8) for i in range(k + 1)}
    result = compute_attribution(events_from_paths(paths), *_sq(), conversion=Conversion(goals=("G",)))
    bars = compute_credit_bars(result.table, "touchpoint", top_n=3)
    assert list(dict.fromkeys(bars["touchpoint"])) == ["T7", "T6", "T5", "Other"]
    for model, part in bars.groupby("model"):
        assert part["conversions"].sum() == pytest.approx(result.conversions), model
    other = bars[(bars["touchpoint"] == "Other") & (bars["model"] == "First touch")]["conversions"].item()
    assert other == 1 + 2 + 3 + 4 + 5
