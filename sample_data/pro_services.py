"""The professional-services demo log (``pro_services_events.csv``); see ``generate.py`` for its story."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sample_data import events as ev

# --------------------------------------------------------------------------- professional services

PRE, ENGAGED, BETWEEN, FORMER = "Pre-client", "Client engagement", "Between engagements", "Former client"
PRO_TOUCHPOINTS: dict[str, tuple[str, str]] = {
    "Referral": (PRE, "phone"),
    "Website": (PRE, "web"),
    "Discovery call": (PRE, "phone"),
    "Proposal": (PRE, "email"),
    "Kick-off": (ENGAGED, "events"),
    "Status report": (ENGAGED, "email"),
    "Final presentation": (ENGAGED, "events"),
    "Newsletter": (BETWEEN, "email"),
    "Check-in call": (BETWEEN, "phone"),
    "Alumni event": (FORMER, "events"),
    "Referral request": (FORMER, "email"),
}
PRO_COLUMNS = (*ev.EVENT_COLUMNS, "referred_by", "experience", "service_line", "industry", "company_size")
PRO_START = datetime(2025, 5, 1, tzinfo=UTC)
PRO_END = datetime(2026, 11, 1, tzinfo=UTC)  # exclusive
SERVICE_LINES = {
    "Strategy": (60_000, 0.5),
    "Finance transformation": (90_000, 0.5),
    "Risk & compliance": (45_000, 0.4),
    "M&A advisory": (150_000, 0.6),
}
INDUSTRIES = ("Manufacturing", "Financial services", "Healthcare", "Retail", "Technology", "Public sector")
PRO_SIZES = {"Small": 0.3, "Mid-size": 0.45, "Large": 0.25}


def _last_sunday(year: int, month: int) -> datetime:
    """01:00 UTC on the last Sunday of ``month`` (March or October)."""
    day = datetime(year, month + 1, 1, tzinfo=UTC) - timedelta(days=1)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return day.replace(hour=1)


def london_offset(t: datetime) -> int:
    """UTC offset of London at instant ``t`` in minutes: BST from the last Sunday of March to the
    last Sunday of October, 01:00 UTC (written out so the file does not depend on tzdata)."""
    return 60 if _last_sunday(t.year, 3) <= t < _last_sunday(t.year, 10) else 0


@dataclass
class Org:
    key: int
    arrival: datetime
    origin: str  # "Referral", "Website" or "existing"
    referred_by: str = ""
    account_id: str = ""
    journey_id: str = ""
    service_line: str = ""
    industry: str = ""
    size: str = ""
    outcome: str = ""
    events: list[ev.Event] = field(default_factory=list)
    contacts: dict[str, str] = field(default_factory=dict)  # role → contact id


def _office_hours(t: datetime, rng: ev.Rng) -> datetime:
    return ev._business_hours(t, london_offset(t), rng)


def _engagement(rng: ev.Rng, org: Org, kick_off: datetime, good: bool) -> tuple[list[ev.Event], datetime]:
    fee_median, sigma = SERVICE_LINES[org.service_line]
    events = [
        ev.Event(
            _office_hours(kick_off, rng),
            "Kick-off",
            {"value": ev._fmt_money(round(rng.lognormal(fee_median, sigma), -2))},
        )
    ]
    weeks = rng.randint(6, 20) * (1.0 if good else 1.4)  # bad experiences overrun
    t = events[0].t
    end = t + timedelta(weeks=weeks)
    while True:
        t = t + timedelta(days=14 + rng.uniform(-1, 1))
        if t >= end:
            break
        events.append(ev.Event(_office_hours(t, rng), "Status report", {"contact": "champion"}))
    final = ev.Event(_office_hours(end, rng), "Final presentation")
    if rng.chance(0.85):
        final.fields["nps"] = str(ev._nps(rng, 0.65, 0.08) if good else ev._nps(rng, 0.05, 0.75))
        final.fields["csat"] = str(rng.score((0.0, 0.02, 0.08, 0.45, 0.45) if good else (0.2, 0.35, 0.3, 0.15, 0.0), 1))
    events.append(final)
    return events, final.t


def _pro_lifecycle(rng: ev.Rng, org: Org, spawn: list[tuple[datetime, str]]) -> None:
    """Fill ``org.events``; append (arrival, referrer account) of prospects it refers to ``spawn``."""
    events: list[ev.Event] = []
    t = org.arrival
    hired_at: datetime | None = None
    if org.origin == "existing":
        org.outcome = "hired"
        # Mid-engagement or between engagements when the log starts (earlier events are cut).
        hired_at = t - timedelta(weeks=rng.randint(2, 70))
    else:
        attempts = 0
        while True:
            attempts += 1
            first = "Referral" if org.origin == "Referral" and attempts == 1 else "Website"
            t = t if first == "Website" else _office_hours(t, rng)
            events.append(ev.Event(t, first))
            if first == "Website":
                for _ in range(rng.randint(0, 2)):
                    t = t + timedelta(hours=rng.lognormal(30, 1.0))
                    events.append(ev.Event(t, "Website"))
            call_p = 0.9 if org.origin == "Referral" else 0.75
            if not rng.chance(call_p):
                org.outcome = "no way"
                break
            t = _office_hours(t + timedelta(days=rng.lognormal(4, 0.6)), rng)
            events.append(ev.Event(t, "Discovery call", {"contact": "decision maker"}))
            if not rng.chance(0.78):
                org.outcome = rng.weighted({"no way": 0.5, "not now": 0.5})
            else:
                delay = rng.lognormal(9, 0.55)
                t = _office_hours(t + timedelta(days=delay), rng)
                events.append(
                    ev.Event(t, "Proposal", {"contact": "procurement" if rng.chance(0.3) else "decision maker"})
                )
                if rng.chance(0.2):
                    t = _office_hours(t + timedelta(days=rng.uniform(3, 10)), rng)
                    events.append(ev.Event(t, "Proposal"))  # revised proposal
                hire_p = (0.7 if org.origin == "Referral" else 0.34) + (0.1 if attempts > 1 else 0.0)
                if delay > 14:
                    hire_p -= 0.2  # planted: slow proposals lose
                if rng.chance(hire_p):
                    org.outcome = "hired"
                    hired_at = t + timedelta(days=rng.uniform(5, 25))
                else:
                    org.outcome = rng.weighted({"not now": 0.6, "no way": 0.4})
            if org.outcome == "not now" and attempts < 3 and rng.chance(0.4):
                t = t + timedelta(days=rng.uniform(90, 240))  # comes back later
                if t >= PRO_END:
                    break
                continue
            break
        if hired_at is None and t > PRO_END - timedelta(days=20) and org.outcome != "no way":
            org.outcome = ""  # undecided when the log ends
    if hired_at is not None:
        good = rng.chance(0.8)
        t = hired_at
        engagements = 0
        while t < PRO_END:
            engagements += 1
            part, t = _engagement(rng, org, t, good)
            events.extend(part)
            if good and rng.chance(0.2):
                spawn.append((t + timedelta(days=rng.uniform(10, 60)), org.account_id))
            # Between engagements: newsletters and check-in calls until the next engagement or goodbye.
            return_p = 0.45 if good else 0.08
            next_engagement = t + timedelta(days=rng.uniform(60, 270)) if rng.chance(return_p) else None
            horizon = next_engagement or t + timedelta(days=rng.uniform(180, 300))
            m = t + timedelta(days=rng.uniform(10, 35))
            while m < horizon and m < PRO_END:
                events.append(ev.Event(_office_hours(m, rng), "Newsletter"))
                if rng.chance(0.3):
                    call = ev.Event(_office_hours(m + timedelta(days=rng.uniform(1, 20)), rng), "Check-in call")
                    if rng.chance(0.3):
                        call.fields["nps"] = str(ev._nps(rng, 0.55, 0.12) if good else ev._nps(rng, 0.05, 0.7))
                    events.append(call)
                m = m + timedelta(days=rng.uniform(26, 36))
            if next_engagement is not None:
                if rng.chance(0.5):
                    events.append(
                        ev.Event(_office_hours(next_engagement - timedelta(days=rng.uniform(7, 21)), rng), "Proposal")
                    )
                t = next_engagement
                good = rng.chance(0.85 if good else 0.4)
                continue
            # Former client.
            exp = "good experience" if good else "bad experience"
            f = horizon
            while f < PRO_END:
                if rng.chance(0.6 if good else 0.1):
                    events.append(
                        ev.Event(
                            _office_hours(f + timedelta(days=rng.uniform(0, 60)), rng),
                            "Alumni event",
                            {"experience": exp},
                        )
                    )
                if good and rng.chance(0.7):
                    request = ev.Event(
                        _office_hours(f + timedelta(days=rng.uniform(0, 90)), rng),
                        "Referral request",
                        {"experience": exp},
                    )
                    events.append(request)
                    if rng.chance(0.45):
                        spawn.append((request.t + timedelta(days=rng.uniform(5, 40)), org.account_id))
                f = f + timedelta(days=rng.uniform(150, 240))
            break
    org.events = [e for e in ev._stable_sort(events) if PRO_START <= e.t < PRO_END]


def generate_pro_services(
    *, seed: int = ev.SEED, prospects: int = 400, existing_clients: int = 70
) -> list[dict[str, str]]:
    """The professional-services log as CSV rows (dicts keyed by ``PRO_COLUMNS``) in file order."""
    queue: list[tuple[datetime, int, str, str]] = []  # arrival, key, origin, referred_by
    for key in range(existing_clients):
        rng = ev.Rng(f"pro:{seed}:arrival:{key}")
        # Existing clients come first, so they are ORG-0001 .. ORG-<existing_clients>.
        heapq.heappush(queue, (PRO_START + timedelta(minutes=key), key, "existing", ""))
    for key in range(existing_clients, existing_clients + prospects):
        rng = ev.Rng(f"pro:{seed}:arrival:{key}")
        origin = "Referral" if rng.chance(0.25) else "Website"
        referrer = ""  # a referral's referrer is drawn among the clients seen so far, at arrival
        arrival = ev._growing_instant(rng, PRO_START + timedelta(days=1), PRO_END - timedelta(days=7), growth=0.6)
        heapq.heappush(queue, (arrival, key, origin, referrer))
    next_key = existing_clients + prospects
    keyed: list[tuple[datetime, int, dict[str, str]]] = []
    number = 0
    contact_n = 0
    order = 0
    clients: list[str] = []  # account ids of hired organisations with events in the log
    while queue:
        arrival, key, origin, referrer = heapq.heappop(queue)
        if arrival >= PRO_END:
            continue
        number += 1
        rng = ev.Rng(f"pro:{seed}:org:{key}")
        if origin == "Referral" and not referrer:
            referrer = clients[min(int(rng.random() * len(clients)), len(clients) - 1)]
        org = Org(key=key, arrival=arrival, origin=origin, referred_by=referrer)
        org.account_id = f"ORG-{number:04d}"
        org.journey_id = f"PS-{number:04d}"
        org.service_line = rng.choice(tuple(SERVICE_LINES))
        org.industry = rng.choice(INDUSTRIES)
        org.size = rng.weighted(PRO_SIZES)
        spawn: list[tuple[datetime, str]] = []
        _pro_lifecycle(rng, org, spawn)
        for when, by in spawn:
            heapq.heappush(queue, (when, next_key, "Referral", by))
            next_key += 1
        if org.outcome == "hired" and org.events:
            clients.append(org.account_id)
        for role in ("decision maker", "champion", "procurement"):
            contact_n += 1
            org.contacts[role] = f"PC-{contact_n:05d}"
        for event in org.events:
            stage, channel = PRO_TOUCHPOINTS[event.activity]
            role = event.fields.pop("contact", "decision maker")
            t = event.t.replace(microsecond=0)
            row = {
                "journey_id": org.journey_id,
                "account_id": org.account_id,
                "contact_id": org.contacts[role],
                "contact_role": role,
                "timestamp": ev.format_timestamp(t, london_offset(t)),
                "activity": event.activity,
                "channel": channel,
                "stage": stage,
                "outcome": org.outcome,
                "referred_by": org.referred_by,
                "service_line": org.service_line,
                "industry": org.industry,
                "company_size": org.size,
                **event.fields,
            }
            order += 1
            keyed.append((t, order, row))
    return ev._sorted_rows(keyed)
