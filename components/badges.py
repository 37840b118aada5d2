"""Streamlit badges of a metric's status against its target (the words of ``charts.metrics.STATUS_TEXT``)."""

from __future__ import annotations

STATUS_BADGE: dict[str, str] = {
    "green": ":green-badge[on target]",
    "amber": ":orange-badge[near target]",
    "red": ":red-badge[off target]",
    "none": ":gray-badge[no status]",  # no target, or no value yet
}
