"""The analyses' refusals are typed (core.errors), never the bare root: a missing conversion definition is
one error with one wording from every analysis that needs it, a misspelled model or level names the
nearest real one, too little data is NotEnoughDataError, and a chain asked for a state it lacks is a bug
(KeyError), not a message for the user."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.attribution import compute_attribution
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.markov import START, AbsorbingChain
from analytics.outlook import Cut, compute_outlook, load_journey_log
from analytics.outlook_backtest import compute_outlook_backtest
from analytics.outlook_model import fit_learned
from analytics.registry import Inputs, run_analysis
from core.errors import (
    BadInputError,
    ConversionUndefinedError,
    JourneyLensError,
    NotEnoughDataError,
    UnknownNameError,
)
from tests.factories_attribution import SCHEMA, T0, events_from_paths

PATHS = {"1": ["A", "B", "Won"], "2": ["A", "Lost"], "3": ["B", "Won"], "5": ["A"]}
WON_OR_LOST = Conversion(goals=("Won",), lost_goals=("Lost",))
NONE_KEPT = JourneyQuery(date_from=date(2030, 1, 1))  # the filter keeps no event


def _events():
    return events_from_paths(PATHS, start={"5": T0 + timedelta(days=60)})


ENTRY_POINTS = {
    "the outlook": lambda events, conversion: compute_outlook(events, SCHEMA, JourneyQuery(), conversion),
    "attribution": lambda events, conversion: compute_attribution(events, SCHEMA, JourneyQuery(), conversion),
    "the backtest": lambda events, conversion: compute_outlook_backtest(events, SCHEMA, JourneyQuery(), conversion),
    "time to convert": lambda events, conversion: run_analysis(
        "time_to_convert", Inputs(events, SCHEMA, conversion=conversion)
    ),
}


@pytest.mark.parametrize("analysis", sorted(ENTRY_POINTS))
def test_every_analysis_refuses_an_undefined_conversion_with_one_error_and_one_wording(analysis):
    with pytest.raises(ConversionUndefinedError) as info:
        ENTRY_POINTS[analysis](_events(), Conversion())
    assert str(info.value) == f"{analysis} needs conversion defined: goal nodes or outcome values"
    assert info.value.analysis == analysis
    # A user setting that is missing: a BadInputError (as the metrics' and the CLI's refusals are).
    assert isinstance(info.value, BadInputError)
    assert (info.value.field, info.value.expected) == ("conversion", "goal nodes or outcome values")


def test_a_misspelled_outlook_model_names_the_nearest():
    with pytest.raises(UnknownNameError) as info:
        compute_outlook(_events(), SCHEMA, JourneyQuery(), WON_OR_LOST, model="lerned")
    assert info.value.nearest == ("learned",)
    assert str(info.value) == "no outlook model named 'lerned'; models: learned, markov; nearest: 'learned'"


def test_a_misspelled_attribution_level_names_the_nearest():
    with pytest.raises(UnknownNameError) as info:
        compute_attribution(_events(), SCHEMA, JourneyQuery(), WON_OR_LOST, by="chanel")  # type: ignore[arg-type]
    assert info.value.nearest == ("channel",)
    assert str(info.value).startswith("attribution is by touchpoint, stage or channel, not 'chanel'; nearest:")


def test_active_days_below_one_is_bad_input_naming_the_field():
    with pytest.raises(BadInputError) as info:
        compute_outlook(_events(), SCHEMA, JourneyQuery(), WON_OR_LOST, active_days=0)
    assert (info.value.field, info.value.value) == ("active_days", 0)
    assert "at least 1" in str(info.value)


def test_no_events_is_one_refusal_of_the_outlook_and_its_backtest():
    refusals = []
    for run in (compute_outlook, compute_outlook_backtest):
        with pytest.raises(NotEnoughDataError) as info:
            run(_events(), SCHEMA, NONE_KEPT, WON_OR_LOST)
        refusals.append(str(info.value))
    assert refusals == ["this dataset has no events to look at"] * 2


def test_data_that_cannot_support_an_analysis_is_not_enough_data():
    nothing_converts = events_from_paths({"1": ["A", "B"]})
    with pytest.raises(NotEnoughDataError, match="no closed journey converts"):
        compute_outlook(nothing_converts, SCHEMA, JourneyQuery(), Conversion(goals=("Won",)))
    with pytest.raises(NotEnoughDataError, match="no journey converts"):
        compute_attribution(nothing_converts, SCHEMA, JourneyQuery(), Conversion(goals=("Won",)))
    events = _events()
    log = load_journey_log(Cut(events, SCHEMA, JourneyQuery(), WON_OR_LOST, date(2024, 3, 1), 30))
    with pytest.raises(NotEnoughDataError, match="too few closed journeys to learn from"):
        fit_learned(log)
    # The learned model's own refusal is what makes the outlook fall back to the chain, said in its note.
    result = compute_outlook(events, SCHEMA, JourneyQuery(), WON_OR_LOST)
    assert result.model_note.startswith("the Markov chain is shown: too few closed journeys to learn from")


def test_backtest_refusals_are_not_enough_data():
    almost_all = {f"j{k:03d}": ["A", "B", "Closed won"] for k in range(100)}
    events = events_from_paths(almost_all, start={j: T0 + timedelta(days=k) for k, j in enumerate(almost_all)})
    won = Conversion(goals=("Closed won",), lost_goals=("Closed lost",))
    with pytest.raises(NotEnoughDataError, match="nothing for a backtest to tell apart"):
        compute_outlook_backtest(events, SCHEMA, JourneyQuery(), won)
    mixed = {f"j{k:03d}": ["A", "B", "Closed won" if k % 3 else "Closed lost"] for k in range(90)}
    events = events_from_paths(mixed, start={j: T0 + timedelta(days=k) for k, j in enumerate(mixed)})
    with pytest.raises(NotEnoughDataError, match="pick an earlier split date"):
        compute_outlook_backtest(events, SCHEMA, JourneyQuery(), won, split_at=date(2024, 3, 20))


RESERVED = {
    "attribution": ["(start)", "(conversion)", "(null)"],
    "the outlook": ["(start)", "(goal)", "(no further activity)", "lost: price"],
}


@pytest.mark.parametrize(
    ("analysis", "reserved"), [(a, name) for a, names in RESERVED.items() for name in names], ids=str
)
def test_a_node_named_like_a_state_of_the_chain_is_refused_by_name(analysis, reserved):
    # Before: "(start)" merged with the chain's start state and "lost: price" ended journeys, silently;
    # "(conversion)" was refused as "an absorbing state cannot have outgoing transitions".
    events = events_from_paths({"1": ["A", reserved, "B", "Won"], "2": [reserved, "Won"], "3": ["A", "Lost"]})
    with pytest.raises(BadInputError, match="for its own states, and this log has a node named") as info:
        ENTRY_POINTS[analysis](events, WON_OR_LOST)
    assert f"“{reserved}”: rename it in the log" in str(info.value)


def test_a_state_the_chain_lacks_is_a_bug_not_a_message():
    import pandas as pd

    chain = AbsorbingChain.from_counts(
        pd.DataFrame({"source": [START, "A"], "target": ["A", "goal"], "count": [1, 1]}),
        absorbing=("goal",),
        transient_first=(START,),
    )
    with pytest.raises(KeyError, match="'B' is not a transient state") as info:
        chain.transient_index("B")
    assert not isinstance(info.value, JourneyLensError)
    with pytest.raises(KeyError, match="'A' is not an absorbing state") as info:
        chain.absorbing_index("A")
    assert not isinstance(info.value, JourneyLensError)


def test_the_chain_itself_names_a_source_that_is_an_end_state_in_words():
    # Behind the refusal above, the chain's own guard: names in quotes, never a Python list ("['(goal)']").
    import pandas as pd

    moves = pd.DataFrame({"source": [START, "(goal)"], "target": ["(goal)", "A"], "count": [1, 1]})
    with pytest.raises(BadInputError) as info:
        AbsorbingChain.from_counts(moves, absorbing=("(goal)",), transient_first=(START,))
    assert "leave: “(goal)”; rename it in the log" in str(info.value) and "[" not in str(info.value)
