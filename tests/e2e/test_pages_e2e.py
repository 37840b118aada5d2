"""A first start seeds the demo, and every page opens cold by its URL on a freshly started server;
there, every analysis page states the same "Conversion:" line for the demo log."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.bootstrap import list_pages
from tests.e2e.conftest import CONVERSION_LINKS, DEMO_CONVERSION, conversion_line, wait_for_app

pytestmark = pytest.mark.e2e

# URL path of each page as Streamlit derives it from the file name in pages/ ("5_Flows.py" → "/Flows").
PAGE_URLS = [
    ("/" if path == "app.py" else "/" + Path(path).stem.split("_", 1)[1], label) for path, label, _ in list_pages()
]


def test_first_start_seeds_the_demo_and_the_overview_shows_it(fresh_server, page):
    # An empty data directory: the first session creates the demo's maps and draws them, while the
    # demo's event logs import in the background; the Overview then draws again with their health.
    srv = fresh_server(first_start=True)
    page.goto(srv.url + "/")
    wait_for_app(page, "B2B SaaS buyer journey")
    text = page.inner_text("[data-testid='stMain']")
    for name in ("B2B SaaS buyer journey", "Enterprise buying committee", "Advisory client lifecycle"):
        assert name in text
    wait_for_app(page, "Portfolio heat map")
    assert not page.locator("[data-testid='stException']").count()


@pytest.mark.parametrize(("path", "label"), PAGE_URLS, ids=[p for p, _ in PAGE_URLS])
def test_page_opens_cold_by_url(fresh_server, page, path, label):
    srv = fresh_server()
    page.goto(srv.url + path)
    wait_for_app(page)
    assert not page.locator("[data-testid='stException']").count(), page.inner_text("[data-testid='stException']")
    # The sidebar carries our navigation: the page ran the bootstrap, not the legacy menu.
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Overview").first.wait_for(timeout=30_000)
    sidebar.get_by_text(label, exact=True).first.wait_for(timeout=30_000)
    # The same server, now warm: an analysis page states the demo log's conversion, the same line on
    # every page (a shared link naming the dataset, and the map for the map pages).
    if path in CONVERSION_LINKS:
        assert conversion_line(page, srv.url + CONVERSION_LINKS[path]) == DEMO_CONVERSION


def test_every_analysis_page_states_its_conversion():
    """Each page whose conversion line the cold-open test reads is a page of the app (none renamed away)."""
    assert set(CONVERSION_LINKS) <= {path for path, _ in PAGE_URLS}
    assert len(CONVERSION_LINKS) == 8
