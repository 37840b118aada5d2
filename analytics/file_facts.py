"""Facts an import writes into the footer of a dataset's Parquet file, exact and small.

A question that every stored event answers the same way whatever is asked next, the import
answers once and stores in the file's key-value metadata (key :data:`FILE_FACTS_KEY`, JSON):

- ``activities``: the activity dictionary, ``[activity_code, activity]`` for every activity (what
  :func:`analytics.journeys.node_labels` computes at touchpoint level without a map link);
- ``pairs``: for every pair of consecutive events of a contact journey (the exit as
  :data:`EXIT_CODE`), ``[activity_code, next_activity_code, count, entries, journeys]``: ``count``
  the pairs, ``entries`` those whose first event opens its journey (``seq = 0``), ``journeys`` the
  journeys with at least one (the stored ``first_of_pair`` summed). These are the transitions of
  the whole log with repeats kept, before any filter.

The facts describe the file they are in, so they can never be stale: a re-import or an upgrade
writes a new file. A file without them (imported before, or with more activities or pairs than
:data:`MAX_ACTIVITIES` / :data:`MAX_PAIRS`, which would make the footer large) is answered by the
queries as before, with the same result (a file over those limits says so in its footer, so an
upgrade does not rewrite it again). Readers: :func:`read_file_facts`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from ibis.expr.types import Table

from analytics.schema import ACTIVITY_CODE, FIRST_OF_PAIR, NEXT_ACTIVITY_CODE, SEQ

FILE_FACTS_KEY = "journeylens.file_facts"
FILE_FACTS_VERSION = 1
EXIT_CODE = -2
MAX_ACTIVITIES = 20_000
MAX_PAIRS = 200_000


@dataclass(frozen=True)
class FileFacts:
    """The facts of one stored file: ``labels`` (``node_code`` int32, ``node`` str; one row per
    activity, by code) and ``pairs`` (``source_code``, ``target_code`` int32; ``count``,
    ``entries``, ``journeys`` int64)."""

    labels: pd.DataFrame
    pairs: pd.DataFrame


def activities_sql(dictionary: str) -> str:
    """The activity dictionary as rows ``(code, activity)`` from a query ``dictionary`` with those columns."""
    return f"SELECT code, activity FROM ({dictionary}) ORDER BY code"


def pairs_sql(events: str) -> str:
    """Every pair's counts from a query ``events`` with the stored neighbour columns."""
    return (
        f"SELECT {ACTIVITY_CODE}, coalesce({NEXT_ACTIVITY_CODE}, {EXIT_CODE}) AS target, count(*), "
        f"count(*) FILTER ({SEQ} = 0), count(*) FILTER ({FIRST_OF_PAIR}) FROM ({events}) GROUP BY 1, 2 ORDER BY 1, 2"
    )


def facts_json(con: Any, *, dictionary: str, events: str) -> str:
    """The facts (JSON) of the events of query ``events`` with the activity dictionary of query
    ``dictionary`` (columns ``code``, ``activity``), run on DuckDB connection ``con``. With too
    many activities or pairs to keep in a footer, the JSON says they were left out, and why."""
    activities = con.execute(activities_sql(dictionary)).fetchall()
    if len(activities) > MAX_ACTIVITIES:
        return _omitted(f"{len(activities):,} activities (more than {MAX_ACTIVITIES:,})")
    pairs = con.execute(pairs_sql(events)).fetchall()
    if len(pairs) > MAX_PAIRS:
        return _omitted(f"{len(pairs):,} pairs of activities (more than {MAX_PAIRS:,})")
    return json.dumps(
        {
            "version": FILE_FACTS_VERSION,
            "activities": [[int(c), str(a)] for c, a in activities],
            "pairs": [[int(v) for v in row] for row in pairs],
        },
        separators=(",", ":"),
    )


