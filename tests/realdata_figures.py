"""Figures measured on the shared real logs that more than one test checks (import and analytics)."""

from __future__ import annotations

# Helpdesk log: how many moves go from "Take in charge ticket" to each of its five commonest next activities.
HELPDESK_AFTER_TAKE_IN_CHARGE = {
    "Resolve ticket": 3_563,
    "Wait": 1_265,
    "Take in charge ticket": 99,
    "Require upgrade": 72,
    "Create SW anomaly": 53,
}
