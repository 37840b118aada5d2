"""Browser: the attribution chart draws (on the demo's event log when the demo has one), and downloads work."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

MODELS = ("First touch", "Last touch", "Linear", "Position-based 40/20/40", "Markov removal effect")


def _dataset_in(srv, monkeypatch) -> int:
    """The demo's first event log in the server's data directory, or a seeded test log stored there.

    Seeds the demo from here, before the server draws any page (its cached lists then hold it).
    """
    from db.engine import dispose_engines
    from services.datasets import list_dataset_summaries
    from services.demo import ensure_demo
    from tests.factories_attribution import create_stored_dataset, funnel_log

    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(srv.data_dir))
    dispose_engines()
    try:
        ensure_demo()
        datasets = list_dataset_summaries()
        return datasets[0].id if datasets else create_stored_dataset(funnel_log(), name="Funnel log")
    finally:
        dispose_engines()


def test_attribution_chart_draws_and_the_table_downloads(fresh_server, page, monkeypatch):
    srv = fresh_server()
    dataset_id = _dataset_in(srv, monkeypatch)

    page.goto(f"{srv.url}/Attribution?dataset={dataset_id}")
    wait_for_app(page, "Conversions credited per touchpoint")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator(".bars path").first.wait_for(timeout=30_000)
    assert chart.locator(".bars path").count() >= 5
    legend = " ".join(chart.locator(".legend .legendtext").all_text_contents())
    for model in MODELS:
        assert model in legend
    assert not page.locator("[data-testid='stException']").count()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the table (CSV)").click()
    content = open(download.value.path(), "rb").read()
    assert content.startswith(
        b"\xef\xbb\xbftouchpoint,first_touch,last_touch,linear,position_based,removal_effect,markov"
    )
    assert not [e for e in page.console_errors if "Invalid" in e]
