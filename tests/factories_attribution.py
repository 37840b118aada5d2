"""Small event logs for the attribution and outlook tests: from paths written by hand, or stored as a dataset."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import pandas as pd
from ibis.expr.types import Table

from analytics.engine import memtable
from analytics.layout import to_stored_layout
from analytics.schema import REQUIRED_ROLES, EventSchema, Role
from tests.factories import save_dataset

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SCHEMA = EventSchema(roles=frozenset(REQUIRED_ROLES) | {Role.CHANNEL, Role.ACCOUNT, Role.CONTACT})


def frame_from_paths(
    paths: Mapping[str, Iterable[str]],
    *,
    channel_of: Mapping[str, str] | None = None,
    account_of: Mapping[str, str] | None = None,
    start: Mapping[str, datetime] | None = None,
    step: timedelta = timedelta(hours=1),
) -> pd.DataFrame:
    """One event per activity of each journey, ``step`` apart from the journey's start (default T0)."""
    rows = []
    for journey, activities in paths.items():
        t = (start or {}).get(journey, T0)
        for k, activity in enumerate(activities):
            rows.append(
                {
                    "journey_id": journey,
                    "account_id": (account_of or {}).get(journey, journey),
                    "contact_id": journey,
                    "timestamp": t + k * step,
                    "activity": activity,
                    "channel": (channel_of or {}).get(activity),
                }
            )
    return pd.DataFrame(rows, columns=["journey_id", "account_id", "contact_id", "timestamp", "activity", "channel"])


def events_from_frame(frame: pd.DataFrame, schema: EventSchema = SCHEMA) -> Table:
    return memtable(to_stored_layout(frame, schema))


def events_from_paths(paths: Mapping[str, Iterable[str]], **kwargs) -> Table:
    return events_from_frame(frame_from_paths(paths, **kwargs))


def create_stored_dataset(frame: pd.DataFrame, *, name: str = "Test log", schema: EventSchema = SCHEMA) -> int:
    """Store ``frame`` as a dataset in the test's data directory (Parquet + a Dataset row); returns its id."""
    return save_dataset(
        to_stored_layout(frame, schema),
        schema,
        name=name,
        content_hash=f"test-{name}-{len(frame)}-{pd.util.hash_pandas_object(frame, index=False).sum()}",
        source_name=f"{name}.csv",
        column_mapping={},
    )


def funnel_log(accounts: int = 40, seed: int = 7) -> pd.DataFrame:
    """A seeded B2B-like log: accounts of two or three contacts who read, attend and ask for demos,
    then one of them closes the deal (``Closed won``) or it is lost (``Closed lost``); every fourth
    account is still open, its contacts active in the last days of the log.
    """
    import random

    rng = random.Random(seed)
    channel_of = {
        "Blog post": "web",
        "Webinar": "events",
        "Newsletter": "email",
        "Demo": "sales rep",
        "Pricing page": "web",
        "Proposal": "sales rep",
        "Closed won": "sales rep",
        "Closed lost": "sales rep",
    }
    paths: dict[str, list[str]] = {}
    starts: dict[str, datetime] = {}
    account_of: dict[str, str] = {}
    for a in range(accounts):
        account = f"acct{a:03d}"
        is_open = a % 4 == 0
        begin = T0 + timedelta(days=(55 if is_open else rng.randint(0, 40)))
        contacts = [f"{account}-c{k}" for k in range(rng.randint(2, 3))]
        proposal = False
        for k, contact in enumerate(contacts):
            path = [rng.choice(["Blog post", "Webinar", "Newsletter"])]
            for _ in range(rng.randint(0, 2)):
                path.append(rng.choice(["Blog post", "Webinar", "Newsletter", "Pricing page"]))
            if rng.random() < 0.5:
                path.append("Demo")
                if rng.random() < 0.6:
                    path.append("Pricing page")
                if rng.random() < 0.5:
                    path.append("Proposal")
                    proposal = True
            paths[contact] = path
            starts[contact] = begin + timedelta(hours=7 * k)
            account_of[contact] = account
        if not is_open:
            won = rng.random() < (0.6 if proposal else 0.15)
            paths[contacts[-1]].append("Closed won" if won else "Closed lost")
    return frame_from_paths(paths, channel_of=channel_of, account_of=account_of, start=starts, step=timedelta(days=1))


def committee_log(accounts: int = 360, open_accounts: int = 30, seed: int = 3) -> pd.DataFrame:
    """A seeded log with a planted signal the last touchpoint cannot see: each account has one to
    four contacts who all attend a Webinar (hours apart), then a Demo two days later; ten days after
    the start the account closes, won with probability 0.85 when three or more contacts took part,
    else 0.15 (``Closed won`` / ``Closed lost``). Every account stands on Demo before it closes, so
    the last touchpoint's conversion rate is the same for all; only the committee's breadth tells
    them apart. Accounts start over 150 days; ``open_accounts`` more start on the last days and
    have not closed yet."""
    import random

    rng = random.Random(seed)
    rows = []
    for a in range(accounts + open_accounts):
        account = f"acct{a:03d}"
        is_open = a >= accounts
        begin = T0 + timedelta(days=(150 + rng.random() * 5 if is_open else rng.random() * 150))
        size = rng.randint(1, 4)
        for k in range(size):
            contact = f"{account}-c{k}"
            rows.append((contact, account, begin + timedelta(hours=k), "Webinar"))
            rows.append((contact, account, begin + timedelta(days=2, hours=k), "Demo"))
        if not is_open:
            won = rng.random() < (0.85 if size >= 3 else 0.15)
            rows.append((f"{account}-c0", account, begin + timedelta(days=10), "Closed won" if won else "Closed lost"))
    frame = pd.DataFrame(rows, columns=["contact_id", "account_id", "timestamp", "activity"])
    frame["journey_id"] = frame["contact_id"]
    frame["channel"] = frame["activity"].map({"Webinar": "events", "Demo": "sales rep"}).fillna("sales rep")
    return frame[["journey_id", "account_id", "contact_id", "timestamp", "activity", "channel"]]
