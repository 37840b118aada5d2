"""The Attribution and Outlook charts say what their numbers are, and what they leave out."""

from __future__ import annotations

import pandas as pd

from analytics.attribution import ATTRIBUTION_MODELS, CREDIT_BARS
from charts.attribution import NO_ACTION, attribution_figure, credit_bars_note, next_best_action_figure


def test_next_best_action_bars_give_the_lift_in_points_not_percent():
    # A lift is probability after − probability before: 0.358 is +36 points (21 % → 57 %), not "+36%".
    summary = pd.DataFrame(
        {"next_best_action": ["Sales rep", NO_ACTION], "journeys": [965, 94], "mean_lift": [0.358, float("nan")]}
    )
    bars = next_best_action_figure(summary).data[0]
    assert list(bars.text) == ["+36 points on average", "no move raises it"]


def test_the_credit_chart_says_how_many_labels_it_sums_into_other():
    def table(n: int) -> pd.DataFrame:
        rows = [{"touchpoint": f"T{i:02d}", **dict.fromkeys(ATTRIBUTION_MODELS, float(n - i))} for i in range(n)]
        return pd.DataFrame([*rows, {"touchpoint": "Never", **dict.fromkeys(ATTRIBUTION_MODELS, 0.0)}])

    assert credit_bars_note(table(CREDIT_BARS), "touchpoint") is None  # every credited one drawn apart
    wide = table(CREDIT_BARS + 3)
    drawn = {y for trace in attribution_figure(wide, "touchpoint").data for y in trace.y}
    assert len(drawn) == CREDIT_BARS + 1 and "Other" in drawn  # the 12, and the 3 others summed
    assert credit_bars_note(wide, "touchpoint") == (
        f"The chart shows the {CREDIT_BARS} touchpoints with the most credit of {CREDIT_BARS + 3}; "
        "the other 3 are summed into Other, and the table below has every one."
    )


def test_the_touchpoint_probability_axis_labels_100_percent():
    # Before: the axis ended at exactly 100 %, and its last label (100 %) was not drawn beside a bar reaching it.
    from charts.attribution import state_probability_figure

    states = pd.DataFrame({"touchpoint": ["Contract signed", "Demo"], "conversion_probability": [1.0, 0.4],
                           "visits": [10, 20]})  # fmt: skip
    axis = state_probability_figure(states).layout.xaxis
    assert axis.range[0] == 0 and axis.range[1] > 1 and axis.dtick == 0.2 and axis.tickformat == ".0%"
