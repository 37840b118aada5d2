"""Browser: the Outlook page on the demo shows each open account's factors, and the backtest draws
its calibration plot.

The backtest fits the model again: on the demo's 7,065 journeys that is about 35 s of CPU, so the
browser runs it on the committee log the page's AppTest backtests (tests/pages/test_outlook_page.py),
where the learned model runs and the calibration has prefixes, on a server of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_data_dir
from tests.e2e.conftest import download, start_server, wait_for_app

pytestmark = pytest.mark.e2e


def test_outlook_shows_factors_on_the_demo(server, page):
    page.goto(server.url + "/Outlook?dataset=1&level=account")
    wait_for_app(page, "Open accounts, most likely to convert first")
    assert not page.locator("[data-testid='stException']").count()
    # The table is drawn on a canvas (FIELD_NOTES): the factors are read from the sales team's download.
    text = download(page, "for the sales team (CSV)").read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert "factors" in header and "support" in header and "markov_probability" in header
    assert " points)" in text  # e.g. "region: EMEA (+13.7 points)"
    assert not [e for e in page.console_errors if "Invalid" in e]


def test_the_backtest_draws_its_calibration_plot(tmp_path: Path, monkeypatch, page, demo_data):
    from analytics.conversion import Conversion
    from db.engine import dispose_engines, get_engine
    from services.conversion import set_conversion
    from tests.factories_attribution import committee_log, create_stored_dataset

    data_dir = copy_data_dir(demo_data, tmp_path / "backtest")  # as after a first start: the demo is there
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(data_dir))
    get_engine()
    dataset_id = create_stored_dataset(committee_log(), name="Committee log")
    set_conversion(dataset_id, Conversion(goals=("Closed won",), lost_goals=("Closed lost",)))
    dispose_engines()
    srv = start_server(data_dir)
    try:
        page.goto(f"{srv.url}/Outlook?dataset={dataset_id}&level=account")
        wait_for_app(page, "Open accounts, most likely to convert first")
        page.get_by_text("Backtest: is the model worth acting on?").click()
        page.get_by_text("Run the backtest").click()
        page.get_by_text("Split at ").first.wait_for(timeout=180_000)
        charts = page.locator("[data-testid='stPlotlyChart']")
        calibration = charts.last
        calibration.locator(".scatterlayer .trace").first.wait_for(timeout=60_000)
        assert "observed conversion rate" in " ".join(calibration.locator(".g-ytitle text").all_text_contents())
        assert not page.locator("[data-testid='stException']").count()
        assert not [e for e in page.console_errors if "Invalid" in e]
    finally:
        srv.stop()
