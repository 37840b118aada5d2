"""Every page opens cold by its URL on a freshly started server and shows the demo."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

# URL path of each page (Streamlit derives it from the file name in pages/) and a text it must show.
PAGES = [
    ("/", "Overview"),
    ("/Maps", "Journey maps"),
    ("/Data", "Event logs"),
]


def test_overview_shows_demo_maps(server, page):
    page.goto(server.url + "/")
    wait_for_app(page)
    text = page.inner_text("[data-testid='stMain']")
    for name in ("B2B SaaS buyer journey", "Enterprise buying committee", "Advisory client lifecycle"):
        assert name in text
    assert not page.locator("[data-testid='stException']").count()


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_page_opens_cold_by_url(fresh_server, page, path, heading):
    srv = fresh_server()
    page.goto(srv.url + path)
    wait_for_app(page)
    assert page.get_by_role("heading", name=heading).first.is_visible()
    assert not page.locator("[data-testid='stException']").count()
    # The sidebar must carry our navigation (the entry point ran its bootstrap).
    assert page.locator("[data-testid='stSidebar']").get_by_text("Overview").count()
