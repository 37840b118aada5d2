"""Browser: a control bound to the URL takes a usable link value without a word, names one it cannot
use, and, once moved, writes its value into the address bar (no warning about the link's old value)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

LINK_WARNING = "[data-testid='stAlert']:has-text(\"The link's\")"


def _steps_slider(page):  # noqa: ANN001, ANN202 - the Flows page's "Steps shown" (it has two more sliders)
    return page.locator("[data-testid='stSlider']", has_text="Steps shown").locator("input[type='range']")


def test_a_moved_slider_writes_the_link_and_says_nothing_of_its_old_value(server, page):
    page.goto(server.url + "/Flows?dataset=1&steps=7")
    wait_for_app(page, "Step by step")
    assert not page.locator(LINK_WARNING).count()
    steps = _steps_slider(page)
    assert steps.get_attribute("value") == "7"
    steps.focus()
    steps.press("ArrowRight")
    page.wait_for_url("**steps=8**")
    wait_for_app(page)
    assert steps.get_attribute("value") == "8"
    assert not page.locator(LINK_WARNING).count()  # the link's 7 was the slider's own, now 8


def test_a_link_value_the_slider_cannot_take_is_named(server, page):
    page.goto(server.url + "/Flows?dataset=1&steps=50")
    wait_for_app(page, "Step by step")
    warning = page.locator(LINK_WARNING)
    warning.first.wait_for()
    assert "The link's steps=50 is not a whole number from 2 to 10; showing 5 instead." in warning.first.inner_text()
    assert _steps_slider(page).get_attribute("value") == "5"


def test_the_data_pages_tab_is_kept_in_the_link(server, page):
    selected = page.locator("[role='tab'][aria-selected='true']").first
    page.goto(server.url + "/Data?dataset=1")
    wait_for_app(page, "Event logs")
    assert selected.inner_text() == "Datasets and links"  # event logs are stored: the page opens on them
    page.get_by_role("tab", name="Import").click()
    page.wait_for_url("**data_tab=Import**")
    page.goto(page.url)
    wait_for_app(page, "Event logs")
    assert selected.inner_text() == "Import"
    assert not page.locator(LINK_WARNING).count()


def test_a_friction_weight_travels_in_the_link(server, page):
    page.goto(server.url + "/Friction?dataset=1&w_repeat=0.5")
    wait_for_app(page, "Weights of the components")
    repeat = page.locator("[data-testid='stNumberInput']", has_text="Repeat").locator("input")
    # The link's weight, shown in its open expander (awaited: on a busy server the bound value can land
    # a moment after the page has drawn).
    expect(repeat).to_have_value("0.50", timeout=30_000)
    assert not page.locator(LINK_WARNING).count()
    repeat.fill("2")
    repeat.press("Enter")
    page.wait_for_url("**w_repeat=2**")
    wait_for_app(page)
    assert not page.locator(LINK_WARNING).count()
