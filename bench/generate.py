"""A seeded generator of B2B event logs for benchmarks and scale tests.

The log looks like a CRM / marketing-automation export of a B2B funnel:

- Accounts (buying committees) of 1–6 contacts, each contact in a committee role (decision maker,
  champion, influencer, user/practitioner, technical evaluator, procurement, executive sponsor)
  and segment columns per account (region, industry, company size).
- A contact's journey walks the touchpoints of the 5-stage B2B template (Awareness, Consideration,
  Conversion, Service, Advocacy) plus two activities no template touchpoint claims (``Webinar``,
  ``Contract signed``): a Markov chain with consecutive repeats, moves inside a stage, forward
  moves, loops back to earlier stages and drop-off.
- Ties: about 5% of events share their predecessor's timestamp (second resolution), so the file
  order decides their order, as in real exports.
- Outcome per account (repeated on every row of the account): ``won`` when any contact reached
  ``Contract signed``, otherwise ``lost`` or ``open``; ``value`` (the deal value) on the row of the
  first ``Contract signed`` of a won account; CSAT (1–5) on some Service events, NPS (0–10) on
  some Advocacy events.
- Rows are written in timestamp order across journeys (as an export sorted by time); ties keep
  their journey order.

Everything is drawn from one ``numpy.random.Generator`` seeded by ``seed``: the same
``(events, seed)`` always gives the same bytes. The walk is simulated for all journeys at once
(one vector step per event position), so 5M events take seconds, not minutes.

    python bench/generate.py --events 1M --seed 7 --out /tmp/log.csv
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from analytics.schema import ColumnMapping

STAGES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Awareness", (("Blog", "web"), ("Social", "social"), ("Online ads", "ads"), ("Search", "web"))),
    (
        "Consideration",
        (
            ("Case studies", "web"),
            ("Testimonials", "web"),
            ("Review sites", "web"),
            ("Demo", "demo"),
            ("Product pages", "web"),
            ("Webinar", "events"),
        ),
    ),
    (
        "Conversion",
        (
            ("Pricing page", "web"),
            ("Newsletter", "email"),
            ("Sales rep", "sales rep"),
            ("Contract signed", "sales rep"),
        ),
    ),
    (
        "Service",
        (
            ("Help centre", "help centre"),
            ("Support agent", "phone"),
            ("Chatbot", "chat"),
            ("Live chat", "chat"),
            ("Email support", "email"),
        ),
    ),
    ("Advocacy", (("Upsell", "sales rep"), ("Transactional email", "email"), ("Renewal page", "web"))),
)

# Buying-committee role -> share of the contacts who play it.
ROLE_SHARES = {
    "decision maker": 0.14,
    "champion": 0.18,
    "influencer": 0.2,
    "user/practitioner": 0.2,
    "technical evaluator": 0.14,
    "procurement": 0.08,
    "executive sponsor": 0.06,
}
ROLES = tuple(ROLE_SHARES)
REGIONS = ("EMEA", "North America", "LATAM", "APAC")
INDUSTRIES = ("Software", "Manufacturing", "Finance", "Healthcare", "Retail", "Public sector")
COMPANY_SIZES = ("1-50", "51-200", "201-1000", "1001-5000", "5000+")

ACTIVITIES: tuple[str, ...] = tuple(a for _, tps in STAGES for a, _ in tps)
STAGE_OF_ACTIVITY: tuple[int, ...] = tuple(s for s, (_, tps) in enumerate(STAGES) for _ in tps)
CHANNEL_OF_ACTIVITY: tuple[str, ...] = tuple(c for _, tps in STAGES for _, c in tps)
CONTRACT = ACTIVITIES.index("Contract signed")
END = len(ACTIVITIES)  # the absorbing "journey ended" state

COLUMNS = (
    "journey_id",
    "account_id",
    "contact_id",
    "role",
    "timestamp",
    "activity",
    "channel",
    "stage",
    "outcome",
    "value",
    "csat",
    "nps",
    "region",
    "industry",
    "company_size",
)

START = np.datetime64("2024-01-01T00:00:00", "s")
SPAN_SECONDS = 2 * 365 * 86_400
MEAN_GAP_SECONDS = 2.0 * 86_400
TIE_SHARE = 0.06
MAX_STEPS = 120


@dataclass(frozen=True)
class GeneratedLog:
    """A generated log: the rows (in file order) and how it was made."""

    frame: pd.DataFrame
    seed: int
    events: int
    journeys: int
    accounts: int


def column_mapping(segments: tuple[str, ...] = ("region", "industry", "company_size")) -> ColumnMapping:
    """The ``ColumnMapping`` of a generated log: every role on its column, ``segments`` as segments."""
    from analytics.schema import ColumnMapping

    return ColumnMapping.of(
        journey="journey_id",
        timestamp="timestamp",
        activity="activity",
        account="account_id",
        contact="contact_id",
        role="role",
        channel="channel",
        stage="stage",
        outcome="outcome",
        value="value",
        csat="csat",
        nps="nps",
        segments=segments,
    )


def parse_size(text: str) -> int:
    """``"100k"`` → 100_000, ``"1M"`` → 1_000_000, ``"2500"`` → 2500."""
    t = text.strip().lower().replace("_", "")
    factor = 1
    if t.endswith("k"):
        factor, t = 1_000, t[:-1]
    elif t.endswith("m"):
        factor, t = 1_000_000, t[:-1]
    value = float(t) * factor
    if value < 1 or value != int(value):
        raise ValueError(f"not a size: {text!r} (write 100k, 1M, 5M or a whole number)")
    return int(value)


def format_size(events: int) -> str:
    if events % 1_000_000 == 0:
        return f"{events // 1_000_000}M"
    if events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


def transition_matrix() -> np.ndarray:
    """Row-stochastic matrix over activities + END: repeats, in-stage moves, forward, loops, exits."""
    n = len(ACTIVITIES)
    p = np.zeros((n, n + 1))
    stage_members = [[i for i in range(n) if STAGE_OF_ACTIVITY[i] == s] for s in range(len(STAGES))]
    last = len(STAGES) - 1
    for i in range(n):
        s = STAGE_OF_ACTIVITY[i]
        same = [j for j in stage_members[s] if j != i and j != CONTRACT]
        if i != CONTRACT:
            p[i, i] += 0.12  # consecutive repeat
            for j in same:
                p[i, j] += 0.33 / len(same)
        if s < 2:
            for j in stage_members[s + 1]:
                if j != CONTRACT:
                    p[i, j] += 0.38 / (len(stage_members[s + 1]) - (s + 1 == 2))
        if s > 0 and i != CONTRACT:
            # Loops: back to an earlier stage, mostly the previous one (Conversion loops most).
            back = 0.22 if s == 2 else 0.09
            weights = np.array([2.0**k for k in range(s)])
            weights /= weights.sum()
            for b, w in enumerate(weights):
                members = [m for m in stage_members[b] if m != CONTRACT]
                for j in members:
                    p[i, j] += back * w / len(members)
        if s == 2:
            if i == CONTRACT:
                # The contract is the door to Service.
                for j in stage_members[3]:
                    p[i, j] += 0.65 / len(stage_members[3])
            else:
                p[i, CONTRACT] += 0.07
        if s == 3:
            for j in stage_members[4]:
                p[i, j] += 0.25 / len(stage_members[4])
        if s == last:
            for j in stage_members[3]:
                p[i, j] += 0.10 / len(stage_members[3])
        p[i, END] = max(0.0, 1.0 - p[i, :n].sum())
    p /= p.sum(axis=1, keepdims=True)
    return p


def _simulate(rng: np.random.Generator, journeys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk ``journeys`` chains at once. Returns (journey index, step, activity) per event, in journey order."""
    cum = np.cumsum(transition_matrix(), axis=1)
    n_act = len(ACTIVITIES)
    # Entry: Awareness mostly; evaluators and procurement join later in the journey.
    entry_stage = rng.choice([0, 1, 2], size=journeys, p=[0.72, 0.22, 0.06])
    members = [np.array([i for i in range(n_act) if STAGE_OF_ACTIVITY[i] == s]) for s in range(len(STAGES))]
    cur = np.empty(journeys, dtype=np.int64)
    for s in (0, 1, 2):
        mask = entry_stage == s
        choices = members[s][members[s] != CONTRACT]
        cur[mask] = rng.choice(choices, size=int(mask.sum()))
    idx = np.arange(journeys)
    out_j, out_a, out_s = [], [], []
    for step in range(MAX_STEPS):
        if idx.size == 0:
            break
        out_j.append(idx)
        out_a.append(cur)
        out_s.append(np.full(idx.size, step, dtype=np.int32))
        u = rng.random(idx.size)
        nxt = (u[:, None] > cum[cur]).sum(axis=1)
        keep = nxt < END
        idx, cur = idx[keep], nxt[keep]
    j = np.concatenate(out_j)
    a = np.concatenate(out_a)
    s = np.concatenate(out_s)
    order = np.lexsort((s, j))
    return j[order], s[order], a[order]


