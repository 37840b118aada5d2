"""Hot datasets (``analytics.engine``): a dataset in use is answered from a table in memory.

Every analysis of the registry gives the same table in memory as on Parquet (run as the app runs
it, ``services.analysis.run`` on an ``open_context``); the budget drops the least recently asked
dataset and leaves one larger than itself on Parquet; a rewritten file is never answered from the
table of its old content; sessions (threads) share the tables but not their temporary tables.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from analytics import engine as query_engine
from analytics.conversion import NOT_DEFINED, goal
from analytics.engine import EventSource, events_table, execute, execute_scalar, hot_status, make_hot
from analytics.funnel import FunnelSpec
from analytics.journeys import JourneyQuery
from analytics.layout import to_stored_layout, write_parquet
from analytics.registry import ANALYSES as REGISTRY
from core.errors import BadInputError
from services import analysis as analysis_service
from services.context import open_context
from tests.factories import result_tables, save_dataset

GOAL = "Contract signed"
SPEC = FunnelSpec(steps=("Demo", "Pricing page", "Sales rep", GOAL))


@cache
def _log(events: int, seed: int) -> tuple[pd.DataFrame, object]:
    """A generated B2B log (bench/generate.py) in the stored layout, with its schema."""
    from bench.generate import column_mapping, generate

    mapping = column_mapping(segments=("region",))
    frame = generate(events, seed).frame
    frame = frame.astype({c: "string" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    frame.insert(0, "file_row", range(1, len(frame) + 1))
    canon = frame.rename(columns={"region": "segment:region"}).drop(columns=["industry", "company_size"])
    schema = mapping.schema()
    return to_stored_layout(canon, schema), schema


def _dataset(name: str, events: int = 3000, seed: int = 11) -> int:
    layout, schema = _log(events, seed)
    return save_dataset(layout, schema, name=name, content_hash=f"{name}-{events}-{seed}")  # type: ignore[arg-type]


@pytest.fixture
def hot(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A roomy budget, no background loads (the tests load with make_hot), everything dropped after."""
    monkeypatch.setattr(query_engine, "HOT_AFTER_SECONDS", 10**9)
    before = query_engine.hot_budget()
    query_engine.set_hot_budget(1024)
    yield query_engine
    query_engine.set_hot_budget(0)  # drops every table: the next test starts cold
    query_engine.set_hot_budget(before)


# --------------------------------------------------------------------------- same answers

# (id, registry name, query, parameters, converts): every entry of the registry at least once.
CASES: list[tuple[str, str, JourneyQuery, dict, bool]] = [
    ("summary", "summary", JourneyQuery(), {}, True),
    ("transitions", "transitions", JourneyQuery(), {}, False),
    ("transitions, repeats kept", "transitions", JourneyQuery(collapse_repeats=False), {}, False),
    (
        "transitions, account level, filtered",
        "transitions",
        JourneyQuery(level="account", channels=("web", "email"), segments=(("region", ("EMEA",)),)),
        {},
        False,
    ),
    ("transition graph", "transition_graph", JourneyQuery(by="stage"), {}, False),
    ("node volumes", "node_volumes", JourneyQuery(), {}, False),
    ("step Sankey", "sankey", JourneyQuery(collapse_repeats=False), {"steps": 6}, True),
    ("stage flow", "stage_flow", JourneyQuery(by="stage"), {}, False),
    ("funnel", "funnel", JourneyQuery(collapse_repeats=False), {"spec": SPEC}, False),
    (
        "funnel, strict, per-step windows",
        "funnel",
        JourneyQuery(),
        {"spec": FunnelSpec(steps=SPEC.steps, mode="strict", step_windows_days=(30, 30, 60))},
        False,
    ),
    (
        "funnel breakdown",
        "funnel_breakdown",
        JourneyQuery(),
        {"spec": FunnelSpec(steps=SPEC.steps, breakdown="channel")},
        False,
    ),
    ("dropped journeys", "dropped_journeys", JourneyQuery(), {"spec": SPEC}, False),
    ("variants", "variants", JourneyQuery(by="stage"), {"top": None}, True),
    ("variants, repeats kept", "variants", JourneyQuery(collapse_repeats=False), {"top": None}, False),
    ("non-linearity", "nonlinearity", JourneyQuery(by="stage"), {}, False),
    ("top loops", "top_loops", JourneyQuery(by="stage"), {"top": None}, False),
    ("stage order", "stage_order", JourneyQuery(), {}, False),
    ("outcomes", "outcomes", JourneyQuery(level="account"), {}, False),
    ("time to convert", "time_to_convert", JourneyQuery(), {}, True),
    ("time in stage", "time_in_stage", JourneyQuery(by="stage"), {}, False),
    ("friction", "friction", JourneyQuery(), {}, True),
    ("conversion rate per month", "metric", JourneyQuery(), {"kind": "conversion"}, True),
    ("attribution", "attribution", JourneyQuery(), {}, True),
    ("outlook", "outlook", JourneyQuery(), {}, True),
    ("outlook backtest", "outlook_backtest", JourneyQuery(), {}, True),
]


