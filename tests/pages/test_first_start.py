"""The app's first start: the demo's maps are created before the first page is drawn and its event
logs import in the background; the Overview ends drawn with every map's health, any other page
waits for the logs, and a failed import is shown (never swallowed).

AppTest runs a script to its end (reruns included), so it sees the Overview's final state; the time
until it is first drawn is the benchmark's (``bench/startup.py``), not a test's."""

from __future__ import annotations

from core.errors import BadInputError
from tests.pages.conftest import run_page


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_overview_of_a_first_start_ends_with_the_demo_and_its_health(engine, monkeypatch):
    monkeypatch.delenv("JOURNEYLENS_NO_DEMO", raising=False)
    at = run_page("app.py", timeout=300)
    assert _metric(at, "Journey maps") == "3"
    assert _metric(at, "Datasets") == "2"
    assert "Portfolio heat map" in [h.value for h in at.subheader]
    assert not any("Importing the demo" in i.value for i in at.info)
    assert not at.error


def test_another_page_waits_for_the_demo_logs(engine, monkeypatch):
    monkeypatch.delenv("JOURNEYLENS_NO_DEMO", raising=False)
    at = run_page("pages/5_Flows.py", timeout=300)
    journeys = [m for m in at.metric if m.label == "Journeys"][0]
    assert int(journeys.value.replace(",", "")) > 1000


def test_a_failed_import_of_the_demo_logs_is_shown(engine, monkeypatch):
    from services import demo

    def fail(map_ids, *, engine=None):  # noqa: ANN001, ANN202
        raise BadInputError("the demo log is unreadable")

    monkeypatch.delenv("JOURNEYLENS_NO_DEMO", raising=False)
    monkeypatch.setattr(demo, "seed_demo_logs", fail)
    at = run_page("app.py", timeout=300)
    errors = [e.value for e in at.error]
    assert any("could not be imported" in e and "the demo log is unreadable" in e for e in errors), errors
    assert _metric(at, "Journey maps") == "3"  # the maps are there all the same
