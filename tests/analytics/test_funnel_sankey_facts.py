"""The fast funnel paths give the answers of the window-function matching they replace.

Three ways to an ``ordered`` funnel are compared on seeded random logs (ties in time, repeated
activities, repeated funnel steps, windows that break attempts, filters, account level, relabelled
touchpoints, stored neighbour facts or not):

- ``compute_funnel``: every attempt matched in memory (``_ordered_in_memory``) on DuckDB;
- ``funnel_journeys``: each journey's first attempt by hash joins (``_attempts_ordered_fast``),
  the window search only for journeys where a window broke it;
- the window search for every journey (``_attempts_ordered``), the reference.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pandas as pd
import pytest

import analytics.funnel as funnel
from analytics.engine import execute, temporary_tables
from analytics.funnel import FunnelSpec, compute_dropped_journeys, compute_funnel, compute_funnel_breakdown
from analytics.journeys import JourneyQuery
from analytics.schema import NEIGHBOUR_COLUMNS
from core.errors import UnknownNameError
from tests.factories import events_of, log_frame

ACTIVITIES = ("A", "B", "C", "D", "X")


def _random_log(seed: int, journeys: int = 80, *, prefix: str = "") -> pd.DataFrame:
    """Journeys of 1-14 events over A-D and X on whole days (many ties), with channels and accounts
    (their ids prefixed by ``prefix``)."""
    rng = random.Random(seed)
    rows = []
    for j in range(journeys):
        day = rng.randint(0, 5)
        for _ in range(rng.randint(1, 14)):
            day += rng.choice((0, 0, 1, 2, 5, 20))  # zeros: events at the same instant
            rows.append(
                (f"{prefix}j{j}", day, rng.choice(ACTIVITIES), rng.choice(("web", "email")), f"{prefix}acc{j % 23}")
            )
    return log_frame(rows, ("journey_id", "timestamp", "activity", "channel", "account_id"))


SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def logs():
    return {seed: events_of(_random_log(seed)) for seed in SEEDS}


@pytest.fixture(scope="module")
def union():
    """The three seeds' logs as one, their journeys and accounts told apart by the seed: a funnel or a
    Sankey is counted journey by journey, so one comparison on it checks each log's journeys (and
    costs a third of three)."""
    return events_of(pd.concat([_random_log(seed, prefix=f"s{seed}-") for seed in SEEDS], ignore_index=True))


def _windows_everywhere(e, spec, codes, carry, tmp):
    return funnel._attempts_ordered(e, spec, codes, carry, tmp)


def _engine(events, schema, query, spec) -> pd.DataFrame:
    """compute_funnel's figures from funnel_journeys (the engine's matching)."""
    plain = replace(spec, breakdown=None)
    with temporary_tables() as tmp:
        f = funnel.funnel_journeys(events, schema, query, plain, tmp=tmp)
        agg = execute(f.aggregate(**funnel._aggregates(f, len(spec.steps)))).iloc[0].to_dict()
    return funnel._frame(funnel._rows(agg, spec))


def _per_journey(events, schema, query, spec) -> pd.DataFrame:
    with temporary_tables() as tmp:
        f = execute(funnel.funnel_journeys(events, schema, query, spec, tmp=tmp))
    return f.sort_values("journey").reset_index(drop=True)


SPECS = [
    FunnelSpec(("A", "B", "C")),
    FunnelSpec(("A", "B", "C", "D"), window_days=100_000),
    FunnelSpec(("A", "B", "A")),  # a node twice: the second A must come after B
    FunnelSpec(("A", "A", "B")),  # twice in a row: the next A after the first
    FunnelSpec(("B", "D", "C"), window_days=6),  # short window: attempts break, later ones win
    FunnelSpec(("A", "C", "D"), window_days=30, step_windows_days=(2, None)),
    FunnelSpec(("D", "A", "B", "C", "X"), window_days=25, step_windows_days=(None, 5, 0.5, 40)),
]
QUERIES = [
    JourneyQuery(collapse_repeats=False),
    JourneyQuery(),
    JourneyQuery(channels=("web",)),
    JourneyQuery(level="account", collapse_repeats=False),
    JourneyQuery(touchpoint_of=(("A", "AB"), ("B", "AB"), ("C", "C"))),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{''.join(s.steps)}-{s.window_days:g}")
@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_in_memory_and_first_attempt_paths_equal_the_window_search(union, monkeypatch, spec, query):
    events, schema = union
    if query.touchpoint_of:
        spec = replace(spec, steps=tuple("AB" if s in "AB" else s for s in spec.steps))
        if spec.mode == "ordered" and len(set(spec.steps)) < 2:
            pytest.skip("relabelled into a single node")
    fast = compute_funnel(events, schema, query, spec)
    rounds = _engine(events, schema, query, spec)
    per_journey = _per_journey(events, schema, query, spec)
    monkeypatch.setattr(funnel, "_attempts_ordered_fast", _windows_everywhere)
    reference = _engine(events, schema, query, spec)
    assert reference["journeys"].iloc[0] > 0
    pd.testing.assert_frame_equal(fast, reference)
    pd.testing.assert_frame_equal(rounds, reference)
    pd.testing.assert_frame_equal(per_journey, _per_journey(events, schema, query, spec))


@pytest.mark.parametrize("seed", [1, 2])
def test_without_stored_facts_the_answers_are_the_same(logs, seed):
    events, schema = logs[seed]
    bare = events.drop(*NEIGHBOUR_COLUMNS)
    for spec in SPECS[:3]:
        for query in QUERIES[:2]:
            pd.testing.assert_frame_equal(
                compute_funnel(events, schema, query, spec), compute_funnel(bare, schema, query, spec)
            )


def test_a_later_attempt_wins_when_a_window_broke_the_first():
    # j1's first A (day 0) meets B on day 12, past its 5-day window; its second A (day 10) reaches B.
    rows = [("j1", 0, "A"), ("j1", 10, "A"), ("j1", 12, "B"), ("j2", 0, "A"), ("j2", 3, "B"), ("j3", 0, "A")]
    events, schema = events_of(log_frame(rows))
    spec = FunnelSpec(("A", "B"), window_days=5)
    query = JourneyQuery(collapse_repeats=False)
    f = compute_funnel(events, schema, query, spec)
    assert f["journeys"].tolist() == [3, 2]
    assert f.loc[1, "median_seconds_from_previous"] == pytest.approx(2.5 * 86400)  # 2 days and 3 days
    pd.testing.assert_frame_equal(_engine(events, schema, query, spec), f)
    per = _per_journey(events, schema, query, spec)
    assert per["reached"].tolist() == [2, 2, 1]
    assert per["p1"].tolist() == [1, 0, 0]  # j1's best attempt starts at its second event


def test_ties_keep_the_file_order():
    # A and B at the same instant: B follows A in the file, so A → B counts (0 seconds).
    rows = [("j1", 1, "B"), ("j1", 1, "A"), ("j1", 1, "B"), ("j2", 2, "A"), ("j2", 2, "C")]
    events, schema = events_of(log_frame(rows))
    f = compute_funnel(events, schema, JourneyQuery(collapse_repeats=False), FunnelSpec(("A", "B")))
    assert f["journeys"].tolist() == [2, 1]
    assert f.loc[1, "median_seconds_from_previous"] == 0.0


def test_breakdown_exclusions_and_dropped_journeys_agree(union, monkeypatch):
    events, schema = union
    query = JourneyQuery(collapse_repeats=False)
    cases = [
        FunnelSpec(("A", "B", "C"), window_days=10, breakdown="channel"),
        FunnelSpec(("A", "B", "C"), breakdown="channel", attribution="last"),
        FunnelSpec(("B", "C", "D"), window_days=8, exclusions=("X",)),
    ]

    def every_table() -> list[pd.DataFrame]:
        funnels = [
            compute_funnel_breakdown(events, schema, query, s)
            if s.breakdown
            else compute_funnel(events, schema, query, s)
            for s in cases
        ]
        return funnels + [compute_dropped_journeys(events, schema, query, s) for s in cases]

    ours = every_table()
    monkeypatch.setattr(funnel, "_attempts_ordered_fast", _windows_everywhere)
    theirs = every_table()
    for a, b in zip(ours, theirs, strict=True):
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b)


def test_strict_and_any_modes_are_unchanged(logs, monkeypatch):
    events, schema = logs[2]
    query = JourneyQuery(collapse_repeats=False)
    specs = [FunnelSpec(("A", "B", "C"), mode="strict", step_windows_days=(30, 30)), FunnelSpec(("A", "B"), mode="any")]
    ours = [compute_funnel(events, schema, query, s) for s in specs]
    monkeypatch.setattr(funnel, "_attempts_ordered_fast", _windows_everywhere)
    for spec, a in zip(specs, ours, strict=True):
        pd.testing.assert_frame_equal(a, _engine(events, schema, query, spec))


def test_an_unknown_step_is_still_refused_with_the_nearest_names(logs):
    events, schema = logs[1]
    with pytest.raises(UnknownNameError) as err:
        compute_funnel(events, schema, JourneyQuery(), FunnelSpec(("A", "Bb")))
    assert "B" in str(err.value)


# --------------------------------------------------------------------------- step Sankey


def _links_with_pandas(coded, names, steps, top_per_step, anchor, defined):
    """The step Sankey's links as computed before ``analytics.sankey._links`` (pandas group-bys)."""
    from analytics.sankey import CONVERTED, DROP_OFF, END, OTHER, SANKEY_COLUMNS

    coded = coded.copy()
    coded["journeys"] = coded["journeys"].astype("int64")
    coded["col"] = coded["col"].astype("int64")
    coded["source"] = coded["node_code"].map(lambda c: names.get(int(c)))
    volume = coded.groupby(["col", "source"], as_index=False)["journeys"].sum()
    volume = volume.sort_values(["col", "journeys", "source"], ascending=[True, False, True], kind="stable")
    volume["rank"] = volume.groupby("col").cumcount()
    top = volume[volume["rank"] < top_per_step]
    kept = set(zip(top["col"], top["source"], strict=False))

    def shown(col, name):
        return name if name is not None and (col, name) in kept else OTHER

    coded["source"] = [shown(c, n) for c, n in zip(coded["col"], coded["source"], strict=False)]
    has_next = coded["next_code"].notna()
    last_col = steps - 1
    rows = coded[has_next & (coded["col"] < last_col)].copy()
    rows["target_step"] = rows["col"] + 1
    rows["target"] = [shown(c, names.get(int(n))) for c, n in zip(rows["target_step"], rows["next_code"], strict=False)]
    links = [rows[["col", "source", "target_step", "target", "journeys"]]]
    if anchor == "start":
        ends = coded[~has_next & (coded["col"] < last_col)].copy()
        ends["target_step"] = ends["col"] + 1
        ends["target"] = END if not defined else ends["_conv"].map({True: CONVERTED, False: DROP_OFF})
        links.append(ends[["col", "source", "target_step", "target", "journeys"]])
    out = pd.concat(links, ignore_index=True).rename(columns={"col": "source_step"})
    out = out.groupby(["source_step", "source", "target_step", "target"], as_index=False)["journeys"].sum()
    out = out.sort_values(
        ["source_step", "journeys", "source", "target"], ascending=[True, False, True, True], kind="stable"
    )
    return out[SANKEY_COLUMNS].reset_index(drop=True)


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        (JourneyQuery(collapse_repeats=False), {"steps": 6, "top_per_step": 2}),
        (JourneyQuery(), {"steps": 4, "top_per_step": 3, "conversion": "D"}),
        (JourneyQuery(collapse_repeats=False), {"steps": 5, "top_per_step": 1, "anchor": "end"}),
        (JourneyQuery(channels=("email",)), {"steps": 3, "top_per_step": 8, "anchor_node": "B"}),
    ],
    ids=range(4),
)
def test_step_sankey_links_equal_the_pandas_way(union, monkeypatch, query, kwargs):
    import analytics.sankey as sankey
    from analytics.conversion import goal

    events, schema = union
    kwargs = dict(kwargs)
    if "conversion" in kwargs:
        kwargs["conversion"] = goal(kwargs["conversion"])
    ours = sankey.compute_step_sankey(events, schema, query, **kwargs)
    monkeypatch.setattr(
        sankey,
        "_links",
        lambda coded, names, steps, top, anchor, defined: _links_with_pandas(coded, names, steps, top, anchor, defined),
    )
    theirs = sankey.compute_step_sankey(events, schema, query, **kwargs)
    assert len(ours) > 0
    assert (ours["source"] == "Other").any() == (kwargs["top_per_step"] < len(ACTIVITIES))
    pd.testing.assert_frame_equal(ours, theirs)


