"""Tiny event logs for the metrics and friction tests; ``create_dataset`` stores one (through tests.factories)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from tests.factories import save_dataset, stored

T0 = pd.Timestamp("2026-01-05T09:00:00Z")


def frame_of(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows with ``journey_id, activity`` and ``timestamp`` (a Timestamp, or hours after T0 as a number)."""
    df = pd.DataFrame(list(rows))
    df["timestamp"] = [
        T0 + pd.Timedelta(hours=float(t)) if not isinstance(t, str | pd.Timestamp) else pd.Timestamp(t)
        for t in df["timestamp"]
    ]
    return df


def journeys_frame(
    paths: dict[str, Sequence[str]], *, hours_between: float = 1.0, start: pd.Timestamp = T0
) -> pd.DataFrame:
    """One row per event: journey ``j`` visits ``paths[j]`` in order, ``hours_between`` apart."""
    rows = []
    for j, path in paths.items():
        for i, activity in enumerate(path):
            rows.append(
                {"journey_id": j, "activity": activity, "timestamp": start + pd.Timedelta(hours=hours_between * i)}
            )
    return pd.DataFrame(rows)


def create_dataset(
    frame: pd.DataFrame, *, name: str = "test log", map_id: int | None = None, segments: Sequence[str] = ()
) -> int:
    """Store ``frame`` as a dataset of the test's data directory (Parquet + Dataset row). Returns its id."""
    layout, schema = stored(frame, segments)
    return save_dataset(
        layout,
        schema,
        name=name,
        content_hash=f"test-{name}-{len(frame)}-{pd.util.hash_pandas_object(frame.astype(str)).sum()}",
        map_id=map_id,
    )


B2B_STAGE_OF: tuple[tuple[str, str], ...] = (
    ("Blog", "Awareness"),
    ("Search", "Awareness"),
    ("Case studies", "Consideration"),
    ("Demo", "Consideration"),
    ("Pricing page", "Conversion"),
    ("Sales rep", "Conversion"),
    ("Help centre", "Service"),
    ("Renewal page", "Advocacy"),
)
B2B_ORDER = ("Awareness", "Consideration", "Conversion", "Service", "Advocacy")


def planted_log(seed: int = 7, journeys: int = 400, *, unknown_activity: str | None = None) -> pd.DataFrame:
    """A seeded B2B log (touchpoints of the "b2b-5-stage" template) with friction planted at
    "Pricing page": buyers stall there (gaps 6× longer), 40 % loop back to Consideration, 45 % end
    there, and its NPS/CSAT answers are low. Journeys that get past it reach Service (the goal)
    and some renew. Accounts hold 1–3 journeys; ``value`` is revenue on renewals.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for j in range(journeys):
        t = T0 + pd.Timedelta(hours=float(rng.integers(0, 24 * 150)))
        path = [str(rng.choice(["Blog", "Search"])), str(rng.choice(["Case studies", "Demo"]))]
        if unknown_activity and rng.random() < 0.2:
            path.append(unknown_activity)
        if rng.random() < 0.15:
            path.append("Demo")
        path.append("Pricing page")
        if rng.random() < 0.4:
            path += [str(rng.choice(["Case studies", "Demo"])), "Pricing page"]
        if rng.random() >= 0.45:
            path += ["Sales rep", "Help centre"]
            if rng.random() < 0.1:
                path.append("Help centre")
            if rng.random() < 0.5:
                path.append("Renewal page")
        for tp in path:
            stall = tp == "Pricing page"
            rows.append(
                {
                    "journey_id": f"j{j:04d}",
                    "account_id": f"acct{j // 2:04d}",
                    "activity": tp,
                    "timestamp": t,
                    "csat": float(rng.integers(1, 3) if stall else rng.integers(3, 6)) if rng.random() < 0.5 else None,
                    "nps": float(rng.integers(0, 7) if stall else rng.integers(6, 11)) if rng.random() < 0.5 else None,
                    "value": 1000.0 if tp == "Renewal page" else None,
                }
            )
            t = t + pd.Timedelta(hours=float(rng.exponential(72 if stall else 12)))
    return pd.DataFrame(rows)
