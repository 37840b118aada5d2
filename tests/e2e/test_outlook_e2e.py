"""Browser: the Outlook page on the demo shows each open account's factors, and the backtest draws
its calibration plot."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import download, wait_for_app

pytestmark = pytest.mark.e2e


def test_outlook_shows_factors_and_the_backtest_draws(server, page):
    page.goto(server.url + "/Outlook?dataset=1&level=account")
    wait_for_app(page, "Open accounts, most likely to convert first")
    assert not page.locator("[data-testid='stException']").count()
    # The table is drawn on a canvas (FIELD_NOTES): the factors are read from the sales team's download.
    text = download(page, "for the sales team (CSV)").read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert "factors" in header and "support" in header and "markov_probability" in header
    assert " points)" in text  # e.g. "region: EMEA (+13.7 points)"
    wait_for_app(page)  # the download's rerun has ended: a click now cannot be lost in it
    page.get_by_text("Backtest: is the model worth acting on?").click()
    toggle = page.get_by_role("switch", name="Run the backtest")
    for _ in range(3):  # on a loaded machine a click can still land while the page redraws
        if toggle.is_checked():
            break
        page.get_by_text("Run the backtest").click()
        wait_for_app(page, timeout_ms=180_000)
    assert toggle.is_checked() and "backtest=true" in page.url
    page.get_by_text("Split at ").first.wait_for(timeout=180_000)
    charts = page.locator("[data-testid='stPlotlyChart']")
    calibration = charts.last
    calibration.locator(".scatterlayer .trace").first.wait_for(timeout=60_000)
    assert "observed conversion rate" in " ".join(calibration.locator(".g-ytitle text").all_text_contents())
    assert not page.locator("[data-testid='stException']").count()
    assert not [e for e in page.console_errors if "Invalid" in e]