def generate(events: int, seed: int = 7) -> GeneratedLog:
    """A B2B log of exactly ``events`` rows (the last journey is cut short if needed)."""
    if events < 1:
        raise ValueError("events must be at least 1")
    rng = np.random.default_rng(seed)
    # ~6 events per journey on average: draw enough journeys, then cut at ``events`` rows.
    journeys = max(1, int(events / 5.5) + 16)
    j, step, act = _simulate(rng, journeys)
    while j.size < events:  # rare: ask for more journeys with the same generator
        journeys *= 2
        j, step, act = _simulate(rng, journeys)
    j, step, act = j[:events], step[:events], act[:events]
    used = int(j[-1]) + 1

    # Accounts: consecutive journeys share an account (1–6 contacts per account).
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=used, p=[0.18, 0.24, 0.22, 0.16, 0.12, 0.08])
    account_of = np.repeat(np.arange(sizes.size), sizes)[:used]
    n_accounts = int(account_of[-1]) + 1
    role_of = rng.choice(len(ROLES), size=used, p=list(ROLE_SHARES.values()))
    region = rng.choice(len(REGIONS), size=n_accounts, p=[0.35, 0.4, 0.1, 0.15])
    industry = rng.integers(0, len(INDUSTRIES), size=n_accounts)
    company = rng.choice(len(COMPANY_SIZES), size=n_accounts, p=[0.3, 0.3, 0.2, 0.12, 0.08])

    # Time: an account starts somewhere in two years; its contacts join over the next weeks.
    account_start = rng.integers(0, SPAN_SECONDS, size=n_accounts)
    journey_start = account_start[account_of] + rng.exponential(14 * 86_400, size=used).astype(np.int64)
    gaps = rng.exponential(MEAN_GAP_SECONDS, size=events).astype(np.int64) + 1
    first = np.r_[True, j[1:] != j[:-1]]
    # Ties: same second as the event before, on a different activity (a tie on the same activity
    # could repeat the row before in every column: counted as an identical row on import).
    same_activity = np.r_[False, act[1:] == act[:-1]] & ~first
    tie = (rng.random(events) < TIE_SHARE) & ~same_activity
    tie &= ~np.r_[False, tie[:-1]]  # pairs only: A, B, A in one second would duplicate A
    gaps[tie] = 0
    gaps[first] = 0
    # Cumulative gaps restarted at each journey start.
    csum = np.cumsum(gaps)
    base = np.maximum.accumulate(np.where(first, csum, 0))
    seconds = journey_start[j] + (csum - base)
    ts = START + seconds.astype("timedelta64[s]")

    # Outcome per account: won if any contact signed; otherwise lost or open.
    acc = account_of[j]
    signed = act == CONTRACT
    won = np.zeros(n_accounts, dtype=bool)
    won[np.unique(acc[signed])] = True
    open_ = rng.random(n_accounts) < 0.25
    outcome_names = np.array(["won", "lost", "open"], dtype=object)
    outcome = np.where(won, 0, np.where(open_, 2, 1))

    # Deal value on the first contract row of a won account.
    value = np.full(events, np.nan)
    signed_rows = np.flatnonzero(signed)
    if signed_rows.size:
        _, first_signed = np.unique(acc[signed_rows], return_index=True)
        rows = signed_rows[first_signed]
        value[rows] = np.round(rng.lognormal(10.3, 0.8, size=rows.size), 2)
    stage_idx = np.asarray(STAGE_OF_ACTIVITY)[act]
    csat = np.where((stage_idx == 3) & (rng.random(events) < 0.3), rng.choice([1, 2, 3, 4, 5], size=events), np.nan)
    nps = np.where((stage_idx == 4) & (rng.random(events) < 0.3), rng.integers(0, 11, size=events), np.nan)

    # File order: by timestamp across journeys, ties in journey order (stable).
    order = np.argsort(ts, kind="stable")

    def take(labels: tuple[str, ...] | np.ndarray, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes[order], categories=list(labels))

    contact_ids = np.char.add("C", np.char.zfill(np.arange(used).astype(str), 7))
    account_ids = np.char.add("A", np.char.zfill(np.arange(n_accounts).astype(str), 6))
    frame = pd.DataFrame(
        {
            "journey_id": contact_ids[j[order]],
            "account_id": account_ids[acc[order]],
            "contact_id": contact_ids[j[order]],
            "role": take(ROLES, role_of[j]),
            "timestamp": pd.to_datetime(ts[order]).tz_localize("UTC"),
            "activity": take(ACTIVITIES, act),
            "channel": take(tuple(dict.fromkeys(CHANNEL_OF_ACTIVITY)), _channel_codes(act)),
            "stage": take(tuple(s for s, _ in STAGES), stage_idx),
            "outcome": take(tuple(outcome_names), outcome[acc]),
            "value": value[order],
            "csat": csat[order],
            "nps": nps[order],
            "region": take(REGIONS, region[acc]),
            "industry": take(INDUSTRIES, industry[acc]),
            "company_size": take(COMPANY_SIZES, company[acc]),
        }
    )
    return GeneratedLog(frame=frame, seed=seed, events=events, journeys=used, accounts=n_accounts)


