"""AppTest of the Attribution page on a stored test log."""

from __future__ import annotations

import pytest

from analytics.conversion import Conversion, goal
from analytics.journeys import JourneyQuery
from analytics.numbers import format_percent
from charts.labels import format_number
from services import analysis
from services.context import open_context
from services.conversion import set_conversion
from tests.factories_attribution import create_stored_dataset, funnel_log
from tests.pages.conftest import conversion_line, run_page


@pytest.fixture
def dataset_id(demo_engine) -> int:
    return create_stored_dataset(funnel_log(), name="Funnel log")


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


WON = Conversion(goals=("Closed won",), lost_goals=("Closed lost",))


def test_without_a_definition_the_page_says_so_and_suggests_one(dataset_id):
    at = run_page("pages/10_Attribution.py", query={"dataset": str(dataset_id)})
    assert conversion_line(at).startswith("Conversion: not defined")
    assert not at.dataframe  # nothing is guessed
    # The likely choice, from the names: the win, with the loss as lost.
    assert "reaching Closed won; lost: reaching Closed lost" in [b.label for b in at.button]
    at.button(key="conversion_suggest_0").click().run()
    assert conversion_line(at).startswith("Conversion: reaching Closed won; lost: reaching Closed lost · ")
    assert at.dataframe  # the models now show


def test_attribution_page_shows_models_side_by_side(dataset_id):
    set_conversion(dataset_id, WON)
    at = run_page("pages/10_Attribution.py", query={"dataset": str(dataset_id)})
    expected = analysis.run("attribution", open_context(dataset_id))
    assert expected.conversion == WON
    assert _metric(at, "Conversions credited") == f"{expected.conversions:,}"
    assert _metric(at, "Journeys") == f"{expected.journeys:,}"
    table = at.dataframe[0].value
    # Written for people: labels, the removal effect as a percentage, credits with up to two decimals.
    assert len(table.columns) == len(expected.table.columns)
    assert not [c for c in table.columns if "_" in c or c != c.strip()]
    assert "Journeys through it" in table.columns and "Position-based" in table.columns
    assert table["Removal effect"].tolist() == [
        format_percent(v, fraction=True) for v in expected.table["removal_effect"]
    ]
    assert table.set_index("Touchpoint")["Linear"].to_dict() == {
        k: format_number(v) for k, v in expected.table.set_index("touchpoint")["linear"].items()
    }
    assert sum(float(v.replace(",", "")) for v in table["Markov"]) == pytest.approx(expected.conversions, abs=0.05)
    text = "\n".join(m.value for m in at.markdown)
    for formula in ("40% to the first", "1/n to each", "RE(t) = 1 − P(conversion without t)"):
        assert formula in text
    assert not at.error


def test_attribution_page_by_channel_at_account_level_from_the_url(dataset_id):
    at = run_page(
        "pages/10_Attribution.py",
        query={"dataset": str(dataset_id), "goal": "Closed won", "by": "channel", "level": "account"},
    )
    # ?goal= sets conversion for this view only, and says so.
    assert conversion_line(at).startswith("Conversion: reaching Closed won · ")
    assert any("for this view only" in m.value for m in at.markdown)
    expected = analysis.run(
        "attribution",
        open_context(dataset_id, query=JourneyQuery(level="account"), conversion=goal("Closed won")),
        by="channel",
    )
    table = at.dataframe[0].value
    assert "Channel" in table.columns
    assert set(table["Channel"]) == set(expected.table["channel"])
    assert _metric(at, "Journeys") == f"{expected.journeys:,}"
    assert at.query_params["dataset"] == str(dataset_id)


def test_attribution_page_without_datasets_says_so(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")  # the demo brings datasets
    at = run_page("pages/10_Attribution.py")
    assert any("No dataset yet" in i.value for i in at.info)


def test_a_goal_that_does_not_exist_is_refused_with_the_nearest(dataset_id):
    at = run_page("pages/10_Attribution.py", query={"dataset": str(dataset_id), "goal": "Closed wn"})
    assert any("nearest: 'Closed won'" in w.value for w in at.warning)
    assert not at.dataframe and not at.metric
