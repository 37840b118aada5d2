"""Variants: counts, share, conversion rate, ties, top + Other, stage level."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.paths import OTHER_PATHS, compute_variants
from tests.factories import events_of, log_frame

LOG = log_frame(
    [
        ("a", 0, "A"), ("a", 1, "B"),
        ("b", 0, "A"), ("b", 1, "B"),
        ("c", 0, "A"), ("c", 1, "B"), ("c", 2, "B"),  # same path once repeats collapse
        ("d", 0, "B"), ("d", 1, "A"),
        ("e", 0, "C"),
    ]
)  # fmt: skip


def test_counts_share_and_tie_order():
    events, schema = events_of(LOG)
    v = compute_variants(events, schema, top=None)
    assert v["path"].tolist() == [("A", "B"), ("B", "A"), ("C",)]  # ties (1, 1) ordered by name
    assert v["journeys"].tolist() == [3, 1, 1]
    assert v["share"].tolist() == [0.6, 0.2, 0.2]
    assert v["path_label"].iloc[0] == "A > B"
    assert (v["distinct_paths"] == 3).all() and (v["total_journeys"] == 5).all()
    assert v["conversion_rate"].isna().all()


def test_repeats_kept_split_variants():
    events, schema = events_of(LOG)
    v = compute_variants(events, schema, JourneyQuery(collapse_repeats=False), top=None)
    assert ("A", "B", "B") in set(v["path"]) and int(v["distinct_paths"].iloc[0]) == 4


def test_conversion_rate_by_goal():
    events, schema = events_of(LOG)
    v = compute_variants(events, schema, conversion=Conversion(goals=("B",)), top=None).set_index("path_label")
    assert v.loc["A > B", "conversion_rate"] == 1.0
    assert v.loc["C", "conversion_rate"] == 0.0


def test_top_with_other_row_adds_up_the_rest():
    events, schema = events_of(LOG)
    v = compute_variants(events, schema, conversion=Conversion(goals=("A",)), top=1, include_other=True)
    assert v["path_label"].tolist() == ["A > B", f"{OTHER_PATHS} (2)"]
    assert v["journeys"].tolist() == [3, 2]
    assert v.iloc[1]["conversion_rate"] == 0.5  # d reaches A, e does not
    # A tie at the cut is broken by name, not by whichever the engine returns first.
    v = compute_variants(events, schema, top=2)
    assert v["path"].tolist() == [("A", "B"), ("B", "A")]


def test_stage_level_paths():
    frame = log_frame(
        [("a", 0, "x", "Aw"), ("a", 1, "y", "Aw"), ("a", 2, "z", "Co"), ("b", 0, "x", "Aw")],
        ("journey_id", "timestamp", "activity", "stage"),
    )
    events, schema = events_of(frame)
    v = compute_variants(events, schema, JourneyQuery(by="stage"), top=None)
    assert v["path"].tolist() == [("Aw",), ("Aw", "Co")]
    assert v["journeys"].tolist() == [1, 1]


def test_empty():
    from datetime import date

    events, schema = events_of(LOG)
    v = compute_variants(events, schema, JourneyQuery(date_from=date(2031, 1, 1)))
    assert v.empty and list(v.columns)[:3] == ["path", "path_label", "journeys"]


def test_long_paths_and_many_touchpoints_are_exact():
    # 300 activities (9 bits a node: 7 nodes a key, 28 in the 4 keys): paths of 1, 7, 8, 28 steps are
    # packed into integer keys; 29 and 60 steps are grouped as arrays. Twins share a variant, a path
    # differing only in its last step does not.
    names = [f"T{i:03d}" for i in range(300)]

    def journey(key: str, steps: list[str]) -> list[tuple]:
        return [(key, day, activity) for day, activity in enumerate(steps)]

    long = [names[(7 * i) % 300] for i in range(60)]
    paths = {
        "one": names[299:],
        "seven": names[:7],
        "eight": names[290:298],
        "full": names[100:128],
        "over": names[200:229],
        "long": long,
    }
    rows = []
    for key, steps in paths.items():
        rows += journey(key, steps) + journey(key + "-twin", steps)
    rows += journey("long-other", long[:-1] + [names[1]])
    rows += journey("filler", names)  # every activity occurs, so the codes run up to 299
    events, schema = events_of(log_frame(rows))
    v = compute_variants(events, schema, JourneyQuery(collapse_repeats=False), top=None)
    got = dict(zip(v["path"], v["journeys"], strict=True))
    for steps in paths.values():
        assert got[tuple(steps)] == 2
    assert got[tuple(long[:-1] + [names[1]])] == 1
    assert got[tuple(names)] == 1
    assert int(v["distinct_paths"].iloc[0]) == len(paths) + 2 and int(v["total_journeys"].iloc[0]) == 14


def _long_and_short_log():
    # 40 activities (6 bits a node: 10 a key, 40 in the 4 keys): journeys of 1 to 45 steps, some twins.
    names = [f"N{i:02d}" for i in range(40)]
    rows = []
    for j in range(120):
        length = 1 + (j * 7) % 45
        steps = [names[(j % 5 + 3 * i) % 40] for i in range(length)]
        rows += [(f"j{j:03d}", day, activity) for day, activity in enumerate(steps)]
    rows += [("filler", day, activity) for day, activity in enumerate(names)]
    return log_frame(rows)


@pytest.mark.parametrize("log", ["b2b", "long"])
@pytest.mark.parametrize("collapse", [False, True])
def test_the_count_over_stored_steps_equals_the_query(monkeypatch, log, collapse):
    import analytics.paths as paths
    from tests.factories import b2b_log

    events, schema = events_of(b2b_log(journeys=150) if log == "b2b" else _long_and_short_log())
    query = JourneyQuery(collapse_repeats=collapse)
    won = Conversion(goals=("Contract signed",) if log == "b2b" else ("N07",))
    for conversion, top, other in ((won, None, False), (None, 2, True)):
        kwargs = {"top": top, "include_other": other, **({"conversion": conversion} if conversion else {})}
        assert paths._stored_variants(events, schema, query, conversion or paths.NOT_DEFINED, 40, top) is not None
        fast = compute_variants(events, schema, query, **kwargs)
        with monkeypatch.context() as m:
            m.setattr(paths, "_stored_variants", lambda *args: None)
            slow = compute_variants(events, schema, query, **kwargs)
        assert len(slow) > 0
        pd.testing.assert_frame_equal(fast, slow)
