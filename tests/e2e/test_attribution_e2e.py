"""Browser: the attribution chart draws on the demo's event log, and its table downloads."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import download, wait_for_app

pytestmark = pytest.mark.e2e

MODELS = ("First touch", "Last touch", "Linear", "Position-based 40/20/40", "Markov removal effect")


def test_attribution_chart_draws_on_the_demo_and_the_table_downloads(server, page):
    # The demo's first event log (B2B SaaS) through its map, converting as the demo defines it (won).
    page.goto(server.url + "/Attribution")
    wait_for_app(page, "Conversions credited per touchpoint")
    assert "dataset=1" in page.url  # the choice went to the URL
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator(".bars path").first.wait_for(timeout=30_000)
    assert chart.locator(".bars path").count() >= 5
    legend = " ".join(chart.locator(".legend .legendtext").all_text_contents())
    for model in MODELS:
        assert model in legend
    assert "Sales rep" in " ".join(chart.locator(".ytick text").all_text_contents())
    assert not page.locator("[data-testid='stException']").count()

    content = download(page, "Download the table (CSV)").read_bytes()
    assert content.startswith(
        b"\xef\xbb\xbftouchpoint,first_touch,last_touch,linear,position_based,removal_effect,markov"
    )
    assert b"\nSales rep," in content
    assert not [e for e in page.console_errors if "Invalid" in e]