def test_every_registered_analysis_has_a_case():
    assert {c[1] for c in CASES} == set(REGISTRY)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order: analyses that leave ties unordered may list them differently run to run."""
    listed = {c for c in frame.columns if frame[c].map(lambda v: isinstance(v, list | tuple)).any()}
    keys = [c for c in frame.columns if c not in listed and not pd.api.types.is_float_dtype(frame[c])]
    out = frame.reset_index(drop=True)
    return out.sort_values(keys, kind="stable").reset_index(drop=True) if keys else out


def _run(name: str, ctx, query: JourneyQuery, params: dict, fit: str):  # noqa: ANN001, ANN202
    if REGISTRY[name].keeps_fit:
        params = {**params, "fit_key": ("hot datasets test", fit)}  # fit on each path, not once for both
    return analysis_service.run(name, ctx, query=query, **params)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_analysis_gives_the_same_table_in_memory_as_on_parquet(engine, hot, case):
    _, name, query, params, converts = case
    dataset_id = _dataset("Hot vs Parquet")
    ctx = open_context(dataset_id, conversion=goal(GOAL) if converts else NOT_DEFINED)

    on_parquet = result_tables(_run(name, ctx, query, params, "parquet"))
    assert not hot_status(ctx.source).in_memory
    assert make_hot(ctx.source).in_memory
    in_memory = result_tables(_run(name, ctx, query, params, "memory"))
    assert hot_status(ctx.source).in_memory  # still: the run above read the table

    assert on_parquet.keys() == in_memory.keys()
    assert any(len(t) for t in on_parquet.values()), "an empty answer would prove nothing"
    for part, frame in on_parquet.items():
        pd.testing.assert_frame_equal(_sorted(frame), _sorted(in_memory[part]), check_exact=False, rtol=1e-9)


def test_a_hot_dataset_is_answered_without_reading_its_file(engine, hot, tmp_path):
    """The proof that the table is read: the expression keeps working with the file moved away."""
    ctx = open_context(_dataset("Moved"))
    path = Path(ctx.source.parquet_path or "")
    events = ctx.events()
    assert make_hot(ctx.source).in_memory
    expected = execute(events.group_by("activity").aggregate(n=events.count()).order_by("activity"))
    path.rename(tmp_path / "elsewhere.parquet")
    try:
        again = execute(events.group_by("activity").aggregate(n=events.count()).order_by("activity"))
    finally:
        (tmp_path / "elsewhere.parquet").rename(path)
    pd.testing.assert_frame_equal(expected, again)
    assert int(again["n"].sum()) == 3000


def test_in_memory_keeps_the_columns_their_types_and_order(engine, hot):
    ctx = open_context(_dataset("Types"))
    before = ctx.events().schema()
    rows_before = execute(ctx.events().select("journey_code", "seq", "timestamp").limit(50))
    make_hot(ctx.source)
    after = ctx.events().schema()
    assert list(after.items()) == list(before.items())
    # Row order kept too (insertion order), though no analysis relies on it.
    pd.testing.assert_frame_equal(
        rows_before, execute(ctx.events().select("journey_code", "seq", "timestamp").limit(50))
    )


# --------------------------------------------------------------------------- the budget


def test_the_budget_drops_the_least_recently_asked_dataset(engine, hot):
    a = open_context(_dataset("A", seed=1)).source
    b = open_context(_dataset("B", seed=2)).source
    assert make_hot(a).in_memory and make_hot(b).in_memory
    size_a, size_b = hot_status(a).bytes, hot_status(b).bytes
    assert size_a > 1 and size_b > 1  # measured, not a placeholder

    events_table(a)  # A is asked for again: B is now the least recently asked
    query_engine.set_hot_budget((size_a + size_b - 1) / 2**20)
    assert hot_status(a).in_memory
    assert str(hot_status(b)) == "read from Parquet (not in use yet)"
    assert [p for p, _ in query_engine.hot_datasets()] == [a.parquet_path]

    assert make_hot(b).in_memory  # loading B (the budget holds one) drops A, now the least recent
    assert not hot_status(a).in_memory
    assert execute_scalar(events_table(a).count()) == 3000  # A still answers, from its file


def test_a_dataset_larger_than_the_budget_stays_on_parquet(engine, hot):
    ctx = open_context(_dataset("Big"))
    assert make_hot(ctx.source).in_memory
    size = hot_status(ctx.source).bytes
    query_engine.set_hot_budget(0)
    query_engine.set_hot_budget(size / 2 / 2**20)
    status = make_hot(ctx.source)
    assert not status.in_memory
    assert status.where == "read from Parquet" and "larger than the memory budget" in status.reason
    assert query_engine.hot_datasets() == []
    result = analysis_service.run("transitions", ctx)
    assert int(result["count"].sum()) > 0


def test_a_zero_budget_turns_hot_datasets_off(engine, hot):
    ctx = open_context(_dataset("Off"))
    query_engine.set_hot_budget(0)
    status = make_hot(ctx.source)
    assert str(status) == "read from Parquet (hot datasets off (JOURNEYLENS_HOT_MB=0))"
    assert query_engine.hot_datasets() == []


def test_the_budget_from_the_environment_is_checked(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_HOT_MB", "lots")
    with pytest.raises(BadInputError, match="JOURNEYLENS_HOT_MB"):
        query_engine._hot_mb_from_env()
    monkeypatch.setenv("JOURNEYLENS_HOT_MB", "0")
    assert query_engine._hot_mb_from_env() == 0
    monkeypatch.delenv("JOURNEYLENS_HOT_MB")
    assert query_engine._hot_mb_from_env() == query_engine.default_hot_mb()
    assert 0 < query_engine.default_hot_mb() <= 4096


# --------------------------------------------------------------------------- freshness


def test_a_rewritten_file_is_not_answered_from_its_old_table(engine, hot):
    ctx = open_context(_dataset("Re-imported"))
    path = ctx.source.parquet_path or ""
    old_events = ctx.events()
    assert make_hot(ctx.source).in_memory
    assert execute_scalar(old_events.count()) == 3000

    layout, _ = _log(3000, 11)
    write_parquet(layout.head(1200), path)  # a re-import or an upgrade rewrites the file in place
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a new modification time, surely

    assert not hot_status(ctx.source).in_memory
    assert execute_scalar(events_table(ctx.source).count()) == 1200
    assert execute_scalar(old_events.count()) == 1200  # an expression made before reads the file too
    assert make_hot(ctx.source).in_memory
    assert execute_scalar(events_table(ctx.source).count()) == 1200
    assert query_engine.hot_datasets() == [(path, pytest.approx(hot_status(ctx.source).megabytes, abs=0.1))]


def test_a_dataset_in_use_is_loaded_in_the_background(engine, hot, monkeypatch):
    monkeypatch.setattr(query_engine, "HOT_AFTER_SECONDS", 0)
    ctx = open_context(_dataset("In use"))
    events_table(ctx.source)
    assert str(hot_status(ctx.source)) == "read from Parquet (not in use yet)"
    events_table(ctx.source)  # asked again: in use
    deadline = time.monotonic() + 120  # a bound on the wait, not a measure of speed
    while not hot_status(ctx.source).in_memory and time.monotonic() < deadline:
        assert hot_status(ctx.source).reason in ("loading into memory", ""), hot_status(ctx.source)
        time.sleep(0.05)
    assert hot_status(ctx.source).in_memory


# --------------------------------------------------------------------------- sessions (threads)


def test_sessions_share_the_tables_not_their_temporary_tables(engine, hot):
    ctx = open_context(_dataset("Shared"))
    assert make_hot(ctx.source).in_memory
    expected = analysis_service.run("transitions", ctx)
    barrier = threading.Barrier(2)
    seen: dict[str, object] = {}

    def session(n: int) -> list[pd.DataFrame]:
        with query_engine.temporary_tables() as tmp:
            t = tmp.materialize(ctx.events().filter(lambda e: e.seq <= n))
            seen[f"own {n}"] = execute_scalar(t.count())
            seen[f"backend {n}"] = query_engine._duckdb()
            seen[f"name {n}"] = t.get_name()
            barrier.wait(timeout=60)  # both temporary tables exist now
            other = seen[f"name {2 if n == 1 else 1}"]
            try:
                query_engine._duckdb().con.execute(f'SELECT count(*) FROM "{other}"').fetchall()
                seen[f"sees other {n}"] = True
            except Exception:  # noqa: BLE001 - DuckDB's CatalogException: not visible, as wanted
                seen[f"sees other {n}"] = False
            barrier.wait(timeout=60)
        return [analysis_service.run("transitions", ctx) for _ in range(3)]

    with ThreadPoolExecutor(2) as pool:  # a worker's exception is raised here by result()
        results = [r for f in [pool.submit(session, n) for n in (1, 2)] for r in f.result(timeout=300)]
    assert seen["backend 1"] is not seen["backend 2"]  # a cursor per thread
    assert seen["sees other 1"] is False and seen["sees other 2"] is False
    assert 0 < seen["own 1"] < seen["own 2"]  # type: ignore[operator]
    assert len(results) == 6
    for r in results:
        pd.testing.assert_frame_equal(_sorted(expected), _sorted(r))


def test_an_eviction_while_another_session_reads_keeps_its_answer(engine, hot):
    ctx = open_context(_dataset("Evicted while read"))
    assert make_hot(ctx.source).in_memory
    expected = analysis_service.run("variants", ctx)
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(lambda: [analysis_service.run("variants", ctx) for _ in range(4)])
        for _ in range(4):  # drop and reload the table under the reader
            query_engine.set_hot_budget(0)
            query_engine.set_hot_budget(1024)
            make_hot(ctx.source)
        answers = reading.result(timeout=300)
    assert len(answers) == 4
    for a in answers:
        pd.testing.assert_frame_equal(_sorted(expected), _sorted(a))


def test_external_sources_are_not_held(engine, hot):
    status = hot_status(EventSource(backend_url="duckdb:///nowhere.db", table_name="events"))
    assert status.where == "read from its backend"


def test_the_data_page_says_where_questions_are_answered_from(engine, hot):
    from services.datasets import memory_status

    dataset_id = _dataset("Said")
    ctx = open_context(dataset_id)
    assert memory_status(dataset_id) == "read from Parquet (not in use yet)"
    make_hot(ctx.source)
    assert memory_status(dataset_id) == f"in memory ({hot_status(ctx.source).megabytes:,} MB)"
