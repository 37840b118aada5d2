"""The managers' Overview in a real browser: every demo map with its health; the overlay draws."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_data_dir
from tests.e2e.conftest import start_server, wait_for_app

pytestmark = pytest.mark.e2e

DEMO_MAPS = ("B2B SaaS buyer journey", "Enterprise buying committee", "Advisory client lifecycle")


@pytest.fixture
def linked_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_data: Path):
    """A server on a data directory holding the demo and, on the B2B map, an event log with planted friction."""
    from db.engine import dispose_engines
    from services import metrics as metric_service
    from services.maps import list_map_summaries
    from tests.factories_metrics import create_dataset, planted_log

    data = copy_data_dir(demo_data, tmp_path / "e2e-data")
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(data))
    dispose_engines()
    b2b = next(m.id for m in list_map_summaries() if m.name == "B2B SaaS buyer journey")
    if metric_service.linked_dataset_id(b2b) is None:
        create_dataset(planted_log(journeys=200), name="B2B events", map_id=b2b)
    dispose_engines()
    server = start_server(data, env={"JOURNEYLENS_DATA_DIR": str(data)})
    yield server, b2b
    server.stop()


def test_overview_shows_every_demo_map_with_health_and_the_overlay_draws(linked_server, page):
    server, b2b = linked_server
    page.goto(server.url + "/")
    wait_for_app(page, "Portfolio heat map")
    main = page.locator("[data-testid='stMain']")
    text = main.inner_text()
    for name in DEMO_MAPS:
        assert name in text
    # Health on every card: a metric against its target, actions, and the B2B map's hot spot.
    assert text.count("vs target") >= 3
    assert text.count("Actions:") == 3
    assert "Worst hot spot: Pricing page" in text
    # The portfolio heat map is drawn (one row per map).
    heat = page.locator("[data-testid='stPlotlyChart']").first
    heat.locator(".heatmaplayer").first.wait_for(timeout=30_000)
    for name in DEMO_MAPS:
        assert heat.get_by_text(name).count() >= 1
    assert not page.locator("[data-testid='stException']").count()

    # A shareable link opens the overlay on the B2B map with friction laid over the grid.
    page.goto(f"{server.url}/Overlay?map={b2b}&measure=friction")
    wait_for_app(page, "Designed vs observed")
    grid = page.locator("[data-testid='jl-grid-box']").first
    grid.wait_for(timeout=30_000)
    assert "Friction (0–100)" in grid.inner_text()  # the overlay's row
    assert "Friction (0–100)" in page.locator("[data-testid='jl-legend']").first.inner_text()
    assert "Pricing page" in page.locator("[data-testid='stMain']").inner_text()
    assert page.get_by_text("Highest friction (0–100)").count() == 1
    assert not page.locator("[data-testid='stException']").count()

    # The Markov removal effect of each touchpoint, for the dataset's conversion, over the same grid.
    page.goto(f"{server.url}/Overlay?map={b2b}&measure=removal+effect")
    wait_for_app(page, "Designed vs observed")
    grid = page.locator("[data-testid='jl-grid-box']").first
    grid.wait_for(timeout=30_000)
    assert "Removal effect %" in grid.inner_text()
    assert page.get_by_text("Highest removal effect %").count() == 1
    assert page.get_by_text("Open the Attribution page on this dataset").count() == 1
    assert not page.locator("[data-testid='stException']").count()
