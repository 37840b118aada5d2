"""Browser: changing the "Conversion:" line on one page changes it on the others. That every
analysis page states the same line for the demo log is checked where each page opens cold
(tests/e2e/test_pages_e2e.py)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import CONVERSION_LINE, DEMO_CONVERSION, conversion_line, wait_for_app

pytestmark = pytest.mark.e2e


def test_one_place_to_change_it(fresh_server, page):
    # It changes the dataset's conversion: a server of its own on a copy of the demo.
    server = fresh_server()
    # Change it on the Paths page: one click on a likely choice, saved for the dataset.
    assert conversion_line(page, f"{server.url}/Paths?dataset=1") == DEMO_CONVERSION
    page.get_by_role("button", name="Change").click()
    page.get_by_role("button", name=re.compile(r"^reaching Store")).first.click()
    page.get_by_text(re.compile(r"^Conversion: reaching Store")).first.wait_for(timeout=60_000)
    wait_for_app(page)
    changed = page.locator("[data-testid='stMain']").get_by_text(CONVERSION_LINE).first.inner_text().strip()
    assert changed.startswith("Conversion: reaching Store") and changed != DEMO_CONVERSION
    for name in ("Flows", "Attribution", "Outlook"):
        assert conversion_line(page, f"{server.url}/{name}?dataset=1") == changed, name
    assert conversion_line(page, f"{server.url}/Metrics?map=1") == changed
