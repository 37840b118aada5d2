"""Percentages and durations written for people, below every layer that writes text.

``charts.labels`` (tables, charts, the report) re-exports these; analytics uses them where it words a finding
(the friction index's reasons), so a sentence and a table say "6.8 days" and "69.0 %" alike.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

DASH = "–"
SECONDS_PER_DAY = 86_400.0


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_percent(value: Any, *, fraction: bool = False) -> str:
    """``12.3 %`` (one decimal); ``fraction=True`` for a 0–1 value. A dash when missing."""
    if _missing(value):
        return DASH
    number = float(value) * (100.0 if fraction else 1.0)
    return f"{number:,.1f} %"


def format_duration(seconds: Any) -> str:
    """A duration for people: ``40 s``, ``12 min``, ``4.5 h``, ``3.2 days``; a dash when missing."""
    if _missing(seconds):
        return DASH
    s = float(seconds)
    if abs(s) >= SECONDS_PER_DAY:
        days = s / SECONDS_PER_DAY
        return f"{days:,.1f} day" if round(days, 1) == 1 else f"{days:,.1f} days"
    if abs(s) >= 3600:
        return f"{s / 3600:.1f} h"
    if abs(s) >= 60:
        return f"{s / 60:.0f} min"
    return f"{s:.0f} s"
