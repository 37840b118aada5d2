"""A large, seeded B2B event log for timing the import (not used by the test suite).

    python tests/corpus/make_large_log.py 1000000 /tmp/log1m.csv
    python cli.py import /tmp/log1m.csv --journey journey_id --time timestamp --activity activity \
        --account account_id --contact contact_id --channel channel --stage stage --outcome outcome \
        --value value --segment region --progress

Journeys of 3 to 30 events over 40 activities, five stages, five channels, about one account per
hundred events; timestamps with offsets, some events sharing a timestamp (ties), a value on each
journey's first event.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta

ACTIVITIES = [f"Activity {i}" for i in range(40)]
STAGES = ["Awareness", "Consideration", "Decision", "Onboarding", "Usage"]
CHANNELS = ["web", "email", "sales rep", "ads", "events"]
HEADER = "journey_id,account_id,contact_id,timestamp,activity,channel,stage,outcome,value,region\n"


def write_log(events: int, path: str, seed: int = 7) -> int:
    rng = random.Random(seed)
    base = datetime(2024, 1, 1)
    written = journey = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        while written < events:
            length = rng.randint(3, 30)
            t = base + timedelta(minutes=rng.randint(0, 500_000))
            account = rng.randint(0, max(events // 100, 1))
            outcome = rng.choice(["won", "lost", "open"])
            lines = []
            for step in range(min(length, events - written)):
                t += timedelta(minutes=rng.choice([0, 1, 5, 60, 600]))
                value = f"{rng.random() * 1000:.2f}" if step == 0 else ""
                lines.append(
                    f"J{journey},A{account},C{journey},{t.isoformat()}+00:00,{rng.choice(ACTIVITIES)},"
                    f"{rng.choice(CHANNELS)},{STAGES[min(step // 6, 4)]},{outcome},{value},R{account % 7}\n"
                )
            out.writelines(lines)
            written += len(lines)
            journey += 1
    return written


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    target = sys.argv[2] if len(sys.argv) > 2 else f"log_{n}.csv"
    print(f"{write_log(n, target):,} events written to {target}")
