"""In a real browser: build a small map from a template, edit a cell of its lanes table, reload, find the edit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

EDIT = "Too slow to reply"  # short enough to sit on one line of a grid cell


def _wait_idle(page) -> None:
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=60_000)
    page.wait_for_timeout(500)


def test_build_a_map_edit_a_cell_reload_and_find_it(server, page):
    # 1. Build a small map from a template on the Maps page.
    page.goto(server.url + "/Maps")
    wait_for_app(page, "Journey maps")
    _wait_idle(page)  # a rerun still under way would close the template list as it opens
    page.get_by_text("Create a map").first.click()
    form = page.locator("[data-testid='stForm']").first
    # The template first: typing the name re-renders the form, which can close an open list.
    option = page.get_by_role("option", name=re.compile(r"^4-stage:"))
    for _ in range(3):
        form.locator("[data-testid='stSelectbox']").first.click()
        try:
            option.click(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    expect(form.get_by_role("combobox", name="Start from")).to_have_value(re.compile(r"^4-stage:"))
    form.get_by_label("Name", exact=True).fill("E2E four stages")
    form.get_by_role("button", name="Create map").click()
    created = page.get_by_text(re.compile(r"Created map “E2E four stages” \(id \d+\)"))
    created.wait_for(timeout=30_000)
    map_id = int(re.search(r"id (\d+)", created.inner_text()).group(1))

    # 2. Open it in the studio, on the Lanes tab.
    page.get_by_role("link", name="Open the new map in the studio").click()
    page.wait_for_url(re.compile(rf"/Map_studio\?map={map_id}\b"), timeout=30_000)
    wait_for_app(page, "E2E four stages")
    page.get_by_role("tab", name="Lanes").click()
    page.get_by_text("A row per whole stage and per touchpoint").wait_for(timeout=30_000)
    _wait_idle(page)
    panel = page.get_by_role("tabpanel", name="Lanes")
    grid = panel.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30_000)
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)

    # 3. Edit one cell: row 2 is "Awareness › Online ads"; one step right of its label is "Thinking".
    box = grid.bounding_box()
    row_height = 35
    # The arrow key must reach the grid: were the focus still on the tab list (a click landing
    # before the grid took input), it would switch tabs instead. Click until the grid holds it.
    for _ in range(3):
        page.mouse.click(box["x"] + 40, box["y"] + row_height * 2 + row_height / 2)
        try:
            page.wait_for_function(
                "(g) => g.contains(document.activeElement)", arg=grid.element_handle(), timeout=5_000
            )
            break
        except PlaywrightTimeoutError:
            _wait_idle(page)
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")  # open the cell editor
    page.wait_for_timeout(300)
    page.keyboard.type(EDIT, delay=20)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")  # commit
    _wait_idle(page)
    save = page.get_by_role("button", name="Save lanes")
    # The commit reruns the script, which enables Save once it has the edit.
    expect(save).to_be_enabled(timeout=30_000)
    save.click()
    page.get_by_text("Lanes saved.").wait_for(timeout=30_000)

    # 4. Reload the page: the edit is stored, and the grid shows it in the Thinking row under Online ads.
    page.reload()
    wait_for_app(page, "Map studio")
    page.get_by_role("tab", name="Grid").click()
    _wait_idle(page)
    page.locator("[data-testid='jl-grid']").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "(text) => [...document.querySelectorAll(\"[data-kind='lane:thinking']\")]"
        ".some(c => c.textContent.includes(text))",
        arg=EDIT,
        timeout=60_000,
    )
    assert not page.locator("[data-testid='stException']").count()
    assert not page.dialogs