def _channel_codes(act: np.ndarray) -> np.ndarray:
    channels = list(dict.fromkeys(CHANNEL_OF_ACTIVITY))
    lookup = np.array([channels.index(c) for c in CHANNEL_OF_ACTIVITY])
    return lookup[act]


def write_csv(frame: pd.DataFrame, path: Path, *, quoted: bool = False) -> None:
    """Write the log as UTF-8 CSV with ISO 8601 UTC timestamps (``2024-03-01T10:22:31Z``).

    Unquoted by default, like the process-mining exports in ``shared/data`` (no generated value
    holds a comma, a quote or a line break); ``quoted`` puts every text value in quotes, as CRM
    exports such as Salesforce's do.
    """
    out = frame.copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    table = pa.Table.from_pandas(out, preserve_index=False)
    table = table.cast(pa.schema([pa.field(f.name, _plain(f.type)) for f in table.schema]))
    style = "needed" if quoted else "none"  # Arrow's "needed" quotes every string value
    pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style=style))


def _plain(t: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_dictionary(t) else t


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """The same rows as Parquet with their 1-based ``file_row`` (what the peers read)."""
    out = frame.copy()
    out.insert(0, "file_row", np.arange(1, len(out) + 1, dtype=np.int64))
    pq.write_table(pa.Table.from_pandas(out, preserve_index=False), str(path), compression="zstd")


def ensure_log(events: int, seed: int, directory: Path, *, quoted: bool = False) -> tuple[Path, Path]:
    """Generate (once) the CSV and Parquet copies of a log in ``directory``; return their paths.

    ``quoted`` also writes (once) and returns the CSV with every text value quoted.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"b2b_{format_size(events)}_seed{seed}"
    csv_path, parquet_path = directory / f"{stem}.csv", directory / f"{stem}.parquet"
    quoted_path = directory / f"{stem}_quoted.csv"
    target = quoted_path if quoted else csv_path
    if not (target.exists() and parquet_path.exists()):
        log = generate(events, seed)
        tmp = target.with_suffix(".csv.tmp")
        write_csv(log.frame, tmp, quoted=quoted)
        tmp.replace(target)
        if not parquet_path.exists():
            write_parquet(log.frame, parquet_path.with_suffix(".parquet.tmp"))
            parquet_path.with_suffix(".parquet.tmp").replace(parquet_path)
    return target, parquet_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="100k", help="number of events: 100k, 1M, 5M or a whole number")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write (.parquet writes Parquet)")
    args = parser.parse_args(argv)
    log = generate(parse_size(args.events), args.seed)
    if args.out.suffix == ".parquet":
        write_parquet(log.frame, args.out)
    else:
        write_csv(log.frame, args.out)
    print(f"{args.out}: {log.events:,} events, {log.journeys:,} journeys, {log.accounts:,} accounts (seed {log.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
