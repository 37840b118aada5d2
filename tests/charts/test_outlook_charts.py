"""The Outlook's charts say what their numbers are."""

from __future__ import annotations

import pandas as pd

from charts.attribution import NO_ACTION, next_best_action_figure


def test_next_best_action_bars_give_the_lift_in_points_not_percent():
    # A lift is probability after − probability before: 0.358 is +36 points (21 % → 57 %), not "+36%".
    summary = pd.DataFrame(
        {"next_best_action": ["Sales rep", NO_ACTION], "journeys": [965, 94], "mean_lift": [0.358, float("nan")]}
    )
    bars = next_best_action_figure(summary).data[0]
    assert list(bars.text) == ["+36 points on average", "no move raises it"]
