"""Plotly renders a subset of HTML in labels (<a href>, <b>, <br>): chart builders escape user values.

A value such as ``<a href="https://evil.example">verify</a>`` in an event log must show as text, not
as a live link in other users' browsers (the browser test found one on the Metrics page).
"""

from __future__ import annotations

import pandas as pd

from charts.metrics import outcome_shares_figure

LINK = '<a href="https://evil.example/phish">verify</a>'


def test_outcome_labels_are_escaped():
    shares = pd.DataFrame({"outcome": [LINK, "won"], "journeys": [3, 1], "share": [0.75, 0.25]})
    labels = [str(y) for y in outcome_shares_figure(shares).data[0].y]
    assert not any("<a" in label for label in labels), labels
