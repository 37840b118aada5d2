"""AppTest of the Outlook page on a stored test log."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.numbers import format_percent
from services import analysis
from services.context import open_context
from services.conversion import set_conversion
from services.datasets import list_dataset_summaries
from tests.factories_attribution import create_stored_dataset, funnel_log
from tests.pages.conftest import conversion_line, run_page

WON = Conversion(goals=("Closed won",), lost_goals=("Closed lost",))


@pytest.fixture
def dataset_id(demo_engine) -> int:
    dataset_id = create_stored_dataset(funnel_log(), name="Funnel log")
    set_conversion(dataset_id, WON)
    return dataset_id


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_outlook_ranks_open_accounts(dataset_id):
    at = run_page("pages/11_Outlook.py", query={"dataset": str(dataset_id), "level": "account"})
    assert at.get("button_group")[0].value == "account"
    assert conversion_line(at).startswith("Conversion: reaching Closed won; lost: reaching Closed lost · ")
    expected = analysis.run("outlook", open_context(dataset_id, query=JourneyQuery(level="account")))
    assert _metric(at, "Open accounts") == f"{expected.counts['open']:,}"
    assert _metric(at, "Converted") == f"{expected.counts['converted']:,}"
    # Open and gone quiet are said to split the accounts with no outcome yet (one count on other pages).
    undecided = expected.counts["open"] + expected.counts["stale"]
    said = f"Open and gone quiet together are the {undecided:,} accounts neither converted nor lost."
    assert any(said in c.value for c in at.caption), [c.value for c in at.caption]
    table = at.dataframe[0].value
    assert list(table["Account"]) == list(expected.table["journey_key"][:50])
    assert table["#"].tolist() == [str(i) for i in range(1, len(table) + 1)]
    # Probabilities as percentages with one decimal, in the ranked order.
    assert table["Probability"].tolist() == [
        format_percent(v, fraction=True) for v in expected.table["conversion_probability"][:50]
    ]
    assert not [c for c in table.columns if "_" in c]
    # Where no visit raises the probability, the table says so rather than showing an empty cell.
    actions = expected.table["next_best_action"][:50].fillna("(none: no move raises it)")
    assert list(table["Next best action"]) == list(actions)
    assert not at.error


def test_outlook_choices_come_from_the_url(dataset_id):
    at = run_page(
        "pages/11_Outlook.py",
        query={
            "dataset": str(dataset_id),
            "level": "contact",
            "as_of": "2024-02-01",
            "active_days": "10",
            "min_transitions": "1",
        },
    )
    from datetime import date

    expected = analysis.run(
        "outlook",
        open_context(dataset_id, query=JourneyQuery(level="contact")),
        as_of=date(2024, 2, 1),
        active_days=10,
        min_transitions=1,
    )
    assert _metric(at, "Open contacts") == f"{expected.counts['open']:,}"
    assert _metric(at, "Gone quiet") == f"{expected.counts['stale']:,}"
    assert any("As of 2024-02-01" in c.value for c in at.caption)
    c = expected.counts
    closed = c["converted"] + c["lost"] + c["stale"]
    said = f"learned from the {closed:,} closed contacts, so it leaves out the {c['open']:,} open ones"
    assert any(said in caption.value for caption in at.caption), said
    assert expected.baseline_probability == pytest.approx(c["converted"] / closed)  # what the words claim
    table = at.dataframe[0].value
    assert list(table["Contact"]) == list(expected.table["journey_key"][:50])
    assert not [w.value for w in at.warning if w.value.startswith("The link's")]  # every value was usable


def test_outlook_names_the_link_values_it_cannot_use(dataset_id):
    at = run_page(
        "pages/11_Outlook.py",
        query={"dataset": str(dataset_id), "as_of": "1999-01-01", "min_transitions": "0", "model": "Markov chain"},
    )
    said = [w.value for w in at.warning]
    assert any(w.startswith("The link's as_of=1999-01-01 is not a day from ") for w in said), said
    assert "showing the day of the last event instead" in " ".join(said)
    assert any("min_transitions=0 is not a whole number from 1 to 1000" in w for w in said), said
    # The settings the link set are in sight, with their warning.
    assert [e for e in at.expander if e.label == "Model settings"][0].proto.expanded


def test_outlook_before_any_conversion_names_the_problem(dataset_id):
    # On the log's first day no journey has closed yet: nothing to learn a probability from.
    first_day = funnel_log()["timestamp"].min().date().isoformat()
    at = run_page("pages/11_Outlook.py", query={"dataset": str(dataset_id), "as_of": first_day})
    assert any(
        f"no closed journey converts (reaching Closed won; lost: reaching Closed lost) by {first_day}"
        in e.value.replace("\\", "")
        for e in at.error
    )
    assert not at.dataframe


def test_outlook_learns_explains_and_backtests(demo_engine):
    from tests.factories_attribution import committee_log

    dataset_id = create_stored_dataset(committee_log(), name="Committee log")
    set_conversion(dataset_id, WON)
    at = run_page("pages/11_Outlook.py", query={"dataset": str(dataset_id), "level": "account"})
    expected = analysis.run("outlook", open_context(dataset_id, query=JourneyQuery(level="account")))
    assert set(expected.table["model"]) == {"learned"}
    table = at.dataframe[0].value
    assert list(table["Account"]) == list(expected.table["journey_key"])
    assert list(table["What moves the probability most"]) == list(expected.table["factors"])
    assert table["What moves the probability most"].str.contains("of the buying committee involved").any()
    assert not at.warning  # the learned model ran: no note that the chain stands in
    # The lift is in percentage points (a 21 % → 57 % rise is +36 points, not "36 %"), as on the chart.
    lifts = [v for v in table["Lift"] if v != "–"]  # (this small log may have none: charts tests the format)
    assert all(re.fullmatch(r"\+\d+\.\d{1,2} points", v) for v in lifts), lifts
    # Which model says what is stated, with how often the two disagree.
    from services.attribution import count_models_disagreeing

    said = [c.value for c in at.caption if c.value.startswith("Probability: calibrated gradient boosting")]
    assert len(said) == 1, [c.value for c in at.caption]
    disagree = count_models_disagreeing(expected)
    assert (f"The two disagree for {disagree:,} of " in said[0]) == (disagree > 0), said
    at.toggle(key="backtest").set_value(True).run(timeout=120)
    assert not at.exception and not at.error
    figures = next(d.value for d in at.dataframe if "Measure" in d.value.columns)
    assert set(figures["Measure"]) == {"next touchpoint accuracy", "conversion AUC", "conversion Brier"}
    assert len(set(figures["Model"])) == 6
    calibration = next(d.value for d in at.dataframe if "Observed" in d.value.columns)
    assert sum(int(v.replace(",", "")) for v in calibration["Prefixes"]) > 0
    assert any(c.value.startswith("Split at ") for c in at.caption)


def test_backtest_on_a_small_log_says_why_it_cannot_run(dataset_id):
    at = run_page("pages/11_Outlook.py", query={"dataset": str(dataset_id), "level": "account"})
    # 40 accounts: too few to learn from, so the chain stands in and the page says so.
    assert any("the markov chain is shown" in w.value.lower() for w in at.warning)
    at.toggle(key="backtest").set_value(True).run(timeout=120)
    assert any("too few closed journeys to learn from" in e.value for e in at.error)


def test_a_kept_fit_is_shared_only_by_a_copy_with_the_same_bytes(demo_engine, data_dir):
    # tests/pages/conftest.py names a dataset's events file by its path inside the data directory, so
    # every test's copy of the demo shares one fit; a file with other bytes must not share it, even
    # with the same name, size and modification time.
    dataset = next(d for d in list_dataset_summaries() if d.name == "Demo: B2B SaaS event log")
    ctx = open_context(dataset.id)
    path = Path(ctx.source.parquet_path or "")
    key = analysis.content_key(ctx)
    assert key[1] == str(path.relative_to(data_dir))
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = analysis.content_key(ctx)
    assert changed[:4] == key[:4]
    assert changed != key
