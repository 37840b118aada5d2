"""AppTest of the Paths page: variants, loops, outcomes and time from a dataset."""

from __future__ import annotations

import pytest

from tests.app.conftest import run_page
from tests.factories import b2b_log, create_dataset


@pytest.fixture(autouse=True)
def _no_demo(monkeypatch):
    """These tests bring their own dataset (and check the empty state): no demo seeding."""
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")


def test_paths_page_without_dataset(engine):
    at = run_page("pages/7_Paths.py")
    assert at.title[0].value == "Paths"
    assert any("No dataset yet" in i.value for i in at.info)


def test_paths_page_shows_every_view_at_stage_level(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "goal": "Decision"})
    assert [s.value for s in at.subheader] == ["Top paths", "Loops back to an earlier stage", "Outcomes", "Time"]
    assert at.session_state["by"] == "stage"
    frames = [d.value for d in at.dataframe]
    paths = [f for f in frames if "Path" in f.columns][0]
    assert paths["Journeys"].astype(int).sum() == 60  # top paths plus "Other paths"
    assert paths["Conversion"].str.fullmatch(r"\d+\.\d %").all()
    outcomes = [f for f in frames if "Outcome" in f.columns][0]
    assert outcomes["Journeys"].astype(int).sum() == 60
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Converted"].endswith("of 60")
    reached = b2b_log().groupby("journey_id")["stage"].apply(lambda s: "Decision" in set(s)).sum()
    assert metrics["Converted"] == f"{reached:,} of 60"


def test_paths_page_stage_order_from_the_url(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "stage_order": ["Onboarding", "Decision"]})
    assert any("Stage order used (your order): Onboarding → Decision" in c.value for c in at.caption)
