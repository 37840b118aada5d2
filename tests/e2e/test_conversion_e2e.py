"""Browser: every analysis page states the same "Conversion:" line for the demo log, and changing it
on one page changes it on the others."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

PAGES = ("Flows", "Funnel", "Paths", "Friction", "Attribution", "Outlook")
MAP_PAGES = ("Metrics", "Overlay")
LINE = re.compile(r"^Conversion: ")


def _line(page, path: str) -> str:
    page.goto(path)
    wait_for_app(page, "Conversion:")
    found = page.locator("[data-testid='stMain']").get_by_text(LINE)
    assert found.count() == 1, path
    assert not page.locator("[data-testid='stException']").count(), path
    return found.first.inner_text().strip()


# The demo's B2B SaaS log (dataset 1, linked to map 1) converts on the outcome "won".
EXPECTED = "Conversion: outcome is won; lost: outcome is lost · 2,131 of 7,065 journeys (30.2%)"


def test_one_line_on_every_page(server, page):
    # Read only: the run's shared server, where other tests may have drawn these pages already.
    for name in PAGES:
        assert _line(page, f"{server.url}/{name}?dataset=1") == EXPECTED, name
    for name in MAP_PAGES:
        assert _line(page, f"{server.url}/{name}?map=1&dataset=1") == EXPECTED, name


def test_one_place_to_change_it(fresh_server, page):
    # It changes the dataset's conversion: a server of its own on a copy of the demo.
    server = fresh_server()
    # Change it on the Paths page: one click on a likely choice, saved for the dataset.
    assert _line(page, f"{server.url}/Paths?dataset=1") == EXPECTED
    page.get_by_role("button", name="Change").click()
    page.get_by_role("button", name=re.compile(r"^reaching Store")).first.click()
    page.get_by_text(re.compile(r"^Conversion: reaching Store")).first.wait_for(timeout=60_000)
    wait_for_app(page)
    changed = page.locator("[data-testid='stMain']").get_by_text(LINE).first.inner_text().strip()
    assert changed.startswith("Conversion: reaching Store") and changed != EXPECTED
    for name in ("Flows", "Attribution", "Outlook"):
        assert _line(page, f"{server.url}/{name}?dataset=1") == changed, name
    assert _line(page, f"{server.url}/Metrics?map=1") == changed
