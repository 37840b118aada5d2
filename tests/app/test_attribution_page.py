"""AppTest of the Attribution page on a stored test log."""

from __future__ import annotations

import pytest

from analytics.journeys import JourneyQuery
from services.attribution import compute_attribution
from tests.app.conftest import run_page
from tests.factories_attribution import create_stored_dataset, funnel_log


@pytest.fixture
def dataset_id(engine) -> int:
    return create_stored_dataset(funnel_log(), name="Funnel log")


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_attribution_page_shows_models_side_by_side(dataset_id):
    at = run_page("pages/10_Attribution.py", query={"dataset": str(dataset_id)})
    expected = compute_attribution(dataset_id, goal="Closed won", lost=("Closed lost",))
    # The goal and the lost touchpoint are suggested from their names.
    assert at.selectbox(key="goal").value == "Closed won"
    assert at.multiselect(key="lost").value == ["Closed lost"]
    assert _metric(at, "Conversions credited") == f"{expected.conversions:,}"
    assert _metric(at, "Journeys") == f"{expected.journeys:,}"
    table = at.dataframe[0].value
    assert list(table.columns) == list(expected.table.columns)
    assert table["markov"].sum() == pytest.approx(expected.conversions)
    assert table.set_index("touchpoint")["linear"].to_dict() == pytest.approx(
        expected.table.set_index("touchpoint")["linear"].to_dict()
    )
    text = "\n".join(m.value for m in at.markdown)
    for formula in ("40% to the first", "1/n to each", "RE(t) = 1 − P(conversion without t)"):
        assert formula in text
    assert not at.error


def test_attribution_page_by_channel_at_account_level_from_the_url(dataset_id):
    at = run_page(
        "pages/10_Attribution.py",
        query={"dataset": str(dataset_id), "goal": "Closed won", "by": "channel", "level": "account"},
    )
    expected = compute_attribution(
        dataset_id, goal="Closed won", by="channel", query=JourneyQuery(level="account"), lost=("Closed lost",)
    )
    table = at.dataframe[0].value
    assert "channel" in table.columns
    assert set(table["channel"]) == set(expected.table["channel"])
    assert _metric(at, "Journeys") == f"{expected.journeys:,}"
    assert at.query_params["dataset"] == str(dataset_id)


def test_attribution_page_without_datasets_says_so(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")  # the demo brings datasets
    at = run_page("pages/10_Attribution.py")
    assert any("No event logs yet" in i.value for i in at.info)
