"""What both demo logs are made of: the seeded randomness, the event, the CSV output and a few
draws both generators use (see ``generate.py``)."""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SEED = 20251101  # the seed the checked-in demo logs are made with


# --------------------------------------------------------------------------- randomness


class Rng:
    """Every draw is built on ``random.Random.random()``, whose sequence Python guarantees for a
    given seed across versions, so the files stay byte-identical (``choice``/``gauss`` are not)."""

    def __init__(self, seed: str) -> None:
        self._r = random.Random(seed)

    def random(self) -> float:
        return self._r.random()

    def chance(self, p: float) -> bool:
        return self._r.random() < p

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self._r.random()

    def randint(self, a: int, b: int) -> int:
        return a + min(int(self._r.random() * (b - a + 1)), b - a)

    def choice(self, seq: Sequence[str]) -> str:
        return seq[min(int(self._r.random() * len(seq)), len(seq) - 1)]

    def weighted(self, weights: dict[str, float]) -> str:
        items = [(k, w) for k, w in weights.items() if w > 0]
        x = self._r.random() * sum(w for _, w in items)
        for key, w in items:
            x -= w
            if x < 0:
                return key
        return items[-1][0]

    def normal(self) -> float:
        u1 = 1.0 - self._r.random()
        u2 = self._r.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.normal())

    def poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, self._r.random()
        while p > limit:
            k += 1
            p *= self._r.random()
        return k

    def weighted_sample(self, weights: dict[str, float], k: int) -> list[str]:
        """``k`` distinct keys, each draw weighted (without replacement)."""
        pool = dict(weights)
        out = []
        for _ in range(min(k, len(pool))):
            key = self.weighted(pool)
            out.append(key)
            del pool[key]
        return out

    def score(self, weights: Sequence[float], low: int) -> int:
        """A survey answer: ``low + i`` with probability ``weights[i]``."""
        return low + int(self.weighted({str(i): w for i, w in enumerate(weights)}))


# --------------------------------------------------------------------------- events and output


@dataclass
class Event:
    t: datetime  # UTC
    activity: str
    fields: dict[str, str] = field(default_factory=dict)


def format_timestamp(t: datetime, offset_minutes: int) -> str:
    """ISO 8601 with the local UTC offset, seconds precision: ``2026-03-14T09:32:10+01:00``."""
    local = t + timedelta(minutes=offset_minutes)
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{hours:02d}:{minutes:02d}"


def render_csv(rows: Iterable[dict[str, str]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buffer.getvalue()


def _sorted_rows(keyed: list[tuple[datetime, int, dict[str, str]]]) -> list[dict[str, str]]:
    """File order: by UTC instant, then the order events happened in (ties keep their order)."""
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in keyed]


def _fmt_money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _business_hours(t: datetime, offset_minutes: int, rng: Rng) -> datetime:
    """Move ``t`` forward into the next weekday 09:00-17:00 local slot (meetings, calls)."""
    local = t + timedelta(minutes=offset_minutes)
    if local.weekday() < 5 and 9 <= local.hour < 17:
        return t
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if local.hour >= 17 or local.weekday() >= 5:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    slot = day + timedelta(hours=9 + rng.randint(0, 7), minutes=15 * rng.randint(0, 3))
    return slot - timedelta(minutes=offset_minutes)


# --------------------------------------------------------------------------- shared draws and columns


# The columns both logs start with; each adds its own after them.
EVENT_COLUMNS = (
    "journey_id",
    "account_id",
    "contact_id",
    "contact_role",
    "timestamp",
    "activity",
    "channel",
    "stage",
    "outcome",
    "value",
    "nps",
    "csat",
)


def _growing_instant(rng: Rng, start: datetime, end: datetime, growth: float) -> datetime:
    """A time in [start, end) whose density rises linearly by the factor ``1 + growth``."""
    u = rng.random()
    x = (-1.0 + math.sqrt(1.0 + growth * (2.0 + growth) * u)) / growth
    return start + (end - start) * x


def _nps(rng: Rng, promoter: float, detractor: float) -> int:
    x = rng.random()
    if x < promoter:
        return rng.randint(9, 10)
    if x < promoter + detractor:
        return rng.score((0.03, 0.03, 0.05, 0.08, 0.12, 0.26, 0.43), 0)
    return rng.randint(7, 8)


def _stable_sort(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.t)  # sorted() is stable: ties keep generation order
