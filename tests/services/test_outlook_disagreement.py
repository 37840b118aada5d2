"""The learned outlook's two models (probability, next step) are fitted apart: the page counts the rows
where they contradict each other (services.attribution.count_models_disagreeing)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from analytics.conversion import Conversion
from services.attribution import count_models_disagreeing


def test_rows_whose_next_step_leaves_no_room_for_their_probability_are_counted():
    table = pd.DataFrame(
        {
            "conversion_probability": [0.58, 0.58, 0.20, 0.30, float("nan")],
            "next_touchpoint_list": [
                [("lost", 0.68), ("Demo", 0.10)],  # lost next 68 % > 1 − 58 %: disagree
                [("lost", 0.40), ("Demo", 0.30)],  # 40 % ≤ 42 %: agree
                [("(converts)", 0.25)],  # converting next 25 % > 20 %: disagree
                [("churned", 0.80)],  # another lost outcome, 80 % > 70 %: disagree
                [("lost", 0.99)],  # no probability: nothing to compare
            ],
        }
    )
    result = SimpleNamespace(table=table, conversion=Conversion(outcomes=("won",), lost_outcomes=("lost", "churned")))
    assert count_models_disagreeing(result) == 3  # type: ignore[arg-type]
    goal = SimpleNamespace(
        table=table.iloc[[1]].assign(next_touchpoint_list=[[("Won", 0.7)]]), conversion=Conversion(goals=("Won",))
    )
    assert count_models_disagreeing(goal) == 1  # type: ignore[arg-type]