# --------------------------------------------------------------------------- row groups


def test_a_store_written_in_several_row_groups_gives_the_same_answers(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    import analytics.ingest.store as store
    from analytics.engine import EventSource, events_table
    from analytics.sankey import compute_step_sankey
    from tests.factories import stored

    log = _random_log(4, journeys=900)  # DuckDB writes row groups of whole 2,048-row vectors
    layout, schema = stored(log)
    path = tmp_path / "events.parquet"
    layout.drop(columns=list(NEIGHBOUR_COLUMNS)).to_parquet(path, index=False)
    monkeypatch.setattr(store, "ROW_GROUP_ROWS", 2048)
    store.add_neighbour_facts(path, has_stage=False, temp_directory=tmp_path)
    assert pq.ParquetFile(path).num_row_groups == -(-len(layout) // 2048) > 1
    on_disk, in_memory = events_table(EventSource(parquet_path=str(path))), events_of(log)[0]
    query = JourneyQuery(collapse_repeats=False)
    spec = FunnelSpec(("A", "B", "C"), window_days=10)
    pd.testing.assert_frame_equal(
        compute_funnel(on_disk, schema, query, spec), compute_funnel(in_memory, schema, query, spec)
    )
    pd.testing.assert_frame_equal(
        compute_step_sankey(on_disk, schema, query, steps=6, top_per_step=3),
        compute_step_sankey(in_memory, schema, query, steps=6, top_per_step=3),
    )
