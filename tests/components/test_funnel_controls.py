"""The funnel's controls: what a breakdown leaves out is said."""

from __future__ import annotations

import pandas as pd


def test_a_funnel_breakdown_says_when_values_are_added_up():
    from components.funnel_controls import breakdown_note

    assert breakdown_note(pd.DataFrame({"breakdown": ["web", "email"]})) is None
    per = pd.DataFrame({"breakdown": [f"v{i}" for i in range(10)] + ["(other)"]})
    assert breakdown_note(per) == (
        "The 10 values with the most journeys at step 1 are shown one by one; the other values are added up as (other)."
    )


def test_the_breakdown_note_counts_values_not_rows():
    # compute_funnel_breakdown gives a row per value and step: 2 values kept, 3 steps, plus (other).
    from components.funnel_controls import breakdown_note

    per = pd.DataFrame({"breakdown": [v for v in ("web", "email", "(other)") for _ in range(3)], "step": [1, 2, 3] * 3})
    assert breakdown_note(per) == (
        "The 2 values with the most journeys at step 1 are shown one by one; the other values are added up as (other)."
    )
