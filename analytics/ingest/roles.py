"""Column roles as people meet them: each role's label, and the header names and words that suggest it.

:func:`services.importer.suggest_mapping` proposes a role for each column of a file from these
(exact names first, process-mining names included, then words in the name); columns named like
a grouping are proposed as segments.
"""

from __future__ import annotations

import re

from analytics.schema import Role

ROLE_LABELS: dict[Role, str] = {
    Role.JOURNEY: "Journey id",
    Role.TIMESTAMP: "Timestamp",
    Role.ACTIVITY: "Activity",
    Role.ACCOUNT: "Account id",
    Role.CONTACT: "Contact id",
    Role.ROLE: "Contact role",
    Role.CHANNEL: "Channel",
    Role.STAGE: "Stage",
    Role.OUTCOME: "Outcome",
    Role.VALUE: "Value",
    Role.NPS: "NPS score (0–10)",
    Role.CSAT: "CSAT score (1–5)",
    Role.EFFORT: "Effort score",
    Role.FCR: "Resolved on first contact",
}


def normal_header(name: str) -> str:
    """A header as the names below are written: trimmed, case-folded, runs of other characters as ``_``."""
    return re.sub(r"[^0-9a-z:]+", "_", name.strip().casefold()).strip("_")


def header_words(name: str) -> set[str]:
    """The words of a header (letters and digits, case-folded)."""
    return set(re.split(r"[^0-9a-z]+", name.casefold())) - {""}


# Exact (normalised) names per role, best first; then token rules.
ROLE_HEADER_NAMES: dict[Role, tuple[str, ...]] = {
    Role.JOURNEY: (
        "case:concept:name",
        "journey_id",
        "journey",
        "case_id",
        "caseid",
        "case",
        "ticket_id",
        "ticket",
        "opportunity_id",
        "deal_id",
        "application_id",
        "session_id",
        "conversation_id",
        "trace_id",
        "lead_id",
        "visit_id",
    ),
    Role.TIMESTAMP: (
        "time:timestamp",
        "timestamp",
        "when",
        "event_timestamp",
        "event_time",
        "datetime",
        "date_time",
        "occurred_at",
        "created_at",
        "time",
        "ts",
        "date",
        "event_date",
        "activity_date",
        "complete_timestamp",
        "start_timestamp",
    ),
    Role.ACTIVITY: (
        "concept:name",
        "activity",
        "activity_name",
        "event",
        "event_name",
        "touchpoint",
        "action",
        "step",
        "task",
        "event_type",
    ),
    Role.ACCOUNT: (
        "account_id",
        "account",
        "company_id",
        "company",
        "organization_id",
        "organisation_id",
        "org_id",
        "customer_id",
        "customer",
        "client_id",
        "client",
        "case:account",
    ),
    Role.CONTACT: ("contact_id", "contact", "person_id", "user_id", "user", "visitor_id", "member_id", "email"),
    Role.ROLE: ("contact_role", "role", "buying_role", "committee_role", "persona", "job_role"),
    Role.CHANNEL: ("channel", "medium", "utm_medium", "source_channel", "touchpoint_channel", "marketing_channel"),
    Role.STAGE: ("stage", "lifecycle_stage", "funnel_stage", "deal_stage", "pipeline_stage", "journey_stage", "phase"),
    Role.OUTCOME: ("outcome", "result", "deal_outcome", "won_lost", "case:outcome", "resolution"),
    Role.VALUE: ("value", "amount", "revenue", "deal_value", "deal_amount", "price", "arr", "mrr", "case:amount_req"),
    Role.NPS: ("nps", "nps_score", "likelihood_to_recommend"),
    Role.CSAT: ("csat", "csat_score", "satisfaction", "satisfaction_score"),
    Role.EFFORT: ("effort", "effort_score", "ces", "ces_score", "customer_effort"),
    Role.FCR: (
        "fcr",
        "first_contact_resolution",
        "resolved_first_contact",
        "resolved_on_first_contact",
        "first_contact_resolved",
    ),
}
ROLE_HEADER_WORDS: tuple[tuple[Role, frozenset[str]], ...] = (
    (Role.TIMESTAMP, frozenset({"timestamp"})),
    (Role.JOURNEY, frozenset({"case", "id"})),
    (Role.JOURNEY, frozenset({"journey"})),
    (Role.ACTIVITY, frozenset({"activity"})),
    (Role.ACCOUNT, frozenset({"account"})),
    (Role.CONTACT, frozenset({"contact"})),
    (Role.NPS, frozenset({"nps"})),
    (Role.CSAT, frozenset({"csat"})),
    (Role.STAGE, frozenset({"stage"})),
    (Role.CHANNEL, frozenset({"channel"})),
    (Role.OUTCOME, frozenset({"outcome"})),
    (Role.VALUE, frozenset({"amount"})),
)
SEGMENT_HEADER_WORDS = frozenset(
    {
        "resource",
        "region",
        "country",
        "segment",
        "industry",
        "product",
        "plan",
        "tier",
        "market",
        "team",
        "department",
        "language",
        "priority",
        "workgroup",
        "service",
        "section",
        "size",
        "seriousness",
        "source",
        "campaign",
        "device",
        "platform",
        "persona",
        "level",
        "category",
        "type",
    }
)
