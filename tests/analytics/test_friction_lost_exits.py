"""The friction reasons say an exit as the rule counted it: with lost defined only a lost journey's end
is an exit ("end there lost"), without it every unconverted end is ("end there unconverted")."""

from __future__ import annotations

import pandas as pd

from analytics import friction as F
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from tests.factories import events_of
from tests.factories_metrics import journeys_frame

Q = JourneyQuery(stage_of=(("A1", "A"), ("B1", "B"), ("B2", "B"), ("C1", "C")))
ORDER = ("A", "B", "C")
# a and b are lost at B2, c and d convert at C1, e is still open at B1 (neither: with lost defined, no exit).
PATHS = {"a": ["A1", "B2"], "b": ["A1", "B2"], "c": ["A1", "B1", "C1"], "d": ["A1", "B1", "C1"], "e": ["A1", "B1"]}


def _reason(result: F.FrictionResult, touchpoint: str) -> str:
    return str(result.touchpoints.set_index("touchpoint").loc[touchpoint, "reason"])


def _stage_reason(result: F.FrictionResult, stage: str) -> str:
    return str(result.stages.set_index("stage").loc[stage, "reason"])


def test_with_lost_defined_the_reasons_say_journeys_end_there_lost():
    events, schema = events_of(journeys_frame(PATHS))
    lost = Conversion(goals=("C1",), lost_goals=("B2",))
    r = F.compute_friction(events, schema, Q, conversion=lost, stage_order=ORDER)
    tp = r.touchpoints.set_index("touchpoint")
    assert (tp.loc["B2", "exits"], tp.loc["B1", "exits"]) == (2, 0)  # e, open at B1, is no exit
    assert "100.0 % of its journeys end there lost (base" in _reason(r, "B2")
    assert "end there lost" in _stage_reason(r, "B")
    assert not any("unconverted" in reason for reason in pd.concat([r.touchpoints.reason, r.stages.reason]))
    # Other weights keep the rule the exits were counted with.
    again = F.reweight(r, F.FrictionWeights(exit=1.0, backtrack=0, repeat=0, delay=0, feedback=0))
    assert "end there lost" in _reason(again, "B2") and again.lost_defined


def test_without_lost_the_reasons_say_journeys_end_there_unconverted():
    events, schema = events_of(journeys_frame(PATHS))
    r = F.compute_friction(events, schema, Q, conversion=Conversion(goals=("C1",)), stage_order=ORDER)
    assert r.touchpoints.set_index("touchpoint").loc["B1", "exits"] == 1  # e's end counts without lost
    assert "of its journeys end there unconverted (base" in _reason(r, "B2")
    assert not r.lost_defined
