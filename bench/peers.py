"""The peers JourneyLens is measured against, on the same log, in the same run.

Each function takes the generated log as a pandas frame (``file_row, journey_id, timestamp,
activity, stage``; read from Parquet before the clock starts) and returns
``(prep_seconds, analysis_seconds, result, check)``:

- *prep* is what the peer needs before it can analyse (sorting by journey, timestamp and file
  position; building an ``Eventstream``). It is reported, but the ratios in the table use the
  analysis time alone, which favours the peers (JourneyLens's equivalent work is done once at
  import).
- *check* is a small summary (total and distinct transitions, the top pair; variant counts;
  funnel counts) compared with JourneyLens's own result, so a fast wrong answer shows.

Peers: retentioneering 5 (``RETENTIONEERING_NO_TRACK=1`` is set: it sends usage data otherwise),
pm4py (AGPL; fed a frame sorted by journey, timestamp, file position: its variants are wrong on
unsorted frames) and plain pandas. They are benchmark-only and live in their own venv
(``bench/setup_peers.sh``); nothing in the app imports them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")

FUNNEL_STEPS = ["Demo", "Pricing page", "Sales rep", "Contract signed"]
MAX_STEPS = 10


def version(peer: str) -> str:
    from importlib.metadata import version as v

    package = peer.split("_")[0]
    name = {"rete": "retentioneering", "pm4py": "pm4py", "pandas": "pandas"}[package]
    return f"{name} {v(name)}"


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """The tie rule: journey, timestamp, then position in the file (a stable sort)."""
    return frame.sort_values(["journey_id", "timestamp", "file_row"], kind="stable").reset_index(drop=True)


def _clock(fn, repeat: int) -> tuple[list[float], Any]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def transitions_check(pairs: pd.Series) -> dict:
    """``pairs``: counts indexed by (source, target) activity, entry/exit excluded."""
    pairs = pairs[pairs > 0]
    top = pairs.sort_values(ascending=False, kind="stable")
    return {
        "total": int(pairs.sum()),
        "pairs": int(len(pairs)),
        "top": [str(top.index[0][0]), str(top.index[0][1]), int(top.iloc[0])] if len(top) else None,
    }


def variants_check(counts: list[int]) -> dict:
    counts = sorted(counts, reverse=True)
    return {"variants": len(counts), "top_count": int(counts[0]) if counts else 0, "journeys": int(sum(counts))}


# --------------------------------------------------------------------------- plain pandas


def pandas_transitions(frame: pd.DataFrame, repeat: int, params: dict) -> tuple:
    t0 = time.perf_counter()
    s = _sorted(frame)
    prep = time.perf_counter() - t0

    def run() -> pd.Series:
        same = s["journey_id"].shift(-1) == s["journey_id"]
        pairs = pd.DataFrame({"source": s["activity"][same], "target": s["activity"].shift(-1)[same]})
        return pairs.value_counts()

    times, result = _clock(run, repeat)
    return prep, times, None, transitions_check(result)


# --------------------------------------------------------------------------- pm4py


def _pm4py_frame(frame: pd.DataFrame) -> pd.DataFrame:
    # pm4py checks for object-dtype text columns (pandas 3 reads text as its new string dtype).
    return _sorted(frame).astype({"journey_id": object, "activity": object})


def _pm4py_clock(frame: pd.DataFrame, repeat: int, discover: Callable[..., Any]) -> tuple:
    """(prep seconds, run seconds, result) of ``discover`` (a pm4py function) on the journeys."""
    t0 = time.perf_counter()
    s = _pm4py_frame(frame)
    prep = time.perf_counter() - t0

    def run():  # type: ignore[no-untyped-def]
        return discover(s, case_id_key="journey_id", activity_key="activity", timestamp_key="timestamp")

    times, result = _clock(run, repeat)
    return prep, times, result


def pm4py_dfg(frame: pd.DataFrame, repeat: int, params: dict) -> tuple:
    import pm4py

    prep, times, (dfg, _start, _end) = _pm4py_clock(frame, repeat, pm4py.discover_dfg)
    pairs = pd.Series(dfg, dtype="int64")
    pairs.index = pd.MultiIndex.from_tuples(list(dfg.keys()))
    return prep, times, None, transitions_check(pairs)


def pm4py_variants(frame: pd.DataFrame, repeat: int, params: dict) -> tuple:
    import pm4py

    prep, times, variants = _pm4py_clock(frame, repeat, pm4py.get_variants)
    counts = [int(v) if not isinstance(v, list) else len(v) for v in variants.values()]
    return prep, times, None, variants_check(counts)


# --------------------------------------------------------------------------- retentioneering


def _eventstream(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    from retentioneering import Eventstream

    # Handing over the frame in tie order; the Eventstream sorts it again itself.
    df = _sorted(frame)[["journey_id", "timestamp", "activity"]]
    return Eventstream(
        df,
        schema={"path_cols": ["journey_id"], "event_col": "activity", "timestamp_col": "timestamp", "custom_cols": []},
    )


def rete_transitions(frame: pd.DataFrame, repeat: int, params: dict) -> tuple:
    t0 = time.perf_counter()
    es = _eventstream(frame)
    prep = time.perf_counter() - t0
    times, matrix = _clock(lambda: es.transition_graph_data(edge_weight="count"), repeat)
    stacked = matrix.stack()
    stacked = stacked[[str(a) in ACTIVITY_SET and str(b) in ACTIVITY_SET for a, b in stacked.index]]
    return prep, times, None, transitions_check(stacked.astype("int64"))


def rete_step_sankey(frame: pd.DataFrame, repeat: int, params: dict) -> tuple:
    t0 = time.perf_counter()
    es = _eventstream(frame)
    prep = time.perf_counter() - t0
    times, result = _clock(lambda: es.step_sankey_data(max_steps=MAX_STEPS), repeat)
    return prep, times, None, {"shape": list(result.shape)}


def rete_funnel(frame: pd.DataFrame, repeat: int, params: dict) -> tuple:
    t0 = time.perf_counter()
    es = _eventstream(frame)
    prep = time.perf_counter() - t0
    times, result = _clock(lambda: es.funnel_data(steps=FUNNEL_STEPS), repeat)
    return prep, times, None, {"journeys": [int(s["unique_paths"]) for s in result["steps"]]}


ACTIVITY_SET: frozenset[str] = frozenset()


def _activities() -> frozenset[str]:
    from bench.generate import ACTIVITIES

    return frozenset(ACTIVITIES)


ACTIVITY_SET = _activities()