def facts_of_frame(stored: pd.DataFrame) -> str:
    """The facts (JSON) of a stored-layout frame with its neighbour columns, computed with pandas
    (for files written from a frame, :func:`analytics.layout.write_parquet`); the same JSON as
    :func:`facts_json` gives for the same rows."""
    dictionary = stored[[ACTIVITY_CODE, "activity"]].drop_duplicates(ACTIVITY_CODE).sort_values(ACTIVITY_CODE)
    if len(dictionary) > MAX_ACTIVITIES:
        return _omitted(f"{len(dictionary):,} activities (more than {MAX_ACTIVITIES:,})")
    frame = pd.DataFrame(
        {
            "source": stored[ACTIVITY_CODE].astype("int64"),
            "target": stored[NEXT_ACTIVITY_CODE].astype("Int64").fillna(EXIT_CODE).astype("int64"),
            "entry": (stored[SEQ] == 0).astype("int64"),
            "first": stored[FIRST_OF_PAIR].astype("int64"),
        }
    )
    grouped = frame.groupby(["source", "target"], sort=True).agg(
        count=("entry", "size"), entries=("entry", "sum"), journeys=("first", "sum")
    )
    if len(grouped) > MAX_PAIRS:
        return _omitted(f"{len(grouped):,} pairs of activities (more than {MAX_PAIRS:,})")
    return json.dumps(
        {
            "version": FILE_FACTS_VERSION,
            "activities": [[int(c), str(a)] for c, a in dictionary.itertuples(index=False)],
            "pairs": [[int(s), int(t), int(c), int(e), int(j)] for (s, t), c, e, j in grouped.itertuples()],
        },
        separators=(",", ":"),
    )


def _omitted(why: str) -> str:
    return json.dumps({"version": FILE_FACTS_VERSION, "omitted": why})


def kv_metadata_option(facts: str) -> str:
    """The ``KV_METADATA`` option of a DuckDB ``COPY ... (FORMAT parquet, ...)`` storing ``facts``."""
    return f", KV_METADATA {{'{FILE_FACTS_KEY}': '{facts.replace(chr(39), chr(39) * 2)}'}}"


def parse_file_facts(text: str | None) -> FileFacts | None:
    """The facts stored as ``text`` (None for none, or for a version this code does not read).
    Its frames are shared between calls: copy before changing them."""
    return _parsed(text) if text else None


@lru_cache(maxsize=16)
def _parsed(text: str) -> FileFacts | None:
    data = json.loads(text)
    if data.get("version") != FILE_FACTS_VERSION or "omitted" in data:
        return None
    activities = data["activities"]
    pairs = data["pairs"]
    labels = pd.DataFrame(
        {
            "node_code": pd.Series([a[0] for a in activities], dtype="int32"),
            "node": pd.Series([a[1] for a in activities], dtype="str"),
        }
    )
    columns = list(zip(*pairs, strict=True)) if pairs else [(), (), (), (), ()]
    frame = pd.DataFrame(
        {
            "source_code": pd.Series(columns[0], dtype="int32"),
            "target_code": pd.Series(columns[1], dtype="int32"),
            "count": pd.Series(columns[2], dtype="int64"),
            "entries": pd.Series(columns[3], dtype="int64"),
            "journeys": pd.Series(columns[4], dtype="int64"),
        }
    )
    return FileFacts(labels=labels, pairs=frame)


def left_out_because(text: str | None) -> str | None:
    """Why a file keeps no facts, from its footer's ``text`` (e.g. "25,000 activities (more than
    20,000)"); None for a file that keeps them or says nothing."""
    data = json.loads(text) if text else None
    return str(data["omitted"]) if isinstance(data, dict) and "omitted" in data else None


def read_file_facts(events: Table) -> FileFacts | None:
    """The facts of the file that ``events`` (a dataset's stored events, as
    :func:`analytics.engine.events_table` gives them) reads; None for a table of another backend,
    a derived table, or a file without them."""
    from analytics.engine import stored_key_values

    return parse_file_facts(stored_key_values(events).get(FILE_FACTS_KEY))
