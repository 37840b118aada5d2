"""Single values written for people (percentages, durations, counts, money, metric values), below every layer
that writes text.

``charts.labels`` writes whole tables with them; analytics uses them where it words a finding (the friction
index's reasons) and the services where they label a value (the overlay, a metric's unit), so a sentence and a
table say "6.8 days" and "69.0 %" alike.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

DASH = "–"
SECONDS_PER_DAY = 86_400.0


def is_missing(value: Any) -> bool:
    """None, NA, NaT or NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_percent(value: Any, *, fraction: bool = False) -> str:
    """``12.3 %`` (one decimal); ``fraction=True`` for a 0–1 value. A dash when missing."""
    if is_missing(value):
        return DASH
    number = float(value) * (100.0 if fraction else 1.0)
    return f"{number:,.1f} %"


def format_duration(seconds: Any) -> str:
    """A duration for people: ``40 s``, ``12 min``, ``4.5 h``, ``3.2 days``; a dash when missing."""
    if is_missing(seconds):
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


def plural(n: int, word: str) -> str:
    """``1 row``, ``2 rows``, ``1,234 rows``; ``1 activity``, ``2 activities``."""
    if n == 1:
        return f"1 {word}"
    many = word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"
    return f"{n:,} {many}"


def format_signed(score: int) -> str:
    """A whole score with its sign and a true minus, as the map shows emotions: ``+2``, ``0``, ``−1``."""
    return "0" if score == 0 else f"{'+' if score > 0 else '−'}{abs(score)}"


def format_count(value: Any) -> str:
    """A whole count: ``1,234``; never ``94.0``; a dash when missing."""
    if is_missing(value):
        return DASH
    return f"{round(float(value)):,}"


# Metrics whose values are money: their unit text is the currency ("EUR", "€", "USD").
MONEY_KINDS = frozenset({"clv"})
NO_CURRENCY = "no currency set"


def format_money(value: Any, currency: str | None) -> str:
    """``12,345.60 EUR``: two decimals and the currency; ``12,345.60 (no currency set)`` when none was set
    (never a guessed one); a dash when missing."""
    if is_missing(value):
        return DASH
    text = f"{float(value):,.2f}"
    currency = (currency or "").strip()
    return f"{text} {currency}" if currency else f"{text} ({NO_CURRENCY})"


def format_metric_value(value: Any, unit: str | None, kind: str | None = None) -> str:
    """A metric's value with its unit: money (``MONEY_KINDS``) with its currency, ``%`` with one decimal and the
    sign, other units after the number (``42.0 points``); a dash when missing."""
    if kind in MONEY_KINDS:
        return format_money(value, unit)
    if is_missing(value):
        return DASH
    unit = (unit or "").strip()
    if unit == "%":
        return format_percent(value)
    return f"{float(value):,.1f}" + (f" {unit}" if unit else "")
